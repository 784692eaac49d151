//! record stage: the work queue of `strata serve` and what it watches (values only; the
//! queries live in the backends). Jobs are leased by one worker at a time; a lease that
//! runs out (the worker died) lets another take the job over. Nothing here performs I/O.

use std::fmt;

use strata_core::reference::Digest;
use time::OffsetDateTime;

use crate::registry::TagKey;

text_enum! {
    /// What a job does.
    JobKind {
        /// Look a tag up now (a webhook said it may have moved).
        CheckTag => "check-tag",
        /// Act on a recorded move: update, cascade.
        Move => "move",
        /// Read a repository again (its image files changed) and refresh the watches.
        Rescan => "rescan",
    }
}

text_enum! {
    /// Where a job stands.
    JobState {
        Queued => "queued",
        Leased => "leased",
        Done => "done",
        Failed => "failed",
    }
}

/// A job's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    /// At most one open job per key: a second enqueue of the same work is a no-op.
    pub key: String,
    /// What the job needs (JSON).
    pub payload: String,
    /// Higher first.
    pub priority: i64,
    /// Not before then.
    pub run_after: OffsetDateTime,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub key: String,
    pub payload: String,
    pub state: JobState,
    pub attempts: u32,
    pub lease_owner: Option<String>,
    pub lease_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub error: Option<String>,
}

/// How a leased job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEnd {
    Done,
    /// Failed for good, with why.
    Failed(String),
    /// Failed this time; queue it again for then, with why.
    Retry(OffsetDateTime, String),
}

/// The queue at a glance (metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    pub queued: u64,
    pub leased: u64,
    pub failed: u64,
    /// When the oldest queued job was created.
    pub oldest_queued: Option<OffsetDateTime>,
}

/// A watched tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    pub key: TagKey,
    pub active: bool,
    pub next_check: OffsetDateTime,
    pub last_checked: Option<OffsetDateTime>,
    pub failures: u32,
    pub last_error: Option<String>,
}

/// A recorded move's id (the `tag_move` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MoveId(pub i64);

impl fmt::Display for MoveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "move {}", self.0)
    }
}

/// A recorded move, with whether it was acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedMove {
    pub id: MoveId,
    pub key: TagKey,
    pub from: Digest,
    pub to: Digest,
    pub observed_at: OffsetDateTime,
    pub handled_at: Option<OffsetDateTime>,
}

/// One step of a move's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveStep {
    pub at: OffsetDateTime,
    /// `detected`, `pushed-upstream`, `update`, `cascade`, `published`, …
    pub step: String,
    pub detail: Option<String>,
}

text_enum! {
    /// What became of a webhook event.
    EventState {
        /// Stored, not yet acted on.
        New => "new",
        /// Acted on (its checks queued).
        Done => "done",
        /// Nothing to do (a pull, an unwatched tag, a host not configured).
        Ignored => "ignored",
        /// It could not be acted on.
        Failed => "failed",
    }
}

/// A webhook event's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub i64);

/// A stored webhook event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    /// `registry`, `dockerhub`, `github`, `gitlab`, `gitea`.
    pub source: String,
    pub received_at: OffsetDateTime,
    pub body: String,
    pub state: EventState,
    pub note: Option<String>,
}
