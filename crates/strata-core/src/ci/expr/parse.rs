//! ci stage: evaluating a GitHub Actions expression's tokens — precedence (`!`, then
//! comparisons, `&&`, `||`), property access, calls — with unknown values carried
//! through. Pure; nesting is bounded by [`MAX_DEPTH`].

use super::Value;
use super::lex::Token;

/// Deepest nesting of parentheses and calls an expression may have.
const MAX_DEPTH: usize = 32;

pub(super) struct Parser<'a> {
    pub(super) tokens: &'a [Token],
    pub(super) at: usize,
    pub(super) context: &'a Value,
    pub(super) depth: usize,
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

    pub(super) fn or(&mut self) -> Value {
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
