//! graph stage, Dockerfile side: the images a Dockerfile says it produces
//! (`# strata: produces <image> [target=<stage>]`). What a Dockerfile builds on is the
//! core's [`strata_core::graph::bases`]. Pure text work; no registry, no files.

use strata_core::graph::ImageRef;

pub use strata_core::graph::{BaseUse, bases};

/// The comment marker naming a Dockerfile's output image.
pub const PRODUCES_MARKER: &str = "strata:";

/// `# strata: produces <image> [target=<stage>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub image: ImageRef,
    pub target: Option<String>,
    pub line: usize,
}

/// Every `# strata: produces <image> [target=<stage>]` comment line. Malformed ones are
/// returned as messages (line, text) for warnings.
pub fn statements(text: &str) -> (Vec<Statement>, Vec<(usize, String)>) {
    let mut found = Vec::new();
    let mut bad = Vec::new();
    for (at, line) in text.lines().enumerate() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = comment.trim_start().strip_prefix(PRODUCES_MARKER) else {
            continue;
        };
        let mut words = rest.split_whitespace();
        if words.next() != Some("produces") {
            continue;
        }
        let (Some(name), extra) = (words.next(), words.next()) else {
            bad.push((at + 1, "`# strata: produces` names no image".to_owned()));
            continue;
        };
        let target = match extra.map(|w| w.strip_prefix("target=")) {
            None => None,
            Some(Some(stage)) if !stage.is_empty() => Some(stage.to_ascii_lowercase()),
            Some(_) => {
                bad.push((at + 1, format!("unexpected words after {name}")));
                continue;
            }
        };
        match ImageRef::parse(name) {
            Ok(image) => found.push(Statement {
                image,
                target,
                line: at + 1,
            }),
            Err(e) => bad.push((at + 1, e.to_string())),
        }
    }
    (found, bad)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn produces_statements() {
        let text = "\
# strata: produces registry.example.com/org/app:1
#strata: produces org/app-debug:1 target=Debug
# strata: produces
# strata: produces Not/Valid
# strata: something else
RUN echo '# strata: produces ignored:1'
FROM x
";
        let (found, bad) = statements(text);
        let names: Vec<(String, Option<String>, usize)> = found
            .iter()
            .map(|s| (s.image.familiar(), s.target.clone(), s.line))
            .collect();
        assert_eq!(
            names,
            [
                ("registry.example.com/org/app:1".to_owned(), None, 1),
                ("org/app-debug:1".to_owned(), Some("debug".to_owned()), 2),
            ]
        );
        assert_eq!(bad.iter().map(|b| b.0).collect::<Vec<_>>(), [3, 4]);
    }
}
