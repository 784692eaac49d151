//! `[registry] ca_file` with a real TLS handshake: the reference registry serves HTTPS with
//! a certificate from a CA this test makes. With the CA file strata pins; without it the
//! run fails with a certificate error and writes nothing.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;

use pin_support::Repo;
use strata_testkit::{Image, TestRegistry};

const DOCKERFILE: &str = "FROM alpine:3.20«@library/alpine:3.20»\n";

/// A repository pinning through the TLS registry as Docker Hub's mirror (a mirror written
/// as an `https://` URL is spoken to over TLS, even on loopback).
async fn setup(ca_file: bool) -> (TestRegistry, Repo) {
    let registry = TestRegistry::options().tls().start().await.unwrap();
    assert!(registry.url().starts_with("https://"));
    registry
        .seeder()
        .push_image("library/alpine", "3.20", &Image::new("alpine"))
        .await
        .unwrap();
    let ca_line = if ca_file {
        "ca_file = \"certs/ca.pem\"\n"
    } else {
        ""
    };
    let config = format!(
        "[registry]\n{ca_line}\n[registry.mirrors]\n\"docker.io\" = \"https://{}\"\n",
        registry.host()
    );
    let repo = Repo::new(&[
        ("Dockerfile", DOCKERFILE),
        ("strata.toml", &config),
        ("certs/ca.pem", registry.ca_pem().unwrap()),
    ]);
    (registry, repo)
}

#[tokio::test]
async fn with_the_ca_file_strata_pins_over_tls() {
    let (registry, repo) = setup(true).await;
    let digests = pin_support::served(&registry, &repo.marked_tags()).await;
    let run = repo.strata(&["pin"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        repo.read("Dockerfile"),
        pin_support::marked(DOCKERFILE, &digests)
    );
    // The handshake really happened: the registry logged the request over TLS.
    let requests = registry.requests().await;
    assert!(
        requests.iter().any(|r| r.path.contains("/manifests/3.20")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn without_the_ca_file_the_certificate_is_refused_and_nothing_is_written() {
    let (_registry, repo) = setup(false).await;
    let before = repo.stamps();
    let run = repo.strata(&["pin", "--format", "json"]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(repo.stamps(), before, "nothing is written");
    let doc = run.json();
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{doc}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("certificate"), "{message}");
    assert!(message.contains("docker.io"), "{message}");
    assert_eq!(doc["pins"].as_array().unwrap().len(), 0);
}
