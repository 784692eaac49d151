use super::*;
use crate::ci::Pushed;

const PY_BASE: &str =
    include_str!("../../../tests/fixtures/ci/praekeltfoundation/docker-py-base/build.yaml");
const DJANGO: &str =
    include_str!("../../../tests/fixtures/ci/praekeltfoundation/docker-django-bootstrap/ci.yaml");
const VUMI: &str =
    include_str!("../../../tests/fixtures/ci/praekeltfoundation/docker-vumi/build.yaml");

fn repository(slug: &str, default_branch: &str) -> Repository {
    Repository {
        slug: Some(slug.to_owned()),
        default_branch: default_branch.to_owned(),
        gitlab_registry: None,
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

/// docker-py-base: a matrix with `include` entries that overwrite an original value (so
/// they are combinations of their own), metadata-action pep440 rules with fixed values,
/// build-push-action with the metadata's tags and a build argument from the matrix.
#[test]
fn a_matrix_of_metadata_tagged_builds() {
    let reading = read(
        &files(&[(".github/workflows/build.yaml", PY_BASE)]),
        &repository("praekeltfoundation/docker-py-base", "master"),
    );
    assert_eq!(reading.builds.len(), 7, "{:#?}", reading.builds);
    let first = &reading.builds[0];
    assert_eq!(first.dockerfile.value(), Some("Dockerfile.no-wheelhouse"));
    assert_eq!(
        first.pushed,
        Pushed::Yes,
        "push: ${{{{github.event_name != 'pull_request'}}}} on a push"
    );
    assert!(first.started.push && !first.started.git_tag);
    assert_eq!(
        first.build_args,
        [(
            "FROM_IMAGE".to_owned(),
            Text::known("python:3.11.6-slim-bullseye")
        )]
    );
    assert_eq!(
        tags(first),
        [
            "ghcr.io/praekeltfoundation/python-base-nw:3.11.6",
            "ghcr.io/praekeltfoundation/python-base-nw:3.11",
            "ghcr.io/praekeltfoundation/python-base-nw:3",
            "ghcr.io/praekeltfoundation/python-base-nw:3.11.6-bullseye",
            "ghcr.io/praekeltfoundation/python-base-nw:3.11-bullseye",
            "ghcr.io/praekeltfoundation/python-base-nw:3-bullseye",
            "ghcr.io/praekeltfoundation/python-base-nw:bullseye",
            "ghcr.io/praekeltfoundation/python-base-nw:latest",
        ]
    );
    let pypy = &reading.builds[5];
    assert_eq!(
        pypy.build_args,
        [(
            "FROM_IMAGE".to_owned(),
            Text::known("pypy:2.7-7.3.5-slim-buster")
        )]
    );
    assert!(tags(pypy).contains(&"ghcr.io/praekeltfoundation/pypy-base-nw:2-buster".to_owned()));
    assert!(reading.questions.is_empty(), "{:?}", reading.questions);
}

/// docker-django-bootstrap: `docker build` in a `run:` step (image from the job's `env`,
/// which holds matrix expressions) next to build-push-action; the run step's images are
/// never pushed by it.
#[test]
fn run_steps_and_job_environment() {
    let reading = read(
        &files(&[(".github/workflows/ci.yaml", DJANGO)]),
        &repository("praekeltfoundation/docker-django-bootstrap", "develop"),
    );
    let run: Vec<&Build> = reading
        .builds
        .iter()
        .filter(|b| b.tool == "docker build")
        .collect();
    let action: Vec<&Build> = reading
        .builds
        .iter()
        .filter(|b| b.tool == "docker/build-push-action")
        .collect();
    assert_eq!((run.len(), action.len()), (8, 4));
    assert_eq!(
        tags(run[0]),
        ["ghcr.io/praekeltfoundation/docker-django-bootstrap-nw:py3.10-bullseye"]
    );
    assert_eq!(run[0].line, 28);
    assert_eq!(
        run[0].build_args[0],
        ("PYTHON_VERSION".to_owned(), Text::known("3.10-bullseye"))
    );
    assert_eq!(tags(run[1]), ["mysite:py3.10-bullseye"]);
    assert_eq!(run[1].context.value(), Some("tests"));
    assert_eq!(run[1].dockerfile.value(), Some("tests/Dockerfile"));
    assert!(run.iter().all(|b| b.pushed == Pushed::No));
    assert!(action.iter().all(|b| b.pushed == Pushed::Yes));
    assert!(tags(action[3]).contains(
        &"ghcr.io/praekeltfoundation/docker-django-bootstrap-nw:py3.7-bullseye".to_owned()
    ));
}

/// docker-vumi: tags that change every run (the commit) on branch pushes, and semver
/// tags only for pushed git tags (`on: push: tags: ['v*']`).
#[test]
fn branch_and_git_tag_runs() {
    let reading = read(
        &files(&[(".github/workflows/build.yaml", VUMI)]),
        &repository("praekeltfoundation/docker-vumi", "master"),
    );
    assert_eq!(reading.builds.len(), 1);
    let build = &reading.builds[0];
    let shown: Vec<(String, Run)> = build
        .tags
        .iter()
        .map(|t| (t.image.display(), t.run.clone()))
        .collect();
    assert_eq!(
        shown,
        [
            (
                "ghcr.io/praekeltfoundation/vumi-base:master-<short commit sha>".to_owned(),
                Run::Branch("master".into())
            ),
            (
                "ghcr.io/praekeltfoundation/vumi-base:<version of the pushed git tag>".to_owned(),
                Run::GitTag
            ),
            (
                "ghcr.io/praekeltfoundation/vumi-base:latest".to_owned(),
                Run::GitTag
            ),
        ]
    );
    assert!(build.started.push && build.started.git_tag);
}

const CALLER: &str = r#"
on:
  push: { branches: [main] }
  workflow_dispatch:
env:
  REGISTRY: registry.example.com
jobs:
  base:
    uses: ./.github/workflows/build.yml
    with:
      image: base
  app:
    if: github.event_name == 'pull_request'
    uses: ./.github/workflows/build.yml
    with:
      image: never
  remote:
    uses: other/repo/.github/workflows/x.yml@v1
"#;

const CALLED: &str = r#"
on:
  workflow_call:
    inputs:
      image: { type: string, required: true }
      variant: { type: string, default: default }
env:
  OWNER: ${{ github.repository_owner }}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: ./.github/actions/build
        with:
          name: registry.example.com/${{ env.OWNER }}/${{ inputs.image }}
          variant: ${{ inputs.variant }}
      - run: docker push --all-tags registry.example.com/${{ env.OWNER }}/${{ inputs.image }}
"#;

const ACTION: &str = r#"
name: build
inputs:
  name: { required: true }
  variant: { default: x }
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        cd images
        docker build -t "${{ inputs.name }}" "${{ inputs.name == '' && 'none' || '.' }}" -f ../Dockerfile.${{ inputs.variant }}
        docker tag "${{ inputs.name }}" "${{ inputs.name }}:${{ inputs.variant }}"
"#;

/// Local reusable workflows get the caller's `with:` and their inputs' defaults; local
/// composite actions likewise; a job whose `if:` is false for the run is skipped; a
/// workflow of another repository is a question; `docker push --all-tags` of a name
/// pushes every tag a build gave it.
#[test]
fn reusable_workflows_and_composite_actions() {
    let reading = read(
        &files(&[
            (".github/workflows/ci.yml", CALLER),
            (".github/workflows/build.yml", CALLED),
            (".github/actions/build/action.yml", ACTION),
        ]),
        &repository("acme/images", "main"),
    );
    assert_eq!(reading.builds.len(), 1, "{:#?}", reading.builds);
    let build = &reading.builds[0];
    assert_eq!(
        tags(build),
        [
            "registry.example.com/acme/base:latest",
            "registry.example.com/acme/base:default"
        ]
    );
    assert_eq!(build.context.value(), Some("images"));
    assert_eq!(build.dockerfile.value(), Some("Dockerfile.default"));
    assert_eq!(build.pushed, Pushed::Yes);
    assert_eq!(build.job, "base / build");
    assert_eq!(build.started.dispatch.as_deref(), Some("ci.yml"));
    assert_eq!(reading.questions.len(), 1, "{:?}", reading.questions);
    assert!(reading.questions[0].text.contains("another repository"));
}

const MISC: &str = r#"
on: [push]
jobs:
  computed:
    strategy:
      matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}
    steps:
      - run: docker build -t x .
  v1:
    steps:
      - uses: docker/build-push-action@v1
        with:
          repository: org/legacy
          tags: 1.0,stable
          tag_with_ref: true
          dockerfile: docker/Dockerfile
  bake:
    steps:
      - uses: docker/bake-action@v5
  opaque:
    steps:
      - name: Publish images
        run: make push-images
  conditional:
    steps:
      - uses: docker/build-push-action@v6
        with:
          push: ${{ inputs.publish }}
          tags: org/app:${{ github.sha }}
"#;

#[test]
fn what_is_not_read_becomes_questions() {
    let reading = read(
        &files(&[(".github/workflows/misc.yml", MISC)]),
        &repository("org/x", "master"),
    );
    let questions: Vec<&str> = reading.questions.iter().map(|q| q.text.as_str()).collect();
    assert_eq!(questions.len(), 3, "{questions:#?}");
    assert!(questions[0].contains("computed when the workflow runs"));
    assert!(questions[1].contains("bake"));
    assert!(questions[2].contains("make push-images"));
    let v1 = &reading.builds[0];
    let distinct: std::collections::BTreeSet<String> = tags(v1).into_iter().collect();
    assert_eq!(
        distinct.into_iter().collect::<Vec<_>>(),
        [
            "org/legacy:1.0",
            "org/legacy:<pushed git tag>",
            "org/legacy:latest",
            "org/legacy:stable"
        ],
        "tag_with_ref: master is latest; a pushed tag is its name"
    );
    assert_eq!(v1.dockerfile.value(), Some("docker/Dockerfile"));
    assert_eq!(v1.pushed, Pushed::Yes);
    let conditional = &reading.builds[1];
    assert_eq!(
        conditional.pushed,
        Pushed::No,
        "inputs are null on a push: push is false"
    );
    assert!(
        tags(conditional)
            .iter()
            .all(|t| t == "org/app:${{ github.sha }}")
    );
}

#[test]
fn only_top_level_workflow_files_are_workflows() {
    assert!(is_workflow(".github/workflows/a.yml"));
    assert!(is_workflow(".github/workflows/b.yaml"));
    assert!(!is_workflow(".github/workflows/sub/c.yml"));
    assert!(!is_workflow(".github/actions/x/action.yml"));
}

/// No input makes a reader panic: every prefix of the fixtures (cut anywhere, so
/// quotes, expressions and blocks end early) is read.
#[test]
fn cut_files_are_read_without_panics() {
    let repository = repository("a/b", "main");
    let mut read_count = 0;
    for text in [PY_BASE, DJANGO, VUMI, CALLER, CALLED, ACTION, MISC] {
        let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).step_by(5).collect();
        for cut in cuts {
            let files = files(&[
                (".github/workflows/x.yml", &text[..cut]),
                (".github/actions/build/action.yml", &text[..cut]),
            ]);
            let _ = read(&files, &repository);
            let _ = crate::ci::gitlab::read(
                &[File {
                    path: crate::ci::gitlab::FILE.to_owned(),
                    text: text[..cut].to_owned(),
                }],
                &repository,
            );
            let _ = crate::ci::shell::commands(&text[..cut], &mut crate::ci::shell::Env::new());
            read_count += 1;
        }
    }
    assert!(read_count > 1000, "{read_count}");
}

