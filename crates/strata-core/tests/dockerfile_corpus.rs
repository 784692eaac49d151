//! Every real Dockerfile in corpus/dockerfiles.tar.gz either extracts or yields a clear
//! error; none panics. The archive holds exactly the files its index lists.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod corpus;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use strata_core::extract::dockerfile::{Options, extract};

/// Files in the archive (`count` in its index.json): a corpus that shrinks must fail.
const FILES: usize = 3_363;

#[test]
fn real_dockerfiles_extract_without_panic() {
    let opts = Options::default();
    let (mut files, mut occurrences, mut with_errors) = (0, 0, Vec::new());
    for (name, bytes) in corpus::dockerfiles() {
        // Every file of the corpus is UTF-8 (a file that is not fails here, loudly).
        let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = extract(&text, &opts);
        files += 1;
        occurrences += out.occurrences.len();
        for occ in &out.occurrences {
            if occ.blocked.is_none() {
                let written = &text[occ.span.clone()];
                assert!(!written.is_empty(), "{name}: empty span");
            }
        }
        if !out.errors.is_empty() {
            with_errors.push(format!("{name}: {:?}", out.errors));
        }
    }
    println!(
        "{files} Dockerfiles, {occurrences} references, {} with errors",
        with_errors.len()
    );
    for e in &with_errors {
        println!("  {e}");
    }
    assert_eq!(files, FILES);
}

#[test]
fn archive_holds_exactly_the_indexed_files() {
    let index = corpus::dockerfile_index();
    assert_eq!(index["count"].as_u64(), Some(FILES as u64));
    let mut indexed: BTreeMap<String, (String, u64)> = BTreeMap::new();
    for entry in index["entries"].as_array().unwrap() {
        let file = format!("dockerfiles/{}", entry["file"].as_str().unwrap());
        let sha256 = entry["sha256"].as_str().unwrap().to_owned();
        let bytes = entry["bytes"].as_u64().unwrap();
        assert!(
            indexed.insert(file.clone(), (sha256, bytes)).is_none(),
            "{file} twice"
        );
    }
    assert_eq!(indexed.len(), FILES);
    let mut seen = 0;
    for (name, bytes) in corpus::dockerfiles() {
        let Some((sha256, size)) = indexed.remove(&name) else {
            panic!("{name} is not in index.json, or is in the archive twice");
        };
        assert_eq!(bytes.len() as u64, size, "{name}");
        assert_eq!(hex(&Sha256::digest(&bytes)), sha256, "{name}");
        seen += 1;
    }
    let missing: Vec<&String> = indexed.keys().collect();
    assert!(missing.is_empty(), "indexed but not archived: {missing:?}");
    assert_eq!(seen, FILES);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
