//! extract stage: a compose project's `.env` file, read as docker compose reads it. Pure: the
//! caller hands in the file's text and the environment; nothing here reads files.
//!
//! The rules are compose-go's `dotenv` package (`dotenv/parser.go`, `dotenv/godotenv.go`):
//! - a UTF-8 byte order mark is dropped; blank lines and lines starting with `#` are skipped;
//! - `export` and blanks before a key are dropped; a key is letters, digits, `_ . - [ ]`, and
//!   ends at `=` or `:` (YAML style); a key alone on its line takes its value from the
//!   environment, when set there;
//! - an unquoted value runs to the end of the line, loses an inline comment (` #` and what
//!   follows) and trailing blanks, and has its `${VAR}` references expanded;
//! - a single-quoted value is kept as written except that `\'` is a quote;
//! - a double-quoted value may span lines, turns `\"` into a quote, expands the shell escapes
//!   `\a \b \f \n \r \t \v \\ \$ \"` and octal `\0NNN`, then has its references expanded;
//! - references are expanded with compose's interpolation, looking first in the environment,
//!   then in the variables defined earlier in the file; an unset one is empty (compose warns).
//!
//! A malformed file is an error with its line, as compose refuses to start with it; the
//! variables read before the error are still returned.

use std::collections::HashMap;

use super::interpolation::{InterpolationError, Unset, interpolate_with};

/// Why a `.env` file cannot be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    /// 1-based line.
    pub line: usize,
    pub message: String,
}

/// The variables of a `.env` file, in file order (a later definition of a name wins), and
/// the error that stopped reading, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dotenv {
    pub vars: Vec<(String, String)>,
    pub error: Option<DotenvError>,
}

impl Dotenv {
    /// The value the file gives `name` (its last definition).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads `text` as a `.env` file. `environment` answers for variables set outside the file
/// (it wins over the file's own earlier definitions in references, as in compose).
pub fn parse(text: &str, environment: &dyn Fn(&str) -> Option<String>) -> Dotenv {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser {
        text: body,
        pos: 0,
        out: Dotenv::default(),
        defined: HashMap::new(),
        environment,
    };
    if let Err(error) = parser.run() {
        parser.out.error = Some(error);
    }
    parser.out
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of what is still to read.
    pos: usize,
    out: Dotenv,
    /// The file's variables so far, for references to them.
    defined: HashMap<String, String>,
    environment: &'a dyn Fn(&str) -> Option<String>,
}

/// compose-go's `isSpace`: blanks that are not line breaks.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or_default()
    }

    /// 1-based line of byte offset `at`.
    fn line(&self, at: usize) -> usize {
        let before = self.text.get(..at).unwrap_or(self.text);
        1 + before.bytes().filter(|&b| b == b'\n').count()
    }

    fn error(&self, at: usize, message: String) -> DotenvError {
        DotenvError {
            line: self.line(at),
            message,
        }
    }

    fn run(&mut self) -> Result<(), DotenvError> {
        while self.statement_start() {
            let start = self.pos;
            let (key, inherited) = self.key()?;
            if key.contains(' ') {
                return Err(self.error(start, "key cannot contain a space".to_owned()));
            }
            if inherited {
                if let Some(value) = self.lookup(&key) {
                    self.define(key, value);
                }
                continue;
            }
            let value = self.value(start)?;
            self.define(key, value);
        }
        Ok(())
    }

    /// Skips blanks and comment lines; false at the end of the text.
    fn statement_start(&mut self) -> bool {
        loop {
            let rest = self.rest();
            let Some(skip) = rest.find(|c: char| !c.is_whitespace()) else {
                self.pos = self.text.len();
                return false;
            };
            self.pos += skip;
            if !self.rest().starts_with('#') {
                return true;
            }
            match self.rest().find('\n') {
                Some(eol) => self.pos += eol,
                None => {
                    self.pos = self.text.len();
                    return false;
                }
            }
        }
    }

    /// Reads a key and its separator; `true` when the key stands alone on its line.
    fn key(&mut self) -> Result<(String, bool), DotenvError> {
        let mut rest = self.rest();
        if let Some(after) = rest.strip_prefix("export")
            // Go's `\s` in compose-go's `^export\s+`.
            && after.starts_with(['\t', '\n', '\u{c}', '\r', ' '])
        {
            let trimmed = after.trim_start_matches(is_space);
            self.pos += rest.len() - trimmed.len();
            rest = trimmed;
        }
        for (i, c) in rest.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    let key = rest[..i].trim_end().to_owned();
                    let after = &rest[i + 1..];
                    let value_start = after.trim_start_matches(is_space);
                    self.pos += rest.len() - value_start.len();
                    return Ok((key, c == '\n'));
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphanumeric() => {}
                c => {
                    let line = rest.lines().next().unwrap_or_default();
                    return Err(self.error(
                        self.pos,
                        format!("unexpected character {c:?} in variable name {line:?}"),
                    ));
                }
            }
        }
        // A key at the very end with no separator: compose-go reads the rest as the
        // value of an empty key, which nothing can refer to.
        Ok((String::new(), false))
    }

    /// Reads the value that starts at the current position.
    fn value(&mut self, statement: usize) -> Result<String, DotenvError> {
        let rest = self.rest();
        let quote = match rest.as_bytes().first() {
            Some(b'\'') => '\'',
            Some(b'"') => '"',
            _ => {
                let (line, consumed) = match rest.find('\n') {
                    Some(eol) => (&rest[..eol], eol + 1),
                    None => (rest, rest.len()),
                };
                let value = line.split_once(" #").map_or(line, |(v, _)| v).trim_end();
                let at = self.pos;
                self.pos += consumed;
                return self.expand(value, at);
            }
        };
        let mut chars = String::new();
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if c != quote {
                if !escaped && c == '\\' {
                    escaped = true;
                    continue;
                }
                if escaped {
                    escaped = false;
                    chars.push('\\');
                }
                chars.push(c);
                continue;
            }
            if escaped {
                escaped = false;
                chars.push(c);
                continue;
            }
            let at = self.pos;
            self.pos += i + 1;
            return if quote == '"' {
                self.expand(&unescape(&chars), at)
            } else {
                Ok(chars)
            };
        }
        let line = rest.lines().next().unwrap_or_default();
        Err(self.error(statement, format!("unterminated quoted value {line}")))
    }

    fn define(&mut self, key: String, value: String) {
        self.defined.insert(key.clone(), value.clone());
        self.out.vars.push((key, value));
    }

    /// A variable from the environment, else from earlier in the file.
    fn lookup(&self, name: &str) -> Option<String> {
        (self.environment)(name).or_else(|| self.defined.get(name).cloned())
    }

    fn expand(&self, value: &str, at: usize) -> Result<String, DotenvError> {
        interpolate_with(value, &|name| self.lookup(name), Unset::Empty).map_err(|error| {
            let message = match error {
                InterpolationError::Unresolved { .. } | InterpolationError::Required { .. } => {
                    error.to_string()
                }
                InterpolationError::Invalid { text, .. } => format!("invalid template: {text:?}"),
            };
            self.error(at, message)
        })
    }
}

