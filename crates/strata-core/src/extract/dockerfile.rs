//! extract stage: image references in a Dockerfile, exactly as BuildKit would pull them.
//! Walks the parsed instructions with BuildKit's rules: every instruction checked as its
//! `instructions` package checks it; `FROM` and `--platform` expanded in the global scope
//! only (`scope`); stages looked up the way `dockerfile2llb` does (`FROM` exactly and only
//! backwards, `--from` case-insensitively, never forwards: `stages`); and it records where
//! each reference's digest would be written (`target`).
//! Pure: text in, values out.

mod scope;
mod stages;
mod template;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use super::target::{self, ArgDefault};
use crate::dockerfile::words::{Flag, offset_in, parse_words, split_command};
use crate::dockerfile::{self, Directive, Instruction, MAX_LINE, command, platform, with_hint};
use crate::occurrence::{
    ExtractError, Extraction, Occurrence, Role, Skip, SkipReason, Source, Warning,
};
use crate::reference::{Reference, placeholder};
use crate::shell::Lexer;
use scope::{Expanded, PlatformArgs, Scope, empty_note};
use stages::{Stages, Via};

/// What the build would be given.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--build-arg NAME=VALUE` values; they apply only to `ARG`s the file declares (and
    /// to the automatic platform arguments).
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

/// BuildKit's `UndefinedArgInFrom` rule, by its documentation slug.
const UNDEFINED_ARG_IN_FROM: &str = "undefined-arg-in-from";

struct Walk<'s, 'o> {
    src: &'s str,
    opts: &'o Options,
    lexer: Lexer,
    out: Extraction,
    /// What `FROM` and `--platform` can see.
    scope: Scope<'o>,
    /// Global `ARG` defaults as written, for rewrite targets.
    defaults: HashMap<String, ArgDefault>,
    /// Global `ARG`s that a stage imports again (`ARG NAME` after `FROM`).
    reused: Vec<String>,
    /// Every stage of the file, read before the walk.
    stages: Stages,
    /// All instructions, for the rare look at the whole `--from` graph (cycles).
    instructions: &'s [Instruction<'s>],
    /// The index of the current stage; `None` before the first `FROM`.
    current: Option<usize>,
    /// Lower-cased names of the stages defined so far, for `FROM` lookups (a hash set:
    /// files may have thousands of stages).
    defined: HashSet<String>,
}

/// Extracts the image references of one Dockerfile.
pub fn extract(src: &str, opts: &Options) -> Extraction {
    let df = match dockerfile::parse(src) {
        Ok(df) => df,
        Err(e) => {
            let mut out = Extraction::default();
            match template::marker_in_lines(src) {
                Some((line, text)) => skip_template(&mut out, line, text),
                None => out.errors.push(ExtractError {
                    line: e.line,
                    message: e.message,
                }),
            }
            return out;
        }
    };
    let mut out = Extraction::default();
    if let Some((line, text)) = template::marker(&df.instructions) {
        skip_template(&mut out, line, text);
        return out;
    }
    let stages = Stages::collect(&df.instructions);
    let build = opts.build_platform.as_deref().unwrap_or("linux/amd64");
    let target = opts.platform.as_deref().unwrap_or(build);
    let target_stage = stages.target().to_owned();
    let scope = Scope {
        platform: PlatformArgs::new(build, target, &target_stage, &opts.build_args),
        ..Scope::default()
    };
    let mut walk = Walk {
        src,
        opts,
        lexer: Lexer::new(df.escape),
        out,
        scope,
        defaults: HashMap::new(),
        reused: Vec::new(),
        stages,
        instructions: &df.instructions,
        current: None,
        defined: HashSet::new(),
    };
    if let Some(syntax) = dockerfile::syntax::detect(src) {
        walk.syntax(&syntax);
    }
    let mut failed = false;
    for instruction in &df.instructions {
        // BuildKit stops at the first error; so do we (one clear message per file).
        if let Err(message) = walk.instruction(instruction) {
            walk.out.errors.push(ExtractError {
                line: instruction.start_line,
                message,
            });
            failed = true;
            break;
        }
    }
    if !failed && walk.stages.count() == 0 {
        walk.out.errors.push(ExtractError {
            line: 0,
            message: "dockerfile contains no stages to build".to_owned(),
        });
    }
    walk.mark_shared_args();
    walk.out
}

