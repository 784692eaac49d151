//! diff stage: the report as plain text for a terminal (`strata diff`'s default): why,
//! a summary, then per platform its advisories, packages, layers and config. Pure.

use std::fmt::Write as _;

use super::report::{Cause, Report};
use super::text::{short, signed_size, size};
use crate::package::{ChangeKind, Package};

/// Renders the whole report (nothing is cut).
pub fn table(report: &Report) -> String {
    // Terminals and grep want an ASCII minus.
    render(report).replace('\u{2212}', "-")
}

fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "old  {}  {}",
        report.old.reference,
        short(&report.old.digest)
    );
    let _ = writeln!(
        out,
        "new  {}  {}",
        report.new.reference,
        short(&report.new.digest)
    );
    out.push('\n');
    out.push_str("why it moved\n");
    if report.why.is_empty() {
        out.push_str("  no cause strata can name\n");
    }
    for cause in &report.why {
        let _ = writeln!(out, "  {}", cause_line(cause));
    }
    let s = &report.summary;
    out.push_str("\nsummary\n");
    match report.advisories_loaded {
        Some(n) => {
            let _ = writeln!(
                out,
                "  advisories  {} fixed, {} introduced, {} remaining ({n} loaded)",
                s.advisories_fixed, s.advisories_introduced, s.advisories_remaining
            );
        }
        None => out.push_str("  advisories  not matched (no advisory source configured)\n"),
    }
    if report.platforms.iter().any(|p| p.packages.is_some()) {
        let _ = writeln!(
            out,
            "  packages    {} upgraded, {} downgraded, {} added, {} removed",
            s.packages_upgraded, s.packages_downgraded, s.packages_added, s.packages_removed
        );
    } else {
        out.push_str("  packages    not compared (see the notes below)\n");
    }
    let _ = writeln!(
        out,
        "  size        {}",
        signed_size(i128::from(s.size_delta))
    );
    let _ = write!(out, "  platforms   {} compared", s.platforms_compared);
    for (label, list) in [
        ("added", &report.platforms_added),
        ("removed", &report.platforms_removed),
    ] {
        if !list.is_empty() {
            let _ = write!(out, ", {label}: {}", list.join(", "));
        }
    }
    out.push('\n');
    if s.partial {
        out.push_str("  PARTIAL     some content could not be read (see below)\n");
    }
    for p in &report.platforms {
        let _ = writeln!(
            out,
            "\n{}  {} -> {}{}",
            p.platform,
            short(&p.old_digest),
            short(&p.new_digest),
            if p.identical() { "  (unchanged)" } else { "" }
        );
        for line in &p.partial {
            let _ = writeln!(out, "  partial: {line}");
        }
        for line in &p.notes {
            let _ = writeln!(out, "  note: {line}");
        }
        if let (Some(old), Some(new)) = (&p.old, &p.new) {
            let name = |i: &crate::imagediff::Inventory| {
                i.ecosystem
                    .clone()
                    .or_else(|| i.os.as_ref().map(|o| o.id.clone()))
                    .unwrap_or_else(|| "unknown OS".into())
            };
            let _ = writeln!(
                out,
                "  os          {} ({} packages) -> {} ({} packages)",
                name(old),
                old.packages,
                name(new),
                new.packages
            );
        }
        if let Some(a) = &p.advisories {
            for (label, list) in [("fixed", &a.fixed), ("introduced", &a.introduced)] {
                for e in list {
                    let severity = e.severity.map_or("-", |r| r.as_str());
                    let _ = writeln!(
                        out,
                        "  {label:<11} {:<24} {:<8} {} {} -> {}",
                        e.id,
                        severity,
                        e.source,
                        e.old_version.as_deref().unwrap_or("-"),
                        e.new_version.as_deref().unwrap_or("-")
                    );
                }
            }
            if !a.remaining.is_empty() {
                let _ = writeln!(out, "  remaining   {} advisories", a.remaining.len());
            }
        }
        if let Some(d) = &p.packages {
            let version =
                |p: &Option<Package>| p.as_ref().map_or("-".to_owned(), |p| p.version.clone());
            for c in &d.changes {
                let kind = match c.kind {
                    ChangeKind::Added => "added",
                    ChangeKind::Removed => "removed",
                    ChangeKind::Upgraded => "upgraded",
                    ChangeKind::Downgraded => "DOWNGRADED",
                    ChangeKind::Changed => "changed",
                };
                let _ = writeln!(
                    out,
                    "  {kind:<11} {} {} -> {}",
                    c.name,
                    version(&c.old),
                    version(&c.new)
                );
            }
            let _ = writeln!(out, "  unchanged   {} packages", d.unchanged);
        }
        let l = &p.layers;
        let _ = write!(
            out,
            "  layers      {} shared, {} added, {} removed; {} -> {} ({})",
            l.shared,
            l.added.len(),
            l.removed.len(),
            size(l.old_size),
            size(l.new_size),
            signed_size(l.size_delta())
        );
        if let Some(delta) = l.uncompressed_delta() {
            let _ = write!(out, ", uncompressed {}", signed_size(delta));
        }
        out.push('\n');
        for c in &p.config {
            let _ = writeln!(
                out,
                "  config      {}: {} -> {}",
                c.field,
                c.old.as_deref().unwrap_or("-"),
                c.new.as_deref().unwrap_or("-")
            );
        }
    }
    out
}

fn cause_line(cause: &Cause) -> String {
    match cause {
        Cause::Base {
            image,
            moved_at,
            evidence,
            ..
        } => {
            let at = moved_at
                .as_deref()
                .map(|a| format!(", first seen {a}"))
                .unwrap_or_default();
            format!("base image {image} moved{at} (seen in the image's {evidence})")
        }
        Cause::Source {
            url,
            old_revision,
            new_revision,
            compare,
            ..
        } => {
            let revisions = match (old_revision, new_revision) {
                (Some(a), Some(b)) => format!(" {} -> {}", short(a), short(b)),
                (None, Some(b)) => format!(" revision {}", short(b)),
                _ => String::new(),
            };
            let link = compare
                .as_deref()
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            format!("source changed: {url}{revisions}{link}")
        }
        Cause::Library {
            image,
            tags,
            old_commit,
            new_commit,
            compare,
            commit,
            ..
        } => {
            let old = old_commit.as_deref().map_or("?", short);
            let link = compare
                .as_deref()
                .map(|c| format!(" {c}"))
                .unwrap_or_default();
            let by = commit
                .as_deref()
                .map(|c| format!(" (official-images {})", short(c)))
                .unwrap_or_default();
            format!(
                "library/{image} entry ({}) changed: {old} -> {}{link}{by}",
                tags.join(", "),
                short(new_commit)
            )
        }
        Cause::LibraryUnchanged { image, git_commit } => {
            format!(
                "library/{image} entry unchanged ({}): rebuilt from the same source",
                short(git_commit)
            )
        }
    }
}
