//! record stage: strata's state database. Remembers what strata observed and what it did
//! so `check` can say since when a tag moved, `update --pr` never repeats or loses work
//! after a crash, `cascade` resumes where it stopped, and several `strata serve`
//! processes share one queue of work. It stores and answers; it never resolves tags,
//! talks to forges or decides anything.
//!
//! # Where
//! By default one embedded SQLite file outside any scanned repository, chosen by
//! [`state_path`]: `--state PATH`, else `$STRATA_STATE`, else `state.db` in the state
//! directory ([`crate::dirs::state_dir`]: `$STRATA_STATE_DIR`, `$XDG_STATE_HOME/strata` or
//! `~/.local/state/strata`); [`ensure_outside`] refuses a file inside the repository
//! being worked on. [`State::open`] creates the file and its directory. For several
//! workers, a PostgreSQL database: [`State::connect`] with a `postgres://` URL
//! (`strata serve --database`, or `STRATA_DATABASE`).
//!
//! # What
//! - Tag observations ([`State::record_observation`]): per tag, the current digest and
//!   since when, the first and last sighting of every digest, and every move.
//! - Proposals ([`State::upsert_proposal`], [`State::record_commit`],
//!   [`State::record_pull_request`]): per (repository, branch), the group, digests,
//!   pushed commit and pull request, recorded step by step so a rerun after a crash
//!   sees how far it got ([`Proposal::stage`]) and finishes the job.
//! - Cascades ([`State::open_cascade`], [`State::claim_node`], ...): a run and its
//!   nodes; at most one running run per root (a unique index), opened or resumed in one
//!   transaction; claiming a node marks it triggered in the same statement, so a resumed
//!   or concurrent run never triggers an image twice; what carried each image's new pins
//!   ([`State::record_delivery`]).
//! - `strata serve`'s work ([`State::enqueue`], [`State::lease_jobs`],
//!   [`State::claim_watches`], ...): jobs leased by one worker at a time until their
//!   lease runs out, watched tags claimed by one worker per check, webhook events stored
//!   before they are acknowledged, each move's timeline.
//!
//! Timestamps are the caller's (`at` arguments: tests pin them), stored with microsecond
//! precision: values read back are truncated to whole microseconds.
//!
//! # Schema and migrations
//! Each backend has its migrations, embedded SQL files (`migrations/sqlite/NNNN_name.sql`,
//! `migrations/postgres/NNNN_name.sql`) with the same version numbers and the same
//! meaning, so [`SCHEMA_VERSION`] speaks of both. They are applied at open by sqlx's
//! migrator, under a lock so concurrent first opens apply them once: SQLite's write lock
//! (`BEGIN IMMEDIATE`), a PostgreSQL session advisory lock. A database migrated by a
//! newer strata is refused ([`StateError::FutureSchema`]), as is an SQLite file strata
//! did not create (`PRAGMA application_id`: [`StateError::ForeignDatabase`]), a damaged
//! file ([`StateError::NotADatabase`]) and a PostgreSQL schema holding tables strata did
//! not create (its `tag` table carries a comment saying it is strata's:
//! [`StateError::ForeignSchema`]). Shipped migrations are never edited (sqlx checks
//! their checksums), so keep `.sql` files byte-stable (no line-ending conversion).
//!
//! # Backends
//! [`State`] wraps an enum of backends rather than a trait: async trait methods are not
//! object-safe, an enum keeps every call site concrete, and the `match` in each method
//! (`dispatch!`) is the one place a backend plugs in. Both give every method the same
//! behaviour; the state tests run each case on both.
//! - SQLite (sqlx, bundled libsqlite3, WAL mode, busy timeout, foreign keys on): one
//!   writer at a time; a write that reads first runs in `BEGIN IMMEDIATE`, so it holds
//!   the write lock from its first read.
//! - PostgreSQL: writers run side by side at `READ COMMITTED`, and each guarantee SQLite
//!   gets from serialised writers is made explicit: the tag's row locked (`FOR UPDATE`)
//!   while an observation is recorded; jobs leased and tag checks claimed with `SELECT
//!   … FOR UPDATE SKIP LOCKED` in the statement that moves them (workers skip each
//!   other's picks, and a row taken since a statement began no longer matches when it
//!   is locked); node claims, lease renewals and finishes as single conditional
//!   `UPDATE`s (a second claimer waits, re-checks, loses); the job dedupe as `INSERT …
//!   ON CONFLICT DO NOTHING` on the partial unique index; opening or starting a root's
//!   cascade under a transaction-scoped advisory lock on that root (the partial unique
//!   index stays the last word); the watch list replaced under an advisory lock.
//!   `BIGINT GENERATED ALWAYS AS IDENTITY` ids, `timestamptz` times (the same
//!   microseconds as SQLite's integers, and readable by `psql` and any tool pointed at a
//!   shared database), `$1` placeholders, text orderings in `COLLATE "C"` so both
//!   backends list in the same order whatever the database's collation.
//!
//! # Crate choice
//! sqlx 0.9 without default features (`runtime-tokio`, `sqlite-bundled`, `postgres`,
//! `tls-rustls-aws-lc-rs`, `time`, `migrate`; runtime-checked queries, no macros, no
//! OpenSSL, no ring): async on our tokio runtime, a migrator, and one API for both
//! backends. SQLite adds about 30 s of CPU to a cold debug build (the bundled SQLite C
//! source is half of it); the PostgreSQL driver with TLS through the rustls and aws-lc-rs
//! strata already uses adds 30 small crates (SCRAM's hashes and HMAC in a newer RustCrypto
//! generation, `stringprep`, `whoami`, Mozilla's roots in `webpki-roots`, ...): see the
//! README's dependency table for the measured cost. TLS is there because managed
//! PostgreSQL services require it (`?sslmode=require`, or `verify-full` with
//! `sslrootcert`). rusqlite would cost about the same for SQLite but is synchronous and
//! would make PostgreSQL a second database library.

macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// The stored (and displayed) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value named `text`, if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

mod cascade;
mod error;
mod location;
mod observation;
mod postgres;
mod proposal;
mod queue;
mod sqlite;

use std::path::Path;

use strata_core::reference::Digest;
use time::OffsetDateTime;

pub use crate::forge::{ForgeKind, PullRequestState};
pub use crate::registry::TagKey;
pub use cascade::{
    CascadeNode, CascadeRun, Drive, NewCascade, NewNode, NodeState, OpenedCascade, PinDelivery,
    RunId, RunOutcome, RunStatus,
};
pub use error::StateError;
pub use location::{STATE_ENV, ensure_outside, state_path};
pub use observation::{DigestSighting, Observation, TagMove, TagStatus};
pub use proposal::{GroupKey, Proposal, ProposalDraft, ProposalKey, ProposalStage, PullRequest};
pub use queue::{
    Event, EventId, EventState, Job, JobEnd, JobId, JobKind, JobState, MoveId, MoveStep, NewJob,
    QueueStats, RecordedMove, Watch,
};

use postgres::PostgresStore;
use sqlite::SqliteStore;

/// The newest schema version this build creates and understands (both backends: their
/// migrations carry the same versions).
pub const SCHEMA_VERSION: i64 = sqlite::SCHEMA_VERSION;
const _: () = assert!(postgres::SCHEMA_VERSION == sqlite::SCHEMA_VERSION);

/// An open state database. Cheap to clone (clones share connections); every method is
/// one transaction.
#[derive(Debug, Clone)]
pub struct State {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Runs `$call` on whichever backend `$state` has, bound as `$db`.
macro_rules! dispatch {
    ($state:expr, $db:ident => $call:expr) => {
        match &$state.backend {
            Backend::Sqlite($db) => $call,
            Backend::Postgres($db) => $call,
        }
    };
}

impl State {
    /// Opens the SQLite database at `path`, creating it (and its directory) when missing
    /// and applying pending migrations.
    pub async fn open(path: &Path) -> Result<State, StateError> {
        let store = SqliteStore::open(path).await?;
        Ok(State {
            backend: Backend::Sqlite(store),
        })
    }

