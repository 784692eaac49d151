//! act stage: the Gitea (and Forgejo) client (API v1): pull requests, their labels and
//! comments, behind the [`Forge`] trait. It never retries a POST.

use reqwest::Method;
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use serde_json::json;

use super::http::Api;
use super::{
    AutoMerge, Forge, ForgeConfig, ForgeError, ForgeFuture, ForgeKind, MergeMethod, NewPullRequest,
    OpenOutcome, Opened, PullRequest, PullRequestState, adopt_existing, is_duplicate,
    owner_and_name,
};

/// Gitea's default and usual maximum page size (`MAX_RESPONSE_ITEMS`).
const PAGE_SIZE: &str = "50";

/// A Gitea client.
#[derive(Debug)]
pub struct Gitea {
    api: Api,
}

/// A pull request as Gitea sends it (the fields we read).
#[derive(Debug, Deserialize)]
struct Pull {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default)]
    merged: bool,
    title: String,
    #[serde(default)]
    body: Option<String>,
    head: Branch,
    base: Branch,
}

/// One side of a pull request.
#[derive(Debug, Deserialize)]
struct Branch {
    #[serde(rename = "ref")]
    name: String,
    #[serde(default)]
    repo_id: Option<u64>,
}

/// A repository (the field we read).
#[derive(Debug, Deserialize)]
struct Repository {
    default_branch: String,
}

/// A repository label.
#[derive(Debug, Deserialize)]
struct Label {
    id: u64,
    name: String,
}

impl Gitea {
    /// A client for `config` (which must be a Gitea configuration). The token is sent as
    /// `Authorization: token …`.
    pub fn new(config: ForgeConfig) -> Result<Gitea, ForgeError> {
        if config.kind != ForgeKind::Gitea {
            return Err(ForgeError::Config {
                forge: ForgeKind::Gitea,
                detail: format!("the configuration is for {}", config.kind),
            });
        }
        let auth = (AUTHORIZATION, format!("token {}", config.token()));
        Ok(Gitea {
            api: Api::new(&config, auth, &[])?,
        })
    }

    async fn fetch_default_branch(&self, repo: &str) -> Result<String, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::Gitea, repo)?;
        let url = self.api.url(&["repos", owner, name], &[]);
        let found: Repository = self.api.json(Method::GET, url, None).await?;
        Ok(found.default_branch)
    }

    /// Open pull requests of `repo` from branches of `repo` itself that pass `keep`.
    /// Gitea cannot filter the listing by head branch, so this reads every open one.
    async fn open_pulls(
        &self,
        repo: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<PullRequest>, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::Gitea, repo)?;
        let query = [("state", "open"), ("limit", PAGE_SIZE)];
        let url = self.api.url(&["repos", owner, name, "pulls"], &query);
        let pulls: Vec<Pull> = self.api.pages(url).await?;
        Ok(pulls
            .into_iter()
            .filter(|pull| pull.head.repo_id == pull.base.repo_id && keep(&pull.head.name))
            .map(Pull::into_pull_request)
            .collect())
    }

    /// The ids of the repository labels named in `names`; names it lacks are skipped.
    async fn label_ids(
        &self,
        owner: &str,
        name: &str,
        names: &[String],
    ) -> Result<Vec<u64>, ForgeError> {
        let url = self
            .api
            .url(&["repos", owner, name, "labels"], &[("limit", PAGE_SIZE)]);
        let labels: Vec<Label> = self.api.pages(url).await?;
        Ok(names
            .iter()
            .filter_map(|wanted| labels.iter().find(|label| &label.name == wanted))
            .map(|label| label.id)
            .collect())
    }

    async fn create(&self, repo: &str, new: &NewPullRequest) -> Result<Opened, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::Gitea, repo)?;
        let mut body = json!({
            "head": new.head,
            "base": new.base,
            "title": new.title,
            "body": new.body,
        });
        if !new.labels.is_empty() {
            // The create call takes label ids only (names work on newer releases alone).
            let ids = self.label_ids(owner, name, &new.labels).await?;
            if let (false, Some(fields)) = (ids.is_empty(), body.as_object_mut()) {
                fields.insert("labels".into(), json!(ids));
            }
        }
        let url = self.api.url(&["repos", owner, name, "pulls"], &[]);
        match self.api.json::<Pull>(Method::POST, url, Some(&body)).await {
            Ok(created) => Ok(Opened {
                pull_request: created.into_pull_request(),
                outcome: OpenOutcome::Created,
            }),
            Err(err) if is_duplicate(&err) => adopt_existing(self, repo, new, err).await,
            Err(err) => Err(err),
        }
    }

    async fn edit(
        &self,
        repo: &str,
        number: u64,
        body: serde_json::Value,
    ) -> Result<PullRequest, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::Gitea, repo)?;
        let index = number.to_string();
        let url = self.api.url(&["repos", owner, name, "pulls", &index], &[]);
        let pull: Pull = self.api.json(Method::PATCH, url, Some(&body)).await?;
        Ok(pull.into_pull_request())
    }

    /// `POST …/pulls/:index/merge` with `merge_when_checks_succeed`: Gitea schedules the
    /// merge until the checks pass, or merges at once when none are pending. The answer
    /// has no body, so the pull request is read back to tell which.
    async fn auto_merge(
        &self,
        repo: &str,
        number: u64,
        method: Option<MergeMethod>,
    ) -> Result<AutoMerge, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::Gitea, repo)?;
        let index = number.to_string();
        let url = self
            .api
            .url(&["repos", owner, name, "pulls", &index, "merge"], &[]);
        let how = method.unwrap_or(MergeMethod::Merge).as_str();
        let body = json!({ "Do": how, "merge_when_checks_succeed": true });
        self.api.send(Method::POST, url, Some(&body)).await?;
        let url = self.api.url(&["repos", owner, name, "pulls", &index], &[]);
        let pull: Pull = self.api.json(Method::GET, url, None).await?;
        Ok(if pull.merged {
            AutoMerge::Merged
        } else {
            AutoMerge::Enabled
        })
    }

    async fn close(
        &self,
        repo: &str,
        number: u64,
        comment: Option<&str>,
    ) -> Result<PullRequest, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::Gitea, repo)?;
        if let Some(comment) = comment {
            let index = number.to_string();
            let url = self
                .api
                .url(&["repos", owner, name, "issues", &index, "comments"], &[]);
            self.api
                .send(Method::POST, url, Some(&json!({ "body": comment })))
                .await?;
        }
        self.edit(repo, number, json!({ "state": "closed" })).await
    }
}

