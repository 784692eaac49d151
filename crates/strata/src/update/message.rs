//! act stage, pure part: the words of an update — commit messages, pull request titles
//! and bodies (Markdown), and the marker a body carries so a later run can tell which
//! move an open pull request proposes. Builds strings only; no git, no forge, no clock.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use strata_core::reference::Digest;
use strata_core::update::{BaseMove, Group};
use time::{OffsetDateTime, UtcOffset};

use super::details::MoveDetails;
use crate::registry::PlatformDigest;

/// One move with everything said about it.
#[derive(Debug, Clone)]
pub struct MoveText<'a> {
    pub mv: &'a BaseMove,
    /// Repository-relative paths, each with the lines changed there.
    pub files: Vec<(String, Vec<usize>)>,
    /// When strata first saw the tag at the new digest.
    pub first_seen: Option<OffsetDateTime>,
    pub details: MoveDetails,
}

/// `2026-11-03 14:02 UTC`.
pub fn format_time(at: OffsetDateTime) -> String {
    let t = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn digests(list: &[Digest]) -> String {
    list.iter()
        .map(Digest::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The commit message of one move: the subject, then what moved, since when, and where.
pub fn commit_message(text: &MoveText<'_>) -> String {
    let mv = text.mv;
    let mut out = format!("{}\n\n", mv.subject());
    let _ = writeln!(
        out,
        "{} points at a new image; this updates the pins to it.\n",
        mv.familiar()
    );
    let old = if mv.from.len() == 1 {
        "Old digest:"
    } else {
        "Old digests:"
    };
    let _ = writeln!(out, "{:<17}{}", "Tag:", mv.base);
    let _ = writeln!(out, "{old:<17}{}", digests(&mv.from));
    let _ = writeln!(out, "{:<17}{}", "New digest:", mv.to);
    if let Some(at) = text.first_seen {
        let _ = writeln!(out, "{:<17}{}", "Move first seen:", format_time(at));
    }
    out.push_str("\nFiles changed:\n");
    for (path, _) in &text.files {
        let _ = writeln!(out, "- {path}");
    }
    out
}

/// The marker in a pull request body: which group and moves it proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    pub version: u32,
    pub group: String,
    pub moves: Vec<MarkedMove>,
}

/// One move in a [`Marker`]: the normalised tag and the digest proposed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkedMove {
    pub base: String,
    pub to: String,
}

const MARKER_OPEN: &str = "<!-- strata:update ";
const MARKER_CLOSE: &str = " -->";

impl Marker {
    pub fn of(group: &Group) -> Marker {
        Marker {
            version: 1,
            group: group.key.clone(),
            moves: group
                .moves
                .iter()
                .map(|m| MarkedMove {
                    base: m.base.to_string(),
                    to: m.to.to_string(),
                })
                .collect(),
        }
    }

    /// The marker in `body`, if it has a readable one.
    pub fn find(body: &str) -> Option<Marker> {
        let start = body.find(MARKER_OPEN)? + MARKER_OPEN.len();
        let len = body[start..].find(MARKER_CLOSE)?;
        serde_json::from_str(&body[start..start + len]).ok()
    }

    /// Whether this marker proposes another digest for any base `group` moves: the pull
    /// request carrying it is outdated by `group`.
    pub fn superseded_by(&self, group: &Group) -> bool {
        self.moves.iter().any(|marked| {
            group
                .moves
                .iter()
                .any(|m| m.base.to_string() == marked.base && m.to.as_str() != marked.to)
        })
    }

    fn render(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        format!("{MARKER_OPEN}{json}{MARKER_CLOSE}")
    }
}

/// The pull request body: per move its digests, platforms, first sighting, source
/// links, any extra sections and the files and lines changed; then the marker.
pub fn pull_request_body(group: &Group, moves: &[MoveText<'_>]) -> String {
    let mut out = String::new();
    if let [one] = moves {
        let _ = writeln!(
            out,
            "The base image tag **`{}`** points at a new image. This updates its pins.\n",
            one.mv.familiar()
        );
        move_body(&mut out, one);
    } else {
        let _ = writeln!(
            out,
            "{} base image tags point at new images. This updates their pins.\n",
            moves.len()
        );
        for text in moves {
            let _ = writeln!(out, "### `{}`\n", text.mv.familiar());
            move_body(&mut out, text);
        }
    }
    out.push_str("---\n<sub>Proposed by strata update.</sub>\n\n");
    out.push_str(&Marker::of(group).render());
    out.push('\n');
    out
}

fn move_body(out: &mut String, text: &MoveText<'_>) {
    let mv = text.mv;
    let _ = writeln!(out, "Tag: `{}`\n", mv.base);
    out.push_str("| | Digest |\n|---|---|\n");
    for old in &mv.from {
        let _ = writeln!(out, "| Old | `{old}` |");
    }
    let _ = writeln!(out, "| New | `{}` |\n", mv.to);
    if let Some(summary) = &text.details.summary {
        let _ = writeln!(out, "{}\n", summary.trim_end());
    }
    if let Some(at) = text.first_seen {
        let _ = writeln!(out, "First seen at the new digest: {}\n", format_time(at));
    }
    platforms(out, &text.details);
    source(out, &text.details);
    for section in &text.details.extra {
        let _ = writeln!(
            out,
            "**{}**\n\n{}\n",
            section.title,
            section.markdown.trim_end()
        );
    }
    out.push_str("**Files changed**\n\n");
    for (path, lines) in &text.files {
        let lines: Vec<String> = lines.iter().map(ToString::to_string).collect();
        let label = if lines.len() == 1 { "line" } else { "lines" };
        let _ = writeln!(out, "- `{path}` {label} {}", lines.join(", "));
    }
    out.push('\n');
}

fn platform_name(p: &PlatformDigest) -> String {
    match &p.variant {
        Some(variant) => format!("{}/{}/{variant}", p.os, p.architecture),
        None => format!("{}/{}", p.os, p.architecture),
    }
}

/// The per-platform table; nothing for two single-platform images.
fn platforms(out: &mut String, details: &MoveDetails) {
    let (Some(old), Some(new)) = (&details.old_platforms, &details.new_platforms) else {
        return;
    };
    let (old, new) = match (old, new) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(err), _) | (_, Err(err)) => {
            let _ = writeln!(out, "Platforms: unknown ({})\n", err.replace('\n', " "));
            return;
        }
    };
    if old.is_empty() && new.is_empty() {
        return;
    }
    let mut rows: BTreeMap<String, (Option<&Digest>, Option<&Digest>)> = BTreeMap::new();
    for p in old {
        rows.entry(platform_name(p)).or_default().0 = Some(&p.digest);
    }
    for p in new {
        rows.entry(platform_name(p)).or_default().1 = Some(&p.digest);
    }
    out.push_str("**Platforms**\n\n| Platform | Old | New |\n|---|---|---|\n");
    let cell = |d: Option<&Digest>| d.map_or("—".to_owned(), |d| format!("`{d}`"));
    for (name, (old, new)) in rows {
        let _ = writeln!(out, "| {name} | {} | {} |", cell(old), cell(new));
    }
    out.push('\n');
}

