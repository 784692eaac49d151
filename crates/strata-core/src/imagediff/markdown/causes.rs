//! diff stage: the Markdown of why an image moved — the chain of moved bases below a
//! rebuilt image, then each cause with its links. Pure.

use std::fmt::Write as _;

use crate::imagediff::report::{Cause, Report};
use crate::imagediff::text::{escape, short};

/// For an image rebuilt on a moved base: the cascade that led here, deepest first,
/// with the advisories the update fixes.
pub(super) fn chain(out: &mut String, report: &Report, end: Option<&str>) {
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
    match end {
        Some(end) => {
            let _ = writeln!(out, " → {end}\n");
        }
        None => {
            let reference = short_reference(&report.new.reference);
            let _ = writeln!(out, " → `{}`\n", escape(&reference));
        }
    }
}

pub(super) fn why(out: &mut String, causes: &[Cause]) {
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

/// `name@sha256:0123456789ab` for a reference with a full digest.
fn short_reference(reference: &str) -> String {
    match reference.split_once('@') {
        Some((name, digest)) => format!("{name}@{}", short(digest)),
        None => reference.to_owned(),
    }
}
