//! Unit tests of the library module on small hand-written files; the official-images
//! corpus runs in `tests/official_images.rs`.

use super::entry::{clean_path, valid_maintainer};
use super::*;
use crate::reference::Reference;

const GLOBAL: &str =
    "Maintainers: Jane Doe <jane@example.com> (@jane)\nGitRepo: https://example.com/x.git\n";

fn parse(body: &str) -> Result<Manifest, ManifestError> {
    Manifest::parse(&format!("{GLOBAL}{body}"))
}

#[test]
fn entries_inherit_the_global_values() {
    let m = parse("GitCommit: abc\nArchitectures: arm64v8, amd64\n\nTags: 1.0, 1\n\nTags: 2.0\nGitCommit: def\nArchitectures: s390x\n").unwrap();
    let [one, two] = m.entries() else {
        panic!("{m:?}")
    };
    assert_eq!(
        (one.git_commit.as_str(), two.git_commit.as_str()),
        ("abc", "def")
    );
    assert_eq!(one.git_repo, "https://example.com/x.git");
    assert_eq!(one.architectures, ["amd64", "arm64v8"]);
    assert_eq!(
        two.architectures,
        ["s390x"],
        "Architectures replace, not add"
    );
    assert_eq!(
        (
            one.git_fetch.as_str(),
            one.directory.as_str(),
            one.file.as_str()
        ),
        ("refs/heads/master", ".", "Dockerfile")
    );
}

#[test]
fn comments_continuations_and_crlf() {
    let text = "# top\r\nMaintainers: A (@a),\r\n  B <b@x> (@b)\r\nGitRepo: r\r\n\r\n  # indented comment\r\nTags: 1,\r\n\t2\r\n# between fields\r\nGitCommit: 0123\r\n";
    let m = Manifest::parse(text).unwrap();
    assert_eq!(m.global().maintainers, ["A (@a)", "B <b@x> (@b)"]);
    assert_eq!(m.entries()[0].tags, ["1", "2"]);
    assert_eq!(m.entries()[0].git_commit, "0123");
    assert_eq!(m.format(), Format::Rfc2822);
}

#[test]
fn identical_builds_merge_and_shared_tags_dedupe() {
    let m = parse("\nTags: 1.5.3\nSharedTags: a, b\nGitCommit: abc\nDirectory: 1.5/\n\nTags: 1.5\nSharedTags: b\nGitCommit: abc\nDirectory: 1.5\n").unwrap();
    assert_eq!(m.entries().len(), 1);
    assert_eq!(m.entries()[0].tags, ["1.5.3", "1.5"]);
    assert_eq!(m.entries()[0].shared_tags, ["a", "b"]);
    assert!(m.lists("1.5") && m.lists("b") && !m.lists("1.6"));
    assert_eq!(m.entry_for_tag("1.5").unwrap().directory, "1.5");
    assert!(
        m.entry_for_tag("a").is_none(),
        "shared tags are not entry tags"
    );
    assert_eq!(m.entries_for_shared_tag("a").count(), 1);
}

#[test]
fn arch_specific_fields_override_per_architecture() {
    let m = parse("\nTags: 1\nGitCommit: abc\narm64v8-GitCommit: def\ns390x-Directory: ./s390x/\n")
        .unwrap();
    let e = &m.entries()[0];
    assert_eq!(e.arch_git_commit("arm64v8"), "def");
    assert_eq!(e.arch_git_commit("amd64"), "abc");
    assert_eq!(e.arch_value("s390x", "Directory"), "s390x");
}

