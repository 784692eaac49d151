//! serve stage, webhooks: the HTTP door for registry notifications, Docker Hub pushes and
//! forge push events. Each request is checked (its secret, in constant time: a bearer
//! token, a secret in the URL, a token header, or an HMAC-SHA256 signature of the body),
//! size-bounded and parsed as JSON, then stored and answered `202 Accepted` at once —
//! forges disable hooks that are slow or fail. What it asks for is done later by
//! `dispatch`. A bad signature is `401`, a body too large `413`, malformed JSON `400`; none
//! of them changes anything. A hook whose secret is not configured is `404`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use strata_core::webhook::Sender;
use time::OffsetDateTime;

use super::Shared;

/// `POST /hooks/registry`: distribution notifications, `Authorization: Bearer <token>`.
pub(super) async fn registry(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let token = bearer(&headers);
    accept(&shared, Sender::Registry, &body, |secret| {
        token.is_some_and(|t| equal(t.as_bytes(), secret.as_bytes()))
    })
    .await
}

/// `POST /hooks/dockerhub/{secret}`: Docker Hub signs nothing; the secret is the URL's.
pub(super) async fn dockerhub(
    State(shared): State<Arc<Shared>>,
    Path(given): Path<String>,
    body: Bytes,
) -> (StatusCode, &'static str) {
    accept(&shared, Sender::DockerHub, &body, |secret| {
        equal(given.as_bytes(), secret.as_bytes())
    })
    .await
}

/// `POST /hooks/github`: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`.
pub(super) async fn github(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    if event_header(&headers, "x-github-event").is_some_and(|e| e == "ping") {
        return (StatusCode::OK, "pong\n");
    }
    let signature = header(&headers, "x-hub-signature-256")
        .and_then(|s| s.strip_prefix("sha256="))
        .map(str::to_owned);
    accept(&shared, Sender::GitHub, &body, |secret| {
        signature
            .as_deref()
            .is_some_and(|s| signed(secret.as_bytes(), &body, s))
    })
    .await
}

/// `POST /hooks/gitlab`: `X-Gitlab-Token: <token>`.
pub(super) async fn gitlab(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let token = header(&headers, "x-gitlab-token").map(str::to_owned);
    accept(&shared, Sender::GitLab, &body, |secret| {
        token
            .as_deref()
            .is_some_and(|t| equal(t.as_bytes(), secret.as_bytes()))
    })
    .await
}

/// `POST /hooks/gitea`: `X-Gitea-Signature: <hex HMAC-SHA256 of the body>` (Forgejo also
/// sends `X-Forgejo-Signature`).
pub(super) async fn gitea(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let signature = header(&headers, "x-gitea-signature")
        .or_else(|| header(&headers, "x-forgejo-signature"))
        .map(str::to_owned);
    accept(&shared, Sender::Gitea, &body, |secret| {
        signature
            .as_deref()
            .is_some_and(|s| signed(secret.as_bytes(), &body, s))
    })
    .await
}

/// Checks, stores and acknowledges one webhook request.
async fn accept(
    shared: &Shared,
    sender: Sender,
    body: &[u8],
    authentic: impl FnOnce(&str) -> bool,
) -> (StatusCode, &'static str) {
    let source = sender.as_str();
    let config = shared.config();
    let secrets = &config.serve.secrets;
    let variable = match sender {
        Sender::Registry => &secrets.registry,
        Sender::DockerHub => &secrets.dockerhub,
        Sender::GitHub => &secrets.github,
        Sender::GitLab => &secrets.gitlab,
        Sender::Gitea => &secrets.gitea,
    };
    let secret = variable
        .as_deref()
        .and_then(|name| std::env::var(name).ok())
        .filter(|s| !s.is_empty());
    let Some(secret) = secret else {
        shared.metrics.webhook(source, "disabled");
        return (StatusCode::NOT_FOUND, "this webhook is not configured\n");
    };
    if body.len() > config.serve.max_body {
        shared.metrics.webhook(source, "too-large");
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n");
    }
    if !authentic(&secret) {
        shared.metrics.webhook(source, "rejected");
        return (StatusCode::UNAUTHORIZED, "bad or missing signature\n");
    }
    let Ok(text) = std::str::from_utf8(body) else {
        shared.metrics.webhook(source, "malformed");
        return (StatusCode::BAD_REQUEST, "the body is not UTF-8 JSON\n");
    };
    if serde_json::from_str::<serde_json::Value>(text).map_or(true, |v| !v.is_object()) {
        shared.metrics.webhook(source, "malformed");
        return (StatusCode::BAD_REQUEST, "the body is not a JSON object\n");
    }
    // Stored before it is acknowledged: a crash after the 202 loses nothing.
    match shared
        .state
        .record_event(source, text, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => {
            shared.metrics.webhook(source, "accepted");
            shared.wake.notify_one();
            (StatusCode::ACCEPTED, "accepted\n")
        }
        Err(e) => {
            eprintln!("strata serve: storing a {source} webhook: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the event\n",
            )
        }
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn event_header(headers: &HeaderMap, name: &str) -> Option<String> {
    header(headers, name).map(str::to_ascii_lowercase)
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = header(headers, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Whether `hex_signature` is the HMAC-SHA256 of `body` with `secret` (constant time).
fn signed(secret: &[u8], body: &[u8], hex_signature: &str) -> bool {
    let Ok(expected) = hex::decode(hex_signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// `a == b` in time that depends only on their lengths.
fn equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_and_tokens() {
        // RFC 4231 test case 2.
        let mac = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert!(signed(b"Jefe", b"what do ya want for nothing?", mac));
        assert!(!signed(b"Jefe", b"what do ya want for nothing!", mac));
        assert!(!signed(b"Jefe", b"x", "not hex"));
        assert!(equal(b"token", b"token"));
        assert!(!equal(b"token", b"tokem") && !equal(b"token", b"tok"));
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            axum::http::HeaderValue::from_static("Bearer  abc "),
        );
        assert_eq!(bearer(&headers).as_deref(), Some("abc"));
    }
}
