//! vulnerability stage: the OSV record, as osv-schema's schema.json defines it; only the
//! fields matching and reports use. Unknown fields are ignored, so newer schema versions
//! still read. Pure.

use serde::{Deserialize, Serialize};

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OsvError {
    /// Not JSON, or not an OSV record.
    #[error("not an OSV record: {detail}")]
    Invalid { detail: String },
}

/// One OSV advisory.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Advisory {
    pub id: String,
    #[serde(default)]
    pub modified: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// A withdrawn advisory matches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// `severity[]`: a scoring system and its score (a CVSS vector, or Ubuntu's words).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Severity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

/// `affected[]`: one package and the versions of it affected.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Affected {
    #[serde(default)]
    pub package: Option<OsvPackage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severity: Vec<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem_specific: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_specific: Option<serde_json::Value>,
}

/// `affected[].package`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OsvPackage {
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
}

/// `affected[].ranges[]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Range {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event: exactly one of the fields is set (the schema's `oneOf`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl Advisory {
    /// Reads one record.
    pub fn parse(bytes: &[u8]) -> Result<Advisory, OsvError> {
        let advisory: Advisory =
            serde_json::from_slice(bytes).map_err(|err| OsvError::Invalid {
                detail: err.to_string(),
            })?;
        if advisory.id.trim().is_empty() {
            return Err(OsvError::Invalid {
                detail: "the record has an empty `id`".to_owned(),
            });
        }
        Ok(advisory)
    }
}
