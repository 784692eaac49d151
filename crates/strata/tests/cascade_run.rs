//! `strata cascade` end to end on a five-level hierarchy with twenty leaves in the real
//! registry, rebuilt by the test builder program: every image lands on the new root,
//! each child triggered only after its parent's new image was out, failures stop only
//! their own subtree, and `graph` marks exactly the stale images before and none after.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod cascade_support;

use std::collections::BTreeMap;

use cascade_support::{Setup, setup};
use serde_json::Value;

/// The builder's log events of `kind` per image.
fn events<'a>(log: &'a [Value], kind: &str) -> BTreeMap<String, Vec<&'a Value>> {
    let mut out: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for event in log.iter().filter(|e| e["event"] == kind) {
        out.entry(event["image"].as_str().unwrap().to_owned())
            .or_default()
            .push(event);
    }
    out
}

/// Image -> (status, report line) from a JSON cascade report.
fn statuses(report: &Value) -> BTreeMap<String, String> {
    report[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["image"].as_str().unwrap().to_owned(),
                n["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Stale image -> lag from `graph --format json`.
async fn stale(setup: &Setup) -> (i32, BTreeMap<String, u64>) {
    let run = setup.strata(&["graph", "--format", "json"], &[]).await;
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(
        doc["nodes"].as_array().unwrap().len(),
        setup.members.len(),
        "{}",
        run.stdout
    );
    let stale = doc["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["image"].as_str().unwrap().to_owned(),
                s["lag"].as_u64().unwrap(),
            )
        })
        .collect();
    (run.code, stale)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moved_root_reaches_every_leaf_in_order() {
    let setup = setup(true).await;
    let (code, before) = stale(&setup).await;
    assert_eq!((code, before.len()), (0, 0), "{before:?}");

    let moved_at = strata_testkit::hierarchy::now_ms();
    setup.move_root().await;
    let (code, lagging) = stale(&setup).await;
    assert_eq!(code, 1);
    let expected: BTreeMap<String, u64> = setup
        .managed()
        .iter()
        .map(|m| (m.name.clone(), m.level as u64))
        .collect();
    assert_eq!(lagging, expected);

    let plan = setup
        .strata(&["cascade", &setup.root, "--dry-run"], &[])
        .await;
    // A dry run exits 1 when rebuilds are pending, as every verb's dry run does.
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("29 images in 5 levels, 29 pending"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("level 5:") && plan.stdout.contains("command "),
        "{}",
        plan.stdout
    );
    assert!(setup.builds().is_empty(), "a dry run triggers nothing");

    let run = setup
        .strata(&["cascade", &setup.root, "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report[0]["levels"].as_array().unwrap().len(), 5);
    let first = statuses(&report);
    assert_eq!(first.len(), setup.managed().len());
    assert!(first.values().all(|s| s == "published"), "{first:?}");

    let digests = setup.digests().await;
    let log = setup.builds();
    let starts = events(&log, "start");
    let published = events(&log, "published");
    for member in setup.managed() {
        let parent = member.parent.as_ref().unwrap();
        let (start, done) = (&starts[&member.name], &published[&member.name]);
        assert_eq!(
            (start.len(), done.len()),
            (1, 1),
            "{} built more than once",
            member.name
        );
        // Built on the parent's final image, and told that digest.
        assert_eq!(done[0]["digest"], digests[&member.name], "{}", member.name);
        assert_eq!(done[0]["built_on"], digests[parent], "{}", member.name);
        assert_eq!(done[0]["base_digest"], digests[parent], "{}", member.name);
        assert_eq!(
            start[0]["level"],
            member.level.to_string(),
            "{}",
            member.name
        );
        // Triggered only once the parent's new image was out.
        let started = start[0]["at_ms"].as_u64().unwrap();
        let parent_out = match published.get(parent) {
            Some(p) => p[0]["at_ms"].as_u64().unwrap(),
            None => moved_at as u64,
        };
        assert!(
            started >= parent_out,
            "{} started before {parent} was out",
            member.name
        );
    }

    let (code, after) = stale(&setup).await;
    assert_eq!((code, after.len()), (0, 0), "{after:?}");

    // Everything is on the new root now: a second run triggers nothing.
    let again = setup
        .strata(&["cascade", &setup.root, "--format", "json"], &[])
        .await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(statuses(&again.json()).values().all(|s| s == "up-to-date"));
    assert_eq!(setup.builds().len(), log.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_image_stops_its_own_subtree_only() {
    let setup = setup(true).await;
    setup.move_root().await;
    let fail = [("STRATA_TEST_FAIL", "org/celery-base")];
    let run = setup
        .strata(&["cascade", &setup.root, "--format", "json"], &fail)
        .await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let statuses = statuses(&report);
    let h = &setup.host;
    let celery = format!("{h}/org/celery-base:5");
    assert_eq!(statuses[&celery], "failed");
    let below_celery = |name: &str| {
        ["worker", "beat", "legacy"]
            .iter()
            .any(|w| name.contains(w))
    };
    for member in setup.managed() {
        let status = &statuses[&member.name];
        if member.name == celery {
            continue;
        } else if below_celery(&member.name) {
            assert_eq!(status, "skipped", "{}", member.name);
        } else {
            assert_eq!(status, "published", "{}", member.name);
        }
    }
    let failed = report[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["image"] == celery.as_str())
        .unwrap();
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("failed on purpose"),
        "{failed}"
    );
    let skipped = report[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["status"] == "skipped")
        .unwrap();
    assert!(
        skipped["message"]
            .as_str()
            .unwrap()
            .contains("org/celery-base:5"),
        "{skipped}"
    );
    // Nothing below the failure was triggered.
    let log = setup.builds();
    let starts = events(&log, "start");
    assert!(
        starts.keys().all(|image| !below_celery(image)),
        "{:?}",
        starts.keys()
    );
    assert!(run.stderr.contains("failed"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_roots_and_resumes_without_runs_are_reported() {
    let setup = setup(false).await;
    let run = setup.strata(&["cascade", "127.0.0.1:1/nope:1"], &[]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is not in the image graph"),
        "{}",
        run.stderr
    );
    let run = setup.strata(&["cascade"], &[]).await;
    assert_eq!(run.code, 2, "IMAGE is required without --resume");
    let run = setup.strata(&["cascade", "--resume"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("no interrupted cascade"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_image_fails_and_stops_its_subtree() {
    let setup = setup(false).await;
    setup.move_root().await;
    let slow = [("STRATA_TEST_SLEEP", "org/vumi:latest=10000")];
    let args = [
        "cascade",
        &setup.root,
        "--format",
        "json",
        "--timeout",
        "1s",
    ];
    let run = setup.strata(&args, &slow).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let vumi = format!("{}/org/vumi:latest", setup.host);
    let node = |name: &str| {
        report[0]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["image"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(node(&vumi)["status"], "failed");
    assert!(
        node(&vumi)["message"]
            .as_str()
            .unwrap()
            .contains("timed out")
    );
    for member in setup.managed() {
        let below_vumi = ["junebug", "vumi-go"]
            .iter()
            .any(|n| member.name.contains(n));
        let expected = match () {
            () if member.name == vumi => "failed",
            () if below_vumi => "skipped",
            () => "published",
        };
        assert_eq!(node(&member.name)["status"], expected, "{}", member.name);
    }
}
