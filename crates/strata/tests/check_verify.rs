//! `strata check --verify`: each tag's current digest (the one a `moved-tag` finding
//! names and the state database records) is also fetched by digest and hashed. A
//! healthy registry costs exactly two requests per unique tag; a `HEAD` naming a digest
//! the registry does not serve is an error (exit 2), not a moved tag.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod check_support;
mod pin_support;

use check_support::{UNIQUE_TAGS, args, assert_code, at_severity, findings, mirrors, places};
use pin_support::{Repo, mirror_flags};
use strata_testkit::{Fault, FaultKind, FaultProxy, TestRegistry};

/// The seeded registry and a repository pinned against it.
async fn pinned() -> (TestRegistry, Repo) {
    let registry = TestRegistry::start().await.unwrap();
    check_support::seed(&registry).await;
    let files = check_support::files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let repo = Repo::new(&borrowed);
    let pin = repo.strata(&args(&["pin"], &mirrors(&registry))).await;
    assert_code(&pin, 0);
    (registry, repo)
}

#[tokio::test]
async fn verify_on_a_healthy_registry_costs_two_requests_per_unique_tag() {
    let (registry, repo) = pinned().await;
    registry.reset_requests().await;
    let flags = mirrors(&registry);
    let run = repo
        .strata(&args(&["check", "--verify", "--format", "json"], &flags))
        .await;
    assert_code(&run, 0);
    let doc = run.json();
    assert_eq!(doc["summary"]["tags_looked_up"], UNIQUE_TAGS);
    let requests = registry.requests().await;
    let heads = requests.iter().filter(|r| r.method == "HEAD").count();
    let gets_by_digest = requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/manifests/sha256:"))
        .count();
    // One ping per registry: docker.io and ghcr.io, both mirrored to this one.
    let pings = requests.iter().filter(|r| r.path == "/v2/").count();
    assert_eq!(
        (heads, gets_by_digest, pings),
        (UNIQUE_TAGS, UNIQUE_TAGS, 2),
        "{requests:#?}"
    );
    assert_eq!(requests.len(), 2 * UNIQUE_TAGS + 2, "{requests:#?}");
    assert_eq!(doc["summary"]["registry_requests"], 2 * UNIQUE_TAGS + 2);

    // `--verify` needs the network.
    let offline = repo.strata(&["check", "--verify", "--offline"]).await;
    assert_code(&offline, 2);
    assert!(offline.stderr.contains("--offline"), "{}", offline.stderr);
}

#[tokio::test]
async fn verify_reports_a_lying_head_as_an_error_where_plain_check_sees_a_moved_tag() {
    let (registry, repo) = pinned().await;
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    proxy.inject(
        Fault::wrong_digest()
            .on_method("HEAD")
            .on_path("/library/redis/manifests/7-alpine"),
    );
    let flags = mirror_flags(&["docker.io", "ghcr.io"], &proxy.host());

    let run = repo
        .strata(&args(&["check", "--verify", "--format", "json"], &flags))
        .await;
    assert_code(&run, 2);
    let doc = run.json();
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{doc:#}");
    assert_eq!(errors[0]["reference"], "docker.io/library/redis:7-alpine");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains(FaultKind::WRONG_DIGEST) && message.contains("not found on docker.io"),
        "{message}"
    );
    // No finding is built on the lie: the tag's checks stay silent.
    assert!(at_severity(&findings(&run), "error").is_empty(), "{doc:#}");

    // Without --verify the HEAD is trusted: the same lie reads as three moved pins
    // (the pinned digest still exists), pointing at a digest nobody serves.
    let plain = repo
        .strata(&args(&["check", "--format", "json"], &flags))
        .await;
    assert_code(&plain, 1);
    let moved: Vec<_> = at_severity(&findings(&plain), "error")
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(
        places(&moved),
        [
            "moved-tag compose.yaml:6",
            "moved-tag twice/Dockerfile:2",
            "moved-tag twice/Dockerfile:3"
        ]
    );
    assert!(
        moved
            .iter()
            .all(|f| f["current_digest"] == FaultKind::WRONG_DIGEST)
    );
}
