use std::collections::HashMap;

use super::*;
use crate::extract::{compose, dockerfile};
use crate::occurrence::Extraction;
use crate::rewrite::apply;

fn d(n: u64) -> Digest {
    format!("sha256:{n:064x}").parse().unwrap()
}

fn dockerfile(text: &str) -> Extraction {
    dockerfile::extract(text, &dockerfile::Options::default())
}

/// Digests by familiar `name:tag`; anything else fails with the reference text.
fn lookup<'a>(
    table: &'a HashMap<&str, Digest>,
) -> impl FnMut(usize, &Occurrence) -> Result<Digest, String> + 'a {
    |_, occurrence| {
        let key = occurrence.reference.familiar_string();
        let key = if occurrence.reference.tag().is_none() {
            format!("{key}:latest")
        } else {
            key
        };
        table.get(key.as_str()).cloned().ok_or(key)
    }
}

/// Decides and applies; returns the new text and the decisions' codes.
fn run(text: &str, occurrences: &[Occurrence], table: &[(&str, u64)]) -> (String, Vec<String>) {
    let table: HashMap<&str, Digest> = table.iter().map(|(k, n)| (*k, d(*n))).collect();
    let decisions = decide(text, occurrences, lookup(&table));
    let out = apply(text, &edits(&decisions)).unwrap();
    let codes = decisions
        .iter()
        .map(|decision| match decision {
            Decision::Pin(pin) => format!("pin {}", pin.after),
            Decision::AlreadyPinned => "already-pinned".to_owned(),
            Decision::Skip(reason) => reason.code().to_owned(),
            Decision::Failed(key) => format!("failed {key}"),
        })
        .collect();
    (out, codes)
}

fn at(n: u64) -> String {
    format!("@sha256:{n:064x}")
}

#[test]
fn every_dockerfile_shape_gets_exactly_its_insertion() {
    let text = "# syntax=docker/dockerfile:1\n\
                ARG BASE=python:3.12\n\
                ARG PY_TAG=3.12-slim\n\
                FROM $BASE AS build\n\
                FROM --platform=linux/arm64 python:${PY_TAG} AS slim\n\
                FROM alpine\n\
                COPY --from=busybox:1.36 /bin/sh /sh\n\
                RUN --mount=type=bind,from=golang:1.22,target=/go true\n\
                FROM build\n\
                FROM scratch\n";
    let table = [
        ("docker/dockerfile:1", 1),
        ("python:3.12", 2),
        ("python:3.12-slim", 3),
        ("alpine:latest", 4),
        ("busybox:1.36", 5),
        ("golang:1.22", 6),
    ];
    let (out, codes) = run(text, &dockerfile(text).occurrences, &table);
    let expected = format!(
        "# syntax=docker/dockerfile:1{}\n\
         ARG BASE=python:3.12{}\n\
         ARG PY_TAG=3.12-slim{}\n\
         FROM $BASE AS build\n\
         FROM --platform=linux/arm64 python:${{PY_TAG}} AS slim\n\
         FROM alpine:latest{}\n\
         COPY --from=busybox:1.36{} /bin/sh /sh\n\
         RUN --mount=type=bind,from=golang:1.22{},target=/go true\n\
         FROM build\n\
         FROM scratch\n",
        at(1),
        at(2),
        at(3),
        at(4),
        at(5),
        at(6)
    );
    assert_eq!(out, expected);
    assert_eq!(codes.len(), 6, "{codes:?}");
    assert!(codes.iter().all(|c| c.starts_with("pin ")), "{codes:?}");
    assert_eq!(codes[2], format!("pin 3.12-slim{}", at(3)));
}

#[test]
fn a_second_run_on_pinned_text_changes_nothing() {
    let text = "ARG BASE=python\nFROM $BASE\nFROM node:20 AS n\n";
    let table = [("python:latest", 1), ("node:20", 2)];
    let (once, _) = run(text, &dockerfile(text).occurrences, &table);
    assert_eq!(
        once,
        format!(
            "ARG BASE=python:latest{}\nFROM $BASE\nFROM node:20{} AS n\n",
            at(1),
            at(2)
        )
    );
    let (twice, codes) = run(&once, &dockerfile(&once).occurrences, &table);
    assert_eq!(twice, once);
    assert_eq!(codes, ["already-pinned", "already-pinned"]);
}

#[test]
fn crlf_bom_and_multibyte_text_keep_every_other_byte() {
    let text =
        "\u{feff}# é 漢字\r\nFROM python:3.12 AS build\r\nRUN echo ☃ büild\r\nFROM alpine:3.20\r\n";
    let table = [("python:3.12", 1), ("alpine:3.20", 2)];
    let (out, _) = run(text, &dockerfile(text).occurrences, &table);
    assert_eq!(
        out,
        format!(
            "\u{feff}# é 漢字\r\nFROM python:3.12{} AS build\r\nRUN echo ☃ büild\r\nFROM alpine:3.20{}\r\n",
            at(1),
            at(2)
        )
    );
}

