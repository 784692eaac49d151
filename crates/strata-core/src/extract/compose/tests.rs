use std::collections::BTreeSet;

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

/// A `$` that starts no variable stays as written (compose-go `TestUnescaped`), so
/// `app:$1` is an invalid reference, not a template error; `${}` is invalid
/// (`TestInvalid`) and compose rejects the file.
#[test]
fn invalid_values_are_skips_and_bad_templates_are_errors() {
    let text = "services:\n  a:\n    image: Not_Valid:!!\n  b:\n    image: app:$1\n  c:\n    image: {x: 1}\n  d:\n    image: \"nginx\\t\"\n  e:\n    image: app:${}\n";
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
            (5, "invalid-reference"),
            (7, "invalid-reference"),
            (9, "invalid-reference")
        ]
    );
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].line, 11);
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

fn codes(out: &Extraction) -> Vec<(usize, &'static str)> {
    out.skips
        .iter()
        .map(|s| (s.line, s.reason.code()))
        .collect()
}

/// The compose specification dropped the version-1 format (services at the top level);
/// docker compose v2 rejects such a file. Its images are said, not dropped; documents that
/// are valid without `services:` (only `include:`, only networks) are not version 1.
#[test]
fn legacy_version_1_files_are_compose_v1_skips() {
    let v1 = "web:\n  build: .\n  links: [db]\ndb:\n  image: postgres:9.6\nredis:\n  image: redis\nx-common: {image: not-a-service}\n";
    let out = run(v1);
    assert!(out.occurrences.is_empty());
    assert_eq!(codes(&out), [(5, "compose-v1"), (7, "compose-v1")]);
    assert_eq!(out.skips[0].text, "postgres:9.6");
    for valid in [
        "include:\n  - other.yaml\n",
        "networks:\n  front: {}\nvolumes:\n  data:\n",
        "version: '3.8'\nname: x\n",
        "",
    ] {
        let out = run(valid);
        assert!(out.skips.is_empty() && out.errors.is_empty(), "{valid:?}");
    }
}

fn links(text: &str) -> (Read, Vec<Link>) {
    let read = read(text, &vars, Services::All);
    let links = read.links.clone();
    (read, links)
}

/// compose-go `loader/include.go`: an item is a path or `{path, project_directory,
/// env_file}`, with `path` and `env_file` one string or a list; values are interpolated
/// first (the whole model is). Remote resources are not read by strata.
#[test]
fn include_items_become_links() {
    let text = "\
include:
  - common/compose.yaml
  - path: [../db/compose.yaml, '../db/override-${TAG}.yaml']
    project_directory: ../db
    env_file: ../db/.env.test
  - path: cache.yaml
    env_file: [a.env, b.env]
  - oci://registry.example.com/stack:1
  - path: ${NOPE}/x.yaml
  - git@github.com:org/stack.git
services:
  web: {image: nginx:1}
";
    let (read, links) = links(text);
    assert_eq!(
        links,
        [
            Link::Include {
                line: 2,
                paths: vec!["common/compose.yaml".to_owned()],
                project_directory: None,
                env_files: vec![],
            },
            Link::Include {
                line: 3,
                paths: vec![
                    "../db/compose.yaml".to_owned(),
                    "../db/override-3.12.yaml".to_owned()
                ],
                project_directory: Some("../db".to_owned()),
                env_files: vec!["../db/.env.test".to_owned()],
            },
            Link::Include {
                line: 6,
                paths: vec!["cache.yaml".to_owned()],
                project_directory: None,
                env_files: vec!["a.env".to_owned(), "b.env".to_owned()],
            },
        ]
    );
    assert_eq!(
        codes(&read.extraction),
        [
            (8, "not-followed"),
            (9, "unresolved-variable"),
            (10, "not-followed")
        ]
    );
    assert_eq!(read.extraction.occurrences.len(), 1);
    let (read, links) = self::links("include: other.yaml\nservices: {}\n");
    assert!(links.is_empty());
    assert_eq!(read.extraction.errors.len(), 1);
    assert_eq!(read.extraction.errors[0].line, 1);
}

/// compose-go `loader/extends.go`: `extends` is a service name or `{service, file}`;
/// `service` is required; a base in the same file must exist. Only another file is a link.
#[test]
fn extends_names_a_link_only_for_another_file() {
    let text = "\
services:
  base:
    image: python:3.12
  web:
    extends: base
  api:
    extends:
      service: base
  worker:
    extends:
      file: ../common/services.yml
      service: worker-${TAG}
  broken:
    extends:
      file: x.yml
  lost:
    extends: nowhere
";
    let (read, links) = links(text);
    assert_eq!(
        links,
        [Link::Extends {
            line: 10,
            file: "../common/services.yml".to_owned(),
            service: "worker-3.12".to_owned(),
        }]
    );
    // The base's image is reported once, on its own line.
    assert_eq!(found(&read.extraction).len(), 1);
    let errors: Vec<(usize, &str)> = read
        .extraction
        .errors
        .iter()
        .map(|e| (e.line, e.message.as_str()))
        .collect();
    assert_eq!(
        errors,
        [
            (14, "extends.broken.service is required"),
            (
                17,
                "cannot extend service \"lost\": service \"nowhere\" not found"
            )
        ]
    );
}

/// A file another file `extends` from gives only the extended services and, within the
/// file, the services they extend in turn; its own `include` is not read (compose-go loads
/// it with `SkipInclude`).
#[test]
fn only_the_extended_services_and_their_bases_are_read() {
    let text = "\
include: [more.yaml]
services:
  unused:
    image: redis:7
  base:
    image: python:3.12
  web:
    extends: base
    environment: {A: 1}
  worker:
    extends: {file: deeper.yaml, service: core}
";
    let wanted: BTreeSet<String> = ["web".to_owned(), "worker".to_owned()].into();
    let read = read(text, &vars, Services::Only(&wanted));
    assert_eq!(
        found(&read.extraction),
        [("python:3.12", "docker.io/library/python:3.12".to_owned())]
    );
    assert_eq!(
        read.links,
        [Link::Extends {
            line: 11,
            file: "deeper.yaml".to_owned(),
            service: "core".to_owned(),
        }]
    );
    let all: Vec<&str> = read.services.iter().map(String::as_str).collect();
    assert_eq!(all, ["base", "unused", "web", "worker"]);
}

#[test]
fn obvious_placeholders_are_said() {
    let text = "services:\n  a:\n    image: gcr.io/<PROJECT_ID>/app:1\n  b:\n    image: registry/app:$$TAG\n";
    let out = run(text);
    let skips: Vec<(usize, &str, String)> = out
        .skips
        .iter()
        .map(|s| (s.line, s.reason.code(), s.reason.message()))
        .collect();
    assert_eq!(skips[0].1, "placeholder");
    assert!(skips[0].2.contains("<PROJECT_ID>"), "{skips:?}");
    assert_eq!((skips[1].0, skips[1].1), (5, "placeholder"));
}
