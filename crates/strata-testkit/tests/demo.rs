//! The demo (`scripts/demo`, `examples/demo`) tells its whole story against the strata
//! binary of this build: every step exits as expected and the cascade leaves the graph
//! fresh, and `strata serve` cascades the next upstream push by itself. It takes a few
//! seconds, so it runs with every `cargo test`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<profile>/`: this test runs as `target/<profile>/deps/demo-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// `target/<profile>/<name>`, built with cargo when this run did not build it (a
/// `cargo test -p strata-testkit` builds this package's examples, not strata).
fn built(path: PathBuf, args: &[&str]) -> PathBuf {
    if !path.exists() {
        let profile = profile_dir();
        let mut cargo = Command::new(env!("CARGO"));
        cargo.arg("build").arg("-q").args(args);
        if profile.file_name().is_some_and(|n| n == "release") {
            cargo.arg("--release");
        }
        if let Some(target) = profile.parent() {
            cargo.env("CARGO_TARGET_DIR", target);
        }
        assert!(cargo.status().unwrap().success(), "cargo build {args:?}");
    }
    path
}

#[test]
fn the_demo_tells_the_whole_story() {
    let profile = profile_dir();
    let exe = std::env::consts::EXE_SUFFIX;
    let strata = built(
        profile.join(format!("strata{exe}")),
        &["-p", "strata", "--bin", "strata"],
    );
    let demo = built(
        profile.join("examples").join(format!("demo{exe}")),
        &["-p", "strata-testkit", "--example", "demo"],
    );
    let dir = tempfile::tempdir().unwrap();
    // The always-on step too, on a free loopback port, stopping once its cascade is done.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = Command::new(demo)
        .args(["--serve-once", "--listen", &format!("127.0.0.1:{port}")])
        .env("STRATA_DEMO_DIR", dir.path().join("demo"))
        .env("STRATA_BIN", strata)
        .env(
            "STRATA_TEST_BUILDER",
            env!("CARGO_BIN_EXE_strata-test-builder"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // The heredoc's FROM is never a reference; the update made one branch per moved base.
    let scan = &stdout[stdout.find("$ strata scan .").unwrap()..];
    let scan = &scan[..scan.find("\n\n").unwrap()];
    assert!(!scan.contains("alpine"), "{scan}");
    assert!(stdout.contains("strata/debian-bookworm"), "{stdout}");
    assert!(stdout.contains("strata/python-3.12-slim"), "{stdout}");
    // Each step's exit code was checked by the demo: graph 1 before the cascade, 0 after.
    assert!(dir.path().join("demo/workspace/platform/.git").is_dir());
    // strata serve took the notification of the next upstream push and cascaded it.
    let always = &stdout[stdout.find("11. Always on").unwrap()..];
    assert!(
        always.contains("from the push to the last image published"),
        "{always}"
    );
    assert!(
        always.contains("pushed") && always.contains("detected"),
        "{always}"
    );
    assert!(always.contains("strata serve stopped"), "{always}");
}
