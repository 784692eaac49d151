//! Dockerfile parsing and extraction speed on the 3,363 real Dockerfiles of
//! corpus/dockerfiles.tar.gz (read from the archive into memory, no I/O in the timed loop).
//!
//! Run: `cargo bench -p strata-core --bench parse`.

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::time::{Duration, Instant};

use strata_core::dockerfile;
use strata_core::extract::dockerfile::{Options, extract};

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
    println!(
        "{label:<24} {micros:>7.2} µs/file  (best of {rounds} rounds over {} files; checksum {sink})",
        texts.len()
    );
}

fn main() {
    let texts: Vec<String> = corpus::dockerfiles()
        .into_iter()
        .filter_map(|(_, bytes)| String::from_utf8(bytes).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "corpus: {} files, {:.1} MiB",
        texts.len(),
        bytes as f64 / f64::from(1 << 20)
    );
    per_file("parse", &texts, 30, |t| {
        dockerfile::parse(t).map_or(0, |d| d.instructions.len())
    });
    let opts = Options::default();
    per_file("parse + extract", &texts, 30, |t| {
        extract(t, &opts).occurrences.len()
    });
}
