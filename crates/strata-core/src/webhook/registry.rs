//! serve stage, pure part: registry notifications. The distribution registry posts an
//! envelope `{"events": [...]}`; an event with `action: "push"` and a `target.tag` says a
//! tag was pushed (pulls, blob pushes and untagged manifest pushes are noise: the child
//! manifests of a multi-platform index are pushed untagged before the tagged index).
//! Docker Hub posts one push per call with `push_data.tag` and `repository.repo_name`.

use serde::Deserialize;

use super::{WebhookError, object};

/// A tag some registry says was pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPush {
    /// The registry host the event names (`registry.example.com`, `127.0.0.1:5000`,
    /// `docker.io`); `None` when the event names none.
    pub host: Option<String>,
    pub repository: String,
    pub tag: String,
    /// The pushed manifest's digest, when told.
    pub digest: Option<String>,
    /// When the registry says the push happened (RFC 3339, or Unix seconds for Docker
    /// Hub), as written.
    pub pushed_at: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    events: Vec<Notification>,
}

#[derive(Deserialize)]
struct Notification {
    #[serde(default)]
    action: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    target: Option<Target>,
    #[serde(default)]
    request: Option<Request>,
}

#[derive(Deserialize)]
struct Target {
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    host: Option<String>,
}

/// Every tag push in a notification envelope, in order; everything else left out.
pub fn registry_pushes(body: &[u8]) -> Result<Vec<TagPush>, WebhookError> {
    let envelope: Envelope = object(body, "registry")?;
    let mut out = Vec::new();
    for event in envelope.events {
        let Some(target) = event.target.filter(|_| event.action == "push") else {
            continue;
        };
        let (Some(repository), Some(tag)) = (target.repository, target.tag) else {
            continue;
        };
        if repository.is_empty() || tag.is_empty() {
            continue;
        }
        let host = event
            .request
            .and_then(|r| r.host)
            .filter(|h| !h.is_empty())
            .or_else(|| target.url.as_deref().and_then(url_host));
        out.push(TagPush {
            host: host.map(|h| h.to_ascii_lowercase()),
            repository,
            tag,
            digest: target.digest,
            pushed_at: event.timestamp,
        });
    }
    Ok(out)
}

/// The `host[:port]` of an `http(s)://host[:port]/…` URL.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

#[derive(Deserialize)]
struct HubPush {
    push_data: HubPushData,
    repository: HubRepository,
}

#[derive(Deserialize)]
struct HubPushData {
    tag: String,
    #[serde(default)]
    pushed_at: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct HubRepository {
    repo_name: String,
}

/// A Docker Hub push webhook: the tag of `repository.repo_name` pushed.
pub fn docker_hub_push(body: &[u8]) -> Result<TagPush, WebhookError> {
    let push: HubPush = object(body, "Docker Hub")?;
    let repository = if push.repository.repo_name.contains('/') {
        push.repository.repo_name
    } else {
        format!("library/{}", push.repository.repo_name)
    };
    Ok(TagPush {
        host: Some("docker.io".to_owned()),
        repository,
        tag: push.push_data.tag,
        digest: None,
        pushed_at: push.push_data.pushed_at.map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The shape distribution documents (docs/spec/notifications.md): pushes of tagged
    /// manifests count; pulls, blob pushes and untagged child manifests do not.
    #[test]
    fn only_tag_pushes_count() {
        let body = br#"{"events": [
          {"id": "1", "timestamp": "2026-12-07T10:00:00.1Z", "action": "push",
           "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "digest": "sha256:aa", "repository": "org/app",
                      "url": "http://127.0.0.1:5000/v2/org/app/manifests/sha256:aa"},
           "request": {"host": "127.0.0.1:5000", "method": "PUT"}},
          {"id": "2", "timestamp": "2026-12-07T10:00:00.2Z", "action": "push",
           "target": {"mediaType": "application/vnd.oci.image.index.v1+json",
                      "digest": "sha256:bb", "repository": "org/app", "tag": "1",
                      "url": "http://127.0.0.1:5000/v2/org/app/manifests/sha256:bb"},
           "request": {"host": "127.0.0.1:5000"}},
          {"id": "3", "action": "pull", "target": {"repository": "org/app", "tag": "1"}},
          {"id": "4", "action": "push", "target": {"mediaType": "application/octet-stream",
           "digest": "sha256:cc", "repository": "org/app"}},
          {"id": "5", "action": "push", "target": {"repository": "org/other", "tag": "2",
           "url": "https://Registry.Example.com/v2/org/other/manifests/2"}}
        ]}"#;
        let pushes = registry_pushes(body).unwrap();
        assert_eq!(pushes.len(), 2);
        assert_eq!(pushes[0].host.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(
            (pushes[0].repository.as_str(), pushes[0].tag.as_str()),
            ("org/app", "1")
        );
        assert_eq!(pushes[0].digest.as_deref(), Some("sha256:bb"));
        assert_eq!(pushes[1].host.as_deref(), Some("registry.example.com"));
        for bad in [&b"not json"[..], b"{}", b"{\"events\": 3}"] {
            assert!(registry_pushes(bad).is_err());
        }
        assert!(registry_pushes(br#"{"events": []}"#).unwrap().is_empty());
    }

    /// Docker Hub's documented payload (docs.docker.com/docker-hub/repos/manage/webhooks).
    #[test]
    fn docker_hub_pushes_name_the_repository_and_tag() {
        let body = br#"{"callback_url": "https://registry.hub.docker.com/u/svendowideit/testhook/hook/2141b5bi5i5b02bec211i4eeih0242eg11000a/",
          "push_data": {"pushed_at": 1417566161, "pusher": "trustedbuilder", "tag": "latest"},
          "repository": {"name": "testhook", "namespace": "svendowideit",
                         "repo_name": "svendowideit/testhook", "is_official": false}}"#;
        let push = docker_hub_push(body).unwrap();
        assert_eq!(push.host.as_deref(), Some("docker.io"));
        assert_eq!(push.repository, "svendowideit/testhook");
        assert_eq!(push.tag, "latest");
        assert_eq!(push.pushed_at.as_deref(), Some("1417566161"));
        assert!(docker_hub_push(br#"{"push_data": {}}"#).is_err());
    }
}
