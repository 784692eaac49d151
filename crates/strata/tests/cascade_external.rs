//! Where the chain is stuck: an image nobody here builds sits between a moved base and
//! the managed images. `graph` shows how far it lags behind its own base (and since when
//! the state saw the base move); `cascade` from the base says which external image the
//! managed ones wait on instead of running an empty cascade; an external image its
//! registry does not have is `missing`, never fresh.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use serde_json::Value;
use strata_testkit::{Image, TestRegistry};

const BASE_NAME: &str = "org.opencontainers.image.base.name";
const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

fn strata(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(dir.join("ws"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        .env("STRATA_CACHE_DIR", dir.join("cache"))
        .env("STRATA_STATE", dir.join("state.db"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_images_behind_an_external_image_wait_on_it_and_missing_is_missing() {
    let registry = TestRegistry::start().await.unwrap();
    let h = registry.host();
    let seeder = registry.seeder();
    let debian = Image::new("debian");
    let debian_digest = seeder
        .push_image("library/debian", "bookworm", &debian)
        .await
        .unwrap();
    let debian_name = format!("{h}/library/debian:bookworm");
    let python = Image::on_top_of(&debian, "python")
        .base(&debian_name, &debian_digest)
        .annotation(BASE_NAME, &debian_name)
        .annotation(BASE_DIGEST, &debian_digest);
    let python_digest = seeder
        .push_image("library/python", "3.12-slim", &python)
        .await
        .unwrap();
    let python_name = format!("{h}/library/python:3.12-slim");
    let app = Image::on_top_of(&python, "app").base(&python_name, &python_digest);
    seeder.push_image("org/app", "1", &app).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("app")).unwrap();
    std::fs::write(
        ws.join("app/Dockerfile"),
        format!("# strata: produces {h}/org/app:1\nFROM {python_name}\nCOPY --from={h}/tools/nowhere:1 / /\n"),
    )
    .unwrap();
    std::fs::write(
        ws.join("strata.toml"),
        "[workspace]\nfollow = \"all\"\n\n[[workspace.repository]]\npath = \"app\"\n",
    )
    .unwrap();

    // Before the move: a COPY --from image its registry lacks is missing, and what copies
    // from it cannot be called fresh.
    let (code, stdout, stderr) = strata(dir.path(), &["graph", "--format", "json"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let status = |doc: &Value, label: &str| {
        doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["label"].as_str().unwrap().ends_with(label))
            .unwrap_or_else(|| panic!("no {label}: {doc}"))
            .clone()
    };
    assert_eq!(status(&doc, "tools/nowhere:1")["status"], "missing");
    assert_eq!(status(&doc, "org/app:1")["status"], "unknown");
    assert_eq!(status(&doc, "python:3.12-slim")["status"], "fresh");

    // debian moves; python's publisher has not rebuilt it yet.
    seeder
        .push_image("library/debian", "bookworm", &Image::new("debian-fixed"))
        .await
        .unwrap();
    let (code, stdout, stderr) = strata(dir.path(), &["graph", "--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let python_node = status(&doc, "python:3.12-slim");
    assert_eq!(python_node["status"], "stale");
    assert_eq!(python_node["waiting"]["built_on"], debian_digest.as_str());
    assert!(
        python_node["waiting"]["moved_at"].as_str().is_some(),
        "the state saw debian move: {python_node}"
    );
    let (_, tree, _) = strata(dir.path(), &["graph"]);
    let line = tree
        .lines()
        .find(|l| l.contains("python:3.12-slim"))
        .unwrap();
    assert!(
        line.contains("(external)")
            && line.contains("1 level behind")
            && line.contains(&format!(
                "still built on {debian_name}@{}",
                &debian_digest[..19]
            ))
            && line.contains("(moved 20"),
        "{tree}"
    );

    // The cascade from debian cannot reach org/app: it says which image it waits on.
    let (code, stdout, stderr) = strata(dir.path(), &["cascade", &debian_name]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("nothing to rebuild from")
            && stderr.contains(&format!(
                "1 managed image waits on {python_name} (external)"
            ))
            && stderr.contains(&format!("`strata cascade {python_name}`")),
        "{stderr}"
    );
    assert!(!stdout.contains("0 images"), "{stdout}");
    let (code, stdout, _) = strata(
        dir.path(),
        &["cascade", &debian_name, "--dry-run", "--format", "json"],
    );
    assert_eq!(code, 0, "nothing pending: {stdout}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["pending"], 0);
    assert_eq!(plan["behind"][0]["managed"], 1);
    assert_eq!(
        plan["behind"][0]["waiting"]["built_on"],
        debian_digest.as_str()
    );
}
