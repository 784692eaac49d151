//! act stage, for reading: findings for GitHub. `--format github` prints Actions
//! workflow commands (`::error file=…,line=…,col=…,title=…::message`) that show up as
//! annotations on the run and the pull request; [`check_run`] builds the check run that
//! `--github-check-run` publishes through `forge::GitHub`. Builds text; sends nothing.

use std::io::{self, Write};

use strata_core::check::{Finding, Severity};

use crate::check::Report;
use crate::forge::{Annotation, AnnotationLevel, CheckConclusion, CheckRun};

/// The check run's name on GitHub.
pub const CHECK_NAME: &str = "strata check";

/// Escapes a workflow command's message (`%`, CR and LF).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command property value (also `:` and `,`, which end it).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

/// The workflow command for one finding.
pub fn annotation_line(finding: &Finding) -> String {
    let title = format!("{}: {}", finding.code, finding.code.title());
    format!(
        "::{} file={},line={},col={},title={}::{}",
        command(finding.severity),
        escape_property(&finding.file),
        finding.line.max(1),
        finding.column.max(1),
        escape_property(&title),
        escape_data(&finding.message)
    )
}

/// Every finding, then every problem, as workflow commands.
pub fn write_annotations(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for finding in &report.findings {
        writeln!(out, "{}", annotation_line(finding))?;
    }
    for problem in &report.problems {
        let mut properties = vec![format!("title={}", escape_property("strata check error"))];
        if let Some(file) = &problem.file {
            properties.insert(0, format!("file={}", escape_property(file)));
            if let Some(line) = problem.line {
                properties.insert(1, format!("line={line}"));
            }
        }
        let message = match &problem.reference {
            Some(reference) => format!("{reference}: {}", problem.message),
            None => problem.message.clone(),
        };
        writeln!(
            out,
            "::error {}::{}",
            properties.join(","),
            escape_data(&message)
        )?;
    }
    Ok(())
}

/// The check run for a report: failure when the check fails (exit 1 or 2), success
/// otherwise; one annotation per finding.
pub fn check_run(report: &Report) -> CheckRun {
    let (errors, warnings) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
    );
    let conclusion = match report.exit_code() {
        0 => CheckConclusion::Success,
        _ => CheckConclusion::Failure,
    };
    let title = match (report.problems.len(), errors, warnings) {
        (0, 0, 0) => "No findings".to_owned(),
        (0, e, w) => format!("{e} errors, {w} warnings"),
        (p, e, w) => format!("{p} could not be checked; {e} errors, {w} warnings"),
    };
    let mut summary = format!(
        "strata checked {} references in {} files.\n\n| severity | findings |\n|---|---|\n\
         | error | {errors} |\n| warning | {warnings} |\n| note | {} |\n",
        report.references,
        report.files,
        report.count(Severity::Note)
    );
    if report.ignored > 0 {
        summary += &format!("\n{} findings ignored by the policy.\n", report.ignored);
    }
    for problem in &report.problems {
        let at = problem.reference.as_deref().or(problem.file.as_deref());
        let at = at.map(|a| format!("`{a}`: ")).unwrap_or_default();
        summary += &format!("\n- error: {at}{}", problem.message);
    }
    for skipped in &report.not_checked {
        summary += &format!("\n- not checked: `{}` ({})", skipped.code, skipped.reason);
    }
    let annotations = report.findings.iter().map(annotation).collect();
    CheckRun {
        name: CHECK_NAME.to_owned(),
        conclusion,
        title,
        summary,
        annotations,
    }
}

fn annotation(finding: &Finding) -> Annotation {
    let line = u32::try_from(finding.line).unwrap_or(u32::MAX);
    Annotation {
        path: finding.file.clone(),
        start_line: line,
        end_line: line,
        level: match finding.severity {
            Severity::Error => AnnotationLevel::Failure,
            Severity::Warning => AnnotationLevel::Warning,
            Severity::Note => AnnotationLevel::Notice,
        },
        message: finding.message.clone(),
        title: Some(format!("{}: {}", finding.code, finding.code.title())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_and_data_are_escaped_as_actions_requires() {
        assert_eq!(escape_data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(escape_property("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae");
    }
}
