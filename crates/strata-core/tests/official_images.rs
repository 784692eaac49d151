//! The Docker Official Images corpus (corpus/official-images): every library
//! file parses as bashbrew would, bashbrew's own manifest cases (canonical text, shared
//! tag groups, tag lookup, parse errors), the removed-tags history, the support decision
//! and the successor suggestions.
#![allow(clippy::unwrap_used)]

mod corpus;

use std::collections::HashSet;
use std::sync::OnceLock;

use serde_json::Value;
use strata_core::library::{
    Entry, History, Library, Manifest, Support, Timestamp, suggest, support,
};
use strata_core::reference::Reference;

/// The corpus's sizes: a corpus that shrinks must fail, not pass on fewer cases.
const LIBRARY_FILES: usize = 144;
const LISTED_TAGS: usize = 9_849;
/// Every 23rd removed tag of each image (`every_suggestion_is_a_listed_tag`).
const SAMPLED_REMOVED_TAGS: usize = 3_298;
const HISTORY_IMAGES: usize = 21;
const REMOVED_TAGS: usize = 75_596;
const MANIFEST_CASES: usize = 4;

fn library() -> &'static Library {
    static LIBRARY: OnceLock<Library> = OnceLock::new();
    LIBRARY.get_or_init(|| {
        let mut library = Library::new();
        for (name, text) in corpus::files_in("official-images/library") {
            let manifest = Manifest::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            library.insert(name, manifest);
        }
        library
    })
}

fn history() -> &'static History {
    static HISTORY: OnceLock<History> = OnceLock::new();
    HISTORY.get_or_init(|| {
        let text = corpus::read_gz("official-images/removed-tags.json.gz");
        serde_json::from_str(&text).unwrap()
    })
}

fn check(reference: &str) -> Support {
    let reference: Reference = reference.parse().unwrap();
    support(&reference, library(), Some(history()))
}

fn removal_date(support: &Support) -> Option<String> {
    match support {
        Support::Unsupported { removed, .. } => {
            removed.as_ref().map(|r| r.removed.date().to_string())
        }
        _ => None,
    }
}

fn suggestion(support: &Support) -> Option<String> {
    match support {
        Support::Unsupported { suggestion, .. } => suggestion.as_ref().map(|s| s.to_string()),
        _ => None,
    }
}

#[test]
fn every_library_file_parses_with_unique_tags_and_a_commit() {
    let library = library();
    assert_eq!(library.len(), LIBRARY_FILES);
    let mut tags = 0;
    for (name, manifest) in library.iter() {
        let mut own = HashSet::new();
        for entry in manifest.entries() {
            assert!(!entry.tags.is_empty(), "{name}: entry without tags");
            for tag in &entry.tags {
                assert!(own.insert(tag.as_str()), "{name}: {tag} listed twice");
            }
            let commit = &entry.git_commit;
            assert!(
                !commit.is_empty() && commit.bytes().all(|b| b.is_ascii_hexdigit()),
                "{name}"
            );
        }
        for entry in manifest.entries() {
            for tag in &entry.shared_tags {
                assert!(
                    !own.contains(tag.as_str()),
                    "{name}: {tag} is a tag and a shared tag"
                );
            }
        }
        tags += manifest.tags().len();
    }
    assert_eq!(tags, LISTED_TAGS);
}

#[test]
fn canonical_text_survives_a_reparse() {
    // Writing a file in bashbrew's canonical form and reading it back gives the same
    // manifest: the writer loses nothing the reader keeps.
    let mut files = 0;
    for (name, manifest) in library().iter() {
        let again = Manifest::parse(&manifest.to_string()).unwrap();
        assert_eq!(again.to_string(), manifest.to_string(), "{name}");
        assert_eq!(again.entries(), manifest.entries(), "{name}");
        files += 1;
    }
    assert_eq!(files, LIBRARY_FILES);
}

