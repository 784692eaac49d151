//! The whole `strata scan` of the 3,363 real Dockerfiles in corpus/dockerfiles.tar.gz
//! (unpacked once under target/; discovery, reading, extraction, output) as a
//! subprocess: wall time for the JSON and the table output, the `write` system calls of
//! the JSON scan (when `strace` is installed), and peak memory for the corpus and for
//! eight copies of it (when `/usr/bin/time` is). Per-file parse figures are in
//! strata-core's `parse` bench.
//!
//! Run: `cargo build --release -p strata && cargo bench -p strata --bench scan`, or
//! `scripts/bench scan`, which also runs the Python and Node peers on the same files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/corpus/mod.rs"]
mod corpus;

fn corpus() -> PathBuf {
    corpus::dockerfiles()
}

/// The release binary: under `CARGO_TARGET_DIR` when set, else the workspace's target.
fn binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("release/strata")
}

fn best_of(runs: usize, exe: &Path, args: &[&str], dir: &Path) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let out = Command::new(exe)
            .args(args)
            .arg(dir)
            .stderr(Stdio::null())
            .output()
            .expect("run strata");
        best = best.min(start.elapsed());
        assert!(!out.stdout.is_empty());
    }
    best
}

/// `write` calls of one JSON scan, counted by `strace -c` (`None` without strace).
fn write_calls(exe: &Path, dir: &Path) -> Option<u64> {
    let out = Command::new("strace")
        .args(["-f", "-c", "-e", "trace=write"])
        .arg(exe)
        .args(["scan", "--format", "json"])
        .arg(dir)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    let report = String::from_utf8_lossy(&out.stderr);
    let total = report.lines().find(|l| l.trim_end().ends_with("total"))?;
    // `% time, seconds, usecs/call, calls[, errors], total`
    total.split_whitespace().nth(3)?.parse().ok()
}

/// Peak resident memory of one JSON scan in KiB (`/usr/bin/time -f %M`).
fn peak_kib(exe: &Path, dir: &Path) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(exe)
        .args(["scan", "--format", "json"])
        .arg(dir)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    let report = String::from_utf8_lossy(&out.stderr);
    report.lines().rev().find_map(|l| l.trim().parse().ok())
}

/// Eight copies of the corpus as hard links (copies where links fail), made once.
fn eight_copies(corpus: &Path) -> PathBuf {
    let dir = binary().with_file_name("bench-corpus-8x");
    if dir.join("7").exists() {
        return dir;
    }
    for copy in 0..8 {
        let into = dir.join(copy.to_string());
        std::fs::create_dir_all(&into).expect("create the 8x corpus");
        for entry in std::fs::read_dir(corpus)
            .expect("read the corpus")
            .flatten()
        {
            let to = into.join(entry.file_name());
            if std::fs::hard_link(entry.path(), &to).is_err() {
                std::fs::copy(entry.path(), &to).expect("copy the corpus");
            }
        }
    }
    dir
}

fn main() {
    let dir = corpus();
    let exe = binary();
    if !exe.exists() {
        println!(
            "(build the release binary for the end-to-end figure: cargo build --release -p strata)"
        );
        return;
    }
    let files = std::fs::read_dir(&dir).map_or(0, Iterator::count);
    let json = best_of(10, &exe, &["scan", "--format", "json"], &dir);
    let table = best_of(10, &exe, &["scan"], &dir);
    println!(
        "strata scan <corpus> --format json  {:>8.1} ms wall (best of 10, {files} files)",
        json.as_secs_f64() * 1e3
    );
    println!(
        "strata scan <corpus> (table)        {:>8.1} ms wall (best of 10)",
        table.as_secs_f64() * 1e3
    );
    match write_calls(&exe, &dir) {
        Some(calls) => println!("strata scan <corpus> --format json  {calls:>8} write calls"),
        None => println!("(install strace for the write-call count)"),
    }
    let eight = eight_copies(&dir);
    match (peak_kib(&exe, &dir), peak_kib(&exe, &eight)) {
        (Some(one), Some(many)) => println!(
            "strata scan peak memory: {:.1} MB for the corpus, {:.1} MB for 8 copies",
            one as f64 / 1024.0,
            many as f64 / 1024.0
        ),
        _ => println!("(install GNU time as /usr/bin/time for peak memory)"),
    }
}
