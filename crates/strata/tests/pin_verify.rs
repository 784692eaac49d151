//! `strata pin --verify` (and `[registry] verify = true`): after the one `HEAD` per tag,
//! each resolved manifest is fetched by digest from the registry and hashed, so a
//! registry or proxy whose `HEAD` names a well-formed but wrong digest gets that
//! reference reported, never written. Without it, pin trusts the `HEAD` (one request per
//! tag, none of them counted as a Docker Hub pull), and the tests below show what that
//! costs when the `HEAD` lies.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;

use std::collections::BTreeMap;

use pin_support::{Repo, Run, mirror_flags, served};
use strata_testkit::{Fault, FaultKind, FaultProxy, Format, Image, Index, TestRegistry};

const LYING: &str = "\
FROM python:3.12«@library/python:3.12» AS ok
FROM liar:1 AS lying
FROM multi:1«@library/multi:1» AS many
";

/// A registry holding python:3.12, liar:1 and the index multi:1, behind a proxy whose
/// `HEAD` for liar:1 names a digest (sha256 of nothing) that the registry does not have.
async fn lying_setup() -> (TestRegistry, FaultProxy) {
    let registry = TestRegistry::start().await.unwrap();
    let s = registry.seeder();
    s.push_image("library/python", "3.12", &Image::new("python"))
        .await
        .unwrap();
    s.push_image("library/liar", "1", &Image::new("liar"))
        .await
        .unwrap();
    s.push_index(
        "library/multi",
        "1",
        &Index::multi_arch(Format::Oci, "multi"),
    )
    .await
    .unwrap();
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    proxy.inject(
        Fault::wrong_digest()
            .on_method("HEAD")
            .on_path("/library/liar/manifests/"),
    );
    (registry, proxy)
}

async fn pin(repo: &Repo, host: &str, extra: &[&str]) -> Run {
    let flags = mirror_flags(&["docker.io"], host);
    let mut args = vec!["pin"];
    args.extend_from_slice(extra);
    args.extend(flags.iter().map(String::as_str));
    repo.strata(&args).await
}

#[tokio::test]
async fn verify_refuses_a_digest_the_head_invented_and_pins_the_rest() {
    let (registry, proxy) = lying_setup().await;
    let repo = Repo::new(&[("Dockerfile", LYING)]);
    let digests = served(&registry, &repo.marked_tags()).await;
    let run = pin(&repo, &proxy.host(), &["--verify"]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    // liar:1 is left as written; the other two are pinned.
    assert_eq!(
        repo.read("Dockerfile"),
        repo.expected(&digests)["Dockerfile"]
    );
    let expected = format!(
        "docker.io said library/liar:1 is {}, but that digest is not found on docker.io \
         (HTTP 404 when fetched by digest)",
        FaultKind::WRONG_DIGEST
    );
    assert!(run.stdout.contains(&expected), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("2 pinned, 0 already pinned, 0 skipped, 1 failed"),
        "{}",
        run.stdout
    );
    // The invented digest was asked for by digest, and the registry had none.
    let asked: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(FaultKind::WRONG_DIGEST))
        .collect();
    assert_eq!(asked.len(), 1, "{asked:#?}");
    assert_eq!(asked[0].status, Some(404));
}