/// compose-go's `expandEscapes`: the shell escapes of a double-quoted value. `\$` becomes
/// `$$`, so interpolation then reads it as a literal `$`. Anything else stays as written.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(slash) = rest.find('\\') {
        out.push_str(&rest[..slash]);
        let after = &rest[slash + 1..];
        let mut chars = after.chars();
        let replaced = match chars.next() {
            Some('a') => Some("\u{7}".to_owned()),
            Some('b') => Some("\u{8}".to_owned()),
            Some('f') => Some("\u{c}".to_owned()),
            Some('n') => Some("\n".to_owned()),
            Some('r') => Some("\r".to_owned()),
            Some('t') => Some("\t".to_owned()),
            Some('v') => Some("\u{b}".to_owned()),
            Some('$') => Some("$$".to_owned()),
            Some('"') => Some("\"".to_owned()),
            Some('\\') => Some("\\".to_owned()),
            Some('0') => {
                let digits = after[1..]
                    .bytes()
                    .take(3)
                    .take_while(u8::is_ascii_digit)
                    .count();
                let octal = &after[1..1 + digits];
                rest = &after[1 + digits..];
                out.push_str(&octal_escape(octal));
                continue;
            }
            _ => None,
        };
        match replaced {
            Some(text) => {
                out.push_str(&text);
                rest = chars.as_str();
            }
            None => {
                out.push('\\');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `\0` followed by `digits` (up to three): Go reads `\NNN` as an octal byte value, and
/// leaves `\` plus the digits when that fails (fewer than three digits, an 8 or 9, or more
/// than 255).
fn octal_escape(digits: &str) -> String {
    if digits.len() == 3
        && let Ok(value) = u32::from_str_radix(digits, 8)
        && value <= 0o377
        && let Some(c) = char::from_u32(value)
    {
        return c.to_string();
    }
    format!("\\{digits}")
}

#[cfg(test)]
mod tests;
