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

use super::text::Text;

/// Deepest nesting of parentheses and calls an expression may have.
const MAX_DEPTH: usize = 32;

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
fn parse_number(text: &str) -> Option<f64> {
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

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Dot,
    Star,
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Comma,
    Not,
    Op(&'static str),
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match (chars.get(i), chars.get(i + 1)) {
                        (Some('\''), Some('\'')) => {
                            s.push('\'');
                            i += 2;
                        }
                        (Some('\''), _) => {
                            i += 1;
                            break;
                        }
                        (Some(ch), _) => {
                            s.push(*ch);
                            i += 1;
                        }
                        (None, _) => return None,
                    }
                }
                out.push(Token::Str(s));
            }
            '.' if next.is_some_and(|n| n.is_ascii_digit())
                && !matches!(
                    out.last(),
                    Some(Token::Ident(_) | Token::CloseBracket | Token::Close)
                ) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token::Num(parse_number(&text)?));
            }
            '.' => {
                out.push(Token::Dot);
                i += 1;
            }
            '*' => {
                out.push(Token::Star);
                i += 1;
            }
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '[' => {
                out.push(Token::OpenBracket);
                i += 1;
            }
            ']' => {
                out.push(Token::CloseBracket);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '!' if next == Some('=') => {
                out.push(Token::Op("!="));
                i += 2;
            }
            '!' => {
                out.push(Token::Not);
                i += 1;
            }
            '=' if next == Some('=') => {
                out.push(Token::Op("=="));
                i += 2;
            }
            '<' | '>' => {
                let op = match (c, next) {
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', _) => "<",
                    _ => ">",
                };
                i += op.len();
                out.push(Token::Op(op));
            }
            '&' if next == Some('&') => {
                out.push(Token::Op("&&"));
                i += 2;
            }
            '|' if next == Some('|') => {
                out.push(Token::Op("||"));
                i += 2;
            }
            c if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric()
                        || chars[i] == '.'
                        || (matches!(chars[i], '-' | '+') && matches!(chars[i - 1], 'e' | 'E')))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                out.push(Token::Num(parse_number(&text)?));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || matches!(chars[i], '_' | '-'))
                {
                    i += 1;
                }
                out.push(Token::Ident(chars[start..i].iter().collect()));
            }
            _ => return None,
        }
    }
    Some(out)
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    context: &'a Value,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Value {
        let mut left = self.and();
        while self.eat(&Token::Op("||")) {
            let right = self.and();
            left = match left.truthy() {
                Some(true) => left,
                Some(false) => right,
                None => Value::Unknown,
            };
        }
        left
    }

    fn and(&mut self) -> Value {
        let mut left = self.comparison();
        while self.eat(&Token::Op("&&")) {
            let right = self.comparison();
            left = match left.truthy() {
                Some(false) => left,
                Some(true) => right,
                None if right.truthy() == Some(false) => Value::Bool(false),
                None => Value::Unknown,
            };
        }
        left
    }

    fn comparison(&mut self) -> Value {
        let mut left = self.unary();
        while let Some(Token::Op(op)) = self.peek().cloned() {
            if matches!(op, "&&" | "||") {
                break;
            }
            self.at += 1;
            let right = self.unary();
            left = compare(op, &left, &right);
        }
        left
    }

    fn unary(&mut self) -> Value {
        if self.eat(&Token::Not) {
            return match self.unary().truthy() {
                Some(b) => Value::Bool(!b),
                None => Value::Unknown,
            };
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Value {
        let mut value = self.primary();
        loop {
            if self.eat(&Token::Dot) {
                match self.peek().cloned() {
                    Some(Token::Ident(name)) => {
                        self.at += 1;
                        value = value.field(&name);
                    }
                    Some(Token::Star) => {
                        self.at += 1;
                        value = Value::Unknown;
                    }
                    _ => return self.fail(),
                }
            } else if self.eat(&Token::OpenBracket) {
                let index = self.or();
                if !self.eat(&Token::CloseBracket) {
                    return self.fail();
                }
                value = match (&value, &index) {
                    (Value::Array(items), Value::Number(n)) if *n >= 0.0 => {
                        items.get(*n as usize).cloned().unwrap_or(Value::Null)
                    }
                    (_, Value::String(name)) => value.field(name),
                    _ => Value::Unknown,
                };
            } else {
                return value;
            }
        }
    }

    fn primary(&mut self) -> Value {
        let Some(token) = self.peek().cloned() else {
            return self.fail();
        };
        self.at += 1;
        match token {
            Token::Str(s) => Value::String(s),
            Token::Num(n) => Value::Number(n),
            Token::Open => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return self.fail();
                }
                let value = self.or();
                self.depth -= 1;
                if self.eat(&Token::Close) {
                    value
                } else {
                    self.fail()
                }
            }
            Token::Ident(name) => match name.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ if self.peek() == Some(&Token::Open) => self.call(&name),
                _ => self.context.field(&name),
            },
            _ => self.fail(),
        }
    }

    fn call(&mut self, name: &str) -> Value {
        self.at += 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.fail();
        }
        let mut args = Vec::new();
        if !self.eat(&Token::Close) {
            loop {
                args.push(self.or());
                if self.eat(&Token::Comma) {
                    continue;
                }
                if self.eat(&Token::Close) {
                    break;
                }
                return self.fail();
            }
        }
        self.depth -= 1;
        function(name, &args)
    }

    /// Gives up on the rest of the expression.
    fn fail(&mut self) -> Value {
        self.at = usize::MAX;
        Value::Unknown
    }
}

