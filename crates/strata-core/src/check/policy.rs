//! decide stage, for `check`: the repository's policy over findings: the severity of
//! each code (or that it is ignored) and ignore rules by image and by path. Pure: the
//! policy arrives validated from the caller's config file.

use std::collections::BTreeMap;
use std::fmt;

use super::code::{Code, Severity};
use super::finding::Finding;
use super::glob::Glob;
use crate::reference::Reference;

/// What the policy makes of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Report with this severity.
    Report(Severity),
    /// Do not report at all.
    Ignore,
}

impl Level {
    /// `error`, `warning`, `note` or `ignore`.
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text {
            "error" => Level::Report(Severity::Error),
            "warning" => Level::Report(Severity::Warning),
            "note" => Level::Report(Severity::Note),
            "ignore" => Level::Ignore,
            _ => return None,
        })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Report(severity) => severity.fmt(f),
            Level::Ignore => f.write_str("ignore"),
        }
    }
}

/// One ignore rule: findings matching every part given are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// Only these codes (empty: every code).
    pub codes: Vec<Code>,
    /// Matched against the reference's familiar name (`python`), familiar name with tag
    /// (`python:2.7`), full name (`docker.io/library/python`) and full name with tag;
    /// for findings without a reference, against the text as written.
    pub image: Option<Glob>,
    /// Matched against the file's path relative to the scanned root; a pattern with no
    /// `/` matches the file name at any depth (as in `.gitignore`).
    pub path: Option<Glob>,
}

impl Ignore {
    /// Whether this rule drops `finding`.
    pub fn matches(&self, finding: &Finding) -> bool {
        let code = self.codes.is_empty() || self.codes.contains(&finding.code);
        let image = self
            .image
            .as_ref()
            .is_none_or(|glob| match &finding.reference {
                Some(reference) => image_matches(glob, reference),
                None => glob.matches(&finding.text),
            });
        let path = self.path.as_ref().is_none_or(|glob| {
            let name = finding.file.rsplit('/').next().unwrap_or(&finding.file);
            glob.matches(&finding.file) || (!glob.has_slash() && glob.matches(name))
        });
        code && image && path
    }

    /// Whether this rule leaves `file` out entirely: a rule with only `path` drops every
    /// finding of the file, so the file is not checked at all (what it cannot be read
    /// as is not reported either).
    pub fn covers_file(&self, file: &str) -> bool {
        self.codes.is_empty()
            && self.image.is_none()
            && self.path.as_ref().is_some_and(|glob| {
                let name = file.rsplit('/').next().unwrap_or(file);
                glob.matches(file) || (!glob.has_slash() && glob.matches(name))
            })
    }
}

fn image_matches(glob: &Glob, reference: &Reference) -> bool {
    let tag = reference.tag().unwrap_or("latest");
    let familiar = reference.familiar_name();
    let full = reference.name();
    [
        familiar.clone(),
        format!("{familiar}:{tag}"),
        full.clone(),
        format!("{full}:{tag}"),
    ]
    .iter()
    .any(|form| glob.matches(form))
}

/// Severities per code and ignore rules. `Policy::default()` reports every code at its
/// default severity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    levels: BTreeMap<Code, Level>,
    ignores: Vec<Ignore>,
}

impl Policy {
    /// Sets the level of `code` (the last setting wins).
    pub fn set_level(&mut self, code: Code, level: Level) {
        self.levels.insert(code, level);
    }

    /// Adds an ignore rule.
    pub fn ignore(&mut self, rule: Ignore) {
        self.ignores.push(rule);
    }

    /// The level of `code`: the policy's, else the code's default severity.
    pub fn level(&self, code: Code) -> Level {
        self.levels
            .get(&code)
            .copied()
            .unwrap_or(Level::Report(code.default_severity()))
    }

    /// The ignore rules, in order.
    pub fn ignores(&self) -> &[Ignore] {
        &self.ignores
    }

    /// Whether a path-only ignore rule leaves `file` out entirely (see
    /// [`Ignore::covers_file`]).
    pub fn skips_file(&self, file: &str) -> bool {
        self.ignores.iter().any(|rule| rule.covers_file(file))
    }

    /// Sets each finding's severity and drops the ignored ones; returns how many were
    /// dropped.
    pub fn apply(&self, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        findings.retain_mut(|finding| match self.level(finding.code) {
            Level::Ignore => false,
            Level::Report(severity) => {
                finding.severity = severity;
                !self.ignores.iter().any(|rule| rule.matches(finding))
            }
        });
        before - findings.len()
    }
}
