//! `strata update` cascading from a moved base, end to end: the five-level workspace of
//! the cascade tests with the root pinned in its Dockerfiles, the root tag moved in the
//! real registry, and the test builder as every image's trigger. In place (no git):
//! the pins are rewritten, then every managed image below lands on the new root; the
//! dry run plans the cascade and triggers nothing; failures make the exit code 2; the
//! switch is the flag, else `[update] cascade`, else whether `[workspace]` is declared.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod cascade_support;

use std::collections::BTreeMap;

use cascade_support::{Setup, setup};
use serde_json::Value;

/// A workspace with the root pinned in its files, then moved: (setup, old, new).
async fn moved() -> (Setup, String, String) {
    let setup = setup(false).await;
    let old = setup.pin_root().await;
    let new = setup.move_root().await;
    assert_ne!(old, new);
    (setup, old, new)
}

fn read(setup: &Setup, path: &str) -> String {
    std::fs::read_to_string(setup.workspace().join(path)).unwrap()
}

/// Image -> status of a cascade report in update's JSON.
fn statuses(cascade: &Value) -> BTreeMap<String, String> {
    cascade["report"]["nodes"]
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_rewrites_the_pin_then_every_managed_image_lands_on_the_new_base() {
    let (setup, old, new) = moved().await;
    let run = setup.strata(&["update", "--format", "json"], &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();

    // The pins first: both Dockerfiles now name the new digest, written in place.
    let updates = doc["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2, "{updates:?}");
    for update in updates {
        assert_eq!(update["from"], old.as_str());
        assert_eq!(update["to"], new.as_str());
        assert_eq!(update["written"], true);
    }
    for path in ["images/python/Dockerfile", "images/python-base/Dockerfile"] {
        let text = read(&setup, path);
        assert!(text.contains(&format!("{}@{new}", setup.root)), "{text}");
        assert!(!text.contains(&old), "{text}");
    }

    // Then one cascade from the root, every managed image published on the new base.
    let cascades = doc["cascades"].as_array().unwrap();
    assert_eq!(cascades.len(), 1, "{cascades:?}");
    let cascade = &cascades[0];
    assert_eq!(cascade["root"], setup.root.as_str());
    assert_eq!(cascade["error"], Value::Null);
    assert_eq!(cascade["report"]["new_root_digest"], new.as_str());
    assert_eq!(cascade["report"]["old_root_digest"], old.as_str());
    let expected: BTreeMap<String, String> = setup
        .managed()
        .iter()
        .map(|m| (m.name.clone(), "published".to_owned()))
        .collect();
    assert_eq!(statuses(cascade), expected);
    assert_eq!(
        cascade["plan"]["images"].as_array().unwrap().len(),
        expected.len()
    );
    assert_eq!(doc["summary"]["cascades"], 1);
    assert_eq!(doc["summary"]["cascades_failed"], 0);

    // Each managed image was built exactly once, and nothing is stale any more.
    let mut built: BTreeMap<String, usize> = BTreeMap::new();
    for event in setup.builds().iter().filter(|e| e["event"] == "published") {
        *built
            .entry(event["image"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(built.len(), expected.len(), "{built:?}");
    assert!(built.values().all(|&n| n == 1), "{built:?}");
    let graph = setup.strata(&["graph", "--format", "json"], &[]).await;
    assert_eq!(graph.code, 0, "{}\n{}", graph.stdout, graph.stderr);
    assert_eq!(graph.json()["stale"], Value::Array(Vec::new()));

    // Nothing moved any more: no update, no cascade.
    let again = setup.strata(&["update", "--format", "json"], &[]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let doc = again.json();
    assert_eq!(doc["summary"]["updated"], 0);
    assert_eq!(doc["cascades"], Value::Array(Vec::new()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_the_plan_and_a_failed_rebuild_makes_update_fail() {
    let (setup, old, new) = moved().await;
    let managed = setup.managed().len();

    let dry = setup
        .strata(&["update", "--dry-run", "--format", "json"], &[])
        .await;
    assert_eq!(dry.code, 1, "{}\n{}", dry.stdout, dry.stderr);
    let doc = dry.json();
    let cascade = &doc["cascades"][0];
    assert_eq!(cascade["root"], setup.root.as_str());
    assert_eq!(cascade["report"], Value::Null);
    assert_eq!(cascade["plan"]["levels"], 5);
    let planned = cascade["plan"]["images"].as_array().unwrap();
    assert_eq!(planned.len(), managed);
    let python = planned
        .iter()
        .find(|p| {
            p["image"]
                .as_str()
                .unwrap()
                .ends_with("/base/python:3.12-slim")
        })
        .unwrap();
    assert_eq!(python["level"], 1);
    assert_eq!(python["bases"][0], setup.root.as_str());
    assert!(python["trigger"].as_str().unwrap().starts_with("command "));

    // The table: the diff on stdout, the report and the plan beside it.
    let table = setup.strata(&["update", "--dry-run"], &[]).await;
    assert_eq!(table.code, 1, "{}", table.stderr);
    assert!(
        table
            .stdout
            .contains(&format!("+FROM {}@{new}", setup.root))
    );
    let heading = format!(
        "cascade from {}: {managed} images in 5 levels, {managed} pending (dry run: nothing \
         triggered)",
        setup.root
    );
    assert!(table.stderr.contains(&heading), "{}", table.stderr);
    assert!(setup.builds().is_empty(), "a dry run triggered builds");
    assert!(read(&setup, "images/python/Dockerfile").contains(&old));

    // A rebuild that fails: its subtree is skipped, the rest lands, update exits 2.
    let run = setup
        .strata(
            &["update", "--format", "json"],
            &[("STRATA_TEST_FAIL", "junebug")],
        )
        .await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert_eq!(doc["summary"]["updated"], 2);
    assert_eq!(doc["summary"]["failed"], 0);
    assert_eq!(doc["summary"]["cascades_failed"], 1);
    let status = statuses(&doc["cascades"][0]);
    for (image, status) in &status {
        let expected = if image.contains("/org/junebug:") {
            "failed"
        } else if image.contains("/svc/junebug-") {
            "skipped"
        } else {
            "published"
        };
        assert_eq!(status, expected, "{image}");
    }
    assert!(read(&setup, "images/python/Dockerfile").contains(&new));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flag_overrides_the_config_which_overrides_the_workspace_default() {
    let (setup, _old, new) = moved().await;
    let config = setup.workspace().join("strata.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[update]\ncascade = false\n");
    std::fs::write(&config, text).unwrap();
    let cascades = |run: &cascade_support::Run| run.json()["cascades"].as_array().unwrap().len();

    let off = setup
        .strata(&["update", "--dry-run", "--format", "json"], &[])
        .await;
    assert_eq!((off.code, cascades(&off)), (1, 0), "{}", off.stderr);
    let on = setup
        .strata(
            &["update", "--dry-run", "--cascade", "--format", "json"],
            &[],
        )
        .await;
    assert_eq!((on.code, cascades(&on)), (1, 1), "{}", on.stderr);
    let last_wins = setup
        .strata(
            &[
                "update",
                "--dry-run",
                "--cascade",
                "--no-cascade",
                "--format",
                "json",
            ],
            &[],
        )
        .await;
    assert_eq!(cascades(&last_wins), 0, "{}", last_wins.stderr);

    // Without the config line, the declared [workspace] turns it on; the flag off.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("cascade = false", "")).unwrap();
    let default = setup
        .strata(&["update", "--dry-run", "--format", "json"], &[])
        .await;
    assert_eq!(cascades(&default), 1, "{}", default.stderr);
    let run = setup
        .strata(&["update", "--no-cascade", "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(cascades(&run), 0);
    assert!(read(&setup, "images/python/Dockerfile").contains(&new));
    assert!(setup.builds().is_empty(), "--no-cascade triggered builds");
}
