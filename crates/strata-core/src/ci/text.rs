//! ci stage: text read from a CI file in which some pieces could not be worked out (a
//! `${{ github.sha }}`, a `$CI_COMMIT_SHA`, a `$(cat version)`). Pure string work.
//!
//! An unknown piece is kept as it was written, between two private-use marker characters,
//! so a value can go through substitution, shell word splitting and concatenation as a
//! plain `String` and still say afterwards which parts are known. Input text never holds
//! the markers: [`clean`] replaces them before anything is read.

use std::fmt;

/// Opens an unknown piece.
pub(super) const OPEN: char = '\u{E000}';
/// Closes an unknown piece.
pub(super) const CLOSE: char = '\u{E001}';

/// `text` with the marker characters replaced, so no input can forge an unknown piece.
pub fn clean(text: &str) -> String {
    text.replace([OPEN, CLOSE], "\u{FFFD}")
}

/// A value with known text and unknown pieces (kept as written).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Text(String);

/// One run of a [`Text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Known(&'a str),
    /// As written in the file, e.g. `${{ github.sha }}`.
    Unknown(&'a str),
}

impl Text {
    /// Known text.
    pub fn known(text: &str) -> Text {
        Text(clean(text))
    }

    /// One unknown piece, shown as `written`.
    pub fn unknown(written: &str) -> Text {
        Text(Self::marked(written))
    }

    /// `written` wrapped in markers, for building marked strings by hand.
    pub fn marked(written: &str) -> String {
        let mut out = String::with_capacity(written.len() + 6);
        out.push(OPEN);
        out.push_str(&clean(written));
        out.push(CLOSE);
        out
    }

    /// A marked string (as built from [`Text::marked`] pieces and known text).
    pub fn from_marked(marked: String) -> Text {
        Text(marked)
    }

    /// The marked string, for further concatenation.
    pub fn as_marked(&self) -> &str {
        &self.0
    }

    /// Appends another value.
    pub fn push(&mut self, other: &Text) {
        self.0.push_str(&other.0);
    }

    /// Appends known text.
    pub fn push_str(&mut self, known: &str) {
        self.0.push_str(&clean(known));
    }

    /// Whether every piece is known.
    pub fn is_known(&self) -> bool {
        !self.0.contains(OPEN)
    }

