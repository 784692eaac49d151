//! act stage, pure part: text edits as byte splices, and the text a pin inserts. Given a
//! file's text and edits at byte spans it returns the new text; every byte outside the
//! spans is kept as it was (line endings, a byte-order mark, comments, spacing). It never
//! reads or writes a file: the binary's `apply` does that.

use std::ops::Range;

use crate::reference::{Digest, Reference};

/// Replace the bytes at `span` with `text`. An empty span is an insertion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edit {
    /// `[start, end)` byte range of the original text.
    pub span: Range<usize>,
    /// What goes there instead.
    pub text: String,
}

impl Edit {
    /// Insert `text` at byte `at`.
    pub fn insert(at: usize, text: impl Into<String>) -> Edit {
        Edit {
            span: at..at,
            text: text.into(),
        }
    }
}

/// Why a set of edits cannot be applied. Nothing is applied when any edit is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RewriteError {
    /// The span runs backwards or past the end of the text.
    #[error("edit at {start}..{end} is outside the text ({len} bytes)")]
    OutOfRange {
        start: usize,
        end: usize,
        len: usize,
    },
    /// A span boundary falls inside a multi-byte character.
    #[error("edit at {start}..{end} splits a UTF-8 character")]
    NotCharBoundary { start: usize, end: usize },
    /// Two different edits touch the same bytes (or insert at the same place), so the
    /// result would depend on their order.
    #[error("edits at {first:?} and {second:?} overlap")]
    Overlap {
        first: Range<usize>,
        second: Range<usize>,
    },
}

/// Applies `edits` to `text`. Identical edits (same span and text) count once, which is
/// how several references sharing one span are pinned by a single insertion.
pub fn apply(text: &str, edits: &[Edit]) -> Result<String, RewriteError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by(|a, b| {
        (a.span.start, a.span.end, &a.text).cmp(&(b.span.start, b.span.end, &b.text))
    });
    sorted.dedup();
    for edit in &sorted {
        check(text, &edit.span)?;
    }
    for pair in sorted.windows(2) {
        let (a, b) = (&pair[0].span, &pair[1].span);
        // Two insertions at one place, or a span starting before the previous one ended.
        if b.start < a.end || (a == b) || (a.start == b.start && (a.is_empty() || b.is_empty())) {
            return Err(RewriteError::Overlap {
                first: a.clone(),
                second: b.clone(),
            });
        }
    }
    let added: usize = sorted.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(text.len() + added);
    let mut at = 0;
    for edit in sorted {
        out.push_str(&text[at..edit.span.start]);
        out.push_str(&edit.text);
        at = edit.span.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Checks that `span` lies inside `text` on character boundaries.
pub fn check(text: &str, span: &Range<usize>) -> Result<(), RewriteError> {
    let (start, end) = (span.start, span.end);
    if start > end || end > text.len() {
        return Err(RewriteError::OutOfRange {
            start,
            end,
            len: text.len(),
        });
    }
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return Err(RewriteError::NotCharBoundary { start, end });
    }
    Ok(())
}

/// What a pin inserts after the written text of `reference`: `@<digest>`, preceded by
/// `:latest` when no tag was written, so the tag the digest belongs to stays visible
/// (`python` becomes `python:latest@sha256:…`).
pub fn pin_suffix(reference: &Reference, digest: &Digest) -> String {
    let tag = if reference.tag().is_none() {
        ":latest"
    } else {
        ""
    };
    format!("{tag}@{digest}")
}

/// The pinned form of text written as `written`: `written` followed by [`pin_suffix`].
/// The name is kept exactly as written (`python:3.12` never becomes
/// `docker.io/library/python:3.12`).
pub fn pinned_text(written: &str, reference: &Reference, digest: &Digest) -> String {
    let mut out = String::with_capacity(written.len() + 80);
    out.push_str(written);
    out.push_str(&pin_suffix(reference, digest));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
