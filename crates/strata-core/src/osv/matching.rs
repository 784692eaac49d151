//! vulnerability stage: which advisories affect which packages, and how that changes
//! between two images. The OSV schema's "Evaluation" rules: a version is affected when
//! it is listed in `versions`, or when, walking an `ECOSYSTEM` range's events in version
//! order (`introduced: "0"` first), the last `introduced` at or below it is not followed
//! by a `fixed` or `limit` at or below it, nor a `last_affected` below it. Pure.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::cvss::{Rating, cvss3_base_score};
use super::model::{Advisory, Affected, Range, Severity};
use crate::package::{Package, Release};
use crate::version::Scheme;

/// Advisories indexed by (ecosystem without release, package name).
#[derive(Debug, Default)]
pub struct AdvisoryIndex {
    advisories: Vec<Advisory>,
    by_package: HashMap<(String, String), Vec<(usize, usize)>>,
}

/// One advisory affecting one source package of an image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Rating>,
    /// The CVSS v3 base score, when the advisory has a vector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The source package the advisory names.
    pub source: String,
    /// Its version in the image.
    pub version: String,
    /// The first fixed version above it, when the advisory names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_in: Option<String>,
    /// The image's binary packages built from that source.
    pub packages: Vec<String>,
}

impl AdvisoryIndex {
    /// Indexes `advisories`; withdrawn ones are left out.
    pub fn new(advisories: impl IntoIterator<Item = Advisory>) -> AdvisoryIndex {
        let mut index = AdvisoryIndex::default();
        for advisory in advisories {
            if advisory.withdrawn.is_some() {
                continue;
            }
            let at = index.advisories.len();
            for (i, affected) in advisory.affected.iter().enumerate() {
                let Some(package) = &affected.package else {
                    continue;
                };
                let base = base_ecosystem(&package.ecosystem).to_owned();
                index
                    .by_package
                    .entry((base, package.name.clone()))
                    .or_default()
                    .push((at, i));
            }
            index.advisories.push(advisory);
        }
        index
    }

    /// How many advisories are indexed.
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Every advisory affecting `packages` of an image of `release`, one finding per
    /// (advisory, source package), sorted by id then source.
    pub fn matches(&self, release: &Release, packages: &[Package]) -> Vec<Finding> {
        let base = base_ecosystem(&release.ecosystem);
        // Source packages, each with its version and binary packages.
        let mut sources: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
        for p in packages {
            sources
                .entry((p.source.as_str(), p.source_version.as_str()))
                .or_default()
                .push(p.name.as_str());
        }
        let mut found: BTreeMap<(String, String), Finding> = BTreeMap::new();
        for ((source, version), binaries) in sources {
            let key = (base.to_owned(), source.to_owned());
            let Some(candidates) = self.by_package.get(&key) else {
                continue;
            };
            for &(a, i) in candidates {
                let advisory = &self.advisories[a];
                let affected = &advisory.affected[i];
                let ecosystem = affected
                    .package
                    .as_ref()
                    .map_or("", |p| p.ecosystem.as_str());
                if ecosystem != release.ecosystem && ecosystem != base {
                    continue;
                }
                let Some(fixed_in) = affects(affected, version, release.scheme) else {
                    continue;
                };
                let entry = found
                    .entry((advisory.id.clone(), source.to_owned()))
                    .or_insert_with(|| {
                        let (severity, score) = severity_of(advisory, affected);
                        Finding {
                            id: advisory.id.clone(),
                            aliases: advisory.aliases.clone(),
                            summary: advisory.summary.clone(),
                            severity,
                            score,
                            source: source.to_owned(),
                            version: version.to_owned(),
                            fixed_in: None,
                            packages: Vec::new(),
                        }
                    });
                if entry.fixed_in.is_none() {
                    entry.fixed_in = fixed_in;
                }
                for b in &binaries {
                    if !entry.packages.iter().any(|p| p == b) {
                        entry.packages.push((*b).to_owned());
                    }
                }
            }
        }
        found.into_values().collect()
    }
}

