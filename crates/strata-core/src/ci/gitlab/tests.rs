use super::*;
use crate::ci::Pushed;

fn repository(registry: Option<&str>) -> Repository {
    Repository {
        slug: Some("Group/Sub/App".to_owned()),
        default_branch: "main".to_owned(),
        gitlab_registry: registry.map(str::to_owned),
    }
}

fn files(list: &[(&str, &str)]) -> Vec<File> {
    list.iter()
        .map(|(path, text)| File {
            path: (*path).to_owned(),
            text: (*text).to_owned(),
        })
        .collect()
}

fn tags(build: &Build) -> Vec<String> {
    build.tags.iter().map(|t| t.image.display()).collect()
}

/// GitLab's "Use Docker to build Docker images" example: Docker-in-Docker with
/// `$CI_REGISTRY_IMAGE` and `$CI_COMMIT_REF_SLUG`, the global `before_script`.
const DIND: &str = r#"
default:
  image: docker:24.0.5
  services: [docker:24.0.5-dind]
  before_script:
    - docker login -u $CI_REGISTRY_USER -p $CI_REGISTRY_PASSWORD $CI_REGISTRY

build:
  stage: build
  script:
    - docker build -t $CI_REGISTRY_IMAGE/my-image:$CI_COMMIT_REF_SLUG .
    - docker push $CI_REGISTRY_IMAGE/my-image:$CI_COMMIT_REF_SLUG
"#;

#[test]
fn the_registry_image_is_known_only_on_a_known_registry() {
    let reading = read(
        &files(&[(FILE, DIND)]),
        &repository(Some("registry.gitlab.com")),
    );
    let branch: Vec<&Build> = reading
        .builds
        .iter()
        .filter(|b| b.tags.iter().any(|t| t.run == Run::GitTag))
        .collect();
    assert!(!branch.is_empty());
    let build = &reading.builds[0];
    assert_eq!(
        tags(build)[0],
        "registry.gitlab.com/group/sub/app/my-image:main"
    );
    assert_eq!(build.pushed, Pushed::Yes);
    assert!(build.started.push);
    assert_eq!(build.line, 11);
    let reading = read(&files(&[(FILE, DIND)]), &repository(None));
    assert_eq!(
        tags(&reading.builds[0])[0],
        "$CI_REGISTRY_IMAGE/my-image:main"
    );
    assert!(!reading.builds[0].tags[0].image.is_known());
}

/// GitLab's "Use kaniko to build Docker images" example: the executor, tags only.
const KANIKO: &str = r#"
build:
  stage: build
  image:
    name: gcr.io/kaniko-project/executor:v1.23.2-debug
    entrypoint: [""]
  script:
    - /kaniko/executor
      --context "${CI_PROJECT_DIR}"
      --dockerfile "${CI_PROJECT_DIR}/Dockerfile"
      --destination "${CI_REGISTRY_IMAGE}:${CI_COMMIT_TAG}"
  rules:
    - if: $CI_COMMIT_TAG
"#;

#[test]
fn rules_decide_which_runs_build() {
    let reading = read(
        &files(&[(FILE, KANIKO)]),
        &repository(Some("registry.gitlab.com")),
    );
    assert_eq!(reading.builds.len(), 1);
    let build = &reading.builds[0];
    assert_eq!(build.tool, "kaniko");
    assert_eq!(build.dockerfile.value(), Some("Dockerfile"));
    assert!(build.tags.iter().all(|t| t.run == Run::GitTag));
    assert!(build.started.git_tag && !build.started.push);
    assert_eq!(
        tags(build),
        ["registry.gitlab.com/group/sub/app:${CI_COMMIT_TAG}"]
    );
}

/// `extends` (hashes merged, the rest replaced), hidden jobs, `variables` (top level,
/// then the job's, expanded in order), `parallel: matrix:`, `only`, local includes,
/// `!reference`.
const PIPELINE: &str = r#"
include:
  - local: ci/templates.yml
  - project: other/templates
    file: x.yml
variables:
  REGISTRY: registry.example.com/org
  IMAGE: $REGISTRY/base
.setup:
  script:
    - echo setup
build:base:
  extends: .docker
  variables:
    DIR: base
  parallel:
    matrix:
      - VERSION: ["3.11", "3.12"]
        VARIANT: slim
  script:
    - !reference [.setup, script]
    - docker build --build-arg VERSION=$VERSION -t $IMAGE:$VERSION-$VARIANT -f $DIR/Dockerfile $DIR
    - docker push $IMAGE:$VERSION-$VARIANT
release:
  only: [tags]
  script:
    - docker build -t $REGISTRY/release:x .
    - docker push $REGISTRY/release:x
"#;

const TEMPLATES: &str = r#"
.docker:
  image: docker:27
  variables:
    DIR: overridden
    EXTRA: kept
  only:
    - main
"#;

#[test]
fn extends_variables_matrix_and_includes() {
    let reading = read(
        &files(&[(FILE, PIPELINE), ("ci/templates.yml", TEMPLATES)]),
        &repository(None),
    );
    let base: Vec<&Build> = reading
        .builds
        .iter()
        .filter(|b| b.job == "build:base")
        .collect();
    assert_eq!(base.len(), 2, "{:#?}", reading.builds);
    assert_eq!(tags(base[0]), ["registry.example.com/org/base:3.11-slim"]);
    assert_eq!(tags(base[1]), ["registry.example.com/org/base:3.12-slim"]);
    assert_eq!(base[0].dockerfile.value(), Some("base/Dockerfile"));
    assert_eq!(
        base[0].build_args,
        [("VERSION".to_owned(), Text::known("3.11"))]
    );
    assert!(
        base.iter()
            .all(|b| b.pushed == Pushed::Yes && b.started.push && !b.started.git_tag)
    );
    let release: Vec<&Build> = reading
        .builds
        .iter()
        .filter(|b| b.job == "release")
        .collect();
    assert_eq!(release.len(), 1);
    assert!(release[0].started.git_tag && !release[0].started.push);
    assert_eq!(reading.questions.len(), 1, "{:?}", reading.questions);
    assert!(reading.questions[0].text.contains("outside the repository"));
}

/// A pipeline file whose first document is a `spec:` header (CI/CD inputs).
#[test]
fn a_spec_header_is_skipped() {
    let text = "spec:\n  inputs:\n    x:\n      default: y\n---\nbuild:\n  script:\n    - docker build -t r.example.com/a:1 .\n    - docker push r.example.com/a:1\n";
    let reading = read(&files(&[(FILE, text)]), &repository(None));
    assert_eq!(reading.builds.len(), 1);
    assert_eq!(slug("Feature/New_Thing"), "feature-new-thing");
}
