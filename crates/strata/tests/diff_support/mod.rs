//! Shared by the `diff_*` tests: the binary run against the real registry with its own
//! cache, images whose layers hold real package databases, OSV advisories validated
//! against the OSV schema, and the registry's log of blob fetches.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part

use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_testkit::{Image, Index, TestRegistry};

/// Where the OSV corpus lives (the one place to change when it moves).
pub fn osv_corpus() -> PathBuf {
    crate::corpus::path("osv")
}

/// The OSV JSON Schema validator.
pub fn osv_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(osv_corpus().join("schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::options().build(&schema).unwrap()
}

/// Asserts `record` is a valid OSV record.
pub fn assert_osv(validator: &jsonschema::Validator, record: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(record)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{}: {errors:?}", record["id"]);
}

/// A registry, a temp home, cache and advisory directory.
pub struct Env {
    pub registry: TestRegistry,
    pub dir: tempfile::TempDir,
}

/// What a run printed.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: stdout {}\nstderr {}", self.stdout, self.stderr))
    }
}

impl Env {
    pub async fn start() -> Env {
        let registry = TestRegistry::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "cache", "advisories"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        // A private copy of the binary, taken at once: the build directory may be
        // shared with other builds of the workspace that replace it.
        std::fs::copy(env!("CARGO_BIN_EXE_strata"), dir.path().join("strata")).unwrap();
        Env { registry, dir }
    }

    /// The binary under test.
    pub fn exe(&self) -> PathBuf {
        self.dir.path().join("strata")
    }

    pub fn advisories(&self) -> PathBuf {
        self.dir.path().join("advisories")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// `<host>/<repo>:<tag>`.
    pub fn name(&self, repo: &str, tag: &str) -> String {
        format!("{}/{repo}:{tag}", self.registry.host())
    }

    pub async fn push(&self, repo: &str, tag: &str, image: &Image) -> String {
        self.registry
            .seeder()
            .push_image(repo, tag, image)
            .await
            .unwrap()
    }

    pub async fn push_index(&self, repo: &str, tag: &str, index: &Index) -> String {
        self.registry
            .seeder()
            .push_index(repo, tag, index)
            .await
            .unwrap()
    }

    /// Writes advisories (each validated against the OSV schema first).
    pub fn write_advisories(&self, records: &[Value]) {
        let validator = osv_validator();
        for record in records {
            assert_osv(&validator, record);
            let id = record["id"].as_str().unwrap();
            let path = self.advisories().join(format!("{id}.json"));
            std::fs::write(path, serde_json::to_vec_pretty(record).unwrap()).unwrap();
        }
    }

    /// Copies the fixture advisories of `dir` (validated too).
    pub fn copy_fixture_advisories(&self, dir: &Path) -> usize {
        let validator = osv_validator();
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let record: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            assert_osv(&validator, &record);
            std::fs::copy(&path, self.advisories().join(path.file_name().unwrap())).unwrap();
            n += 1;
        }
        n
    }

    /// Runs `strata diff OLD NEW --format json --advisories <dir> extra…`.
    pub async fn diff(&self, old: &str, new: &str, extra: &[&str]) -> Run {
        let advisories = self.advisories();
        let mut args = vec!["diff", old, new, "--format", "json", "--advisories"];
        args.push(advisories.to_str().unwrap());
        args.extend_from_slice(extra);
        self.strata(&args).await
    }

    pub async fn strata(&self, args: &[&str]) -> Run {
        let output = tokio::process::Command::new(self.exe())
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("STRATA_CACHE_DIR", self.cache())
            .env("NO_COLOR", "1")
            .output()
            .await
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// Blob GETs the registry answered so far.
    pub async fn blob_gets(&self) -> usize {
        self.registry
            .requests()
            .await
            .iter()
            .filter(|r| r.method == "GET" && r.path.contains("/blobs/"))
            .count()
    }
}

/// The platform report named `name` in a diff's JSON.
pub fn platform<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["platform"] == name)
        .unwrap_or_else(|| panic!("no platform {name} in {report:#}"))
}

/// `(name, kind, old version, new version)` of a platform's package changes.
pub fn package_changes(platform: &Value) -> Vec<(String, String, String, String)> {
    let version = |v: &Value| v["version"].as_str().unwrap_or("-").to_owned();
    platform["packages"]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no package diff in {platform:#}"))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["kind"].as_str().unwrap().to_owned(),
                version(&c["old"]),
                version(&c["new"]),
            )
        })
        .collect()
}

/// The advisory ids of one list (`fixed`, `introduced`, `remaining`) of a platform.
pub fn advisory_ids(platform: &Value, list: &str) -> Vec<String> {
    let mut ids: Vec<String> = platform["advisories"][list]
        .as_array()
        .unwrap_or_else(|| panic!("no advisories in {platform:#}"))
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// This machine's os-release text (Debian's `/etc/os-release` is a symlink; read the file).
pub fn host_os_release() -> String {
    std::fs::read_to_string("/etc/os-release").unwrap()
}
