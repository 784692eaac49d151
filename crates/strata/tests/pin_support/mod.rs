//! Shared by the `pin_*` tests: repositories written from templates whose pins are
//! marked, the binary run in a clean environment, and the registry's view of digests.
//!
//! A template marks each expected pin as `«[PREFIX]@REPO:TAG»` right where the pin goes:
//! the file on disk has the marks removed, and the expected pinned text has each mark
//! replaced by `PREFIX@<digest REPO:TAG serves>` (PREFIX is `:latest` for a name written
//! without a tag).

#![allow(dead_code, unreachable_pub)] // each test file uses its own part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use strata_testkit::TestRegistry;

/// A repository in a temp dir, plus a home and a cache for the binary.
pub struct Repo {
    pub dir: tempfile::TempDir,
    /// Relative path -> template.
    pub templates: BTreeMap<String, String>,
}

impl Repo {
    pub fn new(files: &[(&str, &str)]) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["repo", "home", "cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let repo = Repo {
            dir,
            templates: files
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
        };
        for (path, template) in &repo.templates {
            let full = repo.root().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, unmarked(template)).unwrap();
        }
        repo
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root().join(path)).unwrap()
    }

    /// Every file's expected pinned text, with digests from `digests` ("repo:tag" ->
    /// digest).
    pub fn expected(&self, digests: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        self.templates
            .iter()
            .map(|(p, t)| (p.clone(), marked(t, digests)))
            .collect()
    }

    /// Every "repo:tag" the templates mark.
    pub fn marked_tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self
            .templates
            .values()
            .flat_map(|t| marks(t).into_iter().map(|(_, key)| key))
            .collect();
        tags.sort();
        tags.dedup();
        tags
    }

    /// Runs the binary with `args` in a clean environment (its own HOME and cache).
    pub async fn strata(&self, args: &[&str]) -> Run {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .current_dir(self.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("STRATA_CACHE_DIR", self.cache())
            .env("NO_COLOR", "1")
            .output()
            .await
            .unwrap();
        Run::from(output)
    }

    /// (path, length, modified time, inode) of every file under the repository.
    pub fn stamps(&self) -> Vec<(PathBuf, u64, std::time::SystemTime, u64)> {
        let mut out = Vec::new();
        walk(&self.root(), &mut out);
        out.sort();
        out
    }
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, u64, std::time::SystemTime, u64)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            walk(&path, out);
        } else {
            #[cfg(unix)]
            let inode = std::os::unix::fs::MetadataExt::ino(&meta);
            #[cfg(not(unix))]
            let inode = 0;
            out.push((path, meta.len(), meta.modified().unwrap(), inode));
        }
    }
}

/// What a run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// (prefix, "repo:tag") of every mark, in order.
fn marks(template: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('«') {
        let after = &rest[open + '«'.len_utf8()..];
        let close = after.find('»').unwrap();
        let (prefix, key) = after[..close].split_once('@').unwrap();
        out.push((prefix.to_owned(), key.to_owned()));
        rest = &after[close + '»'.len_utf8()..];
    }
    out
}

/// The template as written to disk: marks removed.
pub fn unmarked(template: &str) -> String {
    replace_marks(template, |_, _| String::new())
}

/// The template as pinned: each mark replaced by `PREFIX@digest`.
pub fn marked(template: &str, digests: &BTreeMap<String, String>) -> String {
    replace_marks(template, |prefix, key| {
        let digest = digests
            .get(key)
            .unwrap_or_else(|| panic!("no digest for {key}"));
        format!("{prefix}@{digest}")
    })
}

fn replace_marks(template: &str, with: impl Fn(&str, &str) -> String) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('«') {
        out.push_str(&rest[..open]);
        let after = &rest[open + '«'.len_utf8()..];
        let close = after.find('»').unwrap();
        let (prefix, key) = after[..close].split_once('@').unwrap();
        out.push_str(&with(prefix, key));
        rest = &after[close + '»'.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// The digest the registry serves for each "repo:tag", read independently of strata.
pub async fn served(registry: &TestRegistry, tags: &[String]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for key in tags {
        let (repo, tag) = key.rsplit_once(':').unwrap();
        let digest = strata_testkit::manifest_digest(registry, repo, tag)
            .await
            .unwrap();
        out.insert(key.clone(), digest);
    }
    out
}

/// `--registry-mirror` flags sending each registry to `host`.
pub fn mirror_flags(registries: &[&str], host: &str) -> Vec<String> {
    registries
        .iter()
        .flat_map(|r| ["--registry-mirror".to_owned(), format!("{r}={host}")])
        .collect()
}
