use super::*;

fn run(text: &str) -> Extraction {
    check(text, extract(text, &|_| None))
}

fn action(text: &str) -> Extraction {
    check(text, extract_action(text, &|_| None))
}

fn check(text: &str, out: Extraction) -> Extraction {
    for occurrence in &out.occurrences {
        if occurrence.blocked.is_none() {
            assert_eq!(&text[occurrence.span.clone()], occurrence.text, "{text:?}");
        }
        assert_eq!(occurrence.source, Source::Actions);
    }
    out
}

fn found(out: &Extraction) -> Vec<(usize, &str)> {
    out.occurrences
        .iter()
        .map(|o| (o.line, o.text.as_str()))
        .collect()
}

#[test]
fn container_as_string_and_as_mapping() {
    let text = "jobs:\n  a:\n    container: node:20\n  b:\n    container:\n      image: 'python:3.12'\n      options: --cpus 1\n";
    assert_eq!(found(&run(text)), [(3, "node:20"), (6, "python:3.12")]);
}

#[test]
fn service_images_are_found() {
    let text = "jobs:\n  t:\n    services:\n      db:\n        image: postgres:16\n        ports: [5432]\n      cache:\n        image: redis:7\n";
    assert_eq!(found(&run(text)), [(5, "postgres:16"), (8, "redis:7")]);
}

#[test]
fn docker_steps_span_only_the_image() {
    let text = "jobs:\n  t:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: docker://alpine:3.20\n      - uses: \"docker://ghcr.io/org/tool@sha256:0000000000000000000000000000000000000000000000000000000000000000\"\n      - run: echo hi\n";
    let out = run(text);
    assert_eq!(out.occurrences.len(), 2);
    let first = &out.occurrences[0];
    assert_eq!(
        (first.line, first.column, first.text.as_str()),
        (5, 24, "alpine:3.20")
    );
    assert_eq!(out.occurrences[1].reference.domain(), "ghcr.io");
}

#[test]
fn expressions_are_templated_skips() {
    let text = "jobs:\n  t:\n    container: ${{ matrix.image }}\n    services:\n      db:\n        image: postgres:${{ matrix.pg }}\n";
    let out = run(text);
    assert!(out.occurrences.is_empty());
    let skips: Vec<(usize, &str)> = out
        .skips
        .iter()
        .map(|s| (s.line, s.reason.code()))
        .collect();
    assert_eq!(skips, [(3, "templated"), (6, "templated")]);
}

#[test]
fn empty_images_turn_containers_off() {
    let text = "jobs:\n  t:\n    container: ''\n    services:\n      db:\n        image: ''\n      other:\n        image:\n";
    let out = run(text);
    assert!(out.occurrences.is_empty() && out.skips.is_empty() && out.errors.is_empty());
}

#[test]
fn invalid_images_are_skips() {
    let text = "jobs:\n  t:\n    container: {image: [x]}\n    steps:\n      - uses: docker://\n      - uses: docker://Alpine:3\n";
    let out = run(text);
    let skips: Vec<(usize, &str)> = out
        .skips
        .iter()
        .map(|s| (s.line, s.reason.code()))
        .collect();
    assert_eq!(
        skips,
        [
            (3, "invalid-reference"),
            (5, "invalid-reference"),
            (6, "invalid-reference")
        ]
    );
}

/// The runner's schema (`workflow-v1.0.json`): `services-container` is `one-of:
/// non-empty-string, service-container-mapping`, and `container` is `one-of: string,
/// container-mapping`.
#[test]
fn services_and_containers_written_as_strings() {
    let text = "jobs:\n  t:\n    container: node:20\n    services:\n      db: postgres:16\n      cache: 'redis:7'\n      mq:\n        image: rabbitmq:3\n";
    assert_eq!(
        found(&run(text)),
        [
            (3, "node:20"),
            (5, "postgres:16"),
            (6, "redis:7"),
            (8, "rabbitmq:3")
        ]
    );
}

/// `uses: DOCKER://x` is not an image step: the runner's `PipelineTemplateConverter` tests
/// the `docker://` prefix with `StringComparison.Ordinal`.
#[test]
fn step_scheme_is_case_sensitive() {
    let text = "jobs:\n  t:\n    steps:\n      - uses: DOCKER://alpine:3\n";
    let out = run(text);
    assert!(out.occurrences.is_empty() && out.skips.is_empty());
}

/// GitHub's metadata syntax for a Docker container action, as the runner's `ActionManager`
/// reads it: `runs.image` ending in `Dockerfile` is built, `docker://` (any case) is pulled,
/// anything else is refused. A composite action's steps may run images.
#[test]
fn action_metadata_images() {
    // (metadata, images found as (line, text), errors)
    type Case<'a> = (&'a str, &'a [(usize, &'a str)], usize);
    let cases: &[Case<'_>] = &[
        (
            "name: x\nruns:\n  using: docker\n  image: docker://alpine:3.20\n",
            &[(4, "alpine:3.20")],
            0,
        ),
        (
            "runs:\n  using: 'Docker'\n  image: 'Docker://ghcr.io/org/tool:1'\n  args: [a]\n",
            &[(3, "ghcr.io/org/tool:1")],
            0,
        ),
        ("runs:\n  using: docker\n  image: Dockerfile\n", &[], 0),
        (
            "runs:\n  using: docker\n  image: build/dockerfile\n",
            &[],
            0,
        ),
        ("runs:\n  using: docker\n  image: alpine:3\n", &[], 1),
        ("runs:\n  using: docker\n", &[], 1),
        (
            "runs:\n  using: node20\n  main: index.js\n  image: docker://x:1\n",
            &[],
            0,
        ),
        (
            "runs:\n  using: composite\n  steps:\n    - run: echo\n      shell: bash\n    - uses: docker://busybox:1.36\n",
            &[(6, "busybox:1.36")],
            0,
        ),
    ];
    for (text, want, errors) in cases {
        let out = action(text);
        assert_eq!(found(&out), *want, "{text}");
        assert_eq!(out.errors.len(), *errors, "{text}: {:?}", out.errors);
    }
    let out = action("runs:\n  using: docker\n  image: docker://${{ inputs.image }}\n");
    assert_eq!(out.skips[0].reason, SkipReason::Templated);
    // A workflow is not action metadata, and the other way round.
    let workflow = "jobs:\n  t:\n    container: node:20\n";
    assert!(action(workflow).occurrences.is_empty());
}

#[test]
fn files_without_jobs_yield_nothing() {
    let text = "name: x\non: push\nruns:\n  using: docker\n  image: docker://alpine\n";
    let out = run(text);
    assert!(out.occurrences.is_empty() && out.skips.is_empty());
}
