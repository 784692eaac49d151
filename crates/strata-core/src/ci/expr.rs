//! ci stage: GitHub Actions expressions (`${{ matrix.python }}`, `github.ref ==
//! 'refs/heads/main'`) evaluated against what is known when a workflow is read. Pure; a
//! value that depends on the run (a commit, a secret, a step's output) is `Unknown`, and
//! everything built from it stays unknown, so nothing is ever guessed.
//!
//! The rules are GitHub's "Evaluate expressions in workflows and actions" reference:
//! literals (`'it''s'`, numbers, `true`, `false`, `null`), property access (`a.b`,
//! `a['b']`), `!`, `<`, `<=`, `>`, `>=`, `==`, `!=`, `&&`, `||` with their precedence,
//! loose equality (operands of different types are compared as numbers), case-insensitive
//! string comparison, `&&`/`||` returning an operand, and the functions `contains`,
//! `startsWith`, `endsWith`, `format` and `join`. Status functions and `hashFiles`,
//! `toJSON`, `fromJSON` are unknown here.

mod lex;
mod parse;

use super::text::Text;
use lex::tokenize;
use parse::Parser;

/// A value of the expression language, or one that cannot be known when reading files.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Value>),
    /// A string with unknown pieces (a marked [`Text`]): it can be substituted into
    /// text, but nothing can be decided on it.
    Partial(String),
    /// `open`: keys not listed are unknown (the `github` context); closed objects give
    /// `null` for a missing key (`matrix`, `env`, `inputs`).
    Object {
        /// In the order the file wrote them.
        fields: Vec<(String, Value)>,
        open: bool,
    },
    Unknown,
}

impl Value {
    /// A closed object.
    pub fn object(fields: Vec<(String, Value)>) -> Value {
        Value::Object {
            fields,
            open: false,
        }
    }

    /// An open object (missing keys are unknown).
    pub fn open_object(fields: Vec<(String, Value)>) -> Value {
        Value::Object { fields, open: true }
    }

    pub fn string(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    /// A string value from text that may have unknown pieces.
    pub fn text(text: &Text) -> Value {
        match text.value() {
            Some(known) => Value::String(known.to_owned()),
            None => Value::Partial(text.as_marked().to_owned()),
        }
    }

    /// The value a YAML plain scalar stands for (YAML 1.2 core schema, as GitHub reads
    /// workflow files: `3.10` is the number 3.1); `quoted` scalars are strings.
    pub fn from_scalar(text: &str, quoted: bool) -> Value {
        if quoted {
            return Value::string(text);
        }
        match text {
            "" | "~" | "null" | "Null" | "NULL" => Value::Null,
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            _ => parse_number(text).map_or_else(|| Value::string(text), Value::Number),
        }
    }

    /// The string the runner substitutes for `${{ … }}`: `null` is empty, numbers are
    /// written as JavaScript writes them. `None` when unknown (or an array or object).
    pub fn to_text(&self) -> Option<String> {
        match self {
            Value::Null => Some(String::new()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(format_number(*n)),
            Value::String(s) | Value::Partial(s) => Some(s.clone()),
            Value::Array(_) | Value::Object { .. } | Value::Unknown => None,
        }
    }

    /// Truthiness: `false`, `0`, `-0`, `NaN`, `''` and `null` are falsy; `None`: unknown.
    pub fn truthy(&self) -> Option<bool> {
        match self {
            Value::Null => Some(false),
            Value::Bool(b) => Some(*b),
            Value::Number(n) => Some(*n != 0.0 && !n.is_nan()),
            Value::String(s) => Some(!s.is_empty()),
            Value::Array(_) | Value::Object { .. } => Some(true),
            Value::Partial(_) | Value::Unknown => None,
        }
    }

    /// `self.name`.
    pub fn field(&self, name: &str) -> Value {
        match self {
            Value::Object { fields, open } => {
                let found = fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone());
                match (found, open) {
                    (Some(v), _) => v,
                    (None, true) => Value::Unknown,
                    (None, false) => Value::Null,
                }
            }
            Value::Unknown => Value::Unknown,
            _ => Value::Null,
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Value::Null => Some(0.0),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Value::Number(n) => Some(*n),
            Value::String(s) => Some(if s.trim().is_empty() {
                0.0
            } else {
                parse_number(s.trim()).unwrap_or(f64::NAN)
            }),
            Value::Array(_) | Value::Object { .. } => Some(f64::NAN),
            Value::Partial(_) | Value::Unknown => None,
        }
    }
}

/// A YAML 1.2 core-schema number (decimal, `0x`, `0o`, `.inf`, `.nan`).
pub(super) fn parse_number(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    let value = if let Some(hex) = body.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()? as f64
    } else if let Some(oct) = body.strip_prefix("0o") {
        u64::from_str_radix(oct, 8).ok()? as f64
    } else if matches!(body, ".inf" | ".Inf" | ".INF") {
        f64::INFINITY
    } else if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    } else {
        let digits = body.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        let mantissa = &body[..body.len() - digits.len()];
        let exponent_ok = digits.is_empty()
            || digits
                .strip_prefix(['e', 'E'])
                .map(|e| e.strip_prefix(['-', '+']).unwrap_or(e))
                .is_some_and(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()));
        let dots = mantissa.matches('.').count();
        if mantissa.is_empty() || mantissa == "." || dots > 1 || !exponent_ok {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if negative { -value } else { value })
}

