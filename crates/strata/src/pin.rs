//! decide + act stages of `strata pin`, driven: hands each scanned file and the registry
//! lookups to `strata_core::plan`, then to `outcome`, which splices the pins in, re-reads
//! the result to prove that only the pinned references changed, and (unless it is a dry
//! run) writes the files through `apply`. No network here: lookups arrive done.

pub mod report;

use strata_core::plan::{self, Decision, Need};
use strata_core::reference::{Digest, Reference};
use strata_core::rewrite::Edit;

use crate::outcome::{self, Failure, Rewrite};
use crate::resolve::Lookups;
use crate::scan::{FileScan, ScanOptions};

/// One occurrence and what happened to it.
pub type Entry = outcome::Entry<Decision<Failure>>;

/// One file's result: the new text has its pins.
pub type FileOutcome = outcome::FileOutcome<Decision<Failure>>;

impl Rewrite for Decision<Failure> {
    const VERB: &'static str = "pin";
    const VERB_ING: &'static str = "pinning";
    const VERB_ED: &'static str = "pinned";

    fn edit(&self) -> Option<&Edit> {
        match self {
            Decision::Pin(pin) => Some(&pin.edit),
            _ => None,
        }
    }

    /// A pinned reference must come back with exactly its digest (and `:latest` where
    /// no tag was written).
    fn expected(&self, before: &Reference) -> Option<Reference> {
        match self {
            Decision::Pin(pin) => pinned(before, &pin.digest),
            _ => Some(before.clone()),
        }
    }
}

impl From<Failure> for Decision<Failure> {
    fn from(failure: Failure) -> Self {
        Decision::Failed(failure)
    }
}

/// The references whose tags must be looked up (duplicates included; the resolver
/// deduplicates).
pub fn needed(results: &[FileScan]) -> Vec<Reference> {
    outcome::needed(results, |o| plan::need(o) == Need::Lookup)
}

/// Decides every file and computes its new text (nothing is written).
pub fn decide(results: Vec<FileScan>, lookups: &Lookups, opts: &ScanOptions) -> Vec<FileOutcome> {
    results
        .into_iter()
        .map(|scan| {
            outcome::decide_file(scan, opts, |text, occurrences| {
                plan::decide(text, occurrences, |_, occurrence| {
                    lookups
                        .tag(&occurrence.reference)
                        .map(|resolved| resolved.digest.clone())
                        .map_err(Failure::Registry)
                })
            })
        })
        .collect()
}

/// `reference` as a pin makes it: `:latest` when it had no tag, and `digest`.
fn pinned(reference: &Reference, digest: &Digest) -> Option<Reference> {
    let tagged = match reference.tag() {
        Some(_) => reference.clone(),
        None => reference.with_tag("latest").ok()?,
    };
    Some(tagged.with_digest(digest.clone()))
}
