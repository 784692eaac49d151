//! decide stage, the part `plan` and `update` share: walking one file's occurrences,
//! asking for a digest only where one is needed, and refusing edits that would collide
//! with another occurrence's bytes. Pure: generic over the per-occurrence decision;
//! lookups arrive from the caller and nothing here touches a registry or a file.
//!
//! Occurrences ending at one byte (one `ARG` default used by several `FROM`s, one YAML
//! anchor used by several services) share their edit: it is written only when all of
//! them want exactly it, and all are skipped as `conflicting-pins` otherwise. An edit
//! overlapping any other occurrence's span would change that reference too, so it is
//! refused as well.

use std::collections::HashMap;

use crate::occurrence::{Occurrence, Role, SkipReason};
use crate::reference::Digest;
use crate::rewrite::Edit;

/// A per-occurrence decision (`plan::Decision` or `update::Decision`).
pub(crate) trait Decide: Sized {
    /// What a failed lookup carries.
    type Error;

    /// The decision for an occurrence that needs no lookup, or `None` when its digest
    /// must be looked up.
    fn without_lookup(occurrence: &Occurrence) -> Option<Self>;

    /// The decision for an occurrence whose tag points at `digest`.
    fn with_digest(text: &str, occurrence: &Occurrence, digest: Digest) -> Self;

    /// The decision for an occurrence whose lookup failed.
    fn failed(error: Self::Error) -> Self;

    /// The bytes this decision writes, if any.
    fn edit(&self) -> Option<&Edit>;

    /// The decision replacing an edit that collides with another (`conflicting-pins`).
    fn conflicting() -> Self;
}

/// Why an occurrence is never rewritten, whatever its reference: images built here, and
/// occurrences the extractor blocked.
pub(crate) fn never_rewritten(occurrence: &Occurrence) -> Option<SkipReason> {
    if occurrence.role == Role::Produces {
        return Some(SkipReason::BuiltHere);
    }
    occurrence.blocked.clone()
}

/// Decides every occurrence of one file, in order. `lookup` is asked for the digest of
/// each occurrence that needs one (by index) and nothing else.
pub(crate) fn decide_file<D: Decide>(
    text: &str,
    occurrences: &[Occurrence],
    mut lookup: impl FnMut(usize, &Occurrence) -> Result<Digest, D::Error>,
) -> Vec<D> {
    let mut decisions: Vec<D> = occurrences
        .iter()
        .enumerate()
        .map(|(i, occurrence)| match D::without_lookup(occurrence) {
            Some(decision) => decision,
            None => match lookup(i, occurrence) {
                Ok(digest) => D::with_digest(text, occurrence, digest),
                Err(error) => D::failed(error),
            },
        })
        .collect();
    refuse_conflicts(occurrences, &mut decisions);
    decisions
}

/// The edits to write for one file's decisions (a shared edit appears once per
/// occurrence; [`crate::rewrite::apply`] writes identical ones once).
pub(crate) fn edits<D: Decide>(decisions: &[D]) -> Vec<Edit> {
    decisions.iter().filter_map(D::edit).cloned().collect()
}

/// Turns every edit that collides (see the module docs) into [`Decide::conflicting`].
fn refuse_conflicts<D: Decide>(occurrences: &[Occurrence], decisions: &mut [D]) {
    let mut by_end: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, occurrence) in occurrences.iter().enumerate() {
        if !occurrence.span.is_empty() {
            by_end.entry(occurrence.span.end).or_default().push(i);
        }
    }
    let spans = Spans::new(occurrences);
    let mut refused = Vec::new();
    for members in by_end.values() {
        let edits: Vec<Option<&Edit>> = members.iter().map(|&i| decisions[i].edit()).collect();
        if edits.iter().all(Option::is_none) {
            continue;
        }
        let agree = edits.windows(2).all(|pair| pair[0] == pair[1]);
        let overlaps = edits
            .first()
            .and_then(|e| *e)
            .is_some_and(|e| spans.overlaps_other(e.span.start, e.span.end));
        if !agree || overlaps {
            refused.extend(members.iter().copied());
        }
    }
    for i in refused {
        if decisions[i].edit().is_some() {
            decisions[i] = D::conflicting();
        }
    }
}

/// Answers "does a span other than those ending at `end` overlap `[start, end)`?" in
/// O(log n). For an insertion (`start == end`) that is "does a span hold `end` strictly
/// inside it?".
struct Spans {
    /// Span starts, sorted, with the largest end among each prefix.
    starts: Vec<usize>,
    max_end: Vec<usize>,
    /// Span ends, sorted.
    ends: Vec<usize>,
}

impl Spans {
    fn new(occurrences: &[Occurrence]) -> Spans {
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
        let mut ends: Vec<usize> = spans.iter().map(|&(_, end)| end).collect();
        ends.sort_unstable();
        Spans {
            starts: spans.into_iter().map(|(start, _)| start).collect(),
            max_end,
            ends,
        }
    }

    fn overlaps_other(&self, start: usize, end: usize) -> bool {
        // A span starting before `end` and running past it...
        let before = self.starts.partition_point(|&s| s < end);
        let runs_past = before > 0 && self.max_end[before - 1] > end;
        // ...or one ending inside the replaced bytes.
        let first_after_start = self.ends.partition_point(|&e| e <= start);
        let ends_inside = self.ends.get(first_after_start).is_some_and(|&e| e < end);
        runs_past || ends_inside
    }
}