#[test]
fn a_shared_arg_naming_one_tag_is_pinned_once() {
    let text = "ARG BASE=python:3.12\nFROM $BASE AS a\nFROM ${BASE} AS b\n";
    let extraction = dockerfile(text);
    let spans: Vec<_> = extraction
        .occurrences
        .iter()
        .map(|o| o.span.clone())
        .collect();
    assert_eq!(spans[0], spans[1], "the test needs a shared span");
    let (out, codes) = run(text, &extraction.occurrences, &[("python:3.12", 7)]);
    assert_eq!(
        out,
        format!(
            "ARG BASE=python:3.12{}\nFROM $BASE AS a\nFROM ${{BASE}} AS b\n",
            at(7)
        )
    );
    assert_eq!(codes.len(), 2);
    assert_eq!(codes[0], codes[1]);
}

/// Two occurrences over one span whose lookups disagree (as when the same bytes feed two
/// different references): neither is written.
#[test]
fn a_shared_span_with_different_digests_is_skipped_entirely() {
    let text = "FROM python:3.12\n";
    let mut occurrences = dockerfile(text).occurrences;
    occurrences.push(occurrences[0].clone());
    let mut n = 0;
    let decisions = decide(text, &occurrences, |_, _| {
        n += 1;
        Ok::<_, String>(d(n))
    });
    assert!(
        decisions
            .iter()
            .all(|x| *x == Decision::Skip(SkipReason::ConflictingPins))
    );
    assert!(edits(&decisions).is_empty());

    // One of them failing: the failure is reported, the other is not written.
    let decisions = decide(text, &occurrences, |i, _| {
        if i == 0 { Ok(d(1)) } else { Err("boom") }
    });
    assert_eq!(decisions[0], Decision::Skip(SkipReason::ConflictingPins));
    assert_eq!(decisions[1], Decision::Failed("boom"));
}

#[test]
fn blocked_built_here_and_digest_only_are_never_looked_up() {
    let hex = "0".repeat(64);
    let text =
        format!("ARG TAG=3.12\nFROM python:${{TAG}} AS a\nARG TAG\nFROM alpine@sha256:{hex}\n");
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
            _ => "other",
        })
        .collect();
    assert_eq!(codes, ["shared-arg", "digest-only"]);

    let compose =
        "services:\n  app:\n    build: .\n    image: acme/app:1\n  db:\n    image: postgres:16\n";
    let extraction = compose::extract(compose, &|_| None);
    let (out, codes) = run(compose, &extraction.occurrences, &[("postgres:16", 3)]);
    assert_eq!(
        codes,
        ["built-here".to_owned(), format!("pin postgres:16{}", at(3))]
    );
    assert!(out.contains("image: acme/app:1\n"));
}

#[test]
fn already_pinned_references_are_left_alone() {
    let text = format!("FROM python:3.12@sha256:{}\n", "a".repeat(64));
    let (out, codes) = run(&text, &dockerfile(&text).occurrences, &[]);
    assert_eq!(out, text);
    assert_eq!(codes, ["already-pinned"]);
}

#[test]
fn failed_lookups_leave_their_text_and_others_are_pinned() {
    let text = "FROM python:3.12\nFROM ghcr.io/o/missing:1\n";
    let (out, codes) = run(text, &dockerfile(text).occurrences, &[("python:3.12", 1)]);
    assert_eq!(
        out,
        format!("FROM python:3.12{}\nFROM ghcr.io/o/missing:1\n", at(1))
    );
    assert_eq!(codes[1], "failed ghcr.io/o/missing:1");
}

#[test]
fn an_insertion_inside_another_span_or_outside_the_text_is_refused() {
    let text = "FROM python:3.12\n";
    let mut occurrences = dockerfile(text).occurrences;
    let mut outer = occurrences[0].clone();
    outer.span = 0..text.len();
    occurrences.push(outer);
    let decisions = decide(text, &occurrences, |_, _| Ok::<_, String>(d(1)));
    assert_eq!(decisions[0], Decision::Skip(SkipReason::ConflictingPins));

    let mut broken = dockerfile(text).occurrences;
    broken[0].span = 10..100;
    let decisions = decide(text, &broken, |_, _| Ok::<_, String>(d(1)));
    assert!(matches!(
        &decisions[0],
        Decision::Skip(SkipReason::Unrewritable { .. })
    ));
}

#[test]
fn compose_anchors_share_one_insertion() {
    let text = "services:\n  a:\n    image: &img \"redis:7\"\n  b:\n    image: *img\n";
    let extraction = compose::extract(text, &|_| None);
    assert_eq!(extraction.occurrences.len(), 2);
    let (out, codes) = run(text, &extraction.occurrences, &[("redis:7", 9)]);
    assert_eq!(
        out,
        format!(
            "services:\n  a:\n    image: &img \"redis:7{}\"\n  b:\n    image: *img\n",
            at(9)
        )
    );
    assert_eq!(codes[0], codes[1]);
}
