//! `[registry] verify = true` honoured by `strata update`: a registry (here a proxy in
//! front of the real one) whose `HEAD` names a digest it does not serve gets that pin
//! reported, never moved; the other pins still move. Without the setting the same lie is
//! written, which is what the setting is for.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;
mod update_support;

use std::collections::BTreeMap;

use strata_testkit::{Fault, FaultKind, FaultProxy};
use update_support::{GitRepo, Registry, fill};

const DOCKERFILE: &str = "FROM python:3.12@{python} AS app\nFROM debian:bookworm@{debian}\n";

/// A repository pinned to python:3.12 and debian:bookworm, both tags then moved, behind a
/// proxy whose `HEAD` for python lies. Returns the digests before and after the moves.
async fn setup(
    config: &str,
) -> (
    Registry,
    FaultProxy,
    GitRepo,
    BTreeMap<&'static str, String>,
    BTreeMap<&'static str, String>,
) {
    let registry = Registry::start().await;
    let mut old = BTreeMap::new();
    old.insert("python", registry.image("library/python", "3.12").await);
    old.insert("debian", registry.image("library/debian", "bookworm").await);
    let files = [
        ("Dockerfile", fill(DOCKERFILE, &old)),
        ("strata.toml", config.to_owned()),
    ];
    let repo = GitRepo::new(&files, true);
    let mut new = old.clone();
    new.insert("python", registry.image("library/python", "3.12").await);
    new.insert("debian", registry.image("library/debian", "bookworm").await);
    let proxy = FaultProxy::start(&registry.registry.url()).await.unwrap();
    proxy.inject(
        Fault::wrong_digest()
            .on_method("HEAD")
            .on_path("/library/python/manifests/"),
    );
    (registry, proxy, repo, old, new)
}

fn args(proxy: &FaultProxy) -> Vec<String> {
    vec![
        "update".to_owned(),
        "--registry-mirror".to_owned(),
        format!("docker.io={}", proxy.host()),
    ]
}

#[tokio::test]
async fn verify_in_the_config_keeps_update_from_writing_an_invented_digest() {
    let (_registry, proxy, repo, old, new) = setup("[registry]\nverify = true\n").await;
    let args = args(&proxy);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = repo.strata(&args, &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    // python keeps its old pin; debian moved.
    let mut expected = old.clone();
    expected.insert("debian", new["debian"].clone());
    assert_eq!(repo.read("Dockerfile"), fill(DOCKERFILE, &expected));
    let message = format!(
        "docker.io said library/python:3.12 is {}, but that digest is not found on docker.io",
        FaultKind::WRONG_DIGEST
    );
    assert!(
        run.stdout.contains(&message) || run.stderr.contains(&message),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    // The invented digest was fetched by digest, and the registry had none.
    let asked: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(FaultKind::WRONG_DIGEST))
        .collect();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0].status, Some(404));
}

#[tokio::test]
async fn without_verify_update_writes_what_the_head_says() {
    let (_registry, proxy, repo, old, _new) = setup("").await;
    let args = args(&proxy);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = repo.strata(&args, &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let lie = format!("FROM python:3.12@{} AS app", FaultKind::WRONG_DIGEST);
    let written = repo.read("Dockerfile");
    assert!(written.contains(&lie), "{written}");
    assert!(!written.contains(&old["debian"]), "{written}");
    // No manifest was fetched by digest: the HEADs were trusted.
    assert!(
        proxy
            .requests()
            .iter()
            .all(|r| !(r.method == "GET" && r.path.contains("/manifests/sha256:"))),
        "{:#?}",
        proxy.requests()
    );
}
