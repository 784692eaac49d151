//! A pinned organisation cascades with nobody in the loop: every rebuild builds on the
//! new pin, however the pin reaches its build — written in place for a local command
//! trigger, or committed and pushed to an `origin` whose CI builds on push — and a rerun
//! does nothing. Leaving the pins alone (the old design) builds on the old digests and
//! the cascade says so. The builds are `strata-test-builder`'s, which read the file they
//! are given and build on exactly what it pins.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pinned_support;

use std::collections::BTreeMap;

use pinned_support::{Mode, Org, REPOS};

/// How many times each image's build started, by image.
fn starts(org: &Org) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for event in org.builds().iter().filter(|e| e["event"] == "start") {
        *out.entry(event["image"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_place_pins_reach_every_local_build_and_a_rerun_does_nothing() {
    let org = Org::new(Mode::InPlace, None).await;
    org.assert_on_new_chain().await;
    let old_python_base = org
        .digest(&format!("{}/org/python-base:3.11", org.host))
        .await;
    org.move_root().await;

    let run = org
        .strata(&["cascade", &org.root, "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let statuses = run.statuses();
    assert_eq!(statuses.len(), org.members.len(), "{statuses:?}");
    assert!(
        statuses.values().all(|s| s == "published"),
        "{statuses:?}\n{}",
        run.stderr
    );
    org.assert_on_new_chain().await;
    // Each image was built once, from a checkout that pinned its new base.
    let once = starts(&org);
    for member in &org.members {
        assert_eq!(once.get(&member.name), Some(&1), "{}", member.name);
    }
    // Every local repository's files now pin the new digests...
    let mut pins = 0;
    for repo in REPOS.iter().filter(|r| **r != "celery") {
        pins += org.assert_pins_current(&org.source(repo)).await;
    }
    assert_eq!(pins, 24, "python 1, vumi 3, services 20");
    // ...and the build argument strata.toml sets is rewritten there.
    let config = std::fs::read_to_string(org.workspace().join("strata.toml")).unwrap();
    let new_python_base = org
        .digest(&format!("{}/org/python-base:3.11", org.host))
        .await;
    assert!(
        config.contains(&format!("python-base:3.11@{new_python_base}"))
            && !config.contains(&old_python_base),
        "{config}"
    );
    assert!(run.stderr.contains("in place"), "{}", run.stderr);

    // A rerun finds every image on its new base: nothing is written or built.
    let again = org
        .strata(&["cascade", &org.root, "--format", "json"], &[])
        .await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let statuses = again.statuses();
    assert!(statuses.values().all(|s| s == "up-to-date"), "{statuses:?}");
    assert_eq!(starts(&org), once, "a rerun built something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_pushed_to_origin_are_built_by_its_ci_and_a_rerun_does_nothing() {
    let org = Org::new(Mode::Commit, None).await;
    let before: BTreeMap<&str, usize> = REPOS
        .iter()
        .map(|r| (*r, org.origin_messages(r).len()))
        .collect();
    org.move_root().await;

    let run = org
        .strata(&["cascade", &org.root, "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // A push builds every image of its repository: a sibling may be on its new base
    // before its own turn comes (up to date then).
    let statuses = run.statuses();
    assert!(
        statuses
            .values()
            .all(|s| s == "published" || s == "up-to-date"),
        "{statuses:?}\n{}",
        run.stderr
    );
    org.settle_ci().await;
    org.assert_on_new_chain().await;
    // The origins carry the new pins, in commits strata made once each.
    for repo in REPOS {
        let clone = org.clone_origin(repo);
        org.assert_pins_current(clone.path()).await;
        let messages = org.origin_messages(repo);
        let ours: Vec<&String> = messages
            .iter()
            .filter(|m| m.contains("Strata-Rebuild-On:"))
            .collect();
        assert_eq!(messages.len() - before[repo], ours.len(), "{repo}");
        assert!(!ours.is_empty(), "{repo}: nothing pushed");
        let mut trailers: Vec<Vec<&str>> = ours
            .iter()
            .map(|m| {
                m.lines()
                    .filter(|l| l.starts_with("Strata-Rebuild-On:"))
                    .collect()
            })
            .collect();
        let count = trailers.len();
        trailers.sort();
        trailers.dedup();
        assert_eq!(trailers.len(), count, "{repo}: the same move pushed twice");
    }
    // The working trees were never touched.
    for repo in REPOS.iter().filter(|r| **r != "celery") {
        let status = pinned_support::git(&org.source(repo), &["status", "--porcelain"]);
        assert!(status.trim().is_empty(), "{repo}: {status}");
    }
    // The state records the commit that carried each image's pins.
    let state = strata::state::State::open(&org.state()).await.unwrap();
    let runs = state.running_cascades().await.unwrap();
    assert!(runs.is_empty(), "{runs:?}");
    let run_id = run.json()[0]["run"].as_i64().unwrap();
    let nodes = state
        .cascade_nodes(strata::state::RunId(run_id))
        .await
        .unwrap();
    let published = nodes
        .iter()
        .filter(|n| n.state == strata::state::NodeState::Published);
    for node in published {
        assert!(
            node.delivery.commit.is_some()
                && node.delivery.git_ref.as_deref() == Some("refs/heads/main"),
            "{node:#?}"
        );
    }
    state.close().await;

    let pushed: Vec<usize> = REPOS.iter().map(|r| org.origin_messages(r).len()).collect();
    let built = org.builds().len();
    let again = org
        .strata(&["cascade", &org.root, "--format", "json"], &[])
        .await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.statuses().values().all(|s| s == "up-to-date"));
    let after: Vec<usize> = REPOS.iter().map(|r| org.origin_messages(r).len()).collect();
    assert_eq!(after, pushed, "a rerun pushed");
    org.settle_ci().await;
    assert_eq!(org.builds().len(), built, "a rerun started a build");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_left_alone_build_on_the_old_base_and_the_failure_names_it() {
    let org = Org::new(Mode::Leave, None).await;
    let old_root = org.digest(&org.root).await;
    org.move_root().await;
    let run = org
        .strata(
            &["cascade", &org.root, "--format", "json", "--timeout", "2s"],
            &[],
        )
        .await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let python = format!("{}/base/python:3.12-slim", org.host);
    let node = report[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["image"] == python.as_str())
        .unwrap();
    assert_eq!(node["status"], "failed");
    let message = node["message"].as_str().unwrap();
    let short = &old_root[..19];
    assert!(
        message.contains("built on the old base")
            && message.contains("debian:bookworm@")
            && message.contains(short),
        "{message}"
    );
    // Its build ran, on the digest its checkout still pins.
    let log = org.builds();
    let built = log
        .iter()
        .rfind(|e| e["event"] == "published" && e["image"] == python.as_str())
        .unwrap();
    assert_eq!(built["built_on"], old_root.as_str());
}