#[test]
fn errors_name_the_problem() {
    let cases: &[(&str, &str)] = &[
        (
            "\nTags: 1\nGitCommit: abc\nno colon here\n",
            "Bad line: \"no colon here\" (line 6",
        ),
        ("\n  leading continuation\n", "Bad line:"),
        ("Tags: 1\n", "global Tags not permitted"),
        ("\nGitCommit: abc\n", "missing Tags"),
        ("\nTags: 1\n", "Tags \"1\" has invalid GitCommit"),
        ("\nTags: 1\nGitCommit: v1.0\n", "invalid GitCommit"),
        (
            "\nTags: 1\nGitCommit: abc\nGitFetch: main\n",
            "invalid GitFetch",
        ),
        (
            "\nTags: 1, 1\nGitCommit: abc\n",
            "includes duplicate tag: \"1\"",
        ),
        (
            "\nTags: 1\nGitCommit: abc\n\nTags: 1\nGitCommit: def\n",
            "duplicate tag",
        ),
        (
            "\nTags: 1\nSharedTags: s\nGitCommit: abc\n\nTags: s\nGitCommit: def\n",
            "conflicting with a shared tag",
        ),
        (
            "\nTags: 1\nGitCommit: abc\n\nTags: 2\nSharedTags: 1\nGitCommit: def\n",
            "conflicting shared tag",
        ),
        (
            "\nTags: 1\nGitCommit: abc\nArchitectures: vax\n",
            "invalid Architectures: \"vax\"",
        ),
        (
            "\nTags: 1\nGitCommit: abc\nMaintainers: nobody\n",
            "has invalid Maintainers",
        ),
    ];
    for (body, want) in cases {
        let error = parse(body).unwrap_err().to_string();
        assert!(error.contains(want), "{body:?}: {error}");
    }
    let error = Manifest::parse("GitRepo: x\n").unwrap_err();
    assert_eq!(error, ManifestError::MissingMaintainers);
}

#[test]
fn maintainers_follow_bashbrew_pattern() {
    for ok in [
        "Jane Doe (@jane)",
        "Jane Doe <jane@example.com> (@jane)",
        "J (@j-k)",
        "Docker, Inc. <x> (@docker)",
    ] {
        assert!(valid_maintainer(ok), "{ok}");
    }
    for bad in [
        "Jane Doe (jane)",
        "Jane Doe(@jane)",
        "(@jane)",
        " Jane (@jane)",
        "Jane <> (@jane)",
        "Jane <a b> (@j)",
        "Jane (@ja ne)",
    ] {
        assert!(!valid_maintainer(bad), "{bad}");
    }
}

#[test]
fn directories_are_cleaned_like_go_path_clean() {
    for (input, want) in [
        ("", "."),
        (".", "."),
        ("a/", "a"),
        ("./a//b/", "a/b"),
        ("a/../..", ".."),
        ("/a/../..", "/"),
        ("a/./b/../c", "a/c"),
    ] {
        assert_eq!(clean_path(input), want, "{input}");
    }
}

#[test]
fn line_based_files_parse() {
    let text = "# maintainer: Jane Doe <jane@example.com> (@jane)\n\nlatest: git://github.com/x/y@0123abcd 1.0\n1.0: git://github.com/x/y@0123abcd 1.0\nold: git://github.com/x/y@v0.9\n";
    let m = Manifest::parse(text).unwrap();
    assert_eq!(m.format(), Format::LineBased);
    assert_eq!(m.entries().len(), 2);
    assert_eq!(m.entries()[0].tags, ["latest", "1.0"]);
    let old = m.entry_for_tag("old").unwrap();
    assert_eq!(
        (old.git_fetch.as_str(), old.git_commit.as_str()),
        ("refs/tags/v0.9", "FETCH_HEAD")
    );
    assert_eq!(
        Manifest::parse_line_based("x: y@z\n").unwrap_err(),
        ManifestError::MissingMaintainers
    );
}

#[test]
fn canonical_text_drops_defaults() {
    let m = parse("Architectures: amd64\nGitFetch: refs/heads/master\n\nTags: 1\nGitCommit: abc\nBuilder: buildkit\n").unwrap();
    let want = "Maintainers: Jane Doe <jane@example.com> (@jane)\nGitRepo: https://example.com/x.git\n\nTags: 1\nGitCommit: abc\nBuilder: buildkit";
    assert_eq!(m.to_string(), want);
}

