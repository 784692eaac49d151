//! act + record stages, on the forge: opens or updates the pull request of a pushed
//! change set, closes the open ones it supersedes, and records each step in the state
//! database so a run that stopped half-way is finished by the next. The forge is always
//! asked first: a pull request opened just before a crash is in the forge, not the
//! database. Never touches git.

use anyhow::{Context, Result, anyhow};
use strata_core::reference::Digest;
use strata_core::update::{Group, REPOSITORY_GROUP};
use time::OffsetDateTime;

use super::commit::{REMOTE, Repository};
use super::message::Marker;
use super::remote::repository_slug;
use crate::forge::{
    self, AutoMerge, Forge, ForgeConfig, ForgeKind, MergeMethod, NewPullRequest, OpenOutcome,
    PullRequestState,
};
use crate::state::{GroupKey, ProposalDraft, ProposalKey, PullRequest, State};

/// A connected forge and the repository on it.
#[derive(Debug)]
pub struct Target {
    pub forge: Box<dyn Forge>,
    pub kind: ForgeKind,
    /// `owner/name` (the GitLab project path).
    pub slug: String,
    /// How the state database names the repository: the remote URL, else the slug.
    pub repository: String,
}

/// Connects to `kind` (settings from the environment) for the repository `slug` names,
/// or the one the `origin` remote's URL names.
pub fn connect(kind: ForgeKind, slug: Option<&str>, repo: &Repository) -> Result<Target> {
    let (slug, url) = slug_of(kind, slug, repo, "pass --repo OWNER/NAME")?;
    let config = ForgeConfig::from_environment(kind)?;
    target(config, kind, slug, url)
}

/// [`connect`] with settings read once for several repositories: the repository is
/// always the one `origin` names (`--repo` names one repository, not several).
pub fn connect_with(config: &ForgeConfig, repo: &Repository) -> Result<Target> {
    let kind = config.kind;
    let hint = "set the origin remote to the forge repository's URL";
    let (slug, url) = slug_of(kind, None, repo, hint)?;
    target(config.clone(), kind, slug, url)
}

/// The forge repository (`slug`, else the one the `origin` URL names) and that URL;
/// `hint` ends the error saying how to name one.
fn slug_of(
    kind: ForgeKind,
    slug: Option<&str>,
    repo: &Repository,
    hint: &str,
) -> Result<(String, Option<String>)> {
    let url = repo.git.remote_url(REMOTE)?;
    let slug = match slug {
        Some(slug) => slug.trim_matches('/').to_owned(),
        None => {
            let url = url.as_deref().ok_or_else(|| {
                anyhow!("no {REMOTE} remote to tell the {kind} repository from: {hint}")
            })?;
            repository_slug(url, kind).ok_or_else(|| {
                anyhow!("cannot tell the {kind} repository from the {REMOTE} URL {url:?}: {hint}")
            })?
        }
    };
    Ok((slug, url))
}

fn target(
    config: ForgeConfig,
    kind: ForgeKind,
    slug: String,
    url: Option<String>,
) -> Result<Target> {
    let forge = forge::connect(config)?;
    Ok(Target {
        forge,
        kind,
        repository: url.unwrap_or_else(|| slug.clone()),
        slug,
    })
}

/// The state database's key of a change set's proposal.
pub fn key(target: &Target, group: &Group) -> ProposalKey {
    ProposalKey {
        repository: target.repository.clone(),
        branch: group.branch.clone(),
    }
}

/// Records the change set before anything is pushed. One base: its digests; several:
/// digests of the sorted moves, which change exactly when one of them does.
pub async fn record_draft(
    state: &State,
    target: &Target,
    group: &Group,
    at: OffsetDateTime,
) -> Result<()> {
    let (old_digest, new_digest) = match group.moves.as_slice() {
        [one] if group.key != REPOSITORY_GROUP => (
            one.from.first().cloned().unwrap_or_else(|| one.to.clone()),
            one.to.clone(),
        ),
        moves => {
            let old: Vec<String> = moves
                .iter()
                .map(|m| format!("{} {:?}", m.base, m.from))
                .collect();
            let new: Vec<String> = moves
                .iter()
                .map(|m| format!("{} {}", m.base, m.to))
                .collect();
            (combined(&old)?, combined(&new)?)
        }
    };
    let draft = ProposalDraft {
        key: key(target, group),
        group: GroupKey::new(group.key.clone()),
        old_digest,
        new_digest,
        forge: target.kind,
    };
    state.upsert_proposal(&draft, at).await?;
    Ok(())
}

