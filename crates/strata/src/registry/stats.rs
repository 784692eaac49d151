//! resolve stage: counters of what the client sent to each registry, and the lowest
//! rate-limit budget seen. Bookkeeping only; it never sends anything.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use super::retry::RateLimit;

/// What one registry was asked during this client's life.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegistryStats {
    /// Every HTTP request sent to the registry host, retries included (token service
    /// requests are counted apart, in `token_requests`).
    pub requests: u64,
    /// `GET /v2/` pings.
    pub pings: u64,
    /// `HEAD` manifest requests (tag lookups).
    pub manifest_heads: u64,
    /// `GET` manifest requests (counted as pulls by Docker Hub).
    pub manifest_gets: u64,
    /// `GET` blob requests (image configs).
    pub blob_gets: u64,
    /// Requests to the registry's token service.
    pub token_requests: u64,
    /// Requests that were repeats after a failure, 5xx or 429.
    pub retries: u64,
    /// Manifests and blobs served from the on-disk cache instead of the registry.
    pub cache_hits: u64,
    /// The reading with the lowest remaining budget (`RateLimit-Remaining`) seen.
    pub rate_limit: Option<RateLimit>,
    /// The last reading, and when it came (what a scheduler paces itself by).
    pub latest_rate_limit: Option<(RateLimit, std::time::Instant)>,
    /// The host actually contacted when a mirror serves the registry.
    pub mirror: Option<String>,
}

/// A snapshot of all registries' counters, keyed by registry host as written in
/// references (`docker.io`, `localhost:5000`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Counters per registry.
    pub registries: BTreeMap<String, RegistryStats>,
}

impl Stats {
    /// The counters for one registry (all zero if it was never contacted).
    pub fn registry(&self, registry: &str) -> RegistryStats {
        self.registries.get(registry).cloned().unwrap_or_default()
    }

    /// Requests sent to registry hosts, all registries together.
    pub fn total_requests(&self) -> u64 {
        self.registries.values().map(|r| r.requests).sum()
    }

    /// The registry with the smallest remaining rate-limit budget, and that reading.
    pub fn lowest_rate_limit(&self) -> Option<(&str, RateLimit)> {
        self.registries
            .iter()
            .filter_map(|(name, stats)| Some((name.as_str(), stats.rate_limit?)))
            .min_by_key(|(_, limit)| limit.remaining)
    }
}

/// The kinds of request counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ping,
    ManifestHead,
    ManifestGet,
    BlobGet,
    Token,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct StatsBook {
    registries: Mutex<BTreeMap<String, RegistryStats>>,
}

impl StatsBook {
    fn with(&self, registry: &str, update: impl FnOnce(&mut RegistryStats)) {
        let mut registries = self
            .registries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        update(registries.entry(registry.to_owned()).or_default());
    }

    /// One request of `kind` sent (`retry` when it repeats an earlier attempt) to
    /// `registry`, or to the `mirror` serving it.
    pub(crate) fn sent(&self, registry: &str, mirror: Option<&str>, kind: Kind, retry: bool) {
        self.with(registry, |stats| {
            if stats.mirror.is_none() {
                stats.mirror = mirror.map(str::to_owned);
            }
            match kind {
                Kind::Ping => stats.pings += 1,
                Kind::ManifestHead => stats.manifest_heads += 1,
                Kind::ManifestGet => stats.manifest_gets += 1,
                Kind::BlobGet => stats.blob_gets += 1,
                Kind::Token => stats.token_requests += 1,
            }
            if kind != Kind::Token {
                stats.requests += 1;
            }
            if retry {
                stats.retries += 1;
            }
        });
    }

    pub(crate) fn cache_hit(&self, registry: &str) {
        self.with(registry, |stats| stats.cache_hits += 1);
    }

    /// Keeps `reading` if it shows less budget left than any earlier one.
    pub(crate) fn rate_limit(&self, registry: &str, reading: RateLimit) {
        self.with(registry, |stats| {
            stats.latest_rate_limit = Some((reading, std::time::Instant::now()));
            if stats
                .rate_limit
                .is_none_or(|seen| reading.remaining < seen.remaining)
            {
                stats.rate_limit = Some(reading);
            }
        });
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let registries = self
            .registries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Stats {
            registries: registries.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn reading(remaining: u64) -> RateLimit {
        RateLimit {
            limit: Some(100),
            remaining,
            window_secs: Some(21600),
        }
    }

    #[test]
    fn counts_requests_per_registry_and_kind() {
        let book = StatsBook::default();
        book.sent("a", None, Kind::Ping, false);
        book.sent("a", None, Kind::ManifestHead, false);
        book.sent("a", None, Kind::ManifestHead, true);
        book.sent("a", None, Kind::Token, false);
        book.sent("b", Some("m:1"), Kind::BlobGet, false);
        let stats = book.snapshot();
        let a = stats.registry("a");
        assert_eq!((a.requests, a.pings, a.manifest_heads), (3, 1, 2));
        assert_eq!((a.token_requests, a.retries), (1, 1));
        assert_eq!(stats.total_requests(), 4);
        assert_eq!(stats.registry("never"), RegistryStats::default());
        assert_eq!(a.mirror, None);
        assert_eq!(stats.registry("b").mirror.as_deref(), Some("m:1"));
    }

    #[test]
    fn keeps_the_lowest_remaining_budget() {
        let book = StatsBook::default();
        book.rate_limit("hub", reading(80));
        book.rate_limit("hub", reading(75));
        book.rate_limit("hub", reading(90));
        book.rate_limit("other", reading(99));
        let stats = book.snapshot();
        assert_eq!(stats.registry("hub").rate_limit, Some(reading(75)));
        assert_eq!(stats.lowest_rate_limit(), Some(("hub", reading(75))));
    }
}
