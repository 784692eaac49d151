//! Shared by the `check_*` tests (on top of `pin_support`): a repository with every
//! reference shape and its registry seed, the binary run with extra environment
//! variables, and short views of the findings.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part

use std::path::PathBuf;

use serde_json::Value;
use strata_testkit::{Format, Image, Index, TestRegistry};

use crate::pin_support::{Repo, Run};

#[path = "../corpus/mod.rs"]
mod corpus;

/// The official-images corpus (library files and removed-tags history).
pub fn corpus() -> PathBuf {
    corpus::official_images()
}

/// Marked templates (see `pin_support`): Dockerfiles, compose, Kubernetes and Actions.
/// `library/redis:7-alpine` is used by exactly `compose.yaml` (line 6) and
/// `twice/Dockerfile` (lines 2 and 3); `shared/Dockerfile` is a shared `ARG` that pin
/// leaves alone (a warning).
pub fn files() -> Vec<(&'static str, String)> {
    let dockerfile = "\
# syntax=docker/dockerfile:1«@docker/dockerfile:1»
ARG BASE=python:3.12«@library/python:3.12»
FROM $BASE AS build
COPY --from=busybox:1.36«@library/busybox:1.36» /bin/busybox /bin/busybox
FROM ghcr.io/acme/tools:2.1«@acme/tools:2.1» AS tools
FROM alpine«:latest@library/alpine:latest»
COPY --from=build /app /app
COPY --from=tools /bin/sh /bin/sh
FROM scratch
";
    let shared = "\
ARG NODE_TAG=20
FROM node:${NODE_TAG} AS web
ARG NODE_TAG
RUN echo $NODE_TAG
";
    let compose = "\
services:
  web:
    build: .
    image: acme/web:latest
  cache:
    image: redis:7-alpine«@library/redis:7-alpine»
";
    let kubernetes = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: web
      image: nginx:1.27«@library/nginx:1.27»
";
    let actions = "\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: ubuntu:24.04«@library/ubuntu:24.04»
    steps:
      - run: echo ok
";
    let twice = "\
ARG RUNTIME=redis:7-alpine«@library/redis:7-alpine»
FROM $RUNTIME AS one
FROM ${RUNTIME} AS two
";
    vec![
        ("Dockerfile", dockerfile.to_owned()),
        ("shared/Dockerfile", shared.to_owned()),
        ("compose.yaml", compose.to_owned()),
        ("deploy/app.yaml", kubernetes.to_owned()),
        (".github/workflows/ci.yml", actions.to_owned()),
        ("twice/Dockerfile", twice.to_owned()),
    ]
}

/// The unique tags `files()` names (what one check run looks up).
pub const UNIQUE_TAGS: usize = 9;

/// Seeds every tag `files()` names, in several manifest formats.
pub async fn seed(registry: &TestRegistry) {
    let s = registry.seeder();
    s.push_image("docker/dockerfile", "1", &Image::new("frontend"))
        .await
        .unwrap();
    s.push_image("library/python", "3.12", &Image::new("python"))
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
        &Index::multi_arch(Format::Oci, "tools"),
    )
    .await
    .unwrap();
    for (repo, tag) in [
        ("library/busybox", "1.36"),
        ("library/alpine", "latest"),
        ("library/redis", "7-alpine"),
    ] {
        s.push_image(repo, tag, &Image::new(repo)).await.unwrap();
    }
    for (repo, tag) in [("library/nginx", "1.27"), ("library/ubuntu", "24.04")] {
        s.push_image(repo, tag, &Image::oci(repo)).await.unwrap();
    }
}

/// `--registry-mirror` flags sending docker.io and ghcr.io to the test registry.
pub fn mirrors(registry: &TestRegistry) -> Vec<String> {
    crate::pin_support::mirror_flags(&["docker.io", "ghcr.io"], &registry.host())
}

/// `base` followed by `extra`.
pub fn args<'a>(base: &[&'a str], extra: &'a [String]) -> Vec<&'a str> {
    let mut out = base.to_vec();
    out.extend(extra.iter().map(String::as_str));
    out
}

/// Runs the binary like `Repo::strata`, with `env` added.
pub async fn strata(repo: &Repo, args: &[&str], env: &[(&str, String)]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(repo.root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", repo.dir.path().join("home"))
        .env("STRATA_CACHE_DIR", repo.cache())
        .env("NO_COLOR", "1")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .unwrap();
    Run::from(output)
}

/// Panics with the output unless the run exited with `code`.
pub fn assert_code(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// The `findings` array of a JSON report.
pub fn findings(run: &Run) -> Vec<Value> {
    run.json()["findings"].as_array().unwrap().clone()
}

/// `code file:line` of each finding.
pub fn places(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}",
                f["code"].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["line"]
            )
        })
        .collect()
}

/// Findings of `severity`.
pub fn at_severity<'a>(findings: &'a [Value], severity: &str) -> Vec<&'a Value> {
    findings
        .iter()
        .filter(|f| f["severity"] == severity)
        .collect()
}
