//! `strata update --commit` and `--push` on real git repositories: each moved base on
//! its own stable branch (or all on one), commits built without touching the working
//! tree, reruns that change nothing, newer moves that reset the branch, refusals of
//! dirty trees and detached heads, pushes to a bare origin.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;
mod update_support;

use std::collections::BTreeMap;

use update_support::{GitRepo, Registry, assert_code, changed_lines, fill, git_in};

const TEMPLATES: [(&str, &str); 3] = [
    (
        "Dockerfile",
        "FROM python:3.12@{python}\nRUN pip install app\n",
    ),
    (
        "services/worker/Dockerfile",
        "ARG BASE=debian:bookworm@{debian}\nFROM $BASE AS base\nFROM python:3.12@{python}\nCOPY --from=base /x /x\n",
    ),
    (
        "compose.yaml",
        "services:\n  db:\n    image: \"debian:bookworm@{debian}\"\n",
    ),
];

struct Setup {
    registry: Registry,
    repo: GitRepo,
    old: BTreeMap<&'static str, String>,
    new: BTreeMap<&'static str, String>,
}

/// A committed repository pinned to the first digests of python:3.12 and
/// debian:bookworm, both of which then move.
async fn setup(identity: bool, extra: &[(&str, String)]) -> Setup {
    let registry = Registry::start().await;
    let mut old = BTreeMap::new();
    old.insert("python", registry.image("library/python", "3.12").await);
    old.insert("debian", registry.image("library/debian", "bookworm").await);
    let mut files = texts(&old);
    files.extend(extra.iter().cloned());
    let repo = GitRepo::new(&files, identity);
    let mut new = BTreeMap::new();
    new.insert("python", registry.image("library/python", "3.12").await);
    new.insert("debian", registry.image("library/debian", "bookworm").await);
    Setup {
        registry,
        repo,
        old,
        new,
    }
}

fn texts(digests: &BTreeMap<&str, String>) -> Vec<(&'static str, String)> {
    TEMPLATES
        .iter()
        .map(|(path, t)| (*path, fill(t, digests)))
        .collect()
}

impl Setup {
    async fn update(&self, extra: &[&str]) -> pin_support::Run {
        let mut args = vec!["update"];
        args.extend_from_slice(extra);
        self.repo.strata(&self.registry.args(&args), &[]).await
    }

