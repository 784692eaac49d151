use super::*;

const HEX: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

fn digest() -> Digest {
    format!("sha256:{HEX}").parse().unwrap()
}

fn reference(text: &str) -> Reference {
    Reference::parse_normalized(text).unwrap()
}

/// The file text with one pin inserted after `written`, found by search.
fn pin_after(text: &str, written: &str) -> String {
    let end = text.find(written).unwrap() + written.len();
    let suffix = pin_suffix(&reference(written), &digest());
    apply(text, &[Edit::insert(end, suffix)]).unwrap()
}

#[test]
fn pin_suffix_adds_latest_only_when_no_tag_was_written() {
    let d = digest();
    let cases = [
        ("python:3.12-slim", format!("@sha256:{HEX}")),
        ("python", format!(":latest@sha256:{HEX}")),
        ("ghcr.io/o/app", format!(":latest@sha256:{HEX}")),
        ("localhost:5000/app", format!(":latest@sha256:{HEX}")),
        ("localhost:5000/app:1", format!("@sha256:{HEX}")),
    ];
    for (written, suffix) in cases {
        assert_eq!(pin_suffix(&reference(written), &d), suffix, "{written}");
    }
}

#[test]
fn pinned_text_keeps_the_name_as_written() {
    let d = digest();
    assert_eq!(
        pinned_text("python:3.12-slim", &reference("python:3.12-slim"), &d),
        format!("python:3.12-slim@sha256:{HEX}")
    );
    assert_eq!(
        pinned_text("index.docker.io/library/python", &reference("python"), &d),
        format!("index.docker.io/library/python:latest@sha256:{HEX}")
    );
    // An ARG default holding only the tag gets the digest after the tag.
    assert_eq!(
        pinned_text("3.12-slim", &reference("python:3.12-slim"), &d),
        format!("3.12-slim@sha256:{HEX}")
    );
    // The pinned form parses back to the same name, tag and digest.
    let back = reference(&pinned_text("python", &reference("python"), &d));
    assert_eq!(back.tag(), Some("latest"));
    assert_eq!(back.digest(), Some(&d));
}

#[test]
fn edits_keep_every_other_byte() {
    let cases = [
        ("FROM python:3.12\n", "python:3.12"),
        ("FROM python:3.12\r\nRUN x\r\n", "python:3.12"),
        ("\u{feff}FROM python:3.12\nRUN x\n", "python:3.12"),
        (
            "# é ü 漢字\nFROM   python:3.12   AS build # ☃\n",
            "python:3.12",
        ),
        ("FROM python:3.12", "python:3.12"),
        ("services:\r\n  web:\r\n    image: \"nginx\"\r\n", "nginx"),
    ];
    for (text, written) in cases {
        let out = pin_after(text, written);
        let at = text.find(written).unwrap() + written.len();
        let suffix = pin_suffix(&reference(written), &digest());
        assert_eq!(&out[..at], &text[..at], "{text:?}");
        assert_eq!(&out[at..at + suffix.len()], suffix);
        assert_eq!(&out[at + suffix.len()..], &text[at..], "{text:?}");
    }
}

#[test]
fn several_edits_apply_in_order_whatever_order_they_come_in() {
    let text = "FROM a:1 AS x\nFROM b:2\nCOPY --from=c:3 / /\n";
    let edits = vec![
        Edit::insert(text.find("c:3").unwrap() + 3, "@C"),
        Edit::insert(text.find("a:1").unwrap() + 3, "@A"),
        Edit::insert(text.find("b:2").unwrap() + 3, "@B"),
    ];
    let out = apply(text, &edits).unwrap();
    assert_eq!(out, "FROM a:1@A AS x\nFROM b:2@B\nCOPY --from=c:3@C / /\n");
    let mut reversed = edits.clone();
    reversed.reverse();
    assert_eq!(apply(text, &reversed).unwrap(), out);
}

#[test]
fn identical_edits_at_one_shared_span_apply_once() {
    let text = "ARG BASE=python:3.12\nFROM $BASE\nFROM ${BASE}\n";
    let at = "ARG BASE=python:3.12".len();
    let edit = Edit::insert(at, "@D");
    let out = apply(text, &[edit.clone(), edit.clone(), edit]).unwrap();
    assert_eq!(out, "ARG BASE=python:3.12@D\nFROM $BASE\nFROM ${BASE}\n");
}

#[test]
fn conflicting_edits_are_refused_and_nothing_is_applied() {
    let text = "FROM python:3.12\n";
    let at = 16;
    let err = apply(text, &[Edit::insert(at, "@A"), Edit::insert(at, "@B")]).unwrap_err();
    assert!(matches!(err, RewriteError::Overlap { .. }), "{err:?}");
    let replace = |span: Range<usize>, t: &str| Edit {
        span,
        text: t.to_owned(),
    };
    let err = apply(text, &[replace(5..11, "x"), replace(10..16, "y")]).unwrap_err();
    assert!(matches!(err, RewriteError::Overlap { .. }), "{err:?}");
    let err = apply(text, &[replace(5..11, "x"), replace(5..11, "y")]).unwrap_err();
    assert!(matches!(err, RewriteError::Overlap { .. }), "{err:?}");
    let err = apply(text, &[replace(5..11, "x"), Edit::insert(5, "y")]).unwrap_err();
    assert!(matches!(err, RewriteError::Overlap { .. }), "{err:?}");
    // Touching but not overlapping is fine.
    let out = apply(text, &[replace(5..11, "pypy"), replace(11..16, ":3")]).unwrap();
    assert_eq!(out, "FROM pypy:3\n");
}

#[test]
fn spans_outside_the_text_or_inside_a_character_are_refused() {
    let text = "FROM é:1\n";
    let err = apply(text, &[Edit::insert(100, "x")]).unwrap_err();
    assert_eq!(
        err,
        RewriteError::OutOfRange {
            start: 100,
            end: 100,
            len: text.len()
        }
    );
    #[allow(clippy::reversed_empty_ranges)] // the point: a span that runs backwards
    let backwards = Edit {
        span: 6..5,
        text: String::new(),
    };
    assert!(matches!(
        apply(text, &[backwards]),
        Err(RewriteError::OutOfRange { .. })
    ));
    // `é` is two bytes at 5..7: 6 is inside it.
    let err = apply(text, &[Edit::insert(6, "x")]).unwrap_err();
    assert!(
        matches!(err, RewriteError::NotCharBoundary { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("UTF-8"), "{err}");
}

#[test]
fn no_edits_is_the_same_text_and_empty_text_takes_an_insertion() {
    let text = "\u{feff}FROM x\r\n";
    assert_eq!(apply(text, &[]).unwrap(), text);
    assert_eq!(apply("", &[Edit::insert(0, "x")]).unwrap(), "x");
}
