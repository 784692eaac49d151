//! Why an image moved, as `strata diff` tells it: a base found by its layers (no base
//! digest annotated) with the time strata first saw it move, from the state database;
//! and the Docker Official Images `library/` entry whose `GitCommit` changed, with the
//! official-images commit that changed it (a real git checkout), or that did not change.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod corpus;
mod diff_support;

use std::process::Command;

use diff_support::Env;
use strata::registry::TagKey;
use strata::state::State;
use strata_core::reference::Reference;
use strata_testkit::Image;
use strata_testkit::packages::TarLayer;

#[tokio::test]
async fn a_base_found_by_its_layers_with_when_it_moved() {
    let env = Env::start().await;
    let base = |v: &str| {
        TarLayer::new()
            .file(
                "etc/os-release",
                format!("ID=debian\nVERSION_ID=\"12\"\nBUILD={v}\n"),
            )
            .gzip()
    };
    let (old_base, new_base) = (
        Image::from_layers(vec![base("1")]),
        Image::from_layers(vec![base("2")]),
    );
    let base_name = env.name("library/debian", "12");
    env.push("library/debian", "12", &old_base).await;
    let app = |b: &Image| {
        Image::on_top_of(b, "app").label("org.opencontainers.image.base.name", &base_name)
    };
    env.push("acme/app", "1", &app(&old_base)).await;
    let moved = env.push("library/debian", "12", &new_base).await;
    env.push("acme/app", "2", &app(&new_base)).await;
    // What strata saw earlier: the base tag at its new digest since this time.
    let state_path = env.dir.path().join("state.db");
    let state = State::open(&state_path).await.unwrap();
    let key = TagKey::of(&Reference::parse_normalized(&base_name).unwrap()).unwrap();
    state
        .record_observation(
            &key,
            &moved.parse().unwrap(),
            time::OffsetDateTime::from_unix_timestamp(1_793_714_520).unwrap(),
        )
        .await
        .unwrap();
    state.close().await;
    let run = env
        .diff(
            &env.name("acme/app", "1"),
            &env.name("acme/app", "2"),
            &["--state", state_path.to_str().unwrap()],
        )
        .await;
    let report = run.json();
    let why = &report["why"][0];
    assert_eq!(why["kind"], "base", "{report:#}");
    assert_eq!(why["new_digest"], moved);
    assert!(
        why["evidence"].as_str().unwrap().starts_with("layers"),
        "{why}"
    );
    assert_eq!(why["moved_at"], "2026-11-03 14:02 UTC");
}

fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn library_file(commit: &str) -> String {
    format!(
        "Maintainers: Tianon Gravi <admwiggin@gmail.com> (@tianon)\nGitRepo: https://github.com/docker-library/python.git\n\n\
         Tags: 3.12.7-slim-bookworm, 3.12-slim-bookworm, 3.12.7-slim, 3.12-slim\nArchitectures: amd64, arm64v8\n\
         GitCommit: {commit}\nDirectory: 3.12/slim-bookworm\n"
    )
}

#[tokio::test]
async fn the_official_images_entry_that_changed_and_the_commit_that_changed_it() {
    let env = Env::start().await;
    let (old_commit, new_commit) = ("a".repeat(40), "b".repeat(40));
    // An official-images checkout: the entry at the old commit, then the change.
    let checkout = env.dir.path().join("official-images");
    std::fs::create_dir_all(checkout.join("library")).unwrap();
    git(&checkout, &["init", "-q", "-b", "master"]);
    std::fs::write(checkout.join("library/python"), library_file(&old_commit)).unwrap();
    git(&checkout, &["add", "."]);
    git(&checkout, &["commit", "-qm", "Update python"]);
    std::fs::write(checkout.join("library/python"), library_file(&new_commit)).unwrap();
    git(&checkout, &["commit", "-qam", "Update python: 3.12.7"]);
    let changed_by = git(&checkout, &["rev-parse", "HEAD"]).trim().to_owned();

    let image = |commit: &str, seed: &str| {
        Image::new(seed).revision(commit).source(&format!(
            "https://github.com/docker-library/python.git#{commit}:3.12/slim-bookworm"
        ))
    };
    env.push("library/python", "3.12-slim-old", &image(&old_commit, "a"))
        .await;
    env.push("library/python", "3.12-slim", &image(&new_commit, "b"))
        .await;
    env.push(
        "library/python",
        "3.12-slim-rebuilt",
        &image(&new_commit, "c"),
    )
    .await;
    let mirror = format!("docker.io={}", env.registry.host());
    let args = [
        "--registry-mirror",
        &mirror,
        "--official-images",
        checkout.to_str().unwrap(),
    ];
    let report = env
        .diff("python:3.12-slim-old", "python:3.12-slim", &args)
        .await
        .json();
    let library = report["why"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "library")
        .unwrap_or_else(|| panic!("{report:#}"))
        .clone();
    assert_eq!(library["image"], "python");
    assert_eq!(library["old_commit"], old_commit);
    assert_eq!(library["new_commit"], new_commit);
    assert_eq!(
        library["git_repo"],
        "https://github.com/docker-library/python"
    );
    assert_eq!(
        library["compare"],
        format!("https://github.com/docker-library/python/compare/{old_commit}...{new_commit}")
    );
    assert_eq!(library["commit"], changed_by);
    assert_eq!(library["tags"][3], "3.12-slim");

    // Without the git checkout: the history index `strata official-images index` writes,
    // beside a copy of `library/`.
    let copy = env.dir.path().join("official-images-copy");
    std::fs::create_dir_all(copy.join("library")).unwrap();
    std::fs::copy(checkout.join("library/python"), copy.join("library/python")).unwrap();
    let index = copy.join("removed-tags.json");
    let built = env
        .strata(&[
            "official-images",
            "index",
            checkout.to_str().unwrap(),
            "-o",
            index.to_str().unwrap(),
        ])
        .await;
    assert_eq!(built.code, 0, "{}", built.stderr);
    let copy_args = [
        "--registry-mirror",
        &mirror,
        "--official-images",
        copy.to_str().unwrap(),
    ];
    let from_index = env
        .diff("python:3.12-slim-old", "python:3.12-slim", &copy_args)
        .await
        .json();
    let library = from_index["why"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "library")
        .unwrap();
    assert_eq!(library["commit"], changed_by[..12]);
    assert_eq!(library["new_commit"], new_commit);

    // The same GitCommit on both sides: a rebuild of the same source.
    let rebuilt = env
        .diff("python:3.12-slim", "python:3.12-slim-rebuilt", &args)
        .await
        .json();
    let kinds: Vec<&str> = rebuilt["why"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"library-unchanged"), "{rebuilt:#}");
}
