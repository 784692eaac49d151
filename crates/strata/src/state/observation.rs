//! record stage: what the state database knows about tags over time (values only; the
//! queries live in the backends). Nothing here performs I/O.

use strata_core::reference::Digest;
use time::OffsetDateTime;

/// What one observation of a tag meant, as returned by
/// [`State::record_observation`](super::State::record_observation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The tag had never been observed.
    New,
    /// The tag still points at the digest it pointed at last time.
    Unchanged {
        /// When the tag was first observed at this digest in its current stint.
        since: OffsetDateTime,
    },
    /// The tag points at another digest than last time.
    Moved(TagMove),
    /// The observation is older than the tag's latest one (a slow lookup finishing after
    /// a newer one): it is added to the digest's sightings but neither moves the tag nor
    /// records a move.
    Outdated {
        /// The digest the tag points at according to the newer observation.
        current: Digest,
    },
}

/// One move of a tag, as observed: it happened after `from_last_seen` and no later than
/// `observed_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMove {
    /// The move's id in the state database.
    pub id: super::MoveId,
    /// The digest the tag pointed at before.
    pub from: Digest,
    /// The digest it points at since.
    pub to: Digest,
    /// The last observation of `from` before the move.
    pub from_last_seen: OffsetDateTime,
    /// The first observation of `to` after the move: "moved on or before".
    pub observed_at: OffsetDateTime,
    /// The first time this tag was ever observed at `to`; earlier than `observed_at`
    /// when the tag moved back to a digest it had before.
    pub to_first_seen: OffsetDateTime,
}

/// What a tag points at now, as last observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagStatus {
    /// The current digest.
    pub digest: Digest,
    /// When the tag was first observed at `digest` in its current stint (the last move,
    /// or the first observation when it never moved).
    pub since: OffsetDateTime,
    /// The tag's first observation.
    pub first_checked: OffsetDateTime,
    /// The tag's latest observation.
    pub last_checked: OffsetDateTime,
}

/// One digest a tag was observed at, with the first and last observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSighting {
    /// The digest.
    pub digest: Digest,
    /// The first observation of the tag at this digest.
    pub first_seen: OffsetDateTime,
    /// The latest observation of the tag at this digest.
    pub last_seen: OffsetDateTime,
}
