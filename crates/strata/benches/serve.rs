//! `strata serve` against the real registry on 127.0.0.1, the binary (bench profile) run
//! as a server; each part can be run alone by naming it after `--`:
//!
//! - `latency`: the pinned organisation of `tests/pinned_support` (31 managed images,
//!   pins written in place, the command trigger building on what they say), the
//!   registry's notifications pointed at the server. Per round the root tag is pushed;
//!   read back from the API: the registry's push time → the recorded move, and → the
//!   first trigger of the cascade it set off, and → its last image published.
//! - `watch`: 10,000 tags across 1,000 registry repositories, referenced by 1,000
//!   Dockerfiles in one workspace repository, `interval = "20s"`, `jitter = 0` (so the
//!   count is exact): the server runs for its first sweep (its first checks are spread
//!   over one interval, so start-up is no burst) and two more intervals; every tag's
//!   manifest requests are counted in the registry's access log over two and a half
//!   intervals from its first (expected: 3 each), and the server's peak resident memory
//!   is read from `/proc`.
//! - `sweep`: 100,000 tags (1,000 repositories × 100), `interval = "2s"` so every first
//!   check is due at once: how long the first lookup of every tag takes, against the registry's own ceiling measured in the same run by a
//!   plain keep-alive `HEAD` loop over the same tags (64 connections, as the server
//!   keeps 64 lookups in flight). The sweep is also run with 1, 2 and 4 workers sharing
//!   one PostgreSQL database: on a server of its own on loopback (Debian's packages, as
//!   the tests start it), or the one `STRATA_BENCH_POSTGRES=postgres://…` names (emptied
//!   before each run with `psql`); `STRATA_BENCH_POSTGRES=0` leaves PostgreSQL out.
//!
//! Run: `cargo bench -p strata --bench serve [-- latency|watch|sweep]`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the report

#[path = "../tests/pinned_support/mod.rs"]
mod pinned_support;
#[path = "../tests/serve_support/mod.rs"]
mod serve_support;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pinned_support::Mode;
use serde_json::Value;
use serve_support::{free_port, get_json, ready, serve, terminate};
use strata_testkit::{BulkSeed, SeededTag, TestRegistry};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const ROUNDS: usize = 10;

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        if run("latency") {
            latency().await;
        }
        if run("watch") {
            // STRATA_BENCH_INTERVAL (seconds) to try another interval.
            let interval = std::env::var("STRATA_BENCH_INTERVAL")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(20);
            watch(1_000, 10, Duration::from_secs(interval), 2).await;
        }
        if run("sweep") {
            sweep(1_000, 100).await;
        }
    });
}

fn parse_time(value: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.as_str()?, &Rfc3339).ok()
}

