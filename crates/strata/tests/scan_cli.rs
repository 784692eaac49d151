//! `strata scan` end to end: the real binary on fixture repositories.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn strata(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn scan_json_of_every_shape() {
    let root = fixture("shapes");
    let (code, stdout, stderr) = strata(&["scan", root.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // Every span holds exactly the text a rewrite would touch.
    for occ in doc["occurrences"].as_array().unwrap() {
        let text = std::fs::read(root.join(occ["file"].as_str().unwrap())).unwrap();
        let span = occ["span"].as_array().unwrap();
        let (start, end) = (
            span[0].as_u64().unwrap() as usize,
            span[1].as_u64().unwrap() as usize,
        );
        assert!(start < end && end <= text.len(), "{occ}");
    }
    insta::assert_json_snapshot!("scan_shapes", doc);
}

#[test]
fn nothing_from_heredoc_bodies_or_stage_names() {
    let root = fixture("shapes");
    let (_, stdout, _) = strata(&[
        "scan",
        root.join("Dockerfile").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let refs: Vec<&str> = doc["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reference"].as_str().unwrap())
        .collect();
    assert!(
        !refs
            .iter()
            .any(|r| r.contains("ubuntu") || r.contains("alpine:3.19")),
        "{refs:?}"
    );
    assert!(
        !refs
            .iter()
            .any(|r| r.contains("/build:") || r.contains("/final:")),
        "{refs:?}"
    );
}

#[test]
fn gitignored_files_are_not_scanned() {
    let (_, stdout, _) = strata(&[
        "scan",
        fixture("shapes").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(!stdout.contains("should-not-appear"));
}

#[test]
fn build_arg_and_platform_apply() {
    let root = fixture("shapes");
    let file = root.join("Dockerfile");
    let (code, stdout, _) = strata(&[
        "scan",
        file.to_str().unwrap(),
        "--format",
        "json",
        "--build-arg",
        "REGISTRY=registry.example.com",
        "--build-arg",
        "UNDECLARED=x",
        "--platform",
        "linux/arm64",
    ]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let refs: Vec<&str> = doc["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reference"].as_str().unwrap())
        .collect();
    assert!(
        refs.contains(&"registry.example.com/private/base:1"),
        "{refs:?}"
    );
}

#[test]
fn bad_files_are_errors_and_the_rest_still_scans() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), "FROM Ubuntu:22.04\n").unwrap();
    std::fs::write(dir.path().join("binary.Dockerfile"), b"FROM a\0b\n").unwrap();
    std::fs::write(
        dir.path().join("latin1.Dockerfile"),
        b"FROM alpine\nLABEL x=\xe9\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("long.Dockerfile"),
        format!("FROM alpine\nRUN {}\n", "x".repeat(1 << 20)),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("copy.Dockerfile"),
        "FROM alpine\nCOPY --from=$X / /\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("args.Dockerfile"), "FROM alpine extra\n").unwrap();
    std::fs::write(dir.path().join("stage.Dockerfile"), "FROM alpine AS 1bad\n").unwrap();
    std::fs::write(dir.path().join("ok.Dockerfile"), "FROM alpine:3.19\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
    let (code, stdout, _) = strata(&["scan", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 2);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let errors: Vec<String> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}: {}",
                e["file"].as_str().unwrap(),
                e["line"],
                e["message"].as_str().unwrap()
            )
        })
        .collect();
    insta::assert_debug_snapshot!("scan_bad_input_errors", errors);
    let refs: Vec<&str> = doc["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["reference"].as_str().unwrap())
        .collect();
    assert!(refs.contains(&"docker.io/library/alpine:3.19"));
}
