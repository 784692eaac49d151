//! serve stage, the JSON API (documented in docs/serve.md): watched tags and their digest
//! history, the hierarchy, pending updates and pull requests, cascades with each image's
//! state, moves with their timeline, the queue and stored events. Read-only but for two
//! actions behind the admin token (check a tag now). Reads the state database; answers
//! errors as JSON with a status.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::Shared;
use crate::output::rfc3339;
use crate::registry::TagKey;
use crate::state::{JobKind, MoveId, NewJob, RecordedMove, StateError};

/// An error answer: `{"error": "..."}` with a status.
pub(super) struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<StateError> for ApiError {
    fn from(e: StateError) -> Self {
        ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
    }
}

type Answer = Result<Json<Value>, ApiError>;

/// RFC 3339 in UTC with milliseconds: a move's steps are often within one second.
fn time(at: OffsetDateTime) -> String {
    let whole = rfc3339(at);
    let millis = at.millisecond();
    match whole.strip_suffix('Z') {
        Some(seconds) => format!("{seconds}.{millis:03}Z"),
        None => whole,
    }
}

fn time_opt(at: Option<OffsetDateTime>) -> Option<String> {
    at.map(time)
}

/// `GET /api/images`: every watched tag, with what it points at.
pub(super) async fn images(State(shared): State<Arc<Shared>>) -> Answer {
    let mut out = Vec::new();
    for watch in shared.state.watches().await? {
        let current = shared.state.current(&watch.key).await?;
        out.push(json!({
            "tag": watch.key.to_string(),
            "active": watch.active,
            "digest": current.as_ref().map(|c| c.digest.to_string()),
            "since": current.as_ref().map(|c| time(c.since)),
            "last_checked": time_opt(watch.last_checked),
            "next_check": time(watch.next_check),
            "failures": watch.failures,
            "last_error": watch.last_error,
        }));
    }
    Ok(Json(Value::Array(out)))
}

#[derive(Deserialize)]
pub(super) struct TagQuery {
    tag: String,
}

/// `GET /api/history?tag=docker.io/library/python:3.12`: a tag's digests and moves.
pub(super) async fn history(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<TagQuery>,
) -> Answer {
    let key = tag_key(&query.tag)?;
    let current = shared.state.current(&key).await?;
    let moves: Vec<Value> = shared
        .state
        .history(&key)
        .await?
        .iter()
        .map(|m| {
            json!({"id": m.id.0, "from": m.from.to_string(), "to": m.to.to_string(),
                   "observed_at": time(m.observed_at), "from_last_seen": time(m.from_last_seen)})
        })
        .collect();
    let digests: Vec<Value> = shared
        .state
        .sightings(&key)
        .await?
        .iter()
        .map(|s| {
            json!({"digest": s.digest.to_string(), "first_seen": time(s.first_seen),
                   "last_seen": time(s.last_seen)})
        })
        .collect();
    Ok(Json(json!({
        "tag": key.to_string(),
        "digest": current.as_ref().map(|c| c.digest.to_string()),
        "since": current.as_ref().map(|c| time(c.since)),
        "moves": moves,
        "digests": digests,
    })))
}

/// `GET /api/graph`: the hierarchy as last drawn (`strata graph --format json`'s view).
pub(super) async fn graph(State(shared): State<Arc<Shared>>) -> Answer {
    let view = shared
        .view
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    match view {
        Some(view) => serde_json::to_value(view)
            .map(Json)
            .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        None => Err(ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the hierarchy has not been drawn yet".to_owned(),
        )),
    }
}

/// `GET /api/updates`: proposals in flight (no pull request yet, or an open one).
pub(super) async fn updates(State(shared): State<Arc<Shared>>) -> Answer {
    let proposals = shared.state.open_proposals().await?;
    Ok(Json(Value::Array(proposals.iter().map(proposal).collect())))
}

/// `GET /api/pulls`: the open pull requests among them.
pub(super) async fn pulls(State(shared): State<Arc<Shared>>) -> Answer {
    let proposals = shared.state.open_proposals().await?;
    Ok(Json(Value::Array(
        proposals
            .iter()
            .filter(|p| p.pull_request.is_some())
            .map(proposal)
            .collect(),
    )))
}

fn proposal(p: &crate::state::Proposal) -> Value {
    json!({
        "repository": p.key.repository,
        "branch": p.key.branch,
        "base": p.group.to_string(),
        "old_digest": p.old_digest.to_string(),
        "new_digest": p.new_digest.to_string(),
        "stage": p.stage().as_str(),
        "commit": p.commit,
        "pull_request": p.pull_request.as_ref().map(|pr| json!({
            "number": pr.number, "url": pr.url, "state": pr.state.as_str(),
        })),
        "updated_at": time(p.updated_at),
    })
}

/// `GET /api/cascades`: the newest cascades with every image's state.
pub(super) async fn cascades(State(shared): State<Arc<Shared>>) -> Answer {
    let mut out = Vec::new();
    for run in shared.state.recent_cascades(20).await? {
        out.push(cascade(&shared, &run).await?);
    }
    Ok(Json(Value::Array(out)))
}

async fn cascade(shared: &Shared, run: &crate::state::CascadeRun) -> Result<Value, ApiError> {
    let nodes: Vec<Value> = shared
        .state
        .cascade_nodes(run.id)
        .await?
        .iter()
        .map(|n| {
            json!({
                "image": n.image, "level": n.level, "state": n.state.as_str(),
                "attempts": n.attempts, "triggered_at": time_opt(n.triggered_at),
                "finished_at": time_opt(n.finished_at), "message": n.message,
                "digest": n.new_digest.as_ref().map(ToString::to_string),
                "commit": n.delivery.commit, "ref": n.delivery.git_ref,
                "pull_request": n.delivery.pull_request,
            })
        })
        .collect();
    Ok(json!({
        "run": run.id.0,
        "root": run.root_image,
        "old_root_digest": run.old_root_digest.to_string(),
        "new_root_digest": run.new_root_digest.to_string(),
        "status": run.status.as_str(),
        "started_at": time(run.started_at),
        "finished_at": time_opt(run.finished_at),
        "nodes": nodes,
    }))
}

