//! Opening the state database: it is created with its directory, migrations apply once,
//! reopening keeps data, and databases it cannot use (from a newer strata, damaged,
//! someone else's SQLite file or PostgreSQL tables) are refused with errors naming the
//! file or the URL (never its password). What is not about SQLite files runs on both
//! backends (`state_support`).
#![allow(clippy::unwrap_used)]

mod state_support;

use std::path::Path;

use sqlx::{ConnectOptions, Connection};
use state_support::{Backend, Db};
use strata::registry::TagKey;
use strata::state::{Observation, SCHEMA_VERSION, State, StateError};
use strata_core::reference::Digest;
use strata_testkit::TestPostgres;
use time::OffsetDateTime;

fn digest(fill: char) -> Digest {
    format!("sha256:{}", fill.to_string().repeat(64))
        .parse()
        .unwrap()
}

fn tag() -> TagKey {
    TagKey {
        registry: "docker.io".into(),
        repository: "library/python".into(),
        tag: "3.12".into(),
    }
}

fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000 + seconds).unwrap()
}

/// A raw connection, to look at or tamper with the file behind strata's back.
async fn raw(path: &Path) -> sqlx::SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .connect()
        .await
        .unwrap()
}

async fn applied_migrations(path: &Path) -> Vec<i64> {
    let mut conn = raw(path).await;
    let versions = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    versions
}

/// A raw connection to a PostgreSQL database, behind strata's back.
async fn raw_postgres(url: &str) -> sqlx::PgConnection {
    sqlx::PgConnection::connect(url).await.unwrap()
}

/// The migrations applied to `db` (either backend).
async fn applied(db: &Db) -> Vec<i64> {
    match db.backend {
        Backend::Sqlite => applied_migrations(Path::new(&db.address)).await,
        Backend::Postgres => {
            let mut conn = raw_postgres(&db.address).await;
            let versions =
                sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                    .fetch_all(&mut conn)
                    .await
                    .unwrap();
            conn.close().await.unwrap();
            versions
        }
    }
}

