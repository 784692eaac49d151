//! act stage, reporting: what a cascade did, per image and per level, as a table for
//! people and JSON for machines. Formats values; runs nothing.

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;
use strata_core::graph::ImageRef;
use strata_core::reference::Digest;
use time::OffsetDateTime;

use super::wait::short;

/// How one image of a cascade ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Rebuilt and published on the new base.
    Published,
    /// Already built on the new base: not triggered.
    UpToDate,
    /// Its trigger failed or it was not published on the new base in time.
    Failed,
    /// Not rebuilt because a base in the cascade failed.
    Skipped,
    /// Not reached (the run stopped early).
    Pending,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::UpToDate => "up-to-date",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Pending => "pending",
        }
    }
}

/// One image of a cascade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeReport {
    pub image: ImageRef,
    pub level: usize,
    pub status: Status,
    /// The image's digest once published (or the current one when up to date).
    pub digest: Option<Digest>,
    /// The trigger fired, as configured.
    pub trigger: Option<String>,
    /// When it was triggered (JSON: `triggered_at_ms`, milliseconds since the epoch).
    #[serde(rename = "triggered_at_ms", serialize_with = "unix_ms")]
    pub triggered_at: Option<OffsetDateTime>,
    /// When it was published, failed or skipped (JSON: `finished_at_ms`).
    #[serde(rename = "finished_at_ms", serialize_with = "unix_ms")]
    pub finished_at: Option<OffsetDateTime>,
    /// Why it failed or was skipped.
    pub message: Option<String>,
    /// How long bringing its new pins to its build took (writing, or committing and
    /// pushing, or the pull request), in milliseconds.
    pub delivery_ms: Option<u64>,
}

fn unix_ms<S: serde::Serializer>(at: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => {
            let ms = at.unix_timestamp_nanos() / 1_000_000;
            s.serialize_i64(i64::try_from(ms).unwrap_or(i64::MAX))
        }
        None => s.serialize_none(),
    }
}

/// One level's span: from its first trigger to its last publication.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelTiming {
    pub level: usize,
    pub images: usize,
    pub seconds: Option<f64>,
}

/// A whole cascade run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The state database's run id.
    pub run: i64,
    pub root: ImageRef,
    pub old_root_digest: Digest,
    pub new_root_digest: Digest,
    /// Whether this run picked up an earlier, interrupted one.
    pub resumed: bool,
    pub nodes: Vec<NodeReport>,
    pub levels: Vec<LevelTiming>,
    pub seconds: f64,
}

impl Report {
    /// Images that failed.
    pub fn failed(&self) -> usize {
        self.count(Status::Failed)
    }

    pub fn count(&self, status: Status) -> usize {
        self.nodes.iter().filter(|n| n.status == status).count()
    }

    /// Fills `levels` from the nodes' times.
    pub(super) fn time_levels(&mut self) {
        let deepest = self.nodes.iter().map(|n| n.level).max().unwrap_or(0);
        self.levels = (1..=deepest)
            .map(|level| {
                let nodes: Vec<&NodeReport> =
                    self.nodes.iter().filter(|n| n.level == level).collect();
                let start = nodes.iter().filter_map(|n| n.triggered_at).min();
                let end = nodes.iter().filter_map(|n| n.finished_at).max();
                let seconds = match (start, end) {
                    (Some(s), Some(e)) if e >= s => Some((e - s).as_seconds_f64()),
                    _ => None,
                };
                LevelTiming {
                    level,
                    images: nodes.len(),
                    seconds,
                }
            })
            .collect();
    }

    /// The human table: one line per image, then per level and a summary.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "cascade #{} from {} ({} -> {}){}",
            self.run,
            self.root.familiar(),
            short(&self.old_root_digest),
            short(&self.new_root_digest),
            if self.resumed { ", resumed" } else { "" }
        )?;
        let width = self
            .nodes
            .iter()
            .map(|n| n.image.familiar().chars().count())
            .max()
            .unwrap_or(0);
        for node in &self.nodes {
            let detail = match (&node.digest, &node.message) {
                (_, Some(message)) => message.clone(),
                (Some(digest), None) => short(digest),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "  L{:<2} {:<11} {:<width$}  {}",
                node.level,
                node.status.as_str(),
                node.image.familiar(),
                detail
            )?;
        }
        for level in &self.levels {
            let took = level
                .seconds
                .map_or("-".to_owned(), |s| format!("{:.2}s", s));
            writeln!(
                out,
                "  level {}: {}, {took}",
                level.level,
                crate::output::count(level.images, "image")
            )?;
        }
        writeln!(
            out,
            "{} published, {} up to date, {} failed, {} skipped in {:.2}s",
            self.count(Status::Published),
            self.count(Status::UpToDate),
            self.failed(),
            self.count(Status::Skipped),
            Duration::from_secs_f64(self.seconds.max(0.0)).as_secs_f64()
        )
    }
}
