//! act stage, cascades: starts or resumes the rebuild cascade below one root image and
//! reports it. One running cascade per root: a run for the root's current digest is
//! resumed where it stopped; runs for an older digest are cancelled (the new run covers
//! them). [`run_from`] is the entry point for `update` when a managed base moved.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use strata_core::graph::{EdgeFilter, ImageRef, PlanError};
use time::OffsetDateTime;

use super::deliver::Deliverer;
use super::drive::{self, Took};
use super::report::{NodeReport, Report, Status};
use super::runner::{Inputs, Runner, Slot, blank};
use super::trigger;
use crate::config::workspace::{Trigger, Workspace};
use crate::hierarchy::published::{self, Published};
use crate::hierarchy::{self, Hierarchy};
use crate::progress::Progress;
use crate::registry::RegistryClient;
use crate::state::{
    CascadeRun, NewCascade, NewNode, NodeState, OpenedCascade, RunOutcome, RunStatus, State,
};

/// Message prefix of a node skipped because it was already on its new base.
pub(super) const UP_TO_DATE: &str = "already built on";

/// Run-time choices beyond `[workspace.cascade]`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// No progress lines on stderr.
    pub quiet: bool,
    /// Overrides `workspace.cascade.parallel`.
    pub parallel: Option<usize>,
    /// Overrides `workspace.cascade.timeout`.
    pub timeout: Option<Duration>,
}

/// Rebuilds everything below `root` in `workspace` onto `root`'s current digest: builds
/// the hierarchy, then [`run`]s the cascade. `Ok(None)` when `root` is not a base of any
/// managed image (nothing to do). This is what `update` calls after a managed base moved.
pub async fn run_from(
    root: &ImageRef,
    workspace: &Workspace,
    cache_dir: Option<&Path>,
    client: &RegistryClient,
    state: &State,
    options: &Options,
) -> Result<Option<Report>> {
    let hierarchy = hierarchy::build(workspace, cache_dir, client, Some(state)).await?;
    match hierarchy.graph.downstream(root, workspace.follow) {
        Ok(plan) if plan.is_empty() => return Ok(None),
        Err(PlanError::UnknownImage { .. }) => return Ok(None),
        _ => {}
    }
    run(&hierarchy, root, workspace, client, state, options)
        .await
        .map(Some)
}

