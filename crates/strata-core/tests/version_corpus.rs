//! Version ordering against the corpus tables written by others (osv-scalibr's
//! `semantic/testdata`, generated with `dpkg --compare-versions` and `apk version -t`):
//! every comparison both ways; and `dpkg --compare-versions` on this machine as a second,
//! independent oracle for the Debian table.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::cmp::Ordering;
use std::path::PathBuf;
use std::process::Command;

use strata_core::version::Scheme;

mod corpus;

/// Where the versions corpus lives (the one place to change when it moves).
fn corpus() -> PathBuf {
    corpus::path("versions")
}

/// `(a, ordering, b, line)` of every comparison line of a table.
fn cases(file: &str) -> Vec<(String, Ordering, String, usize)> {
    let text = std::fs::read_to_string(corpus().join(file)).unwrap();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [a, op, b] = parts[..] else {
            panic!("{file}:{}: unreadable line {line:?}", n + 1)
        };
        let ordering = match op {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            _ => panic!("{file}:{}: unknown operator {op:?}", n + 1),
        };
        out.push((a.to_owned(), ordering, b.to_owned(), n + 1));
    }
    out
}

fn check(scheme: Scheme, file: &str) -> usize {
    let cases = cases(file);
    let mut failures = Vec::new();
    for (a, want, b, line) in &cases {
        let got = scheme.compare(a, b);
        let back = scheme.compare(b, a);
        if got != *want || back != want.reverse() {
            failures.push(format!(
                "{file}:{line}: {a} {want:?} {b}, got {got:?} / {back:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures[..failures.len().min(40)].join("\n")
    );
    cases.len()
}

#[test]
fn dpkg_ordering_matches_the_debian_tables() {
    let hand = check(Scheme::Dpkg, "debian-versions.txt");
    let generated = check(Scheme::Dpkg, "debian-versions-generated.txt");
    assert_eq!((hand, generated), (30, 14_442));
}

#[test]
fn apk_ordering_matches_the_alpine_tables() {
    let hand = check(Scheme::Apk, "alpine-versions.txt");
    let generated = check(Scheme::Apk, "alpine-versions-generated.txt");
    assert_eq!((hand, generated), (778, 13_979));
}

/// `dpkg --compare-versions` agrees with us on a spread sample of the Debian table
/// (every 7th generated comparison and all hand-written ones: a process per check).
#[test]
fn dpkg_on_this_machine_agrees() {
    if Command::new("dpkg").arg("--version").output().is_err() {
        eprintln!("dpkg is not installed: second oracle skipped");
        return;
    }
    let mut all = cases("debian-versions.txt");
    all.extend(
        cases("debian-versions-generated.txt")
            .into_iter()
            .step_by(7),
    );
    let mut ran = 0;
    for (a, _, b, line) in &all {
        let ours = Scheme::Dpkg.compare(a, b);
        let op = match ours {
            Ordering::Less => "lt",
            Ordering::Equal => "eq",
            Ordering::Greater => "gt",
        };
        let status = Command::new("dpkg")
            .args(["--compare-versions", a, op, b])
            .status()
            .unwrap();
        assert!(status.success(), "line {line}: dpkg says not {a} {op} {b}");
        ran += 1;
    }
    assert_eq!(ran, 30 + 14_442usize.div_ceil(7));
}
