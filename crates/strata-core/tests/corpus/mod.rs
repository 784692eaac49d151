//! test support: the corpora in the repository's `corpus/` folder (see its README), read
//! in place. Every corpus-driven test reaches its data through here; the large parts are
//! read straight from their gzip archives, so a fresh clone needs no unpacking step.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

/// `corpus/<relative>` in this checkout.
pub fn path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../corpus")
        .join(relative)
}

/// A corpus file as text; the panic names the file.
pub fn read_to_string(relative: &str) -> String {
    let path = path(relative);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A gzip-compressed corpus file (`official-images/removed-tags.json.gz`), decompressed.
pub fn read_gz(relative: &str) -> String {
    let path = path(relative);
    let file = fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text
}

/// Every file under `<dir>/` (one level, sorted by name) as `(file name, text)`.
pub fn files_in(relative: &str) -> Vec<(String, String)> {
    let dir = path(relative);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<(String, String)> = entries
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text =
                fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (name, text)
        })
        .collect();
    files.sort();
    files
}

/// The real Dockerfiles of `corpus/dockerfiles.tar.gz`: `(path in the archive, bytes)`
/// for every regular file under `dockerfiles/files/`, in archive order.
pub fn dockerfiles() -> Vec<(String, Vec<u8>)> {
    archive_files("dockerfiles.tar.gz", "dockerfiles/files/")
}

/// `dockerfiles/index.json` from the same archive (repository, path, commit, sha256 and
/// licence of each file).
pub fn dockerfile_index() -> serde_json::Value {
    let [(_, bytes)]: [(String, Vec<u8>); 1] =
        archive_files("dockerfiles.tar.gz", "dockerfiles/index.json")
            .try_into()
            .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The regular files of a `.tar.gz` whose path starts with `prefix`.
fn archive_files(relative: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let path = path(relative);
    let file = or_panic(&path, fs::File::open(&path));
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let mut files = Vec::new();
    for entry in or_panic(&path, archive.entries()) {
        let mut entry = or_panic(&path, entry);
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = or_panic(&path, entry.path()).to_string_lossy().into_owned();
        if !name.starts_with(prefix) {
            continue;
        }
        let mut bytes = Vec::new();
        or_panic(&path, entry.read_to_end(&mut bytes));
        files.push((name, bytes));
    }
    files
}

fn or_panic<T>(path: &Path, result: std::io::Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
