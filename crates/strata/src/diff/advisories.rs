//! diff stage, advisories: reads OSV records from a local directory (every `*.json`
//! below it, as osv.dev's per-ecosystem exports unpack, and every `*.zip` export left
//! packed) or from one zip file, into an index. Only records
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

/// The largest record read from a zip (OSV records are a few kB).
const MAX_RECORD: u64 = 16 << 20;

/// Loads the records under `path` (a directory, or one zip file) naming any of
/// `ecosystems` (bare names: `Debian`).
pub fn load(path: &Path, ecosystems: &BTreeSet<String>) -> Result<Loaded> {
    let mut files = Vec::new();
    if path.is_dir() {
        collect(path, &mut files).with_context(|| format!("listing {}", path.display()))?;
    } else if path.is_file() {
        files.push(path.to_owned());
    } else {
        bail!("the advisory source {} does not exist", path.display());
    }
    files.sort();
    let mut reader = Reader {
        needles: ecosystems.iter().map(|e| format!("\"{e}")).collect(),
        advisories: Vec::new(),
        problems: Vec::new(),
        records: 0,
    };
    for file in &files {
        if file.extension().is_some_and(|e| e == "zip") {
            if let Err(err) = reader.zip(file) {
                reader.problems.push(format!("{}: {err:#}", file.display()));
            }
            continue;
        }
        match std::fs::read(file) {
            Ok(bytes) => reader.record(&file.display().to_string(), &bytes),
            Err(err) => reader.problems.push(format!("{}: {err}", file.display())),
        }
    }
    Ok(Loaded {
        index: AdvisoryIndex::new(reader.advisories),
        files: reader.records,
        problems: reader.problems,
    })
}

struct Reader {
    needles: Vec<String>,
    advisories: Vec<Advisory>,
    problems: Vec<String>,
    records: usize,
}

impl Reader {
    fn record(&mut self, name: &str, bytes: &[u8]) {
        self.records += 1;
        if !self.needles.iter().any(|n| contains(bytes, n.as_bytes())) {
            return;
        }
        match Advisory::parse(bytes) {
            Ok(advisory) => self.advisories.push(advisory),
            Err(err) => self.problems.push(format!("{name}: {err}")),
        }
    }

    /// Every `*.json` member of a zip (osv.dev's `<Ecosystem>/all.zip`).
    fn zip(&mut self, path: &Path) -> Result<()> {
        use std::io::Read as _;
        let file = std::fs::File::open(path)?;
        let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))?;
        let mut bytes = Vec::new();
        for i in 0..archive.len() {
            let member = archive.by_index(i)?;
            let member_name = member.name()?.into_owned();
            let name = format!("{}:{member_name}", path.display());
            if !member.is_file() || !member_name.ends_with(".json") {
                continue;
            }
            bytes.clear();
            member.take(MAX_RECORD).read_to_end(&mut bytes)?;
            self.record(&name, &bytes);
        }
        Ok(())
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            collect(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "json" || e == "zip") {
            out.push(path);
        }
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