fn compare(op: &str, left: &Value, right: &Value) -> Value {
    if matches!(left, Value::Unknown | Value::Partial(_))
        || matches!(right, Value::Unknown | Value::Partial(_))
    {
        return Value::Unknown;
    }
    let ordering = match (left, right) {
        (Value::String(a), Value::String(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        _ => match (left.number(), right.number()) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => return Value::Unknown,
        },
    };
    let same_object = matches!(
        (left, right),
        (
            Value::Array(_) | Value::Object { .. },
            Value::Array(_) | Value::Object { .. }
        )
    );
    Value::Bool(match op {
        "==" if same_object => false,
        "!=" if same_object => true,
        "==" => ordering == Some(std::cmp::Ordering::Equal),
        "!=" => ordering != Some(std::cmp::Ordering::Equal),
        "<" => ordering == Some(std::cmp::Ordering::Less),
        "<=" => matches!(
            ordering,
            Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
        ),
        ">" => ordering == Some(std::cmp::Ordering::Greater),
        ">=" => matches!(
            ordering,
            Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
        ),
        _ => return Value::Unknown,
    })
}

fn function(name: &str, args: &[Value]) -> Value {
    // Deciding on a partly unknown string is unknown; building text from one is partial.
    let text = |i: usize| {
        args.get(i)
            .filter(|v| !matches!(v, Value::Partial(_)))
            .and_then(Value::to_text)
    };
    let partial = args.iter().any(|a| matches!(a, Value::Partial(_)));
    let built = |s: String| {
        if partial {
            Value::Partial(s)
        } else {
            Value::String(s)
        }
    };
    match name.to_ascii_lowercase().as_str() {
        "contains" => match args.first() {
            Some(Value::Array(items)) => match args.get(1) {
                Some(Value::Unknown) | None => Value::Unknown,
                Some(needle) => Value::Bool(
                    items
                        .iter()
                        .any(|i| compare("==", i, needle) == Value::Bool(true)),
                ),
            },
            _ => match (text(0), text(1)) {
                (Some(hay), Some(needle)) => {
                    Value::Bool(hay.to_lowercase().contains(&needle.to_lowercase()))
                }
                _ => Value::Unknown,
            },
        },
        "startswith" => match (text(0), text(1)) {
            (Some(s), Some(p)) => Value::Bool(s.to_lowercase().starts_with(&p.to_lowercase())),
            _ => Value::Unknown,
        },
        "endswith" => match (text(0), text(1)) {
            (Some(s), Some(p)) => Value::Bool(s.to_lowercase().ends_with(&p.to_lowercase())),
            _ => Value::Unknown,
        },
        "format" => {
            let Some(template) = args.first().and_then(Value::to_text) else {
                return Value::Unknown;
            };
            let mut values = Vec::new();
            for arg in args.iter().skip(1) {
                match arg.to_text() {
                    Some(v) => values.push(v),
                    None => return Value::Unknown,
                }
            }
            format_template(&template, &values).map_or(Value::Unknown, built)
        }
        "join" => {
            let separator = if args.len() > 1 {
                match text(1) {
                    Some(s) => s,
                    None => return Value::Unknown,
                }
            } else {
                ",".to_owned()
            };
            match args.first() {
                Some(Value::Array(items)) => {
                    let parts: Option<Vec<String>> = items.iter().map(Value::to_text).collect();
                    parts.map_or(Value::Unknown, |p| built(p.join(&separator)))
                }
                Some(other) => other.to_text().map_or(Value::Unknown, built),
                None => Value::Unknown,
            }
        }
        _ => Value::Unknown,
    }
}

/// `format('{0}-{1}', a, b)`; `{{` and `}}` are literal braces.
fn format_template(template: &str, values: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut index = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    index.push(d);
                }
                out.push_str(values.get(index.parse::<usize>().ok()?)?);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
