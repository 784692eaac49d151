//! act stage: talking to code forges (GitHub, GitLab, Gitea) to open, update and close the
//! pull requests `strata update --pr` proposes, and to publish GitHub check runs for
//! `strata check`. It never touches git or files: branches are pushed before these calls.
//!
//! One [`Forge`] trait (dyn-compatible: methods return [`ForgeFuture`]s) covers what
//! update needs; [`connect`] builds the client for a [`ForgeConfig`] (usually
//! [`ForgeConfig::from_environment`]). [`ensure_pull_request`] is the idempotent entry
//! point: it finds the open pull request for a head branch and updates it, or opens one;
//! running it twice never opens a duplicate, and a run that crashed between `git push`
//! and opening the pull request is finished by the next one. A forge answering "already
//! exists" to a create (GitHub 422, GitLab and Gitea 409) is handled the same way: the
//! existing pull request is found and updated. [`GitHub::create_check_run`] publishes a
//! check run with any number of annotations (GitHub takes 50 per request).
//!
//! # Why no octocrab
//! The three clients are thin, hand-written REST clients over the workspace's one
//! `reqwest` (rustls with aws-lc-rs), sharing one request path (`http.rs`): retries,
//! `Link`/`X-Next-Page` pagination with a page bound, and one error mapping that keeps the
//! HTTP status, the forge's message, rate-limit reset times and the token variable.
//! octocrab 0.54 (without default features, rustls + aws-lc-rs) pulls neither ring nor
//! OpenSSL, but adds 22 crates (a second HTTP client stack on hyper-util and
//! hyper-rustls, chrono, snafu, tower layers, ...; about a minute of CPU in a cold debug
//! build) and its errors drop the rate-limit headers, so we would have used its raw
//! `_get`/`_post` anyway for the eight GitHub endpoints we call.

mod answer;
mod body;
mod check_run;
mod config;
mod error;
mod gitea;
mod github;
mod gitlab;
mod http;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

pub use body::{CUT_NOTE, fit_body};
pub use check_run::{
    Annotation, AnnotationLevel, CheckConclusion, CheckRun, CreatedCheckRun, MAX_ANNOTATIONS,
};
pub use config::ForgeConfig;
pub use error::ForgeError;
pub use gitea::Gitea;
pub use github::GitHub;
pub use gitlab::GitLab;

/// The future every [`Forge`] method returns (boxed so the trait is dyn-compatible).
pub type ForgeFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ForgeError>> + Send + 'a>>;

/// Which forge a client speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ForgeKind {
    /// GitHub or GitHub Enterprise Server (REST v3).
    #[value(name = "github")]
    GitHub,
    /// GitLab (API v4, merge requests).
    #[value(name = "gitlab")]
    GitLab,
    /// Gitea or Forgejo (API v1).
    #[value(name = "gitea")]
    Gitea,
}

impl ForgeKind {
    /// How the forge writes a link to pull request `number` in comments: `#12`, `!12`.
    pub fn reference(self, number: u64) -> String {
        match self {
            ForgeKind::GitLab => format!("!{number}"),
            ForgeKind::GitHub | ForgeKind::Gitea => format!("#{number}"),
        }
    }
}

impl fmt::Display for ForgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForgeKind::GitHub => "GitHub",
            ForgeKind::GitLab => "GitLab",
            ForgeKind::Gitea => "Gitea",
        })
    }
}

/// How a pull request is merged (GitHub's merge methods; GitLab squashes or not, and
/// rebases only as the project is set up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeMethod {
    Merge,
    Squash,
    Rebase,
}

impl MergeMethod {
    /// As configs and forges write it: `merge`, `squash`, `rebase`.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}

/// What [`Forge::enable_auto_merge`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoMerge {
    /// The forge merges it once its checks pass.
    Enabled,
    /// Nothing was left to wait for (no required checks, or all passed): merged now.
    Merged,
}

/// Where a pull request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullRequestState {
    /// Open (GitLab's transient `locked` counts as open).
    Open,
    /// Closed without merging.
    Closed,
    /// Merged.
    Merged,
}

impl PullRequestState {
    /// `open`, `closed`, `merged`.
    pub fn as_str(self) -> &'static str {
        match self {
            PullRequestState::Open => "open",
            PullRequestState::Closed => "closed",
            PullRequestState::Merged => "merged",
        }
    }
}