fn skip_template(out: &mut Extraction, line: usize, text: String) {
    out.skips.push(Skip {
        line,
        text,
        reason: SkipReason::TemplateSource,
    });
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

impl Walk<'_, '_> {
    fn instruction(&mut self, ins: &Instruction<'_>) -> Result<(), String> {
        let keyword = ins.keyword();
        let is = |k: &str| keyword.eq_ignore_ascii_case(k);
        if !INSTRUCTIONS.iter().any(|k| is(k)) {
            let written: String = keyword.chars().take(40).collect();
            let upper = INSTRUCTIONS.map(str::to_ascii_uppercase);
            let names: Vec<&str> = upper.iter().map(String::as_str).collect();
            let message = format!("unknown instruction: {written}");
            return Err(with_hint(message, keyword, &names, false));
        }
        command::check(ins, self.lexer.escape()).map_err(|e| {
            // `FROM ${{ env.IMAGE }}` is three words: say why.
            if is("from") {
                with_placeholder(&ins.text, e)
            } else {
                e
            }
        })?;
        if self.current.is_none() && !is("arg") && !is("from") {
            return Err(format!(
                "{} instruction before the first FROM: no build stage in current context",
                keyword.to_ascii_uppercase()
            ));
        }
        // Only these instructions can name images; split the others not at all.
        let relevant = is("arg")
            || is("from")
            || (is("copy") && ins.text.contains("--from"))
            || (is("run") && ins.text.contains("--mount"));
        if !relevant {
            return Ok(());
        }
        let (_, flags, args) = split_command(&ins.text);
        if is("arg") {
            return if self.current.is_none() {
                self.global_arg(ins, args)
            } else {
                self.local_arg(args);
                Ok(())
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

    fn syntax(&mut self, directive: &Directive) {
        let word = directive.value.as_str();
        let span = directive.span.clone();
        let column = column_of(self.src, span.start);
        match Reference::parse_normalized(word) {
            Ok(reference) => self.out.occurrences.push(Occurrence {
                line: directive.line,
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
                line: directive.line,
                text: word.to_owned(),
                reason: SkipReason::InvalidReference {
                    reason: e.to_string(),
                },
            }),
        }
    }

    /// A global `ARG` (`buildMetaArgs`): a `--build-arg` replaces its default (taken as
    /// is, not expanded); a default is expanded with the global scope so far; an `ARG`
    /// declared again without a default keeps the value it had.
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
            self.scope.declared.insert(name.clone());
            match (self.opts.build_args.get(&name), default) {
                (Some(given), _) => {
                    self.scope.unresolved.remove(&name);
                    self.scope.values.insert(name, given.clone());
                }
                (None, Some(d)) => match self.scope.expand(&self.lexer, d) {
                    Ok(Expanded::Value { value, .. }) => {
                        self.scope.unresolved.remove(&name);
                        self.scope.values.insert(name, value);
                    }
                    Ok(Expanded::Unresolved(root)) => {
                        self.scope.values.remove(&name);
                        self.scope.unresolved.insert(name, root);
                    }
                    Err(e) => return Err(format!("ARG {name}: {e}")),
                },
                (None, None) if self.scope.has_value(&name) => {}
                (None, None) => {
                    self.scope.unresolved.insert(name.clone(), name);
                }
            }
        }
        Ok(())
    }

    /// An `ARG` inside a stage: only noted when it imports a global one again (its
    /// default then also reaches `RUN` lines, so pinning it would change them).
    fn local_arg(&mut self, args: &str) {
        for (word, _) in parse_words(args, self.lexer.escape()) {
            let name = word.split_once('=').map_or(word.as_str(), |(n, _)| n);
            if self.defaults.contains_key(name) || self.scope.declared.contains(name) {
                self.reused.push(name.to_owned());
            }
        }
    }

    fn from(&mut self, ins: &Instruction<'_>, flags: &[Flag], args: &str) -> Result<(), String> {
        let words = words_with_ranges(&ins.text, args);
        // `command::check` has refused any other shape.
        let stage_name = match words.as_slice() {
            [_, _, (name, _)] => Some(name.to_ascii_lowercase()),
            _ => None,
        };
        let index = self.current.map_or(0, |i| i + 1);
        self.current = Some(index);
        let (raw, raw_range) = words.first().cloned().unwrap_or(("", 0..0));
        // `buildDispatchStates`: the base name first, then the platform.
        let base = self.scope.expand(&self.lexer, raw).map_err(|e| {
            // Only a CI expression can make expansion itself fail (`${{`); other
            // `${…}` are the file's own variables.
            let message = format!("{raw}: {e}");
            match placeholder::find(raw) {
                Some(found) if found.starts_with("${{") => with_placeholder(found, message),
                _ => message,
            }
        })?;
        if let Expanded::Value {
            value,
            undeclared,
            empty,
        } = &base
            && value.is_empty()
        {
            let message = format!("base name ({raw}) should not be blank");
            return Err(with_note(message, undeclared, empty));
        }
        let mut undeclared_names = match &base {
            Expanded::Value { undeclared, .. } => undeclared.clone(),
            Expanded::Unresolved(_) => Vec::new(),
        };
        let platform = match flags.iter().find_map(|f| match f.parts() {
            ("platform", Some(v)) => Some(v),
            _ => None,
        }) {
            Some(expression) => {
                let (platform, undeclared) = self.platform(expression)?;
                undeclared_names.extend(undeclared);
                platform
            }
            None => None,
        };
        let mut occurrence = None;
        let found = match base {
            Expanded::Unresolved(name) => {
                self.skip(ins, raw, SkipReason::UnresolvedVariable { name });
                None
            }
            Expanded::Value {
                value,
                undeclared,
                empty,
            } => Some((value, undeclared, empty)),
        };
        if let Some((value, undeclared, empty)) = found {
            // `addState`: an exact lookup of the expanded name among the lower-cased names
            // of earlier stages (`FROM Builder` is not the stage `builder`).
            if self.defined.contains(&value) {
                self.skip(ins, raw, SkipReason::BuildStage);
            } else if value == "scratch" {
                self.skip(ins, raw, SkipReason::Scratch);
            } else {
                let context = Context {
                    ins,
                    raw,
                    raw_range,
                    source: Source::From,
                    stage: stage_name.clone(),
                    platform,
                };
                occurrence = Some(self.image(context, &value, &undeclared, &empty)?);
            }
        }
        self.undefined_arg_warnings(ins, undeclared_names, occurrence);
        if let Some(name) = stage_name {
            self.defined.insert(name);
        }
        Ok(())
    }

    /// BuildKit's `UndefinedArgInFrom` for each name (once), with its "did you mean"
    /// among the declared and automatic arguments.
    fn undefined_arg_warnings(
        &mut self,
        ins: &Instruction<'_>,
        mut names: Vec<String>,
        occurrence: Option<usize>,
    ) {
        let mut seen = HashSet::new();
        names.retain(|n| seen.insert(n.clone()));
        let mut known = self.scope.value_names();
        known.extend(self.scope.declared.iter().map(String::as_str));
        for name in names {
            let message = format!("FROM argument '{name}' is not declared");
            self.out.warnings.push(Warning {
                line: ins.start_line,
                occurrence,
                code: UNDEFINED_ARG_IN_FROM,
                message: with_hint(message, &name, &known, true),
            });
        }
    }

    /// The expanded `--platform` value, checked as BuildKit checks it (`None` when it
    /// depends on an `ARG` the scan was not given), and the undeclared names it used.
    fn platform(&mut self, expression: &str) -> Result<(Option<String>, Vec<String>), String> {
        let keys = self.scope.value_names();
        let hint = |message: String, names: &[String]| {
            names
                .iter()
                .map(|name| with_hint(message.clone(), name, &keys, true))
                .find(|hinted| *hinted != message)
                .unwrap_or(message)
        };
        let (value, undeclared) = match self.scope.expand(&self.lexer, expression) {
            Err(e) => {
                return Err(format!(
                    "failed to process arguments for platform {expression}: {e}"
                ));
            }
            Ok(Expanded::Unresolved(_)) => return Ok((None, Vec::new())),
            Ok(Expanded::Value {
                value, undeclared, ..
            }) => (value, undeclared),
        };
        if value.is_empty() {
            let message = format!("empty platform value from expression {expression}");
            return Err(hint(message, &undeclared));
        }
        if let Err(e) = platform::check(&value) {
            let message = format!("failed to parse platform {expression}: {e}");
            return Err(hint(message, &undeclared));
        }
        Ok((Some(value), undeclared))
    }

    fn copy_from(&mut self, ins: &Instruction<'_>, flags: &[Flag]) -> Result<(), String> {
        let Some(flag) = flags.iter().find(|f| f.parts().0 == "from") else {
            return Ok(());
        };
        let value = flag.parts().1.unwrap_or_default();
        if value.is_empty() {
            return Ok(());
        }
        // `toCommand`: the value must come out of expansion unchanged.
        let no_variables: BTreeMap<String, String> = BTreeMap::new();
        if !matches!(self.lexer.expand(value, &no_variables), Ok(e) if e.value == value) {
            return Err(format!(
                "COPY --from={value}: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"
            ));
        }
        let raw = &ins.text[flag.raw.clone()];
        // The value's bytes, when the flag was written without quotes or escapes.
        let range = match raw.strip_prefix("--from=") {
            Some(written) if written == value => flag.raw.start + "--from=".len()..flag.raw.end,
            _ => 0..0,
        };
        self.source(ins, value, range, Via::Copy, Source::CopyFrom)
    }

    fn mount_from(&mut self, ins: &Instruction<'_>, flags: &[Flag]) -> Result<(), String> {
        for flag in flags.iter().filter(|f| f.parts().0 == "mount") {
            let value = flag.parts().1.unwrap_or_default();
            let fields = command::mount_fields(value)?;
            let Some(from) = fields.iter().find(|f| f.key == "from") else {
                continue;
            };
            if from.value.is_empty() {
                continue;
            }
            let target = fields
                .iter()
                .find(|f| matches!(f.key.as_str(), "target" | "dst" | "destination"))
                .map_or("", |f| f.value.as_str());
            // Map the field back to the instruction text when the flag was written as
            // BuildKit reads it (no quotes or escapes around it).
            let raw = &ins.text[flag.raw.clone()];
            let range = match (raw.strip_prefix("--mount="), &from.range) {
                (Some(written), Some(r)) if written == value => {
                    let start = flag.raw.start + "--mount=".len();
                    start + r.start..start + r.end
                }
                _ => 0..0,
            };
            let via = Via::Mount { target };
            self.source(ins, &from.value, range, via, Source::MountFrom)?;
        }
        Ok(())
    }

    /// A literal `--from` value: a stage before this one, `scratch`, or an image.
    fn source(
        &mut self,
        ins: &Instruction<'_>,
        value: &str,
        range: Range<usize>,
        via: Via<'_>,
        source: Source,
    ) -> Result<(), String> {
        let current = self.current.unwrap_or(0);
        match self.stages.source(value, current, via, self.instructions)? {
            stages::Source::Stage => self.skip(ins, value, SkipReason::BuildStage),
            stages::Source::Image if value == "scratch" => {
                self.skip(ins, value, SkipReason::Scratch);
            }
            stages::Source::Image => {
                let context = Context {
                    ins,
                    raw: value,
                    raw_range: range,
                    source,
                    stage: None,
                    platform: None,
                };
                self.image(context, value, &[], &[])?;
            }
        }
        Ok(())
    }

    fn skip(&mut self, ins: &Instruction<'_>, text: &str, reason: SkipReason) {
        self.out.skips.push(Skip {
            line: ins.start_line,
            text: text.to_owned(),
            reason,
        });
    }

    /// Records an image reference (returns its index), or BuildKit's error when the text
    /// is not one.
    fn image(
        &mut self,
        cx: Context<'_, '_>,
        expanded: &str,
        undeclared: &[String],
        empty: &[String],
    ) -> Result<usize, String> {
        let reference = Reference::parse_normalized(expanded).map_err(|e| {
            let message = with_note(format!("{expanded}: {e}"), undeclared, empty);
            with_placeholder(expanded, message)
        })?;
        let source_span = if cx.raw_range.is_empty() {
            None
        } else {
            cx.ins.source_range(cx.raw_range.clone())
        };
        let defaults = if cx.source == Source::From {
            &self.defaults
        } else {
            &HashMap::new()
        };
        let target = target::find(cx.raw, source_span, defaults);
        // docs/json.md: the rewritable text's own column (an `ARG` default may sit on
        // another line than the instruction).
        let column = column_of(self.src, target.span.start);
        self.out.occurrences.push(Occurrence {
            line: cx.ins.start_line,
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
        Ok(self.out.occurrences.len() - 1)
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
    /// The raw text's range in the logical line; empty when it has no exact bytes.
    raw_range: Range<usize>,
    source: Source,
    stage: Option<String>,
    platform: Option<String>,
}

/// `message`, led by what made the value empty (`ARG TAG is empty: …`).
fn with_note(message: String, undeclared: &[String], empty: &[String]) -> String {
    match empty_note(undeclared, empty) {
        Some(note) => format!("{note}: {message}"),
        None => message,
    }
}

/// `message`, led by the placeholder `text` holds (`<PROJECT_ID> is a placeholder: …`).
fn with_placeholder(text: &str, message: String) -> String {
    match placeholder::find(text) {
        Some(found) => format!("{found} is a placeholder, filled in before use: {message}"),
        None => message,
    }
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
