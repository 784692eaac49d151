//! decide stage of `strata update`, and the moves it finds: hands each scanned file and
//! the registry lookups to `strata_core::update`, then to `outcome`, which splices the
//! new digests in, re-reads the result to prove that only the moved pins changed, and
//! writes files through `apply` when asked. No network, no git.

use strata_core::reference::{Digest, Reference};
use strata_core::rewrite::Edit;
use strata_core::update::{self, BaseMove, Decision, Found, Need};

use crate::discover::SourceFile;
use crate::outcome::{self, Failure, Rewrite};
use crate::resolve::Lookups;
use crate::scan::{FileScan, ScanOptions, extract_text};

/// One occurrence and what happens to it.
pub type Entry = outcome::Entry<Decision<Failure>>;

/// One file's result: the new text has the moved pins updated.
pub type FileOutcome = outcome::FileOutcome<Decision<Failure>>;

impl<E> Rewrite for Decision<E> {
    const VERB: &'static str = "update";
    const VERB_ING: &'static str = "updating";
    const VERB_ED: &'static str = "updated";

    fn edit(&self) -> Option<&Edit> {
        match self {
            Decision::Update(m) => Some(&m.edit),
            _ => None,
        }
    }

    /// An updated reference must come back with exactly its new digest.
    fn expected(&self, before: &Reference) -> Option<Reference> {
        match self {
            Decision::Update(m) => Some(before.with_digest(m.to.clone())),
            _ => Some(before.clone()),
        }
    }
}

impl From<Failure> for Decision<Failure> {
    fn from(failure: Failure) -> Self {
        Decision::Failed(failure)
    }
}

/// The pinned references whose tags must be looked up (duplicates included; the
/// resolver deduplicates by tag).
pub fn needed(results: &[FileScan]) -> Vec<Reference> {
    outcome::needed(results, |o| update::need(o) == Need::Lookup)
}

/// Decides every file and computes its new text (nothing is written).
pub fn decide(results: Vec<FileScan>, lookups: &Lookups, opts: &ScanOptions) -> Vec<FileOutcome> {
    decide_with(results, opts, |reference| {
        lookups
            .tag(reference)
            .map(|resolved| resolved.digest.clone())
            .map_err(Failure::Registry)
    })
}

/// [`decide`] with the digest each pinned reference's tag points at now told by
/// `current` (a known move instead of registry lookups).
pub fn decide_with(
    results: Vec<FileScan>,
    opts: &ScanOptions,
    current: impl Fn(&Reference) -> Result<Digest, Failure>,
) -> Vec<FileOutcome> {
    results
        .into_iter()
        .map(|scan| {
            outcome::decide_file(scan, opts, |text, occurrences| {
                update::decide(text, occurrences, |_, o| current(&o.reference))
            })
        })
        .collect()
}

/// Turns every update of `outcome` into a failure saying `message` (the file keeps its
/// text): a file whose moves cannot be committed anywhere.
pub fn refuse(outcome: &mut FileOutcome, message: String) {
    outcome::fail(outcome, message);
}

/// Every update that will be written, as the core's grouping takes them (the file
/// index is the outcome's).
pub fn found(outcomes: &[FileOutcome]) -> Vec<Found> {
    let mut out = Vec::new();
    for (file, outcome) in outcomes.iter().enumerate() {
        if !outcome.changed() {
            continue;
        }
        for entry in &outcome.entries {
            if let Decision::Update(m) = &entry.decision {
                out.push(Found {
                    file,
                    base: entry.occurrence.reference.without_digest(),
                    from: m.from.clone(),
                    to: m.to.clone(),
                });
            }
        }
    }
    out
}

/// `text` (a version of `file`, e.g. as committed) with only `mv`'s pins updated:
/// re-extracted and re-decided, so it works on text other than what the scan read.
/// Returns `text` unchanged when it pins `mv`'s base nowhere at an old digest.
pub fn apply_move(
    file: &SourceFile,
    text: &str,
    mv: &BaseMove,
    opts: &ScanOptions,
) -> Result<String, String> {
    let extraction = extract_text(file, text, opts);
    let decisions = update::decide(text, &extraction.occurrences, |_, occurrence| {
        if occurrence.reference.without_digest() == mv.base {
            Ok(mv.to.clone())
        } else {
            Err(())
        }
    });
    outcome::rewrite(file, text, &extraction, &decisions, opts)
}

/// The occurrences of `outcome` that `mv` updates (for listing lines).
pub fn moved_entries<'a>(outcome: &'a FileOutcome, mv: &BaseMove) -> Vec<&'a Entry> {
    outcome
        .entries
        .iter()
        .filter(|e| {
            matches!(&e.decision, Decision::Update(m) if m.to == mv.to)
                && e.occurrence.reference.without_digest() == mv.base
        })
        .collect()
}
