//! decide stage, for `pin`: given one file's occurrences and the digest each tag
//! resolved to, decides which bytes to write and which references to leave alone and
//! why. Pure: lookups arrive as values from the caller; nothing here touches a registry
//! or a file.
//!
//! A pin is an insertion at the end of an occurrence's span (`[:latest]@<digest>`).
//! Several occurrences may end at the same byte (one `ARG` default used by several
//! `FROM`s, one YAML anchor used by several services): they are pinned by one insertion
//! when they all want the same one, and all skipped as `conflicting-pins` otherwise.

use crate::decision::{self, Decide};
use crate::occurrence::{Occurrence, SkipReason};
use crate::reference::Digest;
use crate::rewrite::{self, Edit};

/// What pinning an occurrence needs before it can be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Its tag must be looked up.
    Lookup,
    /// It already names a tag and a digest: left alone.
    AlreadyPinned,
    /// It is never pinned, for this reason.
    Skip(SkipReason),
}

/// Classifies one occurrence. Images built here are never looked up; blocked ones keep
/// their reason; digest-only references have no tag to follow.
pub fn need(occurrence: &Occurrence) -> Need {
    if let Some(reason) = decision::never_rewritten(occurrence) {
        return Need::Skip(reason);
    }
    let reference = &occurrence.reference;
    match (reference.tag(), reference.digest()) {
        (_, None) => Need::Lookup,
        (Some(_), Some(_)) => Need::AlreadyPinned,
        (None, Some(_)) => Need::Skip(SkipReason::DigestOnly),
    }
}

/// One pin to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The insertion: `[:latest]@<digest>` at the end of the occurrence's span.
    pub edit: Edit,
    /// The span's text before the pin (`python:3.12`, or an `ARG` default such as `3.12`).
    pub before: String,
    /// The same text pinned.
    pub after: String,
    /// The top-level digest written.
    pub digest: Digest,
}

/// What happens to one occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<E> {
    /// Pin it.
    Pin(Pin),
    /// It already names a tag and a digest.
    AlreadyPinned,
    /// Leave it, for this reason.
    Skip(SkipReason),
    /// Its lookup failed with this error.
    Failed(E),
}

/// Decides every occurrence of one file, in order. `lookup` is asked for the digest of
/// each occurrence that needs one (by index) and nothing else.
pub fn decide<E>(
    text: &str,
    occurrences: &[Occurrence],
    lookup: impl FnMut(usize, &Occurrence) -> Result<Digest, E>,
) -> Vec<Decision<E>> {
    decision::decide_file(text, occurrences, lookup)
}

impl<E> Decide for Decision<E> {
    type Error = E;

    fn without_lookup(occurrence: &Occurrence) -> Option<Self> {
        match need(occurrence) {
            Need::Skip(reason) => Some(Decision::Skip(reason)),
            Need::AlreadyPinned => Some(Decision::AlreadyPinned),
            Need::Lookup => None,
        }
    }

    fn with_digest(text: &str, occurrence: &Occurrence, digest: Digest) -> Self {
        pin(text, occurrence, digest)
    }

    fn failed(error: E) -> Self {
        Decision::Failed(error)
    }

    fn edit(&self) -> Option<&Edit> {
        match self {
            Decision::Pin(pin) => Some(&pin.edit),
            _ => None,
        }
    }

    fn conflicting() -> Self {
        Decision::Skip(SkipReason::ConflictingPins)
    }
}

/// The pin for a resolved occurrence, or why its span cannot take one.
fn pin<E>(text: &str, occurrence: &Occurrence, digest: Digest) -> Decision<E> {
    let span = &occurrence.span;
    if let Err(error) = rewrite::check(text, span) {
        return Decision::Skip(SkipReason::Unrewritable {
            reason: error.to_string(),
        });
    }
    if span.is_empty() {
        let reason = "the reference has no bytes in the file to pin".to_owned();
        return Decision::Skip(SkipReason::Unrewritable { reason });
    }
    let before = text[span.clone()].to_owned();
    let suffix = rewrite::pin_suffix(&occurrence.reference, &digest);
    let after = format!("{before}{suffix}");
    Decision::Pin(Pin {
        edit: Edit::insert(span.end, suffix),
        before,
        after,
        digest,
    })
}

/// The edits to write for one file's decisions (shared insertions appear once each per
/// occurrence; [`rewrite::apply`] writes identical ones once).
pub fn edits<E>(decisions: &[Decision<E>]) -> Vec<Edit> {
    decision::edits(decisions)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
