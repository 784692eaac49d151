//! discover + extract for the verbs that read a repository: turns the shared command-line
//! selection into scanned files.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use strata_core::occurrence::{ExtractError, Extraction};

use crate::cli::Selection;
use crate::discover::{Filters, Kind, SourceFile, discover};
use crate::scan::{FileScan, ScanOptions, scan_map};

/// The build platform of this machine in OCI terms.
pub fn host_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    format!("linux/{arch}")
}

/// What the selection tells the extractors (build arguments, platforms).
pub fn scan_options(selection: &Selection) -> ScanOptions {
    let mut opts = ScanOptions::default();
    opts.dockerfile.build_args = selection.build_args.iter().cloned().collect();
    opts.dockerfile.platform = selection.platform.clone();
    opts.dockerfile.build_platform = Some(host_platform());
    opts
}

/// Discovers and scans what the selection names. Walk errors become file errors.
pub fn scan_selection(selection: &Selection) -> Result<Vec<FileScan>> {
    scan_with(selection, scan_options(selection), |scanned| scanned)
}

/// [`scan_selection`] for a report only: the files' texts are not kept, so memory grows
/// with what is found, not with the size of the tree.
pub fn report_selection(selection: &Selection) -> Result<Vec<FileScan>> {
    report_map(selection, |scanned| scanned)
}

/// [`report_selection`], each file's result turned into what the report keeps on the
/// worker that scanned it (`strata scan --format json` keeps rendered JSON only).
pub fn report_map<T: Send>(
    selection: &Selection,
    map: impl Fn(FileScan) -> T + Sync,
) -> Result<Vec<T>> {
    let mut opts = scan_options(selection);
    opts.drop_text = true;
    scan_with(selection, opts, map)
}

fn scan_with<T: Send>(
    selection: &Selection,
    opts: ScanOptions,
    map: impl Fn(FileScan) -> T + Sync,
) -> Result<Vec<T>> {
    let roots = if selection.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        selection.paths.clone()
    };
    let filters = Filters {
        include: selection.include.clone(),
        exclude: selection.exclude.clone(),
    };
    let (files, walk_errors) = discover(&roots, &filters).map_err(|e| anyhow!(e))?;
    let mut results = scan_map(&files, &opts, &map);
    for e in walk_errors {
        let mut extraction = Extraction::default();
        extraction.errors.push(ExtractError {
            line: 0,
            message: e.message,
        });
        let file = SourceFile {
            path: PathBuf::from(&e.path),
            display: e.path,
            kind: Kind::Dockerfile,
            reach: None,
        };
        results.push(map(FileScan {
            file,
            text: String::new(),
            extraction,
        }));
    }
    Ok(results)
}
