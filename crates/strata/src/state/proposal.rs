//! record stage: the branches and pull requests strata proposed (values only; the queries
//! live in the backends). Nothing here performs I/O.

use std::fmt;

use strata_core::reference::Digest;
use time::OffsetDateTime;

use crate::forge::{self, ForgeKind, PullRequestState};

text_enum! {
    /// How far a proposal got; what a rerun still has to do.
    ProposalStage {
        /// Recorded, nothing pushed yet (or the content changed since the last push).
        Prepared => "prepared",
        /// The branch was pushed; no pull request is recorded yet.
        Pushed => "pushed",
        /// The pull request is open.
        Open => "open",
        /// The pull request was merged.
        Merged => "merged",
        /// The pull request was closed without merging.
        Closed => "closed",
    }
}

/// Identifies a proposal: one branch of one repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProposalKey {
    /// The repository as the caller names it: a remote URL, or a local path for
    /// repositories without a remote. Use the same spelling every run.
    pub repository: String,
    /// The branch, e.g. `strata/python-3.12`.
    pub branch: String,
}

/// The moved base image a proposal belongs to (e.g. `docker.io/library/python:3.12`):
/// proposals that share it are one group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey(String);

impl GroupKey {
    /// Wraps a group key.
    pub fn new(key: impl Into<String>) -> GroupKey {
        GroupKey(key.into())
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is recorded of a pull (or merge) request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Its number (GitHub, Gitea) or iid (GitLab).
    pub number: u64,
    /// Its web URL.
    pub url: String,
    /// Where it stands.
    pub state: PullRequestState,
}

impl From<&forge::PullRequest> for PullRequest {
    fn from(pull_request: &forge::PullRequest) -> PullRequest {
        PullRequest {
            number: pull_request.number,
            url: pull_request.url.clone(),
            state: pull_request.state,
        }
    }
}

/// What [`State::upsert_proposal`](super::State::upsert_proposal) records: the content
/// of a proposal, before anything is pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalDraft {
    /// The branch and repository.
    pub key: ProposalKey,
    /// The moved base image.
    pub group: GroupKey,
    /// The digest the repository pins today.
    pub old_digest: Digest,
    /// The digest the proposal pins.
    pub new_digest: Digest,
    /// Where the pull request goes.
    pub forge: ForgeKind,
}

/// A recorded proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The branch and repository.
    pub key: ProposalKey,
    /// The moved base image.
    pub group: GroupKey,
    /// The digest the repository pinned when the proposal was made.
    pub old_digest: Digest,
    /// The digest the proposal pins.
    pub new_digest: Digest,
    /// Where the pull request goes.
    pub forge: ForgeKind,
    /// The commit pushed to the branch for the current content, once pushed.
    pub commit: Option<String>,
    /// The pull request, once opened.
    pub pull_request: Option<PullRequest>,
    /// When the proposal was first recorded.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

impl Proposal {
    /// How far the proposal got. A pull request outranks the commit: an open pull
    /// request whose content changed is `Open` with `commit == None` (push, then done).
    pub fn stage(&self) -> ProposalStage {
        match (&self.pull_request, &self.commit) {
            (Some(pr), _) => match pr.state {
                PullRequestState::Open => ProposalStage::Open,
                PullRequestState::Merged => ProposalStage::Merged,
                PullRequestState::Closed => ProposalStage::Closed,
            },
            (None, Some(_)) => ProposalStage::Pushed,
            (None, None) => ProposalStage::Prepared,
        }
    }

    /// Whether the current content still has to be committed and pushed.
    pub fn needs_push(&self) -> bool {
        self.commit.is_none()
    }

    /// Whether a pull request still has to be opened (after the push). Before opening
    /// one, ask the forge whether the branch already has one: a crash between opening it
    /// and recording it leaves no trace here.
    pub fn needs_pull_request(&self) -> bool {
        self.pull_request.is_none()
    }
}

// The stored names; the `CHECK` constraints of the `proposal` table list the same. The
// matches are exhaustive so a new forge or state fails to compile until it is mapped.

pub(super) fn forge_text(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::GitHub => "github",
        ForgeKind::GitLab => "gitlab",
        ForgeKind::Gitea => "gitea",
    }
}

pub(super) fn parse_forge(text: &str) -> Option<ForgeKind> {
    match text {
        "github" => Some(ForgeKind::GitHub),
        "gitlab" => Some(ForgeKind::GitLab),
        "gitea" => Some(ForgeKind::Gitea),
        _ => None,
    }
}

pub(super) fn pr_state_text(state: PullRequestState) -> &'static str {
    match state {
        PullRequestState::Open => "open",
        PullRequestState::Merged => "merged",
        PullRequestState::Closed => "closed",
    }
}

pub(super) fn parse_pr_state(text: &str) -> Option<PullRequestState> {
    match text {
        "open" => Some(PullRequestState::Open),
        "merged" => Some(PullRequestState::Merged),
        "closed" => Some(PullRequestState::Closed),
        _ => None,
    }
}
