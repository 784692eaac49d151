//! Every real Dockerfile in ../shared/corpus/dockerfiles either extracts or yields a
//! clear error; none panics.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::fs;
use std::path::Path;

use strata_core::extract::dockerfile::{Options, extract};

#[test]
fn real_dockerfiles_extract_without_panic() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/dockerfiles/files");
    let opts = Options::default();
    let (mut files, mut occurrences, mut with_errors) = (0, 0, Vec::new());
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = fs::read(&path).unwrap();
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let out = extract(&text, &opts);
        files += 1;
        occurrences += out.occurrences.len();
        for occ in &out.occurrences {
            if occ.blocked.is_none() {
                let written = &text[occ.span.clone()];
                assert!(!written.is_empty(), "{}: empty span", path.display());
            }
        }
        if !out.errors.is_empty() {
            with_errors.push(format!(
                "{}: {:?}",
                path.file_name().unwrap().to_string_lossy(),
                out.errors
            ));
        }
    }
    println!(
        "{files} Dockerfiles, {occurrences} references, {} with errors",
        with_errors.len()
    );
    for e in &with_errors {
        println!("  {e}");
    }
    assert!(files > 3000);
}

#[test]
fn ten_thousand_stages_scan_in_linear_time() {
    let mut text = String::from("ARG TAG=3.19\nFROM alpine:${TAG} AS s0\n");
    for i in 1..10_000 {
        text.push_str(&format!(
            "FROM s{} AS s{i}\nCOPY --from=s{} /a /b\n",
            i - 1,
            i / 2
        ));
    }
    let out = extract(&text, &Options::default());
    assert!(out.errors.is_empty(), "{:?}", out.errors.first());
    assert_eq!(out.occurrences.len(), 1);
    assert_eq!(out.skips.len(), 2 * 9_999);
}
