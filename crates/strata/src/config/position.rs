//! config stage: where in `strata.toml` an error is. A TOML error carries its span; a
//! validation error carries a dotted key (`workspace.image[2].build_args`), which is
//! looked up in the file's spanned tree (`toml::de::DeTable`) to find the line and
//! column it is written at. An unknown key also gets the nearest known one
//! (`build-args` → `build_args`). Reads the config text only.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::ConfigError;

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// `:line:column` for messages, empty when unknown.
pub(super) fn suffix(at: Option<&Position>) -> String {
    at.map(|p| format!(":{p}")).unwrap_or_default()
}

/// The position of byte `offset` in `text`.
pub(super) fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text
        .get(line_start..offset)
        .map_or(1, |s| s.chars().count() + 1);
    Position { line, column }
}

/// A TOML or deserialisation error, placed, with the nearest key for an unknown one.
pub(super) fn from_toml(err: &toml::de::Error, file: &Path, text: &str) -> ConfigError {
    let mut message = err.message().trim_end().to_owned();
    if let Some(hint) = suggestion(&message) {
        message.push_str(&format!(" (did you mean `{hint}`?)"));
    }
    ConfigError {
        file: file.to_owned(),
        at: err.span().map(|span| position(text, span.start)),
        key: err.span().and_then(|span| key_at(text, span.start)),
        message,
    }
}

/// The dotted key of the deepest key or value written at `offset`. Tables opened by a
/// `[header]` have their entries outside their own span, so every table is searched.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let root = DeTable::parse(text).ok()?;
    find_in_table(root.get_ref(), offset, 0)
}

/// Deepest nesting searched (real configs nest four levels).
const MAX_DEPTH: usize = 32;

fn find_in_table(table: &DeTable<'_>, offset: usize, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    for (name, value) in table.iter() {
        let key = quote_key(name.get_ref());
        if name.span().contains(&offset) {
            return Some(key);
        }
        if let Some(rest) = find_in_value(value, offset, depth) {
            return Some(if rest.is_empty() {
                key
            } else if rest.starts_with('[') {
                format!("{key}{rest}")
            } else {
                format!("{key}.{rest}")
            });
        }
    }
    None
}

/// The path below `value` to what is at `offset`: empty for the value itself.
fn find_in_value(
    value: &toml::Spanned<DeValue<'_>>,
    offset: usize,
    depth: usize,
) -> Option<String> {
    match value.get_ref() {
        DeValue::Table(inner) => find_in_table(inner, offset, depth + 1)
            .or_else(|| value.span().contains(&offset).then(String::new)),
        DeValue::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if let Some(rest) = find_in_value(item, offset, depth + 1) {
                    let sep = if rest.is_empty() || rest.starts_with('[') {
                        ""
                    } else {
                        "."
                    };
                    return Some(format!("[{index}]{sep}{rest}"));
                }
            }
            value.span().contains(&offset).then(String::new)
        }
        _ => value.span().contains(&offset).then(String::new),
    }
}

/// A key as a dotted path writes it: bare when it can be, else quoted.
fn quote_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

/// Fills in where a validation error is, from its key.
pub(super) fn locate(mut error: ConfigError, text: &str) -> ConfigError {
    if error.at.is_none()
        && let Some(key) = &error.key
        && let Some(span) = span_of(text, key)
    {
        error.at = Some(position(text, span.start));
    }
    error
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": the known field closest to
/// `x` — the same but for `-`/`_` and case, else within a small edit distance.
pub(super) fn suggestion(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (unknown, expected) = rest.split_once('`')?;
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    nearest(unknown, &known).map(str::to_owned)
}

/// The candidate closest to `word`, if close enough to be a likely slip.
pub(super) fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normal = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    if let Some(same) = candidates.iter().find(|c| normal(c) == normal(word)) {
        return Some(same);
    }
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&normal(word), &normal(c)), *c))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// One step of a dotted key: a table key, then any array indexes.
#[derive(Debug, PartialEq, Eq)]
struct Step {
    key: String,
    indexes: Vec<usize>,
}