    /// The digests with `moved` taken from the new ones.
    fn mix(&self, moved: &[&'static str]) -> BTreeMap<&'static str, String> {
        let mut out = self.old.clone();
        for mark in moved {
            out.insert(mark, self.new[mark].clone());
        }
        out
    }

    /// Every template file as `revision` has it.
    fn files_at(&self, revision: &str) -> Vec<(&'static str, String)> {
        TEMPLATES
            .iter()
            .map(|(path, _)| {
                (
                    *path,
                    self.repo.git(&["show", &format!("{revision}:{path}")]),
                )
            })
            .collect()
    }

    fn working_tree(&self) -> Vec<(&'static str, String)> {
        TEMPLATES
            .iter()
            .map(|(path, _)| (*path, self.repo.read(path)))
            .collect()
    }
}

fn strata_branches(repo: &GitRepo) -> Vec<String> {
    repo.git(&[
        "for-each-ref",
        "--format=%(refname:short)",
        "refs/heads/strata/",
    ])
    .lines()
    .map(str::to_owned)
    .collect()
}

#[tokio::test]
async fn each_moved_base_is_committed_on_its_own_branch_and_the_tree_is_untouched() {
    let s = setup(true, &[]).await;
    let main = s.repo.rev("main").unwrap();
    let run = s.update(&["--commit"]).await;
    assert_code(&run, 0);
    assert_eq!(
        strata_branches(&s.repo),
        ["strata/debian-bookworm", "strata/python-3.12"]
    );
    for (mark, branch) in [
        ("python", "strata/python-3.12"),
        ("debian", "strata/debian-bookworm"),
    ] {
        // Exactly the expected files: only this base's digest changed.
        assert_eq!(s.files_at(branch), texts(&s.mix(&[mark])), "{branch}");
        let (removed, added) = changed_lines(&s.repo.git(&["diff", "main", branch]));
        assert_eq!(removed.len(), 2, "{branch}");
        for (before, after) in removed.iter().zip(&added) {
            assert_eq!(before.replace(&s.old[mark], &s.new[mark]), *after);
        }
        // One commit, on the base branch's commit, saying what moved and since when.
        assert_eq!(
            s.repo
                .git(&["rev-list", "--count", &format!("main..{branch}")])
                .trim(),
            "1"
        );
        assert_eq!(s.repo.rev(&format!("{branch}^")).unwrap(), main);
        let message = s.repo.git(&["log", "-1", "--format=%B", branch]);
        let image = if mark == "python" {
            "python:3.12"
        } else {
            "debian:bookworm"
        };
        let subject = format!("Update {image} to {}…", &s.new[mark][..15]);
        assert_eq!(message.lines().next(), Some(subject.as_str()), "{message}");
        assert!(
            message.contains(&format!("Old digest:      {}\n", s.old[mark])),
            "{message}"
        );
        assert!(
            message.contains(&format!("New digest:      {}\n", s.new[mark])),
            "{message}"
        );
        assert!(message.contains("Move first seen: "), "{message}");
        assert!(
            message.contains("- services/worker/Dockerfile\n"),
            "{message}"
        );
        let who = s
            .repo
            .git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", branch]);
        assert_eq!(
            who.trim(),
            "Repo Owner <owner@example.com>|Repo Owner <owner@example.com>"
        );
    }
    // The user's side is as it was: branch, commit, files, index.
    assert_eq!(
        s.repo.git(&["symbolic-ref", "--short", "HEAD"]).trim(),
        "main"
    );
    assert_eq!(s.repo.rev("main").unwrap(), main);
    assert_eq!(s.repo.git(&["status", "--porcelain"]), "");
    assert_eq!(s.working_tree(), texts(&s.old));

    // A second run finds both branches carrying their change: nothing new.
    let tips: Vec<_> = strata_branches(&s.repo)
        .iter()
        .map(|b| s.repo.rev(b))
        .collect();
    let again = s.update(&["--commit", "--format", "json"]).await;
    assert_code(&again, 0);
    let doc = again.json();
    for group in doc["groups"].as_array().unwrap() {
        assert_eq!(group["status"], "unchanged", "{group}");
        assert_eq!(group["commits"], 0);
    }
    let after: Vec<_> = strata_branches(&s.repo)
        .iter()
        .map(|b| s.repo.rev(b))
        .collect();
    assert_eq!(tips, after);
}

#[tokio::test]
async fn a_newer_move_resets_the_branch_onto_the_current_base() {
    let s = setup(true, &[]).await;
    assert_code(&s.update(&["--commit"]).await, 0);
    let first = s.repo.rev("strata/python-3.12").unwrap();

    // The base branch moves on: the same change is not redone.
    s.repo.write(&[("README.md", "hello\n".to_owned())]);
    s.repo.git(&["add", "README.md"]);
    s.repo.commit("docs");
    let main = s.repo.rev("main").unwrap();
    assert_code(&s.update(&["--commit"]).await, 0);
    assert_eq!(s.repo.rev("strata/python-3.12").unwrap(), first);

    // The tag moves again: the branch is rebuilt on today's main with the newest digest.
    let newest = s.registry.image("library/python", "3.12").await;
    let run = s.update(&["--commit", "--format", "json"]).await;
    assert_code(&run, 0);
    let doc = run.json();
    let python = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["branch"] == "strata/python-3.12")
        .unwrap();
    assert_eq!(python["status"], "updated");
    assert_eq!(s.repo.rev("strata/python-3.12^").unwrap(), main);
    let mut digests = s.old.clone();
    digests.insert("python", newest.clone());
    assert_eq!(s.files_at("strata/python-3.12"), texts(&digests));
    let message = s
        .repo
        .git(&["log", "-1", "--format=%s", "strata/python-3.12"]);
    assert!(message.contains(&newest[..15]), "{message}");
    // The debian branch was untouched by python's move.
    let debian = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["branch"] == "strata/debian-bookworm")
        .unwrap();
    assert_eq!(debian["status"], "unchanged");
}

