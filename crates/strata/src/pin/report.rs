//! act stage, for reading: how a `strata pin` run is shown. The JSON shape is the
//! documented, stable schema (docs/json.md); the table is for people. Builds values and
//! writes text to the writer it is given; decides nothing.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use strata_core::occurrence::{Occurrence, SkipReason};
use strata_core::plan::Decision;

use super::FileOutcome;
use crate::apply::unified_diff;
use crate::outcome::{self, Failure};
use crate::output::write_table;
use crate::registry::{PlatformDigest, RegistryStats, Stats};
use crate::resolve::Lookups;

/// `strata pin --format json`.
#[derive(Debug, Serialize)]
pub struct PinJson {
    pub dry_run: bool,
    pub pins: Vec<PinnedJson>,
    pub already_pinned: Vec<KeptJson>,
    pub skips: Vec<SkippedJson>,
    pub errors: Vec<ErrorJson>,
    /// Files whose text changes (written, or with `dry_run` the diff that would be).
    pub changed_files: Vec<ChangedJson>,
    /// Requests per registry host (as written in references).
    pub registries: BTreeMap<String, RegistryJson>,
    /// The lowest Docker Hub `RateLimit-Remaining` seen this run, when Docker Hub sent one.
    pub docker_hub_rate_limit_remaining: Option<u64>,
    pub summary: SummaryJson,
}

#[derive(Debug, Serialize)]
pub struct PinnedJson {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub source: &'static str,
    /// The normalised reference that was looked up (`docker.io/library/python:3.12`).
    pub reference: String,
    /// The bytes the pin went after, as written before and after.
    pub before: String,
    pub after: String,
    /// The top-level digest (an index's for multi-platform images).
    pub digest: String,
    /// The media type the registry served for the tag, when it said.
    pub media_type: Option<String>,
    /// Per-platform digests of a multi-platform image (empty for a single image);
    /// `null` when they could not be read (see `platforms_error`).
    pub platforms: Option<Vec<PlatformJson>>,
    pub platforms_error: Option<String>,
    /// The `ARG` whose default was pinned, if any.
    pub arg: Option<String>,
    pub written: bool,
}

#[derive(Debug, Serialize)]
pub struct PlatformJson {
    /// `os/architecture[/variant]`.
    pub platform: String,
    pub digest: String,
}

#[derive(Debug, Serialize)]
pub struct KeptJson {
    pub file: String,
    pub line: usize,
    pub reference: String,
}

