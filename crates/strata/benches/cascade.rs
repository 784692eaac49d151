//! Cascade propagation latency against the real registry on 127.0.0.1, with
//! `strata-test-builder`, which builds like `docker build` (on what the file pins) and
//! takes a few milliseconds. Per round the root tag moves, then `strata cascade` (built
//! with the bench profile) runs; measured from the move to the last leaf published on
//! the new base (every build logs its push).
//!
//! - unpinned: the five-level hierarchy of `tests/cascade_support` (28 managed images,
//!   20 leaves), `--parallel 8` and `32`: per-level spans from strata's report, the
//!   builders' own time along the critical path, and strata's overhead beyond it;
//! - pinned, in place: the pinned organisation of `tests/pinned_support` (31 managed
//!   images in five repositories, 20 leaves), every Dockerfile pinned; each rebuild's
//!   pins written to its checkout, the command trigger building it there;
//! - pinned, commit: the same organisation with `trigger = { kind = "push" }`: each
//!   image's pins committed and pushed to a bare `origin` whose `post-receive` hook is the
//!   CI that builds the pushed commit. Also the git cost per repository (strata's
//!   `delivery_ms`: scan, commit, push).
//!
//! Run: `cargo bench -p strata --bench cascade`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark: a panic is the report

#[path = "../tests/cascade_support/mod.rs"]
mod cascade_support;
#[path = "../tests/pinned_support/mod.rs"]
mod pinned_support;

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
    drop(runtime);
    for mode in [pinned_support::Mode::InPlace, pinned_support::Mode::Commit] {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(pinned(mode));
    }
}

/// One measured cascade of the pinned organisation.
struct Pinned {
    latency: u128,
    wall: u128,
    levels: Vec<f64>,
    /// Builds' own time, longest per level (ms).
    builds: Vec<u128>,
    /// Delivery time of the images that carried their repository's change, per repository.
    delivery: BTreeMap<String, Vec<u64>>,
}

async fn pinned(mode: pinned_support::Mode) {
    let org = pinned_support::Org::new(mode, None).await;
    let mut rounds = Vec::new();
    // Round 0 warms up (strata's clone of the git repository, caches).
    for n in 0..=ROUNDS {
        let round = pinned_round(&org, n).await;
        if n > 0 {
            rounds.push(round);
        }
    }
    let name = match mode {
        pinned_support::Mode::Commit => "commit, CI on push",
        _ => "in place, command trigger",
    };
    let best = rounds.iter().min_by_key(|r| r.latency).unwrap();
    let mut latencies: Vec<u128> = rounds.iter().map(|r| r.latency).collect();
    latencies.sort_unstable();
    println!();
    println!(
        "pinned cascade ({name}), {} images in 5 levels (20 leaves), --parallel 8, {ROUNDS} rounds",
        org.members.len()
    );
    println!(
        "  root moved -> last leaf published: best {} ms, median {} ms (target < 5000 ms)",
        best.latency,
        latencies[latencies.len() / 2]
    );
    println!("  root moved -> strata exited:       {} ms", best.wall);
    for (at, seconds) in best.levels.iter().enumerate() {
        let span = (seconds * 1000.0) as u128;
        let build = best.builds.get(at).copied().unwrap_or(0);
        println!(
            "  level {}: {span} ms (first trigger to last publication), longest build {build} ms, \
             strata's own {} ms",
            at + 1,
            span.saturating_sub(build)
        );
    }
    for (repo, times) in &best.delivery {
        let mut sorted = times.clone();
        sorted.sort_unstable();
        println!(
            "  {repo}: pins delivered {} time(s), median {} ms, max {} ms",
            sorted.len(),
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1]
        );
    }
}

async fn pinned_round(org: &pinned_support::Org, n: usize) -> Pinned {
    let _ = std::fs::remove_file(org.log());
    let (repo, tag) = pinned_support::split(&org.root);
    org.registry
        .seeder()
        .push_image(&repo, &tag, &Image::new(&format!("debian-pinned-{n}")))
        .await
        .unwrap();
    let moved = now_ms();
    let run = org
        .strata(
            &[
                "cascade",
                &org.root,
                "--format",
                "json",
                "--quiet",
                "--parallel",
                "8",
            ],
            &[],
        )
        .await;
    let wall = now_ms() - moved;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    org.settle_ci().await;
    let report = run.json();
    let log = org.builds();
    let at = |event: &Value| u128::from(event["at_ms"].as_u64().unwrap());
    // The first publication of each image on this round's chain.
    let mut done: BTreeMap<String, u128> = BTreeMap::new();
    let mut took: BTreeMap<String, u128> = BTreeMap::new();
    let mut started: BTreeMap<String, u128> = BTreeMap::new();
    for event in &log {
        let image = event["image"].as_str().unwrap().to_owned();
        match event["event"].as_str() {
            Some("start") => {
                started.insert(image, at(event));
            }
            Some("published") => {
                let finished = at(event);
                let begun = started.get(&image).copied().unwrap_or(finished);
                took.entry(image.clone()).or_insert(finished - begun);
                done.entry(image).or_insert(finished);
            }
            _ => {}
        }
    }
    let last = org
        .members
        .iter()
        .filter(|m| m.level == 5)
        .filter_map(|m| done.get(&m.name))
        .max()
        .copied()
        .unwrap();
    let mut builds = vec![0u128; 5];
    for member in &org.members {
        if let Some(t) = took.get(&member.name) {
            builds[member.level - 1] = builds[member.level - 1].max(*t);
        }
    }
    let mut delivery: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for node in report[0]["nodes"].as_array().unwrap() {
        let (Some(ms), Some(image)) = (node["delivery_ms"].as_u64(), node["image"].as_str()) else {
            continue;
        };
        if let Some(member) = org.members.iter().find(|m| m.name == image) {
            delivery.entry(member.repo.to_owned()).or_default().push(ms);
        }
    }
    Pinned {
        latency: last - moved,
        wall,
        levels: report[0]["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["seconds"].as_f64().unwrap_or(0.0))
            .collect(),
        builds,
        delivery,
    }
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