/// The default trusts the `HEAD`: in table format the invented digest is written (with
/// `--format json` the platform read happens to catch it; `--verify` always does).
#[tokio::test]
async fn without_verify_table_pin_writes_the_digest_a_lying_head_names() {
    let (_registry, proxy) = lying_setup().await;
    let repo = Repo::new(&[("Dockerfile", LYING)]);
    let run = pin(&repo, &proxy.host(), &[]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let written = format!("FROM liar:1@{} AS lying", FaultKind::WRONG_DIGEST);
    assert!(repo.read("Dockerfile").contains(&written));
    // One request per tag, all of them HEADs.
    let manifests: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/manifests/"))
        .collect();
    assert_eq!(manifests.len(), 3, "{manifests:#?}");
    assert!(manifests.iter().all(|r| r.method == "HEAD"));
}

const HEALTHY: &str = "\
FROM python:3.12«@library/python:3.12» AS a
FROM python:3.13«@library/python:3.13» AS b
FROM multi:1«@library/multi:1» AS c
FROM docker-multi:2«@library/docker-multi:2» AS d
COPY --from=python:3.12«@library/python:3.12» /x /x
";

/// The distinct tags HEALTHY names (each at its own digest).
const UNIQUE_TAGS: usize = 4;

async fn healthy_registry() -> TestRegistry {
    let registry = TestRegistry::start().await.unwrap();
    let s = registry.seeder();
    for tag in ["3.12", "3.13"] {
        s.push_image("library/python", tag, &Image::new(&format!("python {tag}")))
            .await
            .unwrap();
    }
    s.push_index(
        "library/multi",
        "1",
        &Index::multi_arch(Format::Oci, "multi"),
    )
    .await
    .unwrap();
    s.push_index(
        "library/docker-multi",
        "2",
        &Index::multi_arch(Format::Docker, "docker-multi"),
    )
    .await
    .unwrap();
    registry
}

/// Every request the registry logged: (method, whether the path names a digest).
async fn counted(registry: &TestRegistry) -> BTreeMap<(String, String), usize> {
    let mut out = BTreeMap::new();
    for r in registry.requests().await {
        let what = if r.path == "/v2/" {
            "ping"
        } else if r.path.contains("/manifests/sha256:") {
            "manifest by digest"
        } else if r.path.contains("/manifests/") {
            "manifest by tag"
        } else {
            "other"
        };
        *out.entry((r.method.clone(), what.to_owned())).or_insert(0) += 1;
    }
    out
}

fn expected_counts(tags: usize) -> BTreeMap<(String, String), usize> {
    BTreeMap::from([
        (("GET".to_owned(), "ping".to_owned()), 1),
        (("HEAD".to_owned(), "manifest by tag".to_owned()), tags),
        (("GET".to_owned(), "manifest by digest".to_owned()), tags),
    ])
}

#[tokio::test]
async fn verify_on_a_healthy_registry_pins_everything_with_two_requests_per_tag() {
    let registry = healthy_registry().await;
    let repo = Repo::new(&[("Dockerfile", HEALTHY)]);
    let digests = served(&registry, &repo.marked_tags()).await;

    // A dry run first: it fills the content cache, which the real run must not use.
    registry.reset_requests().await;
    let dry = pin(&repo, &registry.host(), &["--verify", "--dry-run"]).await;
    assert_eq!(dry.code, 1, "{}\n{}", dry.stdout, dry.stderr);
    assert_eq!(counted(&registry).await, expected_counts(UNIQUE_TAGS));

    registry.reset_requests().await;
    let run = pin(&repo, &registry.host(), &["--verify"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        repo.read("Dockerfile"),
        repo.expected(&digests)["Dockerfile"]
    );
    assert_eq!(counted(&registry).await, expected_counts(UNIQUE_TAGS));
    assert!(
        run.stdout.contains(&format!(
            "registry requests: {} (mirror of docker.io) {}",
            registry.host(),
            2 * UNIQUE_TAGS + 1
        )),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn verify_in_json_reads_platforms_from_the_verified_manifests_at_no_extra_cost() {
    let registry = healthy_registry().await;
    let repo = Repo::new(&[("Dockerfile", HEALTHY)]);
    registry.reset_requests().await;
    let run = pin(&repo, &registry.host(), &["--verify", "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(counted(&registry).await, expected_counts(UNIQUE_TAGS));
    let doc = run.json();
    let hub = &doc["registries"]["docker.io"];
    assert_eq!(hub["manifest_heads"], UNIQUE_TAGS, "{hub}");
    assert_eq!(hub["manifest_gets"], UNIQUE_TAGS, "{hub}");
    assert_eq!(hub["cache_hits"], 0, "{hub}");
    let multi = doc["pins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["reference"] == "docker.io/library/multi:1")
        .unwrap();
    assert_eq!(
        multi["media_type"],
        "application/vnd.oci.image.index.v1+json"
    );
    assert!(
        !multi["platforms"].as_array().unwrap().is_empty(),
        "{multi:#}"
    );
    let single = doc["pins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["reference"] == "docker.io/library/python:3.13")
        .unwrap();
    // As without --verify: a single-platform image lists no platforms.
    assert_eq!(single["platforms"], serde_json::json!([]), "{single:#}");
}

#[tokio::test]
async fn the_config_switch_turns_verification_on() {
    let (registry, proxy) = lying_setup().await;
    let repo = Repo::new(&[
        ("Dockerfile", LYING),
        ("strata.toml", "[registry]\nverify = true\n"),
    ]);
    let digests = served(&registry, &repo.marked_tags()).await;
    let run = pin(&repo, &proxy.host(), &[]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        repo.read("Dockerfile"),
        repo.expected(&digests)["Dockerfile"]
    );
    assert!(
        run.stdout.contains("not found on docker.io"),
        "{}",
        run.stdout
    );
}

/// The content cache is keyed by digest alone: a `HEAD` that names content cached from
/// another repository must still be refused, because verification asks the registry.
#[tokio::test]
async fn a_cached_manifest_from_another_repository_does_not_verify_a_lie() {
    let registry = TestRegistry::start().await.unwrap();
    let s = registry.seeder();
    let other = s
        .push_image("library/other", "1", &Image::new("other"))
        .await
        .unwrap();
    s.push_image("library/app", "1", &Image::new("app"))
        .await
        .unwrap();
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    let repo = Repo::new(&[(
        "Dockerfile",
        "FROM other:1«@library/other:1» AS a\nFROM app:1 AS b\n",
    )]);
    let digests = served(&registry, &repo.marked_tags()).await;
    // An honest run fills the cache with other:1's manifest.
    let warm = pin(&repo, &proxy.host(), &["--verify", "--dry-run"]).await;
    assert_eq!(warm.code, 1, "{}\n{}", warm.stdout, warm.stderr);

    // Now app:1's HEAD names other:1's digest, whose bytes the cache holds and hash fine.
    proxy.inject(
        Fault::respond(
            200,
            &[
                ("Docker-Content-Digest", other.as_str()),
                (
                    "Content-Type",
                    "application/vnd.docker.distribution.manifest.v2+json",
                ),
            ],
            "",
        )
        .on_method("HEAD")
        .on_path("/library/app/manifests/1"),
    );
    proxy.reset_requests();
    let run = pin(&repo, &proxy.host(), &["--verify"]).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        repo.read("Dockerfile"),
        repo.expected(&digests)["Dockerfile"]
    );
    assert!(
        run.stdout
            .contains(&format!("said library/app:1 is {other}")),
        "{}",
        run.stdout
    );
    let asked: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/manifests/"))
        .map(|r| (r.path, r.status))
        .collect();
    assert!(
        asked.contains(&(format!("/v2/library/app/manifests/{other}"), Some(404))),
        "{asked:#?}"
    );
}
