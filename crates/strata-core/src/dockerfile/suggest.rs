//! extract stage, Dockerfile messages: BuildKit's "did you mean …?" hints
//! (`util/suggest`): the closest of a few known names within an edit distance of two.
//! Pure string work on short names; never called on a hot path.

/// The option closest to `value` (Levenshtein distance below 3, as BuildKit's
/// `suggest.Search` takes from HCL), or `None` when nothing is close or `value` is one of
/// the options (then the mistake was elsewhere). Without `case_sensitive`, names are
/// compared in lower case and the answer takes the case of `value` when that is all
/// lower or all upper case (`frm` → `from`, `FRM` → `FROM`).
pub(crate) fn closest(value: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let fold = |s: &str| {
        if case_sensitive {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    let wanted = fold(value);
    let mut best: Option<(usize, String)> = None;
    for option in options {
        let candidate = fold(option);
        if candidate == wanted {
            return None;
        }
        let distance = levenshtein(&wanted, &candidate);
        if distance < 3 && best.as_ref().is_none_or(|(d, _)| distance < *d) {
            best = Some((distance, candidate));
        }
    }
    let (_, found) = best?;
    Some(if case_sensitive {
        found
    } else {
        match_case(&found, value)
    })
}

/// `message (did you mean NAME?)` when a name is close, else `message`.
pub(crate) fn with_hint(
    message: String,
    value: &str,
    options: &[&str],
    case_sensitive: bool,
) -> String {
    match closest(value, options, case_sensitive) {
        Some(name) => format!("{message} (did you mean {name}?)"),
        None => message,
    }
}

fn match_case(found: &str, original: &str) -> String {
    if original == original.to_lowercase() {
        found.to_lowercase()
    } else if original == original.to_uppercase() {
        found.to_uppercase()
    } else {
        found.to_owned()
    }
}

/// Edit distance over characters (insert, delete, substitute: 1 each).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let cost = usize::from(ca != *cb);
            row[j + 1] = (above + 1).min(row[j] + 1).min(diagonal + cost);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_name_like_buildkit_suggest_search() {
        // util/suggest/error.go: distance < 3, exact match means "no suggestion",
        // case folded unless asked, answer in the case of the input.
        let instructions = ["FROM", "RUN", "COPY", "ARG"];
        let cases: [(&str, &[&str], bool, Option<&str>); 7] = [
            ("FRM", &instructions, false, Some("FROM")),
            ("frm", &instructions, false, Some("from")),
            ("Frm", &instructions, false, Some("from")),
            ("from", &instructions, false, None),
            ("WORKDIR", &instructions, false, None),
            ("fro", &["from", "chown", "chmod"], true, Some("from")),
            ("platfrom", &["platform"], true, Some("platform")),
        ];
        for (value, options, sensitive, want) in cases {
            assert_eq!(
                closest(value, options, sensitive).as_deref(),
                want,
                "{value}"
            );
        }
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
    }
}
