//! act stage: the GitLab client (API v4): merge requests, their notes and labels, behind
//! the [`Forge`] trait. Projects are addressed by their URL-encoded path
//! (`group%2Fsub%2Fproject`) or numeric id. It never retries a POST.

use reqwest::Method;
use reqwest::header::HeaderName;
use serde::Deserialize;
use serde_json::json;

use super::http::Api;
use super::{
    AutoMerge, Forge, ForgeConfig, ForgeError, ForgeFuture, ForgeKind, MergeMethod, NewPullRequest,
    OpenOutcome, Opened, PullRequest, PullRequestState, adopt_existing, is_duplicate,
};

/// A GitLab client.
#[derive(Debug)]
pub struct GitLab {
    api: Api,
}

/// A merge request as GitLab sends it (the fields we read).
#[derive(Debug, Deserialize)]
struct MergeRequest {
    iid: u64,
    web_url: String,
    state: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    source_branch: String,
    target_branch: String,
    #[serde(default)]
    source_project_id: Option<u64>,
    #[serde(default)]
    target_project_id: Option<u64>,
}

/// A project (the field we read).
#[derive(Debug, Deserialize)]
struct Project {
    #[serde(default)]
    default_branch: Option<String>,
}

impl GitLab {
    /// A client for `config` (which must be a GitLab configuration). The token is sent as
    /// `PRIVATE-TOKEN` (personal, project or group access tokens).
    pub fn new(config: ForgeConfig) -> Result<GitLab, ForgeError> {
        if config.kind != ForgeKind::GitLab {
            return Err(ForgeError::Config {
                forge: ForgeKind::GitLab,
                detail: format!("the configuration is for {}", config.kind),
            });
        }
        let auth = (
            HeaderName::from_static("private-token"),
            config.token().to_owned(),
        );
        Ok(GitLab {
            api: Api::new(&config, auth, &[])?,
        })
    }

    async fn fetch_default_branch(&self, repo: &str) -> Result<String, ForgeError> {
        let url = self.api.url(&["projects", project(repo)?], &[]);
        let found: Project = self.api.json(Method::GET, url, None).await?;
        // A project with no commits has no default branch; GitLab's own default is `main`.
        Ok(found.default_branch.unwrap_or_else(|| "main".to_owned()))
    }

    /// Open merge requests of `repo` from branches of `repo` itself that pass `keep`.
    async fn open_requests(
        &self,
        repo: &str,
        source_branch: Option<&str>,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<PullRequest>, ForgeError> {
        let mut query = vec![("state", "opened"), ("per_page", "100")];
        if let Some(branch) = source_branch {
            query.push(("source_branch", branch));
        }
        let url = self
            .api
            .url(&["projects", project(repo)?, "merge_requests"], &query);
        let requests: Vec<MergeRequest> = self.api.pages(url).await?;
        Ok(requests
            .into_iter()
            .filter(|request| {
                let same_project = request.source_project_id == request.target_project_id;
                same_project && keep(&request.source_branch)
            })
            .map(MergeRequest::into_pull_request)
            .collect())
    }

    async fn create(&self, repo: &str, new: &NewPullRequest) -> Result<Opened, ForgeError> {
        let url = self
            .api
            .url(&["projects", project(repo)?, "merge_requests"], &[]);
        let mut body = json!({
            "source_branch": new.head,
            "target_branch": new.base,
            "title": new.title,
            "description": new.body,
            // The branch is ours: delete it once merged.
            "remove_source_branch": true,
        });
        if let (false, Some(fields)) = (new.labels.is_empty(), body.as_object_mut()) {
            // GitLab takes labels as one comma-separated string and creates missing ones.
            fields.insert("labels".into(), json!(new.labels.join(",")));
        }
        match self
            .api
            .json::<MergeRequest>(Method::POST, url, Some(&body))
            .await
        {
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
        iid: u64,
        body: serde_json::Value,
    ) -> Result<PullRequest, ForgeError> {
        let iid = iid.to_string();
        let url = self
            .api
            .url(&["projects", project(repo)?, "merge_requests", &iid], &[]);
        let updated: MergeRequest = self.api.json(Method::PUT, url, Some(&body)).await?;
        Ok(updated.into_pull_request())
    }

    /// `PUT …/merge_requests/:iid/merge` with `merge_when_pipeline_succeeds` (and its newer
    /// name `auto_merge`): merged when the pipeline succeeds, or at once when there is no
    /// pipeline to wait for. GitLab squashes on request; how it merges otherwise is the
    /// project's setting.
    async fn auto_merge(
        &self,
        repo: &str,
        iid: u64,
        method: Option<MergeMethod>,
    ) -> Result<AutoMerge, ForgeError> {
        let number = iid.to_string();
        let segments = [
            "projects",
            project(repo)?,
            "merge_requests",
            &number,
            "merge",
        ];
        let url = self.api.url(&segments, &[]);
        let mut body = json!({ "merge_when_pipeline_succeeds": true, "auto_merge": true });
        if let Some(method) = method {
            body["squash"] = json!(method == MergeMethod::Squash);
        }
        let answer: MergeRequest = self.api.json(Method::PUT, url, Some(&body)).await?;
        Ok(match answer.state.as_str() {
            "merged" => AutoMerge::Merged,
            _ => AutoMerge::Enabled,
        })
    }

    async fn close(
        &self,
        repo: &str,
        iid: u64,
        comment: Option<&str>,
    ) -> Result<PullRequest, ForgeError> {
        if let Some(comment) = comment {
            let number = iid.to_string();
            let segments = [
                "projects",
                project(repo)?,
                "merge_requests",
                &number,
                "notes",
            ];
            let url = self.api.url(&segments, &[]);
            self.api
                .send(Method::POST, url, Some(&json!({ "body": comment })))
                .await?;
        }
        self.edit(repo, iid, json!({ "state_event": "close" }))
            .await
    }
}

/// The project id as a path segment: a numeric id, or the full path (URL-encoded when
/// the segment is written, so `group/project` becomes `group%2Fproject`).
fn project(repo: &str) -> Result<&str, ForgeError> {
    let repo = repo.trim_matches('/');
    if repo.is_empty() || repo.split('/').any(|part| part.trim().is_empty()) {
        return Err(ForgeError::InvalidRepository {
            forge: ForgeKind::GitLab,
            repo: repo.to_owned(),
            reason: "expected a project path (group/project) or numeric id",
        });
    }
    Ok(repo)
}

impl MergeRequest {
    fn into_pull_request(self) -> PullRequest {
        let state = match self.state.as_str() {
            "merged" => PullRequestState::Merged,
            "closed" => PullRequestState::Closed,
            // `opened`, and `locked` (an open request mid-merge).
            _ => PullRequestState::Open,
        };
        PullRequest {
            number: self.iid,
            url: self.web_url,
            head: self.source_branch,
            base: self.target_branch,
            title: self.title,
            body: self.description.unwrap_or_default(),
            state,
        }
    }
}

impl Forge for GitLab {
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitLab
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
            let found = self
                .open_requests(repo, Some(head_branch), |head| head == head_branch)
                .await?;
            Ok(found.into_iter().next())
        })
    }

    fn list_open_pull_requests_with_prefix<'a>(
        &'a self,
        repo: &'a str,
        prefix: &'a str,
    ) -> ForgeFuture<'a, Vec<PullRequest>> {
        Box::pin(self.open_requests(repo, None, move |head| head.starts_with(prefix)))
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
        let body = json!({ "title": title, "description": body });
        Box::pin(self.edit(repo, number, body))
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
