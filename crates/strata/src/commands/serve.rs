//! `strata serve`: the always-on watcher. Loads the workspace's `strata.toml`, opens the
//! shared database and runs until SIGTERM or SIGINT (exit 0), or fails to start (exit 2,
//! naming what is wrong: the config, the database, the address).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use super::exit;
use crate::cli::ServeArgs;
use crate::config::workspace::parse_duration;
use crate::registry::install_crypto_provider;
use crate::serve::{self, Options};
use crate::state::{State, ensure_outside, state_path};
use crate::{config, dirs, resolve};

pub(super) fn run(args: &ServeArgs) -> Result<u8> {
    install_crypto_provider();
    let root = args.workspace.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut config = config::load(args.config.as_deref(), &root)?;
    if config.file.is_none() {
        config.workspace.base_dir = root.clone();
    }
    if let Some(listen) = &args.listen {
        config.serve.listen = listen
            .parse()
            .map_err(|_| anyhow!("--listen {listen:?} is not an address and port"))?;
    }
    let grace = parse_duration(&args.grace).map_err(|e| anyhow!("--grace: {e}"))?;
    let cache = dirs::cache_dir();
    let client = resolve::client(&config.registry, cache.as_ref().map(|d| d.join("registry")))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let state = open(args.database.as_deref(), &config.workspace.base_dir).await?;
        let options = Options {
            config_file: config.file.clone(),
            worker: args.worker.clone().unwrap_or_else(crate::process::name),
            grace,
            cache_dir: cache,
        };
        let ran = serve::run(config, state.clone(), client, options).await;
        state.close().await;
        ran
    })?;
    Ok(exit::OK)
}

/// The database `--database` names: a `postgres://` URL, else an SQLite file.
async fn open(database: Option<&str>, workspace: &Path) -> Result<State> {
    let path = match database {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            return State::connect(url)
                .await
                .with_context(|| "opening the PostgreSQL database".to_owned());
        }
        Some(path) => PathBuf::from(path),
        None => state_path(None)?,
    };
    ensure_outside(&path, workspace)?;
    State::open(&path)
        .await
        .with_context(|| format!("opening the state database {}", path.display()))
}
