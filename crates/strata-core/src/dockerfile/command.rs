//! extract stage, Dockerfile layer 4: the checks BuildKit's `instructions` package makes
//! when it turns a parsed line into a command (`frontend/dockerfile/instructions/parse.go`
//! and `bflag.go`): the flags each instruction takes, how many arguments it needs, what
//! `ONBUILD` may trigger, and the `--mount` fields it reads before the build starts.
//! Pure: it only says whether BuildKit would accept the instruction, and why not, in
//! BuildKit's words. Builds no command values.

use std::ops::Range;

use super::ast::{self, Next, Node};
use super::suggest;
use super::words::{Flag, parse_heredoc};
use super::{Instruction, lines::is_space};

/// How a flag takes its value (`bflag.go`: `AddBool`, `AddString`, `AddStrings`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    String,
    /// May repeat (`--mount`, `--exclude`).
    Strings,
}

use Kind::{Bool, String as Str, Strings};

const FROM_FLAGS: &[(&str, Kind)] = &[("platform", Str)];
const COPY_FLAGS: &[(&str, Kind)] = &[
    ("chown", Str),
    ("from", Str),
    ("chmod", Str),
    ("link", Bool),
    ("exclude", Strings),
    ("parents", Bool),
];
const ADD_FLAGS: &[(&str, Kind)] = &[
    ("chown", Str),
    ("chmod", Str),
    ("link", Bool),
    ("keep-git-dir", Bool),
    ("checksum", Str),
    ("unpack", Bool),
    ("exclude", Strings),
];
/// `RUN`'s flags come from its hooks (`commands_runmount.go`, `…runnetwork.go`,
/// `…runsecurity.go`, `…rundevice.go`).
const RUN_FLAGS: &[(&str, Kind)] = &[
    ("mount", Strings),
    ("network", Str),
    ("security", Str),
    ("device", Strings),
];
const HEALTHCHECK_FLAGS: &[(&str, Kind)] = &[
    ("interval", Str),
    ("timeout", Str),
    ("start-period", Str),
    ("start-interval", Str),
    ("retries", Str),
];
const NO_FLAGS: &[(&str, Kind)] = &[];

/// Checks one instruction as `instructions.Parse` would. The keyword is known to be one
/// of BuildKit's instructions (the caller reports unknown ones).
pub fn check(instruction: &Instruction<'_>, escape: char) -> Result<(), String> {
    let written = instruction.keyword();
    let keyword = written.to_ascii_lowercase();
    // Cheap path for the most common case: a `RUN`, `CMD` or `ENTRYPOINT` without flags
    // has no argument rule and nothing else to check.
    let text = instruction.text.trim_start_matches(is_space);
    let after = text
        .get(written.len()..)
        .unwrap_or("")
        .trim_start_matches(is_space);
    if !after.starts_with("--") {
        match keyword.as_str() {
            "run" | "cmd" | "entrypoint" => return Ok(()),
            // One value, the whole rest of the line (`parseString`).
            "workdir" | "user" | "maintainer" | "stopsignal" if !after.is_empty() => {
                return Ok(());
            }
            "expose" if !after.is_empty() => return Ok(()),
            // Words as the parser splits them, none a blank name (`=value`).
            "env" | "label" | "arg" => {
                let mut words = super::words::WordSpans::new(after, escape).map(|r| &after[r]);
                let mut any = false;
                if words.all(|w| {
                    any = true;
                    !w.starts_with('=')
                }) && any
                {
                    return Ok(());
                }
            }
            // One word, or three with a valid stage name.
            "from" => {
                let words: Vec<&str> = after
                    .split(super::words::is_token_space)
                    .filter(|w| !w.is_empty())
                    .collect();
                let fine = match words.as_slice() {
                    [_] => true,
                    [_, as_kw, name] => {
                        as_kw.eq_ignore_ascii_case("as")
                            && is_valid_stage_name(&name.to_ascii_lowercase())
                    }
                    _ => false,
                };
                if fine {
                    return Ok(());
                }
            }
            // Shell form: whitespace-separated words, the last one the destination.
            "copy" | "add" if !after.starts_with('[') => {
                let mut words = after
                    .split(super::words::is_token_space)
                    .filter(|w| !w.is_empty());
                let two = words.nth(1).is_some();
                let dest = words
                    .next_back()
                    .or_else(|| after.split_whitespace().next_back());
                let heredoc = dest
                    .is_some_and(|d| d.contains("<<") && matches!(parse_heredoc(d), Ok(Some(_))));
                if two && !heredoc {
                    return Ok(());
                }
            }
            _ => {}
        }
    }
    let node = ast::node(&instruction.text, escape)?;
    let (_, flags, _) = super::words::split_command(&instruction.text);
    let args = node_args(&node);
    command(&keyword, &args, node.json, &flags)
}

