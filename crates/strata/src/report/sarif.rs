//! act stage, for reading: `strata check --format sarif`, a SARIF 2.1.0 log with one run
//! that GitHub code scanning (and other SARIF viewers) accept: every finding code as a
//! rule, every finding as a result with a location relative to `%SRCROOT%` and a
//! partial fingerprint that survives line moves. Builds JSON values; decides nothing.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use strata_core::check::{Code, Finding, Level, Policy};

use super::{HOME_URL, help_uri};
use crate::check::{Problem, Report};

/// The SARIF version written.
pub const VERSION: &str = "2.1.0";

/// The schema the log names (the OASIS 2.1.0 schema as published by SchemaStore).
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The base id locations are relative to.
pub const SRCROOT: &str = "%SRCROOT%";

/// The partial fingerprint's key (versioned: change it when the hash input changes).
pub const FINGERPRINT: &str = "strataFinding/v1";

/// The SARIF log for `report`. `root`, when it resolves, becomes `%SRCROOT%`'s URI.
pub fn sarif(report: &Report, policy: &Policy, root: Option<&Path>) -> Value {
    let rules: Vec<Value> = Code::ALL.iter().map(|&code| rule(code, policy)).collect();
    let fingerprints = fingerprints(&report.findings);
    let results: Vec<Value> = report
        .findings
        .iter()
        .zip(fingerprints)
        .map(|(finding, print)| result(finding, print))
        .collect();
    let notifications: Vec<Value> = report.problems.iter().map(notification).collect();
    let mut run = json!({
        "tool": {
            "driver": {
                "name": "strata",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": HOME_URL,
                "rules": rules,
            }
        },
        "invocations": [{
            "executionSuccessful": report.problems.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    let base = root
        .and_then(|r| std::path::absolute(r).ok())
        .and_then(|r| url::Url::from_directory_path(r).ok());
    if let (Some(base), Value::Object(fields)) = (base, &mut run) {
        let ids = json!({ SRCROOT: { "uri": base.as_str() } });
        fields.insert("originalUriBaseIds".to_owned(), ids);
    }
    json!({ "$schema": SCHEMA, "version": VERSION, "runs": [run] })
}

fn rule(code: Code, policy: &Policy) -> Value {
    let level = match policy.level(code) {
        Level::Report(severity) => severity.as_str(),
        Level::Ignore => "none",
    };
    json!({
        "id": code.as_str(),
        "name": pascal(code.as_str()),
        "shortDescription": { "text": code.title() },
        "fullDescription": {
            "text": code.description().replace('`', ""),
            "markdown": code.description(),
        },
        "help": {
            "text": format!("{} {}", code.description().replace('`', ""), code.help_text()),
            "markdown": format!("{}\n\n**Fix:** {}\n\n[Documentation]({})",
                code.description(), code.help(), help_uri(code)),
        },
        "helpUri": help_uri(code),
        "defaultConfiguration": { "level": level },
        "properties": { "tags": ["container-images", "supply-chain"], "precision": "very-high" },
    })
}

/// `moved-tag` -> `MovedTag` (SARIF rule names are identifiers).
fn pascal(code: &str) -> String {
    code.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn result(finding: &Finding, fingerprint: String) -> Value {
    let mut properties = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            properties.insert(key.to_owned(), Value::String(value));
        }
    };
    put(
        "reference",
        finding.reference.as_ref().map(ToString::to_string),
    );
    put("digest", finding.digest.as_ref().map(ToString::to_string));
    put(
        "currentDigest",
        finding.current_digest.as_ref().map(ToString::to_string),
    );
    put("since", finding.since.map(|t| t.to_string()));
    put(
        "removed",
        finding.removal.as_ref().map(|r| r.removed.to_string()),
    );
    put(
        "suggestion",
        finding.suggestion.as_ref().map(ToString::to_string),
    );
    json!({
        "ruleId": finding.code.as_str(),
        "ruleIndex": finding.code.index(),
        "kind": "fail",
        "level": finding.severity.as_str(),
        "message": { "text": finding.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact(&finding.file),
                "region": {
                    "startLine": finding.line.max(1),
                    "startColumn": finding.column.max(1),
                },
            }
        }],
        "partialFingerprints": { FINGERPRINT: fingerprint },
        "properties": properties,
    })
}

/// A relative path against `%SRCROOT%`; an absolute one (a file named on the command
/// line) as a `file:` URI.
fn artifact(file: &str) -> Value {
    if file.starts_with('/') {
        let uri = url::Url::from_file_path(file)
            .map(String::from)
            .unwrap_or_else(|()| encode(file));
        return json!({ "uri": uri });
    }
    json!({ "uri": encode(file), "uriBaseId": SRCROOT })
}

/// Percent-encodes everything but RFC 3986 unreserved characters and `/`.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A hash of what identifies a finding apart from its line: code, file, the reference
/// without its digest (or the text), and which repetition of that it is in the file.
fn fingerprints(findings: &[Finding]) -> Vec<String> {
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    findings
        .iter()
        .map(|finding| {
            let subject = match &finding.reference {
                Some(reference) => reference.without_digest().to_string(),
                None => finding.text.clone(),
            };
            let key = (
                finding.code.as_str().to_owned(),
                finding.file.clone(),
                subject,
            );
            let ordinal = seen.entry(key.clone()).or_insert(0);
            *ordinal += 1;
            let input = format!("{}\0{}\0{}\0{}", key.0, key.1, key.2, ordinal);
            hex::encode(Sha256::digest(input.as_bytes()))
        })
        .collect()
}

fn notification(problem: &Problem) -> Value {
    let mut text = problem.message.clone();
    if let Some(reference) = &problem.reference {
        text = format!("{reference}: {text}");
    }
    let mut value = json!({ "level": "error", "message": { "text": text } });
    if let (Some(file), Value::Object(fields)) = (&problem.file, &mut value) {
        let mut location = json!({ "physicalLocation": { "artifactLocation": artifact(file) } });
        if let Some(line) = problem.line {
            location["physicalLocation"]["region"] = json!({ "startLine": line.max(1) });
        }
        fields.insert("locations".to_owned(), json!([location]));
    }
    value
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_are_encoded_for_sarif() {
        assert_eq!(pascal("unresolved-variable"), "UnresolvedVariable");
        assert_eq!(encode("a b/ü%.yml"), "a%20b/%C3%BC%25.yml");
        assert_eq!(artifact("x/Dockerfile")["uriBaseId"], SRCROOT);
        assert_eq!(artifact("/abs/D f")["uri"], "file:///abs/D%20f");
    }
}
