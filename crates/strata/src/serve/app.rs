//! serve stage, routes: `fn router(shared) -> Router` that the server runs and tests call
//! directly — webhooks under `/hooks/`, the JSON API under `/api/`, `/healthz`,
//! `/readyz`, `/metrics`, the dashboard at `/` and its live feed at `/events`. Wiring
//! only: each handler lives with its kind.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::stream::{self, Stream};
use time::OffsetDateTime;

use super::{Shared, api, dashboard, hooks};

/// Every route of the server.
pub fn router(shared: Arc<Shared>) -> Router {
    // Bodies beyond the configured bound are refused before they are read whole; the
    // hook handlers check again (the bound can change on reload).
    let limit = shared.config().serve.max_body + 1;
    Router::new()
        .route("/", get(dashboard::page))
        .route("/events", get(events))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/hooks/registry", post(hooks::registry))
        .route("/hooks/dockerhub/{secret}", post(hooks::dockerhub))
        .route("/hooks/github", post(hooks::github))
        .route("/hooks/gitlab", post(hooks::gitlab))
        .route("/hooks/gitea", post(hooks::gitea))
        .route("/api/images", get(api::images))
        .route("/api/history", get(api::history))
        .route("/api/graph", get(api::graph))
        .route("/api/updates", get(api::updates))
        .route("/api/pulls", get(api::pulls))
        .route("/api/cascades", get(api::cascades))
        .route("/api/moves", get(api::moves))
        .route("/api/moves/{id}", get(api::one_move))
        .route("/api/jobs", get(api::jobs))
        .route("/api/events", get(api::events))
        .route("/api/check", post(api::check_now))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(close_after_refused_body))
        .with_state(shared)
}

/// A body refused as too large was not read to its end, so the connection cannot carry
/// another request: say so (`Connection: close`), or a client would send its next request
/// on a connection the server is closing, and see it cut off.
async fn close_after_refused_body(
    mut response: axum::response::Response,
) -> axum::response::Response {
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

async fn healthz(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    axum::Json(api::Health {
        status: "ok",
        worker: shared.worker.clone(),
    })
}

/// Ready once the watch list is synced and the database answers.
async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    let synced = shared.ready.load(Ordering::Relaxed);
    let database = shared.state.queue_stats().await.is_ok();
    let health = api::Health {
        status: if synced && database {
            "ready"
        } else {
            "starting"
        },
        worker: shared.worker.clone(),
    };
    let status = if synced && database && !shared.is_stopping() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(health)).into_response()
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let queue = shared.state.queue_stats().await.unwrap_or_default();
    let text = shared
        .metrics
        .render(&shared.client.stats(), &queue, OffsetDateTime::now_utc());
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Server-sent events: one `changed` message whenever something the dashboard shows did.
async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = shared.changed.subscribe();
    let stream = stream::unfold(receiver, |mut receiver| async move {
        let what = match receiver.recv().await {
            Ok(what) => what,
            // Missed some: one message says it all.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => "lagged".to_owned(),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(Event::default().data(what)), receiver))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
