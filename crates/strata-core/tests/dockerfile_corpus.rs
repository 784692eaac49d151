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
