//! record stage: the PostgreSQL backend of the state database, for several `strata serve`
//! processes sharing one database. Connects, migrates, and runs the statements behind
//! [`State`](super::State) with the same meaning as the SQLite backend; it never decides
//! anything from what it stores.
//!
//! SQLite serialises writers (`BEGIN IMMEDIATE`); PostgreSQL runs them side by side, so
//! every guarantee is made explicit here, at `READ COMMITTED`:
//! - a statement that reads then writes one row takes the row first (`SELECT … FOR
//!   UPDATE`: observations of one tag queue behind each other);
//! - claims (a cascade node, a finished run, a lease renewal) are single conditional
//!   `UPDATE`s: a second claimer waits for the first, then re-checks its `WHERE` on the
//!   committed row and finds it taken;
//! - leasing jobs and claiming tag checks pick rows with `FOR UPDATE SKIP LOCKED`, so
//!   workers never wait on each other's picks and never get the same row;
//! - the job dedupe is `INSERT … ON CONFLICT DO NOTHING` on the partial unique index;
//! - what must be decided once for a set of rows that may not exist yet (open or start
//!   the cascade of a root; replace the watch list) holds a transaction-scoped advisory
//!   lock ([`lock`]), released by the commit.
//!
//! Migrations (`migrations/postgres/NNNN_name.sql`, the same versions as SQLite's) run
//! under a session advisory lock, so concurrent first opens apply them once. Timestamps
//! are `timestamptz` (microseconds, like SQLite's integers; readable in `psql` and by any
//! tool pointed at a shared database).

mod cascade;
mod observation;
mod proposal;
mod queue;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{MigrateError, Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Connection, Postgres, Row, SqlSafeStr, Transaction};
use strata_core::reference::Digest;
use time::OffsetDateTime;

use super::StateError;

/// The migrations, oldest first; versions match the SQLite ones. Never edit one that
/// shipped: add the next version.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "cascade delivery",
        include_str!("migrations/postgres/0002_cascade_delivery.sql"),
    ),
    (
        3,
        "serve",
        include_str!("migrations/postgres/0003_serve.sql"),
    ),
    (
        4,
        "cascade driver",
        include_str!("migrations/postgres/0004_cascade_driver.sql"),
    ),
];

/// The schema version this build creates and understands: the newest migration.
pub(super) const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// What migration 1 writes on the `tag` table, so a schema strata did not create is
/// told apart from one it did (SQLite's `application_id` plays this part there).
const MARKER: &str = "strata state database";

/// The first key of strata's advisory locks ("STRA"); the second says what is locked.
const LOCK_CLASS: i32 = 0x5354_5241;
/// Migrating the schema (a session lock around the migrator).
const LOCK_MIGRATE: i32 = 0;
/// Replacing the watch list.
const LOCK_WATCHES: i32 = 1;
/// Opening or starting the cascade of one root: the root's own class, keyed by
/// `hashtext(root)` (a collision only makes two roots wait for each other).
const LOCK_CASCADE_ROOT: i32 = 0x5354_5243;

/// Connections per process: a few job slots, the poller, the dispatcher and the API.
const MAX_CONNECTIONS: u32 = 10;