/// Runs (or resumes) the cascade below `root` over an already built hierarchy.
pub async fn run(
    hierarchy: &Hierarchy,
    root: &ImageRef,
    workspace: &Workspace,
    client: &RegistryClient,
    state: &State,
    options: &Options,
) -> Result<Report> {
    let started = std::time::Instant::now();
    let plan = hierarchy.graph.downstream(root, workspace.follow)?;
    let root_now = published::inspect(client, root, &workspace.platform).await?;
    let mut settings = workspace.cascade.clone();
    settings.parallel = options.parallel.unwrap_or(settings.parallel).max(1);
    settings.timeout = options.timeout.unwrap_or(settings.timeout);
    let opened = open(hierarchy, root, &plan, &root_now, workspace.follow, state).await?;
    let (run, resumed) = (opened.run, opened.resumed);
    let runner = Runner {
        client: client.clone(),
        state: state.clone(),
        settings,
        platform: workspace.platform.clone(),
        triggers: trigger::Context::new().map_err(anyhow::Error::msg)?,
        deliverer: Deliverer::new(state.clone(), client.clone(), &workspace.platform),
        run: run.id,
        root: root.clone(),
        quiet: options.quiet,
        progress: if options.quiet {
            Progress::hidden()
        } else {
            Progress::bar(plan.len(), "images")
        },
    };
    for cancelled in &opened.cancelled {
        runner.say(&format!(
            "cascade {cancelled} from {} was for an older digest: cancelled, this one covers it",
            root.familiar()
        ));
    }
    let following = |driver: &str| {
        runner.say(&format!(
            "cascade {} from {} is driven by {driver}: following it until it ends",
            run.id,
            root.familiar()
        ));
    };
    let took = tokio::select! {
        took = drive::take(state, run.id, following) => Some(took?),
        () = crate::shutdown::requested() => None,
    };
    let held = match took {
        None => {
            runner.progress.finish();
            bail!(
                "interrupted while following cascade {}; its driver goes on with it",
                run.id
            );
        }
        Some(Took::Over(RunStatus::Cancelled)) => {
            runner.progress.finish();
            bail!(
                "cascade {} from {} was cancelled while this process followed it: a newer \
                 digest of the root superseded it",
                run.id,
                root.familiar()
            );
        }
        Some(Took::Over(_)) => {
            runner.progress.finish();
            let (_, reports) = restore(&runner, &plan, &run).await?;
            return Ok(report(
                hierarchy, root, &plan, &run, true, &reports, started,
            ));
        }
        Some(Took::Drive(held)) => held,
    };
    if resumed {
        runner.say(&format!(
            "resuming cascade {} from {}",
            run.id,
            root.familiar()
        ));
    } else {
        runner.say(&format!(
            "cascade {} from {}: {}",
            run.id,
            root.familiar(),
            crate::output::count(plan.len(), "image")
        ));
    }
    let (mut slots, reports) = restore(&runner, &plan, &run).await?;
    let settled = slots
        .values()
        .filter(|s| matches!(s, Slot::Done(_) | Slot::Failed | Slot::Skipped))
        .count();
    runner.progress.inc(settled as u64);
    slots.insert(root.clone(), Slot::Done(Box::new(root_now)));
    let inputs = Inputs {
        graph: &hierarchy.graph,
        plan: &plan,
        builds: &hierarchy.builds,
    };
    let finished = tokio::select! {
        reports = runner.run(&inputs, slots, reports) => Some(reports),
        () = crate::shutdown::requested() => None,
    };
    runner.progress.finish();
    let Some(reports) = finished else {
        release_interrupted(&runner, hierarchy).await;
        held.release().await;
        bail!(
            "interrupted: cascade {} stays open; `strata cascade --resume` goes on from here",
            run.id
        );
    };
    let failed = reports.values().any(|r| r.status == Status::Failed);
    let outcome = if failed {
        RunOutcome::Failed
    } else {
        RunOutcome::Succeeded
    };
    let finished = state
        .finish_cascade(run.id, outcome, OffsetDateTime::now_utc())
        .await
        .context("recording the end of the cascade");
    held.release().await;
    finished?;
    Ok(report(
        hierarchy, root, &plan, &run, resumed, &reports, started,
    ))
}

/// The report of `run` from its nodes' `reports`, in plan order.
fn report(
    hierarchy: &Hierarchy,
    root: &ImageRef,
    plan: &strata_core::graph::Plan,
    run: &CascadeRun,
    resumed: bool,
    reports: &BTreeMap<ImageRef, NodeReport>,
    started: std::time::Instant,
) -> Report {
    let mut nodes: Vec<NodeReport> = plan
        .images()
        .filter_map(|image| reports.get(image).cloned())
        .collect();
    for node in &mut nodes {
        node.trigger = hierarchy
            .builds
            .get(&node.image)
            .and_then(|b| b.trigger.as_ref())
            .map(|t| t.describe());
    }
    let mut report = Report {
        run: run.id.0,
        root: root.clone(),
        old_root_digest: run.old_root_digest.clone(),
        new_root_digest: run.new_root_digest.clone(),
        resumed,
        nodes,
        levels: Vec::new(),
        seconds: started.elapsed().as_secs_f64(),
    };
    report.time_levels();
    report
}

