//! `strata check --offline`: the checks that need no network, from the official-images
//! corpus alone. The registry (named as a mirror, so any request would reach it) must
//! see nothing, and no state database is created.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod check_support;
mod pin_support;

use check_support::{assert_code, corpus, findings, places};
use pin_support::Repo;
use strata_testkit::TestRegistry;

const DOCKERFILE: &str = "\
ARG BASE_IMAGE
FROM python:2.7 AS old
FROM debian:jessie AS older
FROM python:3.12@sha256:0000000000000000000000000000000000000000000000000000000000000000 AS pinned
FROM ${BASE_IMAGE} AS unknown
FROM old
";

#[tokio::test]
async fn offline_flags_unsupported_tags_from_the_corpus_without_any_request() {
    let registry = TestRegistry::start().await.unwrap();
    let repo = Repo::new(&[("Dockerfile", DOCKERFILE)]);
    let corpus = corpus();
    let mirror = format!("docker.io={}", registry.host());
    registry.reset_requests().await; // forget the start-up probe
    let run = repo
        .strata(&[
            "check",
            "--offline",
            "--official-images",
            corpus.to_str().unwrap(),
            "--registry-mirror",
            &mirror,
            "--format",
            "json",
        ])
        .await;
    assert_code(&run, 1);
    let all = findings(&run);
    assert_eq!(
        places(&all),
        [
            "unpinned Dockerfile:2",
            "unsupported-tag Dockerfile:2",
            "unpinned Dockerfile:3",
            "unsupported-tag Dockerfile:3",
            "unresolved-variable Dockerfile:5",
        ]
    );
    let python = &all[1];
    assert!(
        python["removed"]
            .as_str()
            .unwrap()
            .starts_with("2020-04-21"),
        "{python:#}"
    );
    assert_eq!(python["removed_commit"].as_str().unwrap().len(), 12);
    let suggestion = python["suggestion"].as_str().unwrap();
    assert!(suggestion.starts_with("python:3"), "{python:#}");
    let message = python["message"].as_str().unwrap();
    assert!(message.contains("removed 2020-04-21"), "{message}");
    assert!(message.contains(&format!("use {suggestion}")), "{message}");
    let debian = &all[3];
    assert!(
        debian["removed"]
            .as_str()
            .unwrap()
            .starts_with("2021-03-30")
    );
    assert!(debian["suggestion"].is_string(), "{debian:#}");

    let doc = run.json();
    let not_checked: Vec<&str> = doc["not_checked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect();
    assert_eq!(not_checked, ["moved-tag", "missing-tag"]);
    assert_eq!(doc["summary"]["registry_requests"], 0);
    assert_eq!(doc["summary"]["offline"], true);

    assert!(
        registry.requests().await.is_empty(),
        "--offline sent requests"
    );
    let state = repo.dir.path().join("home/.local/state/strata");
    assert!(!state.exists(), "--offline opened the state database");
}

#[tokio::test]
async fn offline_without_official_images_runs_the_rest_and_says_what_it_skipped() {
    let repo = Repo::new(&[("Dockerfile", DOCKERFILE)]);
    let run = repo.strata(&["check", "--offline"]).await;
    assert_code(&run, 1);
    assert!(
        run.stdout.contains("Dockerfile:2:6  error     unpinned"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("unsupported-tag  "), "{}", run.stdout);
    assert!(
        run.stdout.contains("not checked: unsupported-tag"),
        "{}",
        run.stdout
    );

    // Pinned and supported: clean, exit 0, even as a pre-commit hook would run it.
    let clean = Repo::new(&[(
        "Dockerfile",
        "FROM python:3.12@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
    )]);
    let corpus = corpus();
    let run = clean
        .strata(&[
            "check",
            "--offline",
            "--official-images",
            corpus.to_str().unwrap(),
        ])
        .await;
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("0 findings (0 at severity error, 0 warning, 0 note)"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_missing_official_images_directory_is_an_error() {
    let repo = Repo::new(&[("Dockerfile", "FROM python:3.12\n")]);
    let run = repo
        .strata(&[
            "check",
            "--offline",
            "--official-images",
            "/nonexistent/official-images",
        ])
        .await;
    assert_code(&run, 2);
    assert!(run.stderr.contains("official images"), "{}", run.stderr);
    assert!(run.stderr.contains("/nonexistent"), "{}", run.stderr);
}
