//! serve stage, the pipeline of a moved tag: what `strata serve` runs for each recorded
//! move — the update of every workspace repository that pins the tag (pull requests or
//! pushed commits, as `[serve] update` says), then the cascade below it — each step added
//! to the move's timeline, and the move marked handled at the end. Every step is
//! idempotent (an open pull request is updated, a pushed pin is not pushed again, a
//! running cascade is resumed), so a job taken over from a dead worker repeats nothing.

use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use strata_core::graph::ImageRef;
use strata_core::reference::Digest;
use time::OffsetDateTime;

use super::Shared;
use crate::config::Config;
use crate::config::serve::UpdateMode;
use crate::forge::OpenOutcome;
use crate::hierarchy::source;
use crate::rebuild::deliver::{Move, commit_pins};
use crate::rebuild::{self, Status};
use crate::scan::ScanOptions;
use crate::selection::host_platform;
use crate::state::{MoveId, NodeState, RunId, RunStatus};
use crate::update::base::{BaseUpdate, propose_base};

/// Runs the pipeline of move `id`, unless it was handled already.
pub(super) async fn run(shared: &Shared, id: MoveId) -> Result<()> {
    let Some(recorded) = shared.state.recorded_move(id).await? else {
        return Ok(());
    };
    if recorded.handled_at.is_some() {
        return Ok(());
    }
    let config = shared.config();
    let root = ImageRef::parse(&recorded.key.to_string()).map_err(|e| anyhow!("{e}"))?;
    let step = |name: &'static str, detail: String| async move {
        let now = OffsetDateTime::now_utc();
        let _ = shared
            .state
            .record_move_step(id, name, Some(&detail), now)
            .await;
        shared.notify("move");
    };
    // The tag moved on since: the newer move (recorded, with its own job) carries this one.
    if let Some(current) = shared.state.current(&recorded.key).await?
        && current.digest != recorded.to
    {
        step(
            "superseded",
            format!(
                "{} moved on to {}; that move carries this one",
                recorded.key, current.digest
            ),
        )
        .await;
        return handled(shared, id).await;
    }
    // A managed image rebuilt by a cascade moves too: that cascade carries its subtree.
    if let Some(run) = carried_by(shared, &root, &recorded.to).await? {
        step(
            "cascade",
            format!("rebuilt by cascade {run}, which goes on below it"),
        )
        .await;
        return handled(shared, id).await;
    }
    if config.serve.update != UpdateMode::Off {
        let lines = update(shared, &config, &root, &recorded.to).await?;
        if !lines.is_empty() {
            step("update", lines.join("; ")).await;
        }
    }
    // An earlier move's pipeline may have met this digest already when its cascade
    // resolved the tag, and finished it: that cascade was this move's.
    if let Some(run) = root_carried(shared, &root, &recorded.to).await? {
        step(
            "cascade",
            format!("done by cascade {run}, which started from this digest"),
        )
        .await;
        return handled(shared, id).await;
    }
    let options = rebuild::Options {
        quiet: true,
        ..rebuild::Options::default()
    };
    let started = Instant::now();
    let ran = rebuild::run_from(
        &root,
        &config.workspace,
        shared.cache_dir.as_deref(),
        &shared.client,
        &shared.state,
        &options,
    )
    .await;
    match ran {
        Ok(None) => {
            step("cascade", "no managed image is built on it".to_owned()).await;
        }
        Ok(Some(report)) => {
            shared
                .metrics
                .cascade_finished(started.elapsed().as_secs_f64());
            let detail = format!(
                "cascade {}: {} published, {} up to date, {} failed, {} skipped",
                report.run,
                report.count(Status::Published),
                report.count(Status::UpToDate),
                report.count(Status::Failed),
                report.count(Status::Skipped)
            );
            step("cascade", detail).await;
        }
        Err(e) => {
            step("cascade-stopped", format!("{e:#}")).await;
            return Err(e);
        }
    }
    super::watchlist::redraw(shared).await;
    handled(shared, id).await
}

/// Marks move `id` handled: its pipeline is over.
async fn handled(shared: &Shared, id: MoveId) -> Result<()> {
    shared
        .state
        .handle_move(id, OffsetDateTime::now_utc())
        .await
        .context("marking the move handled")?;
    shared.notify("move");
    Ok(())
}

