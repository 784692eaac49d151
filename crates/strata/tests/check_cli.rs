//! `strata check` end to end against the real registry: unpinned references, a freshly
//! pinned repository checking clean, a tag moved through the registry API reported on
//! the very next run (with since-when from the state database), deleted tags and
//! digests, one request per unique tag, and exit codes where errors win.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod check_support;
mod pin_support;

use check_support::{UNIQUE_TAGS, args, assert_code, at_severity, findings, mirrors, places};
use pin_support::{Repo, served};
use strata_testkit::{Image, TestRegistry};

async fn setup() -> (TestRegistry, Repo, Vec<String>) {
    let registry = TestRegistry::start().await.unwrap();
    check_support::seed(&registry).await;
    let files = check_support::files();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let flags = mirrors(&registry);
    (registry, Repo::new(&borrowed), flags)
}

/// HEAD requests for one tag's manifest in the registry's log.
async fn heads_of(registry: &TestRegistry, repo: &str, tag: &str) -> usize {
    let path = format!("/v2/{repo}/manifests/{tag}");
    let requests = registry.requests().await;
    requests
        .iter()
        .filter(|r| r.method == "HEAD" && r.path == path)
        .count()
}

#[tokio::test]
async fn unpinned_references_fail_the_check_until_pinned() {
    let (_registry, repo, flags) = setup().await;
    let run = repo
        .strata(&args(&["check", "--format", "json"], &flags))
        .await;
    assert_code(&run, 1);
    let all = findings(&run);
    let errors = at_severity(&all, "error");
    assert!(errors.iter().all(|f| f["code"] == "unpinned"), "{all:#?}");
    // Every marked reference (the ARG in twice/Dockerfile counts twice) is unpinned.
    assert_eq!(errors.len(), 10, "{:#?}", places(&all));
    let alpine = errors.iter().find(|f| f["text"] == "alpine").unwrap();
    assert_eq!(alpine["reference"], "docker.io/library/alpine:latest");
    assert!(
        alpine["current_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(
        places(
            &at_severity(&all, "warning")
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
        ),
        ["shared-arg shared/Dockerfile:2"]
    );
    assert!(run.json()["errors"].as_array().unwrap().is_empty());

    // The table names the same things for people.
    let table = repo.strata(&args(&["check"], &flags)).await;
    assert_code(&table, 1);
    assert!(
        table.stdout.contains("compose.yaml:6:12"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("11 findings (10 at severity error, 1 warning, 0 note)"),
        "{}",
        table.stdout
    );
}

#[tokio::test]
async fn a_pinned_repository_is_clean_and_a_moved_tag_is_reported_on_the_next_run() {
    let (registry, repo, flags) = setup().await;
    let pin = repo.strata(&args(&["pin"], &flags)).await;
    assert_code(&pin, 0);
    let digests = served(&registry, &repo.marked_tags()).await;
    let old = digests["library/redis:7-alpine"].clone();

    // Freshly pinned: clean (the shared ARG stays a warning), one HEAD per unique tag.
    registry.reset_requests().await;
    let clean = repo
        .strata(&args(&["check", "--format", "json"], &flags))
        .await;
    assert_code(&clean, 0);
    let doc = clean.json();
    assert!(
        at_severity(&findings(&clean), "error").is_empty(),
        "{doc:#}"
    );
    assert_eq!(doc["summary"]["tags_looked_up"], UNIQUE_TAGS);
    let requests = registry.requests().await;
    let manifests: Vec<_> = requests.iter().filter(|r| r.is_manifest()).collect();
    assert_eq!(manifests.len(), UNIQUE_TAGS, "{requests:#?}");
    assert!(
        manifests.iter().all(|r| r.method == "HEAD"),
        "{manifests:#?}"
    );

    // Move the tag through the registry API.
    let new = registry
        .seeder()
        .push_image("library/redis", "7-alpine", &Image::new("redis, fixed"))
        .await
        .unwrap();
    assert_ne!(new, old);
    registry.reset_requests().await;
    let moved = repo
        .strata(&args(&["check", "--format", "json"], &flags))
        .await;
    assert_code(&moved, 1);
    let errors: Vec<_> = at_severity(&findings(&moved), "error")
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(
        places(&errors),
        [
            "moved-tag compose.yaml:6",
            "moved-tag twice/Dockerfile:2",
            "moved-tag twice/Dockerfile:3"
        ]
    );
    for finding in &errors {
        assert_eq!(finding["digest"], old.as_str());
        assert_eq!(finding["current_digest"], new.as_str());
        assert!(
            finding["since"].is_string(),
            "second observation: {finding:#}"
        );
        assert!(finding["pinned_last_seen"].is_string(), "{finding:#}");
    }
    let since = errors[0]["since"].clone();
    // The tag HEAD, and one HEAD by digest to learn the old digest still exists.
    assert_eq!(heads_of(&registry, "library/redis", "7-alpine").await, 1);
    assert_eq!(heads_of(&registry, "library/redis", &old).await, 1);
    assert_eq!(moved.json()["summary"]["digests_verified"], 1);

    // The next run asks the registry again (no cache answers for a tag) and reports
    // the same move, since the same time.
    registry.reset_requests().await;
    let again = repo
        .strata(&args(&["check", "--format", "json"], &flags))
        .await;
    assert_code(&again, 1);
    assert_eq!(heads_of(&registry, "library/redis", "7-alpine").await, 1);
    let errors = findings(&again);
    let moved_again: Vec<_> = errors.iter().filter(|f| f["code"] == "moved-tag").collect();
    assert_eq!(moved_again.len(), 3);
    assert_eq!(moved_again[0]["since"], since);
    assert!(
        moved_again[0]["message"]
            .as_str()
            .unwrap()
            .contains("moved"),
        "{:#}",
        moved_again[0]
    );
}

#[tokio::test]
async fn deleted_tags_and_digests_are_missing_tags() {
    let registry = TestRegistry::start().await.unwrap();
    let seed = registry.seeder();
    let host = registry.host();
    let gone = seed
        .push_image("lib/gone", "1", &Image::new("gone"))
        .await
        .unwrap();
    let moved_away = seed
        .push_image("lib/moved", "1", &Image::new("moved"))
        .await
        .unwrap();
    let moved_to = seed
        .push_image("lib/moved", "1", &Image::new("moved again"))
        .await
        .unwrap();
    let kept = seed
        .push_image("lib/kept", "1", &Image::new("kept"))
        .await
        .unwrap();
    seed.delete_manifest("lib/gone", &gone).await.unwrap();
    seed.delete_manifest("lib/moved", &moved_away)
        .await
        .unwrap();
    let dockerfile = format!(
        "FROM {host}/lib/gone:1@{gone} AS a\nFROM {host}/lib/moved:1@{moved_away} AS b\n\
         FROM {host}/lib/kept:1@{kept} AS c\nFROM {host}/lib/never:1\n"
    );
    let repo = Repo::new(&[("Dockerfile", dockerfile.as_str())]);
    registry.reset_requests().await;
    let run = repo.strata(&["check", "--format", "json"]).await;
    assert_code(&run, 1);
    let all = findings(&run);
    assert_eq!(
        places(&all),
        [
            "missing-tag Dockerfile:1",
            "missing-tag Dockerfile:2",
            "missing-tag Dockerfile:4"
        ]
    );
    let message = |i: usize| all[i]["message"].as_str().unwrap().to_owned();
    assert!(
        message(0).contains("nor does the pinned digest"),
        "{}",
        message(0)
    );
    assert!(message(1).contains("no longer exists"), "{}", message(1));
    assert_eq!(all[1]["current_digest"], moved_to.as_str());
    assert_eq!(all[1]["digest"], moved_away.as_str());
    assert!(message(2).contains("lib/never:1"), "{}", message(2));
    // Four tag HEADs, two digest HEADs (the kept tag proves its digest by itself).
    let requests = registry.requests().await;
    let heads: Vec<&str> = requests
        .iter()
        .filter(|r| r.method == "HEAD")
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(heads.len(), 6, "{heads:#?}");
    assert!(
        requests
            .iter()
            .all(|r| r.method != "GET" || r.path == "/v2/")
    );
}

#[tokio::test]
async fn errors_win_over_findings_and_name_the_failed_lookup() {
    let (_registry, repo, flags) = setup().await;
    // Nothing listens on port 1: the lookup fails, the rest is still checked.
    std::fs::create_dir_all(repo.root().join("unreachable")).unwrap();
    std::fs::write(
        repo.root().join("unreachable/Dockerfile"),
        "FROM 127.0.0.1:1/team/app:1\n",
    )
    .unwrap();
    let run = repo
        .strata(&args(&["check", "--format", "json"], &flags))
        .await;
    assert_code(&run, 2);
    let doc = run.json();
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{doc:#}");
    assert_eq!(errors[0]["reference"], "127.0.0.1:1/team/app:1");
    assert!(!at_severity(&findings(&run), "error").is_empty());
    assert_eq!(doc["summary"]["exit_code"], 2);

    // An unreadable config is an error too, naming the file and the key.
    std::fs::write(
        repo.root().join("strata.toml"),
        "[check]\nseverity = { unpinned = \"loud\" }\n",
    )
    .unwrap();
    let run = repo.strata(&args(&["check"], &flags)).await;
    assert_code(&run, 2);
    assert!(
        run.stderr
            .contains("strata.toml:2:25: check.severity.unpinned:"),
        "{}",
        run.stderr
    );
}
