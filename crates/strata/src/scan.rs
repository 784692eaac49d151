//! extract stage, driven: reads discovered files (in parallel, bounded by the number of
//! cores) and hands their text to the pure extractors in strata-core. Bad input becomes a
//! per-file error that names the file and line; one bad file never stops the others.
//! Compose files also get their project's `.env` files, and the files they `include` or
//! `extends` from are read too (`scan/compose.rs`).

mod compose;

pub use compose::environment as compose_environment;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_core::extract::{actions, dockerfile, kubernetes};
use strata_core::occurrence::{ExtractError, Extraction};

use crate::discover::{Kind, SourceFile};

/// Files larger than this are not read (no real Dockerfile or manifest comes close).
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// What the scan is told about the build.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub dockerfile: dockerfile::Options,
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileScan {
    pub file: SourceFile,
    /// The file's text (kept for rewrites); empty when it could not be read.
    pub text: String,
    pub extraction: Extraction,
}

/// Reads and extracts every file, then the compose files that compose files bring in
/// (see `scan/compose.rs`). Output is sorted by display path, like `files`.
pub fn scan(files: &[SourceFile], opts: &ScanOptions) -> Vec<FileScan> {
    let mut results = scan_each(files, opts);
    compose::follow(&mut results);
    results
}

/// Reads and extracts every file. Output order follows `files`.
fn scan_each(files: &[SourceFile], opts: &ScanOptions) -> Vec<FileScan> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<FileScan>>> = Mutex::new(vec![None; files.len()]);
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let result = scan_file(file, opts);
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

fn failed(file: &SourceFile, line: usize, message: String) -> FileScan {
    let mut extraction = Extraction::default();
    extraction.errors.push(ExtractError { line, message });
    FileScan {
        file: file.clone(),
        text: String::new(),
        extraction,
    }
}

/// Reads one file and extracts it.
pub fn scan_file(file: &SourceFile, opts: &ScanOptions) -> FileScan {
    let text = match read_text(&file.path) {
        Ok(text) => text,
        Err((line, message)) => return failed(file, line, message),
    };
    let extraction = extract_text(file, &text, opts);
    FileScan {
        file: file.clone(),
        text,
        extraction,
    }
}

/// Reads a file as UTF-8 text, refusing huge, binary and invalid files with the line
/// where the problem is.
pub fn read_text(path: &Path) -> Result<String, (usize, String)> {
    let meta = std::fs::metadata(path).map_err(|e| (0, format!("cannot read: {e}")))?;
    if meta.len() > MAX_FILE {
        return Err((
            0,
            format!(
                "file is {} bytes, larger than the {MAX_FILE} bytes strata reads",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| (0, format!("cannot read: {e}")))?;
    if let Some(nul) = bytes.iter().take(8192).position(|&b| b == 0) {
        let line = 1 + bytes[..nul].iter().filter(|&&b| b == b'\n').count();
        return Err((line, "binary file (contains a NUL byte)".to_owned()));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..valid].iter().filter(|&&b| b == b'\n').count();
        (line, format!("invalid UTF-8 at byte {valid}"))
    })
}

/// Runs the extractor for the file's kind.
pub fn extract_text(file: &SourceFile, text: &str, opts: &ScanOptions) -> Extraction {
    match file.kind {
        Kind::Dockerfile => dockerfile::extract(text, &opts.dockerfile),
        Kind::Compose => compose::read(file, text).extraction,
        Kind::Workflow => actions::extract(text, &|_| None),
        Kind::Action => actions::extract_action(text, &|_| None),
        Kind::Yaml if kubernetes::is_manifest(text) => kubernetes::extract(text, &|_| None),
        Kind::Yaml => Extraction::default(),
    }
}
