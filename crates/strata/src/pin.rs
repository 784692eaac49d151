//! decide + act stages of `strata pin`, driven: hands each scanned file and the registry
//! lookups to `strata_core::plan`, splices the pins in with `strata_core::rewrite`,
//! re-reads the result to prove that only the pinned references changed, and (unless it
//! is a dry run) writes the files through `apply`. No network here: lookups arrive done.

pub mod report;

use std::fmt;

use strata_core::occurrence::{ExtractError, Occurrence, Skip};
use strata_core::plan::{self, Decision, Need};
use strata_core::reference::{Digest, Reference};
use strata_core::rewrite;

use crate::apply::{FileWrite, write_files};
use crate::discover::SourceFile;
use crate::registry::RegistryError;
use crate::resolve::Lookups;
use crate::scan::{FileScan, ScanOptions, extract_text};

/// Why a reference that needed a pin did not get one.
#[derive(Debug, Clone)]
pub enum Failure {
    /// The registry lookup failed.
    Registry(RegistryError),
    /// The file could not be rewritten or written.
    File(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Registry(err) => err.fmt(f),
            Failure::File(message) => f.write_str(message),
        }
    }
}

/// One occurrence and what happened to it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub occurrence: Occurrence,
    pub decision: Decision<Failure>,
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub file: SourceFile,
    /// The text as read.
    pub old: String,
    /// The text with its pins (equal to `old` when nothing changes).
    pub new: String,
    pub entries: Vec<Entry>,
    /// Places the scan skipped (build stages, scratch, unresolved variables, …).
    pub skips: Vec<Skip>,
    /// Problems with the file itself: unreadable, unparsable, not rewritable, not written.
    pub errors: Vec<ExtractError>,
    /// The new text is on disk.
    pub written: bool,
}

impl FileOutcome {
    pub fn changed(&self) -> bool {
        self.old != self.new
    }
}

/// The references whose tags must be looked up (duplicates included; the resolver
/// deduplicates).
pub fn needed(results: &[FileScan]) -> Vec<Reference> {
    results
        .iter()
        .flat_map(|r| &r.extraction.occurrences)
        .filter(|o| plan::need(o) == Need::Lookup)
        .map(|o| o.reference.clone())
        .collect()
}

/// Decides every file and computes its new text (nothing is written).
pub fn decide(results: Vec<FileScan>, lookups: &Lookups, opts: &ScanOptions) -> Vec<FileOutcome> {
    results
        .into_iter()
        .map(|r| decide_file(r, lookups, opts))
        .collect()
}

fn decide_file(scan: FileScan, lookups: &Lookups, opts: &ScanOptions) -> FileOutcome {
    let FileScan {
        file,
        text,
        extraction,
    } = scan;
    let decisions = plan::decide(&text, &extraction.occurrences, |_, occurrence| {
        lookups
            .tag(&occurrence.reference)
            .map(|resolved| resolved.digest.clone())
            .map_err(Failure::Registry)
    });
    let mut outcome = FileOutcome {
        file,
        new: text.clone(),
        old: text,
        entries: extraction
            .occurrences
            .into_iter()
            .zip(decisions)
            .map(|(occurrence, decision)| Entry {
                occurrence,
                decision,
            })
            .collect(),
        skips: extraction.skips,
        errors: extraction.errors,
        written: false,
    };
    let edits: Vec<_> = outcome
        .entries
        .iter()
        .filter_map(|e| match &e.decision {
            Decision::Pin(pin) => Some(pin.edit.clone()),
            _ => None,
        })
        .collect();
    if edits.is_empty() {
        return outcome;
    }
    let checked = rewrite::apply(&outcome.old, &edits)
        .map_err(|err| format!("cannot pin {}: {err}", outcome.file.display))
        .and_then(|new| verify(&outcome, &new, opts).map(|()| new));
    match checked {
        Ok(new) => outcome.new = new,
        Err(message) => fail_pins(&mut outcome, message),
    }
    outcome
}

/// Re-reads the pinned text as the scan would: every reference must come back the same,
/// and each pinned one with exactly its digest (and `:latest` where no tag was written).
fn verify(outcome: &FileOutcome, new: &str, opts: &ScanOptions) -> Result<(), String> {
    let display = &outcome.file.display;
    let again = extract_text(&outcome.file, new, opts);
    let refused = |line: usize, detail: String| {
        format!("pinning {display} would change how line {line} reads ({detail}); nothing written")
    };
    if again.errors.len() > outcome.errors.len() {
        let line = again.errors.first().map_or(0, |e| e.line);
        return Err(refused(line, "the pinned file no longer parses".to_owned()));
    }
    if again.occurrences.len() != outcome.entries.len() {
        return Err(refused(0, "a different number of references".to_owned()));
    }
    for (entry, now) in outcome.entries.iter().zip(&again.occurrences) {
        let before = &entry.occurrence.reference;
        let expected = match &entry.decision {
            Decision::Pin(pin) => pinned(before, &pin.digest),
            _ => Some(before.clone()),
        };
        if expected.as_ref() != Some(&now.reference) {
            let detail = format!("{before} became {}", now.reference);
            return Err(refused(entry.occurrence.line, detail));
        }
    }
    Ok(())
}

/// `reference` as a pin makes it: `:latest` when it had no tag, and `digest`.
fn pinned(reference: &Reference, digest: &Digest) -> Option<Reference> {
    let tagged = match reference.tag() {
        Some(_) => reference.clone(),
        None => reference.with_tag("latest").ok()?,
    };
    Some(tagged.with_digest(digest.clone()))
}

/// The file keeps its old text; each of its pins becomes a failure with `message`.
fn fail_pins(outcome: &mut FileOutcome, message: String) {
    for entry in &mut outcome.entries {
        if matches!(entry.decision, Decision::Pin(_)) {
            entry.decision = Decision::Failed(Failure::File(message.clone()));
        }
    }
    outcome.errors.push(ExtractError { line: 0, message });
    outcome.new = outcome.old.clone();
}

/// Writes every changed file atomically; a file that cannot be written keeps its old
/// text and its pins become failures.
pub fn write(outcomes: &mut [FileOutcome]) {
    let changed: Vec<usize> = (0..outcomes.len())
        .filter(|&i| outcomes[i].changed())
        .collect();
    let writes: Vec<FileWrite<'_>> = changed
        .iter()
        .map(|&i| FileWrite {
            path: &outcomes[i].file.path,
            old: &outcomes[i].old,
            new: &outcomes[i].new,
        })
        .collect();
    let results = write_files(&writes);
    for (i, result) in changed.into_iter().zip(results) {
        match result {
            Ok(()) => outcomes[i].written = true,
            Err(err) => fail_pins(&mut outcomes[i], format!("{err:#}")),
        }
    }
}
