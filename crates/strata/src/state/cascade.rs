//! record stage: rebuild cascades and the progress of each image in them (values only;
//! the queries live in the backends). Nothing here performs I/O or triggers builds.

use std::fmt;

use strata_core::reference::Digest;
use time::OffsetDateTime;

text_enum! {
    /// Where a cascade run stands.
    RunStatus {
        /// Started and not finished (a crashed run stays here until resumed).
        Running => "running",
        /// Every node was published or skipped.
        Succeeded => "succeeded",
        /// Finished with failed nodes.
        Failed => "failed",
        /// Stopped on request.
        Cancelled => "cancelled",
    }
}

text_enum! {
    /// How a cascade run ended, as passed to
    /// [`State::finish_cascade`](super::State::finish_cascade).
    RunOutcome {
        /// Every node was published or skipped.
        Succeeded => "succeeded",
        /// Finished with failed nodes.
        Failed => "failed",
        /// Stopped on request.
        Cancelled => "cancelled",
    }
}

impl From<RunOutcome> for RunStatus {
    fn from(outcome: RunOutcome) -> RunStatus {
        match outcome {
            RunOutcome::Succeeded => RunStatus::Succeeded,
            RunOutcome::Failed => RunStatus::Failed,
            RunOutcome::Cancelled => RunStatus::Cancelled,
        }
    }
}

text_enum! {
    /// How far one image of a cascade got.
    ///
    /// Transitions: `pending -> triggered` ([`claim_node`](super::State::claim_node)),
    /// `triggered -> published`, `pending | triggered -> failed`, `pending -> skipped`,
    /// `failed -> pending` ([`retry_node`](super::State::retry_node)).
    NodeState {
        /// Waiting for its bases or for its turn.
        Pending => "pending",
        /// Its rebuild was triggered (at most once per claim).
        Triggered => "triggered",
        /// The rebuilt image was published.
        Published => "published",
        /// Triggering or building failed.
        Failed => "failed",
        /// Not rebuilt (a failed base, or nothing to do).
        Skipped => "skipped",
    }
}

/// A cascade run's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What [`State::start_cascade`](super::State::start_cascade) records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCascade {
    /// The root image whose base moved, as the image graph names it.
    pub root_image: String,
    /// The root's digest before.
    pub old_root_digest: Digest,
    /// The root's digest now.
    pub new_root_digest: Digest,
    /// Every image to rebuild; all start `pending`. Images must be unique.
    pub nodes: Vec<NewNode>,
}

/// One image of a new cascade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNode {
    /// The image, as the image graph names it.
    pub image: String,
    /// Its depth below the root (direct children are level 1).
    pub level: u32,
}

/// A recorded cascade run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CascadeRun {
    /// Its id.
    pub id: RunId,
    /// The root image.
    pub root_image: String,
    /// The root's digest before.
    pub old_root_digest: Digest,
    /// The root's digest now.
    pub new_root_digest: Digest,
    /// Where it stands.
    pub status: RunStatus,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When it finished; `None` while running.
    pub finished_at: Option<OffsetDateTime>,
}

/// A recorded node of a cascade run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CascadeNode {
    /// The run.
    pub run: RunId,
    /// The image.
    pub image: String,
    /// Its depth below the root.
    pub level: u32,
    /// How far it got.
    pub state: NodeState,
    /// How many times it was claimed (so triggered).
    pub attempts: u32,
    /// When it was last claimed.
    pub triggered_at: Option<OffsetDateTime>,
    /// When it was published, failed or skipped.
    pub finished_at: Option<OffsetDateTime>,
    /// When its row last changed.
    pub updated_at: OffsetDateTime,
    /// The error of a failed node or the reason of a skipped one.
    pub message: Option<String>,
    /// The rebuilt image's digest, once published.
    pub new_digest: Option<Digest>,
    /// What carried its new pins to its build, once known.
    pub delivery: PinDelivery,
}

/// What carried an image's new pins to its build (all `None`: nothing recorded, or the
/// pins were written in place or needed no change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinDelivery {
    /// The commit that has the new pins (pushed, or the branch tip that already had them).
    pub commit: Option<String>,
    /// The branch or ref it is on (`refs/heads/main`).
    pub git_ref: Option<String>,
    /// The pull request carrying them (its web address).
    pub pull_request: Option<String>,
}

impl PinDelivery {
    /// Whether anything is recorded.
    pub fn is_empty(&self) -> bool {
        self.commit.is_none() && self.git_ref.is_none() && self.pull_request.is_none()
    }
}

/// What [`State::open_cascade`](super::State::open_cascade) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedCascade {
    /// The running cascade for the root and digest asked for.
    pub run: CascadeRun,
    /// `true` when it was already running (a resume); `false` when it was started now.
    pub resumed: bool,
    /// Running cascades of the same root for another digest, cancelled now.
    pub cancelled: Vec<RunId>,
}

/// Who drives a running cascade, as [`State::drive_cascade`](super::State::drive_cascade)
/// found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drive {
    /// The caller drives it now, until the time it asked for.
    Mine,
    /// Another process drives it, with its lease until `until`.
    Theirs {
        /// The driver's name (`host:pid`).
        driver: String,
        /// When its lease runs out unless renewed.
        until: OffsetDateTime,
    },
    /// The run is no longer running: there is nothing to drive.
    Over(RunStatus),
}
