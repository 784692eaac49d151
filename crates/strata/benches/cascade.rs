//! Cascade propagation latency against the real registry on 127.0.0.1: the five-level
//! hierarchy with twenty leaves (28 managed images, `tests/cascade_support`), rebuilt by
//! the instant test builder. Per round the root tag moves, then `strata cascade` (built
//! with the bench profile) runs; measured from the move to the last leaf published on
//! the new base (the builder logs each push), with per-level spans from strata's report,
//! the builders' own time along the critical path, and strata's overhead beyond it.
//!
//! Run: `cargo bench -p strata --bench cascade`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the report

#[path = "../tests/cascade_support/mod.rs"]
mod cascade_support;

use std::collections::BTreeMap;

use cascade_support::{Setup, setup};
use serde_json::Value;
use strata_testkit::Image;
use strata_testkit::hierarchy::now_ms;

const ROUNDS: usize = 3;

/// One measured cascade.
struct Round {
    /// Root moved -> last leaf published (ms).
    latency: u128,
    /// Root moved -> strata exited (ms).
    wall: u128,
    /// Root moved -> first builder started: strata start-up, hierarchy, plan (ms).
    startup: u128,
    /// Builder time (start -> published) summed along the chain to the last leaf (ms).
    builders: u128,
    levels: Vec<f64>,
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let setup = setup(false).await;
        // Warm-up: the state database, the disk cache, the page cache.
        let _ = round(&setup, 0, "8").await;
        for parallel in ["8", "32"] {
            let mut rounds = Vec::new();
            for n in 1..=ROUNDS {
                rounds.push(round(&setup, n + usize::from(parallel == "32") * 10, parallel).await);
            }
            report(parallel, &rounds);
        }
    });
}

async fn round(setup: &Setup, n: usize, parallel: &str) -> Round {
    let _ = std::fs::remove_file(setup.log());
    let (repo, tag) = cascade_support::split(&setup.root);
    setup
        .registry
        .seeder()
        .push_image(
            &repo,
            &tag,
            &Image::new(&format!("debian-fix-{n}-{parallel}")),
        )
        .await
        .unwrap();
    let moved = now_ms();
    let run = setup
        .strata(
            &[
                "cascade",
                &setup.root,
                "--format",
                "json",
                "--quiet",
                "--parallel",
                parallel,
            ],
            &[],
        )
        .await;
    let wall = now_ms() - moved;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let log = setup.builds();
    let at = |event: &Value| u128::from(event["at_ms"].as_u64().unwrap());
    let mut start: BTreeMap<String, u128> = BTreeMap::new();
    let mut done: BTreeMap<String, u128> = BTreeMap::new();
    for event in &log {
        let image = event["image"].as_str().unwrap().to_owned();
        match event["event"].as_str() {
            Some("start") => {
                start.insert(image, at(event));
            }
            Some("published") => {
                done.insert(image, at(event));
            }
            _ => {}
        }
    }
    assert_eq!(done.len(), setup.managed().len(), "every image rebuilt");
    let leaves: Vec<&cascade_support::Member> = setup
        .managed()
        .into_iter()
        .filter(|m| m.level == 5)
        .collect();
    let last = leaves.iter().max_by_key(|m| done[&m.name]).unwrap();
    let mut builders = 0;
    let mut cursor = Some(last.name.clone());
    while let Some(name) = cursor {
        let Some(finished) = done.get(&name) else {
            break;
        };
        builders += finished - start[&name];
        cursor = setup
            .members
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| m.parent.clone());
    }
    let levels = report[0]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["seconds"].as_f64().unwrap_or(0.0))
        .collect();
    Round {
        latency: done[&last.name] - moved,
        wall,
        startup: start.values().min().unwrap() - moved,
        builders,
        levels,
    }
}

fn report(parallel: &str, rounds: &[Round]) {
    let best = rounds.iter().min_by_key(|r| r.latency).unwrap();
    let median = {
        let mut sorted: Vec<u128> = rounds.iter().map(|r| r.latency).collect();
        sorted.sort_unstable();
        sorted[sorted.len() / 2]
    };
    println!();
    println!("cascade, 28 images in 5 levels (20 leaves), --parallel {parallel}, {ROUNDS} rounds");
    println!(
        "  root moved -> last leaf published: best {} ms, median {median} ms (target < 5000 ms)",
        best.latency
    );
    println!("  root moved -> strata exited:       {} ms", best.wall);
    println!(
        "  start-up (process, hierarchy, plan before the first trigger): {} ms",
        best.startup
    );
    println!(
        "  builders along the critical path: {} ms; strata overhead beyond them: {} ms",
        best.builders,
        best.latency.saturating_sub(best.builders)
    );
    for (at, seconds) in best.levels.iter().enumerate() {
        println!(
            "  level {}: {:.0} ms (first trigger to last publication)",
            at + 1,
            seconds * 1000.0
        );
    }
}
