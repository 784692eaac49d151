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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use strata_testkit::{Format, Image, Index, TestRegistry};
use tokio::task::JoinSet;

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

    let corpus =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/official-images");
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

fn write_files(root: &Path, files: &[(String, String)]) {
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
}

/// Official-image style repositories and tags: ~180 tags.
fn official_tags() -> Vec<(String, String)> {
    let families: [(&str, &[&str]); 18] = [
        ("python", &["3.13", "3.12", "3.11", "3.10", "3.9"]),
        ("node", &["22", "20", "18"]),
        ("golang", &["1.23", "1.22", "1.21"]),
        ("ruby", &["3.3", "3.2"]),
        ("php", &["8.3-fpm", "8.2-fpm", "8.3-apache"]),
        ("eclipse-temurin", &["21-jre", "21-jdk", "17-jre", "17-jdk"]),
        ("rust", &["1.82", "1.81"]),
        ("debian", &["bookworm", "bookworm-slim", "bullseye-slim"]),
        ("ubuntu", &["24.04", "22.04", "20.04"]),
        ("alpine", &["3.20", "3.19", "3.18", "latest"]),
        ("nginx", &["1.27", "1.27-alpine", "1.26"]),
        ("redis", &["7", "7-alpine", "6"]),
        ("postgres", &["17", "16", "15"]),
        ("mysql", &["8.4", "8.0"]),
        ("httpd", &["2.4"]),
        ("memcached", &["1.6"]),
        ("mongo", &["7.0", "6.0"]),
        ("elixir", &["1.17"]),
    ];
    let mut out = Vec::new();
    for (name, versions) in families {
        for version in versions {
            for variant in ["", "-slim", "-alpine", "-bookworm"] {
                let distro = matches!(name, "debian" | "ubuntu" | "alpine");
                if variant.is_empty() || !distro {
                    out.push((format!("library/{name}"), format!("{version}{variant}")));
                }
            }
        }
    }
    out
}

/// Pushes an image (a multi-arch index for every third tag) for each tag; `salt` makes
/// new content, so seeding again moves the tags.
async fn seed(registry: &TestRegistry, tags: &[(String, String)], salt: &str) {
    let mut tasks = JoinSet::new();
    for (i, (repo, tag)) in tags.iter().cloned().enumerate() {
        let seeder = registry.seeder().clone();
        let seed = format!("{repo}-{tag}{salt}");
        tasks.spawn(async move {
            if i % 3 == 0 {
                let index = Index::multi_arch(Format::Docker, &seed);
                seeder.push_index(&repo, &tag, &index).await.unwrap();
            } else {
                seeder
                    .push_image(&repo, &tag, &Image::new(&seed))
                    .await
                    .unwrap();
            }
        });
        if tasks.len() >= 16 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

/// 500 Dockerfiles: a build stage through an ARG default, a tool stage, a runtime stage,
/// chosen so that popular tags recur across many files.
fn realistic_files(tags: &[(String, String)]) -> Vec<(String, String)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Squaring skews the choice towards the first (popular) tags.
        let x = ((state >> 33) as f64) / f64::from(1u32 << 31);
        ((x * x) * n as f64) as usize % n
    };
    let name =
        |(repo, tag): &(String, String)| format!("{}:{tag}", repo.trim_start_matches("library/"));
    (0..500)
        .map(|i| {
            let build = name(&tags[next(tags.len())]);
            let tools = name(&tags[next(tags.len())]);
            let runtime = name(&tags[next(tags.len())]);
            let text = format!(
                "ARG BUILD_IMAGE={build}\n\
                 FROM ${{BUILD_IMAGE}} AS build\nWORKDIR /src\nCOPY . .\nRUN make\n\n\
                 FROM {tools} AS tools\nRUN true\n\n\
                 FROM {runtime}\nCOPY --from=build /src/out /app\n\
                 COPY --from=tools /usr/bin/tool /usr/bin/tool\nCMD [\"/app\"]\n"
            );
            (format!("services/svc{i:03}/Dockerfile"), text)
        })
        .collect()
}

/// Distinct `name:tag` references in `FROM` lines and `ARG` defaults.
fn unique_tags(files: &[(String, String)]) -> usize {
    let mut seen = BTreeSet::new();
    for (_, text) in files {
        for line in text.lines() {
            let word = if let Some(rest) = line.strip_prefix("ARG BUILD_IMAGE=") {
                Some(rest)
            } else if let Some(rest) = line.strip_prefix("FROM ") {
                rest.split_whitespace()
                    .next()
                    .filter(|w| !w.starts_with('$'))
            } else {
                None
            };
            if let Some(word) = word {
                seen.insert(word.to_owned());
            }
        }
    }
    seen.len()
}
