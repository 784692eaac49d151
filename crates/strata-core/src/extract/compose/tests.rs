use super::*;

fn vars(name: &str) -> Option<String> {
    match name {
        "TAG" => Some("3.12".to_owned()),
        "EMPTY" => Some(String::new()),
        "ARCH" => Some("arm64".to_owned()),
        _ => None,
    }
}

fn run(text: &str) -> Extraction {
    let out = extract(text, &vars);
    for occurrence in out.occurrences.iter().filter(|o| o.blocked.is_none()) {
        assert_eq!(&text[occurrence.span.clone()], occurrence.text, "{text:?}");
    }
    out
}

/// `(text, reference)` of every occurrence.
fn found(out: &Extraction) -> Vec<(&str, String)> {
    out.occurrences
        .iter()
        .map(|o| (o.text.as_str(), o.reference.to_string()))
        .collect()
}

#[test]
fn service_images_are_found_with_their_positions() {
    let text = "services:\n  web:\n    image: nginx:1.27\n  db:\n    image: \"postgres:16\"\n";
    let out = run(text);
    assert!(out.errors.is_empty() && out.skips.is_empty());
    assert_eq!(
        found(&out),
        [
            ("nginx:1.27", "docker.io/library/nginx:1.27".to_owned()),
            ("postgres:16", "docker.io/library/postgres:16".to_owned())
        ]
    );
    let db = &out.occurrences[1];
    assert_eq!((db.line, db.column), (5, 13));
    assert_eq!(db.source, Source::Compose);
    assert_eq!(db.role, Role::Uses);
}

#[test]
fn variables_expand_into_the_reference_but_not_the_text() {
    let text =
        "services:\n  a:\n    image: python:${TAG}\n  b:\n    image: python:${NOPE:-3.11}-slim\n";
    let out = run(text);
    assert_eq!(
        found(&out),
        [
            ("python:${TAG}", "docker.io/library/python:3.12".to_owned()),
            (
                "python:${NOPE:-3.11}-slim",
                "docker.io/library/python:3.11-slim".to_owned()
            )
        ]
    );
}

#[test]
fn unset_variables_without_default_are_skipped_by_name() {
    let text = "services:\n  a:\n    image: registry/${OWNER}/app:${TAG}\n  b:\n    image: app:${EMPTY:?required}\n";
    let out = run(text);
    assert!(out.occurrences.is_empty());
    let skips: Vec<_> = out
        .skips
        .iter()
        .map(|s| (s.line, s.reason.clone()))
        .collect();
    assert_eq!(
        skips,
        [
            (
                3,
                SkipReason::UnresolvedVariable {
                    name: "OWNER".to_owned()
                }
            ),
            (
                5,
                SkipReason::UnresolvedVariable {
                    name: "EMPTY".to_owned()
                }
            )
        ]
    );
}

#[test]
fn build_with_image_produces_the_image() {
    let text = "services:\n  app:\n    build: .\n    image: ghcr.io/org/app:dev\n  base:\n    build:\n    image: x:1\n";
    let out = run(text);
    let roles: Vec<Role> = out.occurrences.iter().map(|o| o.role).collect();
    assert_eq!(roles, [Role::Produces, Role::Uses]);
}

#[test]
fn platform_is_expanded_onto_the_occurrence() {
    let text = "services:\n  a:\n    platform: linux/${ARCH}\n    image: alpine:3\n";
    let out = run(text);
    assert_eq!(out.occurrences[0].platform.as_deref(), Some("linux/arm64"));
}

#[test]
fn extension_fields_and_non_services_are_ignored() {
    let text = "x-common: {image: ignored:1}\nservices:\n  x-template: {image: ignored:2}\n  web: {image: used:1}\n  odd: [image]\n  none:\nvolumes: {image: {}}\n";
    let out = run(text);
    assert_eq!(
        found(&out),
        [("used:1", "docker.io/library/used:1".to_owned())]
    );
}

#[test]
fn anchors_and_merge_keys_share_the_anchored_span() {
    let text = "x-base: &base\n  image: redis:7\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n    command: x\n";
    let out = run(text);
    assert_eq!(out.occurrences.len(), 2);
    assert_eq!(out.occurrences[0].span, out.occurrences[1].span);
    assert_eq!(out.occurrences[0].line, 2);
}

#[test]
fn invalid_values_are_skips_and_bad_templates_are_errors() {
    let text = "services:\n  a:\n    image: Not_Valid:!!\n  b:\n    image: app:$1\n  c:\n    image: {x: 1}\n  d:\n    image: \"nginx\\t\"\n";
    let out = run(text);
    assert!(out.occurrences.is_empty());
    let codes: Vec<(usize, &str)> = out
        .skips
        .iter()
        .map(|s| (s.line, s.reason.code()))
        .collect();
    assert_eq!(
        codes,
        [
            (3, "invalid-reference"),
            (7, "invalid-reference"),
            (9, "invalid-reference")
        ]
    );
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].line, 5);
}

#[test]
fn escaped_values_are_blocked_as_unrewritable() {
    let text = "services:\n  a:\n    image: \"ngin\\x78:1\"\n";
    let out = extract(text, &vars);
    let occurrence = &out.occurrences[0];
    assert_eq!(occurrence.text, "nginx:1");
    assert_eq!(&text[occurrence.span.clone()], "\"ngin\\x78:1\"");
    assert_eq!(
        occurrence.blocked.as_ref().map(SkipReason::code),
        Some("unrewritable")
    );
}

#[test]
fn crlf_and_non_ascii_keep_exact_spans() {
    let text = "# café ☕\r\nservices:\r\n  wëb:\r\n    image: 'nginx:1.27'\r\n";
    let out = run(text);
    assert_eq!(out.occurrences.len(), 1);
    assert_eq!(
        (out.occurrences[0].line, out.occurrences[0].column),
        (4, 13)
    );
}

#[test]
fn syntax_errors_are_reported_and_other_documents_still_read() {
    let text = "services: [\n---\nservices:\n  a: {image: alpine}\n";
    let out = run(text);
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.occurrences.len(), 1);
}
