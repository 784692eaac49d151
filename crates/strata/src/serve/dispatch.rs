//! serve stage, dispatch: turns what was stored into queued work. A stored webhook event
//! becomes `check-tag` jobs for the watched tags it names (webhooks are hints: the check
//! confirms against the registry) or a `rescan` of the repository a push changed; an
//! unhandled recorded move becomes a `move` job. Job keys make this idempotent: running
//! it twice, or in two processes at once, queues nothing twice.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use strata_core::webhook::{self, Sender, TagPush};
use time::OffsetDateTime;

use super::Shared;
use crate::registry::TagKey;
use crate::state::{Event, EventState, JobKind, NewJob};

/// How often the dispatcher looks even when nobody woke it.
const TICK: Duration = Duration::from_millis(500);

/// Events and moves read per round.
const BATCH: usize = 200;

/// Dispatches until the server stops.
pub(super) async fn run(shared: Arc<Shared>) {
    let mut stopping = shared.stopping.clone();
    loop {
        if shared.is_stopping() {
            return;
        }
        if let Err(e) = round(&shared).await {
            eprintln!("strata serve: dispatching: {e:#}");
        }
        tokio::select! {
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(TICK) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// One pass over new events and unhandled moves.
pub(super) async fn round(shared: &Shared) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    for event in shared.state.events(true, BATCH).await? {
        let (state, note) = act_on(shared, &event, now).await;
        shared
            .state
            .finish_event(event.id, state, note.as_deref(), now)
            .await?;
    }
    for recorded in shared.state.moves(true, BATCH).await? {
        let job = NewJob {
            kind: JobKind::Move,
            key: format!("move:{}", recorded.id.0),
            payload: json!({ "move": recorded.id.0 }).to_string(),
            priority: 5,
            run_after: now,
        };
        shared.state.enqueue(&job, now).await?;
    }
    Ok(())
}

/// What a stored event asks for, queued; its new state and a note.
async fn act_on(
    shared: &Shared,
    event: &Event,
    now: OffsetDateTime,
) -> (EventState, Option<String>) {
    let Some(sender) = Sender::parse(&event.source) else {
        return (
            EventState::Failed,
            Some(format!("unknown source {}", event.source)),
        );
    };
    let body = event.body.as_bytes();
    let pushes = match sender {
        Sender::Registry => webhook::registry_pushes(body),
        Sender::DockerHub => webhook::docker_hub_push(body).map(|p| vec![p]),
        Sender::GitHub | Sender::GitLab | Sender::Gitea => {
            return rescan(shared, sender, body, now).await;
        }
    };
    let pushes = match pushes {
        Ok(pushes) => pushes,
        Err(e) => return (EventState::Failed, Some(e.to_string())),
    };
    let mut queued = Vec::new();
    let mut ignored = Vec::new();
    for push in pushes {
        match watched_key(shared, &push) {
            Ok(key) => {
                let job = NewJob {
                    kind: JobKind::CheckTag,
                    // One check per pushed digest: a late notification of an older
                    // push must not stand in for this one's (its time and digest).
                    key: match &push.digest {
                        Some(digest) => format!("check:{key}@{digest}"),
                        None => format!("check:{key}"),
                    },
                    payload: json!({
                        "registry": key.registry, "repository": key.repository,
                        "tag": key.tag, "pushed_at": push.pushed_at, "digest": push.digest,
                    })
                    .to_string(),
                    priority: 10,
                    run_after: now,
                };
                if let Err(e) = shared.state.enqueue(&job, now).await {
                    return (EventState::Failed, Some(e.to_string()));
                }
                queued.push(key.to_string());
            }
            Err(why) => ignored.push(why),
        }
    }
    if queued.is_empty() {
        let note = if ignored.is_empty() {
            "no tag push in it".to_owned()
        } else {
            ignored.join("; ")
        };
        (EventState::Ignored, Some(note))
    } else {
        (
            EventState::Done,
            Some(format!("checking {}", queued.join(", "))),
        )
    }
}

/// The watched tag a push names; why not when it names none we may act on (a host that
/// is not configured is never contacted on a webhook's word).
fn watched_key(shared: &Shared, push: &TagPush) -> Result<TagKey, String> {
    let config = shared.config();
    let Some(host) = push.host.as_deref() else {
        return Err(format!(
            "{}:{} names no registry host",
            push.repository, push.tag
        ));
    };
    // A mirror's notifications speak of the registry it serves.
    let registry = config
        .registry
        .mirrors
        .iter()
        .find(|(_, mirror)| mirror.host.as_str().eq_ignore_ascii_case(host))
        .map_or_else(|| canonical_host(host), |(served, _)| served.to_string());
    let key = TagKey {
        registry,
        repository: push.repository.clone(),
        tag: push.tag.clone(),
    };
    let watched = shared
        .watched
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(&key);
    let allowed = config
        .serve
        .webhook_registries
        .iter()
        .any(|h| h == &key.registry);
    if watched || allowed {
        Ok(key)
    } else {
        Err(format!("{key} is not watched"))
    }
}

/// Docker Hub's other names are `docker.io`.
fn canonical_host(host: &str) -> String {
    match host.to_ascii_lowercase().as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_owned()
        }
        other => other.to_owned(),
    }
}

