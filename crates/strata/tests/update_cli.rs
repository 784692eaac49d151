//! `strata update` in the working tree: the real binary on a repository with pins in
//! every file kind, against the real registry, with tags moved through its API.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;
mod update_support;

use std::collections::BTreeMap;

use strata::state::{State, TagKey};
use update_support::{GitRepo, Registry, assert_code, changed_lines, fill};

/// Pins of every shape; `{name}` is the digest the tag `name` stands for.
fn templates() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "Dockerfile",
            "# syntax=docker/dockerfile:1@{frontend}\n\
             ARG BASE=debian:bookworm@{debian}\n\
             FROM $BASE AS build\n\
             FROM python:3.12@{python}\n\
             COPY --from=build /x /x\n\
             FROM alpine:3.20\n",
        ),
        (
            "services/api/Dockerfile",
            "FROM debian:bookworm@{debian}\r\nRUN true\r\n",
        ),
        (
            "compose.yaml",
            "services:\n  cache:\n    image: \"redis:7@{redis}\"\n  db:\n    image: postgres:16\n",
        ),
        (
            "deploy/app.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n    \
             - name: app\n      image: ghcr.io/acme/app:1.4@{app}\n",
        ),
        (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    container: python:3.12@{python}\n",
        ),
    ]
}

/// The tags the templates name: (mark, repository, tag).
const TAGS: [(&str, &str, &str); 5] = [
    ("frontend", "docker/dockerfile", "1"),
    ("debian", "library/debian", "bookworm"),
    ("python", "library/python", "3.12"),
    ("redis", "library/redis", "7"),
    ("app", "acme/app", "1.4"),
];

/// Which tags move.
const MOVED: [&str; 3] = ["debian", "python", "app"];

/// A repository pinned to each tag's first digest, then three tags moved. Returns the
/// digests before and after.
async fn setup() -> (
    Registry,
    GitRepo,
    BTreeMap<&'static str, String>,
    BTreeMap<&'static str, String>,
) {
    let registry = Registry::start().await;
    let mut old = BTreeMap::new();
    for (mark, repo, tag) in TAGS {
        old.insert(mark, registry.image(repo, tag).await);
    }
    let files: Vec<(&str, String)> = templates()
        .into_iter()
        .map(|(path, t)| (path, fill(t, &old)))
        .collect();
    let repo = GitRepo::new(&files, true);
    let mut new = old.clone();
    for (mark, repo_name, tag) in TAGS {
        if MOVED.contains(&mark) {
            new.insert(mark, registry.image(repo_name, tag).await);
        }
    }
    (registry, repo, old, new)
}

fn expected(digests: &BTreeMap<&str, String>) -> Vec<(&'static str, String)> {
    templates()
        .into_iter()
        .map(|(path, t)| (path, fill(t, digests)))
        .collect()
}

