//! record stage: cascade runs in SQLite (tables `cascade_run`, `cascade_node`). Records
//! and guards state transitions; never triggers a build.

use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};
use strata_core::reference::Digest;
use time::OffsetDateTime;

use super::{Rows, SqliteStore, micros};
use crate::state::StateError;
use crate::state::cascade::{
    CascadeNode, CascadeRun, Drive, NewCascade, NodeState, OpenedCascade, PinDelivery, RunId,
    RunOutcome, RunStatus,
};

macro_rules! run_columns {
    () => {
        "id, root_image, old_root_digest, new_root_digest, status, started_at, finished_at"
    };
}

macro_rules! node_columns {
    () => {
        "run_id, image, level, state, attempts, triggered_at, finished_at, updated_at, \
         message, new_digest, pin_commit, pin_ref, pin_pull_request"
    };
}

/// `pending -> triggered`, only while the run is running. One statement, so two
/// claimers cannot both see `pending`: SQLite serialises writers and the second finds
/// the row already `triggered`.
const CLAIM: &str = "UPDATE cascade_node SET state = 'triggered', attempts = attempts + 1, \
     triggered_at = ?3, updated_at = ?3 \
     WHERE run_id = ?1 AND image = ?2 AND state = 'pending' \
     AND EXISTS (SELECT 1 FROM cascade_run WHERE id = ?1 AND status = 'running')";

impl SqliteStore {
    pub(in crate::state) async fn start_cascade(
        &self,
        cascade: &NewCascade,
        at: OffsetDateTime,
    ) -> Result<CascadeRun, StateError> {
        const OP: &str = "start a cascade";
        let mut tx = self.write(OP).await?;
        let run = self.insert_cascade(&mut tx, cascade, at).await?;
        tx.commit()
            .await
            .map_err(|source| self.query_error(OP, source))?;
        Ok(run)
    }

