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
    // Every span holds exactly the text a rewrite would touch: the reference as written, or
    // for one built from an `ARG`, that `ARG`'s default on its own line.
    let occurrences = doc["occurrences"].as_array().unwrap();
    assert_eq!(occurrences.len(), 20);
    for occ in occurrences {
        let text = std::fs::read_to_string(root.join(occ["file"].as_str().unwrap())).unwrap();
        let span = occ["span"].as_array().unwrap();
        let (start, end) = (
            span[0].as_u64().unwrap() as usize,
            span[1].as_u64().unwrap() as usize,
        );
        let bytes = &text[start..end];
        let written = occ["text"].as_str().unwrap();
        match occ["arg"].as_str() {
            None => assert_eq!(bytes, written, "{occ}"),
            Some(arg) => {
                let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                let before = &text[line_start..start];
                assert!(
                    before == format!("ARG {arg}=") || before == format!("ARG {arg}=\""),
                    "{occ}: {before:?}"
                );
                let expanded = written
                    .replace(&format!("${{{arg}}}"), bytes)
                    .replace(&format!("${arg}"), bytes);
                let reference = occ["reference"].as_str().unwrap();
                assert!(
                    reference.ends_with(&format!("/{expanded}")),
                    "{occ}: {expanded}"
                );
            }
        }
        if occ["arg"].is_null() {
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            assert_eq!(
                occ["column"].as_u64().unwrap() as usize,
                start - line_start + 1
            );
        }
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

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// The files of a scan's JSON occurrences and skips.
fn files_of(doc: &serde_json::Value) -> Vec<String> {
    let mut files: Vec<String> = ["occurrences", "skips"]
        .iter()
        .flat_map(|key| doc[*key].as_array().unwrap().iter())
        .map(|o| o["file"].as_str().unwrap().to_owned())
        .collect();
    files.sort();
    files.dedup();
    files
}

/// A real git repository with `.gitignore` files (a directory, a glob, a negation, a nested
/// file) and `.git/info/exclude`: ignored files are not scanned, and the exit code is 0.
#[test]
fn gitignored_files_are_not_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q"]);
    let files = [
        (
            ".gitignore",
            "ignored/\n*.generated.Dockerfile\n!keep.generated.Dockerfile\n",
        ),
        ("Dockerfile", "FROM alpine:3.19\n"),
        ("ignored/Dockerfile", "FROM should-not-appear:1\n"),
        ("app.generated.Dockerfile", "FROM should-not-appear:2\n"),
        ("keep.generated.Dockerfile", "FROM kept:1\n"),
        ("sub/.gitignore", "local.yaml\n"),
        (
            "sub/local.yaml",
            "apiVersion: v1\nkind: Pod\nspec: {containers: [{image: should-not-appear:3}]}\n",
        ),
        ("sub/compose.yaml", "services: {a: {image: redis:7}}\n"),
        ("excluded/Dockerfile", "FROM should-not-appear:4\n"),
    ];
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    std::fs::write(root.join(".git/info/exclude"), "excluded/\n").unwrap();
    let (code, stdout, stderr) = strata(&["scan", root.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        files_of(&doc),
        [
            "Dockerfile",
            "keep.generated.Dockerfile",
            "sub/compose.yaml"
        ]
    );
    assert!(!stdout.contains("should-not-appear"), "{stdout}");
    // The same files are scanned when nothing ignores them: the test sees the difference.
    std::fs::remove_file(root.join(".gitignore")).unwrap();
    std::fs::remove_file(root.join("sub/.gitignore")).unwrap();
    std::fs::remove_file(root.join(".git/info/exclude")).unwrap();
    let (code, stdout, _) = strata(&["scan", root.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(files_of(&doc).len(), 7, "{stdout}");
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
