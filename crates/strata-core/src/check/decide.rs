//! decide stage, for `check`: turns one file's extraction, plus what the caller observed
//! (current tag digests, missing digests) and the official-images library, into
//! findings. Pure: registries, the state database and the library files are read by the
//! caller and handed in as values.

use std::collections::HashMap;

use super::code::Code;
use super::finding::{Current, Finding, Observations, TagState, short};
use crate::library::{History, Library, Support, support};
use crate::occurrence::{Extraction, Occurrence, Role, SkipReason};
use crate::plan::{self, Decision};
use crate::reference::{Digest, Reference};

/// Everything a check reads besides the file itself.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub observed: &'a dyn Observations,
    /// The official-images library files; `None` skips `unsupported-tag`.
    pub library: Option<&'a Library>,
    /// The removed-tags history (removal dates), when available.
    pub history: Option<&'a History>,
}

impl std::fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("library", &self.library.map(Library::len))
            .field("history", &self.history.is_some())
            .finish_non_exhaustive()
    }
}

/// The references whose tags a check looks up: every pulled image with a tag (or none,
/// meaning `latest`); digest-only references have nothing to look up.
pub fn tags_to_resolve(extraction: &Extraction) -> impl Iterator<Item = &Reference> {
    extraction
        .occurrences
        .iter()
        .filter(|o| o.role == Role::Uses)
        .map(|o| &o.reference)
        .filter(|r| r.tag().is_some() || r.digest().is_none())
}

/// The pinned digests worth asking the registry about: only those whose tag points
/// elsewhere now or is gone (a tag still at its pin proves the digest exists).
pub fn digests_to_verify<'a>(
    extraction: &'a Extraction,
    observed: &dyn Observations,
) -> Vec<(&'a Reference, &'a Digest)> {
    let mut out = Vec::new();
    for occurrence in &extraction.occurrences {
        let reference = &occurrence.reference;
        let (Role::Uses, Some(_), Some(digest)) =
            (occurrence.role, reference.tag(), reference.digest())
        else {
            continue;
        };
        let stale = match observed.tag(reference) {
            Some(TagState::Points(current)) => current.digest != *digest,
            Some(TagState::Missing) => true,
            None => false,
        };
        if stale {
            out.push((reference, digest));
        }
    }
    out
}

/// Every finding in one file, in file order, with default severities (apply a
/// [`Policy`](super::Policy) next). `file` is the path shown, relative to the scanned root.
pub fn check_file(
    file: &str,
    text: &str,
    extraction: &Extraction,
    inputs: &Inputs<'_>,
) -> Vec<Finding> {
    // What `strata pin` would do with each occurrence, to report its refusals. Tags not
    // looked up get a stand-in digest per tag: equal tags agree, different ones conflict.
    let mut stand_ins: HashMap<String, usize> = HashMap::new();
    let decisions = plan::decide(text, &extraction.occurrences, |_, occurrence| {
        digest_for(occurrence, inputs.observed, &mut stand_ins)
    });
    let mut findings = Vec::new();
    for (occurrence, decision) in extraction.occurrences.iter().zip(&decisions) {
        if occurrence.role == Role::Uses {
            check_occurrence(file, occurrence, decision, inputs, &mut findings);
        }
    }
    for skip in &extraction.skips {
        let Some(code) = Code::of_skip(&skip.reason) else {
            continue;
        };
        let column = column_of(text, skip.line, &skip.text);
        let mut finding = Finding::new(code, file, skip.line, column, &skip.text);
        finding.message = format!("{}: {}", skip.text, skip.reason.message());
        findings.push(finding);
    }
    findings.sort_by_key(|f| (f.line, f.column, f.code));
    findings
}

/// The digest a pin would write: the observed one, else a stand-in per tag. (A
/// stand-in cannot fail to parse; if it did, the occurrence would count as unpinned.)
fn digest_for(
    occurrence: &Occurrence,
    observed: &dyn Observations,
    stand_ins: &mut HashMap<String, usize>,
) -> Result<Digest, ()> {
    let reference = &occurrence.reference;
    if let Some(TagState::Points(current)) = observed.tag(reference) {
        return Ok(current.digest.clone());
    }
    let key = format!(
        "{}/{}:{}",
        reference.domain(),
        reference.path(),
        reference.tag().unwrap_or("latest")
    );
    let next = stand_ins.len() + 1;
    let n = *stand_ins.entry(key).or_insert(next);
    format!("sha256:{n:064x}").parse().map_err(|_| ())
}

fn check_occurrence(
    file: &str,
    occurrence: &Occurrence,
    decision: &Decision<()>,
    inputs: &Inputs<'_>,
    out: &mut Vec<Finding>,
) {
    let reference = &occurrence.reference;
    let new = |code: Code| {
        let mut finding = Finding::new(
            code,
            file,
            occurrence.line,
            occurrence.column,
            &occurrence.text,
        );
        finding.reference = Some(reference.clone());
        finding.digest = reference.digest().cloned();
        finding
    };
    let tag = inputs.observed.tag(reference);
    match (reference.tag(), reference.digest()) {
        (Some(_), Some(pinned)) => {
            if let Some(finding) = check_pinned(new, reference, pinned, tag, inputs.observed) {
                out.push(finding);
            }
        }
        (None, Some(_)) => {
            let mut finding = new(Code::DigestOnly);
            finding.message = format!("{}: {}", occurrence.text, SkipReason::DigestOnly.message());
            out.push(finding);
        }
        (_, None) => out.push(check_unpinned(new, occurrence, decision, tag)),
    }
    if let Some(library) = inputs.library
        && let Some(finding) = check_support(new, reference, library, inputs)
    {
        out.push(finding);
    }
}

