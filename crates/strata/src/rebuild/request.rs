//! act stage, what a rebuild is told: the image, its base and the base's new digest, how
//! to build it (Dockerfile, target, platform, build arguments) and where its new pins are
//! (the commit and ref they were pushed to). One value, shown three ways: `STRATA_*`
//! environment variables for commands, a JSON payload for webhooks and dispatches, and
//! string inputs for GitHub workflows. Formats values; starts nothing.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use strata_core::graph::ImageRef;

use crate::config::workspace::Inputs;

/// What a rebuild is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The image to rebuild.
    pub image: ImageRef,
    /// Its final-stage base in the cascade (`None` when it has none there).
    pub base: Option<ImageRef>,
    /// The base's new digest.
    pub base_digest: String,
    /// 1-based level below the cascade's root.
    pub level: usize,
    /// The cascade run's id.
    pub cascade_id: i64,
    /// The Dockerfile that builds it, relative to its repository.
    pub dockerfile: Option<String>,
    /// The stage built, when not the last.
    pub target: Option<String>,
    /// The platform it is built for, when set.
    pub platform: Option<String>,
    /// Its build arguments, as its build must pass them (a pinned value with its new pin).
    pub build_args: BTreeMap<String, String>,
    /// The commit that carries its new pins (`pins = "commit"`).
    pub commit: Option<String>,
    /// The ref that commit was pushed to (`refs/heads/main`).
    pub git_ref: Option<String>,
}

impl Request {
    /// The values by their payload names, all as strings (absent ones empty):
    /// `image` is the familiar name (`org/app:1`), `image_full` the fully qualified one
    /// (`docker.io/org/app:1`); `build_args` is `NAME=value` lines.
    pub fn values(&self) -> Vec<(&'static str, String)> {
        let familiar = |i: &Option<ImageRef>| i.as_ref().map(ImageRef::familiar);
        let full = |i: &Option<ImageRef>| i.as_ref().map(ToString::to_string);
        vec![
            ("image", self.image.familiar()),
            ("image_full", self.image.to_string()),
            ("base_image", familiar(&self.base).unwrap_or_default()),
            ("base_image_full", full(&self.base).unwrap_or_default()),
            ("base_digest", self.base_digest.clone()),
            ("level", self.level.to_string()),
            ("cascade_id", self.cascade_id.to_string()),
            ("dockerfile", self.dockerfile.clone().unwrap_or_default()),
            ("target", self.target.clone().unwrap_or_default()),
            ("platform", self.platform.clone().unwrap_or_default()),
            ("build_args", self.build_arg_lines()),
            ("commit", self.commit.clone().unwrap_or_default()),
            ("ref", self.git_ref.clone().unwrap_or_default()),
        ]
    }

    /// The `STRATA_*` variables of a command (every one set, empty when unknown, so a
    /// script under `set -u` can read them all): `STRATA_IMAGE`, `STRATA_IMAGE_FULL`, …,
    /// `STRATA_REF`.
    pub fn variables(&self) -> Vec<(String, String)> {
        self.values()
            .into_iter()
            .map(|(name, value)| (format!("STRATA_{}", name.to_ascii_uppercase()), value))
            .collect()
    }

    /// The JSON body of webhooks and dispatches: every value, absent ones `null`,
    /// `level` and `cascade_id` as numbers, `build_args` as an object.
    pub fn payload(&self) -> Value {
        let mut map = Map::new();
        for (name, value) in self.values() {
            let value = match name {
                "level" => json!(self.level),
                "cascade_id" => json!(self.cascade_id),
                "build_args" => json!(self.build_args),
                _ if value.is_empty() => Value::Null,
                _ => Value::String(value),
            };
            map.insert(name.to_owned(), value);
        }
        Value::Object(map)
    }

    /// The workflow inputs `inputs` asks for, as strings (GitHub takes only strings, and
    /// refuses inputs the workflow does not declare).
    pub fn inputs(&self, inputs: &Inputs) -> Option<Value> {
        let wanted = inputs.names();
        if wanted.is_empty() {
            return None;
        }
        let values = self.values();
        let map: Map<String, Value> = wanted
            .iter()
            .filter_map(|name| values.iter().find(|(n, _)| n == name))
            .map(|(name, value)| ((*name).to_owned(), Value::String(value.clone())))
            .collect();
        Some(Value::Object(map))
    }

    fn build_arg_lines(&self) -> String {
        self.build_args
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            image: ImageRef::parse("org/app:1").unwrap(),
            base: Some(ImageRef::parse("python:3.12-slim").unwrap()),
            base_digest: "sha256:00".into(),
            level: 2,
            cascade_id: 7,
            dockerfile: Some("app/Dockerfile".into()),
            target: None,
            platform: Some("linux/amd64".into()),
            build_args: [("PY".to_owned(), "3.12".to_owned())].into(),
            commit: Some("abc".into()),
            git_ref: Some("refs/heads/main".into()),
        }
    }

    #[test]
    fn variables_name_images_both_ways_and_leave_none_unset() {
        let vars: BTreeMap<String, String> = request().variables().into_iter().collect();
        assert_eq!(vars["STRATA_IMAGE"], "org/app:1");
        assert_eq!(vars["STRATA_IMAGE_FULL"], "docker.io/org/app:1");
        assert_eq!(vars["STRATA_BASE_IMAGE"], "python:3.12-slim");
        assert_eq!(
            vars["STRATA_BASE_IMAGE_FULL"],
            "docker.io/library/python:3.12-slim"
        );
        assert_eq!(vars["STRATA_LEVEL"], "2");
        assert_eq!(vars["STRATA_TARGET"], "");
        assert_eq!(vars["STRATA_BUILD_ARGS"], "PY=3.12");
        assert_eq!(vars["STRATA_COMMIT"], "abc");
        assert_eq!(vars["STRATA_REF"], "refs/heads/main");
        assert_eq!(vars.len(), 13);
    }

    #[test]
    fn payload_keeps_numbers_and_objects_and_inputs_are_strings() {
        let r = request();
        let payload = r.payload();
        assert_eq!(payload["level"], 2);
        assert_eq!(payload["build_args"]["PY"], "3.12");
        assert_eq!(payload["target"], Value::Null);
        assert_eq!(payload["image_full"], "docker.io/org/app:1");
        let inputs = r.inputs(&Inputs::Default).unwrap();
        assert_eq!(inputs["level"], "2");
        assert_eq!(inputs.as_object().unwrap().len(), 5);
        let some = r
            .inputs(&Inputs::Names(vec!["commit".into(), "image".into()]))
            .unwrap();
        assert_eq!(some["commit"], "abc");
        assert_eq!(some.as_object().unwrap().len(), 2);
        assert!(r.inputs(&Inputs::None).is_none());
    }
}
