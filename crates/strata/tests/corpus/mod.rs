//! test support: the corpora in the repository's `corpus/` folder (see its README) as
//! directories the `strata` binary can be pointed at. Every corpus-driven test and bench
//! of this crate reaches its data through here. Compressed parts are unpacked once into
//! Cargo's temporary directory for tests, in a folder named for the content it came
//! from: a changed corpus never meets a stale copy, and checkouts sharing one target
//! directory never overwrite each other's.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the report

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use sha2::{Digest, Sha256};

/// `corpus/<relative>` in this checkout.
pub fn path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus")
        .join(relative)
}

/// A directory laid out like the official-images corpus: `library/` and
/// `removed-tags.json` (what `--official-images` reads), made from
/// `corpus/official-images/library` and `removed-tags.json.gz`.
pub fn official_images() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let library = path("official-images/library");
        let history = path("official-images/removed-tags.json.gz");
        unpacked("official-images", &[&library, &history], |dir| {
            fs::create_dir(dir.join("library")).unwrap();
            for (name, bytes) in files_in(&library) {
                fs::write(dir.join("library").join(name), bytes).unwrap();
            }
            let mut json = Vec::new();
            GzDecoder::new(fs::File::open(&history).unwrap())
                .read_to_end(&mut json)
                .unwrap_or_else(|e| panic!("{}: {e}", history.display()));
            fs::write(dir.join("removed-tags.json"), json).unwrap();
        })
    })
    .clone()
}

/// The real Dockerfiles of `corpus/dockerfiles.tar.gz`, unpacked: a directory of 3,363
/// files (`files/` of the archive; `index.json` lies beside it).
pub fn dockerfiles() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let archive = path("dockerfiles.tar.gz");
        let dir = unpacked("dockerfiles", &[&archive], |dir| {
            let file = fs::File::open(&archive).unwrap();
            tar::Archive::new(GzDecoder::new(file))
                .unpack(dir)
                .unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
        });
        dir.join("dockerfiles/files")
    })
    .clone()
}

/// `<tmp>/corpus/<name>-<hash of inputs>`, filled by `fill` when it does not exist yet.
/// Filled in a staging folder and renamed into place, so a concurrent run sees either
/// nothing or the whole directory.
fn unpacked(name: &str, inputs: &[&Path], fill: impl FnOnce(&Path)) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus");
    let dir = root.join(format!("{name}-{}", fingerprint(inputs)));
    if dir.is_dir() {
        return dir;
    }
    fs::create_dir_all(&root).unwrap();
    let staging = tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(&root)
        .unwrap();
    fill(staging.path());
    // Losing the race to another process is fine: its copy has the same content.
    if fs::rename(staging.path(), &dir).is_err() {
        assert!(dir.is_dir(), "could not move {name} into {}", dir.display());
    }
    dir
}

/// The first 16 hex digits of a SHA-256 over the inputs' names and bytes.
fn fingerprint(inputs: &[&Path]) -> String {
    let mut hash = Sha256::new();
    for input in inputs {
        let files = if input.is_dir() {
            files_in(input)
        } else {
            let bytes = fs::read(input).unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            vec![(String::new(), bytes)]
        };
        for (name, bytes) in files {
            hash.update(name.as_bytes());
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(&bytes);
        }
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every file of a directory (one level, sorted by name) as `(name, bytes)`.
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}
