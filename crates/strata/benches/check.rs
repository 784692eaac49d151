//! `strata check` speed against the real registry on 127.0.0.1, the binary run as a
//! subprocess (built with the bench profile), wall time and the requests the registry
//! logged, on a realistic 500-Dockerfile repository (official-image style names, ~180
//! unique tags shared between files, multi-stage builds, ARG defaults; Docker Hub names
//! sent to the local registry as a mirror):
//! 1. the repository pinned: clean, one `HEAD` per unique tag;
//! 2. after 10 tags moved: `moved-tag` findings, plus one `HEAD` per moved pinned digest;
//! 3. the repository unpinned: `unpinned` findings;
//! 4. `--offline` with the official-images corpus (no request at all).
//!
//! Run: `cargo bench -p strata --bench check`. Target: under 1 s and one request per
//! unique tag (plus one `/v2/` ping) for scenario 1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the report

#[path = "../tests/corpus/mod.rs"]
mod corpus;
mod realistic;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use realistic::{official_tags, realistic_files, seed, unique_tags, write_files};
use strata_testkit::TestRegistry;

const ROUNDS: usize = 3;

struct Row {
    scenario: &'static str,
    wall: Duration,
    requests: usize,
    heads: usize,
    pings: usize,
    findings: usize,
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (tags, rows) = runtime.block_on(run());
    println!();
    println!(
        "{:<46} {:>8} {:>9} {:>6} {:>6} {:>9}",
        "scenario (500 Dockerfiles)", "wall ms", "requests", "HEADs", "pings", "findings"
    );
    for r in rows {
        println!(
            "{:<46} {:>8.1} {:>9} {:>6} {:>6} {:>9}",
            r.scenario,
            r.wall.as_secs_f64() * 1e3,
            r.requests,
            r.heads,
            r.pings,
            r.findings
        );
    }
    println!("({tags} unique tags; best of {ROUNDS} rounds; requests from the registry's log)");
}

async fn run() -> (usize, Vec<Row>) {
    let registry = TestRegistry::start().await.unwrap();
    let started = Instant::now();
    let tags = official_tags();
    seed(&registry, &tags, "").await;
    eprintln!("seeded {} tags in {:.1?}", tags.len(), started.elapsed());
    let files = realistic_files(&tags);
    let unique = unique_tags(&files);
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    write_files(&repo, &files);
    let env = Env {
        cache: dir.path().join("cache"),
        state: dir.path().join("state.db"),
        mirror: format!("docker.io={}", registry.host()),
    };
    let mut rows = Vec::new();
    rows.push(rounds(&registry, &env, &repo, "check, unpinned", &[], 1).await);
    let pinned = env.strata(&repo, &["pin"]);
    assert!(
        pinned.status.success(),
        "{}",
        String::from_utf8_lossy(&pinned.stderr)
    );

    let row = rounds(&registry, &env, &repo, "check, pinned (clean)", &[], 0).await;
    assert_eq!(row.heads, unique, "one HEAD per unique tag");
    assert_eq!(
        row.requests,
        unique + row.pings,
        "nothing but HEADs and pings"
    );
    rows.push(row);

    seed(&registry, &tags[..10], " moved").await;
    rows.push(
        rounds(
            &registry,
            &env,
            &repo,
            "check, pinned, 10 tags moved",
            &[],
            1,
        )
        .await,
    );

    let corpus = corpus::official_images();
    let corpus = corpus.to_str().unwrap().to_owned();
    let offline = ["--offline", "--official-images", corpus.as_str()];
    rows.push(
        rounds(
            &registry,
            &env,
            &repo,
            "check --offline --official-images",
            &offline,
            1,
        )
        .await,
    );
    (unique, rows)
}

struct Env {
    cache: PathBuf,
    state: PathBuf,
    mirror: String,
}

impl Env {
    fn strata(&self, repo: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .arg(repo)
            .args(["--registry-mirror", &self.mirror])
            .env("STRATA_CACHE_DIR", &self.cache)
            .env("STRATA_STATE", &self.state)
            .output()
            .unwrap()
    }
}

/// Runs `strata check --format json` `ROUNDS` times; the fastest round.
async fn rounds(
    registry: &TestRegistry,
    env: &Env,
    repo: &Path,
    scenario: &'static str,
    extra: &[&str],
    code: i32,
) -> Row {
    let mut best: Option<Row> = None;
    for _ in 0..ROUNDS {
        registry.reset_requests().await;
        let mut args = vec!["check", "--format", "json"];
        args.extend(extra);
        let started = Instant::now();
        let out = env.strata(repo, &args);
        let wall = started.elapsed();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let requests = registry.requests().await;
        let row = Row {
            scenario,
            wall,
            requests: requests.len(),
            heads: requests.iter().filter(|r| r.method == "HEAD").count(),
            pings: requests.iter().filter(|r| r.path == "/v2/").count(),
            findings: doc["findings"].as_array().map_or(0, Vec::len),
        };
        eprintln!("{scenario}: {wall:.1?}, {} requests", row.requests);
        if best.as_ref().is_none_or(|b| row.wall < b.wall) {
            best = Some(row);
        }
    }
    best.unwrap()
}
