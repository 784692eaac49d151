//! act stage, for reading: `strata check` for people: one row per finding, problems on
//! stderr, then a summary line and the checks that did not run. Writes text; decides
//! nothing.

use std::io::{self, Write};

use strata_core::check::Severity;

use crate::check::Report;
use crate::output::{count, write_table};

/// Writes the findings table and summary to `out` and problems to `err`.
pub fn write_table_report(
    out: &mut dyn Write,
    err: &mut dyn Write,
    report: &Report,
) -> io::Result<()> {
    let rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .map(|f| {
            vec![
                format!("{}:{}:{}", f.file, f.line, f.column),
                f.severity.to_string(),
                f.code.to_string(),
                f.message.clone(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        write_table(out, &["LOCATION", "SEVERITY", "CODE", "MESSAGE"], &rows)?;
        writeln!(out)?;
    }
    for problem in &report.problems {
        let place = match (&problem.file, problem.line, &problem.reference) {
            (Some(file), Some(line), _) => format!("{file}:{line}: "),
            (Some(file), None, _) => format!("{file}: "),
            (None, _, Some(reference)) => format!("{reference}: "),
            (None, _, None) => String::new(),
        };
        writeln!(err, "error: {place}{}", problem.message)?;
    }
    let (errors, warnings, notes) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Note),
    );
    // Findings are counted by severity ("error" severity is not an error: the JSON's
    // `errors` and the "could not be checked" below are the failures).
    let mut line = format!(
        "{} ({errors} at severity error, {warnings} warning, {notes} note) in {}, {}",
        count(errors + warnings + notes, "finding"),
        count(report.references, "reference"),
        count(report.files, "file")
    );
    if report.ignored > 0 {
        line += &format!("; {} ignored by policy", report.ignored);
    }
    if !report.offline {
        line += &format!(
            "; {} tags looked up, {} registry requests",
            report.tags_looked_up, report.requests
        );
    }
    if !report.problems.is_empty() {
        line += &format!("; {} could not be checked", report.problems.len());
    }
    writeln!(out, "{line}")?;
    for skipped in &report.not_checked {
        writeln!(out, "not checked: {} ({})", skipped.code, skipped.reason)?;
    }
    Ok(())
}
