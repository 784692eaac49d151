//! extract stage: docker compose variable interpolation of a single YAML string value.
//! Pure: variables come from the caller's lookup function, never from the process
//! environment or a `.env` file.
//!
//! The forms are those of the compose specification: `$$` (a literal `$`), `$NAME`,
//! `${NAME}`, and `${NAME<op>word}` with `op` one of `:-` `-` (default when unset or empty /
//! unset), `:?` `?` (error when unset or empty / unset), `:+` `+` (`word` when set and non-empty
//! / set, else empty). `word` may itself contain interpolations. Any other `$` is an invalid
//! template, as compose says. A default or alternative is only expanded when it is used, so a
//! missing variable in an unused branch does not matter.

/// Nesting of `${...}` inside defaults; compose files never need more than a few levels.
const MAX_DEPTH: usize = 32;

/// Why a value could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// A variable has no value and the form gives no default.
    #[error("variable {name} is not set")]
    Unresolved { name: String },
    /// The text is not a valid template (compose rejects the file).
    #[error("invalid interpolation format in {text:?}: {reason}")]
    Invalid { text: String, reason: &'static str },
}

/// Expands `text` with `vars` (`None` means the variable is not set).
pub fn interpolate(
    text: &str,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolationError> {
    expand(text, vars, 0).map_err(|error| match error {
        InterpolationError::Invalid { reason, .. } => InterpolationError::Invalid {
            text: text.to_owned(),
            reason,
        },
        unresolved => unresolved,
    })
}

fn invalid(reason: &'static str) -> InterpolationError {
    InterpolationError::Invalid {
        text: String::new(),
        reason,
    }
}

fn expand(
    text: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, InterpolationError> {
    if depth > MAX_DEPTH {
        return Err(invalid("interpolations nested too deeply"));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let close = closing_brace(body).ok_or_else(|| invalid("missing closing brace"))?;
            out.push_str(&braced(&body[..close], vars, depth)?);
            rest = &body[close + 1..];
        } else {
            let len = name_len(after);
            if len == 0 {
                return Err(invalid("'$' must be followed by a name, '{' or '$'"));
            }
            let name = &after[..len];
            out.push_str(&vars(name).ok_or_else(|| unresolved(name))?);
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn unresolved(name: &str) -> InterpolationError {
    InterpolationError::Unresolved {
        name: name.to_owned(),
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

/// Expands the inside of `${...}`.
fn braced(
    body: &str,
    vars: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, InterpolationError> {
    let len = name_len(body);
    if len == 0 {
        return Err(invalid("'${' must be followed by a variable name"));
    }
    let (name, rest) = body.split_at(len);
    let value = vars(name);
    if rest.is_empty() {
        return value.ok_or_else(|| unresolved(name));
    }
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
        Some('-') => expand(word, vars, depth + 1),
        Some('?') if set => Ok(value.unwrap_or_default()),
        Some('?') => Err(unresolved(name)),
        Some('+') if set => expand(word, vars, depth + 1),
        Some('+') => Ok(String::new()),
        _ => Err(invalid("unknown operator after variable name")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "TAG" => Some("1.2".to_owned()),
            "EMPTY" => Some(String::new()),
            "REG" => Some("ghcr.io/org".to_owned()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String, InterpolationError> {
        interpolate(text, &vars)
    }

    #[test]
    fn expands_every_form_like_compose() {
        let cases = [
            ("nginx:1.2", "nginx:1.2"),
            ("nginx:$TAG", "nginx:1.2"),
            ("nginx:${TAG}", "nginx:1.2"),
            ("${REG}/app:${TAG}", "ghcr.io/org/app:1.2"),
            ("nginx:${UNSET:-latest}", "nginx:latest"),
            ("nginx:${EMPTY:-latest}", "nginx:latest"),
            ("nginx:${EMPTY-latest}", "nginx:"),
            ("nginx:${UNSET-latest}", "nginx:latest"),
            ("nginx:${TAG:-latest}", "nginx:1.2"),
            ("nginx:${TAG:?need a tag}", "nginx:1.2"),
            ("nginx:${EMPTY?x}", "nginx:"),
            ("app${TAG:+:v$TAG}", "app:v1.2"),
            ("app${EMPTY:+:x}", "app"),
            ("app${EMPTY+:x}", "app:x"),
            ("app${UNSET+:x}", "app"),
            (
                "${UNSET:-${REG}/app}:${UNSET:-${TAG}}",
                "ghcr.io/org/app:1.2",
            ),
            ("a$$b", "a$b"),
            ("a$${UNSET}", "a${UNSET}"),
            ("${TAG:-$$}", "1.2"),
            ("${UNSET:-}", ""),
            ("${TAG:-${UNSET}}", "1.2"),
        ];
        for (input, want) in cases {
            assert_eq!(run(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn missing_values_name_the_variable() {
        for (input, name) in [
            ("nginx:$UNSET", "UNSET"),
            ("nginx:${UNSET}", "UNSET"),
            ("nginx:${UNSET:?set it}", "UNSET"),
            ("nginx:${EMPTY:?set it}", "EMPTY"),
            ("nginx:${UNSET?set it}", "UNSET"),
            ("${UNSET:-${OTHER}}", "OTHER"),
        ] {
            assert_eq!(
                run(input),
                Err(InterpolationError::Unresolved {
                    name: name.to_owned()
                }),
                "{input}"
            );
        }
    }

    #[test]
    fn malformed_templates_are_invalid() {
        for input in ["a$", "a$1", "${}", "${TAG", "${TAG!x}", "${1A}", "$-x"] {
            assert!(
                matches!(run(input), Err(InterpolationError::Invalid { .. })),
                "{input}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "${A:-".repeat(10_000) + &"}".repeat(10_000);
        assert!(matches!(
            run(&deep),
            Err(InterpolationError::Invalid { .. })
        ));
    }
}