/// How long a statement may wait for a connection (or the server) before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// One PostgreSQL state database; clones share the connection pool.
#[derive(Debug, Clone)]
pub(super) struct PostgresStore {
    pool: PgPool,
    /// The URL without its password, for messages.
    name: Arc<Path>,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=…`) and
    /// migrates the schema its connections use (the first of their `search_path`).
    pub(super) async fn connect(url: &str) -> Result<PostgresStore, StateError> {
        let options = PgConnectOptions::from_str(url).map_err(|source| StateError::Open {
            path: PathBuf::from(redact(url)),
            source,
        })?;
        let options = options
            .application_name("strata")
            // Our errors carry the operation; statement logs would only be noise.
            .disable_statement_logging();
        let name: Arc<Path> = Arc::from(Path::new(&format!(
            "postgres://{}@{}:{}/{}",
            options.get_username(),
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or(options.get_username()),
        )));
        let open = |source| StateError::Open {
            path: name.to_path_buf(),
            source,
        };
        let mut conn = options.connect().await.map_err(open)?;
        let migrated = migrate(&mut conn, &name).await;
        let _ = conn.close().await;
        migrated?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(open)?;
        Ok(PostgresStore { pool, name })
    }

    /// The database, as a URL without its password.
    pub(super) fn path(&self) -> &Path {
        &self.name
    }

    /// Closes every connection.
    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction (`READ COMMITTED`, the server's default).
    async fn begin(
        &self,
        operation: &'static str,
    ) -> Result<Transaction<'_, Postgres>, StateError> {
        self.pool
            .begin()
            .await
            .map_err(|source| self.query_error(operation, source))
    }

    fn query_error(&self, operation: &'static str, source: sqlx::Error) -> StateError {
        StateError::Query {
            path: self.name.to_path_buf(),
            operation,
            source,
        }
    }

    /// Reads columns of rows for `operation`, naming it in errors.
    fn rows(&self, operation: &'static str) -> Rows<'_> {
        Rows {
            path: &self.name,
            operation,
        }
    }
}

/// Applies missing migrations on `conn` under strata's migration lock, after checking
/// that the schema is strata's (or empty) and not from a newer strata.
async fn migrate(conn: &mut PgConnection, name: &Path) -> Result<(), StateError> {
    let fail = |source| StateError::Open {
        path: name.to_path_buf(),
        source,
    };
    sqlx::query("SELECT pg_advisory_lock($1, $2)")
        .bind(LOCK_CLASS)
        .bind(LOCK_MIGRATE)
        .execute(&mut *conn)
        .await
        .map_err(fail)?;
    let checked = check_and_migrate(conn, name).await;
    // Closing the connection would release the lock too; an error here changes nothing.
    let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
        .bind(LOCK_CLASS)
        .bind(LOCK_MIGRATE)
        .execute(&mut *conn)
        .await;
    checked
}

async fn check_and_migrate(conn: &mut PgConnection, name: &Path) -> Result<(), StateError> {
    let fail = |source| StateError::Open {
        path: name.to_path_buf(),
        source,
    };
    let row = sqlx::query(
        "SELECT \
         (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() \
          AND tablename <> '_sqlx_migrations') AS tables, \
         obj_description(to_regclass('tag'), 'pg_class') AS marker, \
         to_regclass('_sqlx_migrations') IS NOT NULL AS migrated",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(fail)?;
    let tables: i64 = row.try_get("tables").map_err(fail)?;
    let marker: Option<String> = row.try_get("marker").map_err(fail)?;
    let migrated: bool = row.try_get("migrated").map_err(fail)?;
    if tables > 0 && marker.as_deref() != Some(MARKER) {
        return Err(StateError::ForeignSchema {
            path: name.to_path_buf(),
        });
    }
    if migrated {
        let found: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations")
            .fetch_one(&mut *conn)
            .await
            .map_err(fail)?;
        if let Some(found) = found.filter(|found| *found > SCHEMA_VERSION) {
            return Err(StateError::FutureSchema {
                path: name.to_path_buf(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
    }
    let mut migrator = migrator();
    // Our own lock is held: sqlx's (keyed on the database name) would be a second one.
    migrator.set_locking(false);
    migrator
        .run(&mut *conn)
        .await
        .map_err(|source| migrate_error(name, source))
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

fn migrate_error(name: &Path, source: MigrateError) -> StateError {
    StateError::Migrate {
        path: name.to_path_buf(),
        target: SCHEMA_VERSION,
        source,
    }
}

/// `url` with any password taken out, for a message about a URL that does not parse.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.rsplit_once('@') {
            Some((credentials, host)) => {
                let user = credentials.split(':').next().unwrap_or_default();
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_owned(),
        },
        None => "the PostgreSQL URL".to_owned(),
    }
}

/// Takes the advisory lock `(class, key)` until `tx` ends.
async fn lock(tx: &mut Transaction<'_, Postgres>, class: i32, key: i32) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(class)
        .bind(key)
        .execute(&mut **tx)
        .await
        .map(drop)
}

/// A timestamp as stored: truncated to whole microseconds (what `timestamptz` keeps), so
/// values read back are what SQLite's integer microseconds give.
fn micros(at: OffsetDateTime) -> OffsetDateTime {
    let nanos = at.unix_timestamp_nanos();
    OffsetDateTime::from_unix_timestamp_nanos(nanos - nanos.rem_euclid(1000)).unwrap_or(at)
}

/// A count or limit as PostgreSQL's `bigint`.
fn int(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A unique constraint failed (SQLSTATE 23505).
fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|error| error.code())
        .is_some_and(|code| code == "23505")
}

/// Column readers for one operation; invalid values become [`StateError::InvalidValue`].
struct Rows<'a> {
    path: &'a Path,
    operation: &'static str,
}

impl Rows<'_> {
    fn get<'r, T>(&self, row: &'r PgRow, column: &'static str) -> Result<T, StateError>
    where
        T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
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

    fn time(&self, row: &PgRow, column: &'static str) -> Result<OffsetDateTime, StateError> {
        self.get(row, column)
    }

    fn time_opt(
        &self,
        row: &PgRow,
        column: &'static str,
    ) -> Result<Option<OffsetDateTime>, StateError> {
        self.get(row, column)
    }

    fn digest(&self, row: &PgRow, column: &'static str) -> Result<Digest, StateError> {
        let value: String = self.get(row, column)?;
        value.parse().map_err(|_| self.invalid(column, &value))
    }

    fn digest_opt(&self, row: &PgRow, column: &'static str) -> Result<Option<Digest>, StateError> {
        let value: Option<String> = self.get(row, column)?;
        value
            .map(|value| value.parse().map_err(|_| self.invalid(column, &value)))
            .transpose()
    }

    /// A text enumeration, parsed by `parse`.
    fn text<T>(
        &self,
        row: &PgRow,
        column: &'static str,
        parse: fn(&str) -> Option<T>,
    ) -> Result<T, StateError> {
        let value: String = self.get(row, column)?;
        parse(&value).ok_or_else(|| self.invalid(column, &value))
    }

    /// A non-negative count or number (`bigint`).
    fn unsigned<T: TryFrom<i64>>(
        &self,
        row: &PgRow,
        column: &'static str,
    ) -> Result<T, StateError> {
        let value: i64 = self.get(row, column)?;
        T::try_from(value).map_err(|_| self.invalid(column, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_messages_lose_their_password() {
        let cases = [
            ("postgres://u:secret@db:5432/s", "postgres://u@db:5432/s"),
            ("postgresql://u@db/s", "postgresql://u@db/s"),
            ("postgres://db/s", "postgres://db/s"),
            ("postgres://u:p@ss@db/s", "postgres://u@db/s"),
            ("not a url", "the PostgreSQL URL"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact(url), shown, "{url}");
        }
    }

    #[test]
    fn stored_timestamps_are_truncated_to_microseconds() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).ok();
        let stored = at.map(micros).map(OffsetDateTime::unix_timestamp_nanos);
        assert_eq!(stored, Some(1_700_000_000_123_456_000));
        // Before 1970 too: down, like SQLite's `div_euclid`, not towards zero.
        let early = OffsetDateTime::from_unix_timestamp_nanos(-1_500).ok();
        let stored = early.map(micros).map(OffsetDateTime::unix_timestamp_nanos);
        assert_eq!(stored, Some(-2_000));
    }
}