fn combined(lines: &[String]) -> Result<Digest> {
    use sha2::Digest as _;
    let hash = sha2::Sha256::digest(lines.join("\n").as_bytes());
    format!("sha256:{}", hex::encode(hash))
        .parse()
        .map_err(|err| anyhow!("{err}"))
}

/// What happened on the forge.
#[derive(Debug, Clone)]
pub struct Proposed {
    pub number: u64,
    pub url: String,
    pub outcome: OpenOutcome,
    /// Pull requests closed as superseded.
    pub superseded: Vec<u64>,
    /// Auto-merge, when asked for: turned on, or merged at once.
    pub auto_merge: Option<AutoMerge>,
}

/// The pull request to open for a change set.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub group: &'a Group,
    /// The base branch (`None`: the forge's default branch).
    pub base: Option<&'a str>,
    pub title: String,
    pub body: String,
    pub labels: &'a [String],
    /// Turn on the forge's auto-merge (with this merge method, `None`: the forge's
    /// default); `None`: leave merging to people.
    pub auto_merge: Option<Option<MergeMethod>>,
}

/// Opens or updates the pull request, records it, closes the ones it supersedes, and
/// turns on auto-merge when asked and the pull request is new or changed.
pub async fn open(
    state: &State,
    target: &Target,
    request: &Request<'_>,
    at: OffsetDateTime,
) -> Result<Proposed> {
    let forge = target.forge.as_ref();
    let base = match request.base {
        Some(base) => base.to_owned(),
        None => forge.default_branch(&target.slug).await?,
    };
    let new = NewPullRequest {
        head: request.group.branch.clone(),
        base,
        title: request.title.clone(),
        body: request.body.clone(),
        labels: request.labels.to_vec(),
    };
    let opened = forge::ensure_pull_request(forge, &target.slug, &new)
        .await
        .with_context(|| format!("opening the pull request for {}", new.head))?;
    let key = key(target, request.group);
    state
        .record_pull_request(&key, &PullRequest::from(&opened.pull_request), at)
        .await?;
    let superseded = close_superseded(state, target, request.group, &opened.pull_request, at)
        .await
        .context("closing superseded pull requests")?;
    let number = opened.pull_request.number;
    // Turned on when the pull request is opened or changed, never again for one left as
    // it was: someone may have turned it off on purpose.
    let auto_merge = match request.auto_merge {
        Some(_) if opened.outcome == OpenOutcome::Unchanged => None,
        None => None,
        Some(method) => {
            let done = forge
                .enable_auto_merge(&target.slug, number, method)
                .await
                .with_context(|| format!("turning on auto-merge of {}", opened.pull_request.url))?;
            if done == AutoMerge::Merged {
                let record = PullRequest {
                    state: PullRequestState::Merged,
                    ..PullRequest::from(&opened.pull_request)
                };
                state.record_pull_request(&key, &record, at).await?;
            }
            Some(done)
        }
    };
    Ok(Proposed {
        number,
        url: opened.pull_request.url.clone(),
        outcome: opened.outcome,
        superseded,
        auto_merge,
    })
}

/// Closes every other open pull request under the group's branch prefix whose marker
/// proposes another digest for one of the group's bases.
async fn close_superseded(
    state: &State,
    target: &Target,
    group: &Group,
    by: &forge::PullRequest,
    at: OffsetDateTime,
) -> Result<Vec<u64>> {
    let forge = target.forge.as_ref();
    let prefix = group.branch_prefix();
    let open = forge
        .list_open_pull_requests_with_prefix(&target.slug, &prefix)
        .await?;
    let comment = forge::superseded_comment(target.kind, by);
    let mut closed = Vec::new();
    for pull in open {
        let outdated = pull.head != group.branch
            && Marker::find(&pull.body).is_some_and(|m| m.superseded_by(group));
        if !outdated {
            continue;
        }
        let done = forge
            .close_pull_request(&target.slug, pull.number, Some(&comment))
            .await?;
        let key = ProposalKey {
            repository: target.repository.clone(),
            branch: pull.head.clone(),
        };
        if state.proposal(&key).await?.is_some() {
            let record = PullRequest {
                state: PullRequestState::Closed,
                ..PullRequest::from(&done)
            };
            state.record_pull_request(&key, &record, at).await?;
        }
        closed.push(pull.number);
    }
    Ok(closed)
}
