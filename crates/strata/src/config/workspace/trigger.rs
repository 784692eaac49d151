//! config stage: how an image is rebuilt — the `trigger` tables of `[workspace]`,
//! validated into [`Trigger`]. Values only: firing a trigger is `crate::rebuild`'s job.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use url::Url;

use super::error;
use crate::config::ConfigError;
use crate::forge::ForgeKind;

/// How one image's rebuild is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A local program, argument vector (never a shell string), run in the repository's
    /// directory with the `STRATA_*` variables set; it must exit 0.
    Command {
        argv: Vec<String>,
        /// Extra environment variables.
        env: BTreeMap<String, String>,
    },
    /// `POST` a JSON body to `url`, signed with `X-Strata-Signature-256` when
    /// `secret_env` names a variable holding the secret.
    Webhook {
        url: Url,
        secret_env: Option<String>,
    },
    /// GitHub Actions `workflow_dispatch` of `workflow` (file name or id) on `git_ref`.
    GitHubWorkflow {
        repository: String,
        workflow: String,
        git_ref: String,
        /// Send the cascade values as workflow inputs (the workflow must declare them).
        inputs: bool,
        api_url: Option<Url>,
        token_env: Option<String>,
    },
    /// GitHub `repository_dispatch` with `event_type` and the values as `client_payload`.
    GitHubDispatch {
        repository: String,
        event_type: String,
        api_url: Option<Url>,
        token_env: Option<String>,
    },
    /// A GitLab pipeline trigger (`POST /projects/:id/trigger/pipeline`).
    GitLabPipeline {
        project: String,
        git_ref: String,
        /// The variable holding the pipeline trigger token.
        token_env: String,
        api_url: Option<Url>,
    },
    /// Open the update pull request in the image's repository (the pin of its moved
    /// base rewritten, on the update branch) and let its CI build once merged.
    PullRequest {
        /// The forge; `None`: told from the host of the repository's `origin` URL.
        forge: Option<ForgeKind>,
        /// The forge repository (`owner/name`, a GitLab project path); `None`: the one
        /// the `origin` URL names.
        repository: Option<String>,
        /// Labels put on a newly opened pull request.
        labels: Vec<String>,
    },
}

impl Trigger {
    /// The kind as written in the config.
    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Command { .. } => "command",
            Trigger::Webhook { .. } => "webhook",
            Trigger::GitHubWorkflow { .. } => "github-workflow",
            Trigger::GitHubDispatch { .. } => "github-dispatch",
            Trigger::GitLabPipeline { .. } => "gitlab-pipeline",
            Trigger::PullRequest { .. } => "pr",
        }
    }

    /// One line for plans: the kind and its target (never a secret).
    pub fn describe(&self) -> String {
        match self {
            Trigger::Command { argv, .. } => format!("command {}", argv.join(" ")),
            Trigger::Webhook { url, .. } => format!("webhook {url}"),
            Trigger::GitHubWorkflow {
                repository,
                workflow,
                git_ref,
                ..
            } => format!("github-workflow {repository} {workflow}@{git_ref}"),
            Trigger::GitHubDispatch {
                repository,
                event_type,
                ..
            } => format!("github-dispatch {repository} {event_type}"),
            Trigger::GitLabPipeline {
                project, git_ref, ..
            } => format!("gitlab-pipeline {project}@{git_ref}"),
            Trigger::PullRequest {
                forge, repository, ..
            } => format!(
                "pr {} {}",
                forge.map_or("forge-of-origin", forge_name),
                repository.as_deref().unwrap_or("origin")
            ),
        }
    }
}

/// A trigger table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrigger {
    kind: Option<String>,
    command: Option<Vec<String>>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    url: Option<String>,
    secret_env: Option<String>,
    repository: Option<String>,
    workflow: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    inputs: bool,
    event_type: Option<String>,
    project: Option<String>,
    token_env: Option<String>,
    api_url: Option<String>,
    forge: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
}

