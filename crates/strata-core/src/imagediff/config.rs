//! diff stage: an image configuration's runtime fields (image-spec config.md:
//! `config.Env`, `Labels`, `Entrypoint`, `Cmd`, `User`, `WorkingDir`, `ExposedPorts`, and
//! `created`) and the changes between two. Environment variables and labels are
//! compared by name, so one changed value is one change. Pure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ImageDiffError;

/// The compared fields of one image config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConfigView {
    pub created: Option<String>,
    pub env: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub exposed_ports: Vec<String>,
    /// `rootfs.diff_ids`, base first.
    pub diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<RawRun>,
    #[serde(default)]
    rootfs: Option<RawRootfs>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RawRun {
    #[serde(default)]
    env: Option<Vec<String>>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    entrypoint: Option<Vec<String>>,
    #[serde(default)]
    cmd: Option<Vec<String>>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    working_dir: Option<String>,
    #[serde(default)]
    exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

impl ConfigView {
    /// Reads a config blob.
    pub fn parse(bytes: &[u8]) -> Result<ConfigView, ImageDiffError> {
        let raw: Raw = serde_json::from_slice(bytes).map_err(|err| ImageDiffError::Config {
            detail: err.to_string(),
        })?;
        let run = raw.config.unwrap_or_default();
        let env = run
            .env
            .unwrap_or_default()
            .into_iter()
            .map(|pair| match pair.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (pair, String::new()),
            })
            .collect();
        Ok(ConfigView {
            created: raw.created,
            env,
            labels: run.labels.unwrap_or_default(),
            entrypoint: run.entrypoint,
            cmd: run.cmd,
            user: run.user.filter(|u| !u.is_empty()),
            working_dir: run.working_dir.filter(|w| !w.is_empty()),
            exposed_ports: run.exposed_ports.unwrap_or_default().into_keys().collect(),
            diff_ids: raw.rootfs.map(|r| r.diff_ids).unwrap_or_default(),
        })
    }
}

/// One changed field: `field` is `env PATH`, `label org.opencontainers.image.version`,
/// `entrypoint`, `cmd`, `user`, `workdir`, `port 8080/tcp` or `created`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigChange {
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// The changed fields, in a fixed order: created, entrypoint, cmd, user, workdir,
/// ports, environment, labels.
pub fn diff_config(old: &ConfigView, new: &ConfigView) -> Vec<ConfigChange> {
    let mut out = Vec::new();
    let mut field = |name: String, a: Option<String>, b: Option<String>| {
        if a != b {
            out.push(ConfigChange {
                field: name,
                old: a,
                new: b,
            });
        }
    };
    let words = |v: &Option<Vec<String>>| v.as_ref().map(|w| shell_words(w));
    field("created".into(), old.created.clone(), new.created.clone());
    field(
        "entrypoint".into(),
        words(&old.entrypoint),
        words(&new.entrypoint),
    );
    field("cmd".into(), words(&old.cmd), words(&new.cmd));
    field("user".into(), old.user.clone(), new.user.clone());
    field(
        "workdir".into(),
        old.working_dir.clone(),
        new.working_dir.clone(),
    );
    let mut ports: Vec<&String> = old.exposed_ports.iter().chain(&new.exposed_ports).collect();
    ports.sort();
    ports.dedup();
    for port in ports {
        let has = |v: &ConfigView| v.exposed_ports.contains(port).then(|| "exposed".to_owned());
        field(format!("port {port}"), has(old), has(new));
    }
    for (prefix, a, b) in [
        ("env", &old.env, &new.env),
        ("label", &old.labels, &new.labels),
    ] {
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            field(
                format!("{prefix} {key}"),
                a.get(key).cloned(),
                b.get(key).cloned(),
            );
        }
    }
    out
}

/// `["python3", "-m", "http.server"]` as `python3 -m http.server`, quoting words that
/// need it, so an exec-form list reads as the command it runs.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_per_field_and_per_variable() -> Result<(), ImageDiffError> {
        let old = ConfigView::parse(
            br#"{"created":"2024-01-01T00:00:00Z","config":{"Env":["PATH=/bin","PYTHON_VERSION=3.12.4"],
            "Labels":{"a":"1"},"Cmd":["python3"],"ExposedPorts":{"80/tcp":{}}},"rootfs":{"diff_ids":["sha256:1"]}}"#,
        )?;
        let new = ConfigView::parse(
            br#"{"created":"2024-02-01T00:00:00Z","config":{"Env":["PATH=/bin","PYTHON_VERSION=3.12.5"],
            "Labels":null,"Cmd":["python3","-c","print('hi')"],"User":"app","ExposedPorts":{"80/tcp":{},"443/tcp":{}}}}"#,
        )?;
        let got: Vec<(String, Option<String>, Option<String>)> = diff_config(&old, &new)
            .into_iter()
            .map(|c| (c.field, c.old, c.new))
            .collect();
        let s = |t: &str| Some(t.to_owned());
        assert_eq!(
            got,
            [
                (
                    "created".into(),
                    s("2024-01-01T00:00:00Z"),
                    s("2024-02-01T00:00:00Z")
                ),
                (
                    "cmd".into(),
                    s("python3"),
                    s("python3 -c 'print('\\''hi'\\'')'")
                ),
                ("user".into(), None, s("app")),
                ("port 443/tcp".into(), None, s("exposed")),
                ("env PYTHON_VERSION".into(), s("3.12.4"), s("3.12.5")),
                ("label a".into(), s("1"), None),
            ]
        );
        assert!(ConfigView::parse(b"[1,2]").is_err());
        Ok(())
    }
}
