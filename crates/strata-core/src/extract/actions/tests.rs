use super::*;

fn run(text: &str) -> Extraction {
    let out = extract(text, &|_| None);
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

#[test]
fn files_without_jobs_yield_nothing() {
    let text = "name: x\non: push\nruns:\n  using: docker\n  image: docker://alpine\n";
    let out = run(text);
    assert!(out.occurrences.is_empty() && out.skips.is_empty());
}
