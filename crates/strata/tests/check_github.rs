//! `strata check` for GitHub: `--format github` workflow commands (escaping of `%`, CR,
//! LF, `:` and `,` in properties) and `--github-check-run` publishing a check run with
//! one annotation per finding to the GitHub REST fake on 127.0.0.1.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod check_support;
mod forge_support;
mod pin_support;

use check_support::{assert_code, strata};
use forge_support::Fake;
use pin_support::Repo;
use strata::forge::ForgeKind;
use strata_testkit::{Image, TestRegistry};

#[tokio::test]
async fn annotations_are_workflow_commands_with_escaped_properties() {
    let repo = Repo::new(&[
        ("a,b:c/Dockerfile", "ARG X\nFROM python:3.12\nFROM ${X}\n"),
        (
            "ok/Dockerfile",
            "FROM alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
        ),
    ]);
    let run = repo
        .strata(&["check", "--offline", "--format", "github"])
        .await;
    assert_code(&run, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "::error file=a%2Cb%3Ac/Dockerfile,line=2,col=6,title=unpinned%3A Image tag not \
             pinned to a digest::python:3.12 is not pinned to a digest; run `strata pin`",
            "::warning file=a%2Cb%3Ac/Dockerfile,line=3,col=6,title=unresolved-variable%3A \
             Image reference uses an unset variable::${X}: variable X has no default and no \
             value was given (Dockerfile: --build-arg X=...; compose: set it in the \
             environment or .env)",
        ]
    );

    // Problems are annotations too, and still exit 2.
    std::fs::write(repo.root().join("ok/Dockerfile"), "FROM\n").unwrap();
    let run = repo
        .strata(&["check", "--offline", "--format", "github"])
        .await;
    assert_code(&run, 2);
    let last = run.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("::error file=ok/Dockerfile,line=1,title=strata check error::"),
        "{last}"
    );
}

#[tokio::test]
async fn a_check_run_is_published_with_one_annotation_per_finding() {
    let registry = TestRegistry::start().await.unwrap();
    let host = registry.host();
    let pinned = registry
        .seeder()
        .push_image("team/app", "1", &Image::new("app"))
        .await
        .unwrap();
    registry
        .seeder()
        .push_image("team/base", "2", &Image::new("base"))
        .await
        .unwrap();
    let dockerfile = format!("FROM {host}/team/base:2 AS base\nFROM {host}/team/app:1@{pinned}\n");
    let repo = Repo::new(&[("svc/Dockerfile", dockerfile.as_str())]);
    let fake = Fake::start(ForgeKind::GitHub, "acme/app").await;
    let mut env = fake.variables();
    env.push(("GITHUB_REPOSITORY", "acme/app".to_owned()));
    env.push(("GITHUB_SHA", "0123abc".to_owned()));

    let run = strata(&repo, &["check", "--github-check-run"], &env).await;
    assert_code(&run, 1);
    assert!(run.stderr.contains("published check run"), "{}", run.stderr);
    fake.assert_clean();
    let runs = fake.with(|m| m.check_runs.clone());
    assert_eq!(runs.len(), 1);
    let check = &runs[0];
    assert_eq!(
        (
            check.name.as_str(),
            check.head_sha.as_str(),
            check.status.as_str()
        ),
        ("strata check", "0123abc", "completed")
    );
    assert_eq!(check.conclusion.as_deref(), Some("failure"));
    assert_eq!(check.annotations.len(), 1, "{:#?}", check.annotations);
    let note = &check.annotations[0];
    assert_eq!(note["path"], "svc/Dockerfile");
    assert_eq!(note["start_line"], 1);
    assert_eq!(note["annotation_level"], "failure");
    assert!(note["title"].as_str().unwrap().starts_with("unpinned"));

    // Set in strata.toml and pinned: a successful run, no annotations.
    let clean = format!("FROM {host}/team/app:1@{pinned}\n");
    std::fs::write(repo.root().join("svc/Dockerfile"), clean).unwrap();
    std::fs::write(
        repo.root().join("strata.toml"),
        "[check]\ngithub_check_run = true\n",
    )
    .unwrap();
    let run = strata(&repo, &["check"], &env).await;
    assert_code(&run, 0);
    let runs = fake.with(|m| m.check_runs.clone());
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].conclusion.as_deref(), Some("success"));
    assert!(runs[1].annotations.is_empty());

    // Outside Actions (no repository or commit) the setting is skipped with a note.
    let run = repo.strata(&["check"]).await;
    assert_code(&run, 0);
    assert!(
        run.stderr.contains("not publishing a check run"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.with(|m| m.check_runs.len()), 2);
}
