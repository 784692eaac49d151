//! config stage: the `[check]` part of `strata.toml` — the policy `strata check` applies
//! (severity per finding code, ignore rules by image and by path), where the Docker
//! Official Images library is, and whether to publish a GitHub check run. A raw serde
//! shape validated into typed values; reads nothing but the config text.
//!
//! ```toml
//! [check]
//! official_images = "../official-images"   # library/ + removed-tags.json; relative to
//!                                           # this file
//! github_check_run = true                   # publish a check run (in GitHub Actions)
//! severity = { moved-tag = "warning", digest-only = "ignore" }  # error|warning|note|ignore
//!
//! [[check.ignore]]
//! image = "ghcr.io/acme/*"                  # familiar or full name, with or without tag
//! codes = ["unpinned"]                      # optional: default every code
//!
//! [[check.ignore]]
//! path = "legacy/**"                        # relative to the scanned root
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use strata_core::check::{Code, Glob, Ignore, Level, Policy};

use super::ConfigError;

/// The validated `[check]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSettings {
    /// Severities and ignore rules.
    pub policy: Policy,
    /// A directory with `library/` (and `removed-tags.json`), resolved against the
    /// config file's directory.
    pub official_images: Option<PathBuf>,
    /// Publish a GitHub check run with the findings.
    pub github_check_run: bool,
}

/// `[check]` as written.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Check")]
pub struct RawCheck {
    /// A Docker Official Images checkout or copy (`library/`, `removed-tags.json`),
    /// relative to this file.
    official_images: Option<String>,
    /// Publish the findings as a GitHub check run.
    github_check_run: Option<bool>,
    /// Severity per finding code: `error`, `warning`, `note` or `ignore`.
    #[serde(default)]
    #[schemars(schema_with = "severity_schema")]
    severity: BTreeMap<String, String>,
    /// Findings left out by image or path.
    #[serde(default)]
    ignore: Vec<RawIgnore>,
}

/// The severity table: known codes only, known levels only.
fn severity_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    schemars::json_schema!({
        "type": "object",
        "propertyNames": { "enum": codes },
        "additionalProperties": { "enum": ["error", "warning", "note", "ignore"] },
    })
}

/// One `[[check.ignore]]` as written.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Ignore")]
struct RawIgnore {
    /// Images to leave out: a glob on the familiar or full name, with or without tag.
    image: Option<String>,
    /// Files to leave out: a glob relative to the scanned root.
    path: Option<String>,
    /// The finding codes left out (default: every code).
    #[serde(default)]
    codes: Vec<String>,
    /// Why (for readers of the file; not used).
    #[serde(default, rename = "reason")]
    #[schemars(rename = "reason")]
    _reason: Option<String>,
}

/// Checks `[check]` (absent: the defaults).
pub fn validate(raw: Option<RawCheck>, file: &Path) -> Result<CheckSettings, ConfigError> {
    let Some(raw) = raw else {
        return Ok(CheckSettings::default());
    };
    let error = |key: String, message: String| ConfigError {
        file: file.to_owned(),
        at: None,
        key: Some(key),
        message,
    };
    let mut policy = Policy::default();
    for (name, level) in &raw.severity {
        let key = || format!("check.severity.{name}");
        let code = Code::parse(name).ok_or_else(|| error(key(), unknown_code(name)))?;
        let level = Level::parse(level).ok_or_else(|| {
            let message = format!(
                "{level:?} is not a level; use \"error\", \"warning\", \"note\" or \"ignore\""
            );
            error(key(), message)
        })?;
        policy.set_level(code, level);
    }
    for (i, rule) in raw.ignore.iter().enumerate() {
        let key = |part: &str| format!("check.ignore[{i}]{part}");
        let glob = |part: &str, text: &Option<String>| {
            text.as_deref()
                .map(|t| Glob::new(t).map_err(|e| error(key(part), e.to_string())))
                .transpose()
        };
        let image = glob(".image", &rule.image)?;
        let path = glob(".path", &rule.path)?;
        if image.is_none() && path.is_none() {
            let message = "an ignore rule needs `image` or `path` (to ignore a code everywhere, \
                           set it to \"ignore\" in check.severity)";
            return Err(error(key(""), message.to_owned()));
        }
        let mut codes = Vec::with_capacity(rule.codes.len());
        for (j, name) in rule.codes.iter().enumerate() {
            let code = Code::parse(name)
                .ok_or_else(|| error(key(&format!(".codes[{j}]")), unknown_code(name)))?;
            codes.push(code);
        }
        policy.ignore(Ignore { codes, image, path });
    }
    let official_images = raw.official_images.map(|dir| {
        let base = file.parent().unwrap_or(Path::new(""));
        base.join(dir)
    });
    Ok(CheckSettings {
        policy,
        official_images,
        github_check_run: raw.github_check_run.unwrap_or(false),
    })
}

fn unknown_code(name: &str) -> String {
    let known: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    format!(
        "{name:?} is not a finding code; known: {}",
        known.join(", ")
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use strata_core::check::Severity;

    use super::*;

    fn parse(text: &str) -> Result<CheckSettings, String> {
        #[derive(Deserialize)]
        struct Doc {
            check: Option<RawCheck>,
        }
        let doc: Doc = toml::from_str(text).map_err(|e| e.to_string())?;
        validate(doc.check, Path::new("/repo/strata.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_section_becomes_a_policy() {
        let settings = parse(
            "[check]\nofficial_images = \"oi\"\ngithub_check_run = true\n\
             severity = { moved-tag = \"warning\", digest-only = \"ignore\" }\n\
             [[check.ignore]]\nimage = \"ghcr.io/acme/*\"\ncodes = [\"unpinned\"]\n\
             [[check.ignore]]\npath = \"legacy/**\"\nreason = \"frozen\"\n",
        )
        .unwrap();
        assert_eq!(settings.official_images, Some(PathBuf::from("/repo/oi")));
        assert!(settings.github_check_run);
        let policy = &settings.policy;
        assert_eq!(
            policy.level(Code::MovedTag),
            Level::Report(Severity::Warning)
        );
        assert_eq!(policy.level(Code::DigestOnly), Level::Ignore);
        assert_eq!(policy.level(Code::Unpinned), Level::Report(Severity::Error));
        assert_eq!(policy.ignores().len(), 2);
        assert_eq!(policy.ignores()[0].codes, [Code::Unpinned]);
        assert_eq!(parse("").unwrap(), CheckSettings::default());
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let cases = [
            (
                "[check]\nseverity = { moved = \"warning\" }",
                "check.severity.moved: ",
            ),
            (
                "[check]\nseverity = { moved-tag = \"loud\" }",
                "check.severity.moved-tag: ",
            ),
            (
                "[check]\n[[check.ignore]]\ncodes = [\"unpinned\"]",
                "check.ignore[0]: ",
            ),
            (
                "[check]\n[[check.ignore]]\nimage = \"a[b\"",
                "check.ignore[0].image: ",
            ),
            (
                "[check]\n[[check.ignore]]\npath = \"x\"\ncodes = [\"unpinned\", \"nope\"]",
                "check.ignore[0].codes[1]: ",
            ),
        ];
        for (text, want) in cases {
            let message = parse(text).unwrap_err();
            assert!(
                message.starts_with(&format!("/repo/strata.toml: {want}")),
                "{text}: {message}"
            );
        }
        assert!(
            parse("[check]\nstrict = true")
                .unwrap_err()
                .contains("strict")
        );
    }
}