    /// Connects to a shared PostgreSQL database by URL (`postgres://` or
    /// `postgresql://`, with libpq's parameters such as `sslmode` and `sslrootcert`) and
    /// applies pending migrations. An SQLite file is [`State::open`]ed by path.
    pub async fn connect(url: &str) -> Result<State, StateError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StateError::Unsupported {
                detail:
                    "only postgres:// URLs are served by URL; give an SQLite database as a path"
                        .to_owned(),
            });
        }
        let store = PostgresStore::connect(url).await?;
        Ok(State {
            backend: Backend::Postgres(store),
        })
    }

    /// Where the database is, for messages: the SQLite file, or the PostgreSQL URL
    /// without its password.
    pub fn path(&self) -> &Path {
        dispatch!(self, db => db.path())
    }

    /// Closes every connection (pending clones fail afterwards). Dropping works too;
    /// closing also checkpoints SQLite's write-ahead log into the main file.
    pub async fn close(self) {
        dispatch!(self, db => db.close().await)
    }
}

/// Tag observations.
impl State {
    /// Records that `key` pointed at `digest` at `at` and says what that means: a new
    /// tag, unchanged (since when), moved (from what, and since when the new digest has
    /// been seen), or outdated (older than the latest observation; not a move). A move
    /// starts its timeline with a `detected` step, whoever saw it (a poll, a check, a
    /// cascade resolving its root).
    pub async fn record_observation(
        &self,
        key: &TagKey,
        digest: &Digest,
        at: OffsetDateTime,
    ) -> Result<Observation, StateError> {
        let seen = dispatch!(self, db => db.record_observation(key, digest, at).await)?;
        if let Observation::Moved(tag_move) = &seen {
            let detail = format!("{key}: {} -> {}", tag_move.from, tag_move.to);
            self.record_move_step(tag_move.id, "detected", Some(&detail), at)
                .await?;
        }
        Ok(seen)
    }

    /// What `key` points at, as last observed; `None` if never observed.
    pub async fn current(&self, key: &TagKey) -> Result<Option<TagStatus>, StateError> {
        dispatch!(self, db => db.current(key).await)
    }

    /// Every observed move of `key`, oldest first.
    pub async fn history(&self, key: &TagKey) -> Result<Vec<TagMove>, StateError> {
        dispatch!(self, db => db.history(key).await)
    }

    /// The latest observed move of `key`; `None` if it never moved.
    pub async fn last_move(&self, key: &TagKey) -> Result<Option<TagMove>, StateError> {
        dispatch!(self, db => db.last_move(key).await)
    }

    /// Every digest `key` was observed at, by first sighting.
    pub async fn sightings(&self, key: &TagKey) -> Result<Vec<DigestSighting>, StateError> {
        dispatch!(self, db => db.sightings(key).await)
    }

    /// When `key` was first observed at `digest`; `None` if never.
    pub async fn digest_first_seen(
        &self,
        key: &TagKey,
        digest: &Digest,
    ) -> Result<Option<OffsetDateTime>, StateError> {
        dispatch!(self, db => db.digest_first_seen(key, digest).await)
    }
}

/// Proposals (branches and pull requests).
impl State {
    /// Records a proposal's content, or updates the existing row for its branch, and
    /// returns the row: a rerun finds the commit and pull request recorded before. The
    /// commit is kept only while both digests are unchanged; an open pull request is
    /// kept across a content change (pushing updates it), a merged or closed one is
    /// dropped then (a new one is needed). An identical rerun changes nothing.
    pub async fn upsert_proposal(
        &self,
        draft: &ProposalDraft,
        at: OffsetDateTime,
    ) -> Result<Proposal, StateError> {
        dispatch!(self, db => db.upsert_proposal(draft, at).await)
    }

