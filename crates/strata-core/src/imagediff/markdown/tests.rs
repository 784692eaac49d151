//! The Markdown rendering: budgets respected, nothing unescaped from images.

use super::*;
use crate::imagediff::{LayerDiff, PlatformReport, Report, Side};
use crate::package::{ChangeKind, Manager, Package, PackageChange, PackageDiff};

fn platform(name: &str, changes: usize) -> PlatformReport {
    let pkg = |i: usize, v: &str| Package {
        name: format!("pkg-{i}"),
        version: v.into(),
        architecture: None,
        source: "src|<script>".into(),
        source_version: v.into(),
        manager: Manager::Dpkg,
    };
    PlatformReport {
        platform: name.into(),
        old_digest: "sha256:1111111111111111".into(),
        new_digest: "sha256:2222222222222222".into(),
        config: Vec::new(),
        layers: LayerDiff::default(),
        old: None,
        new: None,
        packages: Some(PackageDiff {
            changes: (0..changes)
                .map(|i| PackageChange {
                    name: format!("pkg-{i}"),
                    kind: ChangeKind::Upgraded,
                    old: Some(pkg(i, "1")),
                    new: Some(pkg(i, "2")),
                })
                .collect(),
            unchanged: 3,
        }),
        advisories: None,
        notes: Vec::new(),
        partial: Vec::new(),
    }
}

fn report(platforms: Vec<PlatformReport>) -> Report {
    let side = |r: &str| Side {
        reference: r.into(),
        digest: "sha256:0".into(),
    };
    Report::new(
        side("a:1"),
        side("a:2"),
        platforms,
        vec![],
        vec![],
        vec![],
        None,
    )
}

#[test]
fn long_lists_are_cut_with_a_count() {
    let md = markdown(&report(vec![platform("linux/amd64", 500)]), usize::MAX);
    assert_eq!(md.details.matches("| pkg-").count(), MAX_ROWS);
    assert!(md.details.contains("…and 440 more."), "{}", md.details);
    assert!(!md.truncated);
}

#[test]
fn platforms_that_do_not_fit_are_named_in_a_note() {
    let r = report(vec![
        platform("linux/amd64", 50),
        platform("linux/arm64/v8", 50),
        platform("linux/s390x", 50),
    ]);
    let whole = markdown(&r, usize::MAX);
    let budget = whole.summary.chars().count() + whole.details.chars().count() / 2;
    let cut = markdown(&r, budget);
    assert!(cut.truncated);
    assert!(cut.summary.chars().count() + cut.details.chars().count() <= budget);
    assert!(
        cut.details.contains("linux/amd64"),
        "the first platform fits"
    );
    assert!(
        cut.details.contains("left out to fit the size limit"),
        "{}",
        cut.details
    );
    assert_eq!(
        cut.details.matches("<details>").count(),
        cut.details.matches("</details>").count()
    );
    // A budget too small even for the summary still yields text, never a panic.
    let tiny = markdown(&r, 30);
    assert!(tiny.summary.chars().count() <= 40, "{}", tiny.summary);
}

#[test]
fn text_from_images_cannot_break_the_markdown() {
    let md = markdown(&report(vec![platform("linux/amd64", 1)]), usize::MAX);
    assert!(
        md.details.contains("src\\|&lt;script&gt;"),
        "{}",
        md.details
    );
    assert!(!md.details.contains("<script>"));
    assert_eq!(escape("a`b*c_[d](e)\nf"), "a'b\\*c\\_\\[d\\](e) f");
}

#[test]
fn the_chain_of_a_rebuilt_image_ends_with_the_pull_request() {
    let mut r = report(vec![platform("linux/amd64", 1)]);
    r.why.push(crate::imagediff::Cause::Base {
        image: "python:3.12-slim".into(),
        old_digest: None,
        new_digest: None,
        moved_at: None,
        evidence: "annotations".into(),
        below: vec!["debian:bookworm-slim".into()],
    });
    let pr = markdown_for_pull_request(&r, usize::MAX);
    assert!(
        pr.summary.starts_with(
            "**Chain:** `debian:bookworm-slim` moved → `python:3.12-slim` rebuilt → this pull request\n"
        ),
        "{}",
        pr.summary
    );
    assert!(markdown(&r, usize::MAX).summary.contains("rebuilt → `a:2`"));
}
