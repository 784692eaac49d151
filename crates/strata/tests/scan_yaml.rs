//! `strata scan` on compose projects, action metadata and Kubernetes custom resources: the
//! real binary on files written in temp dirs. Compose cases follow compose-go (`dotenv/`,
//! `loader/include.go`, `loader/extends.go`); the rest GitHub's action metadata syntax and
//! the operators' own samples.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;
use std::process::Command;

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
}

/// Runs `strata scan --format json` on `target` from `cwd`, with extra environment.
fn scan_in(cwd: &Path, target: &str, env: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
    cmd.args(["scan", target, "--format", "json"])
        .current_dir(cwd)
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let doc = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), doc)
}

fn scan(root: &Path) -> (i32, serde_json::Value) {
    scan_in(root, ".", &[])
}

/// `file:line reference` of every occurrence.
fn references(doc: &serde_json::Value) -> Vec<String> {
    doc["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{}:{} {}",
                o["file"].as_str().unwrap(),
                o["line"],
                o["reference"].as_str().unwrap()
            )
        })
        .collect()
}

/// `file:line code text` of every skip.
fn skips(doc: &serde_json::Value) -> Vec<String> {
    doc["skips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}:{} {} {}",
                s["file"].as_str().unwrap(),
                s["line"],
                s["code"].as_str().unwrap(),
                s["text"].as_str().unwrap()
            )
        })
        .collect()
}

/// `file:line message` of every error.
fn errors(doc: &serde_json::Value) -> Vec<String> {
    doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{} {}",
                e["file"].as_str().unwrap(),
                e["line"],
                e["message"].as_str().unwrap()
            )
        })
        .collect()
}

/// Every occurrence's span, read from its file, is its text as written.
fn assert_spans(root: &Path, doc: &serde_json::Value) {
    for occ in doc["occurrences"].as_array().unwrap() {
        let text = std::fs::read_to_string(root.join(occ["file"].as_str().unwrap())).unwrap();
        let span = occ["span"].as_array().unwrap();
        let (start, end) = (
            span[0].as_u64().unwrap() as usize,
            span[1].as_u64().unwrap() as usize,
        );
        assert_eq!(&text[start..end], occ["text"].as_str().unwrap(), "{occ}");
    }
}

/// The project directory's `.env`, read with compose-go's dotenv rules: `export`, quotes,
/// inline comments, references to earlier variables, set-but-empty values; the process
/// environment wins over it. The rewritable span stays in the compose file.
#[test]
fn dotenv_variables_as_compose_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &[
            (
                ".env",
                "# registry settings\nexport REGISTRY=ghcr.io/acme   # the org\nAPP_TAG='1.4.2'\nEMPTY=\nPY=\"3.12\"\nPY_IMAGE=python:${PY}-slim\nNGINX=nginx:1.27 #comment\nHASH=abc#def\nOVERRIDDEN=from-dotenv\n",
            ),
            (
                "compose.yaml",
                "services:\n  app:\n    image: ${REGISTRY}/app:${APP_TAG}\n  db:\n    image: postgres:${EMPTY:-16}\n  hard:\n    image: redis${EMPTY-:7}\n  py:\n    image: $PY_IMAGE\n  web:\n    image: ${NGINX}\n  tool:\n    image: tool:${HASH}\n  env:\n    image: ${OVERRIDDEN}:1\n",
            ),
        ],
    );
    let (code, doc) = scan_in(root, ".", &[("OVERRIDDEN", "from-environment")]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        references(&doc),
        [
            "compose.yaml:3 ghcr.io/acme/app:1.4.2",
            "compose.yaml:5 docker.io/library/postgres:16",
            "compose.yaml:7 docker.io/library/redis:latest",
            "compose.yaml:9 docker.io/library/python:3.12-slim",
            "compose.yaml:11 docker.io/library/nginx:1.27",
            "compose.yaml:15 docker.io/library/from-environment:1",
        ]
    );
    // `HASH=abc#def` keeps its `#` (no blank before it), which no tag may hold.
    assert_eq!(
        skips(&doc),
        ["compose.yaml:13 invalid-reference tool:${HASH}"],
        "{doc}"
    );
    assert_spans(root, &doc);
}

/// A `.env` compose would refuse is an error on the compose file that names it, with the
/// `.env` line; the other files are still scanned.
#[test]
fn malformed_dotenv_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &[
            (".env", "TAG=1\nBAD='unterminated\n"),
            ("compose.yaml", "services:\n  a:\n    image: app:${TAG}\n"),
            (
                "other/compose.yaml",
                "services:\n  b:\n    image: redis:7\n",
            ),
        ],
    );
    let (code, doc) = scan(root);
    assert_eq!(code, 2);
    let errors = errors(&doc);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("compose.yaml:0 ")
            && errors[0].contains(".env: line 2: unterminated quoted value"),
        "{errors:?}"
    );
    assert_eq!(
        references(&doc),
        [
            "compose.yaml:3 docker.io/library/app:1",
            "other/compose.yaml:3 docker.io/library/redis:7"
        ]
    );
}

