//! `strata pin` when registries misbehave: lying digests, altered bodies, missing tags and
//! rate limits, injected by a proxy in front of the real registry (Docker Hub names are
//! sent to the proxy as a mirror). Failed references are reported and left as written;
//! every other reference is still pinned.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;

use std::collections::BTreeMap;

use pin_support::{Repo, mirror_flags, served};
use strata_testkit::{Fault, FaultProxy, Format, Image, Index, TestRegistry};

const DOCKERFILE: &str = "\
FROM python:3.12«@library/python:3.12» AS ok
FROM broken:1 AS lying
FROM corrupt:1 AS altered
FROM missing:1 AS gone
FROM limited:1«@library/limited:1» AS slow
";

async fn setup() -> (TestRegistry, FaultProxy, Repo, BTreeMap<String, String>) {
    let registry = TestRegistry::start().await.unwrap();
    let s = registry.seeder();
    for repo in ["python", "broken", "corrupt", "limited"] {
        let tag = if repo == "python" { "3.12" } else { "1" };
        s.push_image(&format!("library/{repo}"), tag, &Image::new(repo))
            .await
            .unwrap();
    }
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    // No digest header on HEAD forces a GET by tag, whose bytes are then checked.
    proxy.inject(
        Fault::missing_digest()
            .on_method("HEAD")
            .on_path("/library/broken/"),
    );
    proxy.inject(
        Fault::wrong_digest()
            .on_method("GET")
            .on_path("/library/broken/"),
    );
    proxy.inject(
        Fault::missing_digest()
            .on_method("HEAD")
            .on_path("/library/corrupt/"),
    );
    proxy.inject(
        Fault::corrupt_body()
            .on_method("GET")
            .on_path("/library/corrupt/"),
    );
    proxy.inject(
        Fault::too_many_requests(1)
            .on_path("/library/limited/")
            .times(1),
    );
    let repo = Repo::new(&[("Dockerfile", DOCKERFILE)]);
    let digests = served(&registry, &repo.marked_tags()).await;
    (registry, proxy, repo, digests)
}

#[tokio::test]
async fn failed_lookups_are_errors_and_everything_else_is_pinned() {
    let (_registry, proxy, repo, digests) = setup().await;
    let flags = mirror_flags(&["docker.io"], &proxy.host());
    let mut args = vec!["pin"];
    args.extend(flags.iter().map(String::as_str));
    let run = repo.strata(&args).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        repo.read("Dockerfile"),
        repo.expected(&digests)["Dockerfile"]
    );
    assert!(
        run.stdout.contains("digest mismatch for library/broken:1"),
        "{}",
        run.stdout
    );
    // Errors name the host contacted, the mirror, and the registry it serves.
    let mirror = format!("{} (mirror of docker.io)", proxy.host());
    assert!(
        run.stdout.contains(&format!(
            "library/missing:1 not found on {mirror} (HTTP 404)"
        )),
        "{}",
        run.stdout
    );
    let table = run.stdout.replace(&proxy.host(), "<mirror>");
    insta::assert_snapshot!("pin_faults_table", table);

    // The next run pins nothing new and still reports the three failures.
    let again = repo.strata(&args).await;
    assert_eq!(again.code, 2);
    assert!(
        again
            .stdout
            .contains("0 pinned, 2 already pinned, 0 skipped, 3 failed"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn json_errors_name_the_reference_and_stats_count_the_retry() {
    let (_registry, proxy, repo, _) = setup().await;
    let flags = mirror_flags(&["docker.io"], &proxy.host());
    let mut args = vec!["pin", "--format", "json"];
    args.extend(flags.iter().map(String::as_str));
    let run = repo.strata(&args).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc = run.json();
    let errors: BTreeMap<&str, &str> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["reference"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors["docker.io/library/broken:1"].starts_with("digest mismatch"));
    assert!(errors["docker.io/library/corrupt:1"].starts_with("digest mismatch"));
    assert!(errors["docker.io/library/missing:1"].contains("HTTP 404"));
    let pinned: Vec<&str> = doc["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        pinned,
        [
            "docker.io/library/python:3.12",
            "docker.io/library/limited:1"
        ]
    );
    assert!(doc["pins"][0]["written"].as_bool().unwrap());
    let hub = &doc["registries"]["docker.io"];
    assert!(hub["retries"].as_u64().unwrap() >= 1, "{hub}");
    assert_eq!(hub["pings"], 1);
}

/// A registry whose index bytes do not match the digest its tag claims, or whose tag
/// names a digest it does not serve: the digest is never written, even though the tag
/// lookup itself looked fine.
#[tokio::test]
async fn a_platform_list_that_fails_verification_withdraws_the_pin() {
    let registry = TestRegistry::start().await.unwrap();
    let index = Index::multi_arch(Format::Oci, "multi");
    let s = registry.seeder();
    s.push_index("library/multi", "1", &index).await.unwrap();
    s.push_index(
        "library/liar",
        "1",
        &Index::multi_arch(Format::Docker, "liar"),
    )
    .await
    .unwrap();
    s.push_image("library/fine", "1", &Image::new("fine"))
        .await
        .unwrap();
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    proxy.inject(
        Fault::corrupt_body()
            .on_method("GET")
            .on_path("/library/multi/"),
    );
    // A tag whose HEAD names a digest the registry does not have.
    proxy.inject(
        Fault::wrong_digest()
            .on_method("HEAD")
            .on_path("/library/liar/"),
    );
    let repo = Repo::new(&[(
        "Dockerfile",
        "FROM multi:1 AS a\nFROM fine:1«@library/fine:1» AS b\nFROM liar:1 AS c\n",
    )]);
    let digests = served(&registry, &repo.marked_tags()).await;
    let flags = mirror_flags(&["docker.io"], &proxy.host());
    let mut args = vec!["pin", "--format", "json"];
    args.extend(flags.iter().map(String::as_str));
    let run = repo.strata(&args).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        repo.read("Dockerfile"),
        repo.expected(&digests)["Dockerfile"]
    );
    let doc = run.json();
    assert_eq!(doc["errors"][0]["reference"], "docker.io/library/multi:1");
    let message = doc["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("digest mismatch for library/multi@sha256:"),
        "{message}"
    );
    assert!(message.contains(&index.digest()), "{message}");
    assert_eq!(doc["errors"][1]["reference"], "docker.io/library/liar:1");
    let message = doc["errors"][1]["message"].as_str().unwrap();
    assert!(message.contains("not found on docker.io"), "{message}");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 2);
}