/// The running cascade for `root` at its current digest, or a new one (cancelling runs
/// for older digests), in one transaction of the state database.
async fn open(
    hierarchy: &Hierarchy,
    root: &ImageRef,
    plan: &strata_core::graph::Plan,
    root_now: &Published,
    follow: EdgeFilter,
    state: &State,
) -> Result<OpenedCascade> {
    // The digest the images below were built on, when one differs from today's.
    let old = hierarchy
        .graph
        .children(root, follow)
        .iter()
        .filter_map(|e| e.built_on().cloned())
        .find(|d| !root_now.is(d))
        .unwrap_or_else(|| root_now.digest.clone());
    let nodes = plan
        .levels()
        .iter()
        .enumerate()
        .flat_map(|(at, level)| {
            level.iter().map(move |image| NewNode {
                image: image.to_string(),
                level: u32::try_from(at + 1).unwrap_or(u32::MAX),
            })
        })
        .collect();
    let cascade = NewCascade {
        root_image: root.to_string(),
        old_root_digest: old,
        new_root_digest: root_now.digest.clone(),
        nodes,
    };
    Ok(state
        .open_cascade(&cascade, OffsetDateTime::now_utc())
        .await?)
}

/// Slots and report lines from what the database recorded for `run`.
async fn restore(
    runner: &Runner,
    plan: &strata_core::graph::Plan,
    run: &CascadeRun,
) -> Result<(BTreeMap<ImageRef, Slot>, BTreeMap<ImageRef, NodeReport>)> {
    let recorded = runner.state.cascade_nodes(run.id).await?;
    let mut slots = BTreeMap::new();
    let mut reports = BTreeMap::new();
    for image in plan.images() {
        let level = plan.level_of(image).unwrap_or(0);
        let mut report = blank(image, level);
        let key = image.to_string();
        let Some(node) = recorded.iter().find(|n| n.image == key) else {
            report.status = Status::Skipped;
            report.message = Some(format!(
                "joined the hierarchy after cascade {} started",
                run.id
            ));
            slots.insert(image.clone(), Slot::Skipped);
            reports.insert(image.clone(), report);
            continue;
        };
        report.triggered_at = node.triggered_at;
        report.finished_at = node.finished_at;
        report.message = node.message.clone();
        report.digest = node.new_digest.clone();
        let platform = &runner.platform;
        let slot = match node.state {
            NodeState::Pending => Slot::Waiting { triggered: false },
            NodeState::Triggered => Slot::Waiting { triggered: true },
            NodeState::Published => {
                report.status = Status::Published;
                let seen = match &node.new_digest {
                    Some(d) => published::inspect_digest(&runner.client, image, d, platform)
                        .await
                        .ok(),
                    None => None,
                };
                seen.map_or(Slot::Waiting { triggered: true }, |s| {
                    Slot::Done(Box::new(s))
                })
            }
            NodeState::Failed => {
                report.status = Status::Failed;
                Slot::Failed
            }
            NodeState::Skipped
                if node
                    .message
                    .as_deref()
                    .is_some_and(|m| m.starts_with(UP_TO_DATE)) =>
            {
                report.status = Status::UpToDate;
                let seen = published::inspect(&runner.client, image, platform).await;
                let seen = seen.with_context(|| format!("re-reading {}", image.familiar()))?;
                report.digest = Some(seen.digest.clone());
                Slot::Done(Box::new(seen))
            }
            NodeState::Skipped => {
                report.status = Status::Skipped;
                Slot::Skipped
            }
        };
        slots.insert(image.clone(), slot);
        reports.insert(image.clone(), report);
    }
    Ok((slots, reports))
}

/// After an interrupt (Ctrl-C reaches the local build commands too), images whose
/// command was running go back to pending so a resume builds them again; remote builds
/// go on without us and stay triggered, to be waited for.
async fn release_interrupted(runner: &Runner, hierarchy: &Hierarchy) {
    let Ok(nodes) = runner.state.cascade_nodes(runner.run).await else {
        return;
    };
    let now = OffsetDateTime::now_utc();
    for node in nodes.iter().filter(|n| n.state == NodeState::Triggered) {
        let local = hierarchy
            .builds
            .iter()
            .find(|(image, _)| image.to_string() == node.image)
            .and_then(|(_, b)| b.trigger.as_ref())
            .is_some_and(Trigger::is_local);
        if !local {
            continue;
        }
        let message = "interrupted while its build command ran";
        let reset = runner
            .state
            .fail_node(runner.run, &node.image, message, now)
            .await;
        if reset.is_ok() {
            let _ = runner.state.retry_node(runner.run, &node.image, now).await;
        }
    }
}
