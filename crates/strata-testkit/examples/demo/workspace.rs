//! Demo, workspace stage: writes the team's three repositories (each a real git
//! repository with one commit) and the `strata.toml` that ties them together: Docker
//! Hub served by the loopback registry, and every image the team builds rebuilt by the
//! test builder. Writes only under the demo directory.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The repositories, in the order they are shown.
pub(crate) const REPOSITORIES: [&str; 3] = ["platform", "api", "web"];

/// `(path, content)` of every file; the first path segment is the repository.
const FILES: [(&str, &str); 9] = [
    (
        "platform/python-base/Dockerfile",
        r#"# The team's Python base: CA bundle from Debian, Python from the official image.
# strata: produces acme/python-base:3.12
ARG PYTHON_TAG=3.12-slim

FROM debian:bookworm AS certs
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates

FROM python:${PYTHON_TAG}
COPY --from=certs /etc/ssl/certs /etc/ssl/certs
# A template for services; the FROM inside this heredoc is file content, not a stage.
COPY <<EOF /usr/share/acme/Dockerfile.service
FROM alpine:3.20
COPY . /app
EOF
RUN pip install --no-cache-dir uv
"#,
    ),
    (
        "platform/README.md",
        "# platform\n\nBase images every Acme service builds on.\n",
    ),
    (
        "api/Dockerfile",
        r#"# syntax=docker/dockerfile:1
# strata: produces acme/api:1
FROM acme/python-base:3.12 AS build
WORKDIR /src
COPY pyproject.toml .
RUN uv pip install --target /deps .

FROM acme/python-base:3.12
COPY --from=build /deps /usr/local/lib/python3.12/site-packages
COPY app /app
CMD ["python", "-m", "app"]
"#,
    ),
    (
        "api/worker/Dockerfile",
        "# strata: produces acme/worker:1\nFROM acme/python-base:3.12\nCOPY worker /worker\n\
         CMD [\"python\", \"-m\", \"worker\"]\n",
    ),
    (
        "api/migrations/Dockerfile",
        "# strata: produces acme/api-migrations:1\nFROM acme/api:1\nCOPY migrations /migrations\n\
         CMD [\"python\", \"-m\", \"app.migrate\"]\n",
    ),
    (
        "api/compose.yaml",
        r#"# The local stack: the published images, and Redis.
services:
  api:
    image: acme/api:1
    ports: ["8000:8000"]
  worker:
    image: acme/worker:1
  redis:
    image: redis:7
"#,
    ),
    (
        "api/deploy/api.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      initContainers:
        - name: migrate
          image: acme/api-migrations:1
      containers:
        - name: api
          image: acme/api:1
        - name: cache
          image: redis:7
"#,
    ),
    (
        "web/Dockerfile",
        r#"# strata: produces acme/web:1
FROM node:22-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci && npm run build

FROM nginx:1.27
COPY --from=assets /src/dist /usr/share/nginx/html
"#,
    ),
    (
        "web/deploy/web.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: acme/web:1
"#,
    ),
];

/// `strata.toml`: Docker Hub is served by the loopback registry at `host`, and every
/// image the workspace builds is rebuilt by `builder` (which reads and pushes through
/// the same mirror).
fn config(host: &str, builder: &Path) -> String {
    format!(
        r#"# Docker Hub, as far as this demo is concerned, is the registry on {host}.
[registry.mirrors]
"docker.io" = "{host}"

[workspace]

[workspace.cascade]
parallel = 4
timeout = "60s"
poll_interval = "20ms"
poll_max = "250ms"

# What `docker build` + `docker push` would do in the repository: build the image on
# exactly what its Dockerfile pins. Before each rebuild, strata writes the new pins of the
# moved bases into the repository's working tree (pins = "in-place", the default for a
# command), so the build reads them.
[workspace.trigger]
command = ["{builder}"]
env = {{ STRATA_TEST_MIRRORS = "docker.io={host}" }}

[[workspace.repository]]
path = "platform"

[[workspace.repository]]
path = "api"

[[workspace.repository]]
path = "web"
"#,
        builder = builder.display(),
    )
}

/// Writes every file and `strata.toml` into `dir`, and makes each repository a git
/// repository with one commit on `main`.
pub(crate) fn write(dir: &Path, host: &str, builder: &Path) -> Result<()> {
    for (path, text) in FILES {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&full, text).with_context(|| format!("writing {}", full.display()))?;
    }
    fs::write(dir.join("strata.toml"), config(host, builder))?;
    for repo in REPOSITORIES {
        let repo = dir.join(repo);
        git(&repo, &["init", "--quiet", "--initial-branch=main"])?;
        // The team's developer; strata's update commits are made in the same name.
        git(&repo, &["config", "user.name", "Ada Acme"])?;
        git(&repo, &["config", "user.email", "ada@acme.example"])?;
        git(&repo, &["add", "."])?;
        git(&repo, &["commit", "--quiet", "-m", "Initial import"])?;
    }
    Ok(())
}

/// Runs git quietly in `repo`, without the user's global or system configuration;
/// fails with git's own words.
pub(crate) fn git(repo: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .current_dir(repo)
        .output()
        .context("running git")?;
    if !output.status.success() {
        bail!(
            "git {} in {}: {}",
            args.join(" "),
            repo.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Every file written, for the listing shown before the story starts.
pub(crate) fn files() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(path, _)| *path)
}