/// A pull request (a merge request on GitLab) as the forge reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// The number people see: GitHub/Gitea `number`, GitLab `iid`.
    pub number: u64,
    /// The web page of the pull request.
    pub url: String,
    /// The head (source) branch name, without `refs/heads/`.
    pub head: String,
    /// The base (target) branch name.
    pub base: String,
    /// The title.
    pub title: String,
    /// The description (empty when the forge has none).
    pub body: String,
    /// Open, closed or merged.
    pub state: PullRequestState,
}

/// A pull request to open. `head` is a branch of the same repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPullRequest {
    /// The branch with the changes (`strata/<image>-<tag>`).
    pub head: String,
    /// The branch to merge into (usually [`Forge::default_branch`]).
    pub base: String,
    /// The title.
    pub title: String,
    /// The description (Markdown).
    pub body: String,
    /// Labels to put on a newly opened pull request (not re-applied on updates). GitHub
    /// and GitLab create missing labels; Gitea only applies labels the repository has.
    pub labels: Vec<String>,
}

/// What [`ensure_pull_request`] or [`Forge::open_pull_request`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenOutcome {
    /// A new pull request was opened.
    Created,
    /// An open pull request for the head branch existed; its title or body was updated.
    Updated,
    /// An open pull request for the head branch existed with the same title and body.
    Unchanged,
}

/// A pull request after opening or updating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The pull request as the forge now reports it.
    pub pull_request: PullRequest,
    /// Whether it was created, updated, or already as wanted.
    pub outcome: OpenOutcome,
}

/// What update and check need from a forge. `repo` is `owner/name` on GitHub and Gitea,
/// the full project path (`group/subgroup/project`) or numeric id on GitLab. Only pull
/// requests whose head branch lives in `repo` itself are found or listed: a fork's
/// branch that happens to share a name is never touched.
pub trait Forge: Send + Sync + fmt::Debug {
    /// Which forge this is.
    fn kind(&self) -> ForgeKind;

    /// The repository's default branch.
    fn default_branch<'a>(&'a self, repo: &'a str) -> ForgeFuture<'a, String>;

    /// The open pull request whose head is `head_branch`, if any.
    fn find_open_pull_request<'a>(
        &'a self,
        repo: &'a str,
        head_branch: &'a str,
    ) -> ForgeFuture<'a, Option<PullRequest>>;

    /// Every open pull request whose head branch starts with `prefix` (e.g. `strata/`),
    /// following pagination up to the configured page bound.
    fn list_open_pull_requests_with_prefix<'a>(
        &'a self,
        repo: &'a str,
        prefix: &'a str,
    ) -> ForgeFuture<'a, Vec<PullRequest>>;

    /// Opens `new`, applying its labels. If the forge answers that a pull request for the
    /// head branch already exists, finds it and updates its title and body instead.
    fn open_pull_request<'a>(
        &'a self,
        repo: &'a str,
        new: &'a NewPullRequest,
    ) -> ForgeFuture<'a, Opened>;

    /// Sets the title and body of pull request `number`.
    fn update_pull_request<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
        title: &'a str,
        body: &'a str,
    ) -> ForgeFuture<'a, PullRequest>;

    /// Closes pull request `number` without merging, after posting `comment` (why it is
    /// closed, e.g. [`superseded_comment`]) when given.
    fn close_pull_request<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
        comment: Option<&'a str>,
    ) -> ForgeFuture<'a, PullRequest>;

    /// Turns on the forge's auto-merge for pull request `number`: it is merged (with
    /// `method`, else the forge's default) once its required checks pass. GitHub's
    /// `enablePullRequestAutoMerge`, GitLab's merge when the pipeline succeeds, Gitea's
    /// merge when checks succeed. When nothing is left to wait for, the forge merges at
    /// once ([`AutoMerge::Merged`]).
    fn enable_auto_merge<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
        method: Option<MergeMethod>,
    ) -> ForgeFuture<'a, AutoMerge>;
}