/// The cascade `image`'s move to `to` belongs to: a running one that has it as a node
/// (not finished), or one that published it at `to`.
/// A cascade from `root` at digest `to` that succeeded, if any. (A running one is
/// joined by running the cascade: it resumes, so a job taken over from a dead worker
/// carries its cascade on.)
async fn root_carried(shared: &Shared, root: &ImageRef, to: &Digest) -> Result<Option<RunId>> {
    for run in shared.state.recent_cascades(50).await? {
        let same_root = ImageRef::parse(&run.root_image).is_ok_and(|r| r == *root);
        if same_root && run.status == RunStatus::Succeeded && run.new_root_digest == *to {
            return Ok(Some(run.id));
        }
    }
    Ok(None)
}

async fn carried_by(shared: &Shared, image: &ImageRef, to: &Digest) -> Result<Option<RunId>> {
    let name = image.to_string();
    for run in shared.state.recent_cascades(50).await? {
        let nodes = shared.state.cascade_nodes(run.id).await?;
        let Some(node) = nodes.iter().find(|n| n.image == name) else {
            continue;
        };
        let open = run.status == RunStatus::Running
            && matches!(node.state, NodeState::Pending | NodeState::Triggered);
        if open || node.new_digest.as_ref() == Some(to) {
            return Ok(Some(run.id));
        }
    }
    Ok(None)
}

/// `[serve] update`: every workspace repository that pins `base` gets the new digest,
/// proposed or pushed. One line per repository that changed or failed.
async fn update(
    shared: &Shared,
    config: &Config,
    base: &ImageRef,
    to: &Digest,
) -> Result<Vec<String>> {
    let workspace = config.workspace.clone();
    let cache = shared.cache_dir.clone();
    let checkouts =
        tokio::task::spawn_blocking(move || source::checkouts(&workspace, cache.as_deref()))
            .await
            .context("reading the workspace")??;
    let mut scan = ScanOptions::default();
    scan.dockerfile.platform = Some(config.workspace.platform.clone());
    scan.dockerfile.build_platform = Some(host_platform());
    let mut lines = Vec::new();
    for checkout in checkouts {
        let branch = checkout.spec.as_ref().and_then(|s| s.branch.clone());
        let line = match config.serve.update {
            UpdateMode::Off => None,
            UpdateMode::PullRequest => {
                let update = BaseUpdate {
                    dir: &checkout.dir,
                    base,
                    to,
                    forge: config.serve.forge,
                    repository: None,
                    labels: &config.update.labels,
                    auto_merge: None,
                    latest: true,
                    branch: branch.as_deref(),
                    scan: &scan,
                };
                match propose_base(&update, &shared.state, Some(&shared.client)).await {
                    Ok(Some(outcome)) => outcome.pull_request.map(|pull| {
                        if pull.outcome == OpenOutcome::Created {
                            shared.metrics.pull_request_opened();
                        }
                        format!("{}: pull request {}", checkout.name, pull.url)
                    }),
                    Ok(None) => None,
                    // Nothing there pins it: nothing to propose.
                    Err(e) if format!("{e:#}").contains("no file in") => None,
                    Err(e) => Some(format!("{}: {e:#}", checkout.name)),
                }
            }
            UpdateMode::Commit | UpdateMode::Push => {
                let moves = vec![Move {
                    base: base.clone(),
                    to: to.clone(),
                }];
                let message = format!(
                    "Pin {} to {}\n\nstrata serve saw {} move.\n",
                    base.familiar(),
                    to,
                    base.familiar()
                );
                match commit_pins(checkout.dir.clone(), branch, moves, scan.clone(), message).await
                {
                    Ok(Some((commit, branch, true))) => Some(format!(
                        "{}: pushed {} to {branch}",
                        checkout.name,
                        &commit[..commit.len().min(12)]
                    )),
                    Ok(_) => None,
                    Err(e) => Some(format!("{}: {e}", checkout.name)),
                }
            }
        };
        lines.extend(line);
    }
    Ok(lines)
}
