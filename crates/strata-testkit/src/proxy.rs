//! Test support, fault stage: an HTTP proxy on 127.0.0.1 in front of a registry (or
//! standing alone) that injects programmed faults per method and path and counts what
//! it saw; it forwards only to the upstream URL it was given.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::image::sha256_digest;
use crate::server::{self, Reply, Server};

/// What a matching [`Fault`] does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// The proxy answers by itself with this status, headers and body.
    Respond {
        /// HTTP status.
        status: u16,
        /// Extra headers, e.g. `Retry-After` or `WWW-Authenticate`.
        headers: Vec<(String, String)>,
        /// Body text.
        body: String,
    },
    /// Forward, then replace `Docker-Content-Digest` with [`FaultKind::WRONG_DIGEST`].
    WrongDigest,
    /// Forward, then remove `Docker-Content-Digest`.
    MissingDigest,
    /// Forward, then append a space to the body (same header, different sha256).
    CorruptBody,
    /// Close the connection without answering.
    DropConnection,
    /// Wait this long, then forward.
    Delay(Duration),
}

impl FaultKind {
    /// The digest [`FaultKind::WrongDigest`] puts in `Docker-Content-Digest`
    /// (sha256 of the empty string).
    pub const WRONG_DIGEST: &str =
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}

/// A programmed fault: a kind, an optional method and path filter, and how many more
/// matching requests it applies to (unlimited unless [`Fault::times`] is used).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Fault {
    kind: FaultKind,
    method: Option<String>,
    path: Option<String>,
    remaining: Option<usize>,
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({"errors": [{"code": code, "message": message}]}).to_string()
}

impl Fault {
    /// A fault of any kind.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            method: None,
            path: None,
            remaining: None,
        }
    }

    /// Answer with `status`, these headers and this body.
    pub fn respond(status: u16, headers: &[(&str, &str)], body: &str) -> Fault {
        let headers = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Fault::new(FaultKind::Respond {
            status,
            headers,
            body: body.into(),
        })
    }

    /// `429 Too Many Requests` with `Retry-After: <seconds>`.
    pub fn too_many_requests(retry_after_secs: u64) -> Fault {
        let body = error_body("TOOMANYREQUESTS", "too many requests");
        Fault::respond(
            429,
            &[("Retry-After", &retry_after_secs.to_string())],
            &body,
        )
    }

    /// Answer with `status` (e.g. 500, 503) and a registry-style error body.
    pub fn status(status: u16) -> Fault {
        Fault::respond(status, &[], &error_body("UNKNOWN", "injected failure"))
    }

    /// `401` with this `WWW-Authenticate` challenge.
    pub fn unauthorized(challenge: &str) -> Fault {
        let body = error_body("UNAUTHORIZED", "authentication required");
        Fault::respond(401, &[("WWW-Authenticate", challenge)], &body)
    }

    /// `401` with the Bearer challenge a registry sends for an expired token.
    pub fn expired_token(realm: &str, service: &str, scope: &str) -> Fault {
        Fault::unauthorized(&format!(
            "Bearer realm=\"{realm}\",service=\"{service}\",scope=\"{scope}\",error=\"invalid_token\""
        ))
    }

    /// Forward but replace `Docker-Content-Digest` with [`FaultKind::WRONG_DIGEST`].
    pub fn wrong_digest() -> Fault {
        Fault::new(FaultKind::WrongDigest)
    }

    /// Forward but drop `Docker-Content-Digest` (combine with `.on_method("HEAD")`).
    pub fn missing_digest() -> Fault {
        Fault::new(FaultKind::MissingDigest)
    }

    /// Forward but alter the body so its sha256 no longer matches the digest header.
    pub fn corrupt_body() -> Fault {
        Fault::new(FaultKind::CorruptBody)
    }

    /// Close the connection without a response.
    pub fn drop_connection() -> Fault {
        Fault::new(FaultKind::DropConnection)
    }

    /// Forward after a delay (for client timeouts).
    pub fn delay(delay: Duration) -> Fault {
        Fault::new(FaultKind::Delay(delay))
    }

    /// Only requests with this method (`GET`, `HEAD`, ...).
    pub fn on_method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Only requests whose path contains `fragment` (e.g. `/manifests/`, `/token`).
    pub fn on_path(mut self, fragment: &str) -> Self {
        self.path = Some(fragment.into());
        self
    }

    /// Apply to the next `k` matching requests only.
    pub fn times(mut self, k: usize) -> Self {
        self.remaining = Some(k);
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.remaining != Some(0)
            && self.method.as_deref().is_none_or(|m| m == method)
            && self.path.as_deref().is_none_or(|p| path.contains(p))
    }
}

/// One request the proxy saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The path, without query.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The status sent back; `None` while in flight, when the connection was dropped,
    /// or when the client gave up first.
    pub status: Option<u16>,
    /// The fault applied, if any.
    pub fault: Option<FaultKind>,
}

/// A fault-injecting HTTP proxy on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub struct FaultProxy {
    state: Arc<State>,
    server: Server,
}

#[derive(Debug)]
struct State {
    upstream: Option<String>,
    client: reqwest::Client,
    faults: Mutex<Vec<Fault>>,
    requests: Mutex<Vec<(u64, ProxiedRequest)>>,
    next_id: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FaultProxy {
    /// Forward to `upstream` (a loopback base URL such as [`crate::TestRegistry::url`]).
    pub async fn start(upstream: &str) -> Result<FaultProxy> {
        Self::launch(Some(upstream.trim_end_matches('/').to_owned())).await
    }

    /// No upstream: answers `200 {}` on `/v2/` and a registry-style 404 elsewhere,
    /// unless a fault says otherwise.
    pub async fn standalone() -> Result<FaultProxy> {
        Self::launch(None).await
    }

    async fn launch(upstream: Option<String>) -> Result<FaultProxy> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the proxy's HTTP client")?;
        let state = Arc::new(State {
            upstream,
            client,
            faults: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(0),
        });
        let handler_state = Arc::clone(&state);
        let server = server::serve(move |req| {
            let state = Arc::clone(&handler_state);
            async move { handle(&state, req).await }
        })
        .await?;
        Ok(FaultProxy { state, server })
    }

