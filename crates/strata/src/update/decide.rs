//! decide + act (files) stages of `strata update`: hands each scanned file and the
//! registry lookups to `strata_core::update`, splices the new digests in with
//! `strata_core::rewrite`, re-reads the result to prove that only the moved pins
//! changed, and writes files through `apply` when asked. No network, no git.

use strata_core::occurrence::{ExtractError, Extraction, Occurrence, Skip};
use strata_core::reference::{Digest, Reference};
use strata_core::rewrite;
use strata_core::update::{self, BaseMove, Decision, Found, Need};

use crate::apply::{FileWrite, write_files};
use crate::discover::SourceFile;
use crate::pin::Failure;
use crate::resolve::Lookups;
use crate::scan::{FileScan, ScanOptions, extract_text};

/// One occurrence and what happens to it.
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
    /// The text with the moved pins updated (equal to `old` when nothing moved).
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

/// The pinned references whose tags must be looked up (duplicates included; the
/// resolver deduplicates by tag).
pub fn needed(results: &[FileScan]) -> Vec<Reference> {
    results
        .iter()
        .flat_map(|r| &r.extraction.occurrences)
        .filter(|o| update::need(o) == Need::Lookup)
        .map(|o| o.reference.clone())
        .collect()
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
        .map(|r| decide_file(r, &current, opts))
        .collect()
}

fn decide_file(
    scan: FileScan,
    current: &impl Fn(&Reference) -> Result<Digest, Failure>,
    opts: &ScanOptions,
) -> FileOutcome {
    let FileScan {
        file,
        text,
        extraction,
    } = scan;
    let decisions = update::decide(&text, &extraction.occurrences, |_, occurrence| {
        current(&occurrence.reference)
    });
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
        Err(message) => fail_updates(&mut outcome, message),
    }
    outcome
}

/// `text` with the updates among `decisions` applied and verified; `text` itself when
/// there are none.
fn rewrite<E>(
    file: &SourceFile,
    text: &str,
    extraction: &Extraction,
    decisions: &[Decision<E>],
    opts: &ScanOptions,
) -> Result<String, String> {
    let edits = update::edits(decisions);
    if edits.is_empty() {
        return Ok(text.to_owned());
    }
    let new = rewrite::apply(text, &edits)
        .map_err(|err| format!("cannot update {}: {err}", file.display))?;
    verify(file, extraction, decisions, &new, opts)?;
    Ok(new)
}

/// Re-reads the updated text as the scan would: every reference must come back the same,
/// and each updated one with exactly its new digest.
fn verify<E>(
    file: &SourceFile,
    extraction: &Extraction,
    decisions: &[Decision<E>],
    new: &str,
    opts: &ScanOptions,
) -> Result<(), String> {
    let display = &file.display;
    let again = extract_text(file, new, opts);
    let refused = |line: usize, detail: String| {
        format!("updating {display} would change how line {line} reads ({detail}); nothing written")
    };
    if again.errors.len() > extraction.errors.len() {
        let line = again.errors.first().map_or(0, |e| e.line);
        return Err(refused(
            line,
            "the updated file no longer parses".to_owned(),
        ));
    }
    if again.occurrences.len() != extraction.occurrences.len() {
        return Err(refused(0, "a different number of references".to_owned()));
    }
    let pairs = extraction.occurrences.iter().zip(decisions);
    for ((before, decision), now) in pairs.zip(&again.occurrences) {
        let expected = match decision {
            Decision::Update(m) => before.reference.with_digest(m.to.clone()),
            _ => before.reference.clone(),
        };
        if expected != now.reference {
            let detail = format!("{} became {}", before.reference, now.reference);
            return Err(refused(before.line, detail));
        }
    }
    Ok(())
}

/// The file keeps its old text; each of its updates becomes a failure with `message`.
/// Turns every update of `outcome` into a failure saying `message` (the file keeps its
/// text): a file whose moves cannot be committed anywhere.
pub fn refuse(outcome: &mut FileOutcome, message: String) {
    fail_updates(outcome, message);
}

fn fail_updates(outcome: &mut FileOutcome, message: String) {
    for entry in &mut outcome.entries {
        if matches!(entry.decision, Decision::Update(_)) {
            entry.decision = Decision::Failed(Failure::File(message.clone()));
        }
    }
    outcome.errors.push(ExtractError { line: 0, message });
    outcome.new = outcome.old.clone();
}

/// Writes every changed file atomically; a file that cannot be written keeps its old
/// text and its updates become failures.
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
            Err(err) => fail_updates(&mut outcomes[i], format!("{err:#}")),
        }
    }
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
    rewrite(file, text, &extraction, &decisions, opts)
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
