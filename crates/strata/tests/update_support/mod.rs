//! Shared by the `update_*` tests: real git repositories in temp dirs (with a bare
//! `origin` when asked), the binary run in a clean environment (its own HOME, cache and
//! state database, no system git config), and tags seeded and moved on the real
//! registry. Files are written from templates whose `{name}` marks are replaced by the
//! digest a tag points at.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use strata_testkit::{Format, Image, Index, TestRegistry};

use crate::pin_support::{Run, mirror_flags};

/// A git repository on branch `main`, plus a home, a cache and a state database.
pub struct GitRepo {
    pub dir: tempfile::TempDir,
}

impl GitRepo {
    /// Writes `files` and commits them on `main`; with `identity`, the repository's own
    /// config names the author.
    pub fn new(files: &[(&str, String)], identity: bool) -> GitRepo {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["repo", "home", "cache", "state"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let repo = GitRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        if identity {
            repo.git(&["config", "user.name", "Repo Owner"]);
            repo.git(&["config", "user.email", "owner@example.com"]);
        }
        repo.write(files);
        repo.git(&["add", "-A"]);
        repo.commit("initial");
        repo
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state/state.db")
    }

    pub fn origin(&self) -> PathBuf {
        self.dir.path().join("origin.git")
    }

    pub fn write(&self, files: &[(&str, String)]) {
        for (path, text) in files {
            let full = self.root().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root().join(path)).unwrap()
    }

    /// Runs git in the repository (no system or global config); panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        git_in(&self.root(), &self.dir.path().join("home"), args)
    }

    /// Commits everything staged with a fixed identity (the test's, not strata's).
    pub fn commit(&self, message: &str) {
        self.git(&[
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "-q",
            "-m",
            message,
        ]);
    }

    /// A bare `origin` with `main` pushed to it.
    pub fn add_origin(&self) {
        git_in(
            self.dir.path(),
            &self.dir.path().join("home"),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        self.git(&["remote", "add", "origin", self.origin().to_str().unwrap()]);
        self.git(&["push", "-q", "origin", "main"]);
    }

    /// The commit `revision` names, if any.
    pub fn rev(&self, revision: &str) -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.root())
            .args([
                "rev-parse",
                "--verify",
                "-q",
                &format!("{revision}^{{commit}}"),
            ])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_owned())
    }

    /// The commit `branch` has in the bare origin, if any.
    pub fn origin_rev(&self, branch: &str) -> Option<String> {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.origin())
            .args([
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}"),
            ])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_owned())
    }

    /// Runs the binary in the repository with a clean environment plus `env`.
    pub async fn strata(&self, args: &[&str], env: &[(&str, String)]) -> Run {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_strata"));
        command
            .args(args)
            .current_dir(self.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("STRATA_CACHE_DIR", self.dir.path().join("cache"))
            .env("STRATA_STATE", self.state())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        Run::from(command.output().await.unwrap())
    }
}

