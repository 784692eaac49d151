//! `strata pin` settings: `strata.toml` in the scanned directory or `--config`, and the
//! `--registry-mirror` flag; invalid settings stop the run before any lookup, naming the
//! file and the key.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;

use pin_support::{Repo, served};
use strata_testkit::{Image, TestRegistry};

const DOCKERFILE: &str = "FROM python:3.12«@library/python:3.12»\n";

async fn registry() -> TestRegistry {
    let registry = TestRegistry::start().await.unwrap();
    registry
        .seeder()
        .push_image("library/python", "3.12", &Image::new("python"))
        .await
        .unwrap();
    registry
}

#[tokio::test]
async fn strata_toml_in_the_scanned_directory_sets_the_mirror() {
    let registry = registry().await;
    let config = format!(
        "[registry]\nmax_in_flight = 2\n\n[registry.mirrors]\n\"docker.io\" = \"{}\"\n",
        registry.host()
    );
    let repo = Repo::new(&[("Dockerfile", DOCKERFILE), ("strata.toml", &config)]);
    let digests = served(&registry, &repo.marked_tags()).await;
    // Run from elsewhere, naming the directory: its strata.toml applies.
    let root = repo.root();
    let run = repo.strata(&["pin", root.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        repo.read("Dockerfile"),
        repo.expected(&digests)["Dockerfile"]
    );
    assert_eq!(repo.read("strata.toml"), config);
}

#[tokio::test]
async fn an_explicit_config_file_and_the_flag_override() {
    let registry = registry().await;
    let repo = Repo::new(&[("Dockerfile", DOCKERFILE)]);
    let digests = served(&registry, &repo.marked_tags()).await;
    let elsewhere = repo.dir.path().join("settings.toml");
    // The file points Docker Hub at a dead port; the flag wins.
    std::fs::write(
        &elsewhere,
        "[registry.mirrors]\n\"docker.io\" = \"127.0.0.1:9\"\n",
    )
    .unwrap();
    let mirror = format!("docker.io={}", registry.host());
    let run = repo
        .strata(&[
            "pin",
            "--config",
            elsewhere.to_str().unwrap(),
            "--registry-mirror",
            &mirror,
        ])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        repo.read("Dockerfile"),
        repo.expected(&digests)["Dockerfile"]
    );
}

#[tokio::test]
async fn invalid_settings_name_the_file_and_key_and_change_nothing() {
    let repo = Repo::new(&[
        ("Dockerfile", DOCKERFILE),
        ("strata.toml", "[registry]\nmax_in_flight = 0\n"),
    ]);
    let run = repo.strata(&["pin"]).await;
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: ./strata.toml:2:17: registry.max_in_flight: 0 is out of range (1 to 256)\n"
    );
    assert_eq!(repo.read("Dockerfile"), "FROM python:3.12\n");

    std::fs::write(repo.root().join("strata.toml"), "[registry]\nmirror = {}\n").unwrap();
    let run = repo.strata(&["pin"]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("strata.toml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown field `mirror`"),
        "{}",
        run.stderr
    );

    std::fs::remove_file(repo.root().join("strata.toml")).unwrap();
    let run = repo
        .strata(&["pin", "--registry-mirror", "docker.io=ftp://mirror.example"])
        .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--registry-mirror"), "{}", run.stderr);
    assert!(
        run.stderr.contains("scheme must be http or https"),
        "{}",
        run.stderr
    );
    let run = repo.strata(&["pin", "--config", "nope.toml"]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("nope.toml: cannot read"),
        "{}",
        run.stderr
    );
}

/// A lookup through a mirror names the host actually contacted: a missing tag is "not
/// found on <mirror> (mirror of docker.io)", and the request counts say which host
/// served the registry.
#[tokio::test]
async fn lookups_through_a_mirror_name_the_host_contacted() {
    let registry = registry().await;
    let repo = Repo::new(&[("Dockerfile", "FROM python:3.99-nope\n")]);
    let mirror = format!("docker.io={}", registry.host());
    let run = repo
        .strata(&["pin", "--format", "json", "--registry-mirror", &mirror])
        .await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let message = doc["errors"][0]["message"].as_str().unwrap();
    let expected = format!("not found on {} (mirror of docker.io)", registry.host());
    assert!(message.contains(&expected), "{message}");
    assert_eq!(
        doc["registries"]["docker.io"]["mirror"],
        registry.host().as_str()
    );
    let table = repo.strata(&["pin", "--registry-mirror", &mirror]).await;
    assert!(
        table
            .stdout
            .contains(&format!("{} (mirror of docker.io)", registry.host())),
        "{}",
        table.stdout
    );
}
