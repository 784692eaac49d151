//! config stage: the `[update]` part of `strata.toml` — how `strata update` bundles moved
//! pins into branches and what its pull requests carry. A raw serde shape validated into
//! typed values; reads nothing but the config text.
//!
//! ```toml
//! [update]
//! group = "base"                 # one branch per moved base tag; or "repository": one
//!                                # branch for every move, one commit per base
//! labels = ["dependencies"]      # put on newly opened pull requests
//! cascade = true                 # rebuild the managed images below a moved base
//!                                # (default: on when the file declares [workspace])
//! ```

use std::path::Path;

use serde::Deserialize;
use strata_core::update::Grouping;

use super::ConfigError;

/// The validated `[update]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateSettings {
    /// How moves are bundled into branches.
    pub group: Grouping,
    /// Labels put on a newly opened pull request.
    pub labels: Vec<String>,
    /// Cascade rebuilds from every moved base with managed images below it; `None`:
    /// as the config says by declaring `[workspace]` or not.
    pub cascade: Option<bool>,
}

/// `[update]` as written.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Update")]
pub struct RawUpdate {
    /// `base`: one branch per moved base tag (default); `repository`: one branch for
    /// every move, one commit per base.
    #[schemars(extend("enum" = ["base", "repository"]))]
    group: Option<String>,
    /// Labels put on newly opened pull requests.
    #[serde(default)]
    labels: Vec<String>,
    /// Rebuild the managed images below a moved base (default: on when the file
    /// declares `[workspace]`).
    cascade: Option<bool>,
}

/// Checks `[update]` (absent: the defaults).
pub fn validate(raw: Option<RawUpdate>, file: &Path) -> Result<UpdateSettings, ConfigError> {
    let Some(raw) = raw else {
        return Ok(UpdateSettings::default());
    };
    let error = |key: String, message: String| ConfigError {
        file: file.to_owned(),
        at: None,
        key: Some(key),
        message,
    };
    let group = match raw.group.as_deref() {
        None | Some("base") => Grouping::Base,
        Some("repository") => Grouping::Repository,
        Some(other) => {
            return Err(error(
                "update.group".to_owned(),
                format!("{other:?} is not a grouping; use \"base\" or \"repository\""),
            ));
        }
    };
    let mut labels = Vec::with_capacity(raw.labels.len());
    for (i, label) in raw.labels.iter().enumerate() {
        let trimmed = label.trim();
        if trimmed.is_empty() {
            return Err(error(
                format!("update.labels[{i}]"),
                "a label cannot be empty".to_owned(),
            ));
        }
        if !labels.iter().any(|l: &String| l == trimmed) {
            labels.push(trimmed.to_owned());
        }
    }
    Ok(UpdateSettings {
        group,
        labels,
        cascade: raw.cascade,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<UpdateSettings, String> {
        #[derive(Deserialize)]
        struct Doc {
            update: Option<RawUpdate>,
        }
        let doc: Doc = toml::from_str(text).map_err(|e| e.to_string())?;
        validate(doc.update, Path::new("/r/strata.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn absent_or_empty_is_per_base_without_labels() {
        assert_eq!(parse("").unwrap(), UpdateSettings::default());
        assert_eq!(parse("[update]").unwrap().group, Grouping::Base);
    }

    #[test]
    fn grouping_and_labels_are_read() {
        let settings =
            parse("[update]\ngroup = \"repository\"\nlabels = [\" deps \", \"deps\", \"x\"]")
                .unwrap();
        assert_eq!(settings.group, Grouping::Repository);
        assert_eq!(settings.labels, ["deps", "x"]);
        assert_eq!(settings.cascade, None);
        assert_eq!(
            parse("[update]\ncascade = false").unwrap().cascade,
            Some(false)
        );
        assert!(parse("[update]\ncascade = \"yes\"").is_err());
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = parse("[update]\ngroup = \"file\"").unwrap_err();
        assert_eq!(
            err,
            "/r/strata.toml: update.group: \"file\" is not a grouping; use \"base\" or \"repository\""
        );
        let err = parse("[update]\nlabels = [\"\"]").unwrap_err();
        assert!(err.contains("update.labels[0]"), "{err}");
        assert!(parse("[update]\nbranch = \"x\"").is_err());
    }
}