/// A forge push: queues a rescan of the workspace when it changed a repository of it.
async fn rescan(
    shared: &Shared,
    sender: Sender,
    body: &[u8],
    now: OffsetDateTime,
) -> (EventState, Option<String>) {
    let push = match webhook::forge_push(sender, body) {
        Ok(Some(push)) => push,
        Ok(None) => return (EventState::Ignored, Some("not a branch push".to_owned())),
        Err(e) => return (EventState::Failed, Some(e.to_string())),
    };
    let config = shared.config();
    let ours = config.workspace.repositories.iter().find(|spec| {
        let url = match &spec.source {
            crate::config::workspace::RepositorySource::Git { url, .. } => Some(url.as_str()),
            crate::config::workspace::RepositorySource::Local(_) => None,
        };
        spec.name == push.repository
            || push.repository.ends_with(&format!("/{}", spec.name))
            || url.is_some_and(|u| push.urls.iter().any(|p| same_repository(p, u)))
    });
    let Some(spec) = ours else {
        return (
            EventState::Ignored,
            Some(format!("{} is not a workspace repository", push.repository)),
        );
    };
    let images_changed = push.changed.is_empty()
        || push
            .changed
            .iter()
            .any(|path| crate::discover::classify(std::path::Path::new(path)).is_some());
    if !images_changed {
        return (
            EventState::Ignored,
            Some("no image file changed".to_owned()),
        );
    }
    let job = NewJob {
        kind: JobKind::Rescan,
        key: "rescan".to_owned(),
        payload: json!({ "repository": spec.name }).to_string(),
        priority: 1,
        run_after: now,
    };
    match shared.state.enqueue(&job, now).await {
        Ok(_) => (EventState::Done, Some(format!("rescanning {}", spec.name))),
        Err(e) => (EventState::Failed, Some(e.to_string())),
    }
}

/// Two clone URLs of one repository (scheme, credentials, `.git` and case aside).
fn same_repository(a: &str, b: &str) -> bool {
    fn bare(url: &str) -> String {
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let rest = rest.replacen(':', "/", 1);
        rest.trim_end_matches('/')
            .trim_end_matches(".git")
            .to_ascii_lowercase()
    }
    bare(a) == bare(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_urls_of_one_repository_match() {
        assert!(same_repository(
            "https://github.com/Org/Images.git",
            "git@github.com:org/images"
        ));
        assert!(same_repository(
            "https://token@gitlab.example.com/g/p.git/",
            "ssh://git@gitlab.example.com/g/p"
        ));
        assert!(!same_repository(
            "https://github.com/org/images",
            "https://github.com/org/images-old"
        ));
        assert_eq!(canonical_host("Registry-1.Docker.io"), "docker.io");
        assert_eq!(canonical_host("127.0.0.1:5000"), "127.0.0.1:5000");
    }
}