/// Source and revision links from the image labels; a GitHub source with both
/// revisions gets a compare link.
fn source(out: &mut String, details: &MoveDetails) {
    let Some(url) = details.source.as_deref().and_then(safe_url) else {
        return;
    };
    let old = details.old_revision.as_deref().filter(|r| safe_revision(r));
    let new = details.new_revision.as_deref().filter(|r| safe_revision(r));
    let github = url.starts_with("https://github.com/");
    let _ = write!(out, "Source: {url}");
    match (old, new) {
        (Some(old), Some(new)) if github && old != new => {
            let _ = write!(
                out,
                " ([changes {}...{}]({url}/compare/{old}...{new}))",
                short(old),
                short(new)
            );
        }
        (_, Some(new)) if github => {
            let _ = write!(out, " ([revision {}]({url}/commit/{new}))", short(new));
        }
        (_, Some(new)) => {
            let _ = write!(out, " (revision `{new}`)");
        }
        _ => {}
    }
    out.push_str("\n\n");
}

fn short(revision: &str) -> &str {
    revision.get(..12).unwrap_or(revision)
}

/// An http(s) URL made only of characters that cannot break out of Markdown, without
/// `.git` or a trailing slash; labels come from images, which anyone can build.
fn safe_url(url: &str) -> Option<String> {
    let url = url.trim();
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#@!$&'*+,;=%".contains(c));
    let url = url.trim_end_matches('/');
    ok.then(|| url.strip_suffix(".git").unwrap_or(url).to_owned())
}

fn safe_revision(revision: &str) -> bool {
    !revision.is_empty()
        && revision.len() <= 64
        && revision
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
