//! Shared by the `cascade_pinned*` tests and the cascade benchmark: a pinned
//! organisation of five repositories and five levels in the real registry, set up the
//! way a team would have it — every image built from its own Dockerfile with
//! `strata-test-builder` (which builds like `docker build`: on exactly what the file
//! pins), then every file pinned with `strata pin`, committed, and pushed to a bare
//! `origin` per repository. In the commit and pull-request modes each `origin`'s
//! `post-receive` hook is the repository's CI: it builds the pushed commit.
//!
//! ```text
//! H/base/debian:bookworm                      root (external)
//! ├── H/base/python:3.12-slim                 python/Dockerfile, PYTHON_VERSION=3.12
//! │   ├── H/org/python-base:3.12              python-base/Dockerfile, PYTHON_VERSION=3.12
//! │   │   └── H/org/vumi:latest               vumi/compose.yaml, dockerfile: "${VUMI_DOCKERFILE:-…}"
//! │   │       ├── H/org/junebug:latest        vumi/junebug/Dockerfile (naming rule)
//! │   │       └── H/org/vumi-go:1             vumi/go/Dockerfile.go
//! │   └── H/org/python-base:3.12-onbuild      python-base/Dockerfile, target onbuild
//! └── H/base/python:3.11-slim                 python/Dockerfile, PYTHON_VERSION=3.11
//!     └── H/org/python-base:3.11              python-base/Dockerfile, PYTHON_VERSION=3.11
//!         └── H/org/celery-base:5             celery (cloned by strata), ARG BASE=…
//!             ├── H/org/worker:1
//!             └── H/org/beat:1
//! level 5: five leaves under each level-4 image, H/svc/<parent>-<n>:1 (services/)
//! ```
//! `python-base` picks its base with a build argument inside the tag, so it cannot be
//! pinned and builds on the current tag; everything else pins its base. In the in-place
//! mode `celery-base`'s base also comes from a build argument set in `strata.toml`.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use strata_testkit::build::{Recipe, build};
use strata_testkit::ci::{self, Job, Pipeline};
use strata_testkit::hierarchy::recorded_base;
use strata_testkit::{Image, RegistryOptions, TestRegistry};

/// How rebuilds get their new pins in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A `command` trigger building each local checkout (`pins` left to its default).
    InPlace,
    /// `trigger = { kind = "push" }`: commits pushed to `origin`, whose CI builds them.
    Commit,
    /// `trigger = { kind = "pr", auto_merge = true }` on a fake GitHub whose merges go
    /// to the real `origin`s (whose CI builds them).
    PullRequest,
    /// A `command` trigger with `pins = "none"`: the checkouts keep their old pins.
    Leave,
}

/// One managed image and how it is built.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub parent: String,
    pub level: usize,
    pub repo: &'static str,
    /// Relative to the repository.
    pub dockerfile: String,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
}

/// The repositories; `celery` lives only in its `origin` and is cloned by strata.
pub const REPOS: [&str; 5] = ["python", "python-base", "vumi", "celery", "services"];

/// The level-4 images, each with five leaves below.
pub const LEVEL4: [(&str, &str); 4] = [
    ("org/junebug:latest", "org/vumi:latest"),
    ("org/vumi-go:1", "org/vumi:latest"),
    ("org/worker:1", "org/celery-base:5"),
    ("org/beat:1", "org/celery-base:5"),
];

/// The seeded organisation.
pub struct Org {
    pub registry: TestRegistry,
    pub dir: tempfile::TempDir,
    pub host: String,
    pub root: String,
    pub members: Vec<Member>,
    pub mode: Mode,
}

fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `org/junebug:latest` -> `junebug`.
pub fn stem(name: &str) -> String {
    let repo = name.split(':').next().unwrap_or(name);
    repo.rsplit('/').next().unwrap_or(repo).to_owned()
}

/// `H/org/app:1` -> (`org/app`, `1`).
pub fn split(name: &str) -> (String, String) {
    let rest = name.split_once('/').unwrap().1;
    let (repo, tag) = rest.rsplit_once(':').unwrap();
    (repo.to_owned(), tag.to_owned())
}

