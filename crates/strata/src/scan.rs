//! extract stage, driven: reads discovered files (in parallel, bounded by the number of
//! cores) and hands their text to the pure extractors in strata-core. Bad input becomes a
//! per-file error that names the file and line; one bad file never stops the others.
//! Compose files also get their project's `.env` files, and the files they `include` or
//! `extends` from are read too (`scan/compose.rs`).

mod compose;

pub use compose::environment as compose_environment;

use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_core::extract::{actions, dockerfile, kubernetes};
use strata_core::occurrence::{ExtractError, Extraction, Skip, SkipReason};

use crate::discover::{Kind, SourceFile};

/// Files larger than this are not read (no real Dockerfile or manifest comes close).
pub const MAX_FILE: u64 = 16 * 1024 * 1024;

/// What the scan is told about the build.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub dockerfile: dockerfile::Options,
    /// Drop each file's text once it is extracted: for a report of what was found
    /// (`strata scan`), so memory holds the findings, not the tree.
    pub drop_text: bool,
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct FileScan {
    pub file: SourceFile,
    /// The file's text (kept for rewrites); empty when it could not be read or when the
    /// scan was told to drop it ([`ScanOptions::drop_text`]).
    pub text: String,
    pub extraction: Extraction,
}

/// Reads and extracts every file, then the compose files that compose files bring in
/// (see `scan/compose.rs`). Output is sorted by display path, like `files`.
pub fn scan(files: &[SourceFile], opts: &ScanOptions) -> Vec<FileScan> {
    scan_map(files, opts, |scanned| scanned)
}

/// Whether a file may take part in compose's `include` and `extends`, and so is turned
/// only once every file is read: compose files, and YAML files a compose file may bring
/// in under any name.
fn deferred(kind: Kind) -> bool {
    matches!(kind, Kind::Compose | Kind::Yaml)
}

/// [`scan`], turning each file's result into `T` on the worker that scanned it (a report
/// can render it there, in parallel, and keep only what it will print). Compose and
/// YAML files are turned last, once every file is read and compose's links followed:
/// what one compose file means can depend on others. Output is sorted by display path.
pub fn scan_map<T: Send>(
    files: &[SourceFile],
    opts: &ScanOptions,
    map: impl Fn(FileScan) -> T + Sync,
) -> Vec<T> {
    enum Slot<T> {
        Done(String, T),
        Later(Box<FileScan>),
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Slot<T>>>> =
        Mutex::new(std::iter::repeat_with(|| None).take(files.len()).collect());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let scanned = scan_file(file, opts);
                    let slot = if deferred(scanned.file.kind) {
                        Slot::Later(Box::new(scanned))
                    } else {
                        Slot::Done(scanned.file.display.clone(), map(scanned))
                    };
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(slot);
                    }
                }
            });
        }
    });
    let mut done = Vec::with_capacity(files.len());
    let mut later = Vec::new();
    for slot in results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
    {
        match slot {
            Slot::Done(display, mapped) => done.push((display, mapped)),
            Slot::Later(scanned) => later.push(*scanned),
        }
    }
    compose::follow(&mut later);
    for mut scanned in later {
        if opts.drop_text {
            scanned.text = String::new();
        }
        done.push((scanned.file.display.clone(), map(scanned)));
    }
    // Stable: files keep their order where displays tie.
    done.sort_by(|a, b| a.0.cmp(&b.0));
    done.into_iter().map(|(_, mapped)| mapped).collect()
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

/// Reads one file and extracts it. A Dockerfile template is not read: it is a skip.
pub fn scan_file(file: &SourceFile, opts: &ScanOptions) -> FileScan {
    if file.kind == Kind::DockerfileTemplate {
        let mut extraction = Extraction::default();
        extraction.skips.push(Skip {
            line: 0,
            text: file
                .display
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
            reason: SkipReason::TemplateSource,
        });
        return FileScan {
            file: file.clone(),
            text: String::new(),
            extraction,
        };
    }
    let text = match read_text(&file.path) {
        Ok(text) => text,
        Err((line, message)) => return failed(file, line, message),
    };
    let extraction = extract_text(file, &text, opts);
    FileScan {
        file: file.clone(),
        // Compose and YAML files keep their text until compose's links are followed.
        text: if opts.drop_text && !deferred(file.kind) {
            String::new()
        } else {
            text
        },
        extraction,
    }
}

/// Reads a file as UTF-8 text, refusing huge, binary and invalid files with the line
/// where the problem is.
pub fn read_text(path: &Path) -> Result<String, (usize, String)> {
    let cannot = |e: std::io::Error| (0, format!("cannot read: {e}"));
    // One open and one `fstat` per file: the size check and the buffer's capacity come
    // from the open file, not from a second lookup of the path.
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let len = file.metadata().map_err(cannot)?.len();
    if len > MAX_FILE {
        return Err((
            0,
            format!("file is {len} bytes, larger than the {MAX_FILE} bytes strata reads"),
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    // `take` keeps a file that grows while it is read within the limit.
    (&mut file)
        .take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE {
        return Err((
            0,
            format!("file is larger than the {MAX_FILE} bytes strata reads"),
        ));
    }
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
        Kind::Yaml | Kind::DockerfileTemplate => Extraction::default(),
    }
}
