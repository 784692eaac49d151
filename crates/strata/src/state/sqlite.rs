//! record stage: the embedded SQLite backend of the state database. Opens (and creates)
//! one database file, migrates it, and runs the statements behind [`State`](super::State);
//! it never decides anything from what it stores.
//!
//! Every write that reads before it writes runs in `BEGIN IMMEDIATE`, so it takes the
//! write lock up front and waits on the busy timeout instead of failing when two writers
//! meet (a deferred transaction upgrading to a write lock cannot wait in WAL mode).
//! Single-statement writes are atomic on their own.

mod cascade;
mod observation;
mod proposal;
mod queue;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, ConnectOptions, Row, SqlSafeStr, Sqlite, Transaction};
use strata_core::reference::Digest;
use time::OffsetDateTime;

use super::StateError;

/// The migrations, oldest first. Never edit one that shipped: add the next version.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "cascade delivery",
        include_str!("migrations/sqlite/0002_cascade_delivery.sql"),
    ),
    (3, "serve", include_str!("migrations/sqlite/0003_serve.sql")),
    (
        4,
        "cascade driver",
        include_str!("migrations/sqlite/0004_cascade_driver.sql"),
    ),
];

/// The schema version this build creates and understands: the newest migration.
pub(super) const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// `PRAGMA application_id` of strata's databases ("STRA"), so `file(1)` can tell them
/// apart and we refuse to add tables to somebody else's database.
const APPLICATION_ID: i64 = 0x5354_5241;

/// How long a statement waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections for reads: WAL lets them proceed while another connection writes.
const MAX_READERS: u32 = 4;

/// One open SQLite state database; clones share the connection pools.
///
/// SQLite takes one writer at a time. Writers of one process queue for the single
/// `writer` connection in order, instead of each taking a connection of their own and
/// meeting at the file lock, where a loser sleeps in the busy handler and retries (tens
/// of milliseconds a time under load). The busy timeout is left for other processes.
#[derive(Debug, Clone)]
pub(super) struct SqliteStore {
    /// Reads.
    pool: SqlitePool,
    /// Every write: transactions and single statements.
    writer: SqlitePool,
    path: Arc<Path>,
}