#[tokio::test]
async fn dirty_trees_and_detached_heads_are_refused_and_left_alone() {
    let s = setup(false, &[]).await;
    let dirty = format!("{}# work in progress\n", s.repo.read("Dockerfile"));
    s.repo.write(&[("Dockerfile", dirty.clone())]);
    for staged in [false, true] {
        if staged {
            s.repo.git(&["add", "Dockerfile"]);
        }
        let run = s.update(&["--commit"]).await;
        assert_code(&run, 2);
        assert!(
            run.stderr.contains("has uncommitted changes (Dockerfile)"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("--allow-dirty"), "{}", run.stderr);
        assert_eq!(s.repo.read("Dockerfile"), dirty);
        assert!(strata_branches(&s.repo).is_empty());
    }

    // Allowed: the branch starts from the last commit, the uncommitted work stays put.
    let status = s.repo.git(&["status", "--porcelain"]);
    let run = s.update(&["--commit", "--allow-dirty"]).await;
    assert_code(&run, 0);
    assert_eq!(s.files_at("strata/python-3.12"), texts(&s.mix(&["python"])));
    assert_eq!(s.repo.read("Dockerfile"), dirty);
    assert_eq!(s.repo.git(&["status", "--porcelain"]), status);
    // No identity configured anywhere: strata's own.
    let who = s
        .repo
        .git(&["log", "-1", "--format=%an <%ae>", "strata/python-3.12"]);
    assert_eq!(who.trim(), "strata <strata@localhost>");

    s.repo.git(&["reset", "-q", "--hard"]);
    s.repo.git(&["checkout", "-q", "--detach"]);
    let run = s.update(&["--commit"]).await;
    assert_code(&run, 2);
    assert!(run.stderr.contains("HEAD is detached"), "{}", run.stderr);
}

#[tokio::test]
async fn push_sends_each_branch_to_origin_once() {
    let s = setup(true, &[]).await;
    s.repo.add_origin();
    let run = s.update(&["--push", "--format", "json"]).await;
    assert_code(&run, 0);
    for branch in ["strata/python-3.12", "strata/debian-bookworm"] {
        assert_eq!(s.repo.origin_rev(branch), s.repo.rev(branch), "{branch}");
    }
    assert!(
        run.json()["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["pushed"] == true)
    );

    // Rerun, and a fresh clone (as CI has): the remote already has both changes.
    let again = s.update(&["--push", "--format", "json"]).await;
    assert_code(&again, 0);
    assert!(
        again.json()["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["pushed"] == false)
    );
    let home = s.repo.dir.path().join("home");
    let clone = s.repo.dir.path().join("clone");
    git_in(
        s.repo.dir.path(),
        &home,
        &["clone", "-q", s.repo.origin().to_str().unwrap(), "clone"],
    );
    let before = s.repo.origin_rev("strata/python-3.12");
    let mut args = vec!["update", "--push", "--format", "json"];
    args.extend(s.registry.flags.iter().map(String::as_str));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(&args)
        .current_dir(&clone)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("STRATA_CACHE_DIR", s.repo.dir.path().join("cache"))
        .env("STRATA_STATE", s.repo.dir.path().join("state/clone.db"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "CI")
        .env("GIT_AUTHOR_EMAIL", "ci@example.com")
        .env("GIT_COMMITTER_NAME", "CI")
        .env("GIT_COMMITTER_EMAIL", "ci@example.com")
        .output()
        .await
        .unwrap();
    let run = pin_support::Run::from(out);
    assert_code(&run, 0);
    for group in run.json()["groups"].as_array().unwrap() {
        assert_eq!(
            (group["status"].as_str(), group["pushed"].as_bool()),
            (Some("unchanged"), Some(false))
        );
    }
    assert_eq!(s.repo.origin_rev("strata/python-3.12"), before);

    // A newer move replaces the remote branch (with a lease on what it had).
    s.registry.image("library/python", "3.12").await;
    let run = s.update(&["--push"]).await;
    assert_code(&run, 0);
    let pushed = s.repo.origin_rev("strata/python-3.12").unwrap();
    assert_ne!(Some(pushed.clone()), before);
    assert_eq!(Some(pushed), s.repo.rev("strata/python-3.12"));
}

#[tokio::test]
async fn repository_grouping_puts_every_move_on_one_branch() {
    let config = (
        "strata.toml",
        "[update]\ngroup = \"repository\"\n".to_owned(),
    );
    let s = setup(true, &[config]).await;
    let run = s.update(&["--commit", "--format", "json"]).await;
    assert_code(&run, 0);
    let doc = run.json();
    assert_eq!(doc["groups"].as_array().unwrap().len(), 1);
    assert_eq!(doc["groups"][0]["key"], "repository");
    assert_eq!(doc["groups"][0]["title"], "Update 2 base images");
    assert_eq!(strata_branches(&s.repo), ["strata/base-images"]);
    // One commit per moved base, together giving every update.
    let subjects = s
        .repo
        .git(&["log", "--format=%s", "main..strata/base-images"]);
    let subjects: Vec<&str> = subjects.lines().collect();
    assert_eq!(subjects.len(), 2);
    assert!(
        subjects[1].starts_with("Update debian:bookworm to "),
        "{subjects:?}"
    );
    assert!(
        subjects[0].starts_with("Update python:3.12 to "),
        "{subjects:?}"
    );
    assert_eq!(s.files_at("strata/base-images"), texts(&s.new));

    let again = s.update(&["--commit", "--format", "json"]).await;
    assert_code(&again, 0);
    assert_eq!(again.json()["groups"][0]["status"], "unchanged");
}
