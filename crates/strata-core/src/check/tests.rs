use std::collections::HashMap;

use super::*;
use crate::extract::{actions, compose, dockerfile};
use crate::library::{History, Library, Manifest, Timestamp};
use crate::occurrence::Extraction;
use crate::reference::{Digest, Reference};

fn d(n: u64) -> Digest {
    format!("sha256:{n:064x}").parse().unwrap()
}

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn df(text: &str) -> Extraction {
    dockerfile::extract(text, &dockerfile::Options::default())
}

/// Observations keyed by `familiar-name:tag`; digests known missing by number.
#[derive(Default)]
struct Seen {
    tags: HashMap<String, TagState>,
    gone: Vec<Digest>,
}

impl Seen {
    fn points(mut self, tag: &str, n: u64, since: Option<&str>) -> Seen {
        let current = Current {
            digest: d(n),
            since: since.map(ts),
            seen: vec![(d(1), ts("2026-01-02T03:04:05Z"))],
        };
        self.tags.insert(tag.to_owned(), TagState::Points(current));
        self
    }

    fn missing(mut self, tag: &str) -> Seen {
        self.tags.insert(tag.to_owned(), TagState::Missing);
        self
    }
}

fn key(reference: &Reference) -> String {
    format!(
        "{}:{}",
        reference.familiar_name(),
        reference.tag().unwrap_or("latest")
    )
}

impl Observations for Seen {
    fn tag(&self, reference: &Reference) -> Option<&TagState> {
        self.tags.get(&key(reference))
    }

    fn digest_exists(&self, _: &Reference, digest: &Digest) -> Option<bool> {
        Some(!self.gone.contains(digest))
    }
}

fn run(text: &str, extraction: &Extraction, observed: &dyn Observations) -> Vec<Finding> {
    let inputs = Inputs {
        observed,
        library: None,
        history: None,
    };
    check_file("svc/Dockerfile", text, extraction, &inputs)
}

