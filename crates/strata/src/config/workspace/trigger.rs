//! config stage: how an image is rebuilt — the `trigger` tables of `[workspace]`,
//! validated into [`Trigger`]. Values only: firing a trigger is `crate::rebuild`'s job.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use url::Url;

use super::error;
use crate::config::ConfigError;
use crate::forge::{ForgeKind, MergeMethod};

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
    /// GitHub Actions `workflow_dispatch` of `workflow` (file name or id) on `git_ref`
    /// (the branch the new pins were pushed to, when they were committed).
    GitHubWorkflow {
        repository: String,
        workflow: String,
        git_ref: String,
        /// Which cascade values go as workflow inputs (the workflow must declare them).
        inputs: Inputs,
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
    /// A GitLab pipeline trigger (`POST /projects/:id/trigger/pipeline`) on `git_ref`
    /// (the branch the new pins were pushed to, when they were committed).
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
        /// Turn on the forge's auto-merge (merge once the checks pass), so CI merges and
        /// publishes with nobody in the loop.
        auto_merge: bool,
        /// How auto-merge merges; `None`: the forge's default for the repository.
        merge_method: Option<MergeMethod>,
    },
    /// Nothing beyond the push of the new pins: the repository's CI builds on push.
    Push,
}

/// Which cascade values a `github-workflow` trigger sends as workflow inputs. GitHub
/// refuses inputs a workflow does not declare, so only the ones asked for are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inputs {
    /// No inputs.
    None,
    /// `inputs = true`: `image`, `base_image`, `base_digest`, `level`, `cascade_id`.
    Default,
    /// `inputs = ["image", "commit", …]`: these, from [`INPUT_NAMES`].
    Names(Vec<String>),
}

/// The values a trigger can be told, by their payload names.
pub const INPUT_NAMES: &[&str] = &[
    "image",
    "image_full",
    "base_image",
    "base_image_full",
    "base_digest",
    "level",
    "cascade_id",
    "dockerfile",
    "target",
    "platform",
    "build_args",
    "commit",
    "ref",
];

/// The inputs `inputs = true` sends.
pub const DEFAULT_INPUTS: &[&str] = &["image", "base_image", "base_digest", "level", "cascade_id"];

impl Inputs {
    /// The payload names to send.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Inputs::None => Vec::new(),
            Inputs::Default => DEFAULT_INPUTS.to_vec(),
            Inputs::Names(names) => names.iter().map(String::as_str).collect(),
        }
    }
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
            Trigger::Push => "push",
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
                forge,
                repository,
                auto_merge,
                ..
            } => format!(
                "pr {} {}{}",
                forge.map_or("forge-of-origin", forge_name),
                repository.as_deref().unwrap_or("origin"),
                if *auto_merge { " auto-merge" } else { "" }
            ),
            Trigger::Push => "push (the repository's CI builds the pushed commit)".to_owned(),
        }
    }

    /// Whether the trigger runs on this machine (a command): an interrupt stops it.
    pub fn is_local(&self) -> bool {
        matches!(self, Trigger::Command { .. })
    }
}

/// A trigger table as written: how an image's rebuild is started (docs/cascade.md,
/// "Triggers").
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Trigger")]
pub(super) struct RawTrigger {
    /// The kind; may be left out for `command` (with `command`) and `webhook` (with
    /// `url`).
    #[schemars(extend("enum" = ["command", "webhook", "github-workflow", "github-dispatch", "gitlab-pipeline", "pr", "push"]))]
    kind: Option<String>,
    /// `command`: the argument vector, program first (never a shell string).
    command: Option<Vec<String>>,
    /// `command`: extra environment variables.
    #[serde(default)]
    env: BTreeMap<String, String>,
    /// `webhook`: the URL posted to.
    url: Option<String>,
    /// `webhook`: the variable holding the HMAC secret.
    secret_env: Option<String>,
    /// `github-workflow`, `github-dispatch`: `owner/name`; `pr`: the forge repository.
    repository: Option<String>,
    /// `github-workflow`: the workflow file name or id.
    workflow: Option<String>,
    /// `github-workflow`, `gitlab-pipeline`: the ref to run on (default `main`).
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    /// `github-workflow`: `true` (image, base_image, base_digest, level, cascade_id) or
    /// a list of the payload names to send as workflow inputs.
    inputs: Option<RawInputs>,
    /// `github-dispatch`: the event type (default `strata-cascade`).
    event_type: Option<String>,
    /// `gitlab-pipeline`: the project path.
    project: Option<String>,
    /// The variable holding the token (`gitlab-pipeline`: required).
    token_env: Option<String>,
    /// The forge API's base URL.
    api_url: Option<String>,
    /// `pr`: `github`, `gitlab` or `gitea` (default: told from `origin`).
    #[schemars(extend("enum" = ["github", "gitlab", "gitea"]))]
    forge: Option<String>,
    /// `pr`: labels put on a newly opened pull request.
    #[serde(default)]
    labels: Vec<String>,
    /// `pr`: turn on the forge's auto-merge.
    #[serde(default)]
    auto_merge: bool,
    /// `pr`: `merge`, `squash` or `rebase` (default: the forge's).
    #[schemars(extend("enum" = ["merge", "squash", "rebase"]))]
    merge_method: Option<String>,
}

/// `inputs = true` or `inputs = ["image", …]`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Inputs")]
enum RawInputs {
    All(bool),
    Names(Vec<String>),
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
                inputs: inputs(self.inputs.as_ref()).map_err(|m| fail("inputs", m))?,
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
                auto_merge: self.auto_merge,
                merge_method: self
                    .merge_method
                    .as_deref()
                    .map(merge_method)
                    .transpose()
                    .map_err(|m| fail("merge_method", m))?,
            },
            "push" => Trigger::Push,
            other => {
                let message = format!(
                    "unknown kind {other:?} (command, webhook, github-workflow, \
                     github-dispatch, gitlab-pipeline, pr, push)"
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

fn inputs(raw: Option<&RawInputs>) -> Result<Inputs, String> {
    match raw {
        None | Some(RawInputs::All(false)) => Ok(Inputs::None),
        Some(RawInputs::All(true)) => Ok(Inputs::Default),
        Some(RawInputs::Names(names)) => {
            let mut out: Vec<String> = Vec::new();
            for name in names {
                if !INPUT_NAMES.contains(&name.as_str()) {
                    return Err(format!(
                        "unknown input {name:?} (one of {})",
                        INPUT_NAMES.join(", ")
                    ));
                }
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
            Ok(Inputs::Names(out))
        }
    }
}

fn merge_method(text: &str) -> Result<MergeMethod, String> {
    match text {
        "merge" => Ok(MergeMethod::Merge),
        "squash" => Ok(MergeMethod::Squash),
        "rebase" => Ok(MergeMethod::Rebase),
        other => Err(format!(
            "{other:?}: expected \"merge\", \"squash\" or \"rebase\""
        )),
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