impl SqliteStore {
    /// Opens `path`, creating it and its directory when missing, and migrates it.
    ///
    /// Switching a new file to WAL mode takes the lock without waiting on the busy
    /// timeout, so when several processes create the same database at once the losers
    /// see SQLITE_BUSY: they try again (for up to the busy timeout) and find it made.
    pub(super) async fn open(path: &Path) -> Result<SqliteStore, StateError> {
        let deadline = tokio::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match Self::open_once(path).await {
                Err(StateError::Open { source, .. })
                    if is_busy(&source) && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                opened => return opened,
            }
        }
    }

    async fn open_once(path: &Path) -> Result<SqliteStore, StateError> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| StateError::CreateDir {
                    dir: dir.to_path_buf(),
                    source,
                })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL is durable in WAL mode except for the last commits on power loss.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // Our errors carry the operation; statement logs would only be noise.
            .disable_statement_logging();
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(|source| open_error(path, source))?;
        let store = SqliteStore {
            // Readers connect once the writer made the file and its WAL.
            pool: SqlitePoolOptions::new()
                .max_connections(MAX_READERS)
                .connect_lazy_with(options),
            writer,
            path: Arc::from(path),
        };
        if let Err(error) = store.migrate().await {
            store.close().await;
            return Err(error);
        }
        Ok(store)
    }

    /// The database file.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection, checkpointing the write-ahead log.
    pub(super) async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// Applies missing migrations in one write transaction, after checking that the file
    /// is ours and not from a newer strata. Concurrent first opens serialise on the lock.
    async fn migrate(&self) -> Result<(), StateError> {
        let path = &*self.path;
        let fail = |source| open_error(path, source);
        let mut tx = self
            .writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(fail)?;
        let application_id: i64 = sqlx::query_scalar("PRAGMA application_id")
            .fetch_one(&mut *tx)
            .await
            .map_err(fail)?;
        let tables: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sqlite_schema WHERE type = 'table'")
                .fetch_one(&mut *tx)
                .await
                .map_err(fail)?;
        if application_id != APPLICATION_ID && (application_id != 0 || tables > 0) {
            return Err(StateError::ForeignDatabase {
                path: path.to_path_buf(),
            });
        }
        if tables > 0 {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(fail)?;
            if let Some(found) = found.filter(|found| *found > SCHEMA_VERSION) {
                return Err(StateError::FutureSchema {
                    path: path.to_path_buf(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
        }
        migrator()
            .run(&mut *tx)
            .await
            .map_err(|source| migrate_error(path, source))?;
        if application_id == 0 {
            // PRAGMA takes no bound parameters; the value is our own constant.
            let set = format!("PRAGMA application_id = {APPLICATION_ID}");
            sqlx::query(AssertSqlSafe(set))
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }

    /// Starts a transaction holding the write lock.
    async fn write(&self, operation: &'static str) -> Result<Transaction<'_, Sqlite>, StateError> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|source| self.query_error(operation, source))
    }

    fn query_error(&self, operation: &'static str, source: sqlx::Error) -> StateError {
        StateError::Query {
            path: self.path.to_path_buf(),
            operation,
            source,
        }
    }

    /// Reads columns of rows for `operation`, naming it in errors.
    fn rows(&self, operation: &'static str) -> Rows<'_> {
        Rows {
            path: &self.path,
            operation,
        }
    }
}

fn migrator() -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// An error while opening: a file that is not a database gets its own variant.
fn open_error(path: &Path, source: sqlx::Error) -> StateError {
    let path = path.to_path_buf();
    if is_not_a_database(&source) {
        StateError::NotADatabase { path, source }
    } else {
        StateError::Open { path, source }
    }
}

fn migrate_error(path: &Path, source: MigrateError) -> StateError {
    match source {
        MigrateError::Execute(source) if is_not_a_database(&source) => open_error(path, source),
        source => StateError::Migrate {
            path: path.to_path_buf(),
            target: SCHEMA_VERSION,
            source,
        },
    }
}

/// SQLITE_BUSY (5) or SQLITE_LOCKED (6), in any extended form.
fn is_busy(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// SQLITE_NOTADB (26) or SQLITE_CORRUPT (11), in any extended form.
fn is_not_a_database(error: &sqlx::Error) -> bool {
    let Some(code) = error.as_database_error().and_then(|error| error.code()) else {
        return false;
    };
    matches!(code.parse::<i64>().map(|code| code & 0xff), Ok(11 | 26))
}

/// A timestamp as stored: microseconds since the Unix epoch.
fn micros(at: OffsetDateTime) -> i64 {
    let micros = at.unix_timestamp_nanos().div_euclid(1000);
    // Every OffsetDateTime fits (i64 microseconds span 292,000 years).
    i64::try_from(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

/// A stored timestamp; `None` when out of `OffsetDateTime`'s range.
fn time_of(micros: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000).ok()
}

/// Column readers for one operation; invalid values become [`StateError::InvalidValue`].
struct Rows<'a> {
    path: &'a Path,
    operation: &'static str,
}

impl Rows<'_> {
    fn get<'r, T>(&self, row: &'r SqliteRow, column: &'static str) -> Result<T, StateError>
    where
        T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
    {
        row.try_get(column).map_err(|source| StateError::Query {
            path: self.path.to_path_buf(),
            operation: self.operation,
            source,
        })
    }

    fn invalid(&self, column: &'static str, value: impl ToString) -> StateError {
        StateError::InvalidValue {
            path: PathBuf::from(self.path),
            operation: self.operation,
            column,
            value: value.to_string(),
        }
    }

    fn time(&self, row: &SqliteRow, column: &'static str) -> Result<OffsetDateTime, StateError> {
        let value: i64 = self.get(row, column)?;
        time_of(value).ok_or_else(|| self.invalid(column, value))
    }

    fn time_opt(
        &self,
        row: &SqliteRow,
        column: &'static str,
    ) -> Result<Option<OffsetDateTime>, StateError> {
        let value: Option<i64> = self.get(row, column)?;
        value
            .map(|value| time_of(value).ok_or_else(|| self.invalid(column, value)))
            .transpose()
    }

    fn digest(&self, row: &SqliteRow, column: &'static str) -> Result<Digest, StateError> {
        let value: String = self.get(row, column)?;
        value.parse().map_err(|_| self.invalid(column, &value))
    }

    fn digest_opt(
        &self,
        row: &SqliteRow,
        column: &'static str,
    ) -> Result<Option<Digest>, StateError> {
        let value: Option<String> = self.get(row, column)?;
        value
            .map(|value| value.parse().map_err(|_| self.invalid(column, &value)))
            .transpose()
    }

    /// A text enumeration, parsed by `parse`.
    fn text<T>(
        &self,
        row: &SqliteRow,
        column: &'static str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<T, StateError> {
        let value: String = self.get(row, column)?;
        parse(&value).ok_or_else(|| self.invalid(column, &value))
    }

    /// A non-negative count or number.
    fn unsigned<T: TryFrom<i64>>(
        &self,
        row: &SqliteRow,
        column: &'static str,
    ) -> Result<T, StateError> {
        let value: i64 = self.get(row, column)?;
        T::try_from(value).map_err(|_| self.invalid(column, value))
    }
}