/// Builds the client `config.kind` names.
pub fn connect(config: ForgeConfig) -> Result<Box<dyn Forge>, ForgeError> {
    Ok(match config.kind {
        ForgeKind::GitHub => Box::new(GitHub::new(config)?),
        ForgeKind::GitLab => Box::new(GitLab::new(config)?),
        ForgeKind::Gitea => Box::new(Gitea::new(config)?),
    })
}

/// Makes sure one open pull request for `new.head` exists with `new`'s title and body:
/// updates the open one (only when something changed), or opens one. Idempotent.
pub async fn ensure_pull_request(
    forge: &dyn Forge,
    repo: &str,
    new: &NewPullRequest,
) -> Result<Opened, ForgeError> {
    match forge.find_open_pull_request(repo, &new.head).await? {
        Some(existing) => bring_up_to_date(forge, repo, existing, new).await,
        None => forge.open_pull_request(repo, new).await,
    }
}

/// Whether a create was refused because an open pull request for the head branch exists:
/// GitHub's 422 "A pull request already exists for …", GitLab's 409 "Another open merge
/// request already exists …", Gitea's 409 "pull request already exists for these targets".
pub(crate) fn is_duplicate(err: &ForgeError) -> bool {
    matches!(err, ForgeError::Rejected { status: 409 | 422, message, .. }
        if message.to_ascii_lowercase().contains("already exist"))
}

/// After a create answered "already exists": finds that pull request and brings its title
/// and body up to date. Returns `refused` when it cannot be found (e.g. it is a fork's).
pub(crate) async fn adopt_existing(
    forge: &dyn Forge,
    repo: &str,
    new: &NewPullRequest,
    refused: ForgeError,
) -> Result<Opened, ForgeError> {
    match forge.find_open_pull_request(repo, &new.head).await? {
        Some(existing) => bring_up_to_date(forge, repo, existing, new).await,
        None => Err(refused),
    }
}

/// Updates `existing` to `new`'s title and body, unless they already match.
async fn bring_up_to_date(
    forge: &dyn Forge,
    repo: &str,
    existing: PullRequest,
    new: &NewPullRequest,
) -> Result<Opened, ForgeError> {
    if existing.title == new.title && existing.body == new.body {
        return Ok(Opened {
            pull_request: existing,
            outcome: OpenOutcome::Unchanged,
        });
    }
    let pull_request = forge
        .update_pull_request(repo, existing.number, &new.title, &new.body)
        .await?;
    Ok(Opened {
        pull_request,
        outcome: OpenOutcome::Updated,
    })
}

/// Splits `owner/name` (GitHub, Gitea), refusing any other shape.
pub(crate) fn owner_and_name(forge: ForgeKind, repo: &str) -> Result<(&str, &str), ForgeError> {
    match repo.split_once('/') {
        Some((owner, name))
            if !owner.trim().is_empty() && !name.trim().is_empty() && !name.contains('/') =>
        {
            Ok((owner, name))
        }
        _ => Err(ForgeError::InvalidRepository {
            forge,
            repo: repo.to_owned(),
            reason: "expected owner/name",
        }),
    }
}

/// The comment left on a pull request closed because `by` replaces it.
pub fn superseded_comment(forge: ForgeKind, by: &PullRequest) -> String {
    format!(
        "Superseded by {} ({}): a newer image update replaces this one, so strata closed \
         this {}.",
        forge.reference(by.number),
        by.url,
        match forge {
            ForgeKind::GitLab => "merge request",
            ForgeKind::GitHub | ForgeKind::Gitea => "pull request",
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_each_forge() {
        assert_eq!(ForgeKind::GitHub.reference(7), "#7");
        assert_eq!(ForgeKind::Gitea.reference(7), "#7");
        assert_eq!(ForgeKind::GitLab.reference(7), "!7");
    }

    #[test]
    fn superseded_comment_links_the_new_pull_request() {
        let by = PullRequest {
            number: 12,
            url: "https://gitlab.example/g/p/-/merge_requests/12".into(),
            head: "strata/python-3.13".into(),
            base: "main".into(),
            title: String::new(),
            body: String::new(),
            state: PullRequestState::Open,
        };
        let text = superseded_comment(ForgeKind::GitLab, &by);
        assert!(
            text.starts_with("Superseded by !12 (https://gitlab.example/"),
            "{text}"
        );
        assert!(text.contains("merge request"), "{text}");
    }
}
