//! extract stage: image references in a Dockerfile, exactly as BuildKit would pull them.
//! Walks the parsed instructions with BuildKit's variable scoping (global `ARG`s before
//! the first `FROM`, `--build-arg` overriding only declared ones, the automatic platform
//! arguments), its stage rules (`FROM` refers only to earlier stages, names are
//! case-insensitive), and records where each reference's digest would be written.
//! Pure: text in, values out.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use super::target::{self, ArgDefault};
use crate::dockerfile::words::{Flag, offset_in, parse_words, split_command};
use crate::dockerfile::{self, Instruction, MAX_LINE};
use crate::occurrence::{ExtractError, Extraction, Occurrence, Role, Skip, SkipReason, Source};
use crate::reference::Reference;
use crate::shell::Lexer;

/// What the build would be given.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--build-arg NAME=VALUE` values; they apply only to `ARG`s the file declares.
    pub build_args: BTreeMap<String, String>,
    /// The target platform (`--platform`), e.g. `linux/arm64`. Defaults to the build
    /// platform.
    pub platform: Option<String>,
    /// The platform of the machine that builds, e.g. `linux/amd64` (the default).
    pub build_platform: Option<String>,
}

/// Every instruction BuildKit knows.
const INSTRUCTIONS: [&str; 18] = [
    "add",
    "arg",
    "cmd",
    "copy",
    "entrypoint",
    "env",
    "expose",
    "from",
    "healthcheck",
    "label",
    "maintainer",
    "onbuild",
    "run",
    "shell",
    "stopsignal",
    "user",
    "volume",
    "workdir",
];

struct Walk<'s, 'o> {
    src: &'s str,
    opts: &'o Options,
    lexer: Lexer,
    out: Extraction,
    /// Global (meta) arguments with their effective values.
    globals: BTreeMap<String, String>,
    /// Global `ARG` defaults as written, for rewrite targets.
    defaults: HashMap<String, ArgDefault>,
    /// Global `ARG`s declared without a usable value, with the variables that made them so.
    unresolved: HashMap<String, String>,
    /// Global `ARG`s that a stage imports again (`ARG NAME` after `FROM`).
    reused: Vec<String>,
    /// Arguments visible inside the current stage.
    locals: BTreeMap<String, String>,
    /// How many stages so far.
    stages: usize,
    /// Lower-cased names of the stages so far, for O(1) lookups (files may have
    /// thousands of stages).
    stage_names: std::collections::HashSet<String>,
}

/// Extracts the image references of one Dockerfile.
pub fn extract(src: &str, opts: &Options) -> Extraction {
    let df = match dockerfile::parse(src) {
        Ok(df) => df,
        Err(e) => {
            let mut out = Extraction::default();
            out.errors.push(ExtractError {
                line: e.line,
                message: e.message,
            });
            return out;
        }
    };
    let mut walk = Walk {
        src,
        opts,
        lexer: Lexer::new(df.escape),
        out: Extraction::default(),
        globals: platform_args(opts),
        defaults: HashMap::new(),
        unresolved: HashMap::new(),
        reused: Vec::new(),
        locals: BTreeMap::new(),
        stages: 0,
        stage_names: std::collections::HashSet::new(),
    };
    if let Some(syntax) = df.directive("syntax") {
        walk.syntax(syntax.value.as_str(), syntax.span.clone(), syntax.line);
    }
    for instruction in &df.instructions {
        // BuildKit stops at the first error; so do we (one clear message per file).
        if let Err(message) = walk.instruction(instruction) {
            walk.out.errors.push(ExtractError {
                line: instruction.start_line,
                message,
            });
            break;
        }
    }
    walk.mark_shared_args();
    walk.out
}

/// The automatic platform arguments BuildKit defines for every build.
fn platform_args(opts: &Options) -> BTreeMap<String, String> {
    let build = opts
        .build_platform
        .clone()
        .unwrap_or_else(|| "linux/amd64".to_owned());
    let target = opts.platform.clone().unwrap_or_else(|| build.clone());
    let mut args = BTreeMap::new();
    for (prefix, platform) in [("BUILD", &build), ("TARGET", &target)] {
        let mut parts = platform.splitn(3, '/');
        let os = parts.next().unwrap_or_default();
        let arch = parts.next().unwrap_or_default();
        let variant = parts.next().unwrap_or_default();
        args.insert(format!("{prefix}PLATFORM"), platform.clone());
        args.insert(format!("{prefix}OS"), os.to_owned());
        args.insert(format!("{prefix}ARCH"), arch.to_owned());
        args.insert(format!("{prefix}VARIANT"), variant.to_owned());
    }
    args
}