/// The name and tag as a user writes them: `python:3.12`, `ghcr.io/o/app:1`.
fn shown(reference: &Reference) -> String {
    format!(
        "{}:{}",
        reference.familiar_name(),
        reference.tag().unwrap_or("latest")
    )
}

fn check_unpinned(
    new: impl Fn(Code) -> Finding,
    occurrence: &Occurrence,
    decision: &Decision<()>,
    tag: Option<&TagState>,
) -> Finding {
    let name = shown(&occurrence.reference);
    if let Some(TagState::Missing) = tag {
        let mut finding = new(Code::MissingTag);
        finding.message = format!("{name} does not exist in the registry (the tag is gone)");
        return finding;
    }
    if let Decision::Skip(reason) = decision
        && let Some(code) = Code::of_skip(reason)
    {
        let mut finding = new(code);
        finding.message = format!("{name} is not pinned: {}", reason.message());
        return finding;
    }
    let mut finding = new(Code::Unpinned);
    finding.message = format!("{name} is not pinned to a digest");
    if let Some(TagState::Points(current)) = tag {
        finding.current_digest = Some(current.digest.clone());
        finding.message += &format!(" (it points at {} now)", short(&current.digest));
    }
    finding.message += "; run `strata pin`";
    finding
}

fn check_pinned(
    new: impl Fn(Code) -> Finding,
    reference: &Reference,
    pinned: &Digest,
    tag: Option<&TagState>,
    observed: &dyn Observations,
) -> Option<Finding> {
    let name = shown(reference);
    let exists = || observed.digest_exists(reference, pinned);
    match tag? {
        TagState::Points(current) if current.digest == *pinned => None,
        TagState::Points(current) if exists() == Some(false) => {
            let mut finding = new(Code::MissingTag);
            finding.current_digest = Some(current.digest.clone());
            finding.message = format!(
                "the pinned digest {} of {name} no longer exists in the registry; the tag \
                 points at {} now",
                short(pinned),
                short(&current.digest)
            );
            Some(finding)
        }
        TagState::Points(current) => Some(moved(new(Code::MovedTag), &name, pinned, current)),
        TagState::Missing => {
            let mut finding = new(Code::MissingTag);
            finding.message = match exists() {
                Some(true) => format!(
                    "{name} does not exist in the registry any more (the pinned digest {} \
                     still does, but nothing updates it)",
                    short(pinned)
                ),
                Some(false) => format!(
                    "{name} does not exist in the registry any more, nor does the pinned \
                     digest {}",
                    short(pinned)
                ),
                None => format!("{name} does not exist in the registry any more"),
            };
            Some(finding)
        }
    }
}

fn moved(mut finding: Finding, name: &str, pinned: &Digest, current: &Current) -> Finding {
    finding.current_digest = Some(current.digest.clone());
    finding.since = current.since;
    finding.pinned_last_seen = current
        .seen
        .iter()
        .find(|(digest, _)| digest == pinned)
        .map(|(_, at)| *at);
    finding.message = format!(
        "{name} moved: pinned to {}, the tag points at {} now",
        short(pinned),
        short(&current.digest)
    );
    if let Some(since) = current.since {
        finding.message += &format!(" (since {since} or earlier)");
    }
    finding.message += "; run `strata update`";
    finding
}

fn check_support(
    new: impl Fn(Code) -> Finding,
    reference: &Reference,
    library: &Library,
    inputs: &Inputs<'_>,
) -> Option<Finding> {
    let Support::Unsupported {
        removed,
        suggestion,
        image_retired,
    } = support(reference, library, inputs.history)
    else {
        return None;
    };
    let name = shown(reference);
    let mut finding = new(Code::UnsupportedTag);
    let when = removed
        .as_ref()
        .map(|r| format!(" (removed {})", r.removed.date()))
        .unwrap_or_default();
    finding.message = if image_retired {
        format!(
            "{name}: {} is no longer a Docker Official Image{when}",
            reference.familiar_name()
        )
    } else {
        format!("{name} is no longer supported by the Docker Official Images{when}")
    };
    if let Some(next) = &suggestion {
        finding.message += &format!("; use {next}");
        if let Some(note) = next.note {
            finding.message += &format!(" ({note})");
        }
    }
    finding.removal = removed;
    finding.suggestion = suggestion;
    Some(finding)
}

/// The 1-based byte column of `needle` on 1-based `line` of `text` (1 when not found).
fn column_of(text: &str, line: usize, needle: &str) -> usize {
    let Some(line_text) = text.lines().nth(line.saturating_sub(1)) else {
        return 1;
    };
    match needle.is_empty() {
        true => 1,
        false => line_text.find(needle).map_or(1, |at| at + 1),
    }
}