/// JavaScript's `Number.prototype.toString` for the values workflows hold.
fn format_number(n: f64) -> String {
    if n.is_nan() {
        "NaN".to_owned()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if n == 0.0 {
        "0".to_owned()
    } else {
        format!("{n}")
    }
}

/// Evaluates one expression (the text between `${{` and `}}`, or an `if:`).
pub fn evaluate(expression: &str, context: &Value) -> Value {
    let tokens = match tokenize(expression) {
        Some(tokens) => tokens,
        None => return Value::Unknown,
    };
    let mut parser = Parser {
        tokens: &tokens,
        at: 0,
        context,
        depth: 0,
    };
    let value = parser.or();
    if parser.at == tokens.len() {
        value
    } else {
        Value::Unknown
    }
}

/// Substitutes every `${{ … }}` of `text`: known values as their text, unknown ones kept
/// as written (unknown pieces of the result).
pub fn substitute(text: &str, context: &Value) -> Text {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&super::text::clean(&rest[..start]));
        let body = &rest[start + 3..];
        let Some(end) = closing(body) else {
            out.push_str(&Text::marked(&rest[start..]));
            return Text::from_marked(out);
        };
        let written = &rest[start..start + 3 + end + 2];
        // Values come from the context, built from cleaned text: markers in them are
        // unknown pieces and stay so.
        match evaluate(&body[..end], context).to_text() {
            Some(value) => out.push_str(&value),
            None => out.push_str(&Text::marked(written)),
        }
        rest = &body[end + 2..];
    }
    out.push_str(&super::text::clean(rest));
    Text::from_marked(out)
}

/// An `if:` condition: a bare expression, or one wrapped in `${{ }}` (then the whole
/// value must be that one expression). `None`: unknown.
pub fn condition(text: &str, context: &Value) -> Option<bool> {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix("${{")
        .and_then(|t| t.strip_suffix("}}"))
        .filter(|t| !t.contains("${{"));
    match inner {
        Some(inner) => evaluate(inner, context).truthy(),
        None if trimmed.contains("${{") => {
            substitute(trimmed, context).value().map(|v| !v.is_empty())
        }
        None => evaluate(trimmed, context).truthy(),
    }
}

/// Where the `}}` closing an expression is, skipping string literals.
fn closing(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut in_string = false;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'\'' => in_string = !in_string,
            b'}' if !in_string && bytes.get(at + 1) == Some(&b'}') => return Some(at),
            _ => {}
        }
        at += 1;
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
