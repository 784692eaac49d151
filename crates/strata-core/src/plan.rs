//! decide stage, for `pin`: given one file's occurrences and the digest each tag
//! resolved to, decides which bytes to write and which references to leave alone and
//! why. Pure: lookups arrive as values from the caller; nothing here touches a registry
//! or a file.
//!
//! A pin is an insertion at the end of an occurrence's span (`[:latest]@<digest>`).
//! Several occurrences may end at the same byte (one `ARG` default used by several
//! `FROM`s, one YAML anchor used by several services): they are pinned by one insertion
//! when they all want the same one, and all skipped as `conflicting-pins` otherwise.

use std::collections::HashMap;

use crate::occurrence::{Occurrence, Role, SkipReason};
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
    if occurrence.role == Role::Produces {
        return Need::Skip(SkipReason::BuiltHere);
    }
    if let Some(reason) = &occurrence.blocked {
        return Need::Skip(reason.clone());
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
    mut lookup: impl FnMut(usize, &Occurrence) -> Result<Digest, E>,
) -> Vec<Decision<E>> {
    let mut decisions: Vec<Decision<E>> = occurrences
        .iter()
        .enumerate()
        .map(|(i, occurrence)| match need(occurrence) {
            Need::Skip(reason) => Decision::Skip(reason),
            Need::AlreadyPinned => Decision::AlreadyPinned,
            Need::Lookup => match lookup(i, occurrence) {
                Ok(digest) => pin(text, occurrence, digest),
                Err(error) => Decision::Failed(error),
            },
        })
        .collect();
    refuse_conflicts(occurrences, &mut decisions);
    decisions
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

/// Occurrences ending at one byte share an insertion: it is written only when all of
/// them want exactly it. An insertion inside another occurrence's span would change that
/// reference too, so it is refused as well.
fn refuse_conflicts<E>(occurrences: &[Occurrence], decisions: &mut [Decision<E>]) {
    let mut by_end: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, occurrence) in occurrences.iter().enumerate() {
        if !occurrence.span.is_empty() {
            by_end.entry(occurrence.span.end).or_default().push(i);
        }
    }
    let inside = Containment::new(occurrences);
    let mut refused = Vec::new();
    for members in by_end.values() {
        let first = members.first().and_then(|&i| pinned_edit(&decisions[i]));
        let agree = first.is_some() && members.iter().all(|&i| pinned_edit(&decisions[i]) == first);
        let at = members.first().map_or(0, |&i| occurrences[i].span.end);
        if !agree || inside.strictly_contains(at) {
            refused.extend(members.iter().copied());
        }
    }
    for i in refused {
        if matches!(decisions[i], Decision::Pin(_)) {
            decisions[i] = Decision::Skip(SkipReason::ConflictingPins);
        }
    }
}

fn pinned_edit<E>(decision: &Decision<E>) -> Option<&Edit> {
    match decision {
        Decision::Pin(pin) => Some(&pin.edit),
        _ => None,
    }
}

/// Answers "does any span hold this byte offset strictly inside it?" in O(log n).
struct Containment {
    /// Span starts, sorted.
    starts: Vec<usize>,
    /// For each prefix of `starts`, the largest end among those spans.
    max_end: Vec<usize>,
}

impl Containment {
    fn new(occurrences: &[Occurrence]) -> Containment {
        let mut spans: Vec<(usize, usize)> = occurrences
            .iter()
            .filter(|o| !o.span.is_empty())
            .map(|o| (o.span.start, o.span.end))
            .collect();
        spans.sort_unstable();
        let mut max_end = Vec::with_capacity(spans.len());
        let mut running = 0;
        for &(_, end) in &spans {
            running = running.max(end);
            max_end.push(running);
        }
        Containment {
            starts: spans.into_iter().map(|(start, _)| start).collect(),
            max_end,
        }
    }

    fn strictly_contains(&self, at: usize) -> bool {
        let before = self.starts.partition_point(|&start| start < at);
        before > 0 && self.max_end[before - 1] > at
    }
}

/// The edits to write for one file's decisions (shared insertions appear once each per
/// occurrence; [`rewrite::apply`] writes identical ones once).
pub fn edits<E>(decisions: &[Decision<E>]) -> Vec<Edit> {
    decisions.iter().filter_map(pinned_edit).cloned().collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