/// A word of an instruction's arguments with its range in the logical line.
fn words_with_ranges<'t>(line: &'t str, args: &'t str) -> Vec<(&'t str, Range<usize>)> {
    let base = offset_in(line, args);
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in args
        .char_indices()
        .chain(std::iter::once((args.len(), ' ')))
    {
        let space = dockerfile::words::is_token_space(c);
        match (start, space) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                out.push((&args[s..i], base + s..base + i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn is_valid_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

impl Walk<'_, '_> {
    fn instruction(&mut self, ins: &Instruction<'_>) -> Result<(), String> {
        let keyword = ins.keyword();
        let is = |k: &str| keyword.eq_ignore_ascii_case(k);
        if !INSTRUCTIONS.iter().any(|k| is(k)) {
            let written: String = keyword.chars().take(40).collect();
            return Err(format!("unknown instruction: {written}"));
        }
        if (self.stages == 0) && !is("arg") && !is("from") {
            return Err(format!(
                "{} instruction before the first FROM: no build stage in current context",
                keyword.to_ascii_uppercase()
            ));
        }
        // Only these instructions can name images; split the others not at all.
        let relevant = is("arg")
            || is("from")
            || ((is("copy") || is("add")) && ins.text.contains("--from"))
            || (is("run") && ins.text.contains("--mount"));
        if !relevant {
            return Ok(());
        }
        let (_, flags, args) = split_command(&ins.text);
        if is("arg") {
            return if self.stages == 0 {
                self.global_arg(ins, args)
            } else {
                self.local_arg(ins, args)
            };
        }
        if is("from") {
            return self.from(ins, &flags, args);
        }
        if is("run") {
            self.mount_from(ins, &flags)
        } else {
            self.copy_from(ins, &flags)
        }
    }

    fn syntax(&mut self, value: &str, span: Range<usize>, line: usize) {
        let word = value.split(char::is_whitespace).next().unwrap_or(value);
        let span = span.start..span.start + word.len();
        let column = column_of(self.src, span.start);
        match Reference::parse_normalized(word) {
            Ok(reference) => self.out.occurrences.push(Occurrence {
                line,
                column,
                span,
                source: Source::Syntax,
                text: word.to_owned(),
                reference,
                stage: None,
                platform: None,
                arg: None,
                role: Role::Uses,
                blocked: None,
            }),
            Err(e) => self.out.skips.push(Skip {
                line,
                text: word.to_owned(),
                reason: SkipReason::InvalidReference {
                    reason: e.to_string(),
                },
            }),
        }
    }

    fn global_arg(&mut self, ins: &Instruction<'_>, args: &str) -> Result<(), String> {
        for (word, range) in parse_words(args, self.lexer.escape()) {
            let (name, default) = match word.split_once('=') {
                Some((n, d)) => (n.to_owned(), Some(d)),
                None => (word.clone(), None),
            };
            let base = offset_in(&ins.text, args);
            let value_span = default.map(|d| {
                let start = base + range.start + name.len() + 1;
                start..start + d.len()
            });
            let mut unresolved = None;
            let value = match (self.opts.build_args.get(&name), default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => {
                    let exp = self
                        .lexer
                        .expand(d, &self.globals)
                        .map_err(|e| format!("ARG {name}: {e}"))?;
                    unresolved =
                        plain_unset(d, &exp.unset).or_else(|| self.inherited_unresolved(&exp.used));
                    Some(exp.value)
                }
                (None, None) => None,
            };
            if let Some(d) = default {
                let source = value_span.and_then(|s| ins.source_range(s));
                let (raw, span) = match (strip_whole_quotes(d), source) {
                    (Some(inner), Some(s)) => (inner.to_owned(), Some(s.start + 1..s.end - 1)),
                    (_, source) => (d.to_owned(), source),
                };
                let overridden = self.opts.build_args.contains_key(&name);
                self.defaults.insert(
                    name.clone(),
                    ArgDefault {
                        raw,
                        span,
                        overridden,
                    },
                );
            }
            match (value, unresolved) {
                (Some(v), None) => {
                    self.unresolved.remove(&name);
                    self.globals.insert(name, v);
                }
                (Some(v), Some(var)) => {
                    self.unresolved.insert(name.clone(), var);
                    self.globals.insert(name, v);
                }
                (None, _) => {
                    self.unresolved.insert(name.clone(), name.clone());
                    self.globals.remove(&name);
                }
            }
        }
        Ok(())
    }

    fn inherited_unresolved(&self, used: &[String]) -> Option<String> {
        used.iter().find_map(|u| self.unresolved.get(u).cloned())
    }

    fn local_arg(&mut self, _ins: &Instruction<'_>, args: &str) -> Result<(), String> {
        for (word, _) in parse_words(args, self.lexer.escape()) {
            let (name, default) = match word.split_once('=') {
                Some((n, d)) => (n.to_owned(), Some(d.to_owned())),
                None => (word.clone(), None),
            };
            if self.defaults.contains_key(&name) || self.globals.contains_key(&name) {
                self.reused.push(name.clone());
            }
            let value = match (self.opts.build_args.get(&name), default) {
                (Some(v), _) => Some(v.clone()),
                (None, Some(d)) => self.lexer.expand(&d, &self.locals).ok().map(|e| e.value),
                (None, None) => self.globals.get(&name).cloned(),
            };
            if let Some(v) = value {
                self.locals.insert(name, v);
            }
        }
        Ok(())
    }

    fn from(&mut self, ins: &Instruction<'_>, flags: &[Flag], args: &str) -> Result<(), String> {
        let mut platform = None;
        for flag in flags {
            match flag.parts() {
                ("platform", Some(value)) => {
                    let exp = self
                        .lexer
                        .expand(value, &self.globals)
                        .map_err(|e| format!("--platform: {e}"))?;
                    platform = Some(exp.value);
                }
                (name, _) => return Err(format!("unknown flag: {name}")),
            }
        }
        let words = words_with_ranges(&ins.text, args);
        let stage_name = match words.as_slice() {
            [_] => None,
            [_, (as_kw, _), (name, _)] if as_kw.eq_ignore_ascii_case("as") => {
                let lower = name.to_ascii_lowercase();
                if !is_valid_stage_name(&lower) {
                    return Err(format!(
                        "invalid name for build stage: {name:?}, name can't start with a number or contain symbols"
                    ));
                }
                Some(lower)
            }
            _ => return Err("FROM requires either one or three arguments".to_owned()),
        };
        let (raw, raw_range) = words[0].clone();
        // Inside a stage only the ARGs it declares are visible (the platform ones too
        // must be declared again).
        self.locals.clear();
        let context = Context {
            ins,
            raw,
            raw_range,
            source: Source::From,
            stage: stage_name.clone(),
            platform,
        };
        self.reference(context, true)?;
        if let Some(name) = stage_name {
            self.stage_names.insert(name);
        }
        self.stages += 1;
        Ok(())
    }

    fn copy_from(&mut self, ins: &Instruction<'_>, flags: &[Flag]) -> Result<(), String> {
        let Some(flag) = flags.iter().find(|f| f.parts().0 == "from") else {
            return Ok(());
        };
        let value = flag.parts().1.unwrap_or_default();
        if value.contains('$') {
            return Err(format!(
                "COPY --from={value}: variable expansion is not supported in --from"
            ));
        }
        let raw = &ins.text[flag.raw.clone()];
        let range = match raw.find('=') {
            Some(eq) => flag.raw.start + eq + 1..flag.raw.end,
            None => flag.raw.clone(),
        };
        let raw = &ins.text[range.clone()];
        let context = Context {
            ins,
            raw,
            raw_range: range,
            source: Source::CopyFrom,
            stage: None,
            platform: None,
        };
        self.reference(context, false)
    }

    fn mount_from(&mut self, ins: &Instruction<'_>, flags: &[Flag]) -> Result<(), String> {
        for flag in flags.iter().filter(|f| f.parts().0 == "mount") {
            let raw = &ins.text[flag.raw.clone()];
            // Find `from=` among the comma-separated fields of the flag as written.
            let mut offset = 0;
            for field in raw.split(',') {
                let key_start = field.trim_start_matches("--mount=");
                let skipped = field.len() - key_start.len();
                if let Some(value) = key_start.strip_prefix("from=") {
                    let start = flag.raw.start + offset + skipped + "from=".len();
                    let range = start..start + value.len();
                    let context = Context {
                        ins,
                        raw: value,
                        raw_range: range,
                        source: Source::MountFrom,
                        stage: None,
                        platform: None,
                    };
                    self.reference(context, false)?;
                }
                offset += field.len() + 1;
            }
        }
        Ok(())
    }

    /// Classifies one written reference: a stage, scratch, unresolved, or an image.
    fn reference(&mut self, cx: Context<'_, '_>, is_from: bool) -> Result<(), String> {
        let line = cx.ins.start_line;
        let env = if is_from { &self.globals } else { &self.locals };
        let expansion = self
            .lexer
            .expand(cx.raw, env)
            .map_err(|e| format!("{}: {e}", cx.raw))?;
        let expanded = expansion.value;
        let unresolved = plain_unset(cx.raw, &expansion.unset).or_else(|| {
            if is_from {
                self.inherited_unresolved(&expansion.used)
            } else {
                None
            }
        });
        if let Some(name) = unresolved {
            self.out.skips.push(Skip {
                line,
                text: cx.raw.to_owned(),
                reason: SkipReason::UnresolvedVariable { name },
            });
            return Ok(());
        }
        if expanded.is_empty() {
            return Err(format!("base name ({}) should not be blank", cx.raw));
        }
        let lower = expanded.to_ascii_lowercase();
        let is_stage = self.stage_names.contains(&lower)
            || (!is_from && lower.parse::<usize>().is_ok_and(|i| i < self.stages));
        if is_stage {
            self.out.skips.push(Skip {
                line,
                text: cx.raw.to_owned(),
                reason: SkipReason::BuildStage,
            });
            return Ok(());
        }
        if !is_from && lower.parse::<usize>().is_ok() {
            return Err(format!(
                "--from={expanded}: no build stage with index {expanded} before this instruction"
            ));
        }
        if expanded == "scratch" {
            self.out.skips.push(Skip {
                line,
                text: cx.raw.to_owned(),
                reason: SkipReason::Scratch,
            });
            return Ok(());
        }
        let reference =
            Reference::parse_normalized(&expanded).map_err(|e| format!("{expanded}: {e}"))?;
        let source_span = cx.ins.source_range(cx.raw_range.clone());
        let column = source_span
            .as_ref()
            .map_or(1, |s| column_of(self.src, s.start));
        let defaults = if is_from {
            &self.defaults
        } else {
            &HashMap::new()
        };
        let target = target::find(cx.raw, source_span, defaults);
        self.out.occurrences.push(Occurrence {
            line,
            column,
            span: target.span,
            source: cx.source,
            text: cx.raw.to_owned(),
            reference,
            stage: cx.stage,
            platform: cx.platform,
            arg: target.arg,
            role: Role::Uses,
            blocked: target.blocked,
        });
        Ok(())
    }

    /// A rewrite through an `ARG` default is only safe when that default feeds nothing
    /// else: no stage imports the `ARG`, and every reference written through it names
    /// the same repository.
    fn mark_shared_args(&mut self) {
        let mut repos: HashMap<(String, Range<usize>), Vec<String>> = HashMap::new();
        for occ in &self.out.occurrences {
            if let Some(arg) = &occ.arg {
                repos
                    .entry((arg.clone(), occ.span.clone()))
                    .or_default()
                    .push(occ.reference.name());
            }
        }
        for occ in &mut self.out.occurrences {
            let Some(arg) = occ.arg.clone() else { continue };
            if occ.blocked.is_some() {
                continue;
            }
            let names = &repos[&(arg.clone(), occ.span.clone())];
            let mixed = names.iter().any(|n| *n != names[0]);
            if mixed || self.reused.contains(&arg) {
                occ.blocked = Some(SkipReason::SharedArg { name: arg });
            }
        }
    }
}

/// The pieces of one reference being classified.
struct Context<'i, 't> {
    ins: &'i Instruction<'t>,
    raw: &'i str,
    raw_range: Range<usize>,
    source: Source,
    stage: Option<String>,
    platform: Option<String>,
}

/// The first unset variable that `raw` uses without a default (`$V` or `${V}`).
fn plain_unset(raw: &str, unset: &[String]) -> Option<String> {
    unset
        .iter()
        .find(|name| {
            let braced = format!("${{{name}}}");
            if raw.contains(&braced) {
                return true;
            }
            let bare = format!("${name}");
            raw.match_indices(&bare).any(|(i, _)| {
                let after = raw[i + bare.len()..].chars().next();
                !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .cloned()
}

fn strip_whole_quotes(s: &str) -> Option<&str> {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) && !s[1..s.len() - 1].contains(q) {
            return Some(&s[1..s.len() - 1]);
        }
    }
    None
}

/// 1-based byte column of `offset` on its line.
fn column_of(src: &str, offset: usize) -> usize {
    let before = &src.as_bytes()[..offset.min(src.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (offset - line_start).min(MAX_LINE) + 1
}
