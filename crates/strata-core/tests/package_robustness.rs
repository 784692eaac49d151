//! No input makes the package readers, the overlay or the version orderings panic:
//! random bytes, and this machine's real dpkg database cut and corrupted at random
//! places (a deterministic generator, so a failure reproduces).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::cmp::Ordering;

use strata_core::overlay::{Entry, Overlay};
use strata_core::package::{OsRelease, parse_apk_installed, parse_dpkg_status, parse_status_d};
use strata_core::version::Scheme;

/// A small deterministic generator (PCG-style LCG).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn text(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"Package:Version Status install ok installed\n\n P:V:o:A:.-~+_=\"'/\\0123456789abcXYZ\t\r";
        let bytes: Vec<u8> = (0..len)
            .map(|_| ALPHABET[self.next() as usize % ALPHABET.len()])
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[test]
fn random_text_never_panics_anything() {
    let mut noise = Noise(7);
    let mut ran = 0;
    for round in 0..3_000 {
        let len = (noise.next() % 400) as usize;
        let text = noise.text(len);
        let _ = parse_dpkg_status(&text, "status");
        let _ = parse_status_d(&text, "status.d/x");
        let _ = parse_apk_installed(&text, "installed");
        let _ = OsRelease::parse(&text).and_then(|r| r.release());
        let (a, b) = text.split_at(text.len() / 2);
        for scheme in [Scheme::Dpkg, Scheme::Apk] {
            // Antisymmetry holds for any text, valid or not.
            assert_eq!(
                scheme.compare(a, b),
                scheme.compare(b, a).reverse(),
                "{a:?} {b:?}"
            );
            assert_eq!(scheme.compare(a, a), Ordering::Equal);
        }
        let mut overlay = Overlay::new();
        for path in text.split('\n').take(20) {
            let entry = match round % 4 {
                0 => Entry::File(Some(path.as_bytes().to_vec())),
                1 => Entry::Symlink(path.to_owned()),
                2 => Entry::Hardlink(path.to_owned()),
                _ => Entry::Dir,
            };
            let _ = overlay.entry(path, entry);
        }
        overlay.end_layer();
        let _ = overlay.finish();
        ran += 1;
    }
    assert_eq!(ran, 3_000);
}

#[test]
fn a_real_database_cut_and_corrupted_still_reads() {
    let Ok(status) = std::fs::read_to_string("/var/lib/dpkg/status") else {
        eprintln!("no dpkg database on this machine: skipped");
        return;
    };
    let whole = parse_dpkg_status(&status, "status");
    assert!(
        whole.problems.is_empty(),
        "{:?}",
        &whole.problems[..whole.problems.len().min(3)]
    );
    let mut noise = Noise(11);
    for _ in 0..200 {
        let mut bytes = status.as_bytes().to_vec();
        let cut = noise.next() as usize % bytes.len();
        bytes.truncate(cut);
        for _ in 0..5 {
            if bytes.is_empty() {
                break;
            }
            let at = noise.next() as usize % bytes.len();
            bytes[at] = (noise.next() % 256) as u8;
        }
        let text = String::from_utf8_lossy(&bytes);
        let parsed = parse_dpkg_status(&text, "status");
        // Never more packages than the whole file has.
        assert!(parsed.packages.len() <= whole.packages.len());
    }
}
