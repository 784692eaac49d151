//! diff stage: the comparison's report model — both sides, per platform what changed,
//! the platforms only one side has, and the causes strata could establish — plus the
//! counts the summaries show. The JSON output is this model through serde. Pure.

use std::collections::BTreeSet;

use serde::Serialize;

use super::config::ConfigChange;
use super::layers::LayerDiff;
use crate::osv::{AdvisoryDelta, Rating};
use crate::package::{ChangeKind, OsRelease, PackageDiff};

/// One image compared: as named, and the digest it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub reference: String,
    pub digest: String,
}

/// What one side's filesystem says about its OS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inventory {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRelease>,
    /// The OSV ecosystem release (`Debian:12`), when strata can match that OS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
    /// Installed packages read.
    pub packages: usize,
    /// Advisories affecting it (with advisories loaded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisories: Option<usize>,
}

/// The comparison of one platform both images have.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformReport {
    /// `linux/arm64/v8`.
    pub platform: String,
    pub old_digest: String,
    pub new_digest: String,
    pub config: Vec<ConfigChange>,
    pub layers: LayerDiff,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Inventory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Inventory>,
    /// `None`: the packages could not be compared (see `notes`), which is never the
    /// same as "no package changed".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<PackageDiff>,
    /// `None`: advisories were not matched (none loaded, or an OS strata cannot match).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisories: Option<AdvisoryDelta>,
    /// Why something is not shown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What could not be read: the result is partial when this is not empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partial: Vec<String>,
}

impl PlatformReport {
    /// Whether both sides are the same image manifest.
    pub fn identical(&self) -> bool {
        self.old_digest == self.new_digest
    }
}

/// Why the image moved, as far as strata can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Cause {
    /// The new image is built on a different base image than the old one.
    Base {
        image: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        old_digest: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        new_digest: Option<String>,
        /// When strata first saw the base at its new digest.
        #[serde(skip_serializing_if = "Option::is_none")]
        moved_at: Option<String>,
        /// How strata knows: `annotations` or `layers`.
        evidence: String,
        /// The images further down that moved first, each the base of the one after it
        /// (`["debian:bookworm-slim"]` when `image` is `python:3.12-slim` rebuilt on a
        /// moved Debian): the cascade that led here.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        below: Vec<String>,
    },
    /// The maintainers' source changed (OCI `source` / `revision` / `version` labels).
    Source {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        old_revision: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        new_revision: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        old_version: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        new_version: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        compare: Option<String>,
    },
    /// A Docker Official Images `library/<name>` entry changed.
    Library {
        image: String,
        tags: Vec<String>,
        git_repo: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        old_commit: Option<String>,
        new_commit: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        compare: Option<String>,
        /// The official-images commit that made the change, and when.
        #[serde(skip_serializing_if = "Option::is_none")]
        commit: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        date: Option<String>,
    },
    /// The Official Images entry is unchanged: the image was rebuilt as it stood
    /// (usually for a new base).
    LibraryUnchanged { image: String, git_commit: String },
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub old: Side,
    pub new: Side,
    pub platforms: Vec<PlatformReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms_added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms_removed: Vec<String>,
    pub why: Vec<Cause>,
    /// Advisories loaded (`None`: no advisory source configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advisories_loaded: Option<usize>,
    pub summary: Summary,
}

/// Counts over every platform (advisories and packages counted once each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub platforms_compared: usize,
    pub platforms_changed: usize,
    pub advisories_fixed: usize,
    pub advisories_introduced: usize,
    pub advisories_remaining: usize,
    /// The worst severity among the fixed advisories.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_fixed: Option<Rating>,
    pub packages_upgraded: usize,
    pub packages_downgraded: usize,
    pub packages_added: usize,
    pub packages_removed: usize,
    /// Compressed size delta of the first platform compared.
    pub size_delta: i64,
    /// Some platform's result is partial.
    pub partial: bool,
}

impl Report {
    /// Assembles the report and its summary.
    pub fn new(
        old: Side,
        new: Side,
        platforms: Vec<PlatformReport>,
        platforms_added: Vec<String>,
        platforms_removed: Vec<String>,
        why: Vec<Cause>,
        advisories_loaded: Option<usize>,
    ) -> Report {
        let summary = summarise(&platforms);
        Report {
            old,
            new,
            platforms,
            platforms_added,
            platforms_removed,
            why,
            advisories_loaded,
            summary,
        }
    }

    /// Whether nothing differs that strata could see — and everything could be seen.
    pub fn unchanged(&self) -> bool {
        self.platforms_added.is_empty()
            && self.platforms_removed.is_empty()
            && !self.summary.partial
            && self.platforms.iter().all(PlatformReport::identical)
    }
}

fn summarise(platforms: &[PlatformReport]) -> Summary {
    let mut s = Summary {
        platforms_compared: platforms.len(),
        platforms_changed: platforms.iter().filter(|p| !p.identical()).count(),
        partial: platforms.iter().any(|p| !p.partial.is_empty()),
        size_delta: platforms.first().map_or(0, |p| {
            i64::try_from(p.layers.size_delta()).unwrap_or(i64::MAX)
        }),
        ..Summary::default()
    };
    let mut fixed = BTreeSet::new();
    let mut introduced = BTreeSet::new();
    let mut remaining = BTreeSet::new();
    let mut by_kind: [BTreeSet<&str>; 4] = Default::default();
    for p in platforms {
        if let Some(a) = &p.advisories {
            for e in &a.fixed {
                fixed.insert(e.id.as_str());
                s.worst_fixed = s.worst_fixed.max(e.severity);
            }
            introduced.extend(a.introduced.iter().map(|e| e.id.as_str()));
            remaining.extend(a.remaining.iter().map(|e| e.id.as_str()));
        }
        for change in p.packages.iter().flat_map(|d| &d.changes) {
            let slot = match change.kind {
                ChangeKind::Upgraded | ChangeKind::Changed => 0,
                ChangeKind::Downgraded => 1,
                ChangeKind::Added => 2,
                ChangeKind::Removed => 3,
            };
            by_kind[slot].insert(change.name.as_str());
        }
    }
    s.advisories_fixed = fixed.len();
    s.advisories_introduced = introduced.len();
    s.advisories_remaining = remaining.len();
    s.packages_upgraded = by_kind[0].len();
    s.packages_downgraded = by_kind[1].len();
    s.packages_added = by_kind[2].len();
    s.packages_removed = by_kind[3].len();
    s
}

/// `os/architecture[/variant]`.
pub fn platform_name(os: &str, architecture: &str, variant: Option<&str>) -> String {
    match variant {
        Some(v) if !v.is_empty() => format!("{os}/{architecture}/{v}"),
        _ => format!("{os}/{architecture}"),
    }
}
