//! strata on its own repository: its `Dockerfile` is pinned and `strata check --offline`
//! is clean on the whole tree, with the ignore rules of its own `strata.toml` (test data
//! of other projects, test fixtures, fuzz inputs).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn the_repository_passes_its_own_offline_check() {
    let root = repository_root();
    let run = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["check", "--offline", "--format", "json", "."])
        .current_dir(&root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(run.status.code(), Some(0), "{doc:#}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{doc:#}");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 0, "{doc:#}");
    assert!(doc["summary"]["references"].as_u64().unwrap() > 0);

    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let from = dockerfile.lines().find(|l| l.starts_with("FROM ")).unwrap();
    assert!(
        from.contains("@sha256:"),
        "the project's Dockerfile is pinned: {from}"
    );

    let run = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["config", "check", "strata.toml"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}
