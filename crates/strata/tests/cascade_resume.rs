//! A cascade killed mid-way resumes where it was: the strata process is killed while a
//! level's builders are still running (they sleep), those builders finish on their own,
//! and the rerun waits for them instead of triggering them again — every image is built
//! exactly once and none is skipped.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod cascade_support;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use cascade_support::setup;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_cascade_resumes_without_double_triggers() {
    let setup = setup(false).await;
    setup.move_root().await;
    let h = setup.host.clone();
    let sleepy = [(
        "STRATA_TEST_SLEEP",
        "org/vumi:latest=3000,org/celery-base:5=3000",
    )];
    let mut first = setup
        .command(&["cascade", &setup.root], &sleepy)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Wait until both level-3 builds are running, then kill strata (not its builders).
    let level3 = [
        format!("{h}/org/vumi:latest"),
        format!("{h}/org/celery-base:5"),
    ];
    let started = Instant::now();
    loop {
        let log = setup.builds();
        let running = level3
            .iter()
            .filter(|image| {
                log.iter()
                    .any(|e| e["event"] == "start" && e["image"] == image.as_str())
            })
            .count();
        if running == level3.len() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "level 3 never started: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().await.unwrap();
    let _ = first.wait().await;
    let before_resume = setup.builds();
    assert!(
        before_resume
            .iter()
            .all(|e| e["event"] != "published" || e["level"] != "3"),
        "level 3 finished before the kill: the test would prove nothing"
    );

    // Resume (while the orphaned level-3 builders are still sleeping).
    let run = setup
        .strata(&["cascade", "--resume", "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report.as_array().unwrap().len(), 1);
    assert_eq!(report[0]["resumed"], true);
    let nodes = report[0]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), setup.managed().len());
    assert!(
        nodes.iter().all(|n| n["status"] == "published"),
        "{nodes:?}"
    );

    // Every image was triggered exactly once across both runs, and built on the new
    // parent it was told about.
    let log = setup.builds();
    let mut starts: BTreeMap<String, usize> = BTreeMap::new();
    for event in log.iter().filter(|e| e["event"] == "start") {
        *starts
            .entry(event["image"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    for member in setup.managed() {
        assert_eq!(
            starts.get(&member.name),
            Some(&1),
            "{}: {starts:?}",
            member.name
        );
    }
    let digests = setup.digests().await;
    for event in log.iter().filter(|e| e["event"] == "published") {
        assert_eq!(event["built_on"], event["base_digest"], "{event}");
        let image = event["image"].as_str().unwrap();
        assert_eq!(event["digest"], digests[image], "{event}");
    }

    // Nothing left to resume.
    let again = setup.strata(&["cascade", "--resume"], &[]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("no interrupted cascade"),
        "{}",
        again.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_for_a_newer_root_cancels_the_older_cascade() {
    let setup = setup(false).await;
    setup.move_root().await;
    let sleepy = [("STRATA_TEST_SLEEP", "base/python=2000")];
    let mut first = setup
        .command(&["cascade", &setup.root], &sleepy)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !setup.builds().iter().any(|e| e["event"] == "start") {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().await.unwrap();
    let _ = first.wait().await;
    // The orphaned build finishes on the first new root...
    while !setup.builds().iter().any(|e| e["event"] == "published") {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...then the root moves again before the rerun: the old run is cancelled, a new
    // one starts and rebuilds from the top.
    let (repo, tag) = cascade_support::split(&setup.root);
    let newest = setup
        .registry
        .seeder()
        .push_image(
            &repo,
            &tag,
            &strata_testkit::Image::new("debian-fixed-again"),
        )
        .await
        .unwrap();
    let run = setup
        .strata(&["cascade", &setup.root, "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report[0]["resumed"], false);
    assert_eq!(report[0]["run"], 2);
    assert_eq!(report[0]["new_root_digest"], newest.as_str());
    let digests = setup.digests().await;
    let python = format!("{}/base/python:3.12-slim", setup.host);
    let last = setup
        .builds()
        .into_iter()
        .rfind(|e| e["event"] == "published" && e["image"] == python.as_str())
        .unwrap();
    assert_eq!(last["digest"], digests[&python]);
    assert_eq!(last["built_on"], newest.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupt_hands_running_commands_back_to_the_resume() {
    let setup = setup(false).await;
    setup.move_root().await;
    let sleepy = [("STRATA_TEST_SLEEP", "base/python=5000")];
    let first = setup
        .command(&["cascade", &setup.root], &sleepy)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !setup.builds().iter().any(|e| e["event"] == "start") {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = first.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let output = first.wait_with_output().await.unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("interrupted") && stderr.contains("--resume"),
        "{stderr}"
    );

    // The killed build never published; the resume builds it again, then the rest.
    let run = setup
        .strata(&["cascade", "--resume", "--format", "json"], &[])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report[0]["resumed"], true);
    assert!(
        report[0]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["status"] == "published")
    );
    let python = format!("{}/base/python:3.12-slim", setup.host);
    let log = setup.builds();
    let count = |kind: &str| {
        log.iter()
            .filter(|e| e["event"] == kind && e["image"] == python.as_str())
            .count()
    };
    assert_eq!((count("start"), count("published")), (2, 1));
}
