//! serve stage, pure part: forge push events — GitHub and Gitea (`repository.full_name`,
//! `clone_url`, `ssh_url`, `commits[].added/modified/removed`) and GitLab
//! (`object_kind: "push"`, `project.path_with_namespace`, `git_http_url`,
//! `git_ssh_url`). What a server needs to know which repository changed, on which
//! branch, and which files.

use serde::Deserialize;

use super::{Sender, WebhookError, object};

/// A push to a forge repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// `owner/name` (a GitLab project path).
    pub repository: String,
    /// The repository's clone URLs the event names (HTTP(S) and SSH).
    pub urls: Vec<String>,
    /// The branch pushed (`main`), or `None` for a tag or another ref.
    pub branch: Option<String>,
    /// Paths added, modified or removed by the pushed commits.
    pub changed: Vec<String>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default, rename = "ref")]
    git_ref: String,
    #[serde(default)]
    object_kind: Option<String>,
    #[serde(default)]
    repository: Option<Repository>,
    #[serde(default)]
    project: Option<Project>,
    #[serde(default)]
    commits: Vec<Commit>,
}

#[derive(Deserialize)]
struct Repository {
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    clone_url: Option<String>,
    #[serde(default)]
    ssh_url: Option<String>,
    #[serde(default)]
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct Project {
    path_with_namespace: String,
    #[serde(default)]
    git_http_url: Option<String>,
    #[serde(default)]
    git_ssh_url: Option<String>,
    #[serde(default)]
    web_url: Option<String>,
}

#[derive(Deserialize)]
struct Commit {
    #[serde(default)]
    added: Vec<String>,
    #[serde(default)]
    modified: Vec<String>,
    #[serde(default)]
    removed: Vec<String>,
}

/// A forge push event from `sender`; `Ok(None)` for another kind of event (a GitLab tag
/// push, an event without a repository).
pub fn forge_push(sender: Sender, body: &[u8]) -> Result<Option<Push>, WebhookError> {
    let source_name = sender.as_str();
    let event: Event = object(body, source_name)?;
    let (repository, urls) = match (sender, event.project, event.repository) {
        (Sender::GitLab, Some(project), _) => {
            if event.object_kind.as_deref().is_some_and(|k| k != "push") {
                return Ok(None);
            }
            let urls = [project.git_http_url, project.git_ssh_url, project.web_url];
            (
                project.path_with_namespace,
                urls.into_iter().flatten().collect(),
            )
        }
        (Sender::GitHub | Sender::Gitea, _, Some(repo)) => {
            let Some(name) = repo.full_name else {
                return Ok(None);
            };
            let urls = [repo.clone_url, repo.ssh_url, repo.html_url];
            (name, urls.into_iter().flatten().collect())
        }
        _ => return Ok(None),
    };
    let mut changed: Vec<String> = event
        .commits
        .into_iter()
        .flat_map(|c| c.added.into_iter().chain(c.modified).chain(c.removed))
        .collect();
    changed.sort();
    changed.dedup();
    Ok(Some(Push {
        repository,
        urls,
        branch: event.git_ref.strip_prefix("refs/heads/").map(str::to_owned),
        changed,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// GitHub's `push` event (docs.github.com, webhook events and payloads, push); Gitea
    /// sends the same shape.
    #[test]
    fn github_and_gitea_pushes() {
        let body = br#"{"ref": "refs/heads/main", "before": "a", "after": "b",
          "repository": {"full_name": "org/images", "clone_url": "https://github.com/org/images.git",
                         "ssh_url": "git@github.com:org/images.git", "html_url": "https://github.com/org/images"},
          "commits": [{"added": ["app/Dockerfile"], "modified": ["README.md"], "removed": []},
                      {"added": [], "modified": ["app/Dockerfile"], "removed": ["old.yaml"]}]}"#;
        for sender in [Sender::GitHub, Sender::Gitea] {
            let push = forge_push(sender, body).unwrap().unwrap();
            assert_eq!(push.repository, "org/images");
            assert_eq!(push.branch.as_deref(), Some("main"));
            assert_eq!(push.changed, ["README.md", "app/Dockerfile", "old.yaml"]);
            assert_eq!(push.urls.len(), 3);
        }
        let tag = br#"{"ref": "refs/tags/v1", "repository": {"full_name": "org/images"}}"#;
        assert_eq!(
            forge_push(Sender::GitHub, tag).unwrap().unwrap().branch,
            None
        );
        assert!(forge_push(Sender::GitHub, b"[]").is_err());
    }

    /// GitLab's push hook (docs.gitlab.com, webhook events, push events).
    #[test]
    fn gitlab_pushes_and_other_events() {
        let body = br#"{"object_kind": "push", "ref": "refs/heads/develop",
          "project": {"path_with_namespace": "group/sub/images",
                      "git_http_url": "https://gitlab.example.com/group/sub/images.git",
                      "git_ssh_url": "git@gitlab.example.com:group/sub/images.git"},
          "commits": [{"added": [], "modified": ["compose.yaml"], "removed": []}]}"#;
        let push = forge_push(Sender::GitLab, body).unwrap().unwrap();
        assert_eq!(push.repository, "group/sub/images");
        assert_eq!(push.branch.as_deref(), Some("develop"));
        assert_eq!(push.changed, ["compose.yaml"]);
        let other = br#"{"object_kind": "tag_push", "ref": "refs/tags/v1",
          "project": {"path_with_namespace": "g/p"}}"#;
        assert_eq!(forge_push(Sender::GitLab, other).unwrap(), None);
    }
}
