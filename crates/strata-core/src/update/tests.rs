use std::collections::HashMap;

use super::*;
use crate::extract::{compose, dockerfile, kubernetes};
use crate::occurrence::Extraction;
use crate::rewrite::apply;

fn d(n: u64) -> Digest {
    format!("sha256:{n:064x}").parse().unwrap()
}

fn at(n: u64) -> String {
    format!("@sha256:{n:064x}")
}

fn dockerfile(text: &str) -> Extraction {
    dockerfile::extract(text, &dockerfile::Options::default())
}

/// Current digests by familiar `name:tag`; anything else fails with that key.
fn lookup<'a>(
    table: &'a HashMap<&str, Digest>,
) -> impl FnMut(usize, &Occurrence) -> Result<Digest, String> + 'a {
    |_, occurrence| {
        let key = occurrence.reference.without_digest().familiar_string();
        table.get(key.as_str()).cloned().ok_or(key)
    }
}

/// Decides and applies; returns the new text and each decision as a short code.
fn run(text: &str, occurrences: &[Occurrence], table: &[(&str, u64)]) -> (String, Vec<String>) {
    let table: HashMap<&str, Digest> = table.iter().map(|(k, n)| (*k, d(*n))).collect();
    let decisions = decide(text, occurrences, lookup(&table));
    let out = apply(text, &edits(&decisions)).unwrap();
    let codes = decisions
        .iter()
        .map(|decision| match decision {
            Decision::Update(m) => format!("update {}", m.after),
            Decision::Current => "current".to_owned(),
            Decision::NotPinned => "not-pinned".to_owned(),
            Decision::Skip(reason) => reason.code().to_owned(),
            Decision::Failed(key) => format!("failed {key}"),
        })
        .collect();
    (out, codes)
}

#[test]
fn only_the_digest_of_a_moved_pin_changes() {
    let text = format!(
        "# syntax=docker/dockerfile:1{}\n\
         ARG BASE=python:3.12{}\n\
         FROM $BASE AS build\n\
         FROM ghcr.io/acme/app:1.4{} AS app\n\
         COPY --from=busybox:1.36{} /bin/sh /sh\n\
         FROM alpine:3.20\n\
         FROM build\n",
        at(1),
        at(2),
        at(3),
        at(4)
    );
    let table = [
        ("docker/dockerfile:1", 1),
        ("python:3.12", 12),
        ("ghcr.io/acme/app:1.4", 13),
        ("busybox:1.36", 4),
    ];
    let (out, codes) = run(&text, &dockerfile(&text).occurrences, &table);
    let expected = text.replace(&at(2), &at(12)).replace(&at(3), &at(13));
    assert_eq!(out, expected);
    assert_eq!(
        codes,
        [
            "current".to_owned(),
            format!("update python:3.12{}", at(12)),
            format!("update ghcr.io/acme/app:1.4{}", at(13)),
            "current".to_owned(),
            "not-pinned".to_owned(),
        ]
    );
}

#[test]
fn a_move_records_both_digests_and_replaces_exactly_the_old_bytes() {
    let text = format!("FROM python:3.12{}\r\n", at(1));
    let occurrences = dockerfile(&text).occurrences;
    let decisions = decide(&text, &occurrences, |_, _| Ok::<_, String>(d(2)));
    let Decision::Update(m) = &decisions[0] else {
        panic!("{decisions:?}")
    };
    assert_eq!((m.from.clone(), m.to.clone()), (d(1), d(2)));
    assert_eq!(&text[m.edit.span.clone()], d(1).as_str());
    assert_eq!(m.before, format!("python:3.12{}", at(1)));
    assert_eq!(m.after, format!("python:3.12{}", at(2)));
}

#[test]
fn a_second_run_after_the_update_finds_everything_current() {
    let text = format!("FROM python:3.12{}\nFROM node:20{}\n", at(1), at(2));
    let table = [("python:3.12", 5), ("node:20", 6)];
    let (once, _) = run(&text, &dockerfile(&text).occurrences, &table);
    let (twice, codes) = run(&once, &dockerfile(&once).occurrences, &table);
    assert_eq!(once, twice);
    assert_eq!(codes, ["current", "current"]);
}