/// Random edits of the fixtures (a fixed-seed generator, so a failure reproduces): the
/// characters YAML, shells and expressions care about, inserted anywhere, never panic a
/// reader.
#[test]
fn mutated_files_are_read_without_panics() {
    const ALPHABET: &[char] = &[
        '$', '{', '}', '(', ')', '[', ']', '\'', '"', '\\', '`', ':', '-', '|', '>', '&', ';', '#',
        '\n', ' ', '*', '%', '!', '=', '<', ',', 'é', '\u{E000}',
    ];
    let mut state: u64 = 0x5eed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let repository = repository("a/b", "main");
    let mut runs = 0;
    for text in [PY_BASE, DJANGO, VUMI, CALLER, CALLED, ACTION, MISC] {
        for _ in 0..150 {
            let mut chars: Vec<char> = text.chars().collect();
            for _ in 0..1 + next() % 8 {
                let at = (next() % (chars.len() as u64 + 1)) as usize;
                let c = ALPHABET[(next() % ALPHABET.len() as u64) as usize];
                chars.insert(at.min(chars.len()), c);
            }
            let mutated: String = chars.into_iter().collect();
            let files = files(&[
                (".github/workflows/x.yml", &mutated),
                (".github/workflows/build.yml", &mutated),
                (".github/actions/build/action.yml", &mutated),
            ]);
            let _ = read(&files, &repository);
            let _ = crate::ci::gitlab::read(
                &[File {
                    path: crate::ci::gitlab::FILE.to_owned(),
                    text: mutated.clone(),
                }],
                &repository,
            );
            let _ = crate::ci::shell::commands(&mutated, &mut crate::ci::shell::Env::new());
            let _ = expr::evaluate(&mutated, &Value::open_object(Vec::new()));
            runs += 1;
        }
    }
    assert_eq!(runs, 7 * 150);
}
