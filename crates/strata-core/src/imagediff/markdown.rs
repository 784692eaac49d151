//! diff stage: the report as Markdown for pull request bodies and `--format markdown`:
//! why it moved and a summary first, then each platform's details in a collapsible
//! `<details>` section. Fits a character budget (forges cap body sizes): long lists are
//! cut with a count of what was left out, and platform sections that do not fit are
//! dropped with a note saying how to see everything. Text from images (labels, package
//! names) is escaped so it cannot break the Markdown. Pure.

use std::fmt::Write as _;

use super::report::{Cause, PlatformReport, Report};
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
    let mut summary = String::new();
    chain(&mut summary, report);
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

/// For an image rebuilt on a moved base: the cascade that led here, deepest first,
/// with the advisories the update fixes.
fn chain(out: &mut String, report: &Report) {
    let Some(Cause::Base { image, below, .. }) =
        report.why.iter().find(|c| matches!(c, Cause::Base { .. }))
    else {
        return;
    };
    let mut fixed: Vec<&str> = Vec::new();
    for p in &report.platforms {
        for e in p.advisories.iter().flat_map(|a| &a.fixed) {
            let name = e.aliases.first().unwrap_or(&e.id).as_str();
            if !fixed.contains(&name) {
                fixed.push(name);
            }
        }
    }
    let fixes = match fixed.len() {
        0 => String::new(),
        n if n <= 3 => format!(" (fixes {})", escape(&fixed.join(", "))),
        n => format!(
            " (fixes {} and {} more)",
            escape(&fixed[..3].join(", ")),
            n - 3
        ),
    };
    out.push_str("**Chain:** ");
    match below.split_first() {
        Some((deepest, rest)) => {
            let _ = write!(out, "`{}` moved{fixes}", escape(deepest));
            for step in rest {
                let _ = write!(out, " → `{}` rebuilt", escape(step));
            }
            let _ = write!(out, " → `{}` rebuilt", escape(image));
        }
        None => {
            let _ = write!(out, "`{}` moved{fixes}", escape(image));
        }
    }
    let _ = writeln!(out, " → `{}`\n", escape(&report.new.reference));
}

fn why(out: &mut String, causes: &[Cause]) {
    if causes.is_empty() {
        out.push_str(
            "**Why it moved:** strata found no cause it can name (no base or \
                      source change it could see).\n\n",
        );
        return;
    }
    out.push_str("**Why it moved**\n\n");
    for cause in causes {
        out.push_str("- ");
        match cause {
            Cause::Base {
                image,
                old_digest,
                new_digest,
                moved_at,
                evidence,
                ..
            } => {
                let _ = write!(out, "The base image `{}` moved", escape(image));
                if let (Some(old), Some(new)) = (old_digest, new_digest) {
                    let _ = write!(out, " (`{}` → `{}`)", short(old), short(new));
                }
                if let Some(at) = moved_at {
                    let _ = write!(out, ", first seen {}", escape(at));
                }
                let _ = write!(out, "; seen in the image's {}", escape(evidence));
            }
            Cause::Source {
                url,
                old_revision,
                new_revision,
                old_version,
                new_version,
                compare,
            } => {
                out.push_str("The source changed");
                if let (Some(old), Some(new)) = (old_version, new_version)
                    && old != new
                {
                    let _ = write!(out, ": version {} → {}", escape(old), escape(new));
                }
                match (compare, old_revision, new_revision) {
                    (Some(link), Some(old), Some(new)) => {
                        let _ = write!(out, " ([{}...{}]({link}))", short(old), short(new));
                    }
                    (_, _, Some(new)) => {
                        let _ = write!(out, " (revision `{}`)", escape(short(new)));
                    }
                    _ => {}
                }
                let _ = write!(out, " — {}", escape(url));
            }
            Cause::Library {
                image,
                tags,
                git_repo,
                old_commit,
                new_commit,
                compare,
                commit,
                date,
            } => {
                let _ = write!(
                    out,
                    "The Docker Official Images entry `library/{}` ({}) changed: GitCommit ",
                    escape(image),
                    escape(&tags.join(", "))
                );
                match old_commit {
                    Some(old) => {
                        let _ = write!(out, "`{}` → `{}`", short(old), short(new_commit));
                    }
                    None => {
                        let _ = write!(out, "now `{}`", short(new_commit));
                    }
                }
                if let Some(link) = compare {
                    let _ = write!(out, " ([compare]({link}))");
                }
                let _ = write!(out, " in {}", escape(git_repo));
                if let Some(commit) = commit {
                    let _ = write!(
                        out,
                        "; official-images commit [{}](https://github.com/docker-library/official-images/commit/{commit})",
                        short(commit)
                    );
                }
                if let Some(date) = date {
                    let _ = write!(out, " ({})", escape(date));
                }
            }
            Cause::LibraryUnchanged { image, git_commit } => {
                let _ = write!(
                    out,
                    "The Docker Official Images entry `library/{}` is unchanged (GitCommit `{}`): \
                     a rebuild of the same source",
                    escape(image),
                    short(git_commit)
                );
            }
        }
        out.push('\n');
    }
    out.push('\n');
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
    parts.push(format!(
        "{} upgraded, {} downgraded, {} added, {} removed",
        count(s.packages_upgraded, "package", "packages"),
        s.packages_downgraded,
        s.packages_added,
        s.packages_removed
    ));
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

/// `sha256:0123456789ab` (12 hex digits), or the text itself when shorter.
pub(crate) fn short(text: &str) -> &str {
    let end = text.find(':').map_or(12, |colon| colon + 13);
    text.get(..end).unwrap_or(text)
}

/// Bytes in decimal units (`1.2 MB`), as registries and Docker show sizes.
pub(crate) fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes < 1_000 {
        format!("{bytes} B")
    } else if b < 1e6 {
        format!("{:.1} kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

pub(crate) fn signed_size(delta: i128) -> String {
    let magnitude = u64::try_from(delta.unsigned_abs()).unwrap_or(u64::MAX);
    match delta.signum() {
        1 => format!("+{}", size(magnitude)),
        -1 => format!("−{}", size(magnitude)),
        _ => "±0 B".to_owned(),
    }
}

/// Text from an image made inert in Markdown: table pipes, HTML, backticks, emphasis
/// and line breaks.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\''),
            '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
