//! resolve stage: the registry client's error type. Every variant names the registry host
//! and what was asked for, so a message read on its own says what failed and where;
//! callers branch on the variants. Nothing here performs I/O.

use std::fmt;
use std::time::Duration;

use strata_core::reference::Digest;

/// Why a registry operation failed. Cloneable because one failure (a registry that cannot
/// be reached) is shared by every lookup waiting on the same registry.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The manifest, tag, blob or repository does not exist (HTTP 404).
    #[error("{reference} not found on {registry} (HTTP 404)")]
    NotFound {
        /// The registry host as written in the reference (e.g. `docker.io`).
        registry: String,
        /// What was looked up: `repository:tag` or `repository@digest`.
        reference: String,
    },
    /// The registry wants credentials we do not have, or refused the ones we sent (401).
    #[error("not authorized to pull {repository} from {registry}: {detail}")]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The repository path (e.g. `library/python`).
        repository: String,
        /// What happened (no credentials configured, token refused, ...).
        detail: String,
    },
    /// The registry knows who we are and refuses access (HTTP 403).
    #[error("{registry} denied access to {repository} (HTTP 403)")]
    Denied {
        /// The registry host.
        registry: String,
        /// The repository path.
        repository: String,
    },
    /// The registry kept answering 429 and asked to wait longer than we are allowed to.
    #[error("{registry} is rate-limiting requests for {target} (HTTP 429); {}", wait_text(.retry_after, .max_wait))]
    RateLimited {
        /// The registry host.
        registry: String,
        /// The request being limited (e.g. `library/python:3.12`).
        target: String,
        /// How long the registry asked to wait (`Retry-After`), when it said.
        retry_after: Option<Duration>,
        /// The total time we were allowed to wait for one request.
        max_wait: Duration,
    },
    /// Content did not hash to the digest the registry claimed or the digest asked for.
    #[error(
        "digest mismatch for {target} from {registry}: expected {expected}, content hashes to {actual}"
    )]
    DigestMismatch {
        /// The registry host.
        registry: String,
        /// What was fetched (e.g. `library/python:3.12`).
        target: String,
        /// The digest claimed (`Docker-Content-Digest`) or requested.
        expected: Digest,
        /// The sha256 of the bytes actually received.
        actual: Digest,
    },
    /// A tag lookup named a digest that the registry then does not serve when asked for
    /// it by digest (HTTP 404): the tag's answer cannot be trusted, so nothing is pinned.
    #[error(
        "{registry} said {target} is {digest}, but that digest is not found on {registry} \
         (HTTP 404 when fetched by digest)"
    )]
    DigestNotServed {
        /// The registry host.
        registry: String,
        /// The tag looked up (e.g. `library/python:3.12`).
        target: String,
        /// The digest the tag lookup named.
        digest: Digest,
    },
    /// The registry could not be reached, or the connection failed mid-answer.
    #[error("cannot reach {registry} ({url}): {message}")]
    Transport {
        /// The registry host (or token service) contacted.
        registry: String,
        /// The URL requested.
        url: String,
        /// The underlying error chain.
        message: String,
    },
    /// The registry answered in a way the distribution protocol does not allow.
    #[error("unexpected answer from {registry} for {target}: {detail}")]
    Protocol {
        /// The registry host.
        registry: String,
        /// The request (e.g. `library/python:3.12`).
        target: String,
        /// HTTP status, when the problem is the status.
        status: Option<u16>,
        /// What was wrong.
        detail: String,
    },
    /// Looking up credentials failed (a broken config file or credential helper).
    #[error("cannot get credentials for {registry}: {detail}")]
    Credentials {
        /// The registry whose credentials were looked up.
        registry: String,
        /// What went wrong (never contains secrets).
        detail: String,
    },
    /// The client configuration is unusable (e.g. an unreadable CA file).
    #[error("invalid registry client configuration: {detail}")]
    Config {
        /// What is wrong.
        detail: String,
    },
    /// The reference carries only a digest, so there is no tag to resolve.
    #[error("{reference} has no tag to resolve")]
    NoTag {
        /// The reference as written.
        reference: String,
    },
}

/// The tail of the rate-limit message: how long the registry asked us to wait.
fn wait_text(retry_after: &Option<Duration>, max_wait: &Duration) -> String {
    match retry_after {
        Some(wait) => format!(
            "it asked to wait {}, which would pass the {} we allow per request \
             (raise the maximum wait or try later)",
            Seconds(*wait),
            Seconds(*max_wait)
        ),
        None => "it gave no Retry-After and retries ran out; try again later".to_owned(),
    }
}

/// A duration printed as whole seconds (`90s`), the unit `Retry-After` uses.
struct Seconds(Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs_f64();
        if secs.fract() == 0.0 {
            write!(f, "{}s", self.0.as_secs())
        } else {
            write!(f, "{secs:.1}s")
        }
    }
}

/// The error chain of `err` on one line, so a transport message says the root cause
/// (`connection refused`) and not only `error sending request`.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rate_limited_message_says_how_long_the_registry_asked_to_wait() {
        let err = RegistryError::RateLimited {
            registry: "docker.io".into(),
            target: "library/python:3.12".into(),
            retry_after: Some(Duration::from_secs(120)),
            max_wait: Duration::from_secs(60),
        };
        let text = err.to_string();
        assert!(text.contains("docker.io"), "{text}");
        assert!(text.contains("library/python:3.12"), "{text}");
        assert!(text.contains("HTTP 429"), "{text}");
        assert!(text.contains("wait 120s"), "{text}");
        assert!(text.contains("60s"), "{text}");
    }

    #[test]
    fn rate_limited_without_retry_after_says_so() {
        let err = RegistryError::RateLimited {
            registry: "ghcr.io".into(),
            target: "x/y:1".into(),
            retry_after: None,
            max_wait: Duration::from_millis(1500),
        };
        assert!(err.to_string().contains("no Retry-After"));
    }

    #[test]
    fn not_found_names_registry_and_reference() {
        let err = RegistryError::NotFound {
            registry: "localhost:5000".into(),
            reference: "app:missing".into(),
        };
        assert_eq!(
            err.to_string(),
            "app:missing not found on localhost:5000 (HTTP 404)"
        );
    }

    #[test]
    fn seconds_prints_fractions_only_when_needed() {
        assert_eq!(Seconds(Duration::from_secs(3)).to_string(), "3s");
        assert_eq!(Seconds(Duration::from_millis(1500)).to_string(), "1.5s");
    }
}
