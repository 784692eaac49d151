//! act stage, for reading: `strata check --format json`, the documented and stable shape
//! (docs/checks.md). Builds values from a report; decides nothing.

use serde::Serialize;
use strata_core::check::{Finding, Severity};

use super::help_uri;
use crate::check::{Problem, Report};

/// The whole document.
#[derive(Debug, Serialize)]
pub struct CheckJson {
    pub findings: Vec<FindingJson>,
    pub errors: Vec<ErrorJson>,
    /// Checks that did not run, and why.
    pub not_checked: Vec<NotCheckedJson>,
    pub summary: SummaryJson,
}

#[derive(Debug, Serialize)]
pub struct FindingJson {
    /// The stable finding code (`moved-tag`).
    pub code: &'static str,
    /// `error`, `warning` or `note`, after the policy.
    pub severity: Severity,
    /// Relative to the scanned root, `/`-separated.
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The text as written.
    pub text: String,
    /// The normalised reference (`docker.io/library/python:3.12@sha256:…`), when the text
    /// is one.
    pub reference: Option<String>,
    /// The pinned digest.
    pub digest: Option<String>,
    /// What the tag points at now (when looked up).
    pub current_digest: Option<String>,
    /// Since when the tag points at `current_digest`, as far as strata has seen
    /// (RFC 3339); `null` on the first sighting.
    pub since: Option<String>,
    /// The last time strata saw the tag at the pinned digest.
    pub pinned_last_seen: Option<String>,
    /// When the official images dropped the tag (RFC 3339, the removing commit's date).
    pub removed: Option<String>,
    /// The official-images commit that dropped it (12 hex digits).
    pub removed_commit: Option<String>,
    /// The tag to move to (`python:3.12`).
    pub suggestion: Option<String>,
    pub message: String,
    /// The code's documentation.
    pub help_uri: String,
}

#[derive(Debug, Serialize)]
pub struct ErrorJson {
    pub file: Option<String>,
    pub line: Option<usize>,
    /// The tag or digest whose lookup failed.
    pub reference: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct NotCheckedJson {
    pub code: &'static str,
    pub reason: &'static str,
}

#[derive(Debug, Serialize)]
pub struct SummaryJson {
    pub files: usize,
    pub references: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Findings dropped by the policy.
    pub ignored: usize,
    pub tags_looked_up: usize,
    pub digests_verified: usize,
    pub registry_requests: u64,
    pub offline: bool,
    /// The exit code: 0 clean, 1 error findings, 2 errors.
    pub exit_code: u8,
}

pub fn finding_json(finding: &Finding) -> FindingJson {
    FindingJson {
        code: finding.code.as_str(),
        severity: finding.severity,
        file: finding.file.clone(),
        line: finding.line,
        column: finding.column,
        text: finding.text.clone(),
        reference: finding.reference.as_ref().map(ToString::to_string),
        digest: finding.digest.as_ref().map(ToString::to_string),
        current_digest: finding.current_digest.as_ref().map(ToString::to_string),
        since: finding.since.map(|t| t.to_string()),
        pinned_last_seen: finding.pinned_last_seen.map(|t| t.to_string()),
        removed: finding.removal.as_ref().map(|r| r.removed.to_string()),
        removed_commit: finding.removal.as_ref().map(|r| r.commit.clone()),
        suggestion: finding.suggestion.as_ref().map(ToString::to_string),
        message: finding.message.clone(),
        help_uri: help_uri(finding.code),
    }
}

pub fn error_json(problem: &Problem) -> ErrorJson {
    ErrorJson {
        file: problem.file.clone(),
        line: problem.line,
        reference: problem.reference.clone(),
        message: problem.message.clone(),
    }
}

/// Builds the document.
pub fn check_json(report: &Report) -> CheckJson {
    CheckJson {
        findings: report.findings.iter().map(finding_json).collect(),
        errors: report.problems.iter().map(error_json).collect(),
        not_checked: report
            .not_checked
            .iter()
            .map(|n| NotCheckedJson {
                code: n.code.as_str(),
                reason: n.reason,
            })
            .collect(),
        summary: SummaryJson {
            files: report.files,
            references: report.references,
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            notes: report.count(Severity::Note),
            ignored: report.ignored,
            tags_looked_up: report.tags_looked_up,
            digests_verified: report.digests_verified,
            registry_requests: report.requests,
            offline: report.offline,
            exit_code: report.exit_code(),
        },
    }
}
