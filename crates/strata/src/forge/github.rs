//! act stage: the GitHub client (REST v3, also GitHub Enterprise Server at its `/api/v3`
//! root): pull requests, their labels and comments. Check runs live in `check_run.rs`.
//! It never retries a POST: a create that failed half-way is found by the next run.

use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderName};
use serde::Deserialize;
use serde_json::json;

use super::http::Api;
use super::{
    AutoMerge, Forge, ForgeConfig, ForgeError, ForgeFuture, ForgeKind, MergeMethod, NewPullRequest,
    OpenOutcome, Opened, PullRequest, PullRequestState, adopt_existing, is_duplicate,
    owner_and_name,
};

/// The REST API version we were written against.
const API_VERSION: &str = "2022-11-28";

/// A GitHub client; see [`Forge`] for the pull request operations and
/// [`GitHub::create_check_run`] for check runs.
#[derive(Debug)]
pub struct GitHub {
    pub(super) api: Api,
}

/// A pull request as GitHub sends it (the fields we read).
#[derive(Debug, Deserialize)]
struct Pull {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default)]
    merged_at: Option<String>,
    title: String,
    #[serde(default)]
    body: Option<String>,
    head: Ref,
    base: Ref,
}

/// One side of a pull request.
#[derive(Debug, Deserialize)]
struct Ref {
    #[serde(rename = "ref")]
    name: String,
    /// Null when the head repository (a fork) was deleted.
    #[serde(default)]
    repo: Option<Repository>,
}

/// A repository (the fields we read).
#[derive(Debug, Deserialize)]
struct Repository {
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    default_branch: String,
}

impl GitHub {
    /// A client for `config` (which must be a GitHub configuration).
    pub fn new(config: ForgeConfig) -> Result<GitHub, ForgeError> {
        if config.kind != ForgeKind::GitHub {
            return Err(ForgeError::Config {
                forge: ForgeKind::GitHub,
                detail: format!("the configuration is for {}", config.kind),
            });
        }
        let auth = (AUTHORIZATION, format!("Bearer {}", config.token()));
        let headers = [
            (ACCEPT, "application/vnd.github+json"),
            (HeaderName::from_static("x-github-api-version"), API_VERSION),
        ];
        Ok(GitHub {
            api: Api::new(&config, auth, &headers)?,
        })
    }

    async fn fetch_default_branch(&self, repo: &str) -> Result<String, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::GitHub, repo)?;
        let url = self.api.url(&["repos", owner, name], &[]);
        let repository: Repository = self.api.json(Method::GET, url, None).await?;
        Ok(repository.default_branch)
    }

    /// Open pull requests of `repo` whose head branch is in `repo` and passes `keep`.
    async fn open_pulls(
        &self,
        repo: &str,
        head_filter: Option<&str>,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<PullRequest>, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::GitHub, repo)?;
        let head = head_filter.map(|branch| format!("{owner}:{branch}"));
        let mut query = vec![("state", "open"), ("per_page", "100")];
        if let Some(head) = &head {
            query.push(("head", head));
        }
        let url = self.api.url(&["repos", owner, name, "pulls"], &query);
        let pulls: Vec<Pull> = self.api.pages(url).await?;
        Ok(pulls
            .into_iter()
            .filter(|pull| {
                let same_repo = pull
                    .head
                    .repo
                    .as_ref()
                    .is_some_and(|head_repo| head_repo.full_name.eq_ignore_ascii_case(repo));
                same_repo && keep(&pull.head.name)
            })
            .map(Pull::into_pull_request)
            .collect())
    }

    async fn create(&self, repo: &str, new: &NewPullRequest) -> Result<Opened, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::GitHub, repo)?;
        let url = self.api.url(&["repos", owner, name, "pulls"], &[]);
        let body =
            json!({"title": new.title, "head": new.head, "base": new.base, "body": new.body});
        let pull: Pull = match self.api.json(Method::POST, url, Some(&body)).await {
            Ok(pull) => pull,
            Err(err) if is_duplicate(&err) => return adopt_existing(self, repo, new, err).await,
            Err(err) => return Err(err),
        };
        if !new.labels.is_empty() {
            // Pull requests are issues to GitHub: labels go through the issues API, which
            // creates labels the repository does not have yet.
            let number = pull.number.to_string();
            let url = self
                .api
                .url(&["repos", owner, name, "issues", &number, "labels"], &[]);
            let labels = json!({ "labels": new.labels });
            self.api.send(Method::POST, url, Some(&labels)).await?;
        }
        Ok(Opened {
            pull_request: pull.into_pull_request(),
            outcome: OpenOutcome::Created,
        })
    }

    async fn edit(
        &self,
        repo: &str,
        number: u64,
        body: serde_json::Value,
    ) -> Result<PullRequest, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::GitHub, repo)?;
        let number = number.to_string();
        let url = self.api.url(&["repos", owner, name, "pulls", &number], &[]);
        let pull: Pull = self.api.json(Method::PATCH, url, Some(&body)).await?;
        Ok(pull.into_pull_request())
    }

    async fn close(
        &self,
        repo: &str,
        number: u64,
        comment: Option<&str>,
    ) -> Result<PullRequest, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::GitHub, repo)?;
        if let Some(comment) = comment {
            let issue = number.to_string();
            let url = self
                .api
                .url(&["repos", owner, name, "issues", &issue, "comments"], &[]);
            self.api
                .send(Method::POST, url, Some(&json!({ "body": comment })))
                .await?;
        }
        self.edit(repo, number, json!({ "state": "closed" })).await
    }
}

