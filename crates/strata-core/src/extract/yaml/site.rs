//! extract stage: turning an image value found in a YAML file into an occurrence or a skip.
//! Pure: parses the reference, computes the position; never edits text.

use super::{Document, NodeId, Written};
use crate::occurrence::{ExtractError, Extraction, Occurrence, Role, Skip, SkipReason, Source};
use crate::reference::{Reference, placeholder};

/// An image value found in a YAML file, before it becomes an occurrence or a skip.
#[derive(Debug)]
pub(crate) struct Site<'a> {
    /// 1-based line of the key that uses the image.
    pub(crate) line: usize,
    /// The value as written (decoded from YAML).
    pub(crate) written: &'a str,
    /// Where `written` is in the text.
    pub(crate) at: Written,
    pub(crate) source: Source,
}

impl Site<'_> {
    /// A skip at this site.
    pub(crate) fn skip(&self, reason: SkipReason) -> Skip {
        Skip {
            line: self.line,
            text: self.written.to_owned(),
            reason,
        }
    }

    /// The occurrence of `expanded` (the written value after any variable expansion), or an
    /// `invalid-reference` skip (`placeholder` when it holds an obvious one). A value whose bytes differ from it (escapes, folding) is an
    /// occurrence blocked as `unrewritable`, spanning the whole token: it names an image that
    /// can be watched, but a pin cannot be spliced into it.
    pub(crate) fn occurrence(
        &self,
        text: &str,
        expanded: &str,
        role: Role,
    ) -> Result<Occurrence, Skip> {
        let reference = Reference::parse_normalized(expanded).map_err(|e| {
            self.skip(match placeholder::find(expanded) {
                Some(text) => SkipReason::Placeholder {
                    text: text.to_owned(),
                },
                None => SkipReason::InvalidReference {
                    reason: e.to_string(),
                },
            })
        })?;
        let (span, blocked) = match &self.at {
            Written::Exact(span) => (span.clone(), None),
            Written::Inexact(token, reason) => (
                token.clone(),
                Some(SkipReason::Unrewritable {
                    reason: (*reason).to_owned(),
                }),
            ),
        };
        Ok(Occurrence {
            line: self.line,
            column: column(text, span.start),
            span,
            source: self.source,
            text: self.written.to_owned(),
            reference,
            stage: None,
            platform: None,
            arg: None,
            role,
            blocked,
        })
    }
}

/// Adds an occurrence or a skip to an extraction.
pub(crate) fn record(out: &mut Extraction, found: Result<Occurrence, Skip>) {
    match found {
        Ok(occurrence) => out.occurrences.push(occurrence),
        Err(skip) => out.skips.push(skip),
    }
}

/// The error reported when a walk gives up on a document built to multiply work.
pub(crate) fn exhausted_error(document: &Document<'_>) -> ExtractError {
    ExtractError {
        line: document.line(NodeId(0)),
        message: "document too complex: too many alias and merge-key expansions; rest of document not read"
            .to_owned(),
    }
}

/// 1-based byte column of `offset` on its line.
pub(crate) fn column(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
    before.len() - line_start + 1
}
