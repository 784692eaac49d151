//! act stage, for reading: `strata check` as Markdown — the counts, a table of findings
//! with links to each code's documentation, what could not be checked, and the checks
//! that did not run. For a GitHub job summary (`$GITHUB_STEP_SUMMARY`) or a comment.
//! Writes text; decides nothing.

use std::io::{self, Write};

use strata_core::check::Severity;

use super::help_uri;
use crate::check::Report;
use crate::output::count;

/// Most finding rows written; the rest are counted (a job summary is limited to 1 MiB).
const MAX_ROWS: usize = 500;

/// Writes the summary.
pub fn write_summary(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let (errors, warnings, notes) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Note),
    );
    let mark = match report.exit_code() {
        0 => "✅",
        1 => "❌",
        _ => "⚠️",
    };
    writeln!(out, "### {mark} strata check\n")?;
    let mut line = format!(
        "**{}, {}, {}** in {}, {}",
        count(errors, "error"),
        count(warnings, "warning"),
        count(notes, "note"),
        count(report.references, "image reference"),
        count(report.files, "file")
    );
    if report.ignored > 0 {
        line += &format!("; {} ignored by policy", report.ignored);
    }
    if report.offline {
        line += " (offline: no registry was asked)";
    }
    writeln!(out, "{line}\n")?;
    if !report.findings.is_empty() {
        writeln!(out, "| Location | Severity | Code | Finding |")?;
        writeln!(out, "|---|---|---|---|")?;
        for finding in report.findings.iter().take(MAX_ROWS) {
            writeln!(
                out,
                "| `{}:{}:{}` | {} | [{}]({}) | {} |",
                finding.file.replace('`', "'"),
                finding.line,
                finding.column,
                finding.severity,
                finding.code,
                help_uri(finding.code),
                cell(&finding.message)
            )?;
        }
        if report.findings.len() > MAX_ROWS {
            writeln!(
                out,
                "\n… and {} more (see the annotations or the SARIF log).",
                report.findings.len() - MAX_ROWS
            )?;
        }
        writeln!(out)?;
    }
    if !report.problems.is_empty() {
        writeln!(out, "**Could not be checked:**\n")?;
        for problem in &report.problems {
            let place = match (&problem.file, problem.line, &problem.reference) {
                (Some(file), Some(line), _) => format!("`{file}:{line}`: "),
                (Some(file), None, _) => format!("`{file}`: "),
                (None, _, Some(reference)) => format!("`{reference}`: "),
                (None, _, None) => String::new(),
            };
            writeln!(out, "- {place}{}", cell(&problem.message))?;
        }
        writeln!(out)?;
    }
    for skipped in &report.not_checked {
        writeln!(
            out,
            "_Not checked: `{}` ({})._",
            skipped.code, skipped.reason
        )?;
    }
    Ok(())
}

/// Text that stays inside one table cell: `|` escaped, line breaks as spaces.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// GitHub Flavored Markdown, "Tables": a `|` inside a cell is escaped.
    #[test]
    fn cells_stay_in_their_column() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
