use strata_core::reference::Reference;
use strata_core::update::{Found, Grouping, group};

use super::*;
use crate::update::details::Section;

fn d(n: u64) -> Digest {
    format!("sha256:{n:064x}").parse().unwrap()
}

fn found(base: &str, from: u64, to: u64) -> Found {
    Found {
        file: 0,
        base: Reference::parse_normalized(base).unwrap(),
        from: d(from),
        to: d(to),
    }
}

fn text<'a>(mv: &'a BaseMove, details: MoveDetails) -> MoveText<'a> {
    MoveText {
        mv,
        files: vec![
            ("Dockerfile".into(), vec![1, 4]),
            ("ci/Dockerfile".into(), vec![2]),
        ],
        first_seen: Some(
            OffsetDateTime::from_unix_timestamp(1_772_593_567)
                .unwrap()
                .to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap()),
        ),
        details,
    }
}

#[test]
fn the_commit_message_says_what_moved_since_when_and_where() {
    let groups = group([found("python:3.12-slim", 1, 2)], Grouping::Base);
    let mv = &groups[0].moves[0];
    let message = commit_message(&text(mv, MoveDetails::default()));
    let expected = format!(
        "Update python:3.12-slim to sha256:00000000…\n\n\
         python:3.12-slim points at a new image; this updates the pins to it.\n\n\
         Tag:             docker.io/library/python:3.12-slim\n\
         Old digest:      {}\n\
         New digest:      {}\n\
         Move first seen: 2026-03-04 03:06 UTC\n\n\
         Files changed:\n- Dockerfile\n- ci/Dockerfile\n",
        d(1),
        d(2)
    );
    assert_eq!(message, expected);
}

#[test]
fn the_body_shows_platforms_source_links_extra_sections_files_and_a_marker() {
    let groups = group([found("python:3.12", 1, 2)], Grouping::Base);
    let platform = |arch: &str, n: u64| PlatformDigest {
        os: "linux".into(),
        architecture: arch.into(),
        variant: None,
        digest: d(n),
        media_type: String::new(),
    };
    let details = MoveDetails {
        old_platforms: Some(Ok(vec![platform("amd64", 11), platform("s390x", 12)])),
        new_platforms: Some(Ok(vec![platform("amd64", 21)])),
        source: Some("https://github.com/docker-library/python.git".into()),
        old_revision: Some("abc".into()),
        new_revision: Some("def".into()),
        summary: None,
        extra: vec![Section {
            title: "Vulnerabilities".into(),
            markdown: "none fixed\n".into(),
        }],
    };
    let body = pull_request_body(&groups[0], &[text(&groups[0].moves[0], details)]);
    assert!(
        body.contains(&format!("| linux/amd64 | `{}` | `{}` |", d(11), d(21))),
        "{body}"
    );
    assert!(
        body.contains(&format!("| linux/s390x | `{}` | — |", d(12))),
        "{body}"
    );
    assert!(
        body.contains("(https://github.com/docker-library/python/compare/abc...def)"),
        "{body}"
    );
    assert!(
        body.contains("**Vulnerabilities**\n\nnone fixed\n"),
        "{body}"
    );
    assert!(
        body.contains("- `Dockerfile` lines 1, 4\n- `ci/Dockerfile` line 2\n"),
        "{body}"
    );
    let marker = Marker::find(&body).unwrap();
    assert_eq!(marker, Marker::of(&groups[0]));
}

#[test]
fn untrusted_labels_never_become_links_and_failures_are_said() {
    let groups = group([found("python:3.12", 1, 2)], Grouping::Base);
    let mv = &groups[0].moves[0];
    let body_with = |source: &str, revision: &str| {
        let details = MoveDetails {
            old_platforms: Some(Err("registry said no".into())),
            new_platforms: Some(Ok(Vec::new())),
            source: Some(source.into()),
            new_revision: Some(revision.into()),
            ..MoveDetails::default()
        };
        pull_request_body(&groups[0], &[text(mv, details)])
    };
    let body = body_with("https://evil.example/x)[click](javascript:alert(1)", "abc");
    assert!(!body.contains("Source:"), "{body}");
    assert!(
        body.contains("Platforms: unknown (registry said no)"),
        "{body}"
    );
    let body = body_with("https://gitlab.example/g/p", "v1.2`](x)");
    assert!(
        body.contains("Source: https://gitlab.example/g/p\n"),
        "{body}"
    );
    let body = body_with("https://gitlab.example/g/p", "0a1b2c");
    assert!(
        body.contains("Source: https://gitlab.example/g/p (revision `0a1b2c`)"),
        "{body}"
    );
}

#[test]
fn a_repository_group_gets_a_section_per_move() {
    let groups = group(
        [found("python:3.12", 1, 2), found("debian:bookworm", 3, 4)],
        Grouping::Repository,
    );
    let texts: Vec<MoveText<'_>> = groups[0]
        .moves
        .iter()
        .map(|mv| text(mv, MoveDetails::default()))
        .collect();
    let body = pull_request_body(&groups[0], &texts);
    assert!(
        body.starts_with("2 base image tags point at new images."),
        "{body}"
    );
    assert!(body.contains("### `debian:bookworm`"), "{body}");
    assert!(body.contains("### `python:3.12`"), "{body}");
}

#[test]
fn markers_tell_which_pull_requests_a_group_supersedes() {
    let newer = group([found("python:3.12", 1, 3)], Grouping::Base);
    let older = group([found("python:3.12", 1, 2)], Grouping::Base);
    let other = group([found("python:3.12-slim", 1, 2)], Grouping::Base);
    let body = pull_request_body(&older[0], &[]);
    let marker = Marker::find(&body).unwrap();
    assert!(marker.superseded_by(&newer[0]));
    assert!(
        !marker.superseded_by(&older[0]),
        "the same move is not outdated"
    );
    assert!(
        !marker.superseded_by(&other[0]),
        "another tag is not outdated"
    );
    assert_eq!(Marker::find("no marker here"), None);
    assert_eq!(Marker::find("<!-- strata:update {broken -->"), None);
}