#[tokio::test]
async fn moved_pins_are_rewritten_in_place_and_nothing_else_changes() {
    let (registry, repo, _, new) = setup().await;
    let run = repo.strata(&registry.args(&["update"]), &[]).await;
    assert_code(&run, 0);
    for (path, text) in expected(&new) {
        assert_eq!(repo.read(path), text, "{path}");
    }
    assert!(
        run.stdout.contains(
            "5 updated, 2 current, 2 not pinned, 0 skipped, 0 failed; 4 of 5 files changed"
        ),
        "{}",
        run.stdout
    );
    // The working tree is simply edited; git sees exactly the moved digests change.
    let (removed, added) = changed_lines(&repo.git(&["diff"]));
    assert_eq!(removed.len(), 5);
    for (before, after) in removed.iter().zip(&added) {
        let from = before.find("sha256:").unwrap();
        assert_eq!(before[..from], after[..from]);
        assert_ne!(before[from..], after[from..]);
    }

    // A second run finds every pin current and writes nothing.
    let stamp = |path: &str| {
        std::fs::metadata(repo.root().join(path))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before: Vec<_> = templates().iter().map(|(p, _)| stamp(p)).collect();
    let again = repo.strata(&registry.args(&["update"]), &[]).await;
    assert_code(&again, 0);
    assert!(
        again.stdout.contains("0 updated, 7 current"),
        "{}",
        again.stdout
    );
    let after: Vec<_> = templates().iter().map(|(p, _)| stamp(p)).collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn dry_run_prints_the_diff_exits_1_and_changes_nothing() {
    let (registry, repo, old, new) = setup().await;
    let run = repo
        .strata(&registry.args(&["update", "--dry-run"]), &[])
        .await;
    assert_code(&run, 1);
    for (path, text) in expected(&old) {
        assert_eq!(repo.read(path), text, "{path}");
    }
    let (removed, added) = changed_lines(&run.stdout);
    assert_eq!(removed.len(), 5, "{}", run.stdout);
    for (before, after) in removed.iter().zip(&added) {
        let mut expected = before.clone();
        for mark in MOVED {
            expected = expected.replace(&old[mark], &new[mark]);
        }
        assert_eq!(after, &expected);
    }
    assert!(
        run.stdout
            .contains("--- a/services/api/Dockerfile\n+++ b/services/api/Dockerfile\n")
    );
    assert!(run.stderr.contains("5 would update"), "{}", run.stderr);

    // JSON: every move, grouped per base, with the branch each would get.
    let json = repo
        .strata(
            &registry.args(&["update", "--dry-run", "--format", "json"]),
            &[],
        )
        .await;
    assert_code(&json, 1);
    let doc = json.json();
    let groups: Vec<(String, String, usize)> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["branch"].as_str().unwrap().to_owned(),
                g["title"].as_str().unwrap().to_owned(),
                g["moves"][0]["files"].as_array().unwrap().len(),
            )
        })
        .collect();
    let short = |mark: &str| format!("{}…", &new[mark][..15]);
    assert_eq!(
        groups,
        [
            (
                "strata/debian-bookworm".into(),
                format!("Update debian:bookworm to {}", short("debian")),
                2
            ),
            (
                "strata/python-3.12".into(),
                format!("Update python:3.12 to {}", short("python")),
                2
            ),
            (
                "strata/ghcr.io-acme-app-1.4".into(),
                format!("Update ghcr.io/acme/app:1.4 to {}", short("app")),
                1
            ),
        ]
    );
    assert_eq!(doc["summary"]["updated"], 5);
    let updates = doc["updates"].as_array().unwrap();
    assert!(
        updates
            .iter()
            .any(|u| u["arg"] == "BASE" && u["file"] == "Dockerfile")
    );

    // Once updated, a dry run has nothing to say.
    assert_code(&repo.strata(&registry.args(&["update"]), &[]).await, 0);
    let run = repo
        .strata(&registry.args(&["update", "--dry-run"]), &[])
        .await;
    assert_code(&run, 0);
    assert_eq!(run.stdout, "");
}

#[tokio::test]
async fn one_failed_lookup_never_stops_the_others() {
    let (registry, repo, old, new) = setup().await;
    let gone = format!("FROM ghcr.io/acme/gone:1@{}\n", old["python"]);
    repo.write(&[("gone/Dockerfile", gone.clone())]);
    let run = repo
        .strata(&registry.args(&["update", "--format", "json"]), &[])
        .await;
    assert_code(&run, 2);
    for (path, text) in expected(&new) {
        assert_eq!(repo.read(path), text, "{path}");
    }
    assert_eq!(repo.read("gone/Dockerfile"), gone);
    let doc = run.json();
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0]["reference"].as_str().unwrap().split('@').next(),
        Some("ghcr.io/acme/gone:1")
    );
}

#[tokio::test]
async fn every_lookup_is_an_observation_so_moves_have_a_since_when() {
    let (registry, repo, _, new) = setup().await;
    let run = repo
        .strata(&registry.args(&["update", "--format", "json"]), &[])
        .await;
    assert_code(&run, 0);
    let doc = run.json();
    assert!(
        doc["groups"][0]["moves"][0]["first_seen"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let key = TagKey {
        registry: "docker.io".into(),
        repository: "library/python".into(),
        tag: "3.12".into(),
    };
    let state = State::open(&repo.state()).await.unwrap();
    let current = state.current(&key).await.unwrap().unwrap();
    assert_eq!(current.digest.as_str(), new["python"]);
    assert_eq!(state.last_move(&key).await.unwrap(), None);
    state.close().await;

    // The tag moves again: the next run records the move and updates to it.
    let newer = registry.image("library/python", "3.12").await;
    let run = repo.strata(&registry.args(&["update"]), &[]).await;
    assert_code(&run, 0);
    assert!(repo.read("Dockerfile").contains(&newer));
    let state = State::open(&repo.state()).await.unwrap();
    let moved = state.last_move(&key).await.unwrap().unwrap();
    assert_eq!(
        (moved.from.as_str(), moved.to.as_str()),
        (new["python"].as_str(), newer.as_str())
    );
    // Tags that did not move are observed too.
    let redis = TagKey {
        registry: "docker.io".into(),
        repository: "library/redis".into(),
        tag: "7".into(),
    };
    assert!(state.current(&redis).await.unwrap().is_some());
    state.close().await;
}
