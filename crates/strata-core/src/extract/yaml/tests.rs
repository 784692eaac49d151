use std::time::{Duration, Instant};

use super::site::column;
use super::*;

/// The value of the dotted `path` in the first document.
fn value_at<'d>(document: &'d Document<'_>, path: &[&str]) -> Value<'d> {
    let mut node = document.root().unwrap();
    for key in path {
        node = document.get(node, key).unwrap().value;
    }
    document.value(node)
}

fn span_of(text: &str, path: &[&str]) -> Written {
    let stream = parse(text);
    assert!(stream.errors.is_empty(), "{:?}", stream.errors);
    match value_at(&stream.documents[0], path) {
        Value::Scalar { at, .. } => at,
        other => panic!("not a scalar: {other:?}"),
    }
}

#[test]
fn spans_cover_exactly_the_written_value() {
    let cases = [
        ("image: nginx:1.2\n", "nginx:1.2"),
        ("image: nginx:1.2   # comment\n", "nginx:1.2"),
        ("image: 'nginx:1.2'\n", "nginx:1.2"),
        ("image: \"nginx:1.2\"\n", "nginx:1.2"),
        ("image: &img nginx:1.2\n", "nginx:1.2"),
        ("image: !!str nginx:1.2\n", "nginx:1.2"),
        ("image: |-\n  nginx:1.2\n", "nginx:1.2"),
        ("image: >-\n    nginx:1.2\nother: x\n", "nginx:1.2"),
        ("{image: nginx:1.2}", "nginx:1.2"),
        ("image: nginx:1.2\r\nnext: x\r\n", "nginx:1.2"),
    ];
    for (text, want) in cases {
        let Written::Exact(span) = span_of(text, &["image"]) else {
            panic!("{text:?}")
        };
        assert_eq!(&text[span], want, "{text:?}");
    }
}

#[test]
fn values_that_differ_from_their_source_have_no_span() {
    let cases = [
        "image: \"nginx\\x3a1.2\"\n",
        "image: 'it''s'\n",
        "image: nginx\n  :1.2\n",
        "image: \"nginx\n  :1.2\"\n",
        "image: |\n  nginx:1.2\n",
        "image: >-\n  nginx\n  :1.2\n",
    ];
    for text in cases {
        let Written::Inexact(token, _) = span_of(text, &["image"]) else {
            panic!("{text:?}")
        };
        assert!(
            text[token].starts_with(['"', '\'', 'n', '|', '>']),
            "{text:?}"
        );
    }
}

#[test]
fn byte_offsets_survive_non_ascii_text_before_the_value() {
    let text = "# Ünïcödé ☃ 🐳\nnäme: \"日本語\"\nimage: nginx:1.2\n";
    let Written::Exact(span) = span_of(text, &["image"]) else {
        panic!()
    };
    assert_eq!(&text[span.clone()], "nginx:1.2");
    assert_eq!(column(text, span.start), 8);
    let stream = parse(text);
    let document = &stream.documents[0];
    let image = document.get(document.root().unwrap(), "image").unwrap();
    assert_eq!(document.line(image.key), 3);
}

#[test]
fn columns_are_bytes_from_the_line_start() {
    let text = "a: b\r\n  ü: x\n";
    assert_eq!(column(text, 0), 1);
    assert_eq!(column(text, 3), 4);
    assert_eq!(column(text, 10), 5);
}

#[test]
fn aliases_resolve_to_the_anchored_scalar() {
    let text = "base: &img nginx:1.2\nimage: *img\n";
    assert_eq!(span_of(text, &["image"]), Written::Exact(11..20));
}

#[test]
fn merge_keys_are_followed_and_own_keys_win() {
    let text = "\
x-a: &a {image: a:1, user: root}
x-b: &b {image: b:1, port: 80}
s1: {<<: *a, other: 1}
s2: {<<: [*b, *a]}
s3: {<<: *a, image: own:1}
";
    let stream = parse(text);
    let document = &stream.documents[0];
    let root = document.root().unwrap();
    let image = |service: &str| {
        let node = document.get(root, service).unwrap().value;
        document
            .str(document.get(node, "image").unwrap().value)
            .unwrap()
            .to_owned()
    };
    assert_eq!(image("s1"), "a:1");
    assert_eq!(image("s2"), "b:1");
    assert_eq!(image("s3"), "own:1");
    let s2 = document.get(root, "s2").unwrap().value;
    let keys: Vec<&str> = document.entries(s2).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["image", "port", "user"]);
}

#[test]
fn merge_chains_and_self_references_terminate() {
    let mut text = String::from("m0: &m0 {k: v}\n");
    for i in 1..2000 {
        text.push_str(&format!("m{i}: &m{i} {{<<: *m{}}}\n", i - 1));
    }
    text.push_str("loop: &l {<<: *l}\n");
    let stream = parse(&text);
    let document = &stream.documents[0];
    let root = document.root().unwrap();
    let deep = document.get(root, "m1999").unwrap().value;
    assert!(
        document.get(deep, "k").is_none(),
        "beyond the merge depth limit"
    );
    let shallow = document.get(root, "m3").unwrap().value;
    assert!(document.get(shallow, "k").is_some());
    let looped = document.get(root, "loop").unwrap().value;
    assert!(document.get(looped, "k").is_none());
}

#[test]
fn documents_are_separate_and_errors_skip_only_their_document() {
    let text = "a: 1\n---\nb: [1, 2\n---\nc: 3\n";
    let stream = parse(text);
    assert_eq!(stream.documents.len(), 2);
    assert_eq!(stream.errors.len(), 1);
    let last = &stream.documents[1];
    assert!(last.get(last.root().unwrap(), "c").is_some());
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let text = format!("image: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let started = Instant::now();
    let stream = parse(&text);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(stream.errors.len(), 1);
    assert!(stream.documents.is_empty());
}

#[test]
fn alias_bombs_are_read_without_expansion() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let items = vec![format!("*{}", pair[0]); 9].join(",");
        text.push_str(&format!("{}: &{} [{items}]\n", pair[1], pair[1]));
    }
    let started = Instant::now();
    let stream = parse(&text);
    assert!(stream.errors.is_empty());
    let document = &stream.documents[0];
    assert!(document.nodes.len() < 200);
    // Walking the bomb level by level spends the budget and stops, instead of visiting
    // 9^9 strings.
    let mut level = vec![document.get(document.root().unwrap(), "i").unwrap().value];
    while !level.is_empty() && !document.exhausted() {
        level = level
            .iter()
            .flat_map(|&node| document.items(node))
            .collect();
    }
    assert!(document.exhausted());
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn nulls_and_collections_are_told_apart_from_strings() {
    let text = "a:\nb: ~\nc: null\nd: ''\ne: {x: 1}\nf: [1]\n";
    let stream = parse(text);
    let document = &stream.documents[0];
    for key in ["a", "b", "c"] {
        assert!(matches!(value_at(document, &[key]), Value::Null), "{key}");
    }
    assert!(matches!(
        value_at(document, &["d"]),
        Value::Scalar { value: "", .. }
    ));
    assert!(matches!(
        value_at(document, &["e"]),
        Value::Other { source: "{x: 1}" }
    ));
    assert!(matches!(
        value_at(document, &["f"]),
        Value::Other { source: "[1]" }
    ));
}
