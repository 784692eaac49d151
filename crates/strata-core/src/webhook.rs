//! serve stage, pure part: what incoming webhooks say, read from their JSON bodies — a
//! registry's notifications (the distribution format), Docker Hub's push webhooks, and
//! GitHub, GitLab and Gitea push events. Parsing only: checking signatures, storing
//! events and acting on them is the server's; nothing here trusts a payload beyond
//! reading it.

mod forge;
mod registry;

use serde::Serialize;

pub use forge::{Push, forge_push};
pub use registry::{TagPush, docker_hub_push, registry_pushes};

/// Why a webhook body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Not JSON, or not the shape the sender documents.
    #[error("malformed {source_name} webhook: {detail}")]
    Malformed {
        source_name: &'static str,
        detail: String,
    },
}

/// Reads a JSON object (serde also reads a struct from an array, which no sender sends).
fn object<T: serde::de::DeserializeOwned>(
    body: &[u8],
    source_name: &'static str,
) -> Result<T, WebhookError> {
    let malformed = |detail: String| WebhookError::Malformed {
        source_name,
        detail,
    };
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(malformed("the body is not a JSON object".to_owned()));
    }
    serde_json::from_slice(body).map_err(|e| malformed(e.to_string()))
}

/// Where a webhook came from, as the server routes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sender {
    /// A registry's notifications endpoint (distribution, Harbor, …).
    Registry,
    DockerHub,
    GitHub,
    GitLab,
    Gitea,
}

impl Sender {
    /// The stable name used in routes, stored events and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::Registry => "registry",
            Sender::DockerHub => "dockerhub",
            Sender::GitHub => "github",
            Sender::GitLab => "gitlab",
            Sender::Gitea => "gitea",
        }
    }

    /// The sender named `name` (the inverse of [`Sender::as_str`]).
    pub fn parse(name: &str) -> Option<Sender> {
        [
            Sender::Registry,
            Sender::DockerHub,
            Sender::GitHub,
            Sender::GitLab,
            Sender::Gitea,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}
