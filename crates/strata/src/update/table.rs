//! act stage, for reading: the people's view of a `strata update` run — moved pins,
//! branches and pull requests, skips and failures, a summary, the cascades — rendered from the JSON
//! document `report` builds. Writes text to the writer it is given; decides nothing.

use std::collections::BTreeSet;
use std::io::{self, Write};

use strata_core::reference::Reference;
use strata_core::update::short_digest;

use super::report::{GroupJson, UpdateJson};
use crate::output::write_table;
use crate::pin::report::{self, write_requests};

/// The people's view of the same document.
pub fn write(out: &mut dyn Write, doc: &UpdateJson) -> io::Result<()> {
    let short = |digest: &str| match digest.parse() {
        Ok(d) => short_digest(&d),
        Err(_) => digest.to_owned(),
    };
    let updated: Vec<Vec<String>> = doc
        .updates
        .iter()
        .map(|u| {
            let reference = match Reference::parse_normalized(&u.reference) {
                Ok(r) => r.without_digest().familiar_string(),
                Err(_) => u.reference.clone(),
            };
            let text = match &u.arg {
                Some(arg) => format!("{reference} (ARG {arg})"),
                None => reference,
            };
            vec![
                format!("{}:{}", u.file, u.line),
                text,
                short(&u.from),
                short(&u.to),
            ]
        })
        .collect();
    if !updated.is_empty() {
        let header = if doc.dry_run {
            "WOULD UPDATE"
        } else {
            "UPDATED"
        };
        write_table(out, &[header, "TAG", "FROM", "TO"], &updated)?;
    }
    write_groups(out, doc)?;
    let skipped = write_problems(out, doc)?;
    let s = &doc.summary;
    let changed = if doc.committed {
        let count = |status: &str| {
            doc.groups
                .iter()
                .filter(|g| g.status == Some(status))
                .count()
        };
        let repositories: BTreeSet<&str> = doc
            .groups
            .iter()
            .filter_map(|g| g.repository.as_deref())
            .collect();
        let across = match repositories.len() {
            0 => String::new(),
            1 => " in 1 repository".to_owned(),
            n => format!(" in {n} repositories"),
        };
        format!(
            "{} branches{across} ({} created, {} updated, {} unchanged)",
            doc.groups.len(),
            count("created"),
            count("updated"),
            count("unchanged")
        )
    } else {
        let verb = if doc.dry_run {
            "would change"
        } else {
            "changed"
        };
        format!("{} of {} files {verb}", s.files_changed, s.files_scanned)
    };
    writeln!(
        out,
        "\n{} {}, {} current, {} not pinned, {} skipped, {} failed; {changed}",
        s.updated,
        if doc.dry_run {
            "would update"
        } else {
            "updated"
        },
        s.current,
        s.not_pinned,
        skipped,
        s.failed,
    )?;
    write_requests(out, &doc.registries)?;
    write_cascades(out, doc)
}

/// Each cascade as `strata cascade` shows it: the report, the plan of a dry run, or
/// what stopped it.
fn write_cascades(out: &mut dyn Write, doc: &UpdateJson) -> io::Result<()> {
    for cascade in &doc.cascades {
        writeln!(out)?;
        if let Some(report) = &cascade.report {
            report.write_text(out)?;
        } else if let (Some(plan), None) = (&cascade.plan, &cascade.error) {
            plan.write_text(out)?;
        }
        if let Some(error) = &cascade.error {
            writeln!(
                out,
                "cascade from {} failed: {error}",
                cascade.root.familiar()
            )?;
        }
    }
    Ok(())
}

fn write_groups(out: &mut dyn Write, doc: &UpdateJson) -> io::Result<()> {
    let committed = doc
        .groups
        .iter()
        .any(|g| g.status.is_some() || g.error.is_some());
    if !committed {
        return Ok(());
    }
    // Branches in several repositories (the scanned directory is in none).
    let several = doc.groups.iter().any(|g| g.repository.is_some());
    let rows: Vec<Vec<String>> = doc
        .groups
        .iter()
        .map(|g| {
            let status = match (&g.error, g.status) {
                (Some(_), _) => "failed".to_owned(),
                (None, Some(status)) => status.to_owned(),
                (None, None) => "-".to_owned(),
            };
            let pushed = match g.pushed {
                Some(true) => "pushed",
                Some(false) => "up to date",
                None => "-",
            };
            let pull = g.pull_request.as_ref().map_or("-".to_owned(), |p| {
                format!("#{} {} {}", p.number, p.outcome, p.url)
            });
            let mut row = vec![
                g.branch.clone(),
                g.title.clone(),
                status,
                pushed.to_owned(),
                pull,
            ];
            if several {
                row.insert(0, g.repository.clone().unwrap_or_else(|| "-".into()));
            }
            row
        })
        .collect();
    writeln!(out)?;
    let mut header = vec!["BRANCH", "CHANGE", "STATUS", "REMOTE", "PULL REQUEST"];
    if several {
        header.insert(0, "REPOSITORY");
    }
    write_table(out, &header, &rows)?;
    for g in &doc.groups {
        for note in &g.notes {
            writeln!(out, "note: {}: {note}", where_is(g))?;
        }
        for closed in g.pull_request.iter().flat_map(|p| &p.superseded) {
            writeln!(
                out,
                "note: {}: closed superseded pull request #{closed}",
                where_is(g)
            )?;
        }
    }
    Ok(())
}

/// The skips and failures, the change sets' among them; returns how many skips were
/// shown.
fn write_problems(out: &mut dyn Write, doc: &UpdateJson) -> io::Result<usize> {
    let groups = doc
        .groups
        .iter()
        .filter_map(|g| {
            let error = g.error.as_ref()?;
            Some(vec![where_is(g), g.key.clone(), error.clone()])
        })
        .collect();
    report::write_problems(out, &doc.skips, &doc.errors, groups)
}

/// A branch as notes and failures name it: with its repository when there are several
/// (`services/api strata/python-3.12`).
fn where_is(g: &GroupJson) -> String {
    match &g.repository {
        Some(repository) => format!("{repository} {}", g.branch),
        None => g.branch.clone(),
    }
}
