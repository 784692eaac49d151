//! `strata scan`: discover and extract, then print. Exit 2 when any file had an error.

use std::io::Write;

use anyhow::{Context, Result};

use super::exit;
use crate::cli::{Format, ScanArgs};
use crate::output::{ScanPart, count, write_scan_json, write_table};
use crate::selection;

pub(super) fn run(args: &ScanArgs, out: &mut dyn Write) -> Result<u8> {
    let errors = match args.format {
        Format::Json => {
            // Rendered on the workers; only the bytes to print are kept.
            let parts = selection::report_map(&args.selection, |r| ScanPart::render(&r))?;
            write_scan_json(out, &parts).context("writing JSON")?;
            parts.iter().map(|p| p.errors).sum::<usize>()
        }
        Format::Table => {
            let results = selection::report_selection(&args.selection)?;
            print_table(out, &results)?;
            results.iter().map(|r| r.extraction.errors.len()).sum()
        }
    };
    Ok(if errors > 0 { exit::ERROR } else { exit::OK })
}

fn print_table(out: &mut dyn Write, results: &[crate::scan::FileScan]) -> Result<()> {
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    for r in results {
        for o in &r.extraction.occurrences {
            let note = match (&o.stage, o.role) {
                (_, strata_core::occurrence::Role::Produces) => "built here".to_owned(),
                (Some(stage), _) => format!("stage {stage}"),
                _ => String::new(),
            };
            rows.push(vec![
                format!("{}:{}", r.file.display, o.line),
                o.source.to_string(),
                short_digest(&o.reference.to_string()),
                note,
            ]);
        }
        for s in &r.extraction.skips {
            skipped.push(vec![
                format!("{}:{}", r.file.display, s.line),
                s.reason.code().to_owned(),
                s.text.clone(),
            ]);
        }
    }
    write_table(out, &["LOCATION", "SOURCE", "REFERENCE", "NOTE"], &rows)?;
    if !skipped.is_empty() {
        writeln!(out)?;
        write_table(out, &["SKIPPED", "CODE", "TEXT"], &skipped)?;
    }
    let files = results.len();
    let errors: Vec<_> = results
        .iter()
        .flat_map(|r| {
            r.extraction
                .errors
                .iter()
                .map(move |e| (r.file.display.as_str(), e))
        })
        .collect();
    for r in results {
        for w in &r.extraction.warnings {
            eprintln!(
                "warning: {}:{}: {} [{}]",
                r.file.display, w.line, w.message, w.code
            );
        }
    }
    for (file, e) in &errors {
        eprintln!("error: {file}:{}: {}", e.line, e.message);
    }
    writeln!(
        out,
        "\n{}, {} skipped, {} in {}",
        count(rows.len(), "reference"),
        skipped.len(),
        count(errors.len(), "error"),
        count(files, "file")
    )?;
    Ok(())
}

/// `name:tag@sha256:<64 hex>` as `name:tag@sha256:<12 hex>…` for tables (JSON keeps it all).
fn short_digest(reference: &str) -> String {
    match reference.split_once("@sha256:") {
        Some((name, hex)) if hex.len() > 12 => format!("{name}@sha256:{}…", &hex[..12]),
        _ => reference.to_owned(),
    }
}
