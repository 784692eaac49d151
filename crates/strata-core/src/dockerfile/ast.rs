//! extract stage, Dockerfile layer 3: BuildKit's parse tree for one instruction (the
//! per-instruction "line parsers"), used to validate a file the way BuildKit does and to
//! print BuildKit's AST dump for conformance tests. Pure.

use super::json::{self, Json};
use super::lines::is_space;
use super::words::{is_token_space, parse_words, split_command};
use super::{Instruction, ParseError};

/// One node of BuildKit's parse tree: `(value ["--flag"] "arg" (child) …)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The keyword as written.
    pub value: String,
    pub flags: Vec<String>,
    pub next: Vec<Next>,
    /// Whether the arguments were in JSON (exec) form.
    pub json: bool,
}

/// An argument of a node: a string, or a nested instruction (`ONBUILD RUN …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Value(String),
    Child(Box<Node>),
}

const NOT_STRING_ARRAY: &str =
    "when using JSON array syntax, arrays must be comprised of strings only";

/// Checks one instruction the way BuildKit's line parsers do, without building values
/// unless the instruction can fail.
pub(crate) fn validate(instruction: &Instruction<'_>, escape: char) -> Result<(), ParseError> {
    let keyword = instruction.keyword();
    let fail = |m: String| ParseError::new(instruction.start_line, m);
    let lower = |k: &str| keyword.eq_ignore_ascii_case(k);
    if lower("env") || lower("label") {
        let (_, _, args) = split_command(&instruction.text);
        return check_name_val(args, keyword, escape).map_err(fail);
    }
    if lower("onbuild") {
        return node(&instruction.text, escape).map(drop).map_err(fail);
    }
    let json_capable = [
        "add",
        "copy",
        "volume",
        "cmd",
        "entrypoint",
        "run",
        "shell",
        "healthcheck",
    ];
    if json_capable.iter().any(|k| lower(k)) && instruction.text.contains('[') {
        let (_, _, args) = split_command(&instruction.text);
        let args = if lower("healthcheck") {
            let sep = args
                .find(|c: char| c.is_ascii() && is_space(c))
                .unwrap_or(args.len());
            &args[sep..]
        } else {
            args
        };
        if json::parse(args) == Json::NotStringArray {
            return Err(fail(NOT_STRING_ARRAY.to_owned()));
        }
    }
    Ok(())
}

/// The failures of [`name_val`] without building values.
fn check_name_val(args: &str, cmd: &str, escape: char) -> Result<(), String> {
    let mut words = word_ranges(args, escape);
    let Some(first) = words.next() else {
        return Ok(());
    };
    if !args[first].contains('=') {
        // Old form `ENV name value`: needs whitespace after the name.
        if !args.contains(is_token_space) {
            return Err(format!(
                "{} must have two arguments",
                cmd.to_ascii_uppercase()
            ));
        }
        return Ok(());
    }
    for range in words {
        let word = &args[range];
        if !word.contains('=') {
            return Err(format!(
                "Syntax error - can't find = in {word:?}. Must be of the form: name=value"
            ));
        }
    }
    Ok(())
}

/// Word boundaries as [`parse_words`] finds them, without copying.
fn word_ranges(args: &str, escape: char) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    super::words::WordSpans::new(args, escape)
}

/// Builds the parse tree node of a logical line.
pub fn node(line: &str, escape: char) -> Result<Node, String> {
    let (cmd, flags, args) = split_command(line);
    let mut node = Node {
        value: cmd.to_owned(),
        flags: flags.into_iter().map(|f| f.text).collect(),
        ..Node::default()
    };
    match cmd.to_ascii_lowercase().as_str() {
        "add" | "copy" | "volume" => maybe_json_to_list(args, &mut node)?,
        "cmd" | "entrypoint" | "run" | "shell" => maybe_json(args, &mut node)?,
        "arg" => {
            node.next = parse_words(args, escape)
                .into_iter()
                .map(|(w, _)| Next::Value(w))
                .collect();
        }
        "env" | "label" => name_val(args, cmd, escape, &mut node)?,
        "expose" | "from" => node.next = whitespace_list(args),
        "healthcheck" => health(args, &mut node)?,
        "maintainer" | "stopsignal" | "user" | "workdir" if !args.is_empty() => {
            node.next.push(Next::Value(args.to_owned()));
        }
        "onbuild" if !args.is_empty() => {
            let child = self::node(args, escape)?;
            node.next.push(Next::Child(Box::new(child)));
        }
        _ => {}
    }
    Ok(node)
}