#[derive(Debug, Serialize)]
pub struct SkippedJson {
    pub file: String,
    pub line: usize,
    pub text: String,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct ErrorJson {
    pub file: String,
    /// 0 when the error concerns the whole file.
    pub line: usize,
    /// The normalised reference whose lookup failed, for lookup errors.
    pub reference: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct ChangedJson {
    pub file: String,
    pub written: bool,
    /// The unified diff (dry runs only).
    pub diff: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RegistryJson {
    pub requests: u64,
    pub pings: u64,
    pub manifest_heads: u64,
    pub manifest_gets: u64,
    pub blob_gets: u64,
    pub token_requests: u64,
    pub retries: u64,
    pub cache_hits: u64,
    pub rate_limit_remaining: Option<u64>,
    /// The host actually contacted, when a mirror serves the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct SummaryJson {
    pub pinned: usize,
    pub already_pinned: usize,
    pub skipped: usize,
    pub failed: usize,
    pub files_scanned: usize,
    pub files_changed: usize,
}

/// Builds the JSON document for a run.
pub fn json(outcomes: &[FileOutcome], lookups: &Lookups, stats: &Stats, dry_run: bool) -> PinJson {
    let mut doc = PinJson {
        dry_run,
        pins: Vec::new(),
        already_pinned: Vec::new(),
        skips: Vec::new(),
        errors: Vec::new(),
        changed_files: Vec::new(),
        registries: registries_json(stats),
        docker_hub_rate_limit_remaining: stats
            .registries
            .get("docker.io")
            .and_then(|s| s.rate_limit)
            .map(|r| r.remaining),
        summary: SummaryJson::default(),
    };
    for outcome in outcomes {
        add_file(&mut doc, outcome, lookups, dry_run);
    }
    doc.summary = SummaryJson {
        pinned: doc.pins.len(),
        already_pinned: doc.already_pinned.len(),
        skipped: doc.skips.len(),
        failed: doc.errors.len(),
        files_scanned: outcomes.len(),
        files_changed: doc.changed_files.len(),
    };
    doc
}

fn add_file(doc: &mut PinJson, outcome: &FileOutcome, lookups: &Lookups, dry_run: bool) {
    let file = &outcome.file.display;
    for entry in &outcome.entries {
        let o = &entry.occurrence;
        match &entry.decision {
            Decision::Pin(pin) => {
                let platforms = lookups.platforms(&o.reference, &pin.digest);
                doc.pins.push(PinnedJson {
                    file: file.clone(),
                    line: o.line,
                    column: o.column,
                    source: o.source.as_str(),
                    reference: o.reference.to_string(),
                    before: pin.before.clone(),
                    after: pin.after.clone(),
                    digest: pin.digest.to_string(),
                    media_type: lookups
                        .tag(&o.reference)
                        .ok()
                        .and_then(|r| r.media_type.clone()),
                    platforms: platforms
                        .and_then(|p| p.as_ref().ok())
                        .map(|list| list.iter().map(platform_json).collect()),
                    platforms_error: platforms
                        .and_then(|p| p.as_ref().err())
                        .map(ToString::to_string),
                    arg: o.arg.clone(),
                    written: outcome.written,
                });
            }
            Decision::AlreadyPinned => doc.already_pinned.push(kept(file, o)),
            Decision::Skip(reason) => doc.skips.push(skipped(file, o.line, &o.text, reason)),
            Decision::Failed(failure) => doc.errors.push(failed(file, o, failure)),
        }
    }
    add_problems(&mut doc.skips, &mut doc.errors, outcome);
    if outcome.changed() {
        doc.changed_files.push(changed(outcome, dry_run));
    }
}

/// A reference left as it is.
pub fn kept(file: &str, o: &Occurrence) -> KeptJson {
    KeptJson {
        file: file.to_owned(),
        line: o.line,
        reference: o.reference.to_string(),
    }
}

/// A reference whose lookup or rewrite failed.
pub fn failed(file: &str, o: &Occurrence, failure: &Failure) -> ErrorJson {
    ErrorJson {
        file: file.to_owned(),
        line: o.line,
        reference: Some(o.reference.to_string()),
        message: failure.to_string(),
    }
}

/// The places the scan of `outcome` skipped, and its file errors (except those that
/// references which failed with the file already carry).
pub fn add_problems<D>(
    skips: &mut Vec<SkippedJson>,
    errors: &mut Vec<ErrorJson>,
    outcome: &outcome::FileOutcome<D>,
) {
    let file = &outcome.file.display;
    for skip in &outcome.skips {
        skips.push(skipped(file, skip.line, &skip.text, &skip.reason));
    }
    for error in &outcome.errors {
        let repeated = errors
            .iter()
            .any(|e| e.file == *file && e.message == error.message);
        if !repeated {
            errors.push(ErrorJson {
                file: file.clone(),
                line: error.line,
                reference: None,
                message: error.message.clone(),
            });
        }
    }
}

/// A file whose text changes, with its diff for a dry run.
pub fn changed<D>(outcome: &outcome::FileOutcome<D>, dry_run: bool) -> ChangedJson {
    let file = &outcome.file.display;
    ChangedJson {
        file: file.clone(),
        written: outcome.written,
        diff: dry_run.then(|| unified_diff(file, &outcome.old, &outcome.new)),
    }
}

pub fn skipped(file: &str, line: usize, text: &str, reason: &SkipReason) -> SkippedJson {
    SkippedJson {
        file: file.to_owned(),
        line,
        text: text.to_owned(),
        code: reason.code(),
        message: reason.message(),
    }
}

fn platform_json(p: &PlatformDigest) -> PlatformJson {
    let mut platform = format!("{}/{}", p.os, p.architecture);
    if let Some(variant) = &p.variant {
        platform.push('/');
        platform.push_str(variant);
    }
    PlatformJson {
        platform,
        digest: p.digest.to_string(),
    }
}

/// Requests per registry host.
pub fn registries_json(stats: &Stats) -> BTreeMap<String, RegistryJson> {
    stats
        .registries
        .iter()
        .map(|(name, s)| (name.clone(), registry_json(s)))
        .collect()
}

fn registry_json(s: &RegistryStats) -> RegistryJson {
    RegistryJson {
        requests: s.requests,
        pings: s.pings,
        manifest_heads: s.manifest_heads,
        manifest_gets: s.manifest_gets,
        blob_gets: s.blob_gets,
        token_requests: s.token_requests,
        retries: s.retries,
        cache_hits: s.cache_hits,
        rate_limit_remaining: s.rate_limit.map(|r| r.remaining),
        mirror: s.mirror.clone(),
    }
}

/// The people's view of the same document: pinned, skipped, failed, then a summary.
pub fn write_text(out: &mut dyn Write, doc: &PinJson) -> io::Result<()> {
    let short = |digest: &str| {
        digest
            .chars()
            .take("sha256:".len() + 12)
            .collect::<String>()
    };
    let pinned: Vec<Vec<String>> = doc
        .pins
        .iter()
        .map(|p| {
            // A pin through an ARG default is written on the ARG's line: say which.
            let text = match &p.arg {
                Some(arg) => format!("{} (ARG {arg})", p.before),
                None => p.before.clone(),
            };
            vec![format!("{}:{}", p.file, p.line), text, short(&p.digest)]
        })
        .collect();
    if !pinned.is_empty() {
        let header = if doc.dry_run { "WOULD PIN" } else { "PINNED" };
        write_table(out, &[header, "TEXT", "DIGEST"], &pinned)?;
    }
    let skipped = write_problems(out, &doc.skips, &doc.errors, Vec::new())?;
    let s = &doc.summary;
    let verb = if doc.dry_run { "would pin" } else { "pinned" };
    writeln!(
        out,
        "\n{} {verb}, {} already pinned, {} skipped, {} failed; {} of {} files {}",
        s.pinned,
        s.already_pinned,
        skipped,
        s.failed,
        s.files_changed,
        s.files_scanned,
        if doc.dry_run {
            "would change"
        } else {
            "changed"
        },
    )?;
    write_requests(out, &doc.registries)?;
    if let Some(remaining) = doc.docker_hub_rate_limit_remaining {
        writeln!(out, "Docker Hub rate limit: {remaining} pulls remaining")?;
    }
    Ok(())
}

/// The skips (not build stages or `scratch`, which only JSON lists) and the failures,
/// with `more_failed` rows after the references' ones; returns how many skips it showed.
pub fn write_problems(
    out: &mut dyn Write,
    skips: &[SkippedJson],
    errors: &[ErrorJson],
    more_failed: Vec<Vec<String>>,
) -> io::Result<usize> {
    let skipped: Vec<Vec<String>> = skips
        .iter()
        .filter(|s| s.code != "build-stage" && s.code != "scratch")
        .map(|s| {
            vec![
                format!("{}:{}", s.file, s.line),
                s.code.to_owned(),
                s.text.clone(),
            ]
        })
        .collect();
    if !skipped.is_empty() {
        writeln!(out)?;
        write_table(out, &["SKIPPED", "CODE", "TEXT"], &skipped)?;
    }
    let mut failed: Vec<Vec<String>> = errors
        .iter()
        .map(|e| {
            vec![
                format!("{}:{}", e.file, e.line),
                e.reference.clone().unwrap_or_default(),
                e.message.clone(),
            ]
        })
        .collect();
    failed.extend(more_failed);
    if !failed.is_empty() {
        writeln!(out)?;
        write_table(out, &["FAILED", "REFERENCE", "ERROR"], &failed)?;
    }
    Ok(skipped.len())
}

/// `registry requests: docker.io 12, ghcr.io 3`, when there were any; a mirrored
/// registry is named by the host contacted (`127.0.0.1:5100 (mirror of docker.io) 12`).
pub fn write_requests(
    out: &mut dyn Write,
    registries: &BTreeMap<String, RegistryJson>,
) -> io::Result<()> {
    let requests: Vec<String> = registries
        .iter()
        .map(|(name, r)| match &r.mirror {
            Some(host) => format!("{host} (mirror of {name}) {}", r.requests),
            None => format!("{name} {}", r.requests),
        })
        .collect();
    if !requests.is_empty() {
        writeln!(out, "registry requests: {}", requests.join(", "))?;
    }
    Ok(())
}
