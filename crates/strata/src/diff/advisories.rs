//! diff stage, advisories: reads OSV records from a local directory (every `*.json`
//! below it, as osv.dev's per-ecosystem exports unpack) into an index. Only records
//! that name one of the wanted ecosystems are parsed (a cheap byte check first), so a
//! directory holding every ecosystem costs little. A record that does not parse is
//! reported, never fatal. Reads files only; never the network.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use strata_core::osv::{Advisory, AdvisoryIndex};

/// The environment variable naming the advisory directory.
pub const ADVISORIES_ENV: &str = "STRATA_ADVISORIES";

/// The loaded index and the records that could not be read.
#[derive(Debug)]
pub struct Loaded {
    pub index: AdvisoryIndex,
    pub files: usize,
    pub problems: Vec<String>,
}

/// The advisory directory: `explicit`, else `$STRATA_ADVISORIES`, else
/// `<cache>/advisories` when it exists; `None`: advisories are not matched.
pub fn location(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return Some(path.to_owned());
    }
    if let Some(path) = std::env::var_os(ADVISORIES_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    crate::dirs::cache_dir()
        .map(|dir| dir.join("advisories"))
        .filter(|dir| dir.is_dir())
}

/// Loads the records under `dir` naming any of `ecosystems` (bare names: `Debian`).
pub fn load(dir: &Path, ecosystems: &BTreeSet<String>) -> Result<Loaded> {
    if !dir.is_dir() {
        bail!("the advisory directory {} does not exist", dir.display());
    }
    let mut files = Vec::new();
    collect(dir, &mut files).with_context(|| format!("listing {}", dir.display()))?;
    files.sort();
    let needles: Vec<String> = ecosystems.iter().map(|e| format!("\"{e}")).collect();
    let mut advisories = Vec::new();
    let mut problems = Vec::new();
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(err) => {
                problems.push(format!("{}: {err}", file.display()));
                continue;
            }
        };
        if !needles.iter().any(|n| contains(&bytes, n.as_bytes())) {
            continue;
        }
        match Advisory::parse(&bytes) {
            Ok(advisory) => advisories.push(advisory),
            Err(err) => problems.push(format!("{}: {err}", file.display())),
        }
    }
    Ok(Loaded {
        index: AdvisoryIndex::new(advisories),
        files: files.len(),
        problems,
    })
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            collect(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
