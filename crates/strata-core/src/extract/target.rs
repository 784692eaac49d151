//! extract stage: where a pin or update of a Dockerfile reference must write. The digest
//! always goes at the end of a reference, so the question is which bytes of the file hold
//! the end of it: the word in the instruction itself, or the default of the `ARG` whose
//! value ends the reference (`FROM python:${PY_TAG}` ends in `ARG PY_TAG=3.12`).
//! Pure: looks only at the written text and the `ARG` table it is handed.

use std::collections::HashMap;
use std::ops::Range;

use crate::occurrence::SkipReason;

/// A global `ARG` default as written.
#[derive(Debug, Clone)]
pub(crate) struct ArgDefault {
    /// The default as written (quotes removed when the whole value was quoted).
    pub(crate) raw: String,
    /// Its bytes in the source, `None` when it crosses a line continuation.
    pub(crate) span: Option<Range<usize>>,
    /// A `--build-arg` replaced the default for this scan.
    pub(crate) overridden: bool,
}

/// Where to write, and whether writing is safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) span: Range<usize>,
    /// The `ARG` whose default holds `span`.
    pub(crate) arg: Option<String>,
    pub(crate) blocked: Option<SkipReason>,
}

const MAX_CHAIN: usize = 16;

/// Finds the rewrite target of `raw`, written at `span` (`None`: crosses a continuation).
pub(crate) fn find(
    raw: &str,
    span: Option<Range<usize>>,
    args: &HashMap<String, ArgDefault>,
) -> Target {
    find_in(raw, span, args, None, 0)
}

fn find_in(
    raw: &str,
    span: Option<Range<usize>>,
    args: &HashMap<String, ArgDefault>,
    arg: Option<String>,
    depth: usize,
) -> Target {
    let blocked = |span: Option<Range<usize>>, reason: &str| Target {
        span: span.unwrap_or(0..0),
        arg: arg.clone(),
        blocked: Some(SkipReason::Unrewritable {
            reason: reason.to_owned(),
        }),
    };
    let Some(span) = span else {
        return blocked(None, "the reference is split across a line continuation");
    };
    if let Some(inner) = strip_quotes(raw) {
        let inner_span = span.start + 1..span.end - 1;
        return find_in(inner, Some(inner_span), args, arg, depth);
    }
    if raw.contains(['"', '\'', '\\', '`']) {
        return blocked(Some(span), "the reference contains quotes or escapes");
    }
    match tail(raw) {
        // `python:${PY}-slim`: a build argument picks the image; a digest written after
        // it would pin one choice and silently override every other.
        Tail::Literal if chooses_image(raw) => blocked(
            Some(span),
            "a build argument chooses the repository or tag; a digest here would override it",
        ),
        Tail::Literal => Target {
            span,
            arg,
            blocked: None,
        },
        Tail::Complex => blocked(
            Some(span),
            "the reference ends in a variable expansion with a modifier",
        ),
        Tail::Variable(name) => {
            if depth >= MAX_CHAIN {
                return blocked(Some(span), "ARG defaults nest too deeply");
            }
            match args.get(name) {
                Some(def) if def.overridden => blocked(
                    Some(span),
                    "the value comes from --build-arg, not from the Dockerfile",
                ),
                Some(def) => find_in(
                    &def.raw,
                    def.span.clone(),
                    args,
                    Some(name.to_owned()),
                    depth + 1,
                ),
                None => blocked(
                    Some(span),
                    "the reference ends in a variable with no default in this file",
                ),
            }
        }
    }
}

fn strip_quotes(raw: &str) -> Option<&str> {
    for q in ['"', '\''] {
        if raw.len() >= 2 && raw.starts_with(q) && raw.ends_with(q) {
            let inner = &raw[1..raw.len() - 1];
            if !inner.contains(['"', '\'', '\\', '$'])
                || q == '"' && !inner.contains(['"', '\'', '\\'])
            {
                return Some(inner);
            }
        }
    }
    None
}

/// Whether a variable appears in the last path component or the tag of `raw` (a
/// variable in the registry or namespace part, like `${REGISTRY}/python:3.12`, names
/// the same image wherever it is pulled from).
fn chooses_image(raw: &str) -> bool {
    let last = raw.rsplit('/').next().unwrap_or(raw);
    last.contains('$')
}

enum Tail<'a> {
    Literal,
    Variable(&'a str),
    Complex,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What the last piece of a word is: literal text, a plain `$NAME`/`${NAME}`, or an
/// expansion with a modifier.
fn tail(raw: &str) -> Tail<'_> {
    if let Some(body) = raw.strip_suffix('}') {
        let Some(open) = body.rfind("${") else {
            return Tail::Literal;
        };
        let name = &body[open + 2..];
        return if is_name(name) {
            Tail::Variable(name)
        } else {
            Tail::Complex
        };
    }
    let ident_start = raw
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_ascii_alphanumeric() || c == '_')
        .last()
        .map_or(raw.len(), |(i, _)| i);
    if ident_start > 0 && raw[..ident_start].ends_with('$') {
        let name = &raw[ident_start..];
        // `$1abc` is `$1` followed by text; names cannot start with a digit.
        if is_name(name) {
            return Tail::Variable(name);
        }
        return Tail::Complex;
    }
    Tail::Literal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(defs: &[(&str, &str, Range<usize>)]) -> HashMap<String, ArgDefault> {
        defs.iter()
            .map(|(n, raw, span)| {
                (
                    n.to_string(),
                    ArgDefault {
                        raw: raw.to_string(),
                        span: Some(span.clone()),
                        overridden: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn literal_is_its_own_target() {
        let t = find("python:3.12", Some(10..21), &HashMap::new());
        assert_eq!(
            t,
            Target {
                span: 10..21,
                arg: None,
                blocked: None
            }
        );
        let t = find("${REG}/python:3.12", Some(5..23), &HashMap::new());
        assert_eq!(t.span, 5..23);
        assert!(t.blocked.is_none());
        // A build argument in the tag: pinning would freeze one of its values.
        let t = find("python:${PY}-slim", Some(0..17), &HashMap::new());
        assert!(t.blocked.is_some());
    }

    #[test]
    fn trailing_variable_follows_arg_chain() {
        let a = args(&[("TAG", "3.12", 4..8), ("IMG", "python:${TAG}", 20..33)]);
        let t = find("$IMG", Some(40..44), &a);
        assert_eq!(t.span, 4..8);
        assert_eq!(t.arg.as_deref(), Some("TAG"));
        let t = find("python:${TAG}", Some(40..53), &a);
        assert_eq!(t.span, 4..8);
    }

    #[test]
    fn modifiers_and_unknowns_are_blocked() {
        let a = args(&[]);
        assert!(find("python:${TAG:-3}", Some(0..16), &a).blocked.is_some());
        assert!(find("python:$TAG", Some(0..11), &a).blocked.is_some());
        assert!(find("python:3", None, &a).blocked.is_some());
        assert_eq!(find("\"python:3\"", Some(0..10), &a).span, 1..9);
    }
}
