//! decide + act (files) stages shared by `pin` and `update`: one file's occurrences with
//! what the core decided for each, the edits spliced in with `strata_core::rewrite`, the
//! result re-read to prove that only the intended references changed, and (when asked)
//! the files written through `apply`. Generic over the decision; no network, no git.

use std::fmt;

use strata_core::occurrence::{ExtractError, Extraction, Occurrence, Skip};
use strata_core::reference::Reference;
use strata_core::rewrite::{self, Edit};

use crate::apply::{FileWrite, write_files};
use crate::discover::SourceFile;
use crate::registry::RegistryError;
use crate::scan::{FileScan, ScanOptions, extract_text};

/// Why a reference that needed a new digest did not get one.
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

/// A per-occurrence decision as the files see it (`plan::Decision` for `pin`,
/// `update::Decision` for `update`). Its `From<Failure>` is the decision replacing an
/// edit that could not be written.
pub trait Rewrite: Sized {
    /// The verb in messages: `pin`, `update`.
    const VERB: &'static str;
    /// `pinning`, `updating`.
    const VERB_ING: &'static str;
    /// `pinned`, `updated`.
    const VERB_ED: &'static str;

    /// The bytes this decision writes, if any.
    fn edit(&self) -> Option<&Edit>;

    /// The reference the occurrence written as `before` must read as once the file is
    /// rewritten; `None` when no valid reference would do.
    fn expected(&self, before: &Reference) -> Option<Reference>;
}

/// One occurrence and what happens to it.
#[derive(Debug, Clone)]
pub struct Entry<D> {
    pub occurrence: Occurrence,
    pub decision: D,
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileOutcome<D> {
    pub file: SourceFile,
    /// The text as read.
    pub old: String,
    /// The text with its edits (equal to `old` when nothing changes).
    pub new: String,
    pub entries: Vec<Entry<D>>,
    /// Places the scan skipped (build stages, scratch, unresolved variables, …).
    pub skips: Vec<Skip>,
    /// Problems with the file itself: unreadable, unparsable, not rewritable, not written.
    pub errors: Vec<ExtractError>,
    /// The new text is on disk.
    pub written: bool,
}

impl<D> FileOutcome<D> {
    pub fn changed(&self) -> bool {
        self.old != self.new
    }
}

/// The references for which `wanted` holds, whose tags must be looked up (duplicates
/// included; the resolver deduplicates).
pub fn needed(results: &[FileScan], wanted: impl Fn(&Occurrence) -> bool) -> Vec<Reference> {
    results
        .iter()
        .flat_map(|r| &r.extraction.occurrences)
        .filter(|o| wanted(o))
        .map(|o| o.reference.clone())
        .collect()
}

/// Decides one file with `decide` (given its text and occurrences) and computes its new
/// text (nothing is written).
pub fn decide_file<D: Rewrite + From<Failure>>(
    scan: FileScan,
    opts: &ScanOptions,
    decide: impl FnOnce(&str, &[Occurrence]) -> Vec<D>,
) -> FileOutcome<D> {
    let FileScan {
        file,
        text,
        extraction,
    } = scan;
    let decisions = decide(&text, &extraction.occurrences);
    let rewritten = rewrite(&file, &text, &extraction, &decisions, opts);
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
    match rewritten {
        Ok(new) => outcome.new = new,
        Err(message) => fail(&mut outcome, message),
    }
    outcome
}

/// `text` with the edits among `decisions` applied and verified; `text` itself when
/// there are none.
pub fn rewrite<D: Rewrite>(
    file: &SourceFile,
    text: &str,
    extraction: &Extraction,
    decisions: &[D],
    opts: &ScanOptions,
) -> Result<String, String> {
    let edits: Vec<Edit> = decisions.iter().filter_map(D::edit).cloned().collect();
    if edits.is_empty() {
        return Ok(text.to_owned());
    }
    let new = rewrite::apply(text, &edits)
        .map_err(|err| format!("cannot {} {}: {err}", D::VERB, file.display))?;
    verify(file, extraction, decisions, &new, opts)?;
    Ok(new)
}

/// Re-reads the rewritten text as the scan would: every reference must come back as
/// [`Rewrite::expected`] says (the same, for those left alone).
fn verify<D: Rewrite>(
    file: &SourceFile,
    extraction: &Extraction,
    decisions: &[D],
    new: &str,
    opts: &ScanOptions,
) -> Result<(), String> {
    let display = &file.display;
    let again = extract_text(file, new, opts);
    let refused = |line: usize, detail: String| {
        format!(
            "{} {display} would change how line {line} reads ({detail}); nothing written",
            D::VERB_ING
        )
    };
    if again.errors.len() > extraction.errors.len() {
        let line = again.errors.first().map_or(0, |e| e.line);
        let detail = format!("the {} file no longer parses", D::VERB_ED);
        return Err(refused(line, detail));
    }
    if again.occurrences.len() != extraction.occurrences.len() {
        return Err(refused(0, "a different number of references".to_owned()));
    }
    let pairs = extraction.occurrences.iter().zip(decisions);
    for ((before, decision), now) in pairs.zip(&again.occurrences) {
        if decision.expected(&before.reference).as_ref() != Some(&now.reference) {
            let detail = format!("{} became {}", before.reference, now.reference);
            return Err(refused(before.line, detail));
        }
    }
    Ok(())
}

/// The file keeps its old text; each of its edits becomes a failure with `message`.
pub fn fail<D: Rewrite + From<Failure>>(outcome: &mut FileOutcome<D>, message: String) {
    for entry in &mut outcome.entries {
        if entry.decision.edit().is_some() {
            entry.decision = D::from(Failure::File(message.clone()));
        }
    }
    outcome.errors.push(ExtractError { line: 0, message });
    outcome.new = outcome.old.clone();
}

/// Writes every changed file atomically; a file that cannot be written keeps its old
/// text and its edits become failures.
pub fn write<D: Rewrite + From<Failure>>(outcomes: &mut [FileOutcome<D>]) {
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
            Err(err) => fail(&mut outcomes[i], format!("{err:#}")),
        }
    }
}
