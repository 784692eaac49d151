//! Test support, auth stage: a registry token issuer on 127.0.0.1 that answers the
//! Docker token protocol (`GET /token`, and `POST /token` for the OAuth2 password and
//! refresh-token grants) with JWTs the reference registry accepts; it counts requests
//! and never talks to anything itself.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::{Method, Request};
use serde_json::json;

use crate::jwt::{Signer, unix_now};
use crate::server::{self, Reply, Server};

/// One `access` claim entry: `{type, name, actions}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Access {
    /// Usually `repository`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The repository name.
    pub name: String,
    /// `pull`, `push`, `delete`, `*`.
    pub actions: Vec<String>,
}

impl Access {
    /// `repository:<name>:<actions>`.
    pub fn repository(name: &str, actions: &[&str]) -> Access {
        Access {
            kind: "repository".into(),
            name: name.into(),
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    /// Parse a scope such as `repository:library/alpine:pull,push`.
    pub fn parse_scope(scope: &str) -> Option<Access> {
        let (kind, rest) = scope.split_once(':')?;
        let (name, actions) = rest.rsplit_once(':')?;
        Some(Access {
            kind: kind.into(),
            name: name.into(),
            actions: actions
                .split(',')
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}

/// Who may get tokens, and for how long they live.
#[derive(Debug, Clone)]
#[must_use]
pub struct TokenOptions {
    users: Vec<(String, String)>,
    anonymous_pull: bool,
    expires_in: u64,
    refresh_tokens: Vec<(String, String)>,
    service: String,
    issuer: String,
}

impl Default for TokenOptions {
    fn default() -> Self {
        TokenOptions {
            users: Vec::new(),
            anonymous_pull: false,
            expires_in: 300,
            refresh_tokens: Vec::new(),
            service: "strata-test-registry".into(),
            issuer: "strata-testkit".into(),
        }
    }
}

impl TokenOptions {
    /// A user who gets every action requested (Basic credentials on `GET`, or the
    /// OAuth2 `password` grant on `POST`).
    pub fn user(mut self, user: &str, password: &str) -> Self {
        self.users.push((user.into(), password.into()));
        self
    }

    /// Let anonymous clients get tokens, restricted to `pull` (default: refused, 401).
    pub fn anonymous_pull(mut self, allow: bool) -> Self {
        self.anonymous_pull = allow;
        self
    }

    /// Token lifetime in seconds, reported as `expires_in` and put in `exp` (default 300).
    pub fn expires_in(mut self, seconds: u64) -> Self {
        self.expires_in = seconds;
        self
    }

    /// An identity (refresh) token accepted by the `refresh_token` grant for `user`.
    pub fn refresh_token(mut self, token: &str, user: &str) -> Self {
        self.refresh_tokens.push((token.into(), user.into()));
        self
    }

    /// The configured users.
    pub fn users(&self) -> &[(String, String)] {
        &self.users
    }
}

/// One request the issuer answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// `grant_type` of a `POST` (`password`, `refresh_token`).
    pub grant_type: Option<String>,
    /// The `service` parameter.
    pub service: Option<String>,
    /// Every `scope` requested.
    pub scopes: Vec<String>,
    /// The authenticated user, `None` for anonymous.
    pub user: Option<String>,
    /// The status answered (200, or 401 for refused credentials).
    pub status: u16,
}

/// A running token issuer; cheap to clone, stops when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    state: Arc<State>,
    server: Arc<Server>,
}

#[derive(Debug)]
struct State {
    signer: Signer,
    options: TokenOptions,
    expires_in: AtomicU64,
    requests: Mutex<Vec<TokenRequest>>,
    /// refresh token -> user, including ones handed out by `password` grants.
    refresh: Mutex<HashMap<String, String>>,
}

impl TokenIssuer {
    /// Generate a signing key and self-signed certificate and start serving.
    pub async fn start(options: TokenOptions) -> Result<TokenIssuer> {
        let state = Arc::new(State {
            signer: Signer::generate(&options.issuer, &options.service)?,
            expires_in: AtomicU64::new(options.expires_in),
            refresh: Mutex::new(options.refresh_tokens.iter().cloned().collect()),
            requests: Mutex::new(Vec::new()),
            options,
        });
        let handler_state = Arc::clone(&state);
        let server = server::serve(move |req| {
            let state = Arc::clone(&handler_state);
            async move { handle(&state, req).await }
        })
        .await?;
        Ok(TokenIssuer {
            state,
            server: Arc::new(server),
        })
    }

    /// The realm URL, `http://127.0.0.1:<port>/token`.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.server.addr())
    }

    /// The `service` (the tokens' audience).
    pub fn service(&self) -> &str {
        &self.state.options.service
    }

    /// The `iss` claim the registry is configured to trust.
    pub fn issuer(&self) -> &str {
        &self.state.options.issuer
    }

    /// The PEM certificate the registry needs as `rootcertbundle`.
    pub fn root_cert_pem(&self) -> String {
        self.state.signer.cert_pem()
    }

    /// A signed token for `subject` with `access`, living the current `expires_in`.
    pub fn mint(&self, subject: &str, access: &[Access]) -> String {
        let lifetime = self.state.expires_in.load(Ordering::Relaxed);
        self.state
            .signer
            .sign(subject, access, unix_now(), lifetime)
    }

    /// A signed token issued at `issued_at` (unix seconds) living `lifetime` seconds:
    /// use a past `issued_at` to make an already-expired token.
    pub fn mint_at(
        &self,
        subject: &str,
        access: &[Access],
        issued_at: u64,
        lifetime: u64,
    ) -> String {
        self.state.signer.sign(subject, access, issued_at, lifetime)
    }

    /// Change the lifetime of tokens issued from now on.
    pub fn set_expires_in(&self, seconds: u64) {
        self.state.expires_in.store(seconds, Ordering::Relaxed);
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        lock(&self.state.requests).clone()
    }

    /// How many tokens were issued (requests answered 200).
    pub fn tokens_issued(&self) -> usize {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.status == 200)
            .count()
    }

    /// Forget the recorded requests.
    pub fn reset_requests(&self) {
        lock(&self.state.requests).clear();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Parameters of one token request, from the query (GET) or the form body (POST).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(encoded: &str) -> Params {
        let url = reqwest::Url::parse(&format!("http://x/?{encoded}"));
        let pairs = url
            .map(|u| {
                u.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Params(pairs)
    }

    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn scopes(&self) -> Vec<String> {
        // `scope` may repeat, and a POST form packs several into one, space-separated.
        self.0
            .iter()
            .filter(|(k, _)| k == "scope")
            .flat_map(|(_, v)| v.split(' ').map(str::to_owned).collect::<Vec<_>>())
            .filter(|s| !s.is_empty())
            .collect()
    }
}

async fn handle(state: &State, req: Request<Incoming>) -> Reply {
    if req.uri().path() != "/token" {
        return server::response(404, &[], "not found");
    }
    let method = req.method().clone();
    let basic = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(decode_basic);
    let query = req.uri().query().unwrap_or_default().to_owned();
    let params = if method == Method::POST {
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        Params::parse(&String::from_utf8_lossy(&body))
    } else {
        Params::parse(&query)
    };
    let grant_type = params.get("grant_type");
    let who = authenticate(state, method == Method::POST, &params, basic);
    let mut record = TokenRequest {
        method: method.to_string(),
        grant_type: grant_type.clone(),
        service: params.get("service"),
        scopes: params.scopes(),
        user: who.clone().ok().flatten(),
        status: 200,
    };
    let reply = match who {
        Err(()) => {
            record.status = 401;
            server::response(
                401,
                &[("content-type", "application/json")],
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            )
        }
        Ok(user) => grant(
            state,
            user,
            &record.scopes,
            grant_type.as_deref() == Some("password"),
        ),
    };
    lock(&state.requests).push(record);
    reply
}

/// `Ok(Some(user))`, `Ok(None)` for permitted anonymous access, `Err(())` to refuse.
fn authenticate(
    state: &State,
    is_post: bool,
    params: &Params,
    basic: Option<(String, String)>,
) -> Result<Option<String>, ()> {
    let check = |user: &str, password: &str| {
        let ok = state
            .options
            .users
            .iter()
            .any(|(u, p)| u == user && p == password);
        if ok {
            Ok(Some(user.to_owned()))
        } else {
            Err(())
        }
    };
    if is_post {
        return match params.get("grant_type").as_deref() {
            Some("refresh_token") => {
                let token = params.get("refresh_token").unwrap_or_default();
                lock(&state.refresh)
                    .get(&token)
                    .cloned()
                    .map(Some)
                    .ok_or(())
            }
            Some("password") => check(
                &params.get("username").unwrap_or_default(),
                &params.get("password").unwrap_or_default(),
            ),
            _ => Err(()),
        };
    }
    match basic {
        Some((user, password)) => check(&user, &password),
        None if state.options.anonymous_pull => Ok(None),
        None => Err(()),
    }
}

fn grant(state: &State, user: Option<String>, scopes: &[String], offline: bool) -> Reply {
    let access: Vec<Access> = scopes
        .iter()
        .filter_map(|s| Access::parse_scope(s))
        .map(|mut a| {
            if user.is_none() {
                a.actions.retain(|action| action == "pull");
            }
            a
        })
        .collect();
    let subject = user.clone().unwrap_or_default();
    let now = unix_now();
    let lifetime = state.expires_in.load(Ordering::Relaxed);
    let token = state.signer.sign(&subject, &access, now, lifetime);
    let mut body = json!({
        "token": token,
        "access_token": token,
        "expires_in": lifetime,
        "issued_at": crate::jwt::rfc3339(now),
    });
    if let (true, Some(user), Some(map)) = (offline, user, body.as_object_mut()) {
        let refresh = format!("strata-refresh-{user}");
        lock(&state.refresh).insert(refresh.clone(), user);
        map.insert("refresh_token".into(), json!(refresh));
    }
    server::response(
        200,
        &[("content-type", "application/json")],
        body.to_string(),
    )
}

fn decode_basic(header: &str) -> Option<(String, String)> {
    let encoded = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))?;
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scopes_with_nested_names() {
        let a = Access::parse_scope("repository:team/app:pull,push").unwrap();
        assert_eq!(a.name, "team/app");
        assert_eq!(a.actions, vec!["pull", "push"]);
        assert!(Access::parse_scope("nonsense").is_none());
    }

    #[test]
    fn form_scopes_split_on_spaces() {
        let p =
            Params::parse("scope=repository%3Aa%3Apull+repository%3Ab%3Apull&scope=x%3Ay%3Apush");
        assert_eq!(
            p.scopes(),
            vec!["repository:a:pull", "repository:b:pull", "x:y:push"]
        );
    }
}
