//! `[check]` policy in strata.toml: severities per code (a downgraded code no longer
//! fails the check), ignore rules by image and by path, `--config`, and exit codes.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod check_support;
mod pin_support;

use check_support::{assert_code, findings, places};
use pin_support::Repo;

const POLICY: &str = "\
[check]
severity = { unpinned = \"warning\", unresolved-variable = \"ignore\" }

[[check.ignore]]
image = \"ghcr.io/acme/*\"
reason = \"built and pinned by the platform team\"

[[check.ignore]]
path = \"legacy/**\"
codes = [\"unpinned\"]
";

fn repo() -> Repo {
    Repo::new(&[
        (
            "Dockerfile",
            "ARG X\nFROM python:3.12 AS a\nFROM ghcr.io/acme/app:1 AS b\nFROM ${X}\n",
        ),
        (
            "legacy/Dockerfile",
            "FROM node:24\nFROM alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
        ),
        ("strata.toml", POLICY),
    ])
}

#[tokio::test]
async fn severities_and_ignore_rules_shape_the_findings_and_the_exit_code() {
    let repo = repo();
    let run = repo
        .strata(&["check", "--offline", "--format", "json"])
        .await;
    assert_code(&run, 0);
    let all = findings(&run);
    assert_eq!(
        places(&all),
        ["unpinned Dockerfile:2", "digest-only legacy/Dockerfile:2"]
    );
    assert!(all.iter().all(|f| f["severity"] == "warning"), "{all:#?}");
    let summary = &run.json()["summary"];
    assert_eq!(summary["ignored"], 3);
    assert_eq!(summary["exit_code"], 0);

    // Without the policy: the defaults fail the check.
    let defaults = repo.root().join("defaults.toml");
    std::fs::write(&defaults, "").unwrap();
    let run = repo
        .strata(&[
            "check",
            "--offline",
            "--format",
            "json",
            "--config",
            defaults.to_str().unwrap(),
        ])
        .await;
    assert_code(&run, 1);
    assert_eq!(findings(&run).len(), 5);

    // Notes never fail the check either.
    let notes = repo.root().join("notes.toml");
    std::fs::write(
        &notes,
        "[check.severity]\nunpinned = \"note\"\nunresolved-variable = \"note\"\n",
    )
    .unwrap();
    let run = repo
        .strata(&["check", "--offline", "--config", notes.to_str().unwrap()])
        .await;
    assert_code(&run, 0);
    assert!(run.stdout.contains("1 warning, 4 note)"), "{}", run.stdout);
}

#[tokio::test]
async fn invalid_policies_are_errors_naming_the_file_and_key() {
    let cases = [
        (
            "[check]\nseverity = { pinned = \"error\" }\n",
            "check.severity.pinned",
        ),
        (
            "[[check.ignore]]\ncodes = [\"unpinned\"]\n",
            "check.ignore[0]",
        ),
        ("[[check.ignore]]\npath = \"a[\"\n", "check.ignore[0].path"),
        ("[check]\nofficial_images = 3\n", "official_images"),
    ];
    for (text, key) in cases {
        let repo = Repo::new(&[("Dockerfile", "FROM python:3.12\n"), ("strata.toml", text)]);
        let run = repo.strata(&["check", "--offline"]).await;
        assert_code(&run, 2);
        assert!(run.stderr.contains("strata.toml"), "{text}: {}", run.stderr);
        assert!(run.stderr.contains(key), "{text}: {}", run.stderr);
    }
}
