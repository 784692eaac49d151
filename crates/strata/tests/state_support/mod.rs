//! Shared by the `state_*` tests: every state database test runs on both backends — an
//! SQLite file in a temporary directory and a fresh database on a PostgreSQL server
//! started for the test binary ([`strata_testkit::TestPostgres::shared`]).

#![allow(dead_code, unreachable_pub)]

use std::fmt;

use strata::state::State;
use strata_testkit::TestPostgres;
use tempfile::TempDir;

/// Which backend a [`Db`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// A fresh, empty state database and how to open it again.
pub struct Db {
    pub backend: Backend,
    pub state: State,
    /// The SQLite file, or the PostgreSQL URL.
    pub address: String,
    pub dir: Option<TempDir>,
}

impl Db {
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let state = State::open(&path).await.unwrap();
        Db {
            backend: Backend::Sqlite,
            state,
            address: path.to_string_lossy().into_owned(),
            dir: Some(dir),
        }
    }

    pub async fn postgres() -> Db {
        let url = TestPostgres::shared().create_database().unwrap();
        let state = State::connect(&url).await.unwrap();
        Db {
            backend: Backend::Postgres,
            state,
            address: url,
            dir: None,
        }
    }

    /// Another handle on the same database with its own connections: another process,
    /// or the same one after a restart.
    pub async fn reopen(&self) -> State {
        match self.backend {
            Backend::Sqlite => State::open(std::path::Path::new(&self.address))
                .await
                .unwrap(),
            Backend::Postgres => State::connect(&self.address).await.unwrap(),
        }
    }
}

/// A fresh database on each backend: run the test's body on each.
pub async fn both() -> [Db; 2] {
    [Db::sqlite().await, Db::postgres().await]
}