fn ms(from: OffsetDateTime, to: OffsetDateTime) -> f64 {
    (to - from).as_seconds_f64() * 1e3
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Push → recorded move → first trigger → last image published, from the API.
async fn latency() {
    let port = free_port();
    let org = serve_support::org(Mode::InPlace, port, "1h", "").await;
    let server = serve(&org, &[], &[]);
    ready(port).await;
    let (mut detected, mut first, mut last, mut client_side) = (vec![], vec![], vec![], vec![]);
    // Round 0 warms the caches and the database.
    for round in 0..=ROUNDS {
        let pushing = OffsetDateTime::now_utc();
        let digest = org.move_root_with(&format!("debian-fix-{round}")).await;
        let started = Instant::now();
        let found = loop {
            let moves = get_json(port, "/api/moves").await;
            let found = moves
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["to"] == digest.as_str())
                .cloned();
            if let Some(m) = found.clone()
                && m["handled_at"].is_string()
                && m["cascade"]["status"] == "succeeded"
            {
                break m;
            }
            if started.elapsed() > Duration::from_secs(120) {
                let events = get_json(port, "/api/events").await;
                let jobs = get_json(port, "/api/jobs").await;
                let mine = moves
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|m| m["to"] == digest.as_str());
                panic!(
                    "round {round} never cascaded: {mine:#?}\nevents {events:#}\njobs {jobs:#}\n{}",
                    serve_support::log_text(&org)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        if round == 0 {
            continue;
        }
        let step = |name: &str| {
            found["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["step"] == name)
                .and_then(|s| parse_time(&s["at"]))
        };
        let nodes = found["cascade"]["nodes"].as_array().unwrap();
        let triggered = nodes.iter().filter_map(|n| parse_time(&n["triggered_at"]));
        let finished = nodes.iter().filter_map(|n| parse_time(&n["finished_at"]));
        let (Some(pushed), Some(seen)) = (step("pushed"), step("detected")) else {
            panic!("round {round}: no push or detection step: {found:#}");
        };
        detected.push(ms(pushed, seen));
        first.push(ms(pushed, triggered.min().unwrap()));
        last.push(ms(pushed, finished.max().unwrap()));
        client_side.push(ms(pushing, seen));
    }
    let (code, log) = terminate(&org, server).await;
    assert_eq!(code, Some(0), "{log}");
    println!("\nserve latency, {ROUNDS} rounds, 31 managed images, notifications on (ms)");
    println!("{:<44} {:>9} {:>9}", "", "median", "max");
    for (what, values) in [
        ("push (registry's time) -> recorded move", &mut detected),
        ("push (registry's time) -> first trigger", &mut first),
        ("push (registry's time) -> last image published", &mut last),
        ("push started (client) -> recorded move", &mut client_side),
    ] {
        let max = values.iter().copied().fold(0.0, f64::max);
        println!("{what:<44} {:>9.1} {max:>9.1}", median(values));
    }
}

/// A workspace of one repository whose Dockerfiles name every seeded tag, in files of
/// `per_file` stages.
fn workspace(dir: &Path, host: &str, tags: &[SeededTag], per_file: usize, extra: &str) {
    let repo = dir.join("app");
    for (i, chunk) in tags.chunks(per_file).enumerate() {
        let mut text = String::new();
        for (j, t) in chunk.iter().enumerate() {
            writeln!(text, "FROM {host}/{}:{} AS s{j}", t.repo, t.tag).unwrap();
        }
        let file = repo.join(format!("svc{i:04}/Dockerfile"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    pinned_support::git(&repo, &["init", "-q", "-b", "main"]);
    pinned_support::git(&repo, &["add", "-A"]);
    pinned_support::git(&repo, &["commit", "-qm", "images"]);
    std::fs::write(
        dir.join("strata.toml"),
        format!("[workspace]\n\n[[workspace.repository]]\npath = \"app\"\n\n{extra}"),
    )
    .unwrap();
}

/// `strata serve` in `dir` with a clean environment, stderr to `serve.log`.
fn spawn(dir: &Path, args: &[&str]) -> tokio::process::Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("serve.log"))
        .unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        .env("STRATA_CACHE_DIR", dir.join("cache"))
        .env("STRATA_STATE", dir.join("state.db"))
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn stop(child: &mut tokio::process::Child) {
    let pid = child.id().unwrap().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let _ = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
}

/// The sum of `strata_lookups_total` on `port`'s metrics; 0 when it does not answer.
async fn lookups(client: &reqwest::Client, port: u16) -> u64 {
    lookups_matching(client, port, "").await
}

/// First lookups of tags (`outcome="new"`): how far the first sweep has got.
async fn first_lookups(client: &reqwest::Client, port: u16) -> u64 {
    lookups_matching(client, port, "outcome=\"new\"").await
}

async fn lookups_matching(client: &reqwest::Client, port: u16, label: &str) -> u64 {
    let Ok(answer) = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
    else {
        return 0;
    };
    let text = answer.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| l.starts_with("strata_lookups_total{") && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Resident memory of `pid` now and at its peak, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn seed(registry: &TestRegistry, repos: usize, tags: usize) -> Vec<SeededTag> {
    let started = Instant::now();
    let plan = BulkSeed::new(repos, tags).concurrency(32);
    let seeded = registry.seeder().seed_bulk(&plan).await.unwrap();
    eprintln!("seeded {} tags in {:.1?}", seeded.len(), started.elapsed());
    seeded
}

/// Exactly one lookup per tag per interval, and the memory it takes.
async fn watch(repos: usize, per_repo: usize, interval: Duration, intervals: u32) {
    let registry = TestRegistry::start().await.unwrap();
    let tags = seed(&registry, repos, per_repo).await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    workspace(
        dir.path(),
        &registry.host(),
        &tags,
        per_repo,
        &format!(
            "[serve]\nlisten = \"127.0.0.1:{port}\"\ninterval = \"{}s\"\njitter = 0.0\n",
            interval.as_secs()
        ),
    );
    registry.reset_requests().await;
    let client = serve_support::http();
    let spawned = Instant::now();
    let mut child = spawn(dir.path(), &[]);
    let pid = child.id().unwrap();
    // Every tag's HEADs are counted over its own window: from its first lookup (seen in
    // the access log, read every half second) to `intervals` and a half intervals later,
    // which holds exactly `intervals + 1` lookups when each comes one interval after the
    // last. (The first checks are spread over one interval, so no single cut-off time
    // would be fair to every tag.)
    let total = tags.len() as u64;
    let window = interval * intervals + interval / 2;
    let paths: Vec<String> = tags
        .iter()
        .map(|t| format!("/v2/{}/manifests/{}", t.repo, t.tag))
        .collect();
    let mut first_seen: BTreeMap<String, Instant> = BTreeMap::new();
    let mut counted: BTreeMap<String, u32> = BTreeMap::new();
    let mut first_lookup = None;
    let mut swept = None;
    let mut peak_rss: f64 = 0.0;
    while counted.len() < paths.len() {
        assert!(
            spawned.elapsed() < interval * (intervals + 3),
            "{} of {total} tags seen through their window after {:.1?} (first sweep done: \
             {swept:.1?})",
            counted.len(),
            spawned.elapsed()
        );
        let now = Instant::now();
        let done = lookups(&client, port).await;
        if done > 0 && first_lookup.is_none() {
            first_lookup = Some(spawned.elapsed());
        }
        if done >= total && swept.is_none() {
            swept = Some(spawned.elapsed());
        }
        let mut per_tag: BTreeMap<String, u32> = BTreeMap::new();
        for request in registry.requests().await {
            if request.is_manifest() && request.method == "HEAD" {
                *per_tag.entry(request.path).or_default() += 1;
            }
        }
        for path in &paths {
            let Some(n) = per_tag.get(path).copied() else {
                continue;
            };
            let first = *first_seen.entry(path.clone()).or_insert(now);
            if now >= first + window && !counted.contains_key(path) {
                counted.insert(path.clone(), n);
            }
        }
        peak_rss = peak_rss.max(memory(pid).0);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let swept = swept.unwrap_or_default();
    let first_lookup = first_lookup.unwrap_or_default();
    let (rss, hwm) = memory(pid);
    stop(&mut child).await;
    let mut histogram: BTreeMap<u32, usize> = BTreeMap::new();
    for n in counted.values() {
        *histogram.entry(*n).or_default() += 1;
    }
    let expected = intervals + 1;
    println!(
        "\nserve watch: {} tags in {repos} repositories, interval {}s, jitter 0",
        tags.len(),
        interval.as_secs()
    );
    println!(
        "  first lookup {:.1} s after start (workspace read, watch list synced), first sweep \
         done at {:.1} s (its checks spread over the interval); then {intervals} intervals",
        first_lookup.as_secs_f64(),
        swept.as_secs_f64(),
    );
    println!(
        "  manifest HEADs per tag within {:.0} s of its first (expected {expected}: the first \
         lookup + one per interval): {histogram:?}",
        window.as_secs_f64()
    );
    println!(
        "  resident memory: {rss:.1} MiB at the end, {:.1} MiB peak (VmHWM {hwm:.1} MiB)",
        peak_rss.max(rss)
    );
}

/// The registry's ceiling: `HEAD`s per second over `connections` keep-alive connections.
async fn ceiling(registry: &TestRegistry, tags: &[SeededTag], connections: usize) -> f64 {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap();
    let urls: Arc<Vec<String>> = Arc::new(
        tags.iter()
            .map(|t| format!("{}/v2/{}/manifests/{}", registry.url(), t.repo, t.tag))
            .collect(),
    );
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let window = Duration::from_secs(10);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (client, urls, next, done) = (
            client.clone(),
            Arc::clone(&urls),
            Arc::clone(&next),
            Arc::clone(&done),
        );
        tasks.spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize % urls.len();
                let answer = client
                    .head(&urls[i])
                    .header(
                        "Accept",
                        "application/vnd.docker.distribution.manifest.v2+json",
                    )
                    .send()
                    .await
                    .unwrap();
                assert!(answer.status().is_success(), "{}", answer.status());
            }
        });
    }
    let started = Instant::now();
    tokio::time::sleep(window).await;
    done.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}
    next.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// One full interval of lookups of `repos × per_repo` tags, against the ceiling.
async fn sweep(repos: usize, per_repo: usize) {
    let registry = TestRegistry::start().await.unwrap();
    let tags = seed(&registry, repos, per_repo).await;
    let ceiling_1 = ceiling(&registry, &tags, 1).await;
    let ceiling_64 = ceiling(&registry, &tags, 64).await;
    let dir = tempfile::tempdir().unwrap();
    let mut rows = Vec::new();
    // (row name, on PostgreSQL, workers)
    let mut databases: Vec<(String, bool, usize)> = vec![("SQLite".into(), false, 1)];
    // A PostgreSQL server of our own on loopback (the test kit's), unless one is named.
    let server = match std::env::var("STRATA_BENCH_POSTGRES") {
        Ok(url) if url == "0" => None,
        Ok(url) => Some((url, None)),
        Err(_) => match strata_testkit::TestPostgres::start() {
            Ok(pg) => Some((String::new(), Some(pg))),
            Err(e) => {
                eprintln!("no PostgreSQL for the sweep ({e}); SQLite only");
                None
            }
        },
    };
    if server.is_some() {
        for workers in [1, 2, 4] {
            databases.push((format!("PostgreSQL, {workers} worker(s)"), true, workers));
        }
    }
    for (name, on_postgres, workers) in databases {
        let run = dir.path().join(format!("run-{}", rows.len()));
        std::fs::create_dir_all(&run).unwrap();
        let ports: Vec<u16> = (0..workers).map(|_| free_port()).collect();
        workspace(
            &run,
            &registry.host(),
            &tags,
            per_repo,
            // A short interval: the first checks (spread over one interval) are all due
            // at once, so the sweep goes as fast as the server can; rechecks come after
            // every first check (they are due later), and only first lookups are counted.
            "[serve]\ninterval = \"2s\"\n",
        );
        // Each run starts from no state: a new database on our server, or the named
        // one emptied.
        let url = match (on_postgres, &server) {
            (true, Some((_, Some(pg)))) => Some(pg.create_database().unwrap()),
            (true, Some((url, None))) => {
                reset_postgres(url).await;
                Some(url.clone())
            }
            _ => None,
        };
        let client = serve_support::http();
        let spawned = Instant::now();
        let mut children = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let listen = format!("127.0.0.1:{port}");
            let worker = format!("w{i}");
            let mut args = vec!["--listen", &listen, "--worker", &worker];
            if let Some(url) = &url {
                args.extend(["--database", url]);
            }
            children.push(spawn(&run, &args));
        }
        let total = tags.len() as u64;
        let mut first_lookup = None;
        loop {
            let mut sum = 0;
            for port in &ports {
                sum += first_lookups(&client, *port).await;
            }
            if sum > 0 && first_lookup.is_none() {
                first_lookup = Some(spawned.elapsed());
            }
            if sum >= total {
                break;
            }
            assert!(
                spawned.elapsed() < Duration::from_secs(1800),
                "{name}: the sweep never finished ({sum} of {total})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let swept = spawned.elapsed();
        let peak = children
            .iter()
            .map(|c| memory(c.id().unwrap()).1)
            .fold(0.0, f64::max);
        for child in &mut children {
            stop(child).await;
        }
        let start = first_lookup.unwrap_or_default();
        let seconds = (swept - start).as_secs_f64();
        rows.push((name, seconds, total as f64 / seconds, peak));
    }
    println!(
        "\nserve sweep: {} tags in {repos} repositories, one full interval of lookups",
        tags.len()
    );
    println!(
        "  registry ceiling, keep-alive HEAD loop (same run): {ceiling_1:.0}/s on 1 connection, {ceiling_64:.0}/s on 64"
    );
    println!(
        "{:<32} {:>12} {:>12} {:>10} {:>12}",
        "", "interval s", "lookups/s", "of ceiling", "peak MiB"
    );
    for (name, seconds, rate, peak) in rows {
        println!(
            "{name:<32} {seconds:>12.1} {rate:>12.0} {:>9.0}% {peak:>12.1}",
            rate / ceiling_64 * 100.0
        );
    }
}

/// Empties the benchmark database between runs (each run starts from no state).
async fn reset_postgres(url: &str) {
    let status = tokio::process::Command::new("psql")
        .args([
            url,
            "-q",
            "-c",
            "DROP SCHEMA public CASCADE; CREATE SCHEMA public;",
        ])
        .status()
        .await
        .unwrap();
    assert!(status.success(), "resetting {url}");
}
