//! `strata diff` speed against the real registry on 127.0.0.1: two single-platform
//! images of about 100 MB of compressed layers each (a gzip base layer holding this
//! machine's dpkg database, which moves, and a zstd layer both share), the binary run
//! as a subprocess (bench profile):
//! 1. cold: an empty cache, every layer fetched from the registry and read;
//! 2. warm: the same diff again, every blob from the on-disk cache (re-verified);
//! 3. `gzip -dc` and `zstd -dc` of the same unique layers, in the same run: the floor;
//! 4. the package and advisory work alone (parse both databases, diff, match 5,000
//!    advisories), in process.
//!
//! Peak memory is the subprocess's maximum RSS from `/usr/bin/time -f %M`.
//! Run: `cargo bench -p strata --bench diff`. Targets: warm within 1.5x of the
//! decompressors alone; peak memory under 100 MB.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the report

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata_core::osv::{Advisory, AdvisoryIndex};
use strata_core::package::{self, OsRelease};
use strata_testkit::packages::{TarLayer, host_dpkg_status, layer, modify_dpkg_status};
use strata_testkit::{Image, TestRegistry};

const LAYER_FILES: usize = 2_300;
const FILE_BYTES: usize = 100_000;

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(run());
}

/// Deterministic text that compresses about as well as real files (3-4x).
fn text(seed: u64, len: usize) -> Vec<u8> {
    const WORDS: [&str; 32] = [
        "lib", "usr", "share", "python3", "import", "def", "return", "self", "None", "value",
        "config", "error", "while", "for", "in", "and", "0x1f", "struct", "static", "const",
        "printf", "buffer", "length", "index", "path", "file", "open", "close", "read", "write",
        "digest", "layer",
    ];
    let mut out = Vec::with_capacity(len + 16);
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    while out.len() < len {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.extend_from_slice(WORDS[(x >> 59) as usize].as_bytes());
        out.push(if x & 0xf == 0 { b'\n' } else { b' ' });
        if x & 0xff == 7 {
            out.extend_from_slice(format!("{:x}", x).as_bytes());
        }
    }
    out.truncate(len);
    out
}

fn bulk(seed: u64, status: &str) -> TarLayer {
    let mut tar = TarLayer::new()
        .file(
            "etc/os-release",
            std::fs::read_to_string("/etc/os-release").unwrap(),
        )
        .file("var/lib/dpkg/status", status);
    for i in 0..LAYER_FILES {
        tar = tar.file(
            &format!("usr/share/bench/{seed}/{i:05}.txt"),
            text(seed * 100_000 + i as u64, FILE_BYTES),
        );
    }
    tar
}

