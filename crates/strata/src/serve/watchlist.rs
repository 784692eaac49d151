//! serve stage, the watch list: every tag the workspace's repositories reference (each
//! once, however many files use it), synced into the database's watches, and the
//! hierarchy drawn for the dashboard. Read at start, on SIGHUP (with `strata.toml` read
//! again) and when a push changed a repository's image files (`rescan` jobs).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result};
use strata_core::occurrence::Role;
use strata_core::reference::Digest;
use time::OffsetDateTime;

use super::Shared;
use crate::config::{self, workspace::Workspace};
use crate::discover::{Filters, discover};
use crate::hierarchy::{self, source};
use crate::registry::TagKey;
use crate::scan::{ScanOptions, scan};

/// Keeps the watch list current until the server stops: now, then on SIGHUP.
pub(super) async fn run(shared: Arc<Shared>, config_file: Option<PathBuf>) {
    if let Err(e) = refresh(&shared).await {
        eprintln!("strata serve: reading the workspace: {e:#}");
    }
    let Ok(mut hangup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        return;
    };
    let mut stopping = shared.stopping.clone();
    loop {
        tokio::select! {
            _ = hangup.recv() => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        match reload(&shared, config_file.as_ref()) {
            Ok(()) => eprintln!("strata serve: configuration reloaded"),
            Err(e) => {
                eprintln!("strata serve: configuration not reloaded, the old one stays: {e:#}");
                continue;
            }
        }
        if let Err(e) = refresh(&shared).await {
            eprintln!("strata serve: reading the workspace: {e:#}");
        }
    }
}

/// Reads `strata.toml` again; an invalid file leaves the running config alone.
fn reload(shared: &Shared, file: Option<&PathBuf>) -> Result<()> {
    let Some(file) = file else {
        return Ok(());
    };
    let fresh = config::load(Some(file), file.parent().unwrap_or(file))?;
    let mut current = shared
        .config
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *current = fresh;
    Ok(())
}

/// Reads the workspace, syncs the watches and redraws the hierarchy; returns how many
/// tags are watched.
pub(super) async fn refresh(shared: &Shared) -> Result<usize> {
    let config = shared.config();
    let workspace = config.workspace.clone();
    let cache = shared.cache_dir.clone();
    let pinned = tokio::task::spawn_blocking(move || referenced(&workspace, cache.as_deref()))
        .await
        .context("reading the workspace")??;
    let now = OffsetDateTime::now_utc();
    // A tag strata never looked up has a first observation: the digest the workspace
    // pins it at. So a move before the first lookup is still seen as a move.
    for (key, digest) in &pinned {
        if let Some(digest) = digest
            && shared.state.current(key).await?.is_none()
        {
            shared.state.record_observation(key, digest, now).await?;
        }
    }
    let keys: BTreeSet<TagKey> = pinned.into_keys().collect();
    let interval = config.serve.interval;
    let spread = RandomState::new();
    let first: Vec<(TagKey, OffsetDateTime)> = keys
        .iter()
        .map(|key| {
            // First checks spread over one interval: no burst at start-up.
            let offset = spread.hash_one(key) % (interval.as_millis().max(1) as u64);
            (key.clone(), now + Duration::from_millis(offset))
        })
        .collect();
    shared.state.sync_watches(&first).await?;
    {
        let mut watched = shared
            .watched
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *watched = keys.iter().cloned().collect::<HashSet<_>>();
    }
    shared.ready.store(true, Ordering::Relaxed);
    redraw(shared).await;
    shared.notify("watches");
    Ok(keys.len())
}

/// Draws the hierarchy again for the dashboard and `/api/graph`.
pub(super) async fn redraw(shared: &Shared) {
    let config = shared.config();
    let workspace = &config.workspace;
    let built = hierarchy::build(
        workspace,
        shared.cache_dir.as_deref(),
        &shared.client,
        Some(&shared.state),
    )
    .await;
    let view = built.ok().and_then(|h| h.graph.view(workspace.follow).ok());
    if let Some(view) = view {
        let mut slot = shared
            .view
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = Some(view);
    }
}

/// Every tag the workspace's repositories pull (not the images they build), once each,
/// with a digest some file pins it at.
fn referenced(
    workspace: &Workspace,
    cache: Option<&std::path::Path>,
) -> Result<BTreeMap<TagKey, Option<Digest>>> {
    let checkouts = source::checkouts(workspace, cache)?;
    let mut options = ScanOptions::default();
    options.dockerfile.platform = Some(workspace.platform.clone());
    let mut keys: BTreeMap<TagKey, Option<Digest>> = BTreeMap::new();
    for checkout in checkouts {
        let (files, _walk_errors) =
            discover(std::slice::from_ref(&checkout.dir), &Filters::default())
                .map_err(|e| anyhow::anyhow!("repository {}: {e}", checkout.name))?;
        for file in scan(&files, &options) {
            for occurrence in &file.extraction.occurrences {
                let reference = &occurrence.reference;
                let digest_only = reference.tag().is_none() && reference.digest().is_some();
                if occurrence.role != Role::Uses || digest_only {
                    continue;
                }
                if let Ok(key) = TagKey::of(&reference.without_digest()) {
                    let pin = keys.entry(key).or_default();
                    if pin.is_none() {
                        *pin = reference.digest().cloned();
                    }
                }
            }
        }
    }
    Ok(keys)
}
