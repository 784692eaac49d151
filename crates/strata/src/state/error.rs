//! record stage: the state database's error type. Every variant names the database file
//! and, for failed statements, the operation, so a message read on its own says what
//! failed and where. Nothing here performs I/O.

use std::io;
use std::path::PathBuf;

use super::cascade::{NodeState, RunId, RunStatus};

/// Why opening or using the state database failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// No `--state`, `STRATA_STATE`, `STRATA_STATE_DIR`, `XDG_STATE_HOME` or `HOME` to
    /// place the database.
    #[error(
        "cannot choose a place for the state database: pass --state, or set STRATA_STATE, STRATA_STATE_DIR, XDG_STATE_HOME or HOME"
    )]
    NoLocation,
    /// The database would live inside the repository being scanned (and could end up
    /// committed with it).
    #[error(
        "the state database {} is inside the repository {}; put it elsewhere with --state or STRATA_STATE",
        path.display(),
        root.display()
    )]
    InsideRepository {
        /// The database file.
        path: PathBuf,
        /// The repository root.
        root: PathBuf,
    },
    /// The database's directory could not be created.
    #[error("cannot create the directory {} for the state database", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The database could not be opened (permissions, locked for too long, ...).
    #[error("cannot open the state database {}", path.display())]
    Open {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// The file exists but is not an SQLite database, or is damaged.
    #[error(
        "{} is not a usable SQLite database (damaged, or another kind of file); move it aside and strata starts a fresh one",
        path.display()
    )]
    NotADatabase {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: sqlx::Error,
    },
    /// The file is an SQLite database, but one strata did not create.
    #[error(
        "{} is an SQLite database that strata did not create; refusing to add tables to it",
        path.display()
    )]
    ForeignDatabase {
        /// The database file.
        path: PathBuf,
    },
    /// The PostgreSQL schema strata would use holds tables strata did not create.
    #[error(
        "{} holds tables that strata did not create; refusing to add its own among them (give strata a database, or a schema through the role's search_path, of its own)",
        path.display()
    )]
    ForeignSchema {
        /// The database, as a URL without its password.
        path: PathBuf,
    },
    /// A newer strata migrated the database past what this build knows.
    #[error(
        "the state database {} has schema version {found}, newer than version {supported} that this strata understands; upgrade strata or use another state file",
        path.display()
    )]
    FutureSchema {
        /// The database file.
        path: PathBuf,
        /// The newest migration applied to the file.
        found: i64,
        /// The newest migration this build carries.
        supported: i64,
    },
    /// A migration failed, or an applied one differs from the one this build carries.
    #[error("cannot migrate the state database {} to schema version {target}", path.display())]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// The schema version being migrated to.
        target: i64,
        /// The underlying error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed.
    #[error("state database {}: cannot {operation}", path.display())]
    Query {
        /// The database file.
        path: PathBuf,
        /// What was being done, e.g. `record an observation`.
        operation: &'static str,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// A stored value does not parse (a hand-edited row, or a bug).
    #[error(
        "state database {}: cannot {operation}: column {column} holds an invalid value {value:?}",
        path.display()
    )]
    InvalidValue {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        operation: &'static str,
        /// The column read.
        column: &'static str,
        /// The stored value.
        value: String,
    },
    /// No proposal is recorded for this branch.
    #[error("state database {}: no proposal for branch {branch} of {repository}", path.display())]
    UnknownProposal {
        /// The database file.
        path: PathBuf,
        /// The repository.
        repository: String,
        /// The branch.
        branch: String,
    },
    /// No cascade run has this id.
    #[error("state database {}: no cascade run {run}", path.display())]
    UnknownRun {
        /// The database file.
        path: PathBuf,
        /// The run asked for.
        run: RunId,
    },
    /// The cascade run has no node for this image.
    #[error("state database {}: cascade run {run} has no node {image}", path.display())]
    UnknownNode {
        /// The database file.
        path: PathBuf,
        /// The run.
        run: RunId,
        /// The image asked for.
        image: String,
    },
    /// The node is in a state the requested change cannot start from.
    #[error(
        "state database {}: node {image} of cascade run {run} is {from}, it cannot become {to}",
        path.display()
    )]
    InvalidTransition {
        /// The database file.
        path: PathBuf,
        /// The run.
        run: RunId,
        /// The node's image.
        image: String,
        /// Its current state.
        from: NodeState,
        /// The state asked for.
        to: NodeState,
    },
    /// The database cannot be used by this build.
    #[error("unsupported state database: {detail}")]
    Unsupported {
        /// What is missing.
        detail: String,
    },
    /// The root already has a running cascade (one per root).
    #[error(
        "state database {}: {root} already has a running cascade; resume it or let a new \
         start supersede it",
        path.display()
    )]
    CascadeRunning {
        /// The database file.
        path: PathBuf,
        /// The root image.
        root: String,
    },
    /// The run already finished with another status.
    #[error("state database {}: cascade run {run} already finished as {status}", path.display())]
    RunFinished {
        /// The database file.
        path: PathBuf,
        /// The run.
        run: RunId,
        /// How it finished.
        status: RunStatus,
    },
}
