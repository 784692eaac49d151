//! `strata cascade <image>`: rebuild every managed image below a base, level by level,
//! through the configured triggers, resuming an interrupted run for the same digest.
//! `--dry-run` prints the plan; `--resume` only resumes. Exit 0 when every image is on
//! the new base, 2 when some failed (their subtrees skipped) or on errors.

use std::io::{self, Write};

use anyhow::{Context, Result, anyhow};
use strata_core::graph::{EdgeFilter, ImageRef, Plan};

use super::exit;
use super::graph::Session;
use crate::cli::{CascadeArgs, Format};
use crate::config::workspace::parse_duration;
use crate::hierarchy::Hierarchy;
use crate::rebuild::{self, Options, PlanView, Report};

pub(super) fn run(args: &CascadeArgs, out: &mut dyn Write) -> Result<u8> {
    let mut session = Session::new(args.workspace.as_deref(), args.config.as_deref())?;
    if args.all_edges {
        session.config.workspace.follow = EdgeFilter::All;
    }
    let root = args
        .image
        .as_deref()
        .map(|text| ImageRef::parse(text).map_err(|e| anyhow!("{e}")))
        .transpose()?;
    let state = session.open_state(args.state.as_deref())?;
    let hierarchy = session.hierarchy(Some(&state))?;
    for warning in &hierarchy.warnings {
        eprintln!("warning: {warning}");
    }
    let follow = session.config.workspace.follow;
    if args.dry_run {
        let root = root.ok_or_else(|| anyhow!("--dry-run needs an IMAGE"))?;
        let plan = hierarchy.graph.downstream(&root, follow)?;
        let staleness = hierarchy.graph.staleness(follow)?;
        let view = PlanView::new(&plan, &hierarchy, &staleness, follow);
        print_plan(out, &view, args.format)?;
        // One rule in every verb: a dry run exits 1 when something is pending.
        return Ok(if view.pending > 0 {
            exit::FINDINGS
        } else {
            exit::OK
        });
    }
    let options = Options {
        quiet: args.quiet,
        parallel: args.parallel,
        timeout: args
            .timeout
            .as_deref()
            .map(|t| parse_duration(t).map_err(|e| anyhow!("--timeout: {e}")))
            .transpose()?,
    };
    let roots: Vec<ImageRef> = if args.resume {
        let running = session.runtime.block_on(state.running_cascades())?;
        let mut roots: Vec<ImageRef> = running
            .iter()
            .filter_map(|r| ImageRef::parse(&r.root_image).ok())
            .filter(|r| root.as_ref().is_none_or(|wanted| wanted == r))
            .collect();
        roots.dedup();
        if roots.is_empty() {
            eprintln!("no interrupted cascade to resume");
        }
        roots
    } else {
        root.into_iter().collect()
    };
    let workspace = &session.config.workspace;
    let mut reports = Vec::new();
    for root in &roots {
        let plan = hierarchy.graph.downstream(root, follow)?;
        if plan.is_empty() {
            explain_nothing_to_do(root, &plan, &hierarchy, follow)?;
            continue;
        }
        let report = session
            .runtime
            .block_on(rebuild::run(
                &hierarchy,
                root,
                workspace,
                &session.client,
                &state,
                &options,
            ))
            .with_context(|| format!("cascade from {}", root.familiar()))?;
        reports.push(report);
    }
    session.runtime.block_on(state.close());
    print_reports(out, &reports, args.format)?;
    let failed = reports.iter().any(|r| r.failed() > 0);
    Ok(if failed { exit::ERROR } else { exit::OK })
}

fn print_reports(out: &mut dyn Write, reports: &[Report], format: Format) -> Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, reports).context("writing JSON")?;
            writeln!(out)?;
        }
        Format::Table => {
            for report in reports {
                report.write_text(&mut *out)?;
            }
        }
    }
    Ok(())
}

fn print_plan(out: &mut dyn Write, view: &PlanView, format: Format) -> Result<()> {
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, view).context("writing JSON")?;
        writeln!(out)?;
    } else {
        view.write_text(&mut *out)?;
    }
    Ok(())
}

/// A root with no managed image below it in reach: says so on stderr, and which external
/// images the managed ones further down wait on.
fn explain_nothing_to_do(
    root: &ImageRef,
    plan: &Plan,
    hierarchy: &Hierarchy,
    follow: EdgeFilter,
) -> Result<()> {
    let staleness = hierarchy.graph.staleness(follow)?;
    let view = PlanView::new(plan, hierarchy, &staleness, follow);
    let stderr = io::stderr();
    let mut err = stderr.lock();
    writeln!(
        err,
        "nothing to rebuild from {}: no managed image is built on it directly",
        root.familiar()
    )?;
    view.write_behind(&mut err)?;
    Ok(())
}
