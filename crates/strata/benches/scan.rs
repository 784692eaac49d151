//! Scan speed on the 3,363 real Dockerfiles of ../shared/corpus/dockerfiles:
//! parsing and extraction per file (in memory), and the whole `strata scan` of the
//! folder (discovery, reading, extraction, JSON output) as a subprocess, wall time.
//!
//! Run: `cargo bench -p strata --bench scan` (or `scripts/bench scan`, which also runs
//! the Python and Node peers on the same files).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use strata_core::dockerfile;
use strata_core::extract::dockerfile::{Options, extract};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/dockerfiles/files")
}

fn per_file(label: &str, texts: &[String], rounds: u32, f: impl Fn(&str) -> usize) {
    let mut best = Duration::MAX;
    let mut sink = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        for t in texts {
            sink += f(t);
        }
        best = best.min(start.elapsed());
    }
    let micros = best.as_secs_f64() * 1e6 / texts.len() as f64;
    println!("{label:<28} {micros:>8.2} µs/file  (best of {rounds}, {} files, checksum {sink})", texts.len());
}

fn main() {
    let dir = corpus();
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("corpus folder") {
        let path = entry.expect("entry").path();
        if let Ok(text) = std::fs::read_to_string(&path) {
            texts.push(text);
        }
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    println!("corpus: {} files, {:.1} MiB", texts.len(), bytes as f64 / (1 << 20) as f64);
    per_file("parse (BuildKit rules)", &texts, 20, |t| dockerfile::parse(t).map_or(0, |d| d.instructions.len()));
    let opts = Options::default();
    per_file("parse + extract", &texts, 20, |t| extract(t, &opts).occurrences.len());

    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/strata");
    if !exe.exists() {
        println!("(build the release binary for the end-to-end figure: cargo build --release -p strata)");
        return;
    }
    let mut best = Duration::MAX;
    for _ in 0..10 {
        let start = Instant::now();
        let out = Command::new(&exe)
            .args(["scan", "--format", "json"])
            .arg(&dir)
            .output()
            .expect("run strata");
        best = best.min(start.elapsed());
        assert!(!out.stdout.is_empty());
    }
    println!("strata scan <corpus> --format json  {:>8.1} ms wall (best of 10)", best.as_secs_f64() * 1e3);
}