/// `Debian:12` -> `Debian`.
fn base_ecosystem(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

/// `Some(first fixed version above, if any)` when `version` is affected.
fn affects(affected: &Affected, version: &str, scheme: Scheme) -> Option<Option<String>> {
    if affected.versions.iter().any(|v| v == version) {
        return Some(None);
    }
    affected
        .ranges
        .iter()
        .filter(|r| r.kind == "ECOSYSTEM")
        .find_map(|range| in_range(range, version, scheme))
}

fn in_range(range: &Range, version: &str, scheme: Scheme) -> Option<Option<String>> {
    // (version, kind) with kind 0 introduced, 1 fixed, 2 last_affected, 3 limit.
    let mut events: Vec<(&str, u8)> = Vec::new();
    for event in &range.events {
        let pairs = [
            (&event.introduced, 0),
            (&event.fixed, 1),
            (&event.last_affected, 2),
            (&event.limit, 3),
        ];
        events.extend(
            pairs
                .into_iter()
                .filter_map(|(v, k)| Some((v.as_deref()?, k))),
        );
    }
    let order = |a: &str, b: &str| match (a == "0", b == "0") {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => scheme.compare(a, b),
    };
    events.sort_by(|a, b| order(a.0, b.0).then(a.1.cmp(&b.1)));
    let mut affected = false;
    for &(at, kind) in &events {
        let cmp = if at == "0" {
            Ordering::Greater
        } else {
            scheme.compare(version, at)
        };
        match kind {
            0 if cmp != Ordering::Less => affected = true,
            1 | 3 if cmp != Ordering::Less => affected = false,
            2 if cmp == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    if !affected {
        return None;
    }
    let fixed = events
        .iter()
        .find(|&&(at, kind)| {
            kind == 1 && at != "0" && scheme.compare(at, version) == Ordering::Greater
        })
        .map(|&(at, _)| at.to_owned());
    Some(fixed)
}

/// The best severity an advisory states: a CVSS v3 vector's score, else a word rating
/// (Ubuntu's `severity`, `database_specific.severity`, Debian's `urgency`).
fn severity_of(advisory: &Advisory, affected: &Affected) -> (Option<Rating>, Option<f64>) {
    let all: Vec<&Severity> = affected.severity.iter().chain(&advisory.severity).collect();
    if let Some(score) = all
        .iter()
        .filter(|s| s.kind.starts_with("CVSS_V3"))
        .find_map(|s| cvss3_base_score(&s.score))
    {
        return (Some(Rating::of(score)), Some(score));
    }
    let word = all
        .iter()
        .filter(|s| s.kind == "Ubuntu")
        .find_map(|s| Rating::parse(&s.score))
        .or_else(|| word_in(advisory.database_specific.as_ref(), "severity"))
        .or_else(|| word_in(affected.database_specific.as_ref(), "severity"))
        .or_else(|| word_in(affected.ecosystem_specific.as_ref(), "urgency"))
        .or_else(|| word_in(affected.ecosystem_specific.as_ref(), "severity"));
    (word, None)
}

fn word_in(value: Option<&serde_json::Value>, key: &str) -> Option<Rating> {
    Rating::parse(value?.get(key)?.as_str()?)
}

/// One advisory-and-source pair in the comparison of two images.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeltaEntry {
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<Rating>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub source: String,
    /// The source package's version in the old image (`None`: not affected there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_in: Option<String>,
}

/// What an update does to the advisories affecting an image.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AdvisoryDelta {
    /// Affect the old image, not the new one.
    pub fixed: Vec<DeltaEntry>,
    /// Affect the new image, not the old one.
    pub introduced: Vec<DeltaEntry>,
    /// Affect both.
    pub remaining: Vec<DeltaEntry>,
}

/// Compares the findings of the old and new images; each list sorted by severity
/// (worst first), then id.
pub fn delta(old: &[Finding], new: &[Finding]) -> AdvisoryDelta {
    let key = |f: &Finding| (f.id.clone(), f.source.clone());
    let old_by: BTreeMap<_, &Finding> = old.iter().map(|f| (key(f), f)).collect();
    let new_by: BTreeMap<_, &Finding> = new.iter().map(|f| (key(f), f)).collect();
    let mut out = AdvisoryDelta::default();
    let entry = |f: &Finding, old: Option<&Finding>, new: Option<&Finding>| DeltaEntry {
        id: f.id.clone(),
        aliases: f.aliases.clone(),
        summary: f.summary.clone(),
        severity: f.severity,
        score: f.score,
        source: f.source.clone(),
        old_version: old.map(|o| o.version.clone()),
        new_version: new.map(|n| n.version.clone()),
        fixed_in: new.or(old).and_then(|f| f.fixed_in.clone()),
    };
    for (k, f) in &old_by {
        match new_by.get(k) {
            Some(n) => out.remaining.push(entry(n, Some(f), Some(n))),
            None => out.fixed.push(entry(f, Some(f), None)),
        }
    }
    for (k, n) in &new_by {
        if !old_by.contains_key(k) {
            out.introduced.push(entry(n, None, Some(n)));
        }
    }
    for list in [&mut out.fixed, &mut out.introduced, &mut out.remaining] {
        list.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
    }
    out
}

#[cfg(test)]
mod tests;