fn command(keyword: &str, args: &[String], json: bool, flags: &[Flag]) -> Result<(), String> {
    let upper = keyword.to_ascii_uppercase();
    match keyword {
        "env" | "label" => {
            parse_flags(flags, NO_FLAGS)?;
            key_values(args, &upper)
        }
        "maintainer" | "workdir" | "user" => {
            exactly_one(args, &upper)?;
            parse_flags(flags, NO_FLAGS)
        }
        // `parseStopSignal` never parses its flags.
        "stopsignal" => exactly_one(args, &upper),
        "add" | "copy" => {
            if args.len() < 2 {
                return Err(format!(
                    "{upper} requires at least two arguments, but only one was provided. Destination could not be determined"
                ));
            }
            parse_flags(
                flags,
                if keyword == "add" {
                    ADD_FLAGS
                } else {
                    COPY_FLAGS
                },
            )?;
            let dest = args.last().map_or("", String::as_str);
            if matches!(parse_heredoc(dest), Ok(Some(_))) {
                return Err(format!("{upper} cannot accept a heredoc as a destination"));
            }
            Ok(())
        }
        "from" => {
            stage_name(args)?;
            parse_flags(flags, FROM_FLAGS)
        }
        "onbuild" => onbuild(args, flags),
        "run" => {
            parse_flags(flags, RUN_FLAGS)?;
            for flag in flags {
                if let ("mount", Some(value)) = flag.parts() {
                    mount_fields(value)?;
                }
            }
            Ok(())
        }
        "cmd" | "entrypoint" => parse_flags(flags, NO_FLAGS),
        "healthcheck" => healthcheck(args, flags),
        "expose" => {
            at_least_one(args, &upper)?;
            parse_flags(flags, NO_FLAGS)
        }
        "volume" => {
            at_least_one(args, &upper)?;
            parse_flags(flags, NO_FLAGS)?;
            if args.iter().any(|v| v.trim_matches(is_space).is_empty()) {
                return Err("VOLUME specified can not be an empty string".to_owned());
            }
            Ok(())
        }
        // `parseArg` never parses its flags either.
        "arg" => {
            at_least_one(args, &upper)?;
            if args.iter().any(|a| a.starts_with('=')) {
                return Err("ARG names can not be blank".to_owned());
            }
            Ok(())
        }
        "shell" => {
            parse_flags(flags, NO_FLAGS)?;
            if args.is_empty() {
                return Err("SHELL requires at least one argument".to_owned());
            }
            if !json {
                return Err("SHELL requires the arguments to be in JSON form".to_owned());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `nodeArgs`: the values of a node, a sub-instruction's keyword and values inline.
fn node_args(node: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for next in &node.next {
        match next {
            Next::Value(value) => out.push(value.clone()),
            Next::Child(child) => {
                out.push(child.value.clone());
                out.extend(node_args(child));
            }
        }
    }
    out
}

fn at_least_one(args: &[String], command: &str) -> Result<(), String> {
    if args.is_empty() {
        return Err(format!("{command} requires at least one argument"));
    }
    Ok(())
}

fn exactly_one(args: &[String], command: &str) -> Result<(), String> {
    if args.len() != 1 {
        return Err(format!("{command} requires exactly one argument"));
    }
    Ok(())
}

/// `parseKvps`: the parser hands `ENV`/`LABEL` over as (key, value, delimiter) triples.
fn key_values(args: &[String], command: &str) -> Result<(), String> {
    at_least_one(args, command)?;
    if args.chunks(3).any(|triple| triple[0].is_empty()) {
        return Err(format!("{command} names can not be blank"));
    }
    Ok(())
}

/// `parseBuildStageName`.
fn stage_name(args: &[String]) -> Result<(), String> {
    match args {
        [_] => Ok(()),
        [_, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
            if is_valid_stage_name(&name.to_ascii_lowercase()) {
                Ok(())
            } else {
                Err(format!(
                    "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
                ))
            }
        }
        _ => Err("FROM requires either one or three arguments".to_owned()),
    }
}

/// `^[a-z][a-z0-9-_.]*$`.
pub(crate) fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// `parseOnBuild`: no chaining, no `FROM` or `MAINTAINER` as a trigger.
fn onbuild(args: &[String], flags: &[Flag]) -> Result<(), String> {
    at_least_one(args, "ONBUILD")?;
    parse_flags(flags, NO_FLAGS)?;
    let trigger = args[0].trim_matches(is_space).to_uppercase();
    match trigger.as_str() {
        "ONBUILD" => Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".to_owned()),
        "MAINTAINER" | "FROM" => Err(format!("{trigger} isn't allowed as an ONBUILD trigger")),
        _ => Ok(()),
    }
}

/// `parseHealthcheck`: `NONE` alone, or `CMD` with a command and valid durations.
fn healthcheck(args: &[String], flags: &[Flag]) -> Result<(), String> {
    at_least_one(args, "HEALTHCHECK")?;
    let kind = args[0].to_uppercase();
    if kind == "NONE" {
        if args.len() != 1 {
            return Err("HEALTHCHECK NONE takes no arguments".to_owned());
        }
        return Ok(());
    }
    parse_flags(flags, HEALTHCHECK_FLAGS)?;
    if kind != "CMD" {
        return Err(format!(
            "Unknown type {} in HEALTHCHECK (try CMD)",
            go_quoted(&args[0].to_uppercase())
        ));
    }
    if args.len() < 2 {
        return Err("Missing command after HEALTHCHECK CMD".to_owned());
    }
    for flag in flags {
        let (name, value) = flag.parts();
        let value = value.unwrap_or_default();
        if name == "retries" {
            match value.parse::<i32>() {
                Ok(n) if n < 0 => return Err(format!("--retries cannot be negative ({n})")),
                Ok(_) => {}
                Err(_) => {
                    return Err(format!(
                        "strconv.ParseInt: parsing {}: invalid syntax",
                        go_quoted(value)
                    ));
                }
            }
        } else if !value.is_empty() {
            let nanos = duration_nanos(value)?;
            if nanos != 0 && nanos < 1_000_000 {
                return Err(format!(
                    "Interval {} cannot be less than 1ms",
                    go_quoted(name)
                ));
            }
        }
    }
    Ok(())
}

/// Go's `time.ParseDuration`: the length in nanoseconds (saturating; a negative one
/// counts as below any minimum), or Go's error.
fn duration_nanos(text: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {}", go_quoted(text));
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number == "." || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                go_quoted(text)
            ));
        }
        let unit = &rest[..unit_len];
        let scale = match unit {
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quoted(unit),
                    go_quoted(text)
                ));
            }
        };
        rest = &rest[unit_len..];
        total += number.parse::<f64>().map_err(|_| invalid())? * scale;
    }
    let nanos = total as i128;
    Ok(if negative { -nanos.max(1) } else { nanos })
}

