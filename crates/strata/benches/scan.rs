//! The whole `strata scan` of the 3,363 real Dockerfiles in corpus/dockerfiles.tar.gz
//! (unpacked once under target/; discovery, reading, extraction, JSON output) as a
//! subprocess, wall time. Per-file parse figures are in strata-core's `parse` bench.
//!
//! Run: `cargo build --release -p strata && cargo bench -p strata --bench scan`, or
//! `scripts/bench scan`, which also runs the Python and Node peers on the same files.

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn main() {
    let dir = corpus::dockerfiles();
    let exe = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/release/strata");
    if !exe.exists() {
        println!(
            "(build the release binary for the end-to-end figure: cargo build --release -p strata)"
        );
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
    println!(
        "strata scan <corpus> --format json  {:>8.1} ms wall (best of 10)",
        best.as_secs_f64() * 1e3
    );
}
