//! serve stage, metrics: what `/metrics` says, in the Prometheus text format — lookups
//! by registry and outcome, registry requests and rate-limit budget, moves detected and
//! how long after the push, webhooks, pull requests opened, cascade durations, the queue
//! and its oldest job. Counters move as things happen; the queue and registry figures are
//! read when scraped. It never acts on anything it counts.

use std::collections::BTreeMap;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::registry::Stats;
use crate::state::QueueStats;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Lookup {
    registry: String,
    /// `unchanged`, `moved`, `new`, `not-found`, `rate-limited`, `error`.
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByRegistry {
    registry: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Webhook {
    source: String,
    /// `accepted`, `rejected`, `malformed`, `too-large`.
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByState {
    state: String,
}

/// Every metric of one server process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    lookups: Family<Lookup, Counter>,
    requests: Family<ByRegistry, Counter>,
    rate_limit: Family<ByRegistry, Gauge>,
    moves: Counter,
    detection: Histogram,
    webhooks: Family<Webhook, Counter>,
    pull_requests: Counter,
    cascades: Histogram,
    jobs: Family<ByState, Gauge>,
    oldest_job: Gauge<f64, std::sync::atomic::AtomicU64>,
    /// Requests already added to `requests`, per registry (the client's counts grow).
    counted: Mutex<BTreeMap<String, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let lookups = Family::<Lookup, Counter>::default();
        registry.register(
            "strata_lookups",
            "Tag lookups of watched tags, by registry and outcome",
            lookups.clone(),
        );
        let requests = Family::<ByRegistry, Counter>::default();
        registry.register(
            "strata_registry_requests",
            "HTTP requests sent to each registry",
            requests.clone(),
        );
        let rate_limit = Family::<ByRegistry, Gauge>::default();
        registry.register(
            "strata_registry_rate_limit_remaining",
            "The registry's last RateLimit-Remaining reading",
            rate_limit.clone(),
        );
        let moves = Counter::default();
        registry.register("strata_moves_detected", "Tag moves recorded", moves.clone());
        let detection = Histogram::new(exponential_buckets(0.05, 2.0, 14));
        registry.register(
            "strata_detection_latency_seconds",
            "From a push (as its webhook dates it) to the recorded move",
            detection.clone(),
        );
        let webhooks = Family::<Webhook, Counter>::default();
        registry.register(
            "strata_webhooks",
            "Webhook requests, by source and outcome",
            webhooks.clone(),
        );
        let pull_requests = Counter::default();
        registry.register(
            "strata_pull_requests_opened",
            "Pull requests opened",
            pull_requests.clone(),
        );
        let cascades = Histogram::new(exponential_buckets(1.0, 2.0, 16));
        registry.register(
            "strata_cascade_duration_seconds",
            "From a cascade's start to its end",
            cascades.clone(),
        );
        let jobs = Family::<ByState, Gauge>::default();
        registry.register("strata_jobs", "Jobs in the queue, by state", jobs.clone());
        let oldest_job = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "strata_oldest_queued_job_age_seconds",
            "How long the oldest queued job has waited",
            oldest_job.clone(),
        );
        Metrics {
            registry,
            lookups,
            requests,
            rate_limit,
            moves,
            detection,
            webhooks,
            pull_requests,
            cascades,
            jobs,
            oldest_job,
            counted: Mutex::default(),
        }
    }

    /// One lookup of a watched tag on `registry` ended as `outcome`.
    pub fn lookup(&self, registry: &str, outcome: &str) {
        self.lookups
            .get_or_create(&Lookup {
                registry: registry.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// A move was recorded, `latency` seconds after its push when known.
    pub fn moved(&self, latency: Option<f64>) {
        self.moves.inc();
        if let Some(seconds) = latency.filter(|s| *s >= 0.0) {
            self.detection.observe(seconds);
        }
    }

    pub fn webhook(&self, source: &str, outcome: &str) {
        self.webhooks
            .get_or_create(&Webhook {
                source: source.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn pull_request_opened(&self) {
        self.pull_requests.inc();
    }

    pub fn cascade_finished(&self, seconds: f64) {
        self.cascades.observe(seconds);
    }

    /// The text exposition, with the registry client's and the queue's figures as they
    /// are now.
    pub fn render(&self, stats: &Stats, queue: &QueueStats, now: time::OffsetDateTime) -> String {
        {
            let mut counted = self
                .counted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (name, registry) in &stats.registries {
                let before = counted.insert(name.clone(), registry.requests).unwrap_or(0);
                let label = ByRegistry {
                    registry: name.clone(),
                };
                self.requests
                    .get_or_create(&label)
                    .inc_by(registry.requests.saturating_sub(before));
                if let Some((reading, _)) = registry.latest_rate_limit {
                    let remaining = i64::try_from(reading.remaining).unwrap_or(i64::MAX);
                    self.rate_limit.get_or_create(&label).set(remaining);
                }
            }
        }
        for (state, count) in [
            ("queued", queue.queued),
            ("leased", queue.leased),
            ("failed", queue.failed),
        ] {
            let label = ByState {
                state: state.to_owned(),
            };
            self.jobs
                .get_or_create(&label)
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        let age = queue
            .oldest_queued
            .map_or(0.0, |at| (now - at).as_seconds_f64().max(0.0));
        self.oldest_job.set(age);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_labels_and_queue_gauges() {
        let metrics = Metrics::new();
        metrics.lookup("docker.io", "moved");
        metrics.lookup("docker.io", "moved");
        metrics.moved(Some(0.3));
        metrics.webhook("registry", "accepted");
        let queue = QueueStats {
            queued: 3,
            leased: 1,
            failed: 0,
            oldest_queued: None,
        };
        let text = metrics.render(&Stats::default(), &queue, time::OffsetDateTime::UNIX_EPOCH);
        assert!(
            text.contains("strata_lookups_total{registry=\"docker.io\",outcome=\"moved\"} 2"),
            "{text}"
        );
        assert!(text.contains("strata_moves_detected_total 1"), "{text}");
        assert!(
            text.contains("strata_detection_latency_seconds_count 1"),
            "{text}"
        );
        assert!(text.contains("strata_jobs{state=\"queued\"} 3"), "{text}");
        assert!(
            text.contains("# TYPE strata_cascade_duration_seconds histogram"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
