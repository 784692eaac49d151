//! resolve stage: bearer tokens cached per (registry, scope) until they expire. The
//! cache takes the current time as an argument so expiry is testable without waiting;
//! it never contacts a token service itself.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long a token lives when the token service does not say (the distribution token
/// specification's default).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// Renew this long before expiry (a tenth of the lifetime, at most 10 s), so a token
/// never expires between being taken from the cache and reaching the registry.
fn margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(10))
}

/// A bearer token and when we stop using it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) value: String,
    pub(crate) renew_at: Instant,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &"<redacted>")
            .field("renew_at", &self.renew_at)
            .finish()
    }
}

impl Token {
    /// A token received at `received` that the service said lives `expires_in` seconds.
    pub(crate) fn new(value: String, received: Instant, expires_in: Option<u64>) -> Token {
        let lifetime = expires_in
            .filter(|secs| *secs > 0)
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        Token {
            value,
            renew_at: received + lifetime - margin(lifetime),
        }
    }

    pub(crate) fn is_fresh(&self, now: Instant) -> bool {
        now < self.renew_at
    }
}

/// One cache slot. Its async mutex is held while a token is fetched, so concurrent
/// requests for the same scope wait for one fetch instead of each starting their own.
pub(crate) type Slot = Arc<tokio::sync::Mutex<Option<Token>>>;

/// Tokens by (registry, scope).
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<(String, String), Slot>>,
}

impl TokenCache {
    /// The slot for (registry, scope), created empty on first use.
    pub(crate) fn slot(&self, registry: &str, scope: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots
            .entry((registry.to_owned(), scope.to_owned()))
            .or_default()
            .clone()
    }

    /// The cached token for (registry, scope) if still fresh at `now()`, else the one
    /// `fetch` gets (cached for the next caller). Concurrent callers for the same key
    /// wait for a single fetch.
    pub(crate) async fn get_or_fetch<F, Fut, E>(
        &self,
        registry: &str,
        scope: &str,
        now: impl Fn() -> Instant,
        fetch: F,
    ) -> Result<Token, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Token, E>>,
    {
        let slot = self.slot(registry, scope);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| t.is_fresh(now())) {
            return Ok(token.clone());
        }
        let token = fetch().await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Drops the cached token for (registry, scope) if it is still `rejected` (a request
    /// carrying it got a 401); a token another request already renewed is kept.
    pub(crate) async fn reject(&self, registry: &str, scope: &str, rejected: &str) {
        let slot = self.slot(registry, scope);
        let mut token = slot.lock().await;
        if token.as_ref().is_some_and(|t| t.value == rejected) {
            *token = None;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn token_without_expiry_lives_the_default_minus_margin() {
        let start = Instant::now();
        let token = Token::new("t".into(), start, None);
        assert!(token.is_fresh(start + Duration::from_secs(53)));
        assert!(!token.is_fresh(start + Duration::from_secs(54)));
        // Zero is treated like absent rather than "already expired".
        assert_eq!(
            Token::new("t".into(), start, Some(0)).renew_at,
            token.renew_at
        );
    }

    #[test]
    fn long_tokens_renew_ten_seconds_early_short_ones_proportionally() {
        let start = Instant::now();
        let long = Token::new("t".into(), start, Some(300));
        assert_eq!(long.renew_at, start + Duration::from_secs(290));
        let short = Token::new("t".into(), start, Some(2));
        assert_eq!(short.renew_at, start + Duration::from_millis(1800));
        assert!(short.is_fresh(start + Duration::from_millis(1799)));
        assert!(!short.is_fresh(start + Duration::from_millis(1800)));
    }

    async fn get(
        cache: &TokenCache,
        registry: &str,
        scope: &str,
        now: Instant,
        value: &str,
    ) -> String {
        let fetched = Token::new(value.to_owned(), now, Some(100));
        cache
            .get_or_fetch(registry, scope, || now, || async { Ok::<_, ()>(fetched) })
            .await
            .unwrap()
            .value
    }

    #[tokio::test]
    async fn cache_is_per_registry_and_scope_and_expires() {
        let cache = TokenCache::default();
        let start = Instant::now();
        assert_eq!(
            get(&cache, "r", "repository:a:pull", start, "ta").await,
            "ta"
        );
        assert_eq!(
            get(&cache, "r", "repository:a:pull", start, "unused").await,
            "ta"
        );
        assert_eq!(
            get(&cache, "r", "repository:b:pull", start, "tb").await,
            "tb"
        );
        assert_eq!(
            get(&cache, "o", "repository:a:pull", start, "to").await,
            "to"
        );
        let later = start + Duration::from_secs(91);
        assert_eq!(
            get(&cache, "r", "repository:a:pull", later, "ta2").await,
            "ta2"
        );
    }

    #[tokio::test]
    async fn failed_fetch_caches_nothing() {
        let cache = TokenCache::default();
        let now = Instant::now();
        let failed = cache
            .get_or_fetch("r", "s", || now, || async { Err::<Token, _>("refused") })
            .await;
        assert_eq!(failed, Err("refused"));
        assert_eq!(get(&cache, "r", "s", now, "t").await, "t");
    }

    #[tokio::test]
    async fn reject_drops_only_the_rejected_token() {
        let cache = TokenCache::default();
        let now = Instant::now();
        assert_eq!(get(&cache, "r", "s", now, "new").await, "new");
        cache.reject("r", "s", "old").await;
        assert_eq!(get(&cache, "r", "s", now, "unused").await, "new");
        cache.reject("r", "s", "new").await;
        assert_eq!(get(&cache, "r", "s", now, "newer").await, "newer");
    }

    #[test]
    fn debug_redacts_the_token() {
        let token = Token::new("secret-token".into(), Instant::now(), None);
        assert!(!format!("{token:?}").contains("secret-token"));
    }
}