async fn run() {
    let registry = TestRegistry::start().await.unwrap();
    let status = host_dpkg_status().unwrap();
    let (modified, _) = modify_dpkg_status(&status, 20, 5);
    eprintln!("building layers…");
    let gz = |t: &TarLayer| {
        let tar = t.tar();
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&tar).unwrap();
        layer(&tar, e.finish().unwrap())
    };
    let base_old = gz(&bulk(1, &status));
    let base_new = gz(&bulk(2, &modified));
    let shared = TarLayer::new();
    let mut shared = shared;
    for i in 0..LAYER_FILES {
        shared = shared.file(
            &format!("opt/app/{i:05}.txt"),
            text(900_000 + i as u64, FILE_BYTES),
        );
    }
    let shared = shared.zstd();
    let old = Image::from_layers(vec![base_old.clone(), shared.clone()]);
    let new = Image::from_layers(vec![base_new.clone(), shared.clone()]);
    let mb = |n: usize| n as f64 / 1e6;
    eprintln!(
        "old {:.1} MB, new {:.1} MB compressed",
        mb(base_old.bytes.len() + shared.bytes.len()),
        mb(base_new.bytes.len() + shared.bytes.len())
    );
    let seed = registry.seeder();
    seed.push_image("bench/app", "old", &old).await.unwrap();
    seed.push_image("bench/app", "new", &new).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    // 5,000 advisories on this machine's source packages, as files the diff loads.
    let release = OsRelease::parse(&std::fs::read_to_string("/etc/os-release").unwrap())
        .and_then(|r| r.release())
        .unwrap();
    let sources: Vec<String> = package::parse_dpkg_status(&status, "s")
        .packages
        .iter()
        .map(|p| p.source.clone())
        .collect();
    let advisories: Vec<Advisory> = (0..5_000)
        .map(|i| {
            let json = format!(
                r#"{{"id":"DEBIAN-BENCH-{i}","modified":"2024-01-01T00:00:00Z","affected":[{{"package":{{"ecosystem":"{}","name":"{}"}},"ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{}.{}"}}]}}]}}]}}"#,
                release.ecosystem,
                sources[i % sources.len()],
                i % 7,
                i
            );
            Advisory::parse(json.as_bytes()).unwrap()
        })
        .collect();
    let advisory_dir = dir.path().join("advisories");
    std::fs::create_dir_all(&advisory_dir).unwrap();
    for a in &advisories {
        let path = advisory_dir.join(format!("{}.json", a.id));
        std::fs::write(path, serde_json::to_vec(a).unwrap()).unwrap();
    }
    let host = registry.host();
    let (a, b) = (
        format!("{host}/bench/app:old"),
        format!("{host}/bench/app:new"),
    );
    let diff = |cache: &Path| {
        let rss = dir.path().join("rss");
        let started = Instant::now();
        let status = Command::new("/usr/bin/time")
            .args(["-f", "%M", "-o"])
            .arg(&rss)
            .arg(env!("CARGO_BIN_EXE_strata"))
            .args(["diff", &a, &b, "--format", "json"])
            .env("STRATA_CACHE_DIR", cache)
            .env("STRATA_ADVISORIES", &advisory_dir)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        let wall = started.elapsed();
        assert_eq!(status.code(), Some(1));
        let kib: u64 = std::fs::read_to_string(&rss)
            .unwrap()
            .trim()
            .lines()
            .last()
            .unwrap()
            .parse()
            .unwrap();
        (wall, kib)
    };
    let cache = dir.path().join("cache");
    let _ = std::fs::remove_dir_all(&cache);
    let (cold, cold_rss) = diff(&cache);
    let mut warm = Duration::MAX;
    let mut warm_rss = 0;
    for _ in 0..3 {
        let (w, r) = diff(&cache);
        if w < warm {
            warm = w;
            warm_rss = r;
        }
    }
    // The floor: the system decompressors on the same unique layers.
    let files = [("gz", &base_old), ("gz", &base_new), ("zst", &shared)];
    for (i, (ext, l)) in files.iter().enumerate() {
        std::fs::write(dir.path().join(format!("{i}.{ext}")), &l.bytes).unwrap();
    }
    let mut floor = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        for (i, (ext, _)) in files.iter().enumerate() {
            let tool = if *ext == "gz" { "gzip" } else { "zstd" };
            let ok = Command::new(tool)
                .arg("-dc")
                .arg(dir.path().join(format!("{i}.{ext}")))
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        floor = floor.min(started.elapsed());
    }
    // Package and advisory work alone.
    let started = Instant::now();
    let rounds = 20;
    let mut found = 0;
    for _ in 0..rounds {
        let old = package::parse_dpkg_status(&status, "s").packages;
        let new = package::parse_dpkg_status(&modified, "s").packages;
        let d = package::diff(&old, &new);
        let index = AdvisoryIndex::new(advisories.clone());
        found = index.matches(&release, &old).len()
            + index.matches(&release, &new).len()
            + d.changes.len();
    }
    let matching = started.elapsed() / rounds;
    println!();
    println!(
        "{:<58} {:>10}",
        "strata diff, ~100 MB compressed per image, 1 platform", ""
    );
    println!(
        "{:<58} {:>8.0} ms  peak {:>4} MB",
        "cold (empty cache, fetched from 127.0.0.1)",
        cold.as_secs_f64() * 1e3,
        cold_rss / 1024
    );
    println!(
        "{:<58} {:>8.0} ms  peak {:>4} MB",
        "warm (cached, re-verified)",
        warm.as_secs_f64() * 1e3,
        warm_rss / 1024
    );
    println!(
        "{:<58} {:>8.0} ms",
        "gzip -dc + zstd -dc of the same 3 unique layers",
        floor.as_secs_f64() * 1e3
    );
    println!(
        "{:<58} {:>8.2}x",
        "warm / decompressors",
        warm.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "{:<58} {:>8.1} ms  ({} packages, 5,000 advisories, {found} results)",
        "packages parsed + diffed + advisories matched (in process)",
        matching.as_secs_f64() * 1e3,
        sources.len()
    );
}
