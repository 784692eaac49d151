//! serve stage, the dashboard: one server-rendered page (`templates/dashboard.html`,
//! escaped by askama) with the hierarchy and what stale images wait on, the cascades
//! with each image's state, the moves with their timelines, pending updates and pull
//! requests, and the watched tags. A little JavaScript listens on `/events` (server-sent
//! events) and fetches the page again when something changed. Reads the state database;
//! changes nothing.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use strata_core::graph::{Status, TreeStyle};

use super::Shared;
use crate::output::rfc3339;
use crate::rebuild::wait::short;
use crate::state::{RunStatus, StateError};

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Page {
    worker: String,
    admin: bool,
    watched: usize,
    stale: usize,
    queued: u64,
    running: usize,
    tree: String,
    waiting: Vec<Waiting>,
    cascades: Vec<Cascade>,
    moves: Vec<Move>,
    updates: Vec<Update>,
    tags: Vec<Tag>,
}

struct Waiting {
    image: String,
    base: String,
    moved: String,
}

struct Cascade {
    run: i64,
    root: String,
    status: String,
    started: String,
    nodes: Vec<Node>,
}

struct Node {
    level: u32,
    image: String,
    state: String,
    carried: String,
}

struct Move {
    tag: String,
    from: String,
    to: String,
    steps: Vec<String>,
}

struct Update {
    repository: String,
    branch: String,
    stage: String,
    url: String,
}

struct Tag {
    tag: String,
    link: String,
    digest: String,
    since: String,
    next: String,
    error: String,
}

/// `GET /`: the dashboard.
pub(super) async fn page(State(shared): State<Arc<Shared>>, _headers: HeaderMap) -> Response {
    match render(&shared).await {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

async fn render(shared: &Shared) -> Result<String, StateError> {
    let config = shared.config();
    let view = shared
        .view
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let (tree, stale, waiting) = match &view {
        Some(view) => (
            view.tree(TreeStyle::Unicode),
            view.nodes
                .iter()
                .filter(|n| n.status == Status::Stale)
                .count(),
            view.nodes
                .iter()
                .filter_map(|n| {
                    let w = n.waiting.as_ref()?;
                    Some(Waiting {
                        image: n.label.clone(),
                        base: format!("{}@{}", w.base.familiar(), short(&w.built_on)),
                        moved: w.moved_at.clone().unwrap_or_default(),
                    })
                })
                .collect(),
        ),
        None => (String::new(), 0, Vec::new()),
    };
    let mut cascades = Vec::new();
    for run in shared.state.recent_cascades(5).await? {
        let nodes = shared
            .state
            .cascade_nodes(run.id)
            .await?
            .into_iter()
            .map(|n| Node {
                level: n.level,
                image: n.image,
                state: n.state.as_str().to_owned(),
                carried: n
                    .delivery
                    .pull_request
                    .or_else(|| n.delivery.commit.map(|c| c.chars().take(12).collect()))
                    .unwrap_or_default(),
            })
            .collect();
        cascades.push(Cascade {
            run: run.id.0,
            root: run.root_image.clone(),
            status: run.status.as_str().to_owned(),
            started: rfc3339(run.started_at),
            nodes,
        });
    }
    let running = shared
        .state
        .recent_cascades(50)
        .await?
        .iter()
        .filter(|r| r.status == RunStatus::Running)
        .count();
    let mut moves = Vec::new();
    for m in shared.state.moves(false, 40).await? {
        let steps = shared
            .state
            .move_steps(m.id)
            .await?
            .into_iter()
            .map(|s| {
                format!(
                    "{} {}{}",
                    rfc3339(s.at),
                    s.step,
                    s.detail.map(|d| format!(": {d}")).unwrap_or_default()
                )
            })
            .collect();
        moves.push(Move {
            tag: m.key.to_string(),
            from: short(&m.from),
            to: short(&m.to),
            steps,
        });
    }
    let updates = shared
        .state
        .open_proposals()
        .await?
        .into_iter()
        .map(|p| Update {
            stage: p.stage().as_str().to_owned(),
            url: p.pull_request.map(|pr| pr.url).unwrap_or_default(),
            repository: p.key.repository,
            branch: p.key.branch,
        })
        .collect();
    let mut tags = Vec::new();
    for watch in shared
        .state
        .watches()
        .await?
        .into_iter()
        .filter(|w| w.active)
    {
        let current = shared.state.current(&watch.key).await?;
        let tag = watch.key.to_string();
        let link: String = url::form_urlencoded::Serializer::new(String::from("/api/history?"))
            .append_pair("tag", &tag)
            .finish();
        tags.push(Tag {
            link,
            tag,
            digest: current
                .as_ref()
                .map(|c| short(&c.digest))
                .unwrap_or_default(),
            since: current.map(|c| rfc3339(c.since)).unwrap_or_default(),
            next: rfc3339(watch.next_check),
            error: watch.last_error.unwrap_or_default(),
        });
    }
    let page = Page {
        worker: shared.worker.clone(),
        admin: config.serve.secrets.admin.is_some(),
        watched: tags.len(),
        stale,
        queued: shared.state.queue_stats().await?.queued,
        running,
        tree,
        waiting,
        cascades,
        moves,
        updates,
        tags,
    };
    Ok(page.render().unwrap_or_else(|e| format!("dashboard: {e}")))
}
