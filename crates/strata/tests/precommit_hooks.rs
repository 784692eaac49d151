//! `.pre-commit-hooks.yaml` with the real pre-commit (from PyPI, put in
//! target/test-deps/ by scripts/install-test-deps): `pre-commit try-repo` against a local
//! clone of this repository, on a temporary git repository. Staging an unpinned `FROM`
//! fails `strata-check` with the finding on screen; a pinned one passes; `strata-pin`
//! shows the diff that pins it (tags looked up in the real registry on 127.0.0.1).
//! `strata-check` sends no registry request.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata_testkit::{Image, TestRegistry};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn pre_commit() -> PathBuf {
    let path = repository_root().join("target/test-deps/pre-commit/bin/pre-commit");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/install-test-deps (it installs pre-commit from PyPI there)",
        path.display()
    );
    path
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A clone of this repository with the hooks file as it is in the working tree (so the
/// test reads the file being changed, committed or not).
fn hooks_clone(temp: &Path) -> PathBuf {
    let clone = temp.join("strata-clone");
    let root = repository_root();
    let cloned = Command::new("git")
        .args(["clone", "--quiet", "--depth", "1"])
        .arg(format!("file://{}", root.display()))
        .arg(&clone)
        .output()
        .unwrap();
    if !cloned.status.success() {
        // Not a git checkout (an unpacked archive): a repository holding the hooks file.
        std::fs::create_dir_all(&clone).unwrap();
        git(&clone, &["init", "--quiet"]);
    }
    std::fs::copy(
        root.join(".pre-commit-hooks.yaml"),
        clone.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(&clone, &["add", ".pre-commit-hooks.yaml"]);
    git(
        &clone,
        &[
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            "hooks under test",
        ],
    );
    clone
}

struct Project {
    dir: PathBuf,
    clone: PathBuf,
    home: PathBuf,
}

impl Project {
    fn new(temp: &Path) -> Project {
        let dir = temp.join("project");
        std::fs::create_dir_all(&dir).unwrap();
        git(&dir, &["init", "--quiet", "--initial-branch=main"]);
        std::fs::write(dir.join("README.md"), "project\n").unwrap();
        git(&dir, &["add", "."]);
        git(&dir, &["commit", "--quiet", "-m", "init"]);
        Project {
            dir,
            clone: hooks_clone(temp),
            home: temp.join("home"),
        }
    }

    fn stage(&self, path: &str, text: &str) {
        std::fs::write(self.dir.join(path), text).unwrap();
        git(&self.dir, &["add", path]);
    }

    /// `program args…` in the project, with the strata under test first on PATH.
    fn run(&self, program: &Path, args: &[&str]) -> Output {
        let bin = Path::new(env!("CARGO_BIN_EXE_strata"))
            .parent()
            .unwrap()
            .to_path_buf();
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&inherited)))
                .unwrap();
        Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.home)
            .env("PRE_COMMIT_HOME", self.home.join("pre-commit"))
            .env("STRATA_CACHE_DIR", self.home.join("cache"))
            .env("STRATA_STATE", self.home.join("state.db"))
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    }

    /// `pre-commit try-repo <clone> <hook>` on the staged files.
    fn try_repo(&self, hook: &str) -> Output {
        let clone = self.clone.to_str().unwrap();
        self.run(&pre_commit(), &["try-repo", "--verbose", clone, hook])
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn strata_check_stops_an_unpinned_from_and_passes_a_pinned_one() {
    let temp = tempfile::tempdir().unwrap();
    let project = Project::new(temp.path());
    // The registry host is unresolvable on purpose: an offline check must not look it up.
    project.stage(
        "Dockerfile",
        "FROM registry.invalid/team/base:1\nRUN true\n",
    );
    let run = project.try_repo("strata-check");
    let shown = text(&run);
    assert_eq!(run.status.code(), Some(1), "{shown}");
    assert!(shown.contains("strata check (offline)"), "{shown}");
    assert!(shown.contains("Failed"), "{shown}");
    assert!(shown.contains("Dockerfile:1"), "{shown}");
    assert!(shown.contains("unpinned"), "{shown}");
    assert!(shown.contains("registry.invalid/team/base:1"), "{shown}");

    let digest = format!("sha256:{}", "ab".repeat(32));
    project.stage(
        "Dockerfile",
        &format!("FROM registry.invalid/team/base:1@{digest}\nRUN true\n"),
    );
    let run = project.try_repo("strata-check");
    let shown = text(&run);
    assert_eq!(run.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("strata check (offline)") && shown.contains("Passed"),
        "{shown}"
    );

    // Files the hook does not look at are not passed to it.
    project.stage("notes.txt", "FROM nowhere:1\n");
    let run = project.try_repo("strata-check");
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
}

/// The hook installed as a user installs it (`.pre-commit-config.yaml` naming the clone
/// and a commit of it, `pre-commit install`): `git commit` of an unpinned `FROM` is
/// refused and nothing is committed.
#[test]
fn an_installed_hook_refuses_the_commit() {
    let temp = tempfile::tempdir().unwrap();
    let project = Project::new(temp.path());
    let rev = String::from_utf8(
        Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&project.clone)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    project.stage(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: strata-check\n",
            project.clone.display(),
            rev.trim()
        ),
    );
    let run = project.run(&pre_commit(), &["install"]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    project.stage("Containerfile", "FROM registry.invalid/team/base:2\n");
    let run = project.run(Path::new("git"), &["commit", "-m", "add a build"]);
    let shown = text(&run);
    assert_eq!(run.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains("Containerfile:1") && shown.contains("unpinned"),
        "{shown}"
    );
    let log = project.run(Path::new("git"), &["log", "--oneline"]);
    assert_eq!(
        String::from_utf8_lossy(&log.stdout).lines().count(),
        1,
        "nothing committed"
    );
}

#[tokio::test]
async fn strata_pin_shows_the_diff_that_pins_a_staged_dockerfile() {
    let registry = TestRegistry::start().await.unwrap();
    let digest = registry
        .seeder()
        .push_image("team/base", "1", &Image::new("base"))
        .await
        .unwrap();
    let temp = tempfile::tempdir().unwrap();
    let project = Project::new(temp.path());
    let host = registry.host();
    project.stage("Dockerfile", &format!("FROM {host}/team/base:1\n"));
    let run = project.try_repo("strata-pin");
    let shown = text(&run);
    assert_eq!(run.status.code(), Some(1), "{shown}");
    assert!(
        shown.contains(&format!("+FROM {host}/team/base:1@{digest}")),
        "{shown}"
    );
    assert_eq!(
        std::fs::read_to_string(project.dir.join("Dockerfile")).unwrap(),
        format!("FROM {host}/team/base:1\n"),
        "a dry run writes nothing"
    );
}