fn members(h: &str) -> Vec<Member> {
    let mut out = Vec::new();
    let mut add = |name: &str,
                   parent: &str,
                   level,
                   repo,
                   dockerfile: &str,
                   build_args,
                   target: Option<&str>| {
        out.push(Member {
            name: format!("{h}/{name}"),
            parent: format!("{h}/{parent}"),
            level,
            repo,
            dockerfile: dockerfile.to_owned(),
            build_args,
            target: target.map(str::to_owned),
        });
    };
    let debian = "base/debian:bookworm";
    for version in ["3.12", "3.11"] {
        let name = format!("base/python:{version}-slim");
        let pairs = [("PYTHON_VERSION", version)];
        add(&name, debian, 1, "python", "Dockerfile", args(&pairs), None);
    }
    for (tag, version, target) in [
        ("3.12", "3.12", None),
        ("3.11", "3.11", None),
        ("3.12-onbuild", "3.12", Some("onbuild")),
    ] {
        let name = format!("org/python-base:{tag}");
        let parent = format!("base/python:{version}-slim");
        let pairs = [("PYTHON_VERSION", version)];
        add(
            &name,
            &parent,
            2,
            "python-base",
            "Dockerfile",
            args(&pairs),
            target,
        );
    }
    let none = BTreeMap::new;
    add(
        "org/vumi:latest",
        "org/python-base:3.12",
        3,
        "vumi",
        "Dockerfile.vumi",
        none(),
        None,
    );
    add(
        "org/celery-base:5",
        "org/python-base:3.11",
        3,
        "celery",
        "celery-base/Dockerfile",
        none(),
        None,
    );
    add(
        "org/junebug:latest",
        "org/vumi:latest",
        4,
        "vumi",
        "junebug/Dockerfile",
        none(),
        None,
    );
    add(
        "org/vumi-go:1",
        "org/vumi:latest",
        4,
        "vumi",
        "go/Dockerfile.go",
        none(),
        None,
    );
    add(
        "org/worker:1",
        "org/celery-base:5",
        4,
        "celery",
        "worker/Dockerfile",
        none(),
        None,
    );
    add(
        "org/beat:1",
        "org/celery-base:5",
        4,
        "celery",
        "beat/Dockerfile",
        none(),
        None,
    );
    for (name, _) in LEVEL4 {
        for n in 1..=5 {
            let leaf = format!("{}-{n}", stem(name));
            let path = format!("{leaf}/Dockerfile");
            add(
                &format!("svc/{leaf}:1"),
                name,
                5,
                "services",
                &path,
                none(),
                None,
            );
        }
    }
    out
}

impl Org {
    /// Seeds, pins, commits and pushes everything; writes `strata.toml` for `mode`.
    /// `forge_api`: the fake forge's address (pull-request mode).
    pub async fn new(mode: Mode, forge_api: Option<&str>) -> Org {
        Org::with_registry(mode, forge_api, RegistryOptions::default()).await
    }

    /// [`Org::new`] with the registry started with `options` (notifications, say).
    pub async fn with_registry(
        mode: Mode,
        forge_api: Option<&str>,
        options: RegistryOptions,
    ) -> Org {
        let registry = TestRegistry::start_with(options).await.unwrap();
        let host = registry.host();
        let root = format!("{host}/base/debian:bookworm");
        let (repo, tag) = split(&root);
        registry
            .seeder()
            .push_image(&repo, &tag, &Image::new("debian"))
            .await
            .unwrap();
        let org = Org {
            members: members(&host),
            registry,
            dir: tempfile::tempdir().unwrap(),
            host,
            root,
            mode,
        };
        org.write_sources();
        for member in &org.members {
            org.build(member).await;
        }
        for repo in REPOS {
            org.pin(repo);
            org.publish(repo);
        }
        if mode == Mode::Commit || mode == Mode::PullRequest {
            for repo in REPOS {
                org.install_ci(repo);
            }
        }
        org.write_config(forge_api).await;
        org
    }

    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    /// Where a repository's files are written (celery's outside the workspace).
    pub fn source(&self, repo: &str) -> PathBuf {
        match repo {
            "celery" => self.dir.path().join("celery-src"),
            _ => self.workspace().join(repo),
        }
    }

    /// The bare repository playing `origin`.
    pub fn origin(&self, repo: &str) -> PathBuf {
        self.dir.path().join("origins").join(format!("{repo}.git"))
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }

    /// Where every build (command trigger or CI) logs.
    pub fn log(&self) -> PathBuf {
        self.dir.path().join("builds.jsonl")
    }

