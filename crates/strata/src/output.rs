//! act stage, for reading: how scan results are shown. The JSON shapes here are the
//! documented, stable schema (docs/json.md); the table is for people.

use std::io::{self, BufWriter, StdoutLock, Write};

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use strata_core::occurrence::{Occurrence, Role, Skip, Warning};

use crate::scan::FileScan;

/// Standard output for a whole run, behind one buffer: a report of thousands of lines
/// costs a few dozen `write` calls instead of one per line (a locked `Stdout` flushes at
/// every newline). The caller flushes it when the verb ends, also on error.
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// `strata scan --format json`: `{"occurrences", "skips", "errors", "warnings"}`,
/// serialized straight from the scan results, one item at a time, so the document is
/// never held in memory a second time.
#[derive(Debug, Clone, Copy)]
pub struct ScanJson<'a> {
    results: &'a [FileScan],
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
    /// What the build tool would warn about this reference (BuildKit's
    /// `UndefinedArgInFrom`…), with the rule's kebab-case code.
    pub warnings: Vec<WarningJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct WarningJson<'a> {
    pub code: &'static str,
    pub message: &'a str,
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

/// One occurrence; `warnings` are the extraction's warnings, of which those that name
/// this occurrence (`index`) are shown with it.
pub fn occurrence_json<'a>(
    file: &'a str,
    occ: &'a Occurrence,
    index: usize,
    warnings: &'a [Warning],
) -> OccurrenceJson<'a> {
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
        warnings: warnings
            .iter()
            .filter(|w| w.occurrence == Some(index))
            .map(|w| WarningJson {
                code: w.code,
                message: &w.message,
            })
            .collect(),
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

/// The JSON document for a scan.
pub fn scan_json(results: &[FileScan]) -> ScanJson<'_> {
    ScanJson { results }
}

impl Serialize for ScanJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut doc = serializer.serialize_struct("ScanJson", 4)?;
        doc.serialize_field("occurrences", &Occurrences(self.results))?;
        doc.serialize_field("skips", &Skips(self.results))?;
        doc.serialize_field("errors", &Errors(self.results))?;
        doc.serialize_field("warnings", &Warnings(self.results))?;
        doc.end()
    }
}

struct Occurrences<'a>(&'a [FileScan]);
struct Skips<'a>(&'a [FileScan]);
struct Errors<'a>(&'a [FileScan]);
struct Warnings<'a>(&'a [FileScan]);

/// A warning in the document's own list: where, which rule, what.
#[derive(Debug, Serialize)]
pub struct FileWarningJson<'a> {
    pub file: &'a str,
    pub line: usize,
    pub code: &'static str,
    pub message: &'a str,
}

impl Serialize for Warnings<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().flat_map(|r| {
            let file = r.file.display.as_str();
            r.extraction.warnings.iter().map(move |w| FileWarningJson {
                file,
                line: w.line,
                code: w.code,
                message: &w.message,
            })
        }))
    }
}

impl Serialize for Occurrences<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().flat_map(|r| {
            let file = r.file.display.as_str();
            let warnings = r.extraction.warnings.as_slice();
            r.extraction
                .occurrences
                .iter()
                .enumerate()
                .map(move |(i, o)| occurrence_json(file, o, i, warnings))
        }))
    }
}

impl Serialize for Skips<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().flat_map(|r| {
            let file = r.file.display.as_str();
            r.extraction.skips.iter().map(move |s| skip_json(file, s))
        }))
    }
}

impl Serialize for Errors<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().flat_map(|r| {
            let file = r.file.display.as_str();
            r.extraction.errors.iter().map(move |e| ErrorJson {
                file,
                line: e.line,
                message: &e.message,
            })
        }))
    }
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