/// Go's `%q`/`%#v` of a plain string: in double quotes, `"` and `\` escaped.
fn go_quoted(s: &str) -> String {
    let mut out = String::new();
    ast::go_quote(s, &mut out);
    out
}

/// `BFlags.Parse`: every flag known to the instruction, given once unless it repeats,
/// with a value of the right kind.
fn parse_flags(flags: &[Flag], known: &[(&str, Kind)]) -> Result<(), String> {
    let mut used: Vec<&str> = Vec::new();
    for flag in flags {
        let text = flag.text.as_str();
        let (name, value) = match text.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (text, None),
        };
        let bare = name.strip_prefix("--").unwrap_or(name);
        let Some(&(_, kind)) = known.iter().find(|(n, _)| *n == bare) else {
            let names: Vec<&str> = known.iter().map(|(n, _)| *n).collect();
            return Err(suggest::with_hint(
                format!("unknown flag: {name}"),
                bare,
                &names,
                true,
            ));
        };
        if used.contains(&bare) && kind != Strings {
            return Err(format!("duplicate flag specified: {name}"));
        }
        used.push(bare);
        match (kind, value) {
            (Bool, Some("")) | (Str | Strings, None) => {
                return Err(format!("missing a value on flag: {name}"));
            }
            (Bool, Some(v)) if !matches!(v.to_ascii_lowercase().as_str(), "true" | "false") => {
                return Err(format!("expecting boolean value for flag {name}, not: {v}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// One `key=value` field of a `--mount` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountField {
    /// Lower-cased, as BuildKit compares keys.
    pub key: String,
    pub value: String,
    /// The value's bytes in the flag value, when the field was written unquoted.
    pub range: Option<Range<usize>>,
}

/// The fields of a `--mount` value as BuildKit reads them before the build
/// (`parseMount` without an expander): comma-separated, CSV quoting, and a `from` that
/// holds a variable is refused there and then.
pub fn mount_fields(value: &str) -> Result<Vec<MountField>, String> {
    let mut fields = Vec::new();
    for (text, range) in csv_fields(value)? {
        let Some((written, field_value)) = text.split_once('=') else {
            // Flags such as `readonly` are read later; nothing to check now.
            continue;
        };
        let key = written.to_lowercase();
        if key == "from"
            && let Some(at) = field_value.find('$')
            && at != field_value.len() - 1
        {
            return Err(
                "'from' doesn't support variable expansion, define alias stage instead".to_owned(),
            );
        }
        let range = range.map(|r| r.start + written.len() + 1..r.end);
        fields.push(MountField {
            key,
            value: field_value.to_owned(),
            range,
        });
    }
    Ok(fields)
}

/// A CSV field and, when it was written unquoted, its byte range in the record.
type CsvField = (String, Option<Range<usize>>);

/// Splits one CSV record: `a,"b,c",d`. Unquoted fields come with their byte range.
fn csv_fields(record: &str) -> Result<Vec<CsvField>, String> {
    let mut fields = Vec::new();
    let mut start = 0;
    let bytes = record.as_bytes();
    loop {
        if bytes.get(start) == Some(&b'"') {
            let mut text = String::new();
            let mut i = start + 1;
            loop {
                match record[i..].find('"') {
                    None => {
                        return Err(
                            "failed to parse csv mounts: extraneous or missing \" in quoted-field"
                                .to_owned(),
                        );
                    }
                    Some(at) => {
                        text.push_str(&record[i..i + at]);
                        i += at + 1;
                        if bytes.get(i) == Some(&b'"') {
                            text.push('"');
                            i += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            fields.push((text, None));
            match bytes.get(i) {
                None => return Ok(fields),
                Some(b',') => start = i + 1,
                Some(_) => {
                    return Err(
                        "failed to parse csv mounts: extraneous or missing \" in quoted-field"
                            .to_owned(),
                    );
                }
            }
        } else {
            let end = record[start..]
                .find(',')
                .map_or(record.len(), |i| start + i);
            let text = &record[start..end];
            if text.contains('"') {
                return Err("failed to parse csv mounts: bare \" in non-quoted-field".to_owned());
            }
            fields.push((text.to_owned(), Some(start..end)));
            if end == record.len() {
                return Ok(fields);
            }
            start = end + 1;
        }
    }
}