fn manifest_cases() -> Vec<Value> {
    let text = corpus::read_to_string("official-images/bashbrew/manifest-cases.json");
    let cases: Value = serde_json::from_str(&text).unwrap();
    let cases = cases["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), MANIFEST_CASES);
    cases
}

#[test]
fn bashbrew_example_re_serialises_canonically() {
    let cases = manifest_cases();
    let case = cases
        .iter()
        .find(|c| c["kind"] == "manifest_parse")
        .unwrap();
    let manifest = Manifest::parse(case["input"].as_str().unwrap()).unwrap();
    let expected = &case["expected"];
    assert_eq!(
        manifest.to_string(),
        expected["canonical_text"].as_str().unwrap()
    );

    let groups: Vec<(Vec<&str>, Vec<Vec<&str>>)> = manifest
        .shared_tag_groups()
        .into_iter()
        .map(|g| {
            let entries = g
                .entries
                .iter()
                .map(|e| e.tags.iter().map(String::as_str).collect());
            (g.shared_tags, entries.collect())
        })
        .collect();
    let want: Vec<(Vec<&str>, Vec<Vec<&str>>)> = expected["shared_tag_groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let strs = strings;
            let entries = g["entries"].as_array().unwrap().iter().map(strs).collect();
            (strs(&g["shared_tags"]), entries)
        })
        .collect();
    assert_eq!(groups, want);
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn bashbrew_tag_lookup_prints_the_entry_with_defaults() {
    let cases = manifest_cases();
    let case = cases
        .iter()
        .find(|c| c["kind"] == "manifest_get_tag")
        .unwrap();
    let file = case["input_file"].as_str().unwrap();
    let text = corpus::read_to_string(&format!("official-images/bashbrew/{file}"));
    let manifest = Manifest::parse(&text).unwrap();
    let (_, tag) = case["input_ref"].as_str().unwrap().split_once(':').unwrap();
    let entry = manifest.entry_for_tag(tag).unwrap();
    let printed = entry
        .without_defaults(&Entry::bashbrew_default())
        .to_string();
    assert_eq!(
        printed,
        case["expected"]["entry_text_with_defaults"]
            .as_str()
            .unwrap()
    );
}

#[test]
fn bashbrew_parse_errors_keep_their_wording() {
    let cases = manifest_cases();
    let errors: Vec<&Value> = cases
        .iter()
        .filter(|c| c["kind"] == "manifest_parse_error")
        .collect();
    assert_eq!(errors.len(), 2);
    for case in errors {
        let error = Manifest::parse(case["input"].as_str().unwrap())
            .unwrap_err()
            .to_string();
        let prefix = case["expected"]["error_prefix"].as_str().unwrap();
        assert!(error.starts_with(prefix), "{}: {error}", case["id"]);
    }
}

#[test]
fn history_loads_every_removed_tag() {
    let history = history();
    assert_eq!(history.images().count(), HISTORY_IMAGES);
    let mut total = 0;
    for name in history.images() {
        let image = history.image(name).unwrap();
        assert_eq!(
            image.removed_tags.len(),
            image.removed_tag_count as usize,
            "{name}"
        );
        for tag in &image.removed_tags {
            assert!(tag.first_seen <= tag.removed, "{name}:{}", tag.tag);
            assert_eq!(history.removed(name, &tag.tag), Some(tag));
        }
        total += image.removed_tags.len();
    }
    assert_eq!(total, REMOVED_TAGS);
    assert_eq!(history.removed("python", "no-such-tag"), None);
    assert_eq!(history.removed("no-such-image", "2.7"), None);
}

#[test]
fn history_round_trips_through_json() {
    let text = serde_json::to_string(history()).unwrap();
    let again: History = serde_json::from_str(&text).unwrap();
    assert_eq!(&again, history());
    let first = &history().image("python").unwrap().removed_tags[0];
    assert_eq!(
        serde_json::to_value(first).unwrap()["first_seen"],
        "2014-06-23T15:30:50-07:00"
    );
}

#[test]
fn no_currently_listed_tag_is_flagged() {
    let library = library();
    let mut checked = 0;
    for (name, manifest) in library.iter() {
        for tag in manifest.tags() {
            let reference: Reference = format!("{name}:{tag}").parse().unwrap();
            let verdict = support(&reference, library, Some(history()));
            assert_eq!(verdict, Support::Supported, "{name}:{tag}");
            checked += 1;
        }
    }
    assert_eq!(checked, LISTED_TAGS);
}

#[test]
fn removed_tags_are_flagged_with_their_removal_date() {
    assert_eq!(
        removal_date(&check("python:2.7")).as_deref(),
        Some("2020-04-21")
    );
    assert_eq!(
        removal_date(&check("debian:jessie")).as_deref(),
        Some("2021-03-30")
    );
    assert_eq!(
        removal_date(&check("node:10")).as_deref(),
        Some("2021-05-03")
    );
    let Support::Unsupported {
        removed: Some(removal),
        ..
    } = check("docker.io/library/python:2.7")
    else {
        panic!("python:2.7 is not flagged");
    };
    assert_eq!(removal.commit, "7791ab4a1784");
    assert_eq!(
        removal.first_seen,
        Timestamp::parse("2014-06-23T15:30:50-07:00").unwrap()
    );
    // A tag that was never listed is still unsupported, just without a date.
    let never = check("python:3.12.99-nonsense");
    assert!(
        matches!(never, Support::Unsupported { removed: None, .. }),
        "{never:?}"
    );
    // The tag decides even when a digest pins the content.
    let digest = "sha256:".to_owned() + &"a".repeat(64);
    assert!(matches!(
        check(&format!("python:2.7@{digest}")),
        Support::Unsupported { .. }
    ));
}

#[test]
fn retired_images_are_unsupported_without_a_suggestion() {
    for (reference, date) in [("centos:7", "2024-"), ("java:8", "20")] {
        let verdict = check(reference);
        let Support::Unsupported {
            removed,
            suggestion,
            image_retired,
        } = &verdict
        else {
            panic!("{reference}: {verdict:?}");
        };
        assert!(image_retired, "{reference}");
        assert_eq!(suggestion, &None, "{reference}");
        let removed = removed.as_ref().unwrap().removed.date().to_string();
        assert!(removed.starts_with(date), "{reference}: {removed}");
    }
}

#[test]
fn other_references_are_neutral() {
    let digest = "sha256:".to_owned() + &"b".repeat(64);
    assert_eq!(check(&format!("python@{digest}")), Support::Supported);
    assert_eq!(check("python"), Support::Supported, "latest is listed");
    assert_eq!(check("nosuchimage:1.0"), Support::UnknownImage);
    assert_eq!(check("ghcr.io/library/python:2.7"), Support::NotOfficial);
    assert_eq!(check("someone/python:2.7"), Support::NotOfficial);
    assert_eq!(check("quay.io/centos/centos:7"), Support::NotOfficial);
    // Without history the decision still stands, only the dates are missing.
    let reference: Reference = "python:2.7".parse().unwrap();
    let verdict = support(&reference, library(), None);
    assert!(matches!(
        verdict,
        Support::Unsupported {
            removed: None,
            suggestion: Some(_),
            ..
        }
    ));
}

/// Removed tag -> the suggested successor (`-` for none), against the corpus snapshot.
const SUCCESSORS: &[(&str, &str)] = &[
    // Same major.minor first, at the precision written.
    ("python:3.12.0", "python:3.12.14"),
    ("python:3.12.0-slim", "python:3.12.14-slim"),
    ("redis:7.0.15", "redis:7.2"),
    // Same major, lowest newer line.
    ("python:3.7-slim-buster", "python:3.10-slim-bookworm"),
    ("alpine:3.10", "alpine:3.21"),
    ("alpine:3.10.3", "alpine:3.21"),
    ("golang:1.10", "golang:1.26"),
    ("golang:1.10-alpine3.8", "golang:1.26-alpine3.23"),
    ("nginx:1.25.3-alpine-slim", "nginx:1.30-alpine-slim"),
    ("ruby:3.2-slim-bullseye", "ruby:3.3-slim-bookworm"),
    ("mysql:8.0-debian", "mysql:8.4"),
    // Lowest newer major, as the tag that names that line.
    ("python:2.7", "python:3.10"),
    ("python:2", "python:3"),
    ("python:2-alpine", "python:3-alpine"),
    ("node:10", "node:22"),
    ("node:10.24.1-stretch-slim", "node:22-bullseye-slim"),
    ("postgres:9.6", "postgres:14"),
    ("postgres:9.6-alpine", "postgres:14-alpine"),
    ("php:7.4-fpm-alpine3.16", "php:8.2-fpm-alpine3.23"),
    ("php:5.6-apache", "php:8.2-apache"),
    ("ruby:2.7", "ruby:3.3"),
    ("debian:8", "debian:11"),
    ("ubuntu:16.04", "ubuntu:22.04"),
    ("alpine:20190228", "alpine:20260805"),
    // Release names advance to the oldest newer one still published.
    ("debian:jessie", "debian:bullseye"),
    ("debian:jessie-slim", "debian:bullseye-slim"),
    ("debian:jessie-20210326", "debian:bullseye-20260803"),
    ("debian:stretch-backports", "debian:bookworm-backports"),
    ("ubuntu:xenial", "ubuntu:jammy"),
    ("ubuntu:trusty-20191217", "ubuntu:jammy-20260810"),
    ("ubuntu:kinetic", "ubuntu:noble"),
    ("node:dubnium", "node:jod"),
    ("node:fermium-alpine", "node:jod-alpine"),
    ("node:lts-alpine3.18", "node:lts-alpine3.23"),
    ("python:jessie", "python:bookworm"),
    ("python:slim-buster", "python:slim-bookworm"),
    (
        "golang:1.21-windowsservercore-1809",
        "golang:1.26-windowsservercore-ltsc2022",
    ),
    (
        "eclipse-temurin:11-jdk-focal",
        "eclipse-temurin:11-jdk-jammy",
    ),
    (
        "nginx:stable-alpine3.17-perl",
        "nginx:stable-alpine3.24-perl",
    ),
    // Pre-releases give way to the release; stable tags never get a pre-release.
    ("python:3.13-rc-slim", "python:3.13-slim"),
    ("openjdk:26-ea-jdk", "openjdk:27-rc-jdk"),
    // Variant words the image dropped are dropped too.
    ("python:3.6-onbuild", "python:3.10"),
    // openjdk publishes only early-access builds: eclipse-temurin carries the line.
    ("openjdk:8-jdk", "eclipse-temurin:8-jdk"),
    ("openjdk:11-jre-slim", "eclipse-temurin:11-jre"),
    (
        "openjdk:8u212-jdk-alpine",
        "eclipse-temurin:8u502-b07-jdk-alpine",
    ),
    ("openjdk:17-jdk-slim-bullseye", "eclipse-temurin:17-jdk"),
    // Nothing sensible to offer.
    ("python:rc", "-"),
    ("redis:32bit", "-"),
];

#[test]
fn suggestions_stay_on_the_version_line() {
    let mut wrong = Vec::new();
    for (reference, want) in SUCCESSORS {
        let got = suggestion(&check(reference)).unwrap_or_else(|| "-".to_owned());
        if got != *want {
            wrong.push(format!("{reference}: got {got}, want {want}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn cross_image_suggestions_carry_a_note() {
    let Support::Unsupported {
        suggestion: Some(s),
        ..
    } = check("openjdk:17")
    else {
        panic!("openjdk:17 has no suggestion");
    };
    assert_eq!(
        (s.image.as_str(), s.tag.as_str()),
        ("eclipse-temurin", "17")
    );
    assert!(s.note.unwrap().contains("eclipse-temurin"));
    let Support::Unsupported {
        suggestion: Some(s),
        ..
    } = check("python:2.7")
    else {
        panic!("python:2.7 has no suggestion");
    };
    assert_eq!(s.note, None);
}

#[test]
fn every_suggestion_is_a_listed_tag() {
    // A sample of the whole history (every 23rd removed tag of each image).
    let (library, history) = (library(), history());
    let (mut sampled, mut suggested) = (0, 0);
    for name in history.images() {
        for removed in history.image(name).unwrap().removed_tags.iter().step_by(23) {
            sampled += 1;
            if let Some(s) = suggest(library, name, &removed.tag) {
                assert!(
                    library.lists(&s.image, &s.tag),
                    "{name}:{} -> {s}",
                    removed.tag
                );
                suggested += 1;
            }
        }
    }
    assert_eq!(sampled, SAMPLED_REMOVED_TAGS);
    assert!(suggested > 1500, "only {suggested} suggestions");
}

#[test]
fn arbitrary_text_never_panics() {
    // Real Dockerfiles are not library files: they must fail cleanly, and their words
    // as tags must not upset the suggestion search.
    let python = library().get("python").unwrap();
    let mut files = 0;
    for (_, bytes) in corpus::dockerfiles().into_iter().take(100) {
        let text = String::from_utf8(bytes).unwrap_or_default();
        let _ = Manifest::parse(&text);
        let _ = strata_core::library::listed_tags(&text);
        for word in text.split_whitespace().take(20) {
            let _ = strata_core::library::successor(python, word);
        }
        files += 1;
    }
    assert_eq!(files, 100);
}
