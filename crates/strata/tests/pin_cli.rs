//! `strata pin` end to end: the real binary on a repository with every reference shape,
//! against the real registry (Docker Hub and ghcr.io names sent to it as mirrors).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;

use std::collections::BTreeMap;

use pin_support::{Repo, Run, mirror_flags, served};
use strata_testkit::{Format, Image, Index, TestRegistry};

const HEX_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// Every shape `pin` rewrites, and the ones it must leave alone.
fn shapes() -> Vec<(&'static str, String)> {
    let dockerfile = "\
# syntax=docker/dockerfile:1«@docker/dockerfile:1»
ARG BASE=python:3.12«@library/python:3.12»
ARG PY_TAG=3.12-slim«@library/python:3.12-slim»
FROM $BASE AS build
RUN --mount=type=cache,target=/root/.cache --mount=type=bind,from=golang:1.22«@library/golang:1.22»,source=/usr/local/go,target=/go true
COPY --from=busybox:1.36«@library/busybox:1.36» /bin/busybox /bin/busybox

FROM --platform=linux/arm64 python:${PY_TAG} AS slim
COPY --from=build /app /app

FROM alpine«:latest@library/alpine:latest» AS tools
FROM ghcr.io/acme/tools:2.1«@acme/tools:2.1»
COPY --from=tools /bin/sh /bin/sh
COPY --from=0 /x /x

FROM scratch
COPY --from=slim /app /app
"
    .to_owned();
    let shared = format!(
        "\
ARG NODE_TAG=20
FROM node:${{NODE_TAG}} AS web
ARG NODE_TAG
RUN echo $NODE_TAG
FROM debian:bookworm@sha256:{HEX_A}
FROM alpine@sha256:{HEX_A}
"
    );
    let compose = "\
services:
  web:
    build: .
    image: acme/web:latest
  cache:
    image: redis:7-alpine«@library/redis:7-alpine»
  db:
    image: \"postgres:${PG_TAG:-16}«@library/postgres:16»\"
"
    .to_owned();
    let kubernetes = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: busybox:1.36«@library/busybox:1.36»
      containers:
        - name: web
          image: nginx:1.27«@library/nginx:1.27»
---
apiVersion: v1
kind: Pod
metadata:
  name: cache
spec:
  containers:
    - name: memcached
      image: 'memcached:1.6«@library/memcached:1.6»'
"
    .to_owned();
    let actions = "\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: ubuntu:24.04«@library/ubuntu:24.04»
    services:
      db:
        image: mysql:8«@library/mysql:8»
    steps:
      - uses: docker://alpine:3.20«@library/alpine:3.20»
      - run: echo ok
"
    .to_owned();
    vec![
        ("Dockerfile", dockerfile),
        ("shared/Dockerfile", shared),
        ("compose.yaml", compose),
        ("deploy/app.yaml", kubernetes),
        (".github/workflows/ci.yml", actions),
        (
            "twice/Dockerfile",
            "ARG RUNTIME=redis:7-alpine«@library/redis:7-alpine»\nFROM $RUNTIME AS one\nFROM ${RUNTIME} AS two\n"
                .to_owned(),
        ),
        (
            "crlf/Dockerfile",
            "FROM python:3.12«@library/python:3.12»\r\nRUN echo hi\r\n".to_owned(),
        ),
        (
            "bom/Dockerfile",
            "\u{feff}# é ☃\nFROM node:20«@library/node:20»\nCMD [\"node\"]\n".to_owned(),
        ),
    ]
}

/// Seeds every image the shapes name, in all four manifest formats.
async fn seed(registry: &TestRegistry) -> Index {
    let s = registry.seeder();
    let golang = Index::multi_arch(Format::Oci, "golang");
    s.push_image("docker/dockerfile", "1", &Image::new("frontend"))
        .await
        .unwrap();
    s.push_image("library/python", "3.12", &Image::new("python"))
        .await
        .unwrap();
    s.push_image("library/python", "3.12-slim", &Image::oci("python-slim"))
        .await
        .unwrap();
    s.push_index("library/golang", "1.22", &golang)
        .await
        .unwrap();
    s.push_index(
        "library/node",
        "20",
        &Index::multi_arch(Format::Docker, "node"),
    )
    .await
    .unwrap();
    s.push_index(
        "acme/tools",
        "2.1",
        &Index::multi_arch(Format::Docker, "tools"),
    )
    .await
    .unwrap();
    for (repo, tag) in [
        ("library/busybox", "1.36"),
        ("library/alpine", "latest"),
        ("library/redis", "7-alpine"),
        ("library/nginx", "1.27"),
    ] {
        s.push_image(repo, tag, &Image::new(repo)).await.unwrap();
    }
    for (repo, tag) in [
        ("library/alpine", "3.20"),
        ("library/postgres", "16"),
        ("library/memcached", "1.6"),
        ("library/ubuntu", "24.04"),
        ("library/mysql", "8"),
    ] {
        s.push_image(repo, tag, &Image::oci(repo)).await.unwrap();
    }
    golang
}

