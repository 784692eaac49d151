//! reference stage: obvious placeholders in text that should be an image reference, so a
//! message can say "placeholder" instead of "invalid reference format". Pure string work.
//!
//! Placeholders are the forms people write for something filled in before use, none of
//! which the reference grammar allows: `<PROJECT_ID>` (a name in angle brackets), `$IMAGE_URL`
//! and `${IMAGE}` left unexpanded (envsubst, CI scripts, a tool that does not interpolate),
//! and `${{ expression }}` (a CI expression copied where nothing evaluates it). Go templates
//! (`{{ .Values.image }}`) are not placeholders here: they are `templated`.

/// The first obvious placeholder in `text`, as written, or `None`.
pub fn find(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let found = match bytes[i] {
            b'<' => angle(&text[i..]),
            b'$' => dollar(&text[i..]),
            _ => None,
        };
        if let Some(len) = found {
            return text.get(i..i + len);
        }
        i += 1;
    }
    None
}

/// `<name>` with a non-empty name of letters, digits, `_ - . :` or spaces.
fn angle(text: &str) -> Option<usize> {
    let close = text.find('>')?;
    let inner = &text[1..close];
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | ' ');
    (!inner.trim().is_empty() && inner.chars().all(word)).then_some(close + 1)
}

/// `${{ ... }}`, `${NAME...}` or `$NAME`.
fn dollar(text: &str) -> Option<usize> {
    let rest = &text[1..];
    if rest.starts_with("{{") {
        return rest.find("}}").map(|end| end + 3);
    }
    if let Some(body) = rest.strip_prefix('{') {
        let close = body.find('}')?;
        let name = &body[..close];
        return starts_with_name(name).then_some(close + 3);
    }
    let len = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    (starts_with_name(rest) && len > 0).then_some(len + 1)
}

fn starts_with_name(text: &str) -> bool {
    text.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn obvious_placeholders_are_found() {
        let cases = [
            ("gcr.io/<PROJECT_ID>/app:1", Some("<PROJECT_ID>")),
            ("<your-registry>/app", Some("<your-registry>")),
            (
                "<aws_account_id>.dkr.ecr.<region>.amazonaws.com/app:v1",
                Some("<aws_account_id>"),
            ),
            ("<image name>:latest", Some("<image name>")),
            ("$IMAGE_URL", Some("$IMAGE_URL")),
            ("registry/app:$TAG", Some("$TAG")),
            ("${IMAGE}", Some("${IMAGE}")),
            ("app:${TAG:-1}", Some("${TAG:-1}")),
            ("${{ env.IMAGE }}:1", Some("${{ env.IMAGE }}")),
            ("nginx:1.27", None),
            ("Nginx:1.27", None),
            ("a<>b", None),
            ("a < b", None),
            ("cost$1", None),
            ("$", None),
            ("${", None),
            ("{{ .Values.image }}", None),
        ];
        for (text, want) in cases {
            assert_eq!(find(text), want, "{text}");
        }
    }
}
