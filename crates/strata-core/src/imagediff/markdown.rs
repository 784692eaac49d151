//! diff stage: the report as Markdown for pull request bodies and `--format markdown`:
//! why it moved and a summary first, then each platform's details in a collapsible
//! `<details>` section. Fits a character budget (forges cap body sizes): long lists are
//! cut with a count of what was left out, and platform sections that do not fit are
//! dropped with a note saying how to see everything. Text from images (labels, package
//! names) is escaped so it cannot break the Markdown. Pure.

use std::fmt::Write as _;

use self::causes::{chain, why};
use super::report::{PlatformReport, Report};
use super::text::{escape, short, signed_size, size};
use crate::osv::DeltaEntry;
use crate::package::ChangeKind;

/// Rows shown per list before "and N more".
const MAX_ROWS: usize = 60;
/// Room kept for the note on what was left out.
const NOTE_ROOM: usize = 400;

/// The rendered parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markdown {
    /// Why it moved and the summary.
    pub summary: String,
    /// The per-platform sections (possibly cut).
    pub details: String,
    /// Something was left out to fit the budget.
    pub truncated: bool,
}

/// Renders `report` within `budget` characters (summary and details together).
pub fn markdown(report: &Report, budget: usize) -> Markdown {
    render(report, budget, None)
}

/// [`markdown`] for a pull request body: the chain of moved bases ends with "this pull
/// request" rather than the new image's name.
pub fn markdown_for_pull_request(report: &Report, budget: usize) -> Markdown {
    render(report, budget, Some("this pull request"))
}

fn render(report: &Report, budget: usize, chain_end: Option<&str>) -> Markdown {
    let mut summary = String::new();
    chain(&mut summary, report, chain_end);
    why(&mut summary, &report.why);
    overview(&mut summary, report);
    let mut details = String::new();
    let mut left_out = Vec::new();
    for platform in &report.platforms {
        let section = section(platform);
        let used = summary.chars().count() + details.chars().count();
        if left_out.is_empty() && used + section.chars().count() + NOTE_ROOM <= budget {
            details.push_str(&section);
        } else {
            left_out.push(platform.platform.clone());
        }
    }
    let truncated = !left_out.is_empty();
    if truncated {
        let _ = writeln!(
            details,
            "_Details of {} left out to fit the size limit; `strata diff {} {}` shows \
             everything._\n",
            left_out.join(", "),
            escape(&report.old.reference),
            escape(&report.new.reference)
        );
    }
    // The summary alone may exceed a tiny budget: cut it on a character boundary.
    if summary.chars().count() > budget {
        summary = summary.chars().take(budget.saturating_sub(20)).collect();
        summary.push_str("\n\n_(cut)_\n");
        details.clear();
    }
    Markdown {
        summary,
        details,
        truncated,
    }
}

fn overview(out: &mut String, report: &Report) {
    let s = &report.summary;
    out.push_str("**Summary:** ");
    let mut parts = Vec::new();
    if report.advisories_loaded.is_some() {
        let worst = s
            .worst_fixed
            .map(|w| format!(", worst {}", w.as_str()))
            .unwrap_or_default();
        parts.push(format!(
            "{} fixed{worst}, {} introduced, {} remaining",
            count(s.advisories_fixed, "advisory", "advisories"),
            s.advisories_introduced,
            s.advisories_remaining
        ));
    }
    if report.platforms.iter().any(|p| p.packages.is_some()) {
        parts.push(format!(
            "{} upgraded, {} downgraded, {} added, {} removed",
            count(s.packages_upgraded, "package", "packages"),
            s.packages_downgraded,
            s.packages_added,
            s.packages_removed
        ));
    } else {
        parts.push("packages not compared".to_owned());
    }
    parts.push(format!("size {}", signed_size(i128::from(s.size_delta))));
    out.push_str(&parts.join("; "));
    out.push_str(".\n\n");
    let _ = write!(
        out,
        "{} compared",
        count(s.platforms_compared, "platform", "platforms")
    );
    if !report.platforms_added.is_empty() {
        let _ = write!(
            out,
            "; added: {}",
            escape(&report.platforms_added.join(", "))
        );
    }
    if !report.platforms_removed.is_empty() {
        let _ = write!(
            out,
            "; removed: {}",
            escape(&report.platforms_removed.join(", "))
        );
    }
    if report.advisories_loaded.is_none() {
        out.push_str("; no advisory source configured");
    }
    if s.partial {
        out.push_str("; **partial**: some content could not be read (see below)");
    }
    out.push_str(".\n\n");
}

