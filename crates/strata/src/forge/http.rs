//! act stage: the one request path the three forge clients share: authentication and
//! identification headers, bounded retries of idempotent requests, bounded body reads,
//! error mapping to [`ForgeError`], and bounded pagination. It knows no forge endpoints.

use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::answer::{error_message, is_rate_limited, next_page, rate_limit_reset};
use super::{ForgeConfig, ForgeError, ForgeKind};

/// The largest answer body we read; forge JSON answers are far smaller.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A forge's HTTP API: its root URL and a client carrying its headers. Cheap to share.
#[derive(Debug)]
pub(crate) struct Api {
    kind: ForgeKind,
    http: reqwest::Client,
    base: Url,
    token_variable: &'static str,
    max_retries: u32,
    retry_base: Duration,
    max_pages: usize,
}

/// A successful answer.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    /// `METHOD url`, for messages.
    pub(crate) endpoint: String,
}

/// Why one attempt did not produce an answer.
enum Failure {
    Transport(String),
    TooLarge,
}

impl Api {
    /// A client for `config`, sending `auth` (a header name and its secret value) and
    /// `headers` on every request.
    pub(crate) fn new(
        config: &ForgeConfig,
        auth: (HeaderName, String),
        headers: &[(HeaderName, &'static str)],
    ) -> Result<Api, ForgeError> {
        let kind = config.kind;
        let invalid = |detail: String| ForgeError::Config {
            forge: kind,
            detail,
        };
        let mut defaults = HeaderMap::new();
        let mut secret = HeaderValue::from_str(&auth.1).map_err(|_| {
            invalid(format!(
                "the token in {} has characters a header cannot carry",
                config.token_variable
            ))
        })?;
        secret.set_sensitive(true);
        defaults.insert(auth.0, secret);
        defaults.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in headers {
            defaults.insert(name.clone(), HeaderValue::from_static(value));
        }
        crate::registry::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .default_headers(defaults)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(same_origin_redirects())
            .build()
            .map_err(|err| invalid(format!("cannot build the HTTP client: {}", chain(&err))))?;
        Ok(Api {
            kind,
            http,
            base: config.api_url.clone(),
            token_variable: config.token_variable,
            max_retries: config.max_retries,
            retry_base: config.retry_base,
            max_pages: config.max_pages.max(1),
        })
    }

    /// The URL of `segments` under the API root (each segment percent-encoded, so a `/`
    /// inside one becomes `%2F`), with `query` parameters.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends a request and decodes the JSON answer as `T`.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<T, ForgeError> {
        let reply = self.send(method, url, body).await?;
        self.decode(&reply.endpoint, &reply.body)
    }

    /// Every item of a paginated listing starting at `url`, following next-page links
    /// on the same host up to the page bound.
    pub(crate) async fn pages<T: DeserializeOwned>(&self, url: Url) -> Result<Vec<T>, ForgeError> {
        let first = format!("GET {url}");
        let mut items = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        while let Some(url) = next.take() {
            if pages == self.max_pages {
                return Err(ForgeError::TooManyPages {
                    forge: self.kind,
                    endpoint: first,
                    limit: self.max_pages,
                });
            }
            pages += 1;
            let reply = self.send(Method::GET, url.clone(), None).await?;
            let page: Vec<T> = self.decode(&reply.endpoint, &reply.body)?;
            items.extend(page);
            let protocol = |detail: String| ForgeError::Protocol {
                forge: self.kind,
                endpoint: reply.endpoint.clone(),
                detail,
            };
            next = next_page(&url, &reply.headers).map_err(protocol)?;
            if let Some(link) = &next {
                // The token goes with every request: never follow a link elsewhere.
                if link.origin() != self.base.origin() {
                    return Err(protocol(format!(
                        "next-page link {link} leaves {}",
                        self.base
                    )));
                }
            }
        }
        Ok(items)
    }

    /// Sends a request, retrying idempotent ones after connection failures and 5xx.
    /// Returns the answer when its status is 2xx, else the matching error.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Reply, ForgeError> {
        let endpoint = format!("{method} {url}");
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::PATCH);
        let retries = if idempotent { self.max_retries } else { 0 };
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let retry_allowed = attempts <= retries;
            let mut request = self.http.request(method.clone(), url.clone());
            if let Some(body) = body {
                request = request.json(body);
            }
            match attempt(request).await {
                Ok((status, headers, body)) if status.is_success() => {
                    return Ok(Reply {
                        headers,
                        body,
                        endpoint,
                    });
                }
                Ok((status, _, _)) if status.is_server_error() && retry_allowed => {}
                Ok((status, headers, body)) => {
                    return Err(self.refusal(endpoint, status, &headers, &body, attempts));
                }
                Err(Failure::TooLarge) => {
                    return Err(ForgeError::Protocol {
                        forge: self.kind,
                        endpoint,
                        detail: format!("answer larger than {MAX_BODY} bytes"),
                    });
                }
                Err(Failure::Transport(_)) if retry_allowed => {}
                Err(Failure::Transport(message)) => {
                    return Err(ForgeError::Transport {
                        forge: self.kind,
                        endpoint,
                        message: format!("{message} ({attempts} attempt(s))"),
                    });
                }
            }
            tokio::time::sleep(self.retry_base.saturating_mul(1 << (attempts - 1).min(10))).await;
        }
    }

    /// The error for a non-2xx answer.
    fn refusal(
        &self,
        endpoint: String,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        attempts: u32,
    ) -> ForgeError {
        let (forge, token_variable) = (self.kind, self.token_variable);
        let message = error_message(body);
        if is_rate_limited(status, headers, &message) {
            return ForgeError::RateLimited {
                forge,
                endpoint,
                status: status.as_u16(),
                reset: rate_limit_reset(headers, SystemTime::now()),
                message,
            };
        }
        match status {
            StatusCode::UNAUTHORIZED => ForgeError::Unauthorized {
                forge,
                endpoint,
                token_variable,
                message,
            },
            StatusCode::FORBIDDEN => ForgeError::Forbidden {
                forge,
                endpoint,
                token_variable,
                message,
            },
            StatusCode::NOT_FOUND => ForgeError::NotFound {
                forge,
                endpoint,
                token_variable,
                message,
            },
            _ if status.is_server_error() => ForgeError::Server {
                forge,
                endpoint,
                status: status.as_u16(),
                attempts,
                message,
            },
            _ => ForgeError::Rejected {
                forge,
                endpoint,
                status: status.as_u16(),
                message,
            },
        }
    }

    /// Decodes a JSON body, naming the endpoint when it is not what we expect.
    fn decode<T: DeserializeOwned>(&self, endpoint: &str, body: &[u8]) -> Result<T, ForgeError> {
        serde_json::from_slice(body).map_err(|err| ForgeError::Protocol {
            forge: self.kind,
            endpoint: endpoint.to_owned(),
            detail: format!("not the documented JSON: {err}"),
        })
    }
}

/// Follows at most five redirects, and only within the same origin: reqwest drops
/// `Authorization` on a cross-host redirect but not GitLab's `PRIVATE-TOKEN`, and no forge
/// API needs to send us elsewhere. A redirect not followed comes back as its 3xx answer.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if same_origin {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// One attempt: status, headers and the whole (bounded) body.
async fn attempt(
    request: reqwest::RequestBuilder,
) -> Result<(StatusCode, HeaderMap, Vec<u8>), Failure> {
    let transport = |err: reqwest::Error| Failure::Transport(chain(&err));
    let mut response = request.send().await.map_err(transport)?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Failure::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, headers, body))
}

/// The error chain on one line, so a message names the root cause (`connection refused`).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
