//! act stage, for reading: how scan results are shown. The JSON shapes here are the
//! documented, stable schema (docs/json.md); the table is for people.

use std::io::{self, BufWriter, StdoutLock, Write};

use serde::Serialize;
use strata_core::occurrence::{Occurrence, Role, Skip, Warning};

use crate::scan::FileScan;

/// Standard output for a whole run, behind one buffer: a report of thousands of lines
/// costs a few dozen `write` calls instead of one per line (a locked `Stdout` flushes at
/// every newline). The caller flushes it when the verb ends, also on error.
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(64 * 1024, io::stdout().lock())
}

/// `strata scan --format json`: `{"occurrences", "skips", "errors", "warnings"}`. Each
/// file's part is rendered on the worker that scanned it ([`ScanPart::render`]), so the
/// serial end of a scan only copies bytes, and memory holds the JSON to print rather than
/// the values it came from. The bytes are what `serde_json::to_writer_pretty` writes for
/// the whole document.
#[derive(Debug, Default)]
pub struct ScanPart {
    /// Each list's items, indented for their place in the document, joined by `,\n`.
    lists: [Vec<u8>; 4],
    /// How many errors the file had (for the exit code).
    pub errors: usize,
}

const LISTS: [&str; 4] = ["occurrences", "skips", "errors", "warnings"];

impl ScanPart {
    /// Renders one file's occurrences, skips, errors and warnings.
    pub fn render(scan: &FileScan) -> Self {
        let file = scan.file.display.as_str();
        let x = &scan.extraction;
        let mut part = ScanPart {
            errors: x.errors.len(),
            ..ScanPart::default()
        };
        for (i, o) in x.occurrences.iter().enumerate() {
            push_item(
                &mut part.lists[0],
                &occurrence_json(file, o, i, &x.warnings),
            );
        }
        for skip in &x.skips {
            push_item(&mut part.lists[1], &skip_json(file, skip));
        }
        for e in &x.errors {
            let error = ErrorJson {
                file,
                line: e.line,
                message: &e.message,
            };
            push_item(&mut part.lists[2], &error);
        }
        for w in &x.warnings {
            let warning = FileWarningJson {
                file,
                line: w.line,
                code: w.code,
                message: &w.message,
            };
            push_item(&mut part.lists[3], &warning);
        }
        part
    }
}

/// Appends `item` pretty-printed at the depth of a list element (four spaces).
fn push_item<T: Serialize>(list: &mut Vec<u8>, item: &T) {
    let mut text = Vec::new();
    if serde_json::to_writer_pretty(&mut text, item).is_err() {
        return;
    }
    if !list.is_empty() {
        list.extend_from_slice(b",\n");
    }
    list.extend_from_slice(b"    ");
    for byte in text {
        list.push(byte);
        // JSON strings hold no raw line breaks: every one is between tokens.
        if byte == b'\n' {
            list.extend_from_slice(b"    ");
        }
    }
}

/// Writes the scan document from the files' parts, in order.
pub fn write_scan_json(out: &mut dyn Write, parts: &[ScanPart]) -> io::Result<()> {
    out.write_all(b"{")?;
    for (n, name) in LISTS.iter().enumerate() {
        if n > 0 {
            out.write_all(b",")?;
        }
        write!(out, "\n  \"{name}\": [")?;
        let mut first = true;
        for list in parts.iter().map(|p| &p.lists[n]).filter(|l| !l.is_empty()) {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            out.write_all(list)?;
            first = false;
        }
        if !first {
            out.write_all(b"\n  ")?;
        }
        out.write_all(b"]")?;
    }
    out.write_all(b"\n}\n")
}

/// A warning in the document's own list: where, which rule, what.
#[derive(Debug, Serialize)]
pub struct FileWarningJson<'a> {
    pub file: &'a str,
    pub line: usize,
    pub code: &'static str,
    pub message: &'a str,
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
