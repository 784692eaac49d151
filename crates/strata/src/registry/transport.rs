//! resolve stage: sending one HTTP request with the retry policy: bounded retries with
//! backoff for connection failures and 5xx, `Retry-After` waits for 429 within a time
//! budget, bounded body reads, and counting. It knows nothing about authentication.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};

use super::RegistryError;
use super::error::chain;
use super::retry::{backoff, is_retryable, parse_rate_limit, parse_retry_after};
use super::stats::{Kind, StatsBook};

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Retries after connection failures and 5xx (not counting 429 waits).
    pub(crate) max_retries: u32,
    /// The first backoff; it doubles each retry.
    pub(crate) base: Duration,
    /// The most one request may spend waiting on 429s.
    pub(crate) max_wait: Duration,
}

/// One request to send.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// The registry host as written in references: what counters are kept under.
    pub(crate) registry: &'a str,
    /// How messages name it (the host contacted, when a mirror serves it).
    pub(crate) shown: &'a str,
    /// The mirror host contacted instead, if any (recorded with the counters).
    pub(crate) mirror: Option<&'a str>,
    /// What is asked for (`library/python:3.12`), for messages.
    pub(crate) target: &'a str,
    pub(crate) kind: Kind,
    pub(crate) method: Method,
    pub(crate) url: &'a str,
    pub(crate) headers: HeaderMap,
    /// A form body (`application/x-www-form-urlencoded`), for token requests.
    pub(crate) form: Option<String>,
    /// The largest body we accept on success; larger ones are a protocol error.
    pub(crate) body_limit: usize,
}

/// A complete answer: status, headers and the whole (bounded) body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A header as text, if present and valid.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Why one attempt failed.
enum Failure {
    /// The connection failed or dropped: worth retrying.
    Transport(String),
    /// A successful answer larger than allowed: retrying would not help.
    TooLarge,
}

/// The HTTP client plus the retry policy; cheap to share.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) policy: RetryPolicy,
    pub(crate) stats: Arc<StatsBook>,
}

impl Transport {
    /// Sends `call`, retrying as the policy allows. Returns the final reply whatever its
    /// status (a 5xx once retries run out); errors are transport failures, oversized
    /// bodies, and rate limiting beyond the wait budget.
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<Reply, RegistryError> {
        let mut retries = 0u32;
        let mut rate_waits = 0u32;
        let mut waited = Duration::ZERO;
        loop {
            let repeat = retries + rate_waits > 0;
            self.stats
                .sent(call.registry, call.mirror, call.kind, repeat);
            let reply = match self.attempt(call).await {
                Ok(reply) => reply,
                Err(Failure::TooLarge) => return Err(too_large(call)),
                Err(Failure::Transport(_)) if retries < self.policy.max_retries => {
                    tokio::time::sleep(backoff(retries, self.policy.base)).await;
                    retries += 1;
                    continue;
                }
                Err(Failure::Transport(message)) => {
                    return Err(RegistryError::Transport {
                        registry: call.shown.to_owned(),
                        url: call.url.to_owned(),
                        message: attempts_text(message, retries),
                    });
                }
            };
            self.note_rate_limit(call.registry, &reply);
            if reply.status == StatusCode::TOO_MANY_REQUESTS {
                let asked = reply
                    .header(RETRY_AFTER.as_str())
                    .and_then(|value| parse_retry_after(value, SystemTime::now()));
                // Never hammer: wait at least the backoff, even for `Retry-After: 0`.
                let floor = backoff(rate_waits, self.policy.base);
                let wait = match asked {
                    Some(asked) => asked.max(floor),
                    None if retries < self.policy.max_retries => floor,
                    None => return Err(rate_limited(call, None, self.policy.max_wait)),
                };
                if waited + wait > self.policy.max_wait {
                    let asked = asked.map(|_| wait);
                    return Err(rate_limited(call, asked, self.policy.max_wait));
                }
                if asked.is_none() {
                    retries += 1;
                }
                tokio::time::sleep(wait).await;
                waited += wait;
                rate_waits += 1;
                continue;
            }
            if is_retryable(reply.status) && retries < self.policy.max_retries {
                tokio::time::sleep(backoff(retries, self.policy.base)).await;
                retries += 1;
                continue;
            }
            return Ok(reply);
        }
    }

    /// One attempt: send, then read the whole body (a connection dropped mid-body is a
    /// transport failure, retried like one that failed to connect).
    async fn attempt(&self, call: &Call<'_>) -> Result<Reply, Failure> {
        let mut request = self
            .http
            .request(call.method.clone(), call.url)
            .headers(call.headers.clone());
        if let Some(form) = &call.form {
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.clone());
        }
        let mut response = request
            .send()
            .await
            .map_err(|err| Failure::Transport(chain(&err.without_url())))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        if call.method != Method::HEAD {
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|err| Failure::Transport(chain(&err.without_url())))?
            {
                if body.len() + chunk.len() > call.body_limit {
                    if status.is_success() {
                        return Err(Failure::TooLarge);
                    }
                    // An oversized error page: its start is enough to explain it.
                    break;
                }
                body.extend_from_slice(&chunk);
            }
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }

    fn note_rate_limit(&self, registry: &str, reply: &Reply) {
        let reading = parse_rate_limit(
            reply.header("ratelimit-limit"),
            reply.header("ratelimit-remaining"),
        );
        if let Some(reading) = reading {
            self.stats.rate_limit(registry, reading);
        }
    }
}

fn attempts_text(message: String, retries: u32) -> String {
    match retries {
        0 => message,
        n => format!("{message} (after {} attempts)", n + 1),
    }
}

fn too_large(call: &Call<'_>) -> RegistryError {
    RegistryError::Protocol {
        registry: call.shown.to_owned(),
        target: call.target.to_owned(),
        status: None,
        detail: format!("answer larger than the {} byte limit", call.body_limit),
    }
}

fn rate_limited(
    call: &Call<'_>,
    retry_after: Option<Duration>,
    max_wait: Duration,
) -> RegistryError {
    RegistryError::RateLimited {
        registry: call.shown.to_owned(),
        target: call.target.to_owned(),
        retry_after,
        max_wait,
    }
}
