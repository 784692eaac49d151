//! Unit tests for the normalised [`Reference`] API.

use super::*;

const HEX: &str = "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";

#[test]
fn normalises_docker_hub_names() {
    // input, domain, path, familiar name
    let cases = [
        ("ubuntu", "docker.io", "library/ubuntu", "ubuntu"),
        ("library/ubuntu", "docker.io", "library/ubuntu", "ubuntu"),
        ("docker.io/ubuntu", "docker.io", "library/ubuntu", "ubuntu"),
        (
            "index.docker.io/ubuntu",
            "docker.io",
            "library/ubuntu",
            "ubuntu",
        ),
        ("org/app", "docker.io", "org/app", "org/app"),
        ("library/a/b", "docker.io", "library/a/b", "library/a/b"),
        ("ghcr.io/x/y", "ghcr.io", "x/y", "ghcr.io/x/y"),
        ("localhost/app", "localhost", "app", "localhost/app"),
        (
            "registry:5000/app",
            "registry:5000",
            "app",
            "registry:5000/app",
        ),
        ("Registry/app", "Registry", "app", "Registry/app"),
        ("[::1]:5000/app", "[::1]:5000", "app", "[::1]:5000/app"),
        (
            "[2001:db8::1]/app",
            "[2001:db8::1]",
            "app",
            "[2001:db8::1]/app",
        ),
    ];
    for (input, domain, path, familiar) in cases {
        let r = Reference::parse_normalized(input).unwrap();
        assert_eq!(
            (r.domain(), r.path(), r.familiar_name().as_str()),
            (domain, path, familiar),
            "{input}"
        );
        assert_eq!(r.name(), format!("{domain}/{path}"));
    }
}

#[test]
fn display_adds_latest_only_without_tag_and_digest() {
    let cases = [
        ("ubuntu", "docker.io/library/ubuntu:latest".to_owned()),
        (
            "python:3.12-slim",
            "docker.io/library/python:3.12-slim".to_owned(),
        ),
        (
            &*format!("python:3.12@sha256:{HEX}"),
            format!("docker.io/library/python:3.12@sha256:{HEX}"),
        ),
        (
            &*format!("python@sha256:{HEX}"),
            format!("docker.io/library/python@sha256:{HEX}"),
        ),
        (
            "localhost:5000",
            "docker.io/library/localhost:5000".to_owned(),
        ),
    ];
    for (input, want) in cases {
        let r: Reference = input.parse().unwrap();
        assert_eq!(r.to_string(), want, "{input}");
        let again: Reference = r.to_string().parse().unwrap();
        if r.tag().is_some() || r.digest().is_some() {
            assert_eq!(again, r, "round trip of {input}");
        } else {
            assert_eq!(
                again,
                r.with_tag("latest").unwrap(),
                "round trip of {input}"
            );
        }
    }
}

#[test]
fn rejects_with_the_specific_error() {
    let cases = [
        ("", ReferenceError::NameEmpty),
        ("docker/Docker", ReferenceError::NameContainsUppercase),
        ("UPPER", ReferenceError::NameContainsUppercase),
        ("a:b:c", ReferenceError::InvalidFormat),
        ("-app", ReferenceError::InvalidFormat),
        ("a_b.c/app", ReferenceError::InvalidFormat),
        ("[::1]:5000", ReferenceError::InvalidFormat),
        ("[fe80::1%eth0]:5000/app", ReferenceError::InvalidFormat),
        ("${image}", ReferenceError::InvalidFormat),
        // As Docker says it: the upper case is noticed before the `$`.
        ("${IMAGE}", ReferenceError::NameContainsUppercase),
        (HEX, ReferenceError::HexIdentifier),
        ("app@sha256:abcd", ReferenceError::InvalidFormat),
        (
            &*format!("app@sha512:{HEX}{HEX}"),
            ReferenceError::DigestUnsupported,
        ),
        (
            &*format!("app@sha256:{HEX}00"),
            ReferenceError::DigestInvalidLength {
                expected: 64,
                found: 66,
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(Reference::parse_normalized(input), Err(want), "{input:?}");
    }
}

#[test]
fn path_length_limit_counts_the_normalised_path() {
    let at_limit = format!("example.com/{}", "a".repeat(MAX_PATH_LEN));
    assert!(Reference::parse_normalized(&at_limit).is_ok());
    let over = format!("example.com/{}", "a".repeat(MAX_PATH_LEN + 1));
    assert_eq!(
        Reference::parse_normalized(&over),
        Err(ReferenceError::NameTooLong { length: 256 })
    );
    // `library/` is part of the path once normalised.
    let short = "a".repeat(MAX_PATH_LEN - OFFICIAL_PREFIX_LEN);
    assert!(Reference::parse_normalized(&short).is_ok());
    let long = "a".repeat(MAX_PATH_LEN - OFFICIAL_PREFIX_LEN + 1);
    assert!(Reference::parse_normalized(&long).is_err());
}

const OFFICIAL_PREFIX_LEN: usize = "library/".len();

#[test]
fn tags_and_digests_can_be_replaced() {
    let digest: Digest = format!("sha256:{HEX}").parse().unwrap();
    let r = Reference::parse_normalized("ghcr.io/org/app:1.0").unwrap();
    let pinned = r.with_digest(digest.clone());
    assert_eq!(
        pinned.to_string(),
        format!("ghcr.io/org/app:1.0@sha256:{HEX}")
    );
    assert_eq!(
        pinned.familiar_string(),
        format!("ghcr.io/org/app:1.0@sha256:{HEX}")
    );
    assert_eq!(pinned.without_digest(), r);
    assert_eq!(pinned.without_tag().tag(), None);
    assert_eq!(pinned.without_tag().digest(), Some(&digest));
    let retagged = pinned.with_tag("2.0").unwrap();
    assert_eq!(retagged.tag(), Some("2.0"));
    assert_eq!(retagged.digest(), Some(&digest));
    assert_eq!(r.with_tag("-bad"), Err(ReferenceError::InvalidTagFormat));
    assert_eq!(
        r.with_tag(&"a".repeat(129)),
        Err(ReferenceError::InvalidTagFormat)
    );
}

#[test]
fn serialises_as_the_display_string() {
    let r = Reference::parse_normalized("python:3.12").unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, "\"docker.io/library/python:3.12\"");
    let back: Reference = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
}