fn section(p: &PlatformReport) -> String {
    let mut out = String::new();
    let mut headline = Vec::new();
    if p.identical() {
        headline.push("unchanged".to_owned());
    }
    if let Some(a) = &p.advisories {
        headline.push(format!(
            "{} fixed, {} introduced",
            a.fixed.len(),
            a.introduced.len()
        ));
    }
    if let Some(d) = &p.packages {
        headline.push(format!(
            "{} upgraded",
            d.count(ChangeKind::Upgraded) + d.count(ChangeKind::Changed)
        ));
    }
    headline.push(signed_size(p.layers.size_delta()));
    let _ = write!(
        out,
        "<details><summary><b>{}</b>: {}</summary>\n\n",
        escape(&p.platform),
        headline.join(" · ")
    );
    let _ = writeln!(
        out,
        "`{}` → `{}`\n",
        short(&p.old_digest),
        short(&p.new_digest)
    );
    for line in &p.partial {
        let _ = writeln!(out, "- **partial:** {}", escape(line));
    }
    for line in &p.notes {
        let _ = writeln!(out, "- {}", escape(line));
    }
    if !p.partial.is_empty() || !p.notes.is_empty() {
        out.push('\n');
    }
    if let Some(a) = &p.advisories {
        advisories(&mut out, "Advisories fixed", &a.fixed);
        advisories(&mut out, "Advisories introduced", &a.introduced);
        if !a.remaining.is_empty() {
            let _ = writeln!(out, "{} advisories remain.\n", a.remaining.len());
        }
    }
    if let Some(d) = &p.packages {
        if d.changes.is_empty() {
            let _ = writeln!(out, "No package changed ({} packages).\n", d.unchanged);
        } else {
            let _ = writeln!(
                out,
                "**Packages** ({} changed, {} unchanged)\n",
                d.changes.len(),
                d.unchanged
            );
            out.push_str("| Package | Change | Old | New | Source |\n|---|---|---|---|---|\n");
            for c in d.changes.iter().take(MAX_ROWS) {
                let version = |p: &Option<crate::package::Package>| {
                    p.as_ref()
                        .map_or("—".to_owned(), |p| format!("`{}`", escape(&p.version)))
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    escape(&c.name),
                    kind(c.kind),
                    version(&c.old),
                    version(&c.new),
                    escape(c.source())
                );
            }
            more(&mut out, d.changes.len());
            out.push('\n');
        }
    }
    layers(&mut out, p);
    if !p.config.is_empty() {
        out.push_str("**Config**\n\n| Field | Old | New |\n|---|---|---|\n");
        for c in p.config.iter().take(MAX_ROWS) {
            let v = |s: &Option<String>| {
                s.as_deref()
                    .map_or("—".to_owned(), |s| format!("`{}`", escape(s)))
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                escape(&c.field),
                v(&c.old),
                v(&c.new)
            );
        }
        more(&mut out, p.config.len());
        out.push('\n');
    }
    out.push_str("</details>\n\n");
    out
}

fn advisories(out: &mut String, title: &str, list: &[DeltaEntry]) {
    if list.is_empty() {
        return;
    }
    let _ = writeln!(out, "**{title}** ({})\n", list.len());
    out.push_str("| Advisory | Severity | Package | Old | New |\n|---|---|---|---|---|\n");
    for e in list.iter().take(MAX_ROWS) {
        let severity = match (e.severity, e.score) {
            (Some(r), Some(score)) => format!("{} ({score:.1})", r.as_str()),
            (Some(r), None) => r.as_str().to_owned(),
            _ => "—".to_owned(),
        };
        let aliases = if e.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", escape(&e.aliases.join(", ")))
        };
        let v = |s: &Option<String>| {
            s.as_deref()
                .map_or("—".to_owned(), |s| format!("`{}`", escape(s)))
        };
        let _ = writeln!(
            out,
            "| {}{aliases} | {severity} | {} | {} | {} |",
            escape(&e.id),
            escape(&e.source),
            v(&e.old_version),
            v(&e.new_version)
        );
    }
    more(out, list.len());
    out.push('\n');
}

fn layers(out: &mut String, p: &PlatformReport) {
    let l = &p.layers;
    let _ = write!(
        out,
        "**Layers:** {} shared, {} added, {} removed; compressed {} → {} ({})",
        l.shared,
        l.added.len(),
        l.removed.len(),
        size(l.old_size),
        size(l.new_size),
        signed_size(l.size_delta())
    );
    if let (Some(old), Some(new), Some(delta)) = (
        l.old_uncompressed,
        l.new_uncompressed,
        l.uncompressed_delta(),
    ) {
        let _ = write!(
            out,
            "; uncompressed {} → {} ({})",
            size(old),
            size(new),
            signed_size(delta)
        );
    }
    out.push_str(".\n\n");
}

fn more(out: &mut String, total: usize) {
    if total > MAX_ROWS {
        let _ = writeln!(out, "\n…and {} more.", total - MAX_ROWS);
    }
}

fn kind(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Upgraded => "upgraded",
        ChangeKind::Downgraded => "**downgraded**",
        ChangeKind::Changed => "changed",
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

mod causes;
#[cfg(test)]
mod tests;