/// `GET /api/moves`: the newest moves with their timelines.
pub(super) async fn moves(State(shared): State<Arc<Shared>>) -> Answer {
    let mut out = Vec::new();
    for recorded in shared.state.moves(false, 50).await? {
        out.push(timeline(&shared, &recorded).await?);
    }
    Ok(Json(Value::Array(out)))
}

/// `GET /api/moves/{id}`: one move's timeline: pushed, detected, update, cascade, and
/// when each level of its cascade was published.
pub(super) async fn one_move(State(shared): State<Arc<Shared>>, Path(id): Path<i64>) -> Answer {
    let Some(recorded) = shared.state.recorded_move(MoveId(id)).await? else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no move {id}")));
    };
    Ok(Json(timeline(&shared, &recorded).await?))
}

async fn timeline(shared: &Shared, recorded: &RecordedMove) -> Result<Value, ApiError> {
    let steps: Vec<Value> = shared
        .state
        .move_steps(recorded.id)
        .await?
        .iter()
        .map(|s| json!({"at": time(s.at), "step": s.step, "detail": s.detail}))
        .collect();
    // The cascade this move started: same root, new digest.
    let tag = recorded.key.to_string();
    let mut cascade_json = Value::Null;
    let mut levels = Vec::new();
    for run in shared.state.recent_cascades(100).await? {
        let root = strata_core::graph::ImageRef::parse(&run.root_image)
            .map(|r| r.to_string())
            .unwrap_or_default();
        if root == tag && run.new_root_digest == recorded.to {
            let nodes = shared.state.cascade_nodes(run.id).await?;
            let deepest = nodes.iter().map(|n| n.level).max().unwrap_or(0);
            for level in 1..=deepest {
                let at_level: Vec<_> = nodes.iter().filter(|n| n.level == level).collect();
                let done = at_level.iter().filter_map(|n| n.finished_at).max();
                levels.push(json!({"level": level, "images": at_level.len(),
                                   "finished_at": time_opt(done)}));
            }
            cascade_json = cascade(shared, &run).await?;
            break;
        }
    }
    Ok(json!({
        "id": recorded.id.0,
        "tag": tag,
        "from": recorded.from.to_string(),
        "to": recorded.to.to_string(),
        "observed_at": time(recorded.observed_at),
        "handled_at": time_opt(recorded.handled_at),
        "steps": steps,
        "levels": levels,
        "cascade": cascade_json,
    }))
}

/// `GET /api/jobs`: the newest jobs.
pub(super) async fn jobs(State(shared): State<Arc<Shared>>) -> Answer {
    let jobs: Vec<Value> = shared
        .state
        .jobs(100)
        .await?
        .iter()
        .map(|j| {
            json!({"id": j.id.0, "kind": j.kind.as_str(), "key": j.key, "state": j.state.as_str(),
                   "attempts": j.attempts, "lease_owner": j.lease_owner,
                   "created_at": time(j.created_at), "finished_at": time_opt(j.finished_at),
                   "error": j.error})
        })
        .collect();
    Ok(Json(Value::Array(jobs)))
}

/// `GET /api/events`: the newest stored webhook events (without their bodies).
pub(super) async fn events(State(shared): State<Arc<Shared>>) -> Answer {
    let events: Vec<Value> = shared
        .state
        .events(false, 100)
        .await?
        .iter()
        .map(|e| {
            json!({"id": e.id.0, "source": e.source, "received_at": time(e.received_at),
                   "state": e.state.as_str(), "note": e.note})
        })
        .collect();
    Ok(Json(Value::Array(events)))
}

/// `POST /api/check {"tag": "…"}` (admin): look a watched tag up now.
pub(super) async fn check_now(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(query): Json<TagQuery>,
) -> Answer {
    admin(&shared, &headers)?;
    let key = tag_key(&query.tag)?;
    let now = OffsetDateTime::now_utc();
    let job = NewJob {
        kind: JobKind::CheckTag,
        key: format!("check:{key}"),
        payload: json!({"registry": key.registry, "repository": key.repository, "tag": key.tag})
            .to_string(),
        priority: 10,
        run_after: now,
    };
    let queued = shared.state.enqueue(&job, now).await?;
    Ok(Json(
        json!({"tag": key.to_string(), "queued": queued.is_some()}),
    ))
}

/// Refuses a request without the admin token (none configured: every action refused).
pub(super) fn admin(shared: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let config = shared.config();
    let token = config
        .serve
        .secrets
        .admin
        .as_deref()
        .and_then(|name| std::env::var(name).ok())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError(
                StatusCode::FORBIDDEN,
                "read-only: no admin token is configured".to_owned(),
            )
        })?;
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let same = given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "admin token required".to_owned(),
        ))
    }
}

fn tag_key(text: &str) -> Result<TagKey, ApiError> {
    let reference = strata_core::reference::Reference::parse_normalized(text)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("{text:?}: {e}")))?;
    TagKey::of(&reference).map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))
}

/// The body of `/healthz` and `/readyz`.
#[derive(Serialize)]
pub(super) struct Health {
    pub status: &'static str,
    pub worker: String,
}
