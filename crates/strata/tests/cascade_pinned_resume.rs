//! A pinned cascade is safe against crashes and against itself: killed with SIGKILL at
//! any point and resumed it makes no second commit, push or trigger for an image; two
//! cascades of one root started at the same moment trigger each image once; an
//! interrupted cascade stops its own build commands (they never publish) and the resume
//! builds them again; a cascade superseded by a newer root digest is recorded cancelled.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pinned_support;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use pinned_support::{Mode, Org, REPOS};
use strata::state::{RunId, RunStatus, State};

/// Waits (bounded) until `ready` holds for the build log.
async fn until(org: &Org, what: &str, ready: impl Fn(&[serde_json::Value]) -> bool) {
    let started = Instant::now();
    while !ready(&org.builds()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} never happened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cascade_killed_mid_way_resumes_without_a_second_commit_or_push() {
    let org = Org::new(Mode::Commit, None).await;
    // The vumi and celery CI jobs take a while: strata is killed while it waits on them.
    for repo in ["vumi", "celery"] {
        org.tune_ci(repo, |p| {
            p.sleep = "org/vumi:latest=1500,org/celery-base:5=1500".into()
        });
    }
    org.move_root().await;
    let mut first = org
        .command(&["cascade", &org.root], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let h = org.host.clone();
    until(&org, "level 3 CI jobs", |log| {
        [
            format!("{h}/org/vumi:latest"),
            format!("{h}/org/celery-base:5"),
        ]
        .iter()
        .all(|image| {
            log.iter()
                .any(|e| e["event"] == "start" && e["image"] == image.as_str())
        })
    })
    .await;
    first.kill().await.unwrap();
    let _ = first.wait().await;

    let run = org
        .strata(&["cascade", "--resume", "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()[0]["resumed"], true);
    org.settle_ci().await;
    org.assert_on_new_chain().await;
    for repo in REPOS {
        let clone = org.clone_origin(repo);
        org.assert_pins_current(clone.path()).await;
        // No move was pushed twice, across the kill and the resume.
        let mut seen = BTreeMap::new();
        for message in org.origin_messages(repo) {
            let trailers: Vec<String> = message
                .lines()
                .filter(|l| l.starts_with("Strata-Rebuild-On:"))
                .map(str::to_owned)
                .collect();
            if !trailers.is_empty() {
                *seen.entry(trailers).or_insert(0) += 1;
            }
        }
        assert!(seen.values().all(|n| *n == 1), "{repo}: {seen:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_cascades_of_one_root_started_together_trigger_each_image_once() {
    let org = Org::new(Mode::InPlace, None).await;
    org.move_root().await;
    let a = org
        .command(&["cascade", &org.root, "--format", "json"], &[])
        .output();
    let b = org
        .command(&["cascade", &org.root, "--format", "json"], &[])
        .output();
    let (a, b) = tokio::join!(a, b);
    let (a, b) = (a.unwrap(), b.unwrap());
    for out in [&a, &b] {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let starts = org.count_builds("start");
    for member in &org.members {
        assert_eq!(
            starts.get(&member.name),
            Some(&1),
            "{}: {starts:?}",
            member.name
        );
    }
    org.assert_on_new_chain().await;
    // One run, shared: the second process resumed the first's.
    let state = State::open(&org.state()).await.unwrap();
    let first = state.cascade_run(RunId(1)).await.unwrap().unwrap();
    assert_eq!(first.status, RunStatus::Succeeded);
    assert!(state.cascade_run(RunId(2)).await.unwrap().is_none());
    state.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_cascade_stops_its_builders_and_a_newer_root_supersedes_it() {
    let org = Org::new(Mode::InPlace, None).await;
    org.build_through_a_shell();
    org.move_root().await;
    let python = format!("{}/base/python:3.12-slim", org.host);
    let sleepy = [("STRATA_TEST_SLEEP", "base/python=3000".to_owned())];
    let first = org
        .command(&["cascade", &org.root], &sleepy)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    until(&org, "the level 1 builds", |log| {
        log.iter().filter(|e| e["event"] == "start").count() == 2
    })
    .await;
    let pid = first.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = first.wait_with_output().await.unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    // The builders were stopped with it: well past their sleep, they never published.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        org.count_builds("published").get(&python),
        None,
        "{:?}",
        org.builds()
    );

    // The root moves again: the interrupted run is superseded, not resumed.
    let newest = org.move_root_again().await;
    let run = org
        .strata(&["cascade", &org.root, "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()[0]["resumed"], false);
    assert_eq!(run.json()[0]["new_root_digest"], newest.as_str());
    assert!(run.statuses().values().all(|s| s == "published"));
    org.assert_on_new_chain().await;
    let state = State::open(&org.state()).await.unwrap();
    let old = state.cascade_run(RunId(1)).await.unwrap().unwrap();
    assert_eq!(old.status, RunStatus::Cancelled);
    let new = state.cascade_run(RunId(2)).await.unwrap().unwrap();
    assert_eq!(new.status, RunStatus::Succeeded);
    state.close().await;
}