impl RawTrigger {
    /// Validates the table at `key`. `kind` may be left out for `command` and `url`.
    pub(in crate::config) fn validate(
        self,
        file: &Path,
        key: &str,
    ) -> Result<Trigger, ConfigError> {
        let fail = |field: &str, message: String| {
            let at = if field.is_empty() {
                key.to_owned()
            } else {
                format!("{key}.{field}")
            };
            error(file, at, message)
        };
        let need = |value: Option<String>, field: &str| {
            value
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| fail(field, format!("required for kind {:?}", self.kind_name())))
        };
        let url = |value: Option<String>, field: &str| -> Result<Option<Url>, ConfigError> {
            value
                .map(|text| match Url::parse(&text) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
                    Ok(_) => Err(fail(field, format!("{text:?} must be an http(s) URL"))),
                    Err(e) => Err(fail(field, format!("{text:?} is not a URL: {e}"))),
                })
                .transpose()
        };
        let kind = self.kind_name();
        let trigger = match kind.as_str() {
            "command" => {
                let argv = self.command.clone().unwrap_or_default();
                if argv.first().is_none_or(|p| p.trim().is_empty()) {
                    let message =
                        "an argument vector with the program first, e.g. [\"make\", \"publish\"]";
                    return Err(fail("command", message.to_owned()));
                }
                Trigger::Command {
                    argv,
                    env: self.env.clone(),
                }
            }
            "webhook" => Trigger::Webhook {
                url: url(Some(need(self.url.clone(), "url")?), "url")?
                    .ok_or_else(|| fail("url", "required".to_owned()))?,
                secret_env: self.secret_env.clone(),
            },
            "github-workflow" => Trigger::GitHubWorkflow {
                repository: owner_repo(need(self.repository.clone(), "repository")?)
                    .map_err(|m| fail("repository", m))?,
                workflow: need(self.workflow.clone(), "workflow")?,
                git_ref: self.git_ref.clone().unwrap_or_else(|| "main".to_owned()),
                inputs: self.inputs,
                api_url: url(self.api_url.clone(), "api_url")?,
                token_env: self.token_env.clone(),
            },
            "github-dispatch" => Trigger::GitHubDispatch {
                repository: owner_repo(need(self.repository.clone(), "repository")?)
                    .map_err(|m| fail("repository", m))?,
                event_type: self
                    .event_type
                    .clone()
                    .unwrap_or_else(|| "strata-cascade".to_owned()),
                api_url: url(self.api_url.clone(), "api_url")?,
                token_env: self.token_env.clone(),
            },
            "gitlab-pipeline" => Trigger::GitLabPipeline {
                project: need(self.project.clone(), "project")?,
                git_ref: self.git_ref.clone().unwrap_or_else(|| "main".to_owned()),
                token_env: need(self.token_env.clone(), "token_env")?,
                api_url: url(self.api_url.clone(), "api_url")?,
            },
            "pr" => Trigger::PullRequest {
                forge: self
                    .forge
                    .as_deref()
                    .map(forge_kind)
                    .transpose()
                    .map_err(|m| fail("forge", m))?,
                repository: self
                    .repository
                    .clone()
                    .map(forge_repository)
                    .transpose()
                    .map_err(|m| fail("repository", m))?,
                labels: labels(&self.labels).map_err(|m| fail("labels", m))?,
            },
            other => {
                let message = format!(
                    "unknown kind {other:?} (command, webhook, github-workflow, \
                     github-dispatch, gitlab-pipeline, pr)"
                );
                return Err(fail("kind", message));
            }
        };
        Ok(trigger)
    }

    /// `kind`, or what the fields imply.
    fn kind_name(&self) -> String {
        match (&self.kind, &self.command, &self.url) {
            (Some(kind), _, _) => kind.clone(),
            (None, Some(_), _) => "command".to_owned(),
            (None, None, Some(_)) => "webhook".to_owned(),
            (None, None, None) => String::new(),
        }
    }
}

/// The forge as the config writes it.
fn forge_name(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::GitHub => "github",
        ForgeKind::GitLab => "gitlab",
        ForgeKind::Gitea => "gitea",
    }
}

fn forge_kind(text: &str) -> Result<ForgeKind, String> {
    match text {
        "github" => Ok(ForgeKind::GitHub),
        "gitlab" => Ok(ForgeKind::GitLab),
        "gitea" => Ok(ForgeKind::Gitea),
        other => Err(format!(
            "{other:?}: expected \"github\", \"gitlab\" or \"gitea\""
        )),
    }
}

/// `owner/name`, or a GitLab project path with subgroups.
fn forge_repository(text: String) -> Result<String, String> {
    let trimmed = text.trim_matches('/');
    let segments: Vec<&str> = trimmed.split('/').collect();
    if segments.len() >= 2 && segments.iter().all(|s| !s.trim().is_empty()) {
        Ok(trimmed.to_owned())
    } else {
        Err(format!("{text:?} is not owner/repository"))
    }
}

/// Trimmed, without empties or repeats.
fn labels(raw: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for label in raw {
        let label = label.trim();
        if label.is_empty() {
            return Err("a label cannot be empty".to_owned());
        }
        if !out.iter().any(|l| l == label) {
            out.push(label.to_owned());
        }
    }
    Ok(out)
}

fn owner_repo(text: String) -> Result<String, String> {
    match text.split_once('/') {
        Some((owner, repo)) if !owner.is_empty() && !repo.is_empty() && !repo.contains('/') => {
            Ok(text)
        }
        _ => Err(format!("{text:?} is not owner/repository")),
    }
}