    fn write(&self, repo: &str, path: &str, text: &str) {
        let full = self.source(repo).join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    fn write_sources(&self) {
        let h = &self.host;
        self.write(
            "python",
            "Dockerfile",
            &format!(
                "ARG PYTHON_VERSION=3.12\nFROM {h}/base/debian:bookworm\nARG PYTHON_VERSION\n\
                 RUN echo \"python $PYTHON_VERSION\"\n"
            ),
        );
        self.write(
            "python-base",
            "Dockerfile",
            &format!(
                "ARG PYTHON_VERSION=3.12\nFROM {h}/base/python:${{PYTHON_VERSION}}-slim AS base\n\
                 RUN true\n\nFROM base AS onbuild\nONBUILD RUN true\n\nFROM base\n"
            ),
        );
        self.write(
            "vumi",
            "compose.yaml",
            &format!(
                "services:\n  vumi:\n    build:\n      context: .\n      dockerfile: \
                 \"${{VUMI_DOCKERFILE:-Dockerfile.vumi}}\"\n    image: {h}/org/vumi:latest\n"
            ),
        );
        self.write(
            "vumi",
            "Dockerfile.vumi",
            &format!("FROM {h}/org/python-base:3.12\n"),
        );
        self.write(
            "vumi",
            "junebug/Dockerfile",
            &format!("FROM {h}/org/vumi:latest\n"),
        );
        self.write(
            "vumi",
            "go/Dockerfile.go",
            &format!("FROM {h}/org/vumi:latest\n"),
        );
        self.write(
            "celery",
            "celery-base/Dockerfile",
            &format!("ARG BASE={h}/org/python-base:3.11\nFROM ${{BASE}}\nRUN true\n"),
        );
        for name in ["worker", "beat"] {
            self.write(
                "celery",
                &format!("{name}/Dockerfile"),
                &format!("# strata: produces {h}/org/{name}:1\nFROM {h}/org/celery-base:5\n"),
            );
        }
        for (name, _) in LEVEL4 {
            for n in 1..=5 {
                self.write(
                    "services",
                    &format!("{}-{n}/Dockerfile", stem(name)),
                    &format!("FROM {h}/{name}\n"),
                );
            }
        }
    }

    /// Builds `member` from its source, as its first CI run would have.
    async fn build(&self, member: &Member) {
        let text =
            std::fs::read_to_string(self.source(member.repo).join(&member.dockerfile)).unwrap();
        let recipe = Recipe {
            image: member.name.clone(),
            dockerfile: text,
            build_args: member.build_args.clone(),
            target: member.target.clone(),
            platform: None,
        };
        build(&recipe, "").await.unwrap();
    }

    /// `strata pin` in a repository's source, as the team did.
    fn pin(&self, repo: &str) {
        let out = self
            .std_command(&["pin", "--format", "json", "."], &[])
            .current_dir(self.source(repo))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "pin {repo}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Commits a repository's source and pushes it to a new bare `origin`.
    fn publish(&self, repo: &str) {
        let source = self.source(repo);
        let origin = self.origin(repo);
        std::fs::create_dir_all(&origin).unwrap();
        git(&origin, &["init", "-q", "--bare", "--initial-branch=main"]);
        git(&source, &["init", "-q", "--initial-branch=main"]);
        git(&source, &["add", "."]);
        git(&source, &["commit", "-q", "-m", "initial"]);
        git(
            &source,
            &["remote", "add", "origin", &origin.to_string_lossy()],
        );
        git(&source, &["push", "-q", "origin", "main"]);
        git(&source, &["branch", "-q", "--set-upstream-to=origin/main"]);
    }

    /// Makes `origin` build every image of `repo` on push to main.
    fn install_ci(&self, repo: &str) {
        let images = self
            .members
            .iter()
            .filter(|m| m.repo == repo)
            .map(|m| Job {
                image: m.name.clone(),
                dockerfile: m.dockerfile.clone(),
                build_args: m.build_args.clone(),
                target: m.target.clone(),
                platform: None,
            })
            .collect();
        let pipeline = Pipeline {
            branch: "main".into(),
            images,
            mirrors: String::new(),
            log: Some(self.log()),
            fail: String::new(),
            sleep: String::new(),
        };
        ci::install(&self.origin(repo), &pipeline, &builder()).unwrap();
    }

    /// Changes a repository's CI pipeline (e.g. to make its builds slow).
    pub fn tune_ci(&self, repo: &str, change: impl FnOnce(&mut Pipeline)) {
        let path = self.origin(repo).join(ci::PIPELINE_FILE);
        let mut pipeline = ci::load(&path).unwrap();
        change(&mut pipeline);
        std::fs::write(path, serde_json::to_vec(&pipeline).unwrap()).unwrap();
    }

    async fn write_config(&self, forge_api: Option<&str>) {
        let h = &self.host;
        let trigger = |repo: &str| match self.mode {
            Mode::Commit => "trigger = { kind = \"push\" }\n".to_owned(),
            // Nothing in python-base pins its base (a build argument picks the tag): there
            // is no pin to propose, so a push starts its build.
            Mode::PullRequest if repo == "python-base" => {
                "trigger = { kind = \"push\" }\n".to_owned()
            }
            Mode::PullRequest => format!(
                "trigger = {{ kind = \"pr\", forge = \"github\", repository = \"org/{repo}\", \
                 auto_merge = true }}\n"
            ),
            Mode::InPlace | Mode::Leave => String::new(),
        };
        let mut toml = String::from("[workspace]\n");
        if self.mode == Mode::Leave {
            toml.push_str("pins = \"none\"\n");
        }
        toml.push_str(
            "\n[workspace.cascade]\npoll_interval = \"10ms\"\npoll_max = \"200ms\"\n\
             timeout = \"60s\"\n",
        );
        if matches!(self.mode, Mode::InPlace | Mode::Leave) {
            toml.push_str(&format!(
                "\n[workspace.trigger]\ncommand = [\"{}\"]\n",
                builder().display()
            ));
        }
        for repo in REPOS {
            toml.push_str("\n[[workspace.repository]]\n");
            match repo {
                "celery" => toml.push_str(&format!(
                    "name = \"celery\"\ngit = \"file://{}\"\n",
                    self.origin("celery").display()
                )),
                _ => toml.push_str(&format!("path = \"{repo}\"\n")),
            }
            match repo {
                "vumi" => toml.push_str(&format!("produces = \"{h}/org/{{dir}}:latest\"\n")),
                "services" => toml.push_str(&format!("produces = \"{h}/svc/{{dir}}:1\"\n")),
                _ => {}
            }
            toml.push_str(&trigger(repo));
        }
        for member in self.members.iter().filter(|m| m.level <= 2) {
            let args: Vec<String> = member
                .build_args
                .iter()
                .map(|(k, v)| format!("{k} = \"{v}\""))
                .collect();
            toml.push_str(&format!(
                "\n[[workspace.image]]\nname = \"{}\"\nrepository = \"{}\"\ndockerfile = \"{}\"\n\
                 build_args = {{ {} }}\n",
                member.name,
                member.repo,
                member.dockerfile,
                args.join(", ")
            ));
            if let Some(target) = &member.target {
                toml.push_str(&format!("target = \"{target}\"\n"));
            }
        }
        toml.push_str(&format!(
            "\n[[workspace.image]]\nname = \"{h}/org/vumi-go:1\"\nrepository = \"vumi\"\n\
             dockerfile = \"go/Dockerfile.go\"\n"
        ));
        let celery = format!(
            "\n[[workspace.image]]\nname = \"{h}/org/celery-base:5\"\nrepository = \"celery\"\n\
             dockerfile = \"celery-base/Dockerfile\"\n"
        );
        toml.push_str(&celery);
        if matches!(self.mode, Mode::InPlace | Mode::Leave) {
            // The base comes from a build argument strata.toml sets: its pin lives here.
            let digest = self.digest(&format!("{h}/org/python-base:3.11")).await;
            toml.push_str(&format!(
                "build_args = {{ BASE = \"{h}/org/python-base:3.11@{digest}\" }}\n"
            ));
        }
        let _ = forge_api;
        std::fs::write(self.workspace().join("strata.toml"), toml).unwrap();
    }

    /// Moves the root tag to a new image; returns its digest.
    pub async fn move_root(&self) -> String {
        let (repo, tag) = split(&self.root);
        self.registry
            .seeder()
            .push_image(&repo, &tag, &Image::new("debian-fixed"))
            .await
            .unwrap()
    }

    /// Runs the builder under a shell, as `make publish` would run `docker build`: the
    /// trigger's process is the shell, the build its child.
    pub fn build_through_a_shell(&self) {
        let path = self.workspace().join("strata.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let direct = format!("command = [\"{}\"]", builder().display());
        assert!(text.contains(&direct), "{text}");
        let shell = format!(
            "command = [\"sh\", \"-c\", \"'{}'; status=$?; exit $status\"]",
            builder().display()
        );
        std::fs::write(path, text.replace(&direct, &shell)).unwrap();
    }

    /// Moves the root tag to an image made from `seed` (one seed, one digest).
    pub async fn move_root_with(&self, seed: &str) -> String {
        let (repo, tag) = split(&self.root);
        self.registry
            .seeder()
            .push_image(&repo, &tag, &Image::new(seed))
            .await
            .unwrap()
    }

    /// Moves the root tag once more (another fix); returns its digest.
    pub async fn move_root_again(&self) -> String {
        let (repo, tag) = split(&self.root);
        self.registry
            .seeder()
            .push_image(&repo, &tag, &Image::new("debian-fixed-again"))
            .await
            .unwrap()
    }

    /// What a tag points at now.
    pub async fn digest(&self, name: &str) -> String {
        let (repo, tag) = split(name);
        self.registry
            .seeder()
            .manifest_digest(&repo, &tag)
            .await
            .unwrap()
    }

    /// Every managed image is built on its parent's current image: the whole chain from
    /// the root's current digest down.
    pub async fn assert_on_new_chain(&self) {
        let seeder = self.registry.seeder();
        let mut wrong = Vec::new();
        for member in &self.members {
            let (repo, tag) = split(&member.name);
            let base = recorded_base(seeder, &repo, &tag).await.unwrap();
            let parent = self.digest(&member.parent).await;
            if base.as_deref() != Some(parent.as_str()) {
                wrong.push(format!("{} on {base:?}, not {parent}", member.name));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    /// Every pin in `dir`'s files names its tag's current digest; returns how many pins.
    pub async fn assert_pins_current(&self, dir: &Path) -> usize {
        let out = self
            .std_command(&["scan", "--format", "json", "."], &[])
            .current_dir(dir)
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut pins = 0;
        for occurrence in doc["occurrences"].as_array().unwrap() {
            let Some(digest) = occurrence["digest"].as_str() else {
                continue;
            };
            let reference = occurrence["reference"].as_str().unwrap();
            let tag = reference.split('@').next().unwrap();
            let now = self.digest(tag).await;
            assert_eq!(
                digest,
                now,
                "{}: {}:{} pins {tag} at an old digest",
                dir.display(),
                occurrence["file"],
                occurrence["line"]
            );
            pins += 1;
        }
        pins
    }

    /// A fresh clone of `repo`'s `origin` main branch.
    pub fn clone_origin(&self, repo: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(
            dir.path(),
            &["clone", "-q", &self.origin(repo).to_string_lossy(), "."],
        );
        dir
    }

    /// The commit messages on `origin`'s main, newest first.
    pub fn origin_messages(&self, repo: &str) -> Vec<String> {
        let out = git(&self.origin(repo), &["log", "--format=%B%x00", "main"]);
        out.split('\0')
            .map(|m| m.trim().to_owned())
            .filter(|m| !m.is_empty())
            .collect()
    }

    /// Every build logged so far.
    pub fn builds(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Build events of `kind` (`start`, `published`, `failed`), counted by image.
    pub fn count_builds(&self, kind: &str) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for event in self.builds().iter().filter(|e| e["event"] == kind) {
            *out.entry(event["image"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        out
    }

    /// Waits (bounded) until no CI job is running: each `start` has its end.
    pub async fn settle_ci(&self) {
        let started = std::time::Instant::now();
        loop {
            let log = self.builds();
            let count = |kind: &str| log.iter().filter(|e| e["event"] == kind).count();
            if count("start") == count("published") + count("failed") {
                return;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "builds never finished"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// `strata` in the workspace with a clean environment.
    pub fn command(&self, args: &[&str], extra_env: &[(&str, String)]) -> tokio::process::Command {
        tokio::process::Command::from(self.std_command(args, extra_env))
    }

    fn std_command(&self, args: &[&str], extra_env: &[(&str, String)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
        cmd.args(args)
            .current_dir(self.workspace())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("STRATA_CACHE_DIR", self.dir.path().join("cache"))
            .env("STRATA_STATE", self.state())
            .env("STRATA_TEST_LOG", self.log())
            .env("GIT_AUTHOR_NAME", "strata")
            .env("GIT_AUTHOR_EMAIL", "strata@example.com")
            .env("GIT_COMMITTER_NAME", "strata")
            .env("GIT_COMMITTER_EMAIL", "strata@example.com")
            .env("NO_COLOR", "1");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    pub async fn strata(&self, args: &[&str], extra_env: &[(&str, String)]) -> Run {
        Run::from(self.command(args, extra_env).output().await.unwrap())
    }
}

/// Runs git in `dir`; panics on failure; returns its output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What a run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(output: std::process::Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Image -> status of the first cascade report.
    pub fn statuses(&self) -> BTreeMap<String, String> {
        self.json()[0]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["image"].as_str().unwrap().to_owned(),
                    n["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// The builder program.
pub fn builder() -> PathBuf {
    strata_testkit::build::program()
}
