//! Shared by the `cascade_*` and `graph_*` tests and the cascade benchmark: a five-level
//! image hierarchy in the real registry (every child's layers on top of its parent's,
//! with base annotations), the workspace of repositories that builds it (Dockerfiles with
//! `# strata: produces`, compose build + image, naming rules, an explicit image entry, a
//! git repository, a published image with no Dockerfile), the test builder program, and
//! the strata binary run in a clean environment.
//!
//! The hierarchy (`H` is the registry host):
//! ```text
//! H/base/debian:bookworm            (external root: no Dockerfile)
//! └── H/base/python:3.12-slim       images/python/Dockerfile, comment
//!     └── H/org/python-base:3       images/python-base/Dockerfile, comment
//!         ├── H/org/vumi:latest     vumi/compose.yaml build + image
//!         │   ├── H/org/junebug:latest    vumi/junebug/Dockerfile, naming rule
//!         │   └── H/org/vumi-go:1         vumi/go/Dockerfile, [[workspace.image]]
//!         └── H/org/celery-base:5   celery (a git repository), comment
//!             ├── H/org/worker:1          celery/worker/Dockerfile, comment
//!             └── H/org/beat:1            celery/beat/Dockerfile, comment
//! level 5: five leaves under each level-4 image, H/svc/<parent>-<n>:1
//!          (services/<parent>-<n>/Dockerfile, naming rule)
//! optional: H/legacy/report:1 on org/worker:1, published without annotations
//! ```

#![allow(dead_code, unreachable_pub)] // each test file uses its own part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata_testkit::{Format, Image, TestRegistry};

pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// One image of the hierarchy.
#[derive(Debug, Clone)]
pub struct Member {
    /// `H/org/vumi:latest`.
    pub name: String,
    /// `None` for the root.
    pub parent: Option<String>,
    pub level: usize,
}

/// The seeded hierarchy and its workspace.
pub struct Setup {
    pub registry: TestRegistry,
    pub dir: tempfile::TempDir,
    pub host: String,
    pub members: Vec<Member>,
    pub root: String,
}

/// The level-4 images, each with five leaves below.
const LEVEL4: [(&str, &str); 4] = [
    ("org/junebug:latest", "org/vumi:latest"),
    ("org/vumi-go:1", "org/vumi:latest"),
    ("org/worker:1", "org/celery-base:5"),
    ("org/beat:1", "org/celery-base:5"),
];

/// Builds everything; `legacy` adds the published-only image.
pub async fn setup(legacy: bool) -> Setup {
    let registry = TestRegistry::start().await.unwrap();
    let host = registry.host();
    let mut members = vec![Member {
        name: format!("{host}/base/debian:bookworm"),
        parent: None,
        level: 0,
    }];
    let mut add = |name: &str, parent: &str, level| {
        members.push(Member {
            name: format!("{host}/{name}"),
            parent: Some(format!("{host}/{parent}")),
            level,
        });
    };
    add("base/python:3.12-slim", "base/debian:bookworm", 1);
    add("org/python-base:3", "base/python:3.12-slim", 2);
    add("org/vumi:latest", "org/python-base:3", 3);
    add("org/celery-base:5", "org/python-base:3", 3);
    for (name, parent) in LEVEL4 {
        add(name, parent, 4);
    }
    for (name, _) in LEVEL4 {
        for n in 1..=5 {
            add(&format!("svc/{}-{n}:1", leaf_stem(name)), name, 5);
        }
    }
    if legacy {
        add("legacy/report:1", "org/worker:1", 5);
    }
    seed(&registry, &members).await;
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        root: members[0].name.clone(),
        registry,
        dir,
        host,
        members,
    };
    setup.write_workspace(legacy);
    setup
}

/// `org/junebug:latest` -> `junebug`.
fn leaf_stem(name: &str) -> String {
    let repo = name.split(':').next().unwrap_or(name);
    repo.rsplit('/').next().unwrap_or(repo).to_owned()
}

/// Pushes every member on top of its parent, with base labels (and OCI annotations for
/// the celery subtree, which is OCI); the legacy image carries neither.
async fn seed(registry: &TestRegistry, members: &[Member]) {
    let seeder = registry.seeder();
    let mut images: BTreeMap<String, (Image, String)> = BTreeMap::new();
    for member in members {
        let (repo, tag) = split(&member.name);
        let image = match &member.parent {
            None => Image::new("debian"),
            Some(parent) => {
                let (parent_image, parent_digest) = &images[parent];
                let mut image = Image::on_top_of(parent_image, &member.name);
                if member.name.contains("celery") || member.name.contains("worker") {
                    image = image.with_format(Format::Oci);
                }
                if member.name.contains("legacy") {
                    image
                } else {
                    image
                        .base(parent, parent_digest)
                        .annotation(BASE_NAME, parent)
                        .annotation(BASE_DIGEST, parent_digest)
                }
            }
        };
        let digest = seeder.push_image(&repo, &tag, &image).await.unwrap();
        images.insert(member.name.clone(), (image, digest));
    }
}

/// `H/org/app:1` -> (`org/app`, `1`).
pub fn split(name: &str) -> (String, String) {
    let rest = name.split_once('/').unwrap().1;
    let (repo, tag) = rest.rsplit_once(':').unwrap();
    (repo.to_owned(), tag.to_owned())
}