/// Runs git in `dir` with `home` as HOME and no system config; panics on failure.
pub fn git_in(dir: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Fills `{name}` marks in `template` with `digests[name]`.
pub fn fill(template: &str, digests: &BTreeMap<&str, String>) -> String {
    let mut out = template.to_owned();
    for (name, digest) in digests {
        out = out.replace(&format!("{{{name}}}"), digest);
    }
    out
}

/// The registry with tags seeded, and the mirror flags that send Docker Hub and
/// ghcr.io to it.
pub struct Registry {
    pub registry: TestRegistry,
    pub flags: Vec<String>,
    generation: std::sync::atomic::AtomicUsize,
}

impl Registry {
    pub async fn start() -> Registry {
        let registry = TestRegistry::start().await.unwrap();
        let flags = mirror_flags(&["docker.io", "ghcr.io"], &registry.host());
        Registry {
            registry,
            flags,
            generation: Default::default(),
        }
    }

    /// Points `repo:tag` at a new single-platform image; returns its digest.
    pub async fn image(&self, repo: &str, tag: &str) -> String {
        let n = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let image = Image::new(&format!("{repo}:{tag}:{n}"));
        self.registry
            .seeder()
            .push_image(repo, tag, &image)
            .await
            .unwrap()
    }

    /// Points `repo:tag` at a new amd64+arm64 index whose images carry source and
    /// revision labels; returns its digest.
    pub async fn index(&self, repo: &str, tag: &str, source: &str, revision: &str) -> Index {
        let n = self
            .generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let image = |arch: &str| {
            Image::new(&format!("{repo}:{tag}:{n}:{arch}"))
                .platform("linux", arch)
                .source(source)
                .revision(revision)
        };
        let index = Index::new(Format::Oci, vec![image("amd64"), image("arm64")]);
        self.registry
            .seeder()
            .push_index(repo, tag, &index)
            .await
            .unwrap();
        index
    }

    /// `base` followed by the mirror flags.
    pub fn args<'a>(&'a self, base: &[&'a str]) -> Vec<&'a str> {
        let mut out = base.to_vec();
        out.extend(self.flags.iter().map(String::as_str));
        out
    }
}

/// Panics with the run's output unless it exited with `code`.
pub fn assert_code(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// The lines a unified diff removes and adds (without the `-`/`+`).
pub fn changed_lines(diff: &str) -> (Vec<String>, Vec<String>) {
    let removed = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .map(|l| l[1..].to_owned())
        .collect();
    let added = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| l[1..].to_owned())
        .collect();
    (removed, added)
}

/// A folder holding several git repositories (`ws/<name>`, each on `main`, each with a
/// bare origin `origins/<name>.git` that `https://forge.invalid/acme/<name>.git` is
/// rewritten to, so its forge slug is `acme/<name>`), files in none, and a home, a
/// cache and a state database beside it.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["ws", "home", "cache", "state", "origins"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Workspace { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state/state.db")
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Writes files, their paths relative to the workspace.
    pub fn write(&self, files: &[(&str, String)]) {
        for (path, text) in files {
            let full = self.root().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root().join(path)).unwrap()
    }

    /// A repository at `ws/<name>` with `files` (relative to it) committed on `main`
    /// and pushed to its origin.
    pub fn repo(&self, name: &str, files: &[(&str, String)]) {
        let root = self.root().join(name);
        std::fs::create_dir_all(&root).unwrap();
        self.git(name, &["init", "-q", "-b", "main"]);
        for (path, text) in files {
            let full = root.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        self.git(name, &["add", "-A"]);
        self.git(
            name,
            &[
                "-c",
                "user.name=Test",
                "-c",
                "user.email=test@example.com",
                "commit",
                "-q",
                "-m",
                "initial",
            ],
        );
        let slug = name.rsplit('/').next().unwrap();
        let bare = format!("{slug}.git");
        git_in(
            &self.dir.path().join("origins"),
            &self.home(),
            &["init", "-q", "--bare", "-b", "main", &bare],
        );
        let origins = format!("{}/", self.dir.path().join("origins").display());
        let url = format!("https://forge.invalid/acme/{slug}.git");
        self.git(name, &["config", "user.name", "Repo Owner"]);
        self.git(name, &["config", "user.email", "owner@example.com"]);
        self.git(
            name,
            &[
                "config",
                &format!("url.{origins}.insteadOf"),
                "https://forge.invalid/acme/",
            ],
        );
        self.git(name, &["remote", "add", "origin", &url]);
        self.git(name, &["push", "-q", "origin", "main"]);
    }

    /// Runs git in the repository `ws/<name>`; panics on failure.
    pub fn git(&self, name: &str, args: &[&str]) -> String {
        git_in(&self.root().join(name), &self.home(), args)
    }

    /// The commit `revision` names in `ws/<name>`, if any.
    pub fn rev(&self, name: &str, revision: &str) -> Option<String> {
        let spec = format!("{revision}^{{commit}}");
        let out = Command::new("git")
            .arg("-C")
            .arg(self.root().join(name))
            .args(["rev-parse", "--verify", "-q", &spec])
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_owned())
    }

    /// The commit `branch` has in the origin of `ws/<name>`, if any.
    pub fn origin_rev(&self, name: &str, branch: &str) -> Option<String> {
        let slug = name.rsplit('/').next().unwrap();
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.dir.path().join("origins").join(format!("{slug}.git")))
            .args([
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}"),
            ])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_owned())
    }

    /// The `strata/…` branches of `ws/<name>`.
    pub fn branches(&self, name: &str) -> Vec<String> {
        self.git(
            name,
            &[
                "for-each-ref",
                "--format=%(refname:short)",
                "refs/heads/strata/",
            ],
        )
        .lines()
        .map(str::to_owned)
        .collect()
    }

    /// Runs the binary in the workspace with a clean environment plus `env`.
    pub async fn strata(&self, args: &[&str], env: &[(&str, String)]) -> Run {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_strata"));
        command
            .args(args)
            .current_dir(self.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("STRATA_CACHE_DIR", self.dir.path().join("cache"))
            .env("STRATA_STATE", self.state())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        Run::from(command.output().await.unwrap())
    }
}
