//! act stage: the forge clients' error type. Every answer-derived variant names the forge,
//! the request (`METHOD url`) and the forge's own message, so a message read alone says
//! what failed, where, and what to do; callers branch on the variants. No I/O here.

use std::fmt;
use std::time::{Duration, SystemTime};

use super::ForgeKind;

/// Why a forge operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ForgeError {
    /// No token in the environment.
    #[error("no {forge} token: set {variables}")]
    MissingToken {
        /// The forge.
        forge: ForgeKind,
        /// The variables looked at, in order (`GITHUB_TOKEN or GH_TOKEN`).
        variables: &'static str,
    },
    /// The client configuration is unusable (a missing or malformed server URL, ...).
    #[error("invalid {forge} configuration: {detail}")]
    Config {
        /// The forge.
        forge: ForgeKind,
        /// What is wrong.
        detail: String,
    },
    /// The repository name does not have the shape the forge expects.
    #[error("invalid {forge} repository {repo:?}: {reason}")]
    InvalidRepository {
        /// The forge.
        forge: ForgeKind,
        /// The repository as given.
        repo: String,
        /// What shape was expected.
        reason: &'static str,
    },
    /// The forge did not accept the token (HTTP 401).
    #[error(
        "{forge} rejected the token from {token_variable} (HTTP 401) at {endpoint}: {message}; \
         check that {token_variable} holds a valid, unexpired token"
    )]
    Unauthorized {
        /// The forge.
        forge: ForgeKind,
        /// The request: `METHOD url`.
        endpoint: String,
        /// The environment variable the token came from.
        token_variable: &'static str,
        /// The forge's message.
        message: String,
    },
    /// The token is valid but lacks the permission (HTTP 403 that is not a rate limit).
    #[error(
        "{forge} refused {endpoint} to the token from {token_variable} (HTTP 403): {message}; \
         the token needs write access to pull requests (and checks, for check runs)"
    )]
    Forbidden {
        /// The forge.
        forge: ForgeKind,
        /// The request: `METHOD url`.
        endpoint: String,
        /// The environment variable the token came from.
        token_variable: &'static str,
        /// The forge's message.
        message: String,
    },
    /// The forge is rate-limiting us (429, or 403 with an exhausted budget).
    #[error(
        "{forge} is rate-limiting requests (HTTP {status}) at {endpoint}: {message}; {}",
        reset_text(.reset)
    )]
    RateLimited {
        /// The forge.
        forge: ForgeKind,
        /// The request: `METHOD url`.
        endpoint: String,
        /// 403 or 429.
        status: u16,
        /// When the forge said the limit lifts (`X-RateLimit-Reset`, `RateLimit-Reset` or
        /// `Retry-After`), when it said.
        reset: Option<SystemTime>,
        /// The forge's message.
        message: String,
    },
    /// The repository, pull request or endpoint does not exist, or the token cannot see it.
    #[error(
        "{forge}: {endpoint} not found (HTTP 404): {message}; check the repository name and \
         that the token from {token_variable} can see it"
    )]
    NotFound {
        /// The forge.
        forge: ForgeKind,
        /// The request: `METHOD url`.
        endpoint: String,
        /// The environment variable the token came from.
        token_variable: &'static str,
        /// The forge's message.
        message: String,
    },
    /// Any other 4xx: the forge refused the request as sent (validation, conflict, ...).
    #[error("{forge} refused {endpoint} (HTTP {status}): {message}")]
    Rejected {
        /// The forge.
        forge: ForgeKind,
        /// The request: `METHOD url`.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The forge's message, with its validation details.
        message: String,
    },
    /// The forge failed (5xx), after the retries allowed for the request.
    #[error("{forge} failed at {endpoint} (HTTP {status}, {attempts} attempt(s)): {message}")]
    Server {
        /// The forge.
        forge: ForgeKind,
        /// The request: `METHOD url`.
        endpoint: String,
        /// The last HTTP status.
        status: u16,
        /// How many times the request was sent.
        attempts: u32,
        /// The forge's message.
        message: String,
    },
    /// The forge could not be reached, or the connection failed mid-answer.
    #[error("cannot reach {forge} at {endpoint}: {message}")]
    Transport {
        /// The forge.
        forge: ForgeKind,
        /// The request: `METHOD url`.
        endpoint: String,
        /// The underlying error chain.
        message: String,
    },
    /// A successful answer we cannot use (not the documented JSON, a foreign next link).
    #[error("unexpected answer from {forge} at {endpoint}: {detail}")]
    Protocol {
        /// The forge.
        forge: ForgeKind,
        /// The request: `METHOD url`.
        endpoint: String,
        /// What was wrong.
        detail: String,
    },
    /// A listing went on for more pages than we follow.
    #[error("{forge}: {endpoint} has more than {limit} pages; refusing to follow further")]
    TooManyPages {
        /// The forge.
        forge: ForgeKind,
        /// The first page's request: `METHOD url`.
        endpoint: String,
        /// The page bound.
        limit: usize,
    },
}

impl ForgeError {
    /// The HTTP status of an answer-derived error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ForgeError::Unauthorized { .. } => Some(401),
            ForgeError::Forbidden { .. } => Some(403),
            ForgeError::NotFound { .. } => Some(404),
            ForgeError::RateLimited { status, .. }
            | ForgeError::Rejected { status, .. }
            | ForgeError::Server { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The tail of the rate-limit message: when to try again.
fn reset_text(reset: &Option<SystemTime>) -> String {
    let Some(reset) = reset else {
        return "it did not say when the limit lifts; try again later".to_owned();
    };
    let wait = reset
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    format!(
        "the limit resets at {} (in {})",
        httpdate::fmt_http_date(*reset),
        Wait(wait)
    )
}

/// A wait printed in whole seconds, or minutes and seconds past a minute.
struct Wait(Duration);

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        if secs < 60 {
            write!(f, "{secs}s")
        } else {
            write!(f, "{}m{:02}s", secs / 60, secs % 60)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_names_the_token_variable() {
        let err = ForgeError::Unauthorized {
            forge: ForgeKind::GitHub,
            endpoint: "GET https://api.github.com/repos/o/r".into(),
            token_variable: "GH_TOKEN",
            message: "Bad credentials".into(),
        };
        let text = err.to_string();
        assert!(text.contains("GH_TOKEN"), "{text}");
        assert!(text.contains("HTTP 401"), "{text}");
        assert!(text.contains("Bad credentials"), "{text}");
        assert_eq!(err.status(), Some(401));
    }

    #[test]
    fn rate_limit_message_says_when_it_resets() {
        let reset = SystemTime::now() + Duration::from_secs(125);
        let err = ForgeError::RateLimited {
            forge: ForgeKind::GitLab,
            endpoint: "GET https://gitlab.com/api/v4/projects/x".into(),
            status: 429,
            reset: Some(reset),
            message: "Retry later".into(),
        };
        let text = err.to_string();
        assert!(text.contains(&httpdate::fmt_http_date(reset)), "{text}");
        assert!(text.contains("(in 2m0"), "{text}");
    }

    #[test]
    fn rate_limit_without_reset_says_so() {
        let err = ForgeError::RateLimited {
            forge: ForgeKind::Gitea,
            endpoint: "GET x".into(),
            status: 429,
            reset: None,
            message: String::new(),
        };
        assert!(err.to_string().contains("did not say"));
    }
}