/// `include` and `extends` are followed: each image is reported once, in the file that
/// writes it. A file brought in under another name is read as compose (all its services for
/// `include`, only the extended ones for `extends`); a compose file found on its own is not
/// reported twice, and one that is included is read with the including project's variables
/// over its own `.env` (compose-go `loader/include.go`). Files outside the scanned paths,
/// remote ones, missing ones and missing services are said.
#[test]
fn include_and_extends_are_followed_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    write(
        dir.path(),
        &[("outside.yml", "services:\n  x:\n    image: outside:1\n")],
    );
    write(
        &root,
        &[
            (".env", "PG=16\nWEB_TAG=1.27\n"),
            (
                "compose.yaml",
                "\
include:
  - shared/monitoring.yml
  - db/compose.yaml
  - ../outside.yml
  - oci://registry.example.com/stack:1
  - missing.yml
services:
  web:
    image: nginx:${WEB_TAG}
  api:
    extends:
      file: common/services.yml
      service: api
  worker:
    extends: {file: common/services.yml, service: worker}
  lost:
    extends: {file: common/services.yml, service: nope}
",
            ),
            (
                "shared/monitoring.yml",
                "services:\n  prometheus:\n    image: prom/prometheus:${PROM_TAG:-v2.54.0}\n",
            ),
            ("shared/.env", "PROM_TAG=v2.53.0\n"),
            (
                "db/compose.yaml",
                "services:\n  db:\n    image: postgres:${PG}\n",
            ),
            (
                "common/services.yml",
                "\
services:
  base:
    image: python:3.12-slim
  api:
    extends: base
  worker:
    image: celery:5
  unused:
    image: node:20
",
            ),
            (
                "other/docker-compose.yml",
                "services:\n  app:\n    extends: {file: ../db/compose.yaml, service: db}\n",
            ),
        ],
    );
    let (code, doc) = scan(&root);
    assert_eq!(code, 2, "{doc}");
    assert_eq!(
        references(&doc),
        [
            "common/services.yml:3 docker.io/library/python:3.12-slim",
            "common/services.yml:7 docker.io/library/celery:5",
            "compose.yaml:9 docker.io/library/nginx:1.27",
            "db/compose.yaml:3 docker.io/library/postgres:16",
            "shared/monitoring.yml:3 docker.io/prom/prometheus:v2.53.0",
        ]
    );
    assert_eq!(
        skips(&doc),
        [
            "compose.yaml:4 not-followed ../outside.yml",
            "compose.yaml:5 not-followed oci://registry.example.com/stack:1",
        ]
    );
    let errors = errors(&doc);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("compose.yaml:6 missing.yml: cannot read:"),
        "{errors:?}"
    );
    assert_eq!(
        errors[1],
        "compose.yaml:17 cannot extend service \"nope\": not found in common/services.yml"
    );
    assert_spans(&root, &doc);
}

/// A compose file named on the command line: the files it brings in are shown relative to
/// it, and stay within its directory.
#[test]
fn links_from_a_file_named_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &[
            (
                "app/compose.yaml",
                "include: [parts/cache.yml, ../elsewhere.yml]\nservices: {}\n",
            ),
            (
                "app/parts/cache.yml",
                "services:\n  c:\n    image: redis:7\n",
            ),
            ("elsewhere.yml", "services:\n  e:\n    image: x:1\n"),
        ],
    );
    let (code, doc) = scan_in(root, "app/compose.yaml", &[]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        references(&doc),
        ["app/parts/cache.yml:3 docker.io/library/redis:7"]
    );
    assert_eq!(
        skips(&doc),
        ["app/compose.yaml:1 not-followed ../elsewhere.yml"]
    );
}

/// Version-1 files are said; action metadata and custom resources are found.
#[test]
fn legacy_compose_actions_and_custom_resources() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        &[
            (
                "old/docker-compose.yml",
                "web:\n  build: .\ndb:\n  image: mysql:5.7\n",
            ),
            (
                "action.yml",
                "name: lint\nruns:\n  using: docker\n  image: docker://ghcr.io/acme/lint:3\n",
            ),
            (
                "build-action/action.yaml",
                "name: b\nruns:\n  using: docker\n  image: Dockerfile\n",
            ),
            (
                "bad-action/action.yml",
                "name: c\nruns:\n  using: docker\n  image: alpine:3\n",
            ),
            (
                "ray/cluster.yaml",
                "apiVersion: ray.io/v1\nkind: RayCluster\nspec:\n  headGroupSpec:\n    template:\n      spec:\n        containers:\n        - name: head\n          image: rayproject/ray:2.9.0\n",
            ),
            (
                "chart/templates/deployment.yaml",
                "{{- if .Values.on }}\napiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: {{ .Values.image }}\n{{- end }}\n",
            ),
            (
                "broken/pod.yaml",
                "apiVersion: v1\nmetadata:\n  name: 'x\nkind: Pod\n",
            ),
        ],
    );
    let (code, doc) = scan(root);
    assert_eq!(code, 2, "{doc}");
    assert_eq!(
        references(&doc),
        [
            "action.yml:4 ghcr.io/acme/lint:3",
            "ray/cluster.yaml:9 docker.io/rayproject/ray:2.9.0",
        ]
    );
    assert_eq!(
        skips(&doc),
        [
            "chart/templates/deployment.yaml:8 templated {{ .Values.image }}",
            "old/docker-compose.yml:4 compose-v1 mysql:5.7",
        ]
    );
    let errors = errors(&doc);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].starts_with("bad-action/action.yml:4 runs.image"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("broken/pod.yaml:4 invalid YAML"),
        "{errors:?}"
    );
    assert_spans(root, &doc);
}