    /// Records the commit pushed to the proposal's branch.
    pub async fn record_commit(
        &self,
        key: &ProposalKey,
        commit: &str,
        at: OffsetDateTime,
    ) -> Result<Proposal, StateError> {
        dispatch!(self, db => db.record_commit(key, commit, at).await)
    }

    /// Records the proposal's pull request, or its new state.
    pub async fn record_pull_request(
        &self,
        key: &ProposalKey,
        pull_request: &PullRequest,
        at: OffsetDateTime,
    ) -> Result<Proposal, StateError> {
        dispatch!(self, db => db.record_pull_request(key, pull_request, at).await)
    }

    /// The proposal for a branch; `None` if none was recorded.
    pub async fn proposal(&self, key: &ProposalKey) -> Result<Option<Proposal>, StateError> {
        dispatch!(self, db => db.proposal(key).await)
    }

    /// Every proposal of a group, by repository and branch.
    pub async fn proposals_in_group(&self, group: &GroupKey) -> Result<Vec<Proposal>, StateError> {
        dispatch!(self, db => db.proposals_in_group(group).await)
    }

    /// Proposals still in flight: no pull request yet, or an open one.
    pub async fn open_proposals(&self) -> Result<Vec<Proposal>, StateError> {
        dispatch!(self, db => db.open_proposals().await)
    }
}

/// Cascades.
impl State {
    /// Records a new running cascade with all its nodes `pending`. Fails with
    /// [`StateError::CascadeRunning`] when the root already has a running cascade (use
    /// [`State::open_cascade`] to resume or supersede it).
    pub async fn start_cascade(
        &self,
        cascade: &NewCascade,
        at: OffsetDateTime,
    ) -> Result<CascadeRun, StateError> {
        dispatch!(self, db => db.start_cascade(cascade, at).await)
    }

    /// The running cascade of `cascade.root_image` for `cascade.new_root_digest`: resumed
    /// when one is running, else started now, with running cascades of the same root for
    /// another digest cancelled (the new one covers them) — all in one transaction, and
    /// the database allows one running cascade per root, so two processes opening the
    /// same cascade at the same moment end up in the same run.
    pub async fn open_cascade(
        &self,
        cascade: &NewCascade,
        at: OffsetDateTime,
    ) -> Result<OpenedCascade, StateError> {
        dispatch!(self, db => db.open_cascade(cascade, at).await)
    }

    /// Records what carried `image`'s new pins (the commit and ref, or the pull request).
    /// Only while the node is pending or triggered; fields left `None` keep what was
    /// recorded before.
    pub async fn record_delivery(
        &self,
        run: RunId,
        image: &str,
        delivery: &PinDelivery,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        dispatch!(self, db => db.record_delivery(run, image, delivery, at).await)
    }

    /// A cascade run; `None` if there is none with this id.
    pub async fn cascade_run(&self, run: RunId) -> Result<Option<CascadeRun>, StateError> {
        dispatch!(self, db => db.cascade_run(run).await)
    }

    /// Runs not finished (to resume), oldest first.
    pub async fn running_cascades(&self) -> Result<Vec<CascadeRun>, StateError> {
        dispatch!(self, db => db.running_cascades().await)
    }

    /// The newest `limit` runs, newest first.
    pub async fn recent_cascades(&self, limit: usize) -> Result<Vec<CascadeRun>, StateError> {
        dispatch!(self, db => db.recent_cascades(limit).await)
    }

    /// A run's nodes by level, then image.
    pub async fn cascade_nodes(&self, run: RunId) -> Result<Vec<CascadeNode>, StateError> {
        dispatch!(self, db => db.cascade_nodes(run).await)
    }