/// `workspace.image[2].build_args`, `registry.mirrors."docker.io"`,
/// `check.ignore[0].codes[1]`.
fn steps(key: &str) -> Option<Vec<Step>> {
    let mut out = Vec::new();
    let mut chars = key.chars().peekable();
    while chars.peek().is_some() {
        let mut name = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut escaped = false;
            for c in chars.by_ref() {
                match (c, escaped) {
                    ('\\', false) => escaped = true,
                    ('"', false) => break,
                    (c, _) => {
                        name.push(c);
                        escaped = false;
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' || c == '[' {
                    break;
                }
                name.push(c);
                chars.next();
            }
        }
        let mut indexes = Vec::new();
        while chars.peek() == Some(&'[') {
            chars.next();
            let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
            indexes.push(digits.parse().ok()?);
        }
        if chars.peek() == Some(&'.') {
            chars.next();
        }
        out.push(Step { key: name, indexes });
    }
    Some(out)
}

/// Where the deepest part of `key` that the file has is written: the value of a plain
/// key, the key itself for a table.
pub(super) fn span_of(text: &str, key: &str) -> Option<Range<usize>> {
    let steps = steps(key)?;
    let root = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = root.get_ref();
    let mut found: Option<Range<usize>> = None;
    for (i, step) in steps.iter().enumerate() {
        let Some((name, value)) = table.iter().find(|(k, _)| k.get_ref().as_ref() == step.key)
        else {
            break;
        };
        let mut value = value;
        found = Some(
            if matches!(value.get_ref(), DeValue::Table(_)) || !step.indexes.is_empty() {
                name.span()
            } else {
                value.span()
            },
        );
        for &index in &step.indexes {
            let Some(item) = value.get_ref().as_array().and_then(|a| a.get(index)) else {
                return found;
            };
            value = item;
            found = Some(item.span());
        }
        let last = i + 1 == steps.len();
        match value.get_ref() {
            DeValue::Table(inner) if !last => table = inner,
            _ => break,
        }
    }
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TEXT: &str = "[registry]\nmirrors = { \"docker.io\" = \"m:5000\" }\n\n[[workspace.repository]]\npath = \"a\"\n\n[[workspace.image]]\nname = \"x:1\"\n\n[[workspace.image]]\nname = \"y:1\"\nbuild_args = { A = \"1\" }\n\n[check]\nseverity = { moved-tag = \"loud\" }\n[[check.ignore]]\ncodes = [\"unpinned\", \"nope\"]\n";

    #[test]
    fn dotted_keys_find_where_they_are_written() {
        let cases = [
            ("workspace.image[1].build_args", (12, 1)),
            ("workspace.image[1]", (10, 1)),
            ("workspace.image[0].name", (8, 8)),
            ("registry.mirrors.\"docker.io\"", (2, 27)),
            ("check.severity.moved-tag", (15, 26)),
            ("check.ignore[0].codes[1]", (17, 22)),
            ("workspace.repository[0].trigger", (4, 1)),
        ];
        for (key, (line, column)) in cases {
            let span = span_of(TEXT, key).unwrap_or_else(|| panic!("{key}"));
            assert_eq!(
                position(TEXT, span.start),
                Position { line, column },
                "{key}"
            );
        }
        assert!(span_of(TEXT, "update.group").is_none());
        // And back: the key written at a place.
        let at = |line: usize, column: usize| {
            let start: usize = TEXT.lines().take(line - 1).map(|l| l.len() + 1).sum();
            key_at(TEXT, start + column - 1)
        };
        assert_eq!(
            at(12, 16).as_deref(),
            Some("workspace.image[1].build_args.A")
        );
        assert_eq!(at(2, 14).as_deref(), Some("registry.mirrors.\"docker.io\""));
        assert_eq!(at(17, 22).as_deref(), Some("check.ignore[0].codes[1]"));
    }

    /// serde's unknown-field messages, and the nearest field by `-`/`_`, case, then
    /// Damerau-Levenshtein distance.
    #[test]
    fn unknown_keys_get_the_nearest_known_one() {
        let message = "unknown field `build-args`, expected one of `name`, `repository`, `build_args`, `pins`";
        assert_eq!(suggestion(message).as_deref(), Some("build_args"));
        let message = "unknown field `reposiotry`, expected one of `name`, `repository`";
        assert_eq!(suggestion(message).as_deref(), Some("repository"));
        let message = "unknown field `zzz`, expected one of `name`, `repository`";
        assert_eq!(suggestion(message), None);
        assert_eq!(suggestion("invalid type: string"), None);
        assert_eq!(
            nearest("Platform", &["platform", "follow"]),
            Some("platform")
        );
    }

    #[test]
    fn positions_count_lines_and_characters() {
        assert_eq!(position("a\nbé=c", 5), Position { line: 2, column: 3 });
        assert_eq!(position("", 9), Position { line: 1, column: 1 });
    }
}