/// Runs `sql` on `db` behind strata's back (either backend).
async fn tamper(db: &Db, sql: &str) {
    match db.backend {
        Backend::Sqlite => {
            let mut conn = raw(Path::new(&db.address)).await;
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = raw_postgres(&db.address).await;
            sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
    }
}

/// Opens the database at `address` on `backend` (a path or a URL).
async fn open(backend: Backend, address: &str) -> Result<State, StateError> {
    match backend {
        Backend::Sqlite => State::open(Path::new(address)).await,
        Backend::Postgres => State::connect(address).await,
    }
}

#[tokio::test]
async fn open_creates_the_file_and_its_directory_and_migrates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/state/state.db");
    let state = State::open(&path).await.unwrap();
    assert_eq!(state.path(), path);
    state.close().await;
    assert!(path.is_file());
    assert_eq!(
        applied_migrations(&path).await,
        (1..=SCHEMA_VERSION).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn reopening_keeps_data_and_applies_nothing_twice() {
    for db in state_support::both().await {
        eprintln!("on {}", db.backend);
        let first = db
            .state
            .record_observation(&tag(), &digest('a'), at(0))
            .await;
        assert_eq!(first.unwrap(), Observation::New);
        db.state.clone().close().await;

        for _ in 0..2 {
            let state = db.reopen().await;
            let current = state.current(&tag()).await.unwrap().unwrap();
            assert_eq!(current.digest, digest('a'));
            state.close().await;
        }
        assert_eq!(applied(&db).await, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_opens_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db").to_string_lossy().into_owned();
    let url = TestPostgres::shared().create_database().unwrap();
    for (backend, address) in [(Backend::Sqlite, path), (Backend::Postgres, url)] {
        eprintln!("on {backend}");
        let (a, b, c) = tokio::join!(
            open(backend, &address),
            open(backend, &address),
            open(backend, &address)
        );
        for state in [a, b, c] {
            state.unwrap().close().await;
        }
        let db = Db {
            backend,
            state: open(backend, &address).await.unwrap(),
            address,
            dir: None,
        };
        assert_eq!(applied(&db).await, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_database_from_a_newer_strata_is_refused() {
    for db in state_support::both().await {
        eprintln!("on {}", db.backend);
        db.state.clone().close().await;
        // A blob literal is spelt differently in each.
        let checksum = match db.backend {
            Backend::Sqlite => "x'00'",
            Backend::Postgres => "'\\x00'::bytea",
        };
        tamper(
            &db,
            &format!(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                 execution_time) VALUES (9999, 'from the future', TRUE, {checksum}, 0)"
            ),
        )
        .await;

        let error = open(db.backend, &db.address).await.unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(
                error,
                StateError::FutureSchema {
                    found: 9999,
                    supported: SCHEMA_VERSION,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(message.contains("newer"), "{message}");
        let named = match db.backend {
            Backend::Sqlite => db.address.clone(),
            // The URL, without its password.
            Backend::Postgres => db.address.replace(":strata-test-password", ""),
        };
        assert!(message.contains(&named), "{message}");
        assert!(!message.contains("password"), "{message}");
    }
}

/// Another application's tables in the schema strata would use: strata adds none of its
/// own among them.
#[tokio::test]
async fn another_applications_postgres_tables_are_refused() {
    let url = TestPostgres::shared().create_database().unwrap();
    let mut conn = raw_postgres(&url).await;
    sqlx::query("CREATE TABLE notes (body text)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let error = State::connect(&url).await.unwrap_err();
    assert!(
        matches!(error, StateError::ForeignSchema { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("postgres://strata@127.0.0.1:"),
        "{message}"
    );
    let mut conn = raw_postgres(&url).await;
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(tables, 1, "nothing was added");
}

/// A server that does not answer, or a password it refuses: the error names the URL
/// without the password.
#[tokio::test]
async fn an_unusable_postgres_url_is_named_without_its_password() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let server = TestPostgres::shared();
    let url = server.create_database().unwrap();
    let wrong = url.replace("strata-test-password", "wrong-secret");
    let nobody = format!("postgres://strata:secret@127.0.0.1:{port}/state");
    for url in [nobody, wrong] {
        let error = State::connect(&url).await.unwrap_err();
        assert!(matches!(error, StateError::Open { .. }), "{error:?}");
        let message = format!("{error:#}");
        assert!(
            message.contains("postgres://strata@127.0.0.1:"),
            "{message}"
        );
        assert!(!message.contains("secret"), "{message}");
    }
}

#[tokio::test]
async fn a_damaged_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(&path, "this is not a database\n".repeat(400)).unwrap();

    let error = State::open(&path).await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, StateError::NotADatabase { .. }),
        "{error:?}"
    );
    assert!(message.contains(&path.display().to_string()), "{message}");
    // The file is left alone for the user to inspect.
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "this is not a database\n".repeat(400)
    );
}

#[tokio::test]
async fn another_applications_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let mut conn = raw(&path).await;
    sqlx::query("CREATE TABLE notes (body TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let error = State::open(&path).await.unwrap_err();
    assert!(
        matches!(error, StateError::ForeignDatabase { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("other.db"), "{error}");
}

#[tokio::test]
async fn an_uncreatable_directory_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();

    let error = State::open(&blocker.join("state.db")).await.unwrap_err();
    assert!(matches!(error, StateError::CreateDir { .. }), "{error:?}");
    assert!(error.to_string().contains("file"), "{error}");
}

/// Schema 2 allows one running cascade per root. A database from before that rule may
/// hold two running cascades of one root (two starts raced): migrating keeps the newest
/// running and marks the older cancelled, and from then on the database itself refuses
/// a second running cascade of a root.
#[tokio::test]
async fn migrating_two_running_cascades_of_one_root_keeps_the_newest() {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let mut conn = raw(&path).await;
    let initial = include_str!("../src/state/migrations/sqlite/0001_initial.sql");
    let migrator = Migrator::with_migrations(vec![Migration::new(
        1,
        "initial".into(),
        MigrationType::Simple,
        initial.into_sql_str(),
        false,
    )]);
    migrator.run(&mut conn).await.unwrap();
    sqlx::query("PRAGMA application_id = 1398035009")
        .execute(&mut conn)
        .await
        .unwrap();
    for (id, root) in [(1, "r/a:1"), (2, "r/a:1"), (3, "r/b:1")] {
        sqlx::query(
            "INSERT INTO cascade_run (id, root_image, old_root_digest, new_root_digest, \
             status, started_at) VALUES (?1, ?2, ?3, ?3, 'running', 0)",
        )
        .bind(id)
        .bind(root)
        .bind(digest('a').as_str())
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    let state = State::open(&path).await.unwrap();
    let running: Vec<(i64, String)> = state
        .running_cascades()
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id.0, r.root_image))
        .collect();
    assert_eq!(running, [(2, "r/a:1".to_owned()), (3, "r/b:1".to_owned())]);
    let older = state
        .cascade_run(strata::state::RunId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(older.status, strata::state::RunStatus::Cancelled);
    assert!(older.finished_at.is_some());
    let again = strata::state::NewCascade {
        root_image: "r/a:1".into(),
        old_root_digest: digest('a'),
        new_root_digest: digest('b'),
        nodes: Vec::new(),
    };
    let err = state.start_cascade(&again, at(1)).await.unwrap_err();
    assert!(matches!(err, StateError::CascadeRunning { .. }), "{err}");
    state.close().await;
}

/// TLS as a managed PostgreSQL service wants it (rustls with aws-lc-rs): `verify-full`
/// with the service's CA connects over TLS; without that CA the certificate is not
/// trusted; `require` against a server without TLS fails instead of going plain.
#[tokio::test]
async fn postgres_over_tls_checks_the_servers_certificate() {
    let server = TestPostgres::start_with_tls().unwrap();
    let url = server.create_database().unwrap();
    let ca = server.ca_file().unwrap();
    let verified = format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        ca.to_string_lossy()
    );
    let state = State::connect(&verified).await.unwrap();
    let first = state.record_observation(&tag(), &digest('a'), at(0)).await;
    assert_eq!(first.unwrap(), Observation::New);
    state.close().await;
    let mut conn = raw_postgres(&verified).await;
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(encrypted, "the connection is not encrypted");
    conn.close().await.unwrap();

    let untrusted = State::connect(&format!("{url}?sslmode=verify-full")).await;
    assert!(
        matches!(untrusted, Err(StateError::Open { .. })),
        "{untrusted:?}"
    );
    let plain = TestPostgres::shared().create_database().unwrap();
    let required = State::connect(&format!("{plain}?sslmode=require")).await;
    assert!(
        matches!(required, Err(StateError::Open { .. })),
        "{required:?}"
    );
}