    /// Base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// `127.0.0.1:<port>`, the registry part of an image reference.
    pub fn host(&self) -> String {
        self.server.addr().to_string()
    }

    /// Add a fault; the first matching fault with uses left applies to a request.
    pub fn inject(&self, fault: Fault) {
        lock(&self.state.faults).push(fault);
    }

    /// Remove every fault.
    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    /// Every request seen since start or [`Self::reset_requests`].
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        lock(&self.state.requests)
            .iter()
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// How many requests were seen.
    pub fn request_count(&self) -> usize {
        lock(&self.state.requests).len()
    }

    /// Forget the recorded requests.
    pub fn reset_requests(&self) {
        lock(&self.state.requests).clear();
    }
}

/// Pick the fault for this request and use it up.
fn take_fault(state: &State, method: &str, path: &str) -> Option<FaultKind> {
    let mut faults = lock(&state.faults);
    let fault = faults.iter_mut().find(|f| f.matches(method, path))?;
    if let Some(n) = fault.remaining.as_mut() {
        *n -= 1;
    }
    Some(fault.kind.clone())
}

async fn handle(state: &State, req: Request<Incoming>) -> Reply {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let fault = take_fault(state, &method, &path);
    // Recorded on arrival, so a request whose client gave up still counts.
    let id = arrive(state, &method, &path, query, fault.clone());
    let reply = match &fault {
        Some(FaultKind::DropConnection) => Reply::Hangup,
        Some(FaultKind::Respond {
            status,
            headers,
            body,
        }) => {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            server::response(*status, &headers, body.clone())
        }
        other => {
            if let Some(FaultKind::Delay(delay)) = other {
                tokio::time::sleep(*delay).await;
            }
            let resp = match forward(state, req).await {
                Ok(resp) => resp,
                Err(e) => return finish(state, id, bad_gateway(&e)),
            };
            alter(resp, other.as_ref(), &method)
        }
    };
    finish(state, id, reply)
}

fn arrive(
    state: &State,
    method: &str,
    path: &str,
    query: Option<String>,
    fault: Option<FaultKind>,
) -> u64 {
    let mut log = lock(&state.requests);
    let id = state.next_id.fetch_add(1, Ordering::Relaxed);
    log.push((
        id,
        ProxiedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query,
            status: None,
            fault,
        },
    ));
    id
}

fn finish(state: &State, id: u64, reply: Reply) -> Reply {
    if let Reply::Respond(resp) = &reply
        && let Some((_, entry)) = lock(&state.requests)
            .iter_mut()
            .rev()
            .find(|(i, _)| *i == id)
    {
        entry.status = Some(resp.status().as_u16());
    }
    reply
}

fn bad_gateway(error: &anyhow::Error) -> Reply {
    server::response(502, &[], format!("strata-testkit proxy: {error:#}"))
}

const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// The upstream's answer (or the standalone one), fully read.
async fn forward(state: &State, req: Request<Incoming>) -> Result<Response<Bytes>> {
    let Some(upstream) = &state.upstream else {
        let (status, body) = if req.uri().path() == "/v2/" {
            (200, "{}".to_owned())
        } else {
            (
                404,
                error_body("NAME_UNKNOWN", "repository name not known to registry"),
            )
        };
        let mut resp = Response::new(Bytes::from(body));
        *resp.status_mut() = hyper::StatusCode::from_u16(status)?;
        resp.headers_mut()
            .insert("content-type", "application/json".parse()?);
        return Ok(resp);
    };
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .context("reading the request body")?
        .to_bytes();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())?;
    let mut out = state
        .client
        .request(method, format!("{upstream}{path_and_query}"));
    // Host is forwarded as-is so the registry builds Location URLs that point back here.
    for (name, value) in &parts.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    let resp = out.body(body).send().await.context("forwarding upstream")?;
    let mut builder = Response::builder().status(resp.status().as_u16());
    for (name, value) in resp.headers() {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
    }
    let bytes = resp.bytes().await.context("reading the upstream body")?;
    Ok(builder.body(bytes)?)
}

/// Apply a response-altering fault and convert to a reply.
fn alter(resp: Response<Bytes>, fault: Option<&FaultKind>, method: &str) -> Reply {
    let (mut parts, mut body) = resp.into_parts();
    match fault {
        Some(FaultKind::WrongDigest) => {
            if let Ok(value) = FaultKind::WRONG_DIGEST.parse() {
                parts.headers.insert("docker-content-digest", value);
            }
        }
        Some(FaultKind::MissingDigest) => {
            parts.headers.remove("docker-content-digest");
        }
        Some(FaultKind::CorruptBody) if !body.is_empty() => {
            let mut altered = body.to_vec();
            altered.push(b' ');
            debug_assert_ne!(sha256_digest(&altered), sha256_digest(&body));
            body = Bytes::from(altered);
        }
        _ => {}
    }
    // A HEAD answer keeps the upstream Content-Length; otherwise hyper sets it from the body.
    if method != "HEAD" {
        parts.headers.remove("content-length");
    }
    Reply::Respond(Response::from_parts(parts, Full::new(body)))
}
