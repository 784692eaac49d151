//! `strata init` on a folder of git repositories whose CI files build and push images —
//! a GitHub workflow with a metadata-action matrix, a workflow with `docker build` in a
//! `run:` step, a GitLab pipeline — then `strata graph` on the file it wrote, against the
//! real registry: the hierarchy a reader of those files draws, with no hand edits.
//! Also: `--dry-run`, never overwriting without `--force`, questions as `# ?`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata_testkit::{Image, TestRegistry};

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

/// A git repository on `main` with everything committed and `origin` set.
fn git_repository(dir: &Path, origin: &str) {
    for args in [
        &["init", "--quiet", "--initial-branch=main"][..],
        &["add", "."],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "--quiet",
            "-m",
            "init",
        ],
        &["remote", "add", "origin", origin],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
}

fn strata(dir: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("STRATA_CACHE_DIR", home.join("cache"))
        .env("STRATA_STATE", home.join("state.db"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The organisation: three image repositories and one without images.
fn organisation(root: &Path, h: &str) {
    let python_base = root.join("python-base");
    write(
        &python_base,
        "Dockerfile",
        &format!(
            "ARG PYTHON_VERSION=3.12\nFROM {h}/base/python:${{PYTHON_VERSION}}-slim\nRUN true\n"
        ),
    );
    write(
        &python_base,
        ".github/workflows/build.yml",
        &format!(
            r#"name: build
on:
  push:
    branches: [main]
  pull_request:
jobs:
  image:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - id: meta
        uses: docker/metadata-action@v5
        with:
          images: {h}/org/python-base
          tags: |
            type=raw,value=${{{{ matrix.python }}}}
            type=sha
      - uses: docker/build-push-action@v6
        with:
          push: ${{{{ github.event_name != 'pull_request' }}}}
          tags: ${{{{ steps.meta.outputs.tags }}}}
          build-args: |
            PYTHON_VERSION=${{{{ matrix.python }}}}
"#
        ),
    );
    git_repository(&python_base, "https://github.com/acme/python-base.git");

    let django = root.join("django-base");
    write(
        &django,
        "docker/Dockerfile",
        &format!("ARG PY\nFROM {h}/org/python-base:${{PY}}\nRUN true\n"),
    );
    write(
        &django,
        ".github/workflows/publish.yml",
        &format!(
            r#"on:
  push:
    branches: [main]
  workflow_dispatch:
env:
  IMAGE: {h}/org/django-base
jobs:
  publish:
    strategy:
      matrix:
        py: ["3.12"]
    steps:
      - run: |
          docker build \
            --build-arg PY=${{{{ matrix.py }}}} \
            -f docker/Dockerfile \
            -t "$IMAGE:${{{{ matrix.py }}}}" .
          docker push "$IMAGE:${{{{ matrix.py }}}}"
"#
        ),
    );
    git_repository(&django, "git@github.com:acme/django-base.git");

    let app = root.join("app");
    write(
        &app,
        "Dockerfile",
        &format!("FROM {h}/org/django-base:3.12\nRUN true\n"),
    );
    write(
        &app,
        ".gitlab-ci.yml",
        &format!(
            r#"variables:
  REGISTRY: {h}
build:
  image: docker:27
  script:
    - docker build -t $REGISTRY/org/app:1 .
    - docker push $REGISTRY/org/app:1
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
"#
        ),
    );
    git_repository(&app, "https://gitlab.example.com/acme/app.git");

    let tools = root.join("tools");
    write(&tools, "README.md", "no images here\n");
    git_repository(&tools, "https://github.com/acme/tools.git");
}

/// Every image of the organisation in the registry, each on its parent's layers with
/// base annotations (as a real build leaves them).
async fn seed(registry: &TestRegistry, h: &str) {
    let seeder = registry.seeder();
    let debian = Image::new("debian");
    let debian_digest = seeder
        .push_image("base/debian", "bookworm", &debian)
        .await
        .unwrap();
    let mut pythons = Vec::new();
    for version in ["3.11", "3.12"] {
        let python = Image::on_top_of(&debian, &format!("python{version}"))
            .base(&format!("{h}/base/debian:bookworm"), &debian_digest);
        let digest = seeder
            .push_image("base/python", &format!("{version}-slim"), &python)
            .await
            .unwrap();
        let base = Image::on_top_of(&python, &format!("python-base{version}"))
            .base(&format!("{h}/base/python:{version}-slim"), &digest);
        let base_digest = seeder
            .push_image("org/python-base", version, &base)
            .await
            .unwrap();
        pythons.push((base, base_digest));
    }
    let (base312, base312_digest) = &pythons[1];
    let django = Image::on_top_of(base312, "django")
        .base(&format!("{h}/org/python-base:3.12"), base312_digest);
    let django_digest = seeder
        .push_image("org/django-base", "3.12", &django)
        .await
        .unwrap();
    let app =
        Image::on_top_of(&django, "app").base(&format!("{h}/org/django-base:3.12"), &django_digest);
    seeder.push_image("org/app", "1", &app).await.unwrap();
}

#[tokio::test]
async fn init_writes_a_workspace_whose_graph_is_the_organisations_hierarchy() {
    let registry = TestRegistry::start().await.unwrap();
    let h = registry.host();
    let temp = tempfile::tempdir().unwrap();
    let org = temp.path().join("org");
    let home = temp.path().join("home");
    organisation(&org, &h);
    seed(&registry, &h).await;

    let run = strata(&org, &home, &["init"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("3 repositories, 4 images"), "{stderr}");
    let text = std::fs::read_to_string(org.join("strata.toml")).unwrap();
    for expected in [
        format!("name = \"{h}/org/python-base:3.11\""),
        format!("name = \"{h}/org/python-base:3.12\""),
        "build_args = { PYTHON_VERSION = \"3.12\" }".to_owned(),
        format!("name = \"{h}/org/django-base:3.12\""),
        "dockerfile = \"docker/Dockerfile\"".to_owned(),
        format!("name = \"{h}/org/app:1\""),
        "trigger = { kind = \"push\" }".to_owned(),
        "trigger = { kind = \"github-workflow\", repository = \"acme/django-base\", workflow = \"publish.yml\", ref = \"main\" }".to_owned(),
        "Not listed (no Dockerfile and no image build): tools".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("# ?"),
        "no questions for this organisation:\n{text}"
    );

    let run = strata(&org, &home, &["graph", "--format", "json"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let label = |full: &serde_json::Value| {
        doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == *full)
            .unwrap()["label"]
            .as_str()
            .unwrap()
            .replace(&format!("{h}/"), "")
    };
    let edges: BTreeSet<(String, String)> = doc["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (label(&e["base"]), label(&e["child"])))
        .collect();
    let want: BTreeSet<(String, String)> = [
        ("base/python:3.11-slim", "org/python-base:3.11"),
        ("base/python:3.12-slim", "org/python-base:3.12"),
        ("base/debian:bookworm", "base/python:3.11-slim"),
        ("base/debian:bookworm", "base/python:3.12-slim"),
        ("org/python-base:3.12", "org/django-base:3.12"),
        ("org/django-base:3.12", "org/app:1"),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(edges, want);
    let managed: BTreeSet<String> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "managed")
        .map(|n| label(&n["name"]))
        .collect();
    assert_eq!(managed.len(), 4, "{managed:?}");
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let temp = tempfile::tempdir().unwrap();
    let repo = temp.path().join("repo");
    let home = temp.path().join("home");
    write(&repo, "Dockerfile", "FROM debian:bookworm\n");
    write(
        &repo,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  b:\n    steps:\n      - run: docker build -t registry.example.com/team/repo:${{ github.sha }} . && docker push registry.example.com/team/repo:${{ github.sha }}\n",
    );
    git_repository(&repo, "https://github.com/team/repo.git");

    let run = strata(temp.path(), &home, &["init", "--dry-run", "repo"]);
    assert_eq!(run.status.code(), Some(1), "a dry run with a file to write");
    let printed = String::from_utf8(run.stdout).unwrap();
    assert!(printed.contains("[workspace]"));
    assert!(
        !repo.join("strata.toml").exists(),
        "a dry run writes nothing"
    );
    // The only tag changes every run: a question, never a guessed name.
    assert!(
        printed.contains(
            "# ? .github/workflows/ci.yml:5 (b) docker build pushes registry.example.com/team/repo \
             with tags that change every run (${{ github.sha }}); no image here is built on one of them: \
             add a [[workspace.image]] with repository = \"repo\", dockerfile = \"Dockerfile\" and the tag"
        ),
        "{printed}"
    );
    assert!(!printed.contains("\n[[workspace.image]]"), "{printed}");

    let run = strata(temp.path(), &home, &["init", "repo"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written = std::fs::read_to_string(repo.join("strata.toml")).unwrap();
    assert_eq!(written, printed);
    assert!(written.contains("path = \".\""), "{written}");

    std::fs::write(repo.join("strata.toml"), "# mine\n").unwrap();
    let run = strata(temp.path(), &home, &["init", "repo"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(repo.join("strata.toml")).unwrap(),
        "# mine\n"
    );

    let run = strata(temp.path(), &home, &["init", "--force", "repo"]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(repo.join("strata.toml")).unwrap(),
        written
    );
    let run = strata(temp.path(), &home, &["init", "--dry-run", "repo"]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "nothing to write: the file is the proposal"
    );
}

/// The path of the config file is where the repositories are read from.
#[test]
fn output_elsewhere_gets_relative_paths() {
    let temp = tempfile::tempdir().unwrap();
    let home = temp.path().join("home");
    let repo: PathBuf = temp.path().join("src/one");
    write(
        &repo,
        "Dockerfile",
        "FROM debian:bookworm\n# strata: produces registry.example.com/team/one:1\n",
    );
    git_repository(&repo, "https://github.com/team/one.git");
    let run = strata(
        temp.path(),
        &home,
        &["init", "-o", "conf/strata.toml", "src/one"],
    );
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(temp.path().join("conf/strata.toml")).unwrap();
    assert!(text.contains("path = \"../src/one\""), "{text}");
    assert!(
        text.contains("declare registry.example.com/team/one:1"),
        "{text}"
    );
}

/// `$CI_REGISTRY_IMAGE` (GitLab's "Predefined CI/CD variables": `<registry>/<project
/// path>`) is known for a project on gitlab.com, and a question elsewhere.
#[test]
fn the_gitlab_registry_image_is_known_only_on_gitlab_com() {
    let pipeline = "build:\n  script:\n    - docker build -t $CI_REGISTRY_IMAGE:latest .\n    - docker push $CI_REGISTRY_IMAGE:latest\n";
    for (origin, want) in [
        (
            "https://gitlab.com/Acme/Svc.git",
            "name = \"registry.gitlab.com/acme/svc:latest\"",
        ),
        (
            "https://git.example.com/acme/svc.git",
            "# ? .gitlab-ci.yml:3 (build) docker build pushes $CI_REGISTRY_IMAGE, a name only known when CI runs \
             ($CI_REGISTRY_IMAGE is <your GitLab's registry host>/acme/svc): add a [[workspace.image]] with \
             repository = \"svc\", dockerfile = \"Dockerfile\" and the image's name",
        ),
    ] {
        let temp = tempfile::tempdir().unwrap();
        let home = temp.path().join("home");
        let repo = temp.path().join("svc");
        write(&repo, "Dockerfile", "FROM debian:bookworm\n");
        write(&repo, ".gitlab-ci.yml", pipeline);
        git_repository(&repo, origin);
        let run = strata(temp.path(), &home, &["init", "--dry-run", "svc"]);
        let printed = String::from_utf8(run.stdout).unwrap();
        assert!(printed.contains(want), "{origin}:\n{printed}");
    }
}