    /// The whole value when every piece is known.
    pub fn value(&self) -> Option<&str> {
        self.is_known().then_some(self.0.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The runs of known and unknown text, in order.
    pub fn pieces(&self) -> Vec<Piece<'_>> {
        let mut out = Vec::new();
        let mut rest = self.0.as_str();
        while !rest.is_empty() {
            match rest.find(OPEN) {
                Some(0) => {
                    let body = &rest[OPEN.len_utf8()..];
                    let end = body.find(CLOSE).unwrap_or(body.len());
                    out.push(Piece::Unknown(&body[..end]));
                    rest = body.get(end + CLOSE.len_utf8()..).unwrap_or("");
                }
                Some(at) => {
                    out.push(Piece::Known(&rest[..at]));
                    rest = &rest[at..];
                }
                None => {
                    out.push(Piece::Known(rest));
                    rest = "";
                }
            }
        }
        out
    }

    /// The unknown pieces, as written.
    pub fn unknowns(&self) -> Vec<&str> {
        self.pieces()
            .into_iter()
            .filter_map(|p| match p {
                Piece::Unknown(u) => Some(u),
                Piece::Known(_) => None,
            })
            .collect()
    }

    /// Whether `candidate` is a value this text can take: its known runs in order, each
    /// unknown piece standing for one or more characters of `allowed`.
    pub fn matches(&self, candidate: &str, allowed: fn(char) -> bool) -> bool {
        let pieces = self.pieces();
        matches_from(&pieces, candidate, allowed)
    }

    /// Splits at the first occurrence of `separator` in a known run.
    pub fn split_once(&self, separator: char) -> Option<(Text, Text)> {
        let mut depth = 0usize;
        for (at, c) in self.0.char_indices() {
            match c {
                OPEN => depth += 1,
                CLOSE => depth = depth.saturating_sub(1),
                c if c == separator && depth == 0 => {
                    return Some((
                        Text(self.0[..at].to_owned()),
                        Text(self.0[at + c.len_utf8()..].to_owned()),
                    ));
                }
                _ => {}
            }
        }
        None
    }

    /// Splits at the last occurrence of `separator` in a known run.
    pub fn rsplit_once(&self, separator: char) -> Option<(Text, Text)> {
        let mut depth = 0usize;
        let mut last = None;
        for (at, c) in self.0.char_indices() {
            match c {
                OPEN => depth += 1,
                CLOSE => depth = depth.saturating_sub(1),
                c if c == separator && depth == 0 => last = Some(at),
                _ => {}
            }
        }
        last.map(|at| {
            (
                Text(self.0[..at].to_owned()),
                Text(self.0[at + separator.len_utf8()..].to_owned()),
            )
        })
    }

    /// The value with unknown pieces shown as written.
    pub fn display(&self) -> String {
        self.0.replace([OPEN, CLOSE], "")
    }
}

/// Matching with backtracking over at most as many unknown pieces as the text has; real
/// values have one or two.
fn matches_from(pieces: &[Piece<'_>], candidate: &str, allowed: fn(char) -> bool) -> bool {
    match pieces.split_first() {
        None => candidate.is_empty(),
        Some((Piece::Known(known), rest)) => candidate
            .strip_prefix(known)
            .is_some_and(|tail| matches_from(rest, tail, allowed)),
        Some((Piece::Unknown(_), rest)) => {
            let mut end = 0;
            for (at, c) in candidate.char_indices() {
                if !allowed(c) {
                    break;
                }
                end = at + c.len_utf8();
                if matches_from(rest, &candidate[end..], allowed) {
                    return true;
                }
            }
            let _ = end;
            false
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: String = self
            .pieces()
            .iter()
            .map(|p| match p {
                Piece::Known(k) => (*k).to_owned(),
                Piece::Unknown(u) => format!("⟨{u}⟩"),
            })
            .collect();
        write!(f, "Text({shown:?})")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tag_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
    }

    #[test]
    fn known_and_unknown_pieces_survive_concatenation() {
        let mut text = Text::known("ghcr.io/org/app:");
        text.push(&Text::unknown("${{ github.sha }}"));
        assert!(!text.is_known());
        assert_eq!(text.display(), "ghcr.io/org/app:${{ github.sha }}");
        assert_eq!(text.unknowns(), ["${{ github.sha }}"]);
        let (name, tag) = text.rsplit_once(':').unwrap();
        assert_eq!(name.value(), Some("ghcr.io/org/app"));
        assert!(!tag.is_known());
        // A separator inside an unknown piece is not a split point.
        let odd = Text::unknown("a:b");
        assert!(odd.split_once(':').is_none());
    }

    #[test]
    fn markers_in_the_input_cannot_forge_unknowns() {
        let text = Text::known("a\u{E000}b\u{E001}c");
        assert!(text.is_known());
    }

    #[test]
    fn a_pattern_matches_values_its_unknowns_can_take() {
        let mut text = Text::known("master-");
        text.push(&Text::unknown("{{sha}}"));
        assert!(text.matches("master-abc1234", tag_char));
        assert!(!text.matches("master-", tag_char));
        assert!(!text.matches("main-abc", tag_char));
        assert!(Text::known("3.11").matches("3.11", tag_char));
        let mut two = Text::unknown("$A");
        two.push_str("-");
        two.push(&Text::unknown("$B"));
        assert!(two.matches("x-y-z", tag_char));
        assert!(!two.matches("xyz", tag_char));
    }
}