impl Pull {
    fn into_pull_request(self) -> PullRequest {
        let state = match (self.state.as_str(), self.merged) {
            ("open", _) => PullRequestState::Open,
            (_, true) => PullRequestState::Merged,
            _ => PullRequestState::Closed,
        };
        PullRequest {
            number: self.number,
            url: self.html_url,
            head: self.head.name,
            base: self.base.name,
            title: self.title,
            body: self.body.unwrap_or_default(),
            state,
        }
    }
}

impl Forge for Gitea {
    fn kind(&self) -> ForgeKind {
        ForgeKind::Gitea
    }

    fn default_branch<'a>(&'a self, repo: &'a str) -> ForgeFuture<'a, String> {
        Box::pin(self.fetch_default_branch(repo))
    }

    fn find_open_pull_request<'a>(
        &'a self,
        repo: &'a str,
        head_branch: &'a str,
    ) -> ForgeFuture<'a, Option<PullRequest>> {
        Box::pin(async move {
            let found = self.open_pulls(repo, |head| head == head_branch).await?;
            Ok(found.into_iter().next())
        })
    }

    fn list_open_pull_requests_with_prefix<'a>(
        &'a self,
        repo: &'a str,
        prefix: &'a str,
    ) -> ForgeFuture<'a, Vec<PullRequest>> {
        Box::pin(self.open_pulls(repo, move |head| head.starts_with(prefix)))
    }

    fn open_pull_request<'a>(
        &'a self,
        repo: &'a str,
        new: &'a NewPullRequest,
    ) -> ForgeFuture<'a, Opened> {
        Box::pin(self.create(repo, new))
    }

    fn update_pull_request<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
        title: &'a str,
        body: &'a str,
    ) -> ForgeFuture<'a, PullRequest> {
        Box::pin(self.edit(repo, number, json!({ "title": title, "body": body })))
    }

    fn close_pull_request<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
        comment: Option<&'a str>,
    ) -> ForgeFuture<'a, PullRequest> {
        Box::pin(self.close(repo, number, comment))
    }

    fn enable_auto_merge<'a>(
        &'a self,
        repo: &'a str,
        number: u64,
        method: Option<MergeMethod>,
    ) -> ForgeFuture<'a, AutoMerge> {
        Box::pin(self.auto_merge(repo, number, method))
    }
}
