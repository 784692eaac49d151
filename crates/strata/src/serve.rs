//! serve stage: `strata serve`, the always-on watcher. It keeps every tag the workspace's
//! repositories reference under watch — one lookup per tag per interval, organisation
//! wide, whoever references it — takes webhooks as hints (confirmed against the registry
//! before anything acts), and runs the pipeline when a tag moves: the update and the
//! cascade. Work goes through a queue in the state database, so several processes on one
//! database share it and a killed one loses nothing.
//!
//! - `watchlist`: which tags to watch, read from the workspace; synced into the database.
//! - `poll`: claims due tags and looks them up; a move is recorded (durably) as it is seen.
//! - `dispatch`: turns stored webhook events and unhandled moves into jobs.
//! - `worker`: leases jobs and runs them (`pipeline` for moves), renewing the lease.
//! - `hooks`, `api`, `dashboard`, `metrics`: the HTTP side (`app::router`).
//!
//! Lifecycle: SIGTERM or SIGINT stops taking work, lets running jobs finish within the
//! grace period and hands the rest back to the queue; SIGHUP reloads `strata.toml`.

mod api;
mod app;
mod dashboard;
mod dispatch;
mod hooks;
mod metrics;
mod pipeline;
mod poll;
mod watchlist;
mod worker;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, Result};
use strata_core::graph::View;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinSet;

pub use app::router;
pub use metrics::Metrics;

use crate::config::Config;
use crate::registry::{RegistryClient, TagKey};
use crate::state::State;

/// How a server runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The config file, read again on SIGHUP (`None`: the defaults).
    pub config_file: Option<PathBuf>,
    /// This process's name in job leases (default: host name and process id).
    pub worker: String,
    /// How long running jobs may go on after SIGTERM before they are handed back.
    pub grace: Duration,
    /// Where registry content is cached.
    pub cache_dir: Option<PathBuf>,
}

/// What every part of a running server shares.
#[derive(Debug)]
pub struct Shared {
    pub config: RwLock<Config>,
    pub state: State,
    pub client: RegistryClient,
    pub metrics: Metrics,
    /// This process's name in leases.
    pub worker: String,
    pub cache_dir: Option<PathBuf>,
    /// The hierarchy as last drawn (the dashboard and `/api/graph` read it).
    pub view: RwLock<Option<View>>,
    /// The tags watched, as this process last read the workspace.
    pub watched: RwLock<HashSet<TagKey>>,
    /// Set once the watch list was synced: `/readyz`.
    pub ready: AtomicBool,
    /// Wakes the dispatcher (a webhook event was stored).
    pub wake: Notify,
    /// Tells live dashboards something changed.
    pub changed: broadcast::Sender<String>,
    /// `true` once the server is stopping.
    pub stopping: watch::Receiver<bool>,
}

impl Shared {
    /// A copy of the current config.
    pub fn config(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Whether the server is stopping.
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    /// Tells live dashboards about `what`.
    pub fn notify(&self, what: &str) {
        let _ = self.changed.send(what.to_owned());
    }
}

/// Runs the server until SIGTERM or SIGINT: binds the HTTP listener, then the watch
/// list, poller, dispatcher and workers.
pub async fn run(
    config: Config,
    state: State,
    client: RegistryClient,
    options: Options,
) -> Result<()> {
    let listen = config.serve.listen;
    let workers = config.serve.workers;
    let (stop, stopping) = watch::channel(false);
    let shared = Arc::new(Shared {
        config: RwLock::new(config),
        state,
        client,
        metrics: Metrics::new(),
        worker: options.worker.clone(),
        cache_dir: options.cache_dir.clone(),
        view: RwLock::new(None),
        watched: RwLock::new(HashSet::new()),
        ready: AtomicBool::new(false),
        wake: Notify::new(),
        changed: broadcast::channel(64).0,
        stopping,
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let address = listener.local_addr().unwrap_or(listen);
    eprintln!(
        "strata serve: listening on http://{address} as {}",
        options.worker
    );
    let mut tasks = JoinSet::new();
    let app = router(Arc::clone(&shared));
    let mut http_stopping = shared.stopping.clone();
    tasks.spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stopping.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = served {
            eprintln!("strata serve: HTTP server: {e}");
        }
    });
    tasks.spawn(watchlist::run(
        Arc::clone(&shared),
        options.config_file.clone(),
    ));
    tasks.spawn(poll::run(Arc::clone(&shared)));
    tasks.spawn(dispatch::run(Arc::clone(&shared)));
    for slot in 0..workers {
        tasks.spawn(worker::run(Arc::clone(&shared), slot));
    }
    crate::shutdown::requested().await;
    eprintln!(
        "strata serve: stopping; running jobs have {:?} to finish",
        options.grace
    );
    let _ = stop.send(true);
    shared.wake.notify_waiters();
    let drained = tokio::time::timeout(options.grace, async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tasks.abort_all();
    }
    // Whatever is still leased to us goes back to the queue for another worker.
    let handed = shared.state.release_jobs(&shared.worker).await.unwrap_or(0);
    if handed > 0 {
        eprintln!("strata serve: handed {handed} job(s) back to the queue");
    }
    shared.ready.store(false, Ordering::Relaxed);
    Ok(())
}