    /// Claims a pending node of a running run: marks it `triggered` (counting an attempt)
    /// and returns `true`, atomically, so exactly one claimer wins. `false` when the node
    /// is not pending or the run is finished. Trigger the rebuild only after `true`; a
    /// crash after the claim leaves the node `triggered`, never triggered twice.
    pub async fn claim_node(
        &self,
        run: RunId,
        image: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StateError> {
        dispatch!(self, db => db.claim_node(run, image, at).await)
    }

    /// `triggered -> published`, with the rebuilt image's digest.
    /// A node already published is left as is (a rerun); from any other state this is
    /// [`StateError::InvalidTransition`].
    pub async fn publish_node(
        &self,
        run: RunId,
        image: &str,
        digest: &Digest,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        dispatch!(self, db => db.publish_node(run, image, digest, at).await)
    }

    /// `pending | triggered -> failed`, with the error.
    /// A node already failed is left as is (a rerun); from any other state this is
    /// [`StateError::InvalidTransition`].
    pub async fn fail_node(
        &self,
        run: RunId,
        image: &str,
        message: &str,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        dispatch!(self, db => db.fail_node(run, image, message, at).await)
    }

    /// `pending -> skipped`, with the reason.
    /// A node already skipped is left as is (a rerun); from any other state this is
    /// [`StateError::InvalidTransition`].
    pub async fn skip_node(
        &self,
        run: RunId,
        image: &str,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        dispatch!(self, db => db.skip_node(run, image, reason, at).await)
    }

    /// `failed -> pending`, so the node can be claimed again; `false` if it was not
    /// failed.
    pub async fn retry_node(
        &self,
        run: RunId,
        image: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StateError> {
        dispatch!(self, db => db.retry_node(run, image, at).await)
    }

    /// Takes (or renews) the drive of running cascade `run` for `driver` until `until`:
    /// granted when nobody drives it, the driver's lease ran out before `at`, `driver`
    /// already drives it, or the current driver is `gone` (known dead). One process
    /// triggers a cascade's builds; others opening it follow.
    pub async fn drive_cascade(
        &self,
        run: RunId,
        driver: &str,
        gone: Option<&str>,
        until: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Drive, StateError> {
        dispatch!(self, db => db.drive_cascade(run, driver, gone, until, at).await)
    }

    /// Gives up the drive of `run` if `driver` holds it, so another process may take it
    /// at once.
    pub async fn release_cascade(&self, run: RunId, driver: &str) -> Result<(), StateError> {
        dispatch!(self, db => db.release_cascade(run, driver).await)
    }

    /// Marks a running run finished. Finishing it again the same way is a no-op.
    pub async fn finish_cascade(
        &self,
        run: RunId,
        outcome: RunOutcome,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        dispatch!(self, db => db.finish_cascade(run, outcome, at).await)
    }
}

/// The work queue (`strata serve`).
impl State {
    /// Queues `job`; `None` when an open job with the same key exists (the same work is
    /// already queued or running).
    pub async fn enqueue(
        &self,
        job: &NewJob,
        at: OffsetDateTime,
    ) -> Result<Option<JobId>, StateError> {
        dispatch!(self, db => db.enqueue(job, at).await)
    }

    /// Leases up to `max` ready jobs of `kinds` to `worker` until `until`: queued ones
    /// that are due, and leased ones whose lease ran out (their worker died). Each job is
    /// leased to one worker at a time.
    pub async fn lease_jobs(
        &self,
        worker: &str,
        kinds: &[JobKind],
        max: usize,
        until: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Vec<Job>, StateError> {
        dispatch!(self, db => db.lease_jobs(worker, kinds, max, until, at).await)
    }

    /// Extends `worker`'s lease on a job; `false` when it is no longer `worker`'s.
    pub async fn renew_lease(
        &self,
        id: JobId,
        worker: &str,
        until: OffsetDateTime,
    ) -> Result<bool, StateError> {
        dispatch!(self, db => db.renew_lease(id, worker, until).await)
    }

    /// Ends `worker`'s lease on a job as `end` says; `false` when the lease was lost
    /// (another worker took the job over).
    pub async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        end: &JobEnd,
        at: OffsetDateTime,
    ) -> Result<bool, StateError> {
        dispatch!(self, db => db.finish_job(id, worker, end, at).await)
    }

    /// Hands every job `worker` holds back to the queue (a clean shutdown).
    pub async fn release_jobs(&self, worker: &str) -> Result<u64, StateError> {
        dispatch!(self, db => db.release_jobs(worker).await)
    }

    /// The newest `limit` jobs.
    pub async fn jobs(&self, limit: usize) -> Result<Vec<Job>, StateError> {
        dispatch!(self, db => db.jobs(limit).await)
    }

    /// Counts of the queue.
    pub async fn queue_stats(&self) -> Result<QueueStats, StateError> {
        dispatch!(self, db => db.queue_stats().await)
    }

    /// Makes exactly `keys` the active watches; a new one is first checked at its time.
    pub async fn sync_watches(&self, keys: &[(TagKey, OffsetDateTime)]) -> Result<(), StateError> {
        dispatch!(self, db => db.sync_watches(keys).await)
    }

    /// Claims up to `max` active watches due at `at`, moving their next check to `next`
    /// so no other worker takes them.
    pub async fn claim_watches(
        &self,
        max: usize,
        next: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Vec<TagKey>, StateError> {
        dispatch!(self, db => db.claim_watches(max, next, at).await)
    }

    /// Records a check of a watched tag: its next check, and the error when it failed.
    pub async fn checked_watch(
        &self,
        key: &TagKey,
        next: OffsetDateTime,
        error: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        dispatch!(self, db => db.checked_watch(key, next, error, at).await)
    }

    /// Every watch, by tag.
    pub async fn watches(&self) -> Result<Vec<Watch>, StateError> {
        dispatch!(self, db => db.watches().await)
    }

    /// One recorded move; `None` if there is none with this id.
    pub async fn recorded_move(&self, id: MoveId) -> Result<Option<RecordedMove>, StateError> {
        dispatch!(self, db => db.recorded_move(id).await)
    }

    /// Recorded moves: the unhandled ones oldest first, or all, newest first.
    pub async fn moves(
        &self,
        unhandled_only: bool,
        limit: usize,
    ) -> Result<Vec<RecordedMove>, StateError> {
        dispatch!(self, db => db.moves(unhandled_only, limit).await)
    }

    /// Marks a move acted on.
    pub async fn handle_move(&self, id: MoveId, at: OffsetDateTime) -> Result<(), StateError> {
        dispatch!(self, db => db.handle_move(id, at).await)
    }

    /// Adds a step to a move's timeline.
    pub async fn record_move_step(
        &self,
        id: MoveId,
        step: &str,
        detail: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        dispatch!(self, db => db.record_move_step(id, step, detail, at).await)
    }

    /// A move's timeline, oldest step first.
    pub async fn move_steps(&self, id: MoveId) -> Result<Vec<MoveStep>, StateError> {
        dispatch!(self, db => db.move_steps(id).await)
    }

    /// Stores a webhook event before it is acknowledged.
    pub async fn record_event(
        &self,
        source: &str,
        body: &str,
        at: OffsetDateTime,
    ) -> Result<EventId, StateError> {
        dispatch!(self, db => db.record_event(source, body, at).await)
    }

    /// Records what became of an event.
    pub async fn finish_event(
        &self,
        id: EventId,
        state: EventState,
        note: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        dispatch!(self, db => db.finish_event(id, state, note, at).await)
    }

    /// Events: the new ones oldest first, or all, newest first.
    pub async fn events(&self, new_only: bool, limit: usize) -> Result<Vec<Event>, StateError> {
        dispatch!(self, db => db.events(new_only, limit).await)
    }
}