/// GraphQL's `enablePullRequestAutoMerge`: merge once the required checks pass.
const ENABLE_AUTO_MERGE: &str = "mutation($id: ID!, $method: PullRequestMergeMethod) { \
     enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method}) { \
     pullRequest { number } } }";

/// The pull request fields auto-merge needs.
#[derive(Debug, Deserialize)]
struct PullNode {
    node_id: String,
}

impl GitHub {
    /// Auto-merge through GraphQL (REST has no endpoint for it). A pull request that is
    /// already mergeable ("clean status": no required checks, or all passed) cannot get
    /// auto-merge; GitHub would merge it right away, so it is merged through REST.
    async fn auto_merge(
        &self,
        repo: &str,
        number: u64,
        method: Option<MergeMethod>,
    ) -> Result<AutoMerge, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::GitHub, repo)?;
        let index = number.to_string();
        let url = self.api.url(&["repos", owner, name, "pulls", &index], &[]);
        let pull: PullNode = self.api.json(Method::GET, url, None).await?;
        let mut variables = json!({ "id": pull.node_id });
        if let Some(method) = method {
            variables["method"] = json!(method.as_str().to_ascii_uppercase());
        }
        let body = json!({ "query": ENABLE_AUTO_MERGE, "variables": variables });
        let graphql = self.graphql_url();
        let endpoint = format!("POST {graphql}");
        let answer: serde_json::Value = self.api.json(Method::POST, graphql, Some(&body)).await?;
        let Some(errors) = answer.get("errors").and_then(|e| e.as_array()) else {
            return Ok(AutoMerge::Enabled);
        };
        let message = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(|m| m.as_str()))
            .collect::<Vec<_>>()
            .join("; ");
        if message.to_ascii_lowercase().contains("clean status") {
            let url = self
                .api
                .url(&["repos", owner, name, "pulls", &index, "merge"], &[]);
            let mut merge = json!({});
            if let Some(method) = method {
                merge["merge_method"] = json!(method.as_str());
            }
            self.api.send(Method::PUT, url, Some(&merge)).await?;
            return Ok(AutoMerge::Merged);
        }
        Err(ForgeError::Rejected {
            forge: ForgeKind::GitHub,
            endpoint,
            status: 200,
            message: format!("{message} (auto-merge must be allowed in the repository's settings)"),
        })
    }

    /// `https://api.github.com/graphql`, or `https://host/api/graphql` for an Enterprise
    /// Server whose REST root is `https://host/api/v3`.
    fn graphql_url(&self) -> url::Url {
        let rest = self.api.url(&[], &[]);
        let path = rest.path().trim_end_matches('/');
        let mut url = rest.clone();
        match path.strip_suffix("/v3") {
            Some(api) if api.ends_with("/api") => url.set_path(&format!("{api}/graphql")),
            _ => url.set_path(&format!("{path}/graphql")),
        }
        url
    }
}

impl Pull {
    fn into_pull_request(self) -> PullRequest {
        let state = match (self.state.as_str(), self.merged_at) {
            ("open", _) => PullRequestState::Open,
            (_, Some(_)) => PullRequestState::Merged,
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

impl Forge for GitHub {
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitHub
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
                .open_pulls(repo, Some(head_branch), |head| head == head_branch)
                .await?;
            Ok(found.into_iter().next())
        })
    }

    fn list_open_pull_requests_with_prefix<'a>(
        &'a self,
        repo: &'a str,
        prefix: &'a str,
    ) -> ForgeFuture<'a, Vec<PullRequest>> {
        Box::pin(self.open_pulls(repo, None, move |head| head.starts_with(prefix)))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn graphql(api: &str) -> String {
        let config = ForgeConfig::new(ForgeKind::GitHub, api, "t", "GITHUB_TOKEN").unwrap();
        GitHub::new(config).unwrap().graphql_url().to_string()
    }

    /// GitHub.com answers GraphQL at `api.github.com/graphql`; an Enterprise Server whose
    /// REST root is `https://host/api/v3` answers it at `https://host/api/graphql`.
    #[test]
    fn graphql_lives_beside_the_rest_root() {
        assert_eq!(
            graphql("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql("https://ghe.example.com/api/v3"),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            graphql("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/graphql"
        );
    }
}