#[test]
fn yaml_shapes_update_in_place_keeping_quotes_and_anchors() {
    let compose_text = format!(
        "services:\n  a:\n    image: &img \"redis:7{}\"\n  b:\n    image: *img\n  \
         db:\n    image: 'postgres:${{PG:-16}}{}'\n",
        at(1),
        at(2)
    );
    let extraction = compose::extract(&compose_text, &|_| None);
    let (out, codes) = run(
        &compose_text,
        &extraction.occurrences,
        &[("redis:7", 7), ("postgres:16", 8)],
    );
    assert_eq!(
        out,
        compose_text.replace(&at(1), &at(7)).replace(&at(2), &at(8))
    );
    assert_eq!(
        codes[0], codes[1],
        "the anchor and its alias share one edit"
    );

    let pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    \
         - name: c\n      image: nginx:1.27{}\n",
        at(3)
    );
    let extraction = kubernetes::extract(&pod, &|_| None);
    let (out, _) = run(&pod, &extraction.occurrences, &[("nginx:1.27", 9)]);
    assert_eq!(out, pod.replace(&at(3), &at(9)));
}

#[test]
fn unpinned_digest_only_built_here_and_blocked_are_never_looked_up() {
    let text = format!(
        "ARG TAG=3.12{}\nFROM python:${{TAG}} AS a\nARG TAG\nFROM alpine@sha256:{}\nFROM debian:12\n",
        at(1),
        "0".repeat(64)
    );
    let extraction = dockerfile(&text);
    let decisions = decide(
        &text,
        &extraction.occurrences,
        |_, o| -> Result<Digest, String> { panic!("looked up {}", o.text) },
    );
    let codes: Vec<_> = decisions
        .iter()
        .map(|x| match x {
            Decision::Skip(reason) => reason.code(),
            Decision::NotPinned => "not-pinned",
            _ => "other",
        })
        .collect();
    assert_eq!(codes, ["shared-arg", "digest-only", "not-pinned"]);

    let compose_text = "services:\n  app:\n    build: .\n    image: acme/app:1\n";
    let extraction = compose::extract(compose_text, &|_| None);
    let (_, codes) = run(compose_text, &extraction.occurrences, &[]);
    assert_eq!(codes, ["built-here"]);
}

#[test]
fn a_digest_not_written_at_the_end_of_the_span_is_unrewritable() {
    let text = format!("FROM python:3.12{}\n", at(1));
    let mut occurrences = dockerfile(&text).occurrences;
    occurrences[0].span.end -= 1;
    let (out, codes) = run(&text, &occurrences, &[("python:3.12", 2)]);
    assert_eq!(out, text);
    assert_eq!(codes, ["unrewritable"]);
}

#[test]
fn shared_bytes_wanting_different_updates_are_all_refused() {
    let text = format!("FROM python:3.12{}\n", at(1));
    let mut occurrences = dockerfile(&text).occurrences;
    occurrences.push(occurrences[0].clone());
    let mut n = 1;
    let decisions = decide(&text, &occurrences, |_, _| {
        n += 1;
        Ok::<_, String>(d(n))
    });
    assert!(
        decisions
            .iter()
            .all(|x| *x == Decision::Skip(SkipReason::ConflictingPins)),
        "{decisions:?}"
    );
    // One current, one moved: the moved one cannot be written without the other.
    let decisions = decide(&text, &occurrences, |i, _| {
        Ok::<_, String>(if i == 0 { d(1) } else { d(2) })
    });
    assert_eq!(decisions[0], Decision::Current);
    assert_eq!(decisions[1], Decision::Skip(SkipReason::ConflictingPins));
}

#[test]
fn an_edit_overlapping_another_span_is_refused() {
    let text = format!("FROM python:3.12{}\n", at(1));
    let occurrences = dockerfile(&text).occurrences;
    let digest_start = text.find("sha256").unwrap();
    for span in [0..text.len(), digest_start + 3..digest_start + 10] {
        let mut other = occurrences[0].clone();
        other.span = span.clone();
        other.reference = Reference::parse_normalized("other:1").unwrap();
        let both = vec![occurrences[0].clone(), other];
        let decisions = decide(&text, &both, |i, _| {
            Ok::<_, String>(if i == 0 { d(2) } else { d(3) })
        });
        assert_eq!(
            decisions[0],
            Decision::Skip(SkipReason::ConflictingPins),
            "{span:?}"
        );
    }
}