fn codes(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

#[test]
fn offline_reports_unpinned_digest_only_and_actionable_skips_only() {
    let text = format!(
        "ARG NOPE\nFROM python:3.12 AS build\nFROM build\nFROM scratch\nFROM ${{NOPE}}\n\
         FROM alpine@{}\nFROM node:20@{}\n",
        d(1),
        d(2)
    );
    let findings = run(&text, &df(&text), &Offline);
    assert_eq!(
        codes(&findings),
        ["unpinned", "unresolved-variable", "digest-only"]
    );
    let unresolved = &findings[1];
    assert_eq!((unresolved.line, unresolved.column), (5, 6));
    assert!(
        unresolved.message.contains("NOPE"),
        "{}",
        unresolved.message
    );
    assert_eq!(findings[0].file, "svc/Dockerfile");
    assert!(
        findings[0].message.contains("python:3.12"),
        "{}",
        findings[0].message
    );
}

#[test]
fn pinned_references_are_checked_against_the_observed_tag() {
    let text = format!(
        "FROM python:3.12@{}\nFROM node:20@{}\nFROM ruby:3@{}\nFROM go:1@{}\nFROM php:8@{}\n",
        d(1),
        d(1),
        d(1),
        d(1),
        d(1)
    );
    let mut seen = Seen::default()
        .points("python:3.12", 1, Some("2025-01-01T00:00:00Z"))
        .points("node:20", 2, Some("2026-02-03T04:05:06Z"))
        .points("ruby:3", 3, None)
        .missing("golang:1")
        .missing("go:1");
    seen.gone.push(d(1));
    // ruby's old digest is gone; php was never looked up.
    let mut findings = run(&text, &df(&text), &seen);
    assert_eq!(
        codes(&findings),
        ["missing-tag", "missing-tag", "missing-tag"]
    );
    seen.gone.clear();
    findings = run(&text, &df(&text), &seen);
    assert_eq!(codes(&findings), ["moved-tag", "moved-tag", "missing-tag"]);
    let node = &findings[0];
    assert_eq!(
        (node.digest.clone(), node.current_digest.clone()),
        (Some(d(1)), Some(d(2)))
    );
    assert_eq!(node.since, Some(ts("2026-02-03T04:05:06Z")));
    assert_eq!(node.pinned_last_seen, Some(ts("2026-01-02T03:04:05Z")));
    assert!(
        node.message.contains("since 2026-02-03"),
        "{}",
        node.message
    );
    assert_eq!(findings[1].since, None, "first sighting: no since");
    assert!(
        findings[2].message.contains("still does"),
        "{}",
        findings[2].message
    );
}

#[test]
fn digests_are_verified_only_where_the_tag_moved_or_vanished() {
    let text = format!(
        "FROM python:3.12@{}\nFROM node:20@{}\nFROM ruby:3@{}\nFROM php:8\n",
        d(1),
        d(1),
        d(1)
    );
    let seen = Seen::default()
        .points("python:3.12", 1, None)
        .points("node:20", 2, None)
        .missing("ruby:3")
        .missing("php:8");
    let extraction = df(&text);
    let asked: Vec<String> = digests_to_verify(&extraction, &seen)
        .iter()
        .map(|(r, _)| key(r))
        .collect();
    assert_eq!(asked, ["node:20", "ruby:3"]);
    let tags: Vec<String> = tags_to_resolve(&extraction).map(key).collect();
    assert_eq!(tags, ["python:3.12", "node:20", "ruby:3", "php:8"]);
}

#[test]
fn unpinned_references_report_why_pin_would_refuse_them() {
    let text = "ARG TAG=3.12\nFROM python:${TAG} AS a\nARG TAG\nFROM node:20\nFROM gone:1\n";
    let seen = Seen::default().points("node:20", 5, None).missing("gone:1");
    let findings = run(text, &df(text), &seen);
    assert_eq!(codes(&findings), ["shared-arg", "unpinned", "missing-tag"]);
    assert_eq!(findings[1].current_digest, Some(d(5)));

    // Pinned by hand: the shared ARG no longer matters.
    let text = format!(
        "ARG TAG=3.12@{}\nFROM python:${{TAG}} AS a\nARG TAG\n",
        d(1)
    );
    assert_eq!(codes(&run(&text, &df(&text), &Offline)), Vec::<&str>::new());

    // Two references over one text that would be pinned differently.
    let text = "FROM python:3.12\n";
    let mut extraction = df(text);
    let mut other = extraction.occurrences[0].clone();
    other.reference = Reference::parse_normalized("node:3.12").unwrap();
    extraction.occurrences.push(other);
    let findings = run(text, &extraction, &Offline);
    assert_eq!(codes(&findings), ["conflicting-pins", "conflicting-pins"]);
}

#[test]
fn images_built_here_and_templates_are_not_findings() {
    let text = "services:\n  app:\n    build: .\n    image: acme/app:1\n  \
                bad:\n    image: \"UPPER/Case\"\n";
    let extraction = compose::extract(text, &|_| None);
    let findings = run(text, &extraction, &Offline);
    assert_eq!(codes(&findings), ["invalid-reference"]);
    assert_eq!((findings[0].line, findings[0].column), (6, 13));

    let text = "on: push\njobs:\n  t:\n    runs-on: x\n    container: ${{ matrix.image }}\n";
    let extraction = actions::extract(text, &|_| None);
    assert_eq!(extraction.skips.len(), 1, "{extraction:?}");
    assert_eq!(codes(&run(text, &extraction, &Offline)), Vec::<&str>::new());
}

fn library() -> (Library, History) {
    let manifest = "Maintainers: T (@t)\nGitRepo: https://example.com/py.git\n\n\
                    Tags: 3.12.4, 3.12, 3\nGitCommit: abc\n\n\
                    Tags: 3.13.1, 3.13, latest\nGitCommit: def\n";
    let mut library = Library::new();
    library.insert("python", Manifest::parse(manifest).unwrap());
    let history = serde_json::json!({
        "description": "test", "source": {"repo": "r", "head_commit": "c", "head_date": null},
        "images": {"python": {
            "library_file_exists_at_head": true, "mainline_commits_touching_file": 2,
            "formats_seen": [], "first_commit_date": null, "current_tag_count": 6,
            "removed_tag_count": 1,
            "removed_tags": [{"tag": "2.7", "kind": "tag",
                "first_seen": "2014-06-01T00:00:00Z", "removed": "2020-04-21T10:00:00-07:00",
                "removed_commit": "0123456789ab"}]}}
    });
    (library, serde_json::from_value(history).unwrap())
}

#[test]
fn unsupported_official_tags_carry_removal_and_suggestion() {
    let (library, history) = library();
    let text = format!(
        "FROM python:2.7\nFROM python:3.12\nFROM python:2.7@{}\n",
        d(1)
    );
    let inputs = Inputs {
        observed: &Offline,
        library: Some(&library),
        history: Some(&history),
    };
    let findings = check_file("Dockerfile", &text, &df(&text), &inputs);
    assert_eq!(
        codes(&findings),
        ["unpinned", "unsupported-tag", "unpinned", "unsupported-tag"]
    );
    let old = &findings[1];
    assert_eq!(
        old.removal.as_ref().unwrap().removed.date().to_string(),
        "2020-04-21"
    );
    assert_eq!(old.suggestion.as_ref().unwrap().to_string(), "python:3.12");
    assert!(
        old.message.contains("removed 2020-04-21"),
        "{}",
        old.message
    );
    assert!(old.message.contains("use python:3.12"), "{}", old.message);
    assert_eq!(findings[3].digest, Some(d(1)));
}

#[test]
fn policy_sets_severities_and_ignores_by_code_image_and_path() {
    // `X` is declared without a default: unresolved (an undeclared one is empty).
    let text = "ARG X\nFROM python:3.12\nFROM ghcr.io/acme/app:1\nFROM ${X}\n";
    let all = run(text, &df(text), &Offline);
    assert_eq!(all[0].severity, Severity::Error);
    assert_eq!(all[2].severity, Severity::Warning);

    let glob = |p: &str| Some(Glob::new(p).unwrap());
    let cases: Vec<(Policy, Vec<&str>)> = vec![
        (Policy::default(), vec!["python", "ghcr", "${X}"]),
        (
            {
                let mut p = Policy::default();
                p.set_level(Code::UnresolvedVariable, Level::Ignore);
                p
            },
            vec!["python", "ghcr"],
        ),
        (
            {
                let mut p = Policy::default();
                p.ignore(Ignore {
                    codes: vec![],
                    image: glob("ghcr.io/acme/*"),
                    path: None,
                });
                p
            },
            vec!["python", "${X}"],
        ),
        (
            {
                let mut p = Policy::default();
                let image = glob("python:3.*");
                p.ignore(Ignore {
                    codes: vec![Code::Unpinned],
                    image,
                    path: None,
                });
                p
            },
            vec!["ghcr", "${X}"],
        ),
        (
            {
                let mut p = Policy::default();
                p.ignore(Ignore {
                    codes: vec![Code::MovedTag],
                    image: glob("python"),
                    path: None,
                });
                p.ignore(Ignore {
                    codes: vec![],
                    image: None,
                    path: glob("other/**"),
                });
                p
            },
            vec!["python", "ghcr", "${X}"],
        ),
        (
            {
                let mut p = Policy::default();
                p.ignore(Ignore {
                    codes: vec![],
                    image: None,
                    path: glob("Dockerfile"),
                });
                p
            },
            vec![],
        ),
    ];
    for (i, (policy, want)) in cases.into_iter().enumerate() {
        let mut findings = all.clone();
        let dropped = policy.apply(&mut findings);
        let texts: Vec<String> = findings.iter().map(|f| f.text.clone()).collect();
        assert_eq!(texts.len(), want.len(), "case {i}: {texts:?}");
        for (text, w) in texts.iter().zip(&want) {
            assert!(text.contains(w), "case {i}: {texts:?}");
        }
        assert_eq!(dropped, 3 - want.len(), "case {i}");
    }

    let mut policy = Policy::default();
    policy.set_level(Code::Unpinned, Level::Report(Severity::Note));
    let mut findings = all.clone();
    policy.apply(&mut findings);
    assert_eq!(findings[0].severity, Severity::Note);
}

#[test]
fn codes_round_trip_and_skip_codes_match_their_skip_reasons() {
    for code in Code::ALL {
        assert_eq!(Code::parse(code.as_str()), Some(code));
        assert_eq!(Code::ALL[code.index()], code);
        assert!(!code.title().is_empty() && !code.description().is_empty());
        assert!(!code.help_text().contains('`'));
    }
    let reason = crate::occurrence::SkipReason::SharedArg { name: "X".into() };
    assert_eq!(
        Code::of_skip(&reason).map(Code::as_str),
        Some(reason.code())
    );
    assert_eq!(Code::of_skip(&crate::occurrence::SkipReason::Scratch), None);
}

/// A path-only rule leaves the file out entirely; a rule with codes or an image only
/// drops matching findings (the file is still read and checked).
#[test]
fn only_a_path_only_rule_skips_a_file() {
    let glob = |g: &str| Glob::new(g).unwrap();
    let mut policy = Policy::default();
    policy.ignore(Ignore {
        codes: Vec::new(),
        image: None,
        path: Some(glob("corpus/**")),
    });
    policy.ignore(Ignore {
        codes: vec![Code::Unpinned],
        image: None,
        path: Some(glob("legacy/**")),
    });
    policy.ignore(Ignore {
        codes: Vec::new(),
        image: Some(glob("python")),
        path: Some(glob("app/**")),
    });
    policy.ignore(Ignore {
        codes: Vec::new(),
        image: None,
        path: Some(glob("Dockerfile.test")),
    });
    assert!(policy.skips_file("corpus/a/Dockerfile"));
    assert!(policy.skips_file("deep/dir/Dockerfile.test"));
    assert!(!policy.skips_file("legacy/Dockerfile"));
    assert!(!policy.skips_file("app/Dockerfile"));
    assert!(!policy.skips_file("Dockerfile"));
}