impl Setup {
    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("ws")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state.db")
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("builds.jsonl")
    }

    pub fn managed(&self) -> Vec<&Member> {
        self.members.iter().filter(|m| m.parent.is_some()).collect()
    }

    fn write(&self, path: &str, text: &str) {
        let full = self.workspace().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    fn write_workspace(&self, legacy: bool) {
        let h = &self.host;
        self.write(
            "images/python/Dockerfile",
            &format!("# strata: produces {h}/base/python:3.12-slim\nFROM {h}/base/debian:bookworm\nRUN true\n"),
        );
        self.write(
            "images/python-base/Dockerfile",
            &format!(
                "# strata: produces {h}/org/python-base:3\nFROM {h}/base/debian:bookworm AS tools\n\
                 FROM {h}/base/python:3.12-slim AS base\nCOPY --from=tools /bin/true /bin/true\nFROM base\n"
            ),
        );
        self.write("vumi/Dockerfile", &format!("FROM {h}/org/python-base:3\n"));
        self.write(
            "vumi/compose.yaml",
            &format!("services:\n  vumi:\n    build: .\n    image: {h}/org/vumi:latest\n  redis:\n    image: redis:7\n"),
        );
        self.write(
            "vumi/junebug/Dockerfile",
            &format!("FROM {h}/org/vumi:latest\n"),
        );
        self.write(
            "vumi/go/Dockerfile.go",
            &format!("FROM {h}/org/vumi:latest\n"),
        );
        let celery = self.dir.path().join("celery-src");
        for (path, text) in [
            (
                "celery-base/Dockerfile",
                format!("# strata: produces {h}/org/celery-base:5\nFROM {h}/org/python-base:3\n"),
            ),
            (
                "worker/Dockerfile",
                format!("# strata: produces {h}/org/worker:1\nFROM {h}/org/celery-base:5\n"),
            ),
            (
                "beat/Dockerfile",
                format!("# strata: produces {h}/org/beat:1\nFROM {h}/org/celery-base:5\n"),
            ),
        ] {
            let full = celery.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        }
        git_repository(&celery);
        for (name, _) in LEVEL4 {
            for n in 1..=5 {
                let stem = leaf_stem(name);
                self.write(
                    &format!("services/{stem}-{n}/Dockerfile"),
                    &format!("FROM {h}/{name}\n"),
                );
            }
        }
        let mut toml = format!(
            r#"[workspace]
[workspace.cascade]
poll_interval = "10ms"
poll_max = "200ms"
timeout = "60s"

[workspace.trigger]
command = ["{builder}"]

[[workspace.repository]]
path = "images"

[[workspace.repository]]
path = "vumi"
produces = "{h}/org/{{dir}}:latest"

[[workspace.repository]]
name = "celery"
git = "file://{celery}"

[[workspace.repository]]
path = "services"
produces = "{h}/svc/{{dir}}:1"

[[workspace.image]]
name = "{h}/org/vumi-go:1"
repository = "vumi"
dockerfile = "go/Dockerfile.go"
"#,
            builder = builder().display(),
            celery = celery.display(),
        );
        if legacy {
            toml.push_str(&format!(
                "\n[[workspace.image]]\nname = \"{h}/legacy/report:1\"\nrepository = \"services\"\n"
            ));
        }
        self.write("strata.toml", &toml);
    }

    /// Pins every reference to the root in the workspace's files to the root's current
    /// digest, as `strata pin` would; returns that digest.
    pub async fn pin_root(&self) -> String {
        let (repo, tag) = split(&self.root);
        let digest = self
            .registry
            .seeder()
            .manifest_digest(&repo, &tag)
            .await
            .unwrap();
        for path in ["images/python/Dockerfile", "images/python-base/Dockerfile"] {
            let full = self.workspace().join(path);
            let text = std::fs::read_to_string(&full).unwrap();
            let pinned = text.replace(&self.root, &format!("{}@{digest}", self.root));
            assert_ne!(text, pinned, "{path} names the root");
            std::fs::write(full, pinned).unwrap();
        }
        digest
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

    /// The digest each member's tag points at now.
    pub async fn digests(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for member in &self.members {
            let (repo, tag) = split(&member.name);
            let digest = self
                .registry
                .seeder()
                .manifest_digest(&repo, &tag)
                .await
                .unwrap();
            out.insert(member.name.clone(), digest);
        }
        out
    }

    /// The command running strata in the workspace with a clean environment.
    pub fn command(&self, args: &[&str], extra_env: &[(&str, &str)]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_strata"));
        cmd.args(args)
            .current_dir(self.workspace())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("STRATA_CACHE_DIR", self.dir.path().join("cache"))
            .env("STRATA_STATE", self.state())
            .env("STRATA_TEST_LOG", self.log())
            .env("NO_COLOR", "1");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    pub async fn strata(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Run {
        Run::from(self.command(args, extra_env).output().await.unwrap())
    }

    /// Every line the builder logged.
    pub fn builds(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.log()).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// A git repository with everything in `dir` committed.
fn git_repository(dir: &Path) {
    for args in [
        &["init", "--quiet", "--initial-branch=main"][..],
        &["add", "."],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "--quiet",
            "-m",
            "init",
        ],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
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

/// The builder program.
pub fn builder() -> PathBuf {
    strata_testkit::build::program()
}