    pub(in crate::state) async fn open_cascade(
        &self,
        cascade: &NewCascade,
        at: OffsetDateTime,
    ) -> Result<OpenedCascade, StateError> {
        const OP: &str = "open a cascade";
        let fail = |source| self.query_error(OP, source);
        // The write lock first: a second process opening the same cascade waits here and
        // then finds this one's run.
        let mut tx = self.write(OP).await?;
        let running = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM cascade_run WHERE status = 'running' AND root_image = ?1"
        ))
        .bind(&cascade.root_image)
        .fetch_optional(&mut *tx)
        .await
        .map_err(fail)?;
        let running = running
            .map(|row| cascade_run(&self.rows(OP), &row))
            .transpose()?;
        let mut cancelled = Vec::new();
        if let Some(run) = running {
            if run.new_root_digest == cascade.new_root_digest {
                tx.commit().await.map_err(fail)?;
                return Ok(OpenedCascade {
                    run,
                    resumed: true,
                    cancelled,
                });
            }
            sqlx::query(
                "UPDATE cascade_run SET status = 'cancelled', finished_at = ?2 \
                 WHERE id = ?1 AND status = 'running'",
            )
            .bind(run.id.0)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
            cancelled.push(run.id);
        }
        let run = self.insert_cascade(&mut tx, cascade, at).await?;
        tx.commit().await.map_err(fail)?;
        Ok(OpenedCascade {
            run,
            resumed: false,
            cancelled,
        })
    }

    /// Inserts a running cascade and its pending nodes inside `tx`.
    async fn insert_cascade(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        cascade: &NewCascade,
        at: OffsetDateTime,
    ) -> Result<CascadeRun, StateError> {
        const OP: &str = "start a cascade";
        let fail = |source| self.query_error(OP, source);
        let row = sqlx::query(concat!(
            "INSERT INTO cascade_run (root_image, old_root_digest, new_root_digest, status, \
             started_at) VALUES (?1, ?2, ?3, 'running', ?4) RETURNING ",
            run_columns!()
        ))
        .bind(&cascade.root_image)
        .bind(cascade.old_root_digest.as_str())
        .bind(cascade.new_root_digest.as_str())
        .bind(micros(at))
        .fetch_one(&mut **tx)
        .await
        .map_err(|source| {
            if is_unique_violation(&source) {
                StateError::CascadeRunning {
                    path: self.path.to_path_buf(),
                    root: cascade.root_image.clone(),
                }
            } else {
                self.query_error(OP, source)
            }
        })?;
        let run = cascade_run(&self.rows(OP), &row)?;
        for node in &cascade.nodes {
            sqlx::query(
                "INSERT INTO cascade_node (run_id, image, level, state, updated_at) \
                 VALUES (?1, ?2, ?3, 'pending', ?4)",
            )
            .bind(run.id.0)
            .bind(&node.image)
            .bind(i64::from(node.level))
            .bind(micros(at))
            .execute(&mut **tx)
            .await
            .map_err(fail)?;
        }
        Ok(run)
    }

    pub(in crate::state) async fn record_delivery(
        &self,
        run: RunId,
        image: &str,
        delivery: &PinDelivery,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        const OP: &str = "record a cascade node's pins";
        let done = sqlx::query(
            "UPDATE cascade_node SET pin_commit = coalesce(?3, pin_commit), \
             pin_ref = coalesce(?4, pin_ref), \
             pin_pull_request = coalesce(?5, pin_pull_request), updated_at = ?6 \
             WHERE run_id = ?1 AND image = ?2 AND state IN ('pending', 'triggered')",
        )
        .bind(run.0)
        .bind(image)
        .bind(delivery.commit.as_deref())
        .bind(delivery.git_ref.as_deref())
        .bind(delivery.pull_request.as_deref())
        .bind(micros(at))
        .execute(&self.writer)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let from = self.node_state(OP, run, image).await?;
        Err(StateError::InvalidTransition {
            path: self.path.to_path_buf(),
            run,
            image: image.to_owned(),
            from,
            to: NodeState::Triggered,
        })
    }

    pub(in crate::state) async fn cascade_run(
        &self,
        run: RunId,
    ) -> Result<Option<CascadeRun>, StateError> {
        const OP: &str = "read a cascade run";
        let row = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM cascade_run WHERE id = ?1"
        ))
        .bind(run.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        row.map(|row| cascade_run(&self.rows(OP), &row)).transpose()
    }

    pub(in crate::state) async fn running_cascades(&self) -> Result<Vec<CascadeRun>, StateError> {
        const OP: &str = "list running cascades";
        let found = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM cascade_run WHERE status = 'running' ORDER BY started_at, id"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        found.iter().map(|row| cascade_run(&rows, row)).collect()
    }

    pub(in crate::state) async fn recent_cascades(
        &self,
        limit: usize,
    ) -> Result<Vec<CascadeRun>, StateError> {
        const OP: &str = "list recent cascades";
        let found = sqlx::query(concat!(
            "SELECT ",
            run_columns!(),
            " FROM cascade_run ORDER BY id DESC LIMIT ?1"
        ))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        found.iter().map(|row| cascade_run(&rows, row)).collect()
    }

    pub(in crate::state) async fn cascade_nodes(
        &self,
        run: RunId,
    ) -> Result<Vec<CascadeNode>, StateError> {
        const OP: &str = "read a cascade's nodes";
        let found = sqlx::query(concat!(
            "SELECT ",
            node_columns!(),
            " FROM cascade_node WHERE run_id = ?1 ORDER BY level, image"
        ))
        .bind(run.0)
        .fetch_all(&self.pool)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        let rows = self.rows(OP);
        found.iter().map(|row| cascade_node(&rows, row)).collect()
    }

    pub(in crate::state) async fn claim_node(
        &self,
        run: RunId,
        image: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StateError> {
        self.try_move("claim a cascade node", CLAIM, run, image, at)
            .await
    }

    pub(in crate::state) async fn publish_node(
        &self,
        run: RunId,
        image: &str,
        digest: &Digest,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        let sql = "UPDATE cascade_node SET state = 'published', new_digest = ?3, \
             finished_at = ?4, updated_at = ?4 \
             WHERE run_id = ?1 AND image = ?2 AND state = 'triggered'";
        let query = sqlx::query(sql)
            .bind(run.0)
            .bind(image.to_owned())
            .bind(digest.as_str())
            .bind(micros(at));
        self.transition(
            "publish a cascade node",
            run,
            image,
            NodeState::Published,
            query,
        )
        .await
    }

    pub(in crate::state) async fn fail_node(
        &self,
        run: RunId,
        image: &str,
        message: &str,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        let sql = "UPDATE cascade_node SET state = 'failed', message = ?3, \
             finished_at = ?4, updated_at = ?4 \
             WHERE run_id = ?1 AND image = ?2 AND state IN ('pending', 'triggered')";
        let query = sqlx::query(sql)
            .bind(run.0)
            .bind(image.to_owned())
            .bind(message.to_owned())
            .bind(micros(at));
        self.transition("fail a cascade node", run, image, NodeState::Failed, query)
            .await
    }

    pub(in crate::state) async fn skip_node(
        &self,
        run: RunId,
        image: &str,
        reason: &str,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        let sql = "UPDATE cascade_node SET state = 'skipped', message = ?3, \
             finished_at = ?4, updated_at = ?4 \
             WHERE run_id = ?1 AND image = ?2 AND state = 'pending'";
        let query = sqlx::query(sql)
            .bind(run.0)
            .bind(image.to_owned())
            .bind(reason.to_owned())
            .bind(micros(at));
        self.transition("skip a cascade node", run, image, NodeState::Skipped, query)
            .await
    }

    pub(in crate::state) async fn retry_node(
        &self,
        run: RunId,
        image: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StateError> {
        const RETRY: &str = "UPDATE cascade_node SET state = 'pending', finished_at = NULL, updated_at = ?3 \
             WHERE run_id = ?1 AND image = ?2 AND state = 'failed'";
        self.try_move("retry a cascade node", RETRY, run, image, at)
            .await
    }

    pub(in crate::state) async fn drive_cascade(
        &self,
        run: RunId,
        driver: &str,
        gone: Option<&str>,
        until: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<Drive, StateError> {
        const OP: &str = "take the drive of a cascade";
        let fail = |source| self.query_error(OP, source);
        // One conditional update: of two processes asking at once, the second re-reads
        // the row the first wrote and finds it driven.
        let taken = sqlx::query(
            "UPDATE cascade_run SET driver = ?2, driver_until = ?3 \
             WHERE id = ?1 AND status = 'running' AND (driver IS NULL OR driver = ?2 \
             OR driver_until IS NULL OR driver_until < ?4 OR driver = ?5)",
        )
        .bind(run.0)
        .bind(driver)
        .bind(micros(until))
        .bind(micros(at))
        .bind(gone)
        .execute(&self.writer)
        .await
        .map_err(fail)?;
        if taken.rows_affected() == 1 {
            return Ok(Drive::Mine);
        }
        let row = sqlx::query("SELECT status, driver, driver_until FROM cascade_run WHERE id = ?1")
            .bind(run.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(fail)?;
        let Some(row) = row else {
            return Err(StateError::UnknownRun {
                path: self.path.to_path_buf(),
                run,
            });
        };
        let rows = self.rows(OP);
        let status = rows.text(&row, "status", RunStatus::parse)?;
        if status != RunStatus::Running {
            return Ok(Drive::Over(status));
        }
        let driver: Option<String> = rows.get(&row, "driver")?;
        let until = rows.time_opt(&row, "driver_until")?.unwrap_or(at);
        Ok(Drive::Theirs {
            driver: driver.unwrap_or_default(),
            until,
        })
    }

    pub(in crate::state) async fn release_cascade(
        &self,
        run: RunId,
        driver: &str,
    ) -> Result<(), StateError> {
        const OP: &str = "release the drive of a cascade";
        sqlx::query(
            "UPDATE cascade_run SET driver = NULL, driver_until = NULL \
             WHERE id = ?1 AND driver = ?2",
        )
        .bind(run.0)
        .bind(driver)
        .execute(&self.writer)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        Ok(())
    }

    pub(in crate::state) async fn finish_cascade(
        &self,
        run: RunId,
        outcome: RunOutcome,
        at: OffsetDateTime,
    ) -> Result<(), StateError> {
        const OP: &str = "finish a cascade";
        let done = sqlx::query(
            "UPDATE cascade_run SET status = ?2, finished_at = ?3 \
             WHERE id = ?1 AND status = 'running'",
        )
        .bind(run.0)
        .bind(outcome.as_str())
        .bind(micros(at))
        .execute(&self.writer)
        .await
        .map_err(|source| self.query_error(OP, source))?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let path = self.path.to_path_buf();
        match self.cascade_run(run).await? {
            None => Err(StateError::UnknownRun { path, run }),
            // Finishing twice the same way is a rerun after a crash: fine.
            Some(found) if found.status == RunStatus::from(outcome) => Ok(()),
            Some(found) => Err(StateError::RunFinished {
                path,
                run,
                status: found.status,
            }),
        }
    }

    /// Runs `sql` (bound to run, image, time), a move that may rightly not apply: true
    /// when it moved the node, false when the node is in another state (someone else
    /// claimed it, it did not fail), `UnknownNode` when there is no such node.
    async fn try_move(
        &self,
        operation: &'static str,
        sql: &'static str,
        run: RunId,
        image: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StateError> {
        let done = sqlx::query(sql)
            .bind(run.0)
            .bind(image)
            .bind(micros(at))
            .execute(&self.writer)
            .await
            .map_err(|source| self.query_error(operation, source))?;
        if done.rows_affected() == 1 {
            return Ok(true);
        }
        self.node_state(operation, run, image).await.map(|_| false)
    }

    /// Runs `query`, which moves node `image` of `run` to `to`. When no row changed,
    /// a node already `to` is a no-op (a rerun after a crash); any other state is an
    /// error naming it.
    async fn transition(
        &self,
        operation: &'static str,
        run: RunId,
        image: &str,
        to: NodeState,
        query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    ) -> Result<(), StateError> {
        let done = query
            .execute(&self.writer)
            .await
            .map_err(|source| self.query_error(operation, source))?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        match self.node_state(operation, run, image).await? {
            from if from == to => Ok(()),
            from => Err(StateError::InvalidTransition {
                path: self.path.to_path_buf(),
                run,
                image: image.to_owned(),
                from,
                to,
            }),
        }
    }

    /// A node's state; `UnknownNode` when the run has no such node.
    async fn node_state(
        &self,
        operation: &'static str,
        run: RunId,
        image: &str,
    ) -> Result<NodeState, StateError> {
        let row = sqlx::query("SELECT state FROM cascade_node WHERE run_id = ?1 AND image = ?2")
            .bind(run.0)
            .bind(image)
            .fetch_optional(&self.pool)
            .await
            .map_err(|source| self.query_error(operation, source))?;
        match row {
            Some(row) => self.rows(operation).text(&row, "state", NodeState::parse),
            None => Err(StateError::UnknownNode {
                path: self.path.to_path_buf(),
                run,
                image: image.to_owned(),
            }),
        }
    }
}

fn cascade_run(rows: &Rows<'_>, row: &SqliteRow) -> Result<CascadeRun, StateError> {
    Ok(CascadeRun {
        id: RunId(rows.get(row, "id")?),
        root_image: rows.get(row, "root_image")?,
        old_root_digest: rows.digest(row, "old_root_digest")?,
        new_root_digest: rows.digest(row, "new_root_digest")?,
        status: rows.text(row, "status", RunStatus::parse)?,
        started_at: rows.time(row, "started_at")?,
        finished_at: rows.time_opt(row, "finished_at")?,
    })
}

fn cascade_node(rows: &Rows<'_>, row: &SqliteRow) -> Result<CascadeNode, StateError> {
    Ok(CascadeNode {
        run: RunId(rows.get(row, "run_id")?),
        image: rows.get(row, "image")?,
        level: rows.unsigned(row, "level")?,
        state: rows.text(row, "state", NodeState::parse)?,
        attempts: rows.unsigned(row, "attempts")?,
        triggered_at: rows.time_opt(row, "triggered_at")?,
        finished_at: rows.time_opt(row, "finished_at")?,
        updated_at: rows.time(row, "updated_at")?,
        message: rows.get(row, "message")?,
        new_digest: rows.digest_opt(row, "new_digest")?,
        delivery: PinDelivery {
            commit: rows.get(row, "pin_commit")?,
            git_ref: rows.get(row, "pin_ref")?,
            pull_request: rows.get(row, "pin_pull_request")?,
        },
    })
}

/// A UNIQUE constraint failed (SQLITE_CONSTRAINT_UNIQUE, 2067).
fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| code == "2067")
}
