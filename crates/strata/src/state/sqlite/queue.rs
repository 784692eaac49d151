//! record stage: `strata serve`'s work queue, watched tags, webhook events and move
//! timelines in SQLite (tables `job`, `watch`, `event`, `move_step`, `tag_move`). Leases
//! and claims are single conditional statements or `BEGIN IMMEDIATE` transactions, so
//! two workers never take the same job or the same tag check. Decides nothing.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;
use time::OffsetDateTime;

use super::{Rows, SqliteStore, micros};
use crate::registry::TagKey;
use crate::state::StateError;
use crate::state::queue::{
    Event, EventId, EventState, Job, JobEnd, JobId, JobKind, JobState, MoveId, MoveStep, NewJob,
    QueueStats, RecordedMove, Watch,
};

macro_rules! job_columns {
    () => {
        "id, kind, key, payload, state, attempts, lease_owner, lease_until, created_at, \
         finished_at, error"
    };
}

impl SqliteStore {
    pub(in crate::state) async fn enqueue(
        &self,
        job: &NewJob,
        at: OffsetDateTime,
    ) -> Result<Option<JobId>, StateError> {
        const OP: &str = "queue a job";
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO job (kind, key, payload, state, priority, run_after, created_at) \
             VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6) \
             ON CONFLICT (key) WHERE state IN ('queued', 'leased') DO NOTHING RETURNING id",
        )
        .bind(job.kind.as_str())
        .bind(&job.key)
        .bind(&job.payload)
        .bind(job.priority)
        .bind(micros(job.run_after))
        .bind(micros(at))
        .fetch_optional(&self.writer)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        Ok(id.map(JobId))
    }

    pub(in crate::state) async fn lease_jobs(
        &self,
        worker: &str,
        kinds: &[JobKind],
        max: usize,
        until: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Vec<Job>, StateError> {
        const OP: &str = "lease jobs";
        let fail = |source| self.query_error(OP, source);
        let mut tx = self.write(OP).await?;
        // Ready: queued and due, or leased by a worker whose lease ran out.
        let rows = sqlx::query(
            "SELECT id, kind FROM job WHERE (state = 'queued' AND run_after <= ?1) \
             OR (state = 'leased' AND lease_until < ?1) \
             ORDER BY priority DESC, run_after, id",
        )
        .bind(micros(at))
        .fetch_all(&mut *tx)
        .await
        .map_err(fail)?;
        let mut taken = Vec::new();
        for row in rows {
            if taken.len() >= max {
                break;
            }
            let kind: String = row.try_get("kind").map_err(fail)?;
            if !kinds.iter().any(|k| k.as_str() == kind) {
                continue;
            }
            let id: i64 = row.try_get("id").map_err(fail)?;
            let leased = sqlx::query(concat!(
                "UPDATE job SET state = 'leased', lease_owner = ?2, lease_until = ?3, \
                 attempts = attempts + 1 WHERE id = ?1 RETURNING ",
                job_columns!()
            ))
            .bind(id)
            .bind(worker)
            .bind(micros(until))
            .fetch_one(&mut *tx)
            .await
            .map_err(fail)?;
            taken.push(job(&self.rows(OP), &leased)?);
        }
        tx.commit().await.map_err(fail)?;
        Ok(taken)
    }

    pub(in crate::state) async fn renew_lease(
        &self,
        id: JobId,
        worker: &str,
        until: OffsetDateTime,
    ) -> Result<bool, StateError> {
        const OP: &str = "renew a job's lease";
        let done = sqlx::query(
            "UPDATE job SET lease_until = ?3 WHERE id = ?1 AND state = 'leased' \
             AND lease_owner = ?2",
        )
        .bind(id.0)
        .bind(worker)
        .bind(micros(until))
        .execute(&self.writer)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        Ok(done.rows_affected() == 1)
    }

    pub(in crate::state) async fn finish_job(
        &self,
        id: JobId,
        worker: &str,
        end: &JobEnd,
        at: OffsetDateTime,
    ) -> Result<bool, StateError> {
        const OP: &str = "finish a job";
        let query = match end {
            JobEnd::Done => sqlx::query(
                "UPDATE job SET state = 'done', finished_at = ?3, lease_owner = NULL, \
                 lease_until = NULL, error = NULL \
                 WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2",
            )
            .bind(id.0)
            .bind(worker)
            .bind(micros(at)),
            JobEnd::Failed(why) => sqlx::query(
                "UPDATE job SET state = 'failed', finished_at = ?3, lease_owner = NULL, \
                 lease_until = NULL, error = ?4 \
                 WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2",
            )
            .bind(id.0)
            .bind(worker)
            .bind(micros(at))
            .bind(why.clone()),
            JobEnd::Retry(when, why) => sqlx::query(
                "UPDATE job SET state = 'queued', run_after = ?3, lease_owner = NULL, \
                 lease_until = NULL, error = ?4 \
                 WHERE id = ?1 AND state = 'leased' AND lease_owner = ?2",
            )
            .bind(id.0)
            .bind(worker)
            .bind(micros(*when))
            .bind(why.clone()),
        };
        let done = query
            .execute(&self.writer)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        Ok(done.rows_affected() == 1)
    }

    pub(in crate::state) async fn release_jobs(&self, worker: &str) -> Result<u64, StateError> {
        const OP: &str = "hand jobs back";
        let done = sqlx::query(
            "UPDATE job SET state = 'queued', lease_owner = NULL, lease_until = NULL \
             WHERE state = 'leased' AND lease_owner = ?1",
        )
        .bind(worker)
        .execute(&self.writer)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        Ok(done.rows_affected())
    }

    pub(in crate::state) async fn jobs(&self, limit: usize) -> Result<Vec<Job>, StateError> {
        const OP: &str = "list jobs";
        let found = sqlx::query(concat!(
            "SELECT ",
            job_columns!(),
            " FROM job ORDER BY id DESC LIMIT ?1"
        ))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        found.iter().map(|row| job(&rows, row)).collect()
    }

    pub(in crate::state) async fn queue_stats(&self) -> Result<QueueStats, StateError> {
        const OP: &str = "count jobs";
        let row = sqlx::query(
            "SELECT \
             count(*) FILTER (WHERE state = 'queued') AS queued, \
             count(*) FILTER (WHERE state = 'leased') AS leased, \
             count(*) FILTER (WHERE state = 'failed') AS failed, \
             min(created_at) FILTER (WHERE state = 'queued') AS oldest FROM job",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        Ok(QueueStats {
            queued: rows.unsigned(&row, "queued")?,
            leased: rows.unsigned(&row, "leased")?,
            failed: rows.unsigned(&row, "failed")?,
            oldest_queued: rows.time_opt(&row, "oldest")?,
        })
    }

    pub(in crate::state) async fn sync_watches(
        &self,
        keys: &[(TagKey, OffsetDateTime)],
    ) -> Result<(), StateError> {
        const OP: &str = "update the watched tags";
        let fail = |source| self.query_error(OP, source);
        let mut tx = self.write(OP).await?;
        sqlx::query("UPDATE watch SET active = 0")
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        for (key, first) in keys {
            sqlx::query(
                "INSERT INTO watch (registry, repository, tag, active, next_check) \
                 VALUES (?1, ?2, ?3, 1, ?4) \
                 ON CONFLICT (registry, repository, tag) DO UPDATE SET active = 1",
            )
            .bind(&key.registry)
            .bind(&key.repository)
            .bind(&key.tag)
            .bind(micros(*first))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    pub(in crate::state) async fn claim_watches(
        &self,
        max: usize,
        next: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Vec<TagKey>, StateError> {
        const OP: &str = "claim tag checks";
        let fail = |source| self.query_error(OP, source);
        let mut tx = self.write(OP).await?;
        let due = sqlx::query(
            "SELECT registry, repository, tag FROM watch WHERE active = 1 AND next_check <= ?1 \
             ORDER BY next_check LIMIT ?2",
        )
        .bind(micros(at))
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(fail)?;
        let mut keys = Vec::with_capacity(due.len());
        for row in &due {
            let key = TagKey {
                registry: row.try_get("registry").map_err(fail)?,
                repository: row.try_get("repository").map_err(fail)?,
                tag: row.try_get("tag").map_err(fail)?,
            };
            // Claimed by moving its next check on: nobody else takes it meanwhile.
            sqlx::query(
                "UPDATE watch SET next_check = ?4 \
                 WHERE registry = ?1 AND repository = ?2 AND tag = ?3",
            )
            .bind(&key.registry)
            .bind(&key.repository)
            .bind(&key.tag)
            .bind(micros(next))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            keys.push(key);
        }
        tx.commit().await.map_err(fail)?;
        Ok(keys)
    }

    pub(in crate::state) async fn checked_watch(
        &self,
        key: &TagKey,
        next: OffsetDateTime,
        error: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        const OP: &str = "record a tag check";
        sqlx::query(
            "UPDATE watch SET next_check = ?4, last_checked = ?5, \
             failures = CASE WHEN ?6 IS NULL THEN 0 ELSE failures + 1 END, last_error = ?6 \
             WHERE registry = ?1 AND repository = ?2 AND tag = ?3",
        )
        .bind(&key.registry)
        .bind(&key.repository)
        .bind(&key.tag)
        .bind(micros(next))
        .bind(micros(at))
        .bind(error)
        .execute(&self.writer)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        Ok(())
    }

    pub(in crate::state) async fn watches(&self) -> Result<Vec<Watch>, StateError> {
        const OP: &str = "list watched tags";
        let found = sqlx::query(
            "SELECT registry, repository, tag, active, next_check, last_checked, failures, \
             last_error FROM watch ORDER BY registry, repository, tag",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        found
            .iter()
            .map(|row| {
                let active: i64 = rows.get(row, "active")?;
                Ok(Watch {
                    key: TagKey {
                        registry: rows.get(row, "registry")?,
                        repository: rows.get(row, "repository")?,
                        tag: rows.get(row, "tag")?,
                    },
                    active: active == 1,
                    next_check: rows.time(row, "next_check")?,
                    last_checked: rows.time_opt(row, "last_checked")?,
                    failures: rows.unsigned(row, "failures")?,
                    last_error: rows.get(row, "last_error")?,
                })
            })
            .collect()
    }

    pub(in crate::state) async fn recorded_move(
        &self,
        id: MoveId,
    ) -> Result<Option<RecordedMove>, StateError> {
        const OP: &str = "read a move";
        let row = sqlx::query(
            "SELECT m.id, t.registry, t.repository, t.tag, m.from_digest, m.to_digest, \
             m.observed_at, m.handled_at FROM tag_move m JOIN tag t ON t.id = m.tag_id \
             WHERE m.id = ?1",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        row.map(|row| recorded(&self.rows(OP), &row)).transpose()
    }

    pub(in crate::state) async fn moves(
        &self,
        unhandled_only: bool,
        limit: usize,
    ) -> Result<Vec<RecordedMove>, StateError> {
        const OP: &str = "list moves";
        let sql = if unhandled_only {
            "SELECT m.id, t.registry, t.repository, t.tag, m.from_digest, m.to_digest, \
             m.observed_at, m.handled_at FROM tag_move m JOIN tag t ON t.id = m.tag_id \
             WHERE m.handled_at IS NULL ORDER BY m.id LIMIT ?1"
        } else {
            "SELECT m.id, t.registry, t.repository, t.tag, m.from_digest, m.to_digest, \
             m.observed_at, m.handled_at FROM tag_move m JOIN tag t ON t.id = m.tag_id \
             ORDER BY m.id DESC LIMIT ?1"
        };
        let found = sqlx::query(sql)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        found.iter().map(|row| recorded(&rows, row)).collect()
    }

    pub(in crate::state) async fn handle_move(
        &self,
        id: MoveId,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        const OP: &str = "mark a move handled";
        sqlx::query("UPDATE tag_move SET handled_at = ?2 WHERE id = ?1 AND handled_at IS NULL")
            .bind(id.0)
            .bind(micros(at))
            .execute(&self.writer)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        Ok(())
    }

    pub(in crate::state) async fn record_move_step(
        &self,
        id: MoveId,
        step: &str,
        detail: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        const OP: &str = "record a move's step";
        sqlx::query("INSERT INTO move_step (move_id, at, step, detail) VALUES (?1, ?2, ?3, ?4)")
            .bind(id.0)
            .bind(micros(at))
            .bind(step)
            .bind(detail)
            .execute(&self.writer)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        Ok(())
    }

    pub(in crate::state) async fn move_steps(
        &self,
        id: MoveId,
    ) -> Result<Vec<MoveStep>, StateError> {
        const OP: &str = "read a move's steps";
        let found = sqlx::query(
            "SELECT at, step, detail FROM move_step WHERE move_id = ?1 ORDER BY at, rowid",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        found
            .iter()
            .map(|row| {
                Ok(MoveStep {
                    at: rows.time(row, "at")?,
                    step: rows.get(row, "step")?,
                    detail: rows.get(row, "detail")?,
                })
            })
            .collect()
    }

    pub(in crate::state) async fn record_event(
        &self,
        source: &str,
        body: &str,
        at: OffsetDateTime,
    ) -> Result<EventId, StateError> {
        const OP: &str = "store a webhook event";
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO event (source, received_at, body, state) VALUES (?1, ?2, ?3, 'new') \
             RETURNING id",
        )
        .bind(source)
        .bind(micros(at))
        .bind(body)
        .fetch_one(&self.writer)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        Ok(EventId(id))
    }

    pub(in crate::state) async fn finish_event(
        &self,
        id: EventId,
        state: EventState,
        note: Option<&str>,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        const OP: &str = "finish a webhook event";
        sqlx::query("UPDATE event SET state = ?2, note = ?3, done_at = ?4 WHERE id = ?1")
            .bind(id.0)
            .bind(state.as_str())
            .bind(note)
            .bind(micros(at))
            .execute(&self.writer)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        Ok(())
    }

    pub(in crate::state) async fn events(
        &self,
        new_only: bool,
        limit: usize,
    ) -> Result<Vec<Event>, StateError> {
        const OP: &str = "list webhook events";
        let sql = if new_only {
            "SELECT id, source, received_at, body, state, note FROM event WHERE state = 'new' \
             ORDER BY id LIMIT ?1"
        } else {
            "SELECT id, source, received_at, body, state, note FROM event ORDER BY id DESC \
             LIMIT ?1"
        };
        let found = sqlx::query(sql)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        found
            .iter()
            .map(|row| {
                Ok(Event {
                    id: EventId(rows.get(row, "id")?),
                    source: rows.get(row, "source")?,
                    received_at: rows.time(row, "received_at")?,
                    body: rows.get(row, "body")?,
                    state: rows.text(row, "state", EventState::parse)?,
                    note: rows.get(row, "note")?,
                })
            })
            .collect()
    }
}

fn recorded(rows: &Rows<'_>, row: &SqliteRow) -> Result<RecordedMove, StateError> {
    Ok(RecordedMove {
        id: MoveId(rows.get(row, "id")?),
        key: TagKey {
            registry: rows.get(row, "registry")?,
            repository: rows.get(row, "repository")?,
            tag: rows.get(row, "tag")?,
        },
        from: rows.digest(row, "from_digest")?,
        to: rows.digest(row, "to_digest")?,
        observed_at: rows.time(row, "observed_at")?,
        handled_at: rows.time_opt(row, "handled_at")?,
    })
}

fn job(rows: &Rows<'_>, row: &SqliteRow) -> Result<Job, StateError> {
    Ok(Job {
        id: JobId(rows.get(row, "id")?),
        kind: rows.text(row, "kind", JobKind::parse)?,
        key: rows.get(row, "key")?,
        payload: rows.get(row, "payload")?,
        state: rows.text(row, "state", JobState::parse)?,
        attempts: rows.unsigned(row, "attempts")?,
        lease_owner: rows.get(row, "lease_owner")?,
        lease_until: rows.time_opt(row, "lease_until")?,
        created_at: rows.time(row, "created_at")?,
        finished_at: rows.time_opt(row, "finished_at")?,
        error: rows.get(row, "error")?,
    })
}
