//! serve stage, workers: lease one job at a time from the queue (shared with every other
//! process on the database), run it while renewing the lease, and record how it ended. A
//! job whose worker dies is taken over when its lease runs out; a job that fails is tried
//! again later, a few times; a job running when the server stops is handed back.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{Shared, pipeline, poll, watchlist};
use crate::registry::TagKey;
use crate::state::{Job, JobEnd, JobKind, MoveId};
use strata_core::reference::Digest;

/// How long a worker rests when the queue is empty.
const IDLE: Duration = Duration::from_millis(200);

/// Attempts before a job is given up.
const ATTEMPTS: u32 = 5;

/// Runs jobs until the server stops.
pub(super) async fn run(shared: Arc<Shared>, _slot: usize) {
    let mut stopping = shared.stopping.clone();
    let kinds = [JobKind::CheckTag, JobKind::Move, JobKind::Rescan];
    loop {
        if shared.is_stopping() {
            return;
        }
        let lease = shared.config().serve.lease;
        let now = OffsetDateTime::now_utc();
        let leased = shared
            .state
            .lease_jobs(&shared.worker, &kinds, 1, now + lease, now)
            .await;
        let job = match leased {
            Ok(mut jobs) => jobs.pop(),
            Err(e) => {
                eprintln!("strata serve: leasing jobs: {e}");
                None
            }
        };
        let Some(job) = job else {
            tokio::select! {
                () = tokio::time::sleep(IDLE) => {}
                _ = stopping.wait_for(|s| *s) => return,
            }
            continue;
        };
        let end = run_leased(&shared, &job, lease).await;
        let now = OffsetDateTime::now_utc();
        match shared
            .state
            .finish_job(job.id, &shared.worker, &end, now)
            .await
        {
            Ok(true) => {}
            Ok(false) => eprintln!(
                "strata serve: {} ({}) was taken over by another worker",
                job.id, job.kind
            ),
            Err(e) => eprintln!("strata serve: recording {}: {e}", job.id),
        }
        shared.notify("job");
    }
}

/// Runs `job`, renewing its lease meanwhile; how it ended.
async fn run_leased(shared: &Shared, job: &Job, lease: Duration) -> JobEnd {
    let renew = async {
        loop {
            tokio::time::sleep(lease / 3).await;
            let until = OffsetDateTime::now_utc() + lease;
            match shared
                .state
                .renew_lease(job.id, &shared.worker, until)
                .await
            {
                Ok(true) => {}
                // Lost (another worker took it over) or unreachable: stop working on it.
                Ok(false) | Err(_) => return,
            }
        }
    };
    let outcome = tokio::select! {
        done = execute(shared, job) => done,
        () = renew => Err(anyhow!("the lease on {} was lost", job.id)),
    };
    let now = OffsetDateTime::now_utc();
    match outcome {
        Ok(()) => JobEnd::Done,
        // Stopped by the shutdown: another worker (or the next start) goes on with it.
        Err(_) if shared.is_stopping() => JobEnd::Retry(now, "the server stopped".to_owned()),
        Err(e) if job.attempts >= ATTEMPTS => JobEnd::Failed(format!("{e:#}")),
        Err(e) => {
            let backoff = Duration::from_secs(5 * 2u64.pow(job.attempts.min(6)));
            JobEnd::Retry(now + backoff, format!("{e:#}"))
        }
    }
}

#[derive(Deserialize)]
struct CheckTag {
    registry: String,
    repository: String,
    tag: String,
    #[serde(default)]
    pushed_at: Option<String>,
    #[serde(default)]
    digest: Option<String>,
}

#[derive(Deserialize)]
struct MoveJob {
    #[serde(rename = "move")]
    id: i64,
}

async fn execute(shared: &Shared, job: &Job) -> Result<()> {
    match job.kind {
        JobKind::CheckTag => {
            let check: CheckTag =
                serde_json::from_str(&job.payload).context("reading the check-tag job")?;
            let key = TagKey {
                registry: check.registry,
                repository: check.repository,
                tag: check.tag,
            };
            let pushed = check
                .pushed_at
                .as_deref()
                .and_then(push_time)
                .map(|at| poll::Pushed {
                    at,
                    digest: check
                        .digest
                        .as_deref()
                        .and_then(|d| d.parse::<Digest>().ok()),
                });
            poll::check(shared, &key, pushed).await;
            Ok(())
        }
        JobKind::Move => {
            let job: MoveJob =
                serde_json::from_str(&job.payload).context("reading the move job")?;
            pipeline::run(shared, MoveId(job.id)).await
        }
        JobKind::Rescan => watchlist::refresh(shared).await.map(drop),
    }
}

/// A push time as webhooks write it: RFC 3339 (the registry) or Unix seconds (Docker Hub).
fn push_time(text: &str) -> Option<OffsetDateTime> {
    if let Ok(seconds) = text.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp(seconds).ok();
    }
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_times_read_both_ways() {
        let unix = push_time("1417566161").map(OffsetDateTime::unix_timestamp);
        assert_eq!(unix, Some(1_417_566_161));
        let rfc = push_time("2026-12-07T10:00:00.123456789Z").map(OffsetDateTime::unix_timestamp);
        assert_eq!(rfc, Some(1_796_637_600));
        assert_eq!(push_time("yesterday"), None);
    }
}