fn whitespace_list(args: &str) -> Vec<Next> {
    if args.is_empty() {
        return Vec::new();
    }
    args.split(is_token_space)
        .filter(|w| !w.is_empty())
        .map(|w| Next::Value(w.to_owned()))
        .collect()
}

fn maybe_json(args: &str, node: &mut Node) -> Result<(), String> {
    if args.is_empty() {
        return Ok(());
    }
    match json::parse(args) {
        Json::Strings(values) => {
            node.json = true;
            node.next.extend(values.into_iter().map(Next::Value));
        }
        Json::NotStringArray => return Err(NOT_STRING_ARRAY.to_owned()),
        Json::Shell => node.next.push(Next::Value(args.to_owned())),
    }
    Ok(())
}

fn maybe_json_to_list(args: &str, node: &mut Node) -> Result<(), String> {
    match json::parse(args) {
        Json::Strings(values) => {
            node.json = true;
            node.next.extend(values.into_iter().map(Next::Value));
        }
        Json::NotStringArray => return Err(NOT_STRING_ARRAY.to_owned()),
        Json::Shell => node.next = whitespace_list(args),
    }
    Ok(())
}

fn name_val(args: &str, cmd: &str, escape: char, node: &mut Node) -> Result<(), String> {
    let words = parse_words(args, escape);
    let Some((first, _)) = words.first() else {
        return Ok(());
    };
    if !first.contains('=') {
        // Old form: `ENV name value…`.
        let mut parts = args.splitn(2, |c: char| is_token_space(c));
        let key = parts.next().unwrap_or_default();
        let Some(value) = parts.next() else {
            return Err(format!(
                "{} must have two arguments",
                cmd.to_ascii_uppercase()
            ));
        };
        let value = value.trim_start_matches(is_token_space);
        node.next = vec![
            Next::Value(key.to_owned()),
            Next::Value(value.to_owned()),
            Next::Value(String::new()),
        ];
        return Ok(());
    }
    for (word, _) in words {
        let Some((key, value)) = word.split_once('=') else {
            return Err(format!(
                "Syntax error - can't find = in {word:?}. Must be of the form: name=value"
            ));
        };
        node.next.push(Next::Value(key.to_owned()));
        node.next.push(Next::Value(value.to_owned()));
        node.next.push(Next::Value("=".to_owned()));
    }
    Ok(())
}

fn health(args: &str, node: &mut Node) -> Result<(), String> {
    let sep = args
        .find(|c: char| c.is_ascii() && is_space(c))
        .unwrap_or(args.len());
    if sep == 0 {
        return Ok(());
    }
    let kind = &args[..sep];
    let rest = args[sep..].trim_start_matches(|c: char| c.is_ascii() && is_space(c));
    node.next.push(Next::Value(kind.to_owned()));
    maybe_json(rest, node)
}

/// BuildKit's `Node.Dump()` for one instruction: `(from "image")`.
pub fn dump(node: &Node) -> String {
    let mut out = String::from("(");
    dump_into(node, &mut out);
    out.push(')');
    out
}

fn dump_into(node: &Node, out: &mut String) {
    out.push_str(&node.value.to_lowercase());
    if !node.flags.is_empty() {
        out.push_str(" [");
        for (i, flag) in node.flags.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            go_quote(flag, out);
        }
        out.push(']');
    }
    for next in &node.next {
        out.push(' ');
        match next {
            Next::Value(v) => go_quote(v, out),
            Next::Child(child) => {
                out.push('(');
                dump_into(child, out);
                out.push(')');
            }
        }
    }
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => {
                let v = c as u32;
                if v < 0x10000 {
                    out.push_str(&format!("\\u{v:04x}"));
                } else {
                    out.push_str(&format!("\\U{v:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
