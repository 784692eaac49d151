//! serve stage, polling — the truth webhooks only hint at: claims the watched tags that
//! are due (a claim moves a tag's next check on, so one worker of many checks it), looks
//! each up with one `HEAD`, records what it points at (a move is recorded durably, for
//! `dispatch` to act on), and schedules its next check one interval on, with jitter. It
//! paces itself by each registry's rate-limit budget: a registry whose `RateLimit-Remaining`
//! runs low, or that answered 429, is left alone until its window or `Retry-After` passes.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use strata_core::reference::{Digest, Reference};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use super::Shared;
use crate::registry::{RegistryError, TagKey};
use crate::state::Observation;

/// Tags claimed at once.
const BATCH: usize = 512;

/// Lookups in flight at once (the client also bounds each registry).
const IN_FLIGHT: usize = 64;

/// How long the poller rests when nothing is due.
const IDLE: Duration = Duration::from_millis(250);

/// The budget left that makes the poller hold off a registry: a twentieth of its limit,
/// at least this many requests.
const RESERVE: u64 = 2;

/// Polls until the server stops.
pub(super) async fn run(shared: Arc<Shared>) {
    let mut stopping = shared.stopping.clone();
    loop {
        if shared.is_stopping() {
            return;
        }
        let config = shared.config();
        let now = OffsetDateTime::now_utc();
        // Provisional: each check sets the real next time once done.
        let hold = now + config.serve.interval;
        let due = match shared.state.claim_watches(BATCH, hold, now).await {
            Ok(due) => due,
            Err(e) => {
                eprintln!("strata serve: claiming tag checks: {e}");
                Vec::new()
            }
        };
        if due.is_empty() {
            tokio::select! {
                () = tokio::time::sleep(IDLE) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
            continue;
        }
        let mut tasks = JoinSet::new();
        for key in due {
            while tasks.len() >= IN_FLIGHT {
                let _ = tasks.join_next().await;
            }
            let shared = Arc::clone(&shared);
            tasks.spawn(async move { check(&shared, &key, None).await });
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// What a webhook said of a push: when, and the manifest's digest when it named one.
#[derive(Debug, Clone)]
pub(super) struct Pushed {
    pub(super) at: OffsetDateTime,
    pub(super) digest: Option<Digest>,
}

/// Looks `key` up now and records it; `pushed` is what a webhook said of the push (its
/// time goes on the move's timeline and into the detection latency, when the push is
/// the one that made the move). Returns whether it moved.
pub(super) async fn check(shared: &Shared, key: &TagKey, pushed: Option<Pushed>) -> bool {
    let config = shared.config();
    let interval = config.serve.interval;
    let now = OffsetDateTime::now_utc();
    if let Some(wait) = held_off(shared, &key.registry) {
        shared.metrics.lookup(&key.registry, "deferred");
        let note = "the registry's rate-limit budget is low";
        let _ = shared
            .state
            .checked_watch(key, now + wait, Some(note), now)
            .await;
        return false;
    }
    let reference = Reference::parse_normalized(&key.to_string());
    let resolved = match reference {
        Ok(reference) => shared.client.resolve(&reference).await,
        Err(e) => {
            let note = format!("{key} is not a reference: {e}");
            let _ = shared
                .state
                .checked_watch(key, now + interval, Some(&note), now)
                .await;
            return false;
        }
    };
    let next = next_check(now, interval, config.serve.jitter_permille, key);
    match resolved {
        Ok(resolved) => {
            // A notification of an older push (delivered late) says nothing of this digest.
            let pushed_at = pushed
                .filter(|p| p.digest.as_ref().is_none_or(|d| *d == resolved.digest))
                .map(|p| p.at);
            let seen = shared
                .state
                .record_observation(key, &resolved.digest, now)
                .await;
            let moved = match seen {
                Ok(Observation::Moved(tag_move)) => {
                    let latency = pushed_at.map(|at| (now - at).as_seconds_f64());
                    shared.metrics.moved(latency);
                    shared.metrics.lookup(&key.registry, "moved");
                    let detail = format!("{key}: {} -> {}", tag_move.from, tag_move.to);
                    if let Some(at) = pushed_at {
                        let _ = shared
                            .state
                            .record_move_step(tag_move.id, "pushed", Some(&detail), at)
                            .await;
                    }
                    shared.wake.notify_one();
                    shared.notify("move");
                    true
                }
                Ok(Observation::New) => {
                    shared.metrics.lookup(&key.registry, "new");
                    false
                }
                Ok(_) => {
                    shared.metrics.lookup(&key.registry, "unchanged");
                    if let Some(at) = pushed_at {
                        pushed_after_all(shared, key, &resolved.digest, at).await;
                    }
                    false
                }
                Err(e) => {
                    eprintln!("strata serve: recording {key}: {e}");
                    false
                }
            };
            let _ = shared.state.checked_watch(key, next, None, now).await;
            moved
        }
        Err(error) => {
            let (outcome, next) = match &error {
                RegistryError::RateLimited { retry_after, .. } => (
                    "rate-limited",
                    now + retry_after.unwrap_or(interval).max(Duration::from_secs(1)),
                ),
                RegistryError::NotFound { .. } => ("not-found", next),
                _ => ("error", next),
            };
            shared.metrics.lookup(&key.registry, outcome);
            let note = error.to_string();
            let _ = shared
                .state
                .checked_watch(key, next, Some(&note), now)
                .await;
            false
        }
    }
}

/// A notified push whose move someone else recorded first (a cascade resolving its root,
/// say): the push still belongs at the start of that move's timeline.
async fn pushed_after_all(shared: &Shared, key: &TagKey, digest: &Digest, at: OffsetDateTime) {
    let Ok(Some(last)) = shared.state.last_move(key).await else {
        return;
    };
    if last.to != *digest {
        return;
    }
    let steps = shared.state.move_steps(last.id).await.unwrap_or_default();
    if steps.iter().any(|s| s.step == "pushed") {
        return;
    }
    let detail = format!("{key}: {} -> {}", last.from, last.to);
    let _ = shared
        .state
        .record_move_step(last.id, "pushed", Some(&detail), at)
        .await;
    shared.notify("move");
}

/// When `registry`'s last rate-limit reading leaves too little budget: how long to wait.
fn held_off(shared: &Shared, registry: &str) -> Option<Duration> {
    let stats = shared.client.stats();
    let (reading, seen) = stats.registry(registry).latest_rate_limit?;
    let reserve = reading.limit.map_or(RESERVE, |l| (l / 20).max(RESERVE));
    if reading.remaining > reserve {
        return None;
    }
    let window = Duration::from_secs(reading.window_secs.unwrap_or(60));
    window.checked_sub(seen.elapsed())
}

/// One interval after `now`, moved by up to `jitter_permille`/1000 of it either way.
fn next_check(
    now: OffsetDateTime,
    interval: Duration,
    jitter_permille: u32,
    key: &TagKey,
) -> OffsetDateTime {
    let spread = interval.as_secs_f64() * f64::from(jitter_permille) / 1000.0;
    // A fresh random draw per check: RandomState is seeded anew each time.
    let draw = RandomState::new().hash_one((key, now.unix_timestamp_nanos()));
    let unit = (draw % 1_000_000) as f64 / 1_000_000.0;
    let seconds = interval.as_secs_f64() + spread * (2.0 * unit - 1.0);
    now + Duration::from_secs_f64(seconds.max(0.001))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn next_checks_stay_within_the_jitter() {
        let key = TagKey {
            registry: "docker.io".into(),
            repository: "library/python".into(),
            tag: "3.12".into(),
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let interval = Duration::from_secs(300);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let next = next_check(now, interval, 100, &key);
            let seconds = (next - now).as_seconds_f64();
            assert!((270.0..=330.0).contains(&seconds), "{seconds}");
            seen.insert((seconds * 10.0) as i64);
        }
        assert!(seen.len() > 50, "draws vary");
        let exact = next_check(now, interval, 0, &key);
        assert_eq!((exact - now).as_seconds_f64(), 300.0);
    }
}
