//! extract stage: docker compose variable interpolation of a single string. Pure: variables
//! come from the caller's lookup function, never from the process environment or a file.
//!
//! The rules are compose-go's `template` package (`template/template.go`): `$$` is a literal
//! `$`; `$NAME` and `${NAME}` expand a variable (`NAME` is `[_a-zA-Z][_a-zA-Z0-9]*`);
//! `${NAME<op>word}` with `op` one of `:-` `-` (default when unset or empty / unset), `:?` `?`
//! (error when unset or empty / unset), `:+` `+` (`word` when set and non-empty / set, else
//! empty), where `word` may itself hold interpolations and is only expanded when used. A `$`
//! followed by anything else (`$1`, `a $ b`, a trailing `$`) is left as written, as compose
//! does; only a `${` that does not close into a valid form is an invalid template.
//!
//! Compose itself expands an unset variable to the empty string (with a warning). Strata
//! cannot know the environment a file will be deployed with, so in a compose file an unset
//! variable without a default is reported ([`InterpolationError::Unresolved`]); inside a
//! `.env` file, where compose's own blank is what every later reader sees, [`Unset::Empty`]
//! follows compose exactly.

/// Nesting of `${...}` inside defaults; compose files never need more than a few levels.
const MAX_DEPTH: usize = 32;

/// Longest expansion produced: a `.env` file whose lines each repeat the previous variable
/// would otherwise double its size per line.
const MAX_LEN: usize = 1 << 20;

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// A variable has no value and the form gives no default.
    #[error("variable {name} is not set")]
    Unresolved { name: String },
    /// `${NAME:?message}` (or `?`) with `NAME` unset, where unset variables count as empty.
    #[error("required variable {name} is missing a value{}", colon(message))]
    Required { name: String, message: String },
    /// The text is not a valid template (compose rejects the file).
    #[error("invalid interpolation format in {text:?}: {reason}")]
    Invalid { text: String, reason: &'static str },
}

fn colon(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// What an unset variable without a default becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unset {
    /// An [`InterpolationError::Unresolved`] naming it (compose files).
    Report,
    /// The empty string, as compose does (`.env` files).
    Empty,
}

/// Expands `text` with `vars` (`None` means the variable is not set) the way docker compose
/// interpolates a value of a compose file, except that an unset variable without a default is
/// an [`InterpolationError::Unresolved`] instead of compose's empty string.
pub fn interpolate(
    text: &str,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    interpolate_with(text, vars, Unset::Report)
}

/// [`interpolate`] with a choice of what unset variables become.
pub(crate) fn interpolate_with(
    text: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    unset: Unset,
) -> Result<String, InterpolationError> {
    let expander = Expander { vars, unset };
    expander.expand(text, 0).map_err(|error| match error {
        InterpolationError::Invalid { reason, .. } => InterpolationError::Invalid {
            text: text.to_owned(),
            reason,
        },
        other => other,
    })
}

fn invalid(reason: &'static str) -> InterpolationError {
    InterpolationError::Invalid {
        text: String::new(),
        reason,
    }
}

struct Expander<'a> {
    vars: &'a dyn Fn(&str) -> Option<String>,
    unset: Unset,
}

impl Expander<'_> {
    fn expand(&self, text: &str, depth: usize) -> Result<String, InterpolationError> {
        if depth > MAX_DEPTH {
            return Err(invalid("interpolations nested too deeply"));
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            if out.len() > MAX_LEN {
                return Err(invalid("value longer than 1 MiB after interpolation"));
            }
            out.push_str(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
            } else if let Some(body) = after.strip_prefix('{') {
                let close = closing_brace(body).ok_or_else(|| invalid("missing closing brace"))?;
                out.push_str(&self.braced(&body[..close], depth)?);
                rest = &body[close + 1..];
            } else {
                let len = name_len(after);
                if len == 0 {
                    // compose-go's pattern does not match: the `$` stays as written.
                    out.push('$');
                    rest = after;
                    continue;
                }
                let name = &after[..len];
                out.push_str(&self.value(name)?);
                rest = &after[len..];
            }
        }
        out.push_str(rest);
        if out.len() > MAX_LEN {
            return Err(invalid("value longer than 1 MiB after interpolation"));
        }
        Ok(out)
    }

    /// A variable's value, or what an unset one becomes.
    fn value(&self, name: &str) -> Result<String, InterpolationError> {
        match ((self.vars)(name), self.unset) {
            (Some(value), _) => Ok(value),
            (None, Unset::Empty) => Ok(String::new()),
            (None, Unset::Report) => Err(InterpolationError::Unresolved {
                name: name.to_owned(),
            }),
        }
    }

    /// Expands the inside of `${...}`.
    fn braced(&self, body: &str, depth: usize) -> Result<String, InterpolationError> {
        let len = name_len(body);
        if len == 0 {
            return Err(invalid("'${' must be followed by a variable name"));
        }
        let (name, rest) = body.split_at(len);
        if rest.is_empty() {
            return self.value(name);
        }
        let value = (self.vars)(name);
        let (colon, rest) = match rest.strip_prefix(':') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let mut chars = rest.chars();
        let op = chars.next();
        let word = chars.as_str();
        // With `:`, an empty value counts as unset.
        let set = value.as_deref().is_some_and(|v| !colon || !v.is_empty());
        match op {
            Some('-') if set => Ok(value.unwrap_or_default()),
            Some('-') => self.expand(word, depth + 1),
            Some('?') if set => Ok(value.unwrap_or_default()),
            Some('?') => match self.unset {
                Unset::Report => Err(InterpolationError::Unresolved {
                    name: name.to_owned(),
                }),
                Unset::Empty => Err(InterpolationError::Required {
                    name: name.to_owned(),
                    message: self.expand(word, depth + 1)?,
                }),
            },
            Some('+') if set => self.expand(word, depth + 1),
            // `${NAME:+x}` with NAME unset or empty is NAME's own (empty) value.
            Some('+') => Ok(value.unwrap_or_default()),
            _ => Err(invalid("unknown operator after variable name")),
        }
    }
}

/// Index in `body` (the text after `${`) of the `}` that closes it, skipping nested `${...}`.
fn closing_brace(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut open = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                open += 1;
                i += 1;
            }
            // `$$` is an escaped dollar, never the start of a nested interpolation.
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 1,
            b'}' => {
                open -= 1;
                if open == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Length of the variable name at the start of `text`: `[_a-zA-Z][_a-zA-Z0-9]*`.
fn name_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => bytes
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
