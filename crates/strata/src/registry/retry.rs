//! resolve stage: the retry policy's pure parts: which answers are worth retrying, the
//! backoff between attempts, `Retry-After` and Docker Hub's `RateLimit-*` headers. No
//! sleeping or sending happens here; the transport calls these.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

/// Statuses that mean "the server had a problem, the same request may work later".
pub(crate) fn is_retryable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
            | StatusCode::REQUEST_TIMEOUT
    )
}

/// The wait before retry number `attempt` (0-based): `base * 2^attempt`, plus up to half
/// again of random jitter so many clients retrying at once spread out.
pub(crate) fn backoff(attempt: u32, base: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.min(16));
    let jitter_range = exp.as_millis().max(1) as u64 / 2;
    // A fresh RandomState is randomly keyed: enough randomness for jitter without a
    // random-number crate.
    let noise = RandomState::new().hash_one(attempt);
    exp + Duration::from_millis(noise % jitter_range.max(1))
}

/// A `Retry-After` value: delay-seconds, or an HTTP date (how long from `now` until it).
/// A date in the past means "now". Unparseable values give `None`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// One reading of Docker Hub's rate-limit headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window (`RateLimit-Limit`), when sent.
    pub limit: Option<u64>,
    /// Requests left in the window (`RateLimit-Remaining`).
    pub remaining: u64,
    /// The window in seconds (`w=` in either header), when sent.
    pub window_secs: Option<u64>,
}

/// Reads `RateLimit-Limit` / `RateLimit-Remaining` (`100;w=21600` form). `None` when the
/// remaining budget is absent or unreadable.
pub(crate) fn parse_rate_limit(limit: Option<&str>, remaining: Option<&str>) -> Option<RateLimit> {
    let (remaining, remaining_window) = parse_quota(remaining?)?;
    let (limit, limit_window) = match limit.and_then(parse_quota) {
        Some((limit, window)) => (Some(limit), window),
        None => (None, None),
    };
    Some(RateLimit {
        limit,
        remaining,
        window_secs: remaining_window.or(limit_window),
    })
}

/// `100;w=21600` -> (100, Some(21600)); `100` -> (100, None).
fn parse_quota(value: &str) -> Option<(u64, Option<u64>)> {
    let mut parts = value.split(';');
    let count = parts.next()?.trim().parse().ok()?;
    let window = parts.find_map(|part| {
        let (key, value) = part.split_once('=')?;
        if key.trim() == "w" {
            value.trim().parse().ok()
        } else {
            None
        }
    });
    Some((count, window))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_as_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        // Obsolete RFC 850 and asctime forms are still HTTP dates.
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:38 1994", now),
            Some(Duration::from_secs(1))
        );
        // A date already past means retry now.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_garbage_is_none() {
        let now = SystemTime::now();
        for value in ["", "-1", "soon", "1.5", "Sun, 99 Nov 1994 08:49:37 GMT"] {
            assert_eq!(parse_retry_after(value, now), None, "{value}");
        }
    }

    #[test]
    fn docker_hub_rate_limit_headers() {
        assert_eq!(
            parse_rate_limit(Some("100;w=21600"), Some("76;w=21600")),
            Some(RateLimit {
                limit: Some(100),
                remaining: 76,
                window_secs: Some(21600),
            })
        );
        assert_eq!(
            parse_rate_limit(None, Some("5")),
            Some(RateLimit {
                limit: None,
                remaining: 5,
                window_secs: None,
            })
        );
        assert_eq!(parse_rate_limit(Some("100;w=21600"), None), None);
        assert_eq!(parse_rate_limit(Some("x"), Some("nope")), None);
    }

    #[test]
    fn backoff_grows_and_stays_within_jitter() {
        let base = Duration::from_millis(100);
        for attempt in 0..4 {
            let exp = base * (1 << attempt);
            let wait = backoff(attempt, base);
            assert!(wait >= exp && wait <= exp + exp / 2, "{attempt}: {wait:?}");
        }
        // Huge attempt counts saturate instead of overflowing.
        let _ = backoff(u32::MAX, Duration::from_secs(1));
        assert!(backoff(0, Duration::ZERO) <= Duration::from_millis(1));
    }

    #[test]
    fn server_errors_are_retryable_client_errors_are_not() {
        assert!(is_retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(is_retryable(StatusCode::BAD_GATEWAY));
        assert!(!is_retryable(StatusCode::NOT_FOUND));
        assert!(!is_retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(!is_retryable(StatusCode::UNAUTHORIZED));
    }
}