async fn setup() -> (TestRegistry, Repo, Vec<String>) {
    let registry = TestRegistry::start().await.unwrap();
    let _ = seed(&registry).await;
    let files = shapes();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let repo = Repo::new(&borrowed);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let perms = std::fs::Permissions::from_mode(0o751);
        std::fs::set_permissions(repo.root().join("bom/Dockerfile"), perms).unwrap();
    }
    let flags = mirror_flags(&["docker.io", "ghcr.io"], &registry.host());
    (registry, repo, flags)
}

fn args<'a>(base: &[&'a str], flags: &'a [String]) -> Vec<&'a str> {
    let mut out = base.to_vec();
    out.extend(flags.iter().map(String::as_str));
    out
}

fn assert_code(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

#[tokio::test]
async fn pins_every_shape_to_the_digest_the_registry_serves() {
    let (registry, repo, flags) = setup().await;
    let digests = served(&registry, &repo.marked_tags()).await;
    registry.reset_requests().await;
    let files_before = repo.stamps();

    let run = repo.strata(&args(&["pin"], &flags)).await;
    assert_code(&run, 0);
    for (path, expected) in repo.expected(&digests) {
        assert_eq!(repo.read(&path), expected, "{path}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(repo.root().join("bom/Dockerfile"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o751);
    }
    // One HEAD per unique tag and nothing else but the pings (one per registry name).
    let requests = registry.requests().await;
    let heads = requests.iter().filter(|r| r.method == "HEAD").count();
    let others: Vec<_> = requests
        .iter()
        .filter(|r| r.method != "HEAD" && r.path != "/v2/")
        .collect();
    assert_eq!(heads, digests.len(), "{requests:?}");
    assert!(others.is_empty(), "{others:?}");
    // Nothing but the pins was written: the same files, no new ones.
    let paths = |stamps: Vec<(std::path::PathBuf, u64, std::time::SystemTime, u64)>| {
        stamps.into_iter().map(|s| s.0).collect::<Vec<_>>()
    };
    assert_eq!(paths(repo.stamps()), paths(files_before));
    insta::assert_snapshot!(
        "pin_shapes_table",
        run.stdout.replace(&registry.host(), "<mirror>")
    );

    // A second run finds everything pinned and touches no file.
    let before = repo.stamps();
    let again = repo.strata(&args(&["pin"], &flags)).await;
    assert_code(&again, 0);
    assert_eq!(repo.stamps(), before);
    assert!(
        again.stdout.contains("0 pinned, 20 already pinned"),
        "{}",
        again.stdout
    );
}

#[tokio::test]
async fn dry_run_prints_the_diff_exits_1_and_writes_nothing() {
    let (registry, repo, flags) = setup().await;
    let digests = served(&registry, &repo.marked_tags()).await;
    let before = repo.stamps();

    let run = repo.strata(&args(&["pin", "--dry-run"], &flags)).await;
    assert_code(&run, 1);
    assert_eq!(repo.stamps(), before, "a dry run writes nothing");
    // The diff's only changes are the pins.
    let removed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .collect();
    let added: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .collect();
    assert_eq!(removed.len(), added.len());
    for (old, new) in removed.iter().zip(&added) {
        let (old, new) = (&old[1..], &new[1..]);
        let inserted = diff_insertion(old, new);
        assert!(
            inserted.starts_with("@sha256:") || inserted.starts_with(":latest@sha256:"),
            "{old:?} -> {new:?}"
        );
        assert_eq!(inserted.len() - inserted.find('@').unwrap(), 1 + 71);
    }
    // Two references share the ARG default in twice/Dockerfile: one line, two pins.
    assert_eq!(added.len(), 18, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("--- a/crlf/Dockerfile\n+++ b/crlf/Dockerfile\n")
    );
    assert!(run.stderr.contains("19 would pin"), "{}", run.stderr);
    let mut snapshot = run.stdout.replace(&registry.host(), "<mirror>");
    for (key, digest) in &digests {
        snapshot = snapshot.replace(digest, &format!("<{key}>"));
    }
    insta::assert_snapshot!("pin_shapes_dry_run_diff", snapshot);

    // With nothing left to pin a dry run exits 0.
    let run = repo.strata(&args(&["pin"], &flags)).await;
    assert_code(&run, 0);
    let run = repo.strata(&args(&["pin", "--dry-run"], &flags)).await;
    assert_code(&run, 0);
    assert_eq!(run.stdout, "");
}

/// The text `new` has that `old` lacks, when `new` is `old` with one insertion.
fn diff_insertion(old: &str, new: &str) -> String {
    let start = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    let tail = old.len() - start;
    assert_eq!(
        &new[new.len() - tail..],
        &old[start..],
        "{old:?} -> {new:?}"
    );
    new[start..new.len() - tail].to_owned()
}

#[tokio::test]
async fn json_lists_pins_platforms_skips_and_registry_stats() {
    let (registry, repo, flags) = setup().await;
    let golang = Index::multi_arch(Format::Oci, "golang");
    let digests = served(&registry, &repo.marked_tags()).await;

    let run = repo
        .strata(&args(&["pin", "--dry-run", "--format", "json"], &flags))
        .await;
    assert_code(&run, 1);
    let doc = run.json();
    let pins = doc["pins"].as_array().unwrap();
    assert_eq!(pins.len(), 19);
    for pin in pins {
        // Every pin is the digest the registry serves for that tag (and skopeo agrees).
        let reference = pin["reference"].as_str().unwrap();
        let name = reference
            .trim_start_matches("docker.io/")
            .trim_start_matches("ghcr.io/");
        assert_eq!(pin["digest"], digests[name], "{pin}");
        let (repo_name, tag) = name.rsplit_once(':').unwrap();
        let skopeo = strata_testkit::skopeo_digest(&registry, repo_name, tag)
            .await
            .unwrap();
        assert_eq!(pin["digest"], skopeo.as_str(), "{pin}");
        let after = pin["after"].as_str().unwrap();
        assert!(after.starts_with(pin["before"].as_str().unwrap()));
        assert!(after.ends_with(pin["digest"].as_str().unwrap()));
        assert_eq!(pin["written"], false);
    }
    let golang_pin = pins
        .iter()
        .find(|p| p["reference"] == "docker.io/library/golang:1.22")
        .unwrap();
    let platforms: Vec<(String, String)> = golang_pin["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap().to_owned(),
                p["digest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = golang
        .images()
        .iter()
        .map(|image| {
            let (os, arch, variant) = image.os_arch();
            let platform = match variant {
                Some(v) => format!("{os}/{arch}/{v}"),
                None => format!("{os}/{arch}"),
            };
            (platform, image.digest())
        })
        .collect();
    assert_eq!(platforms, expected);
    let codes: BTreeMap<&str, usize> =
        doc["skips"]
            .as_array()
            .unwrap()
            .iter()
            .fold(BTreeMap::new(), |mut acc, s| {
                *acc.entry(s["code"].as_str().unwrap()).or_default() += 1;
                acc
            });
    let expected_codes: BTreeMap<&str, usize> = [
        ("build-stage", 4),
        ("built-here", 1),
        ("digest-only", 1),
        ("scratch", 1),
        ("shared-arg", 1),
    ]
    .into();
    assert_eq!(codes, expected_codes, "{}", doc["skips"]);
    assert_eq!(doc["already_pinned"].as_array().unwrap().len(), 1);
    assert_eq!(doc["errors"].as_array().unwrap().len(), 0);
    assert!(doc["registries"]["docker.io"]["requests"].as_u64().unwrap() > 0);
    // Platform lists are cached by digest under STRATA_CACHE_DIR, not in the repository.
    assert!(repo.cache().join("registry/manifests/sha256").is_dir());

    let mut text = serde_json::to_string_pretty(&doc)
        .unwrap()
        .replace(&registry.host(), "<mirror>");
    for (key, digest) in &digests {
        text = text.replace(digest, &format!("<{key}>"));
    }
    insta::assert_snapshot!("pin_shapes_json", text);
}