#[test]
fn listed_tags_reads_files_bashbrew_rejects() {
    // No maintainers: strict parsing fails in both formats, the tags still count.
    let listing = listed_tags("Tags: 1, 2\n  3\nSharedTags: s\nGitCommit: abc\n").unwrap();
    let tags: Vec<(&str, TagKind)> = listing.tags.iter().map(|(t, k)| (t.as_str(), *k)).collect();
    assert_eq!(
        tags,
        [
            ("1", TagKind::Tag),
            ("2", TagKind::Tag),
            ("3", TagKind::Tag),
            ("s", TagKind::Shared)
        ]
    );
    let listing = listed_tags("latest: git://x/y@abc\n12.04: git://x/y@def dir\n").unwrap();
    assert_eq!(listing.format, Format::LineBased);
    assert_eq!(listing.tags.len(), 2);
    assert_eq!(listed_tags("<<<<<<< HEAD\n"), None);
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn timeline_tracks_removals_and_readditions() {
    let v1 = format!("{GLOBAL}\nTags: 1.0, 1\nGitCommit: a\n");
    let v2 = format!("{GLOBAL}\nTags: 1.1, 1\nGitCommit: b\n");
    let mut timeline = Timeline::new();
    timeline.observe(
        "c1c1c1c1c1c1c1c1",
        at("2020-01-01T00:00:00Z"),
        Snapshot::Text(&v1),
    );
    timeline.observe(
        "c2c2c2c2c2c2c2c2",
        at("2020-02-01T00:00:00Z"),
        Snapshot::Text(&v2),
    );
    timeline.observe(
        "c3c3c3c3c3c3c3c3",
        at("2020-03-01T00:00:00Z"),
        Snapshot::Text("garbage"),
    );
    timeline.observe(
        "c4c4c4c4c4c4c4c4",
        at("2020-04-01T00:00:00Z"),
        Snapshot::Text(&v1),
    );
    timeline.observe(
        "c5c5c5c5c5c5c5c5",
        at("2020-05-01T00:00:00Z"),
        Snapshot::Absent,
    );
    let history = timeline.finish();
    assert!(!history.library_file_exists_at_head);
    assert_eq!(history.mainline_commits_touching_file, 5);
    assert_eq!(
        (history.current_tag_count, history.removed_tag_count),
        (0, 3)
    );
    let rows: Vec<(&str, &str, String, Option<u32>)> = history
        .removed_tags
        .iter()
        .map(|t| {
            (
                t.tag.as_str(),
                t.removed_commit.as_str(),
                t.removed.date().to_string(),
                t.readded_count,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("1.1", "c4c4c4c4c4c4", "2020-04-01".to_owned(), None),
            ("1.0", "c5c5c5c5c5c5", "2020-05-01".to_owned(), Some(1)),
            ("1", "c5c5c5c5c5c5", "2020-05-01".to_owned(), None),
        ]
    );
}

fn library(files: &[(&str, &str)]) -> Library {
    let mut library = Library::new();
    for (name, body) in files {
        library.insert(*name, parse(body).unwrap());
    }
    library
}

fn entries(groups: &[&str]) -> String {
    let mut text = String::new();
    for (i, tags) in groups.iter().enumerate() {
        text += &format!("\nTags: {tags}\nGitCommit: {:x}\n", i + 1);
    }
    text
}

#[test]
fn successors_keep_variant_and_line() {
    let debian = entries(&[
        "bookworm, 12.6, 12",
        "bookworm-slim, 12-slim",
        "trixie, 13.1, 13, latest",
        "trixie-slim, 13-slim",
    ]);
    let app = entries(&[
        "3.11.9-slim-bookworm, 3.11-slim-bookworm, 3.11.9-slim, 3.11-slim",
        "3.12.4-slim-bookworm, 3.12-slim-bookworm",
        "3.12.4-slim-trixie, 3.12-slim-trixie, 3.12.4-slim, 3.12-slim, 3-slim, slim",
        "3.13.0rc1-slim, 3.13-rc-slim",
        "4.0.1, 4.0, 4, latest",
    ]);
    let library = library(&[("debian", &debian), ("app", &app)]);
    let cases = [
        ("debian", "jessie", Some("bookworm")),
        ("debian", "buster-slim", Some("bookworm-slim")),
        ("debian", "9", Some("12")),
        ("app", "3.7-slim-buster", Some("3.11-slim-bookworm")),
        ("app", "3.12.1-slim", Some("3.12.4-slim")),
        ("app", "3.12-slim-bullseye", Some("3.12-slim-bookworm")),
        ("app", "3.12-rc-slim", Some("3.12-slim")),
        ("app", "3.12-onbuild", Some("4")),
        ("app", "3.10-slim-onbuild", Some("3.11-slim")),
        ("app", "2.7", Some("4")),
        ("app", "5.0", None),
        ("app", "rc-slim", Some("slim")),
    ];
    for (image, tag, want) in cases {
        let got = suggest(&library, image, tag).map(|s| s.tag);
        assert_eq!(got.as_deref(), want, "{image}:{tag}");
    }
}

#[test]
fn support_classifies_references() {
    let library = library(&[("app", &entries(&["1.1, 1, latest"]))]);
    let check = |r: &str| support(&r.parse::<Reference>().unwrap(), &library, None);
    assert_eq!(check("app:1.1"), Support::Supported);
    assert_eq!(check("app"), Support::Supported);
    assert_eq!(check("docker.io/library/app:1"), Support::Supported);
    let digest = format!("sha256:{}", "0".repeat(64));
    assert_eq!(check(&format!("app@{digest}")), Support::Supported);
    assert!(matches!(
        check("app:1.0"),
        Support::Unsupported {
            removed: None,
            image_retired: false,
            ..
        }
    ));
    assert_eq!(check("other:1"), Support::UnknownImage);
    assert_eq!(check("org/app:1.0"), Support::NotOfficial);
    assert_eq!(
        check("registry.example.com/library/app:1.0"),
        Support::NotOfficial
    );
    let r: Reference = "app:1".parse().unwrap();
    assert_eq!(official_image(&r), Some("app"));
}

#[test]
fn the_history_records_where_each_git_commit_first_appeared() {
    let file = |commit: &str, arm: &str| {
        format!(
            "Maintainers: Jane Doe (@jane)\nGitRepo: https://github.com/docker-library/python.git\n\n\
             Tags: 3.12-slim\nArchitectures: amd64, arm64v8\nGitCommit: {commit}\n\
             arm64v8-GitCommit: {arm}\nDirectory: 3.12/slim\n"
        )
    };
    let (a, b, c) = ("a".repeat(40), "b".repeat(40), "c".repeat(40));
    let mut timeline = Timeline::new();
    let day = |d: &str| Timestamp::parse(d).unwrap();
    timeline.observe(
        "1111111111111111",
        day("2024-01-01T00:00:00Z"),
        Snapshot::Text(&file(&a, &a)),
    );
    timeline.observe(
        "2222222222222222",
        day("2024-02-01T00:00:00Z"),
        Snapshot::Text(&file(&b, &c)),
    );
    timeline.observe(
        "3333333333333333",
        day("2024-03-01T00:00:00Z"),
        Snapshot::Text(&file(&b, &b)),
    );
    let image = timeline.finish();
    let seen: Vec<(&str, &str)> = image
        .git_commits
        .iter()
        .map(|(k, v)| (k.as_str(), v.commit.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("aaaaaaaaaaaa", "111111111111"),
            ("bbbbbbbbbbbb", "222222222222"),
            ("cccccccccccc", "222222222222")
        ]
    );
    // Through the index, with full or abbreviated commits; round-tripped through JSON.
    let mut images = std::collections::BTreeMap::new();
    images.insert("python".to_owned(), image);
    let source = HistorySource {
        repo: "r".into(),
        head_commit: "h".into(),
        head_date: None,
        license: None,
    };
    let json = serde_json::to_string(&History::new(HistoryFile::describe(source, images))).unwrap();
    let history: History = serde_json::from_str(&json).unwrap();
    assert_eq!(
        history
            .git_commit_seen("python", &b)
            .map(|s| s.commit.as_str()),
        Some("222222222222")
    );
    assert!(history.git_commit_seen("python", "dddddddddddd").is_none());
    assert!(history.git_commit_seen("python", "abc").is_none());
}