#[test]
fn failed_lookups_leave_their_text_and_others_move() {
    let text = format!(
        "FROM python:3.12{}\nFROM ghcr.io/o/gone:1{}\n",
        at(1),
        at(2)
    );
    let (out, codes) = run(&text, &dockerfile(&text).occurrences, &[("python:3.12", 3)]);
    assert_eq!(out, text.replacen(&at(1), &at(3), 1));
    assert_eq!(codes[1], "failed ghcr.io/o/gone:1");
}

fn found(file: usize, base: &str, from: u64, to: u64) -> Found {
    Found {
        file,
        base: Reference::parse_normalized(base).unwrap(),
        from: d(from),
        to: d(to),
    }
}

#[test]
fn moves_group_per_base_with_every_file_and_old_digest() {
    let groups = group(
        [
            found(2, "debian:bookworm", 1, 9),
            found(0, "debian:bookworm", 2, 9),
            found(1, "ghcr.io/acme/app:1.4", 3, 8),
            found(2, "debian:bookworm", 1, 9),
        ],
        Grouping::Base,
    );
    assert_eq!(groups.len(), 2);
    let debian = &groups[0];
    assert_eq!(debian.key, "docker.io/library/debian:bookworm");
    assert_eq!(debian.branch, "strata/debian-bookworm");
    assert_eq!(debian.moves[0].from, [d(1), d(2)]);
    assert_eq!(debian.moves[0].files, [0, 2]);
    assert_eq!(debian.title(), "Update debian:bookworm to sha256:00000000…");
    assert_eq!(debian.branch_prefix(), "strata/debian-");
    assert_eq!(groups[1].branch, "strata/ghcr.io-acme-app-1.4");
    assert_eq!(groups[1].branch_prefix(), "strata/ghcr.io-acme-app-");
}

#[test]
fn moves_group_per_repository_on_one_branch() {
    let groups = group(
        [
            found(1, "python:3.12-slim", 1, 2),
            found(0, "debian:bookworm", 3, 4),
        ],
        Grouping::Repository,
    );
    assert_eq!(groups.len(), 1);
    let all = &groups[0];
    assert_eq!(
        (all.key.as_str(), all.branch.as_str()),
        (REPOSITORY_GROUP, REPOSITORY_BRANCH)
    );
    assert_eq!(all.moves.len(), 2);
    assert_eq!(all.files(), [0, 1]);
    assert_eq!(all.title(), "Update 2 base images");
    assert_eq!(all.branch_prefix(), "strata/");
    assert!(group([], Grouping::Repository).is_empty());
}

#[test]
fn branch_names_are_stable_and_valid_git_refs() {
    let cases = [
        ("python:3.12-slim", "strata/python-3.12-slim"),
        ("ghcr.io/acme/app:1.4", "strata/ghcr.io-acme-app-1.4"),
        ("acme/app:latest", "strata/acme-app-latest"),
        (
            "localhost:5000/team/app:v1",
            "strata/localhost-5000-team-app-v1",
        ),
        ("example.com/a/b:1..2", "strata/example.com-a-b-1.2"),
        ("example.com/x:v.lock", "strata/example.com-x-v-lock"),
        (
            "registry.example.com/x:Tag_1.",
            "strata/registry.example.com-x-Tag_1",
        ),
    ];
    for (reference, branch) in cases {
        let base = Reference::parse_normalized(reference).unwrap();
        assert_eq!(base_branch(&base), branch, "{reference}");
    }
    for (text, component) in [
        ("..a", "a"),
        ("-a", "a"),
        ("a b~c^d:e?f*g[h\\i@{j", "a-b-c-d-e-f-g-h-i--j"),
        ("", "image"),
        ("...", "image"),
        ("é", "image"),
    ] {
        assert_eq!(ref_component(text), component, "{text:?}");
    }
}

#[test]
fn short_digests_keep_eight_hex_digits() {
    let digest: Digest = format!("sha256:abcd1234{}", "f".repeat(56))
        .parse()
        .unwrap();
    assert_eq!(short_digest(&digest), "sha256:abcd1234…");
}
