//! act stage, for reading: how scan results are shown. The JSON shapes here are the
//! documented, stable schema (docs/json.md); the table is for people.

use std::io::{self, Write};

use serde::Serialize;
use strata_core::occurrence::{Occurrence, Role, Skip};

use crate::scan::FileScan;

/// `strata scan --format json`.
#[derive(Debug, Serialize)]
pub struct ScanJson<'a> {
    pub occurrences: Vec<OccurrenceJson<'a>>,
    pub skips: Vec<SkipJson<'a>>,
    pub errors: Vec<ErrorJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct OccurrenceJson<'a> {
    pub file: &'a str,
    pub line: usize,
    pub column: usize,
    pub span: [usize; 2],
    pub source: &'static str,
    pub text: &'a str,
    pub reference: String,
    pub digest: Option<String>,
    pub stage: Option<&'a str>,
    pub platform: Option<&'a str>,
    /// The `ARG` whose default holds `span`, if any.
    pub arg: Option<&'a str>,
    /// `uses` (pulled) or `produces` (built here).
    pub role: &'static str,
    /// Why pin/update would leave this occurrence alone, as a skip code.
    pub pin_skip: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct SkipJson<'a> {
    pub file: &'a str,
    pub line: usize,
    pub text: &'a str,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct ErrorJson<'a> {
    pub file: &'a str,
    pub line: usize,
    pub message: &'a str,
}

pub fn occurrence_json<'a>(file: &'a str, occ: &'a Occurrence) -> OccurrenceJson<'a> {
    OccurrenceJson {
        file,
        line: occ.line,
        column: occ.column,
        span: [occ.span.start, occ.span.end],
        source: occ.source.as_str(),
        text: &occ.text,
        reference: occ.reference.to_string(),
        digest: occ.reference.digest().map(ToString::to_string),
        stage: occ.stage.as_deref(),
        platform: occ.platform.as_deref(),
        arg: occ.arg.as_deref(),
        role: match occ.role {
            Role::Uses => "uses",
            Role::Produces => "produces",
        },
        pin_skip: occ.blocked.as_ref().map(|b| b.code()),
    }
}

pub fn skip_json<'a>(file: &'a str, skip: &'a Skip) -> SkipJson<'a> {
    SkipJson {
        file,
        line: skip.line,
        text: &skip.text,
        code: skip.reason.code(),
        message: skip.reason.message(),
    }
}

/// Builds the JSON document for a scan.
pub fn scan_json(results: &[FileScan]) -> ScanJson<'_> {
    let mut doc = ScanJson {
        occurrences: Vec::new(),
        skips: Vec::new(),
        errors: Vec::new(),
    };
    for r in results {
        let file = r.file.display.as_str();
        doc.occurrences.extend(
            r.extraction
                .occurrences
                .iter()
                .map(|o| occurrence_json(file, o)),
        );
        doc.skips
            .extend(r.extraction.skips.iter().map(|s| skip_json(file, s)));
        doc.errors
            .extend(r.extraction.errors.iter().map(|e| ErrorJson {
                file,
                line: e.line,
                message: &e.message,
            }));
    }
    doc
}

/// Writes rows as left-aligned columns.
pub fn write_table(out: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                s.push_str(cell);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        s
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// `1 file`, `2 files`: a count with its noun in the right number.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `2026-11-03T14:02:05Z`: a timestamp as JSON output writes it.
pub fn rfc3339(at: time::OffsetDateTime) -> String {
    let t = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
