//! act stage, after the pins: the rebuild cascades `update` starts. Every base whose
//! pins a run rewrote (or, dry, would rewrite) and that has managed images below it in
//! the workspace graph is cascaded from once, upper bases first, through
//! [`rebuild::run_from`]; with `dry_run` only the plans are made. Failures end up in the
//! outcomes, never stop the update that ran before.

use std::collections::BTreeSet;
use std::path::PathBuf;

use strata_core::graph::{ImageRef, Plan, PlanError};

use super::GroupOutcome;
use crate::config::workspace::Workspace;
use crate::hierarchy::{self, Hierarchy};
use crate::rebuild::{self, PlanView, Report};
use crate::registry::RegistryClient;
use crate::state::State;

/// How `update` cascades.
#[derive(Debug, Clone)]
pub struct Cascading {
    pub workspace: Workspace,
    /// The cache directory (git repositories of the workspace are cloned below it).
    pub cache_dir: Option<PathBuf>,
    pub options: rebuild::Options,
}

/// One cascade: its plan, and its report once run.
#[derive(Debug, Clone)]
pub struct CascadeOutcome {
    pub root: ImageRef,
    /// `None` when the hierarchy could not be built.
    pub plan: Option<PlanView>,
    /// `None` for a dry run or when the cascade could not run.
    pub report: Option<Report>,
    pub error: Option<String>,
}

impl CascadeOutcome {
    /// It errored or some image in it failed.
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.report.as_ref().is_some_and(|r| r.failed() > 0)
    }
}

/// The bases the change sets move, each once, as graph nodes.
pub fn moved_bases(groups: &[GroupOutcome]) -> Vec<ImageRef> {
    let bases: BTreeSet<ImageRef> = groups
        .iter()
        .flat_map(|g| &g.group.moves)
        .filter_map(|m| ImageRef::new(&m.base).ok())
        .collect();
    bases.into_iter().collect()
}

/// Plans (and unless `dry_run`, runs) the cascade below each of `moved` that has
/// managed images below it.
pub async fn run(
    cascading: &Cascading,
    moved: &[ImageRef],
    dry_run: bool,
    client: &RegistryClient,
    state: &State,
) -> Vec<CascadeOutcome> {
    if moved.is_empty() {
        return Vec::new();
    }
    let workspace = &cascading.workspace;
    let cache = cascading.cache_dir.as_deref();
    let hierarchy = match hierarchy::build(workspace, cache, client, Some(state)).await {
        Ok(hierarchy) => hierarchy,
        Err(err) => {
            let error = format!("building the workspace hierarchy: {err:#}");
            return moved
                .iter()
                .map(|root| failed(root, None, &error))
                .collect();
        }
    };
    let mut outcomes = Vec::new();
    let staleness = hierarchy
        .graph
        .staleness(workspace.follow)
        .unwrap_or_default();
    for (root, plan) in ordered(&hierarchy, moved, workspace) {
        let plan = match plan {
            Ok(plan) => PlanView::new(&plan, &hierarchy, &staleness, workspace.follow),
            Err(err) => {
                outcomes.push(failed(&root, None, &err.to_string()));
                continue;
            }
        };
        if dry_run {
            outcomes.push(CascadeOutcome {
                root,
                plan: Some(plan),
                report: None,
                error: None,
            });
            continue;
        }
        let ran = rebuild::run_from(&root, workspace, cache, client, state, &cascading.options);
        let outcome = match ran.await {
            Ok(report) => CascadeOutcome {
                root,
                plan: Some(plan),
                report,
                error: None,
            },
            Err(err) => failed(&root, Some(plan), &format!("{err:#}")),
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// The roots with managed images below them and their plans, a root below another
/// one after it (its cascade then finds most images up to date instead of rebuilding
/// them twice). Roots outside the graph or with nothing below are left out; a plan
/// that cannot be made (a cycle) is kept as its error.
fn ordered(
    hierarchy: &Hierarchy,
    moved: &[ImageRef],
    workspace: &Workspace,
) -> Vec<(ImageRef, Result<Plan, PlanError>)> {
    let mut plans: Vec<(ImageRef, Result<Plan, PlanError>)> = Vec::new();
    for root in moved {
        match hierarchy.graph.downstream(root, workspace.follow) {
            Ok(plan) if plan.is_empty() => {}
            Err(PlanError::UnknownImage { .. }) => {}
            plan => plans.push((root.clone(), plan)),
        }
    }
    let depths: Vec<usize> = plans
        .iter()
        .map(|(root, _)| {
            plans
                .iter()
                .filter(|(other, plan)| {
                    other != root && plan.as_ref().is_ok_and(|p| p.contains(root))
                })
                .count()
        })
        .collect();
    let mut keyed: Vec<_> = depths.into_iter().zip(plans).collect();
    keyed.sort_by_key(|(depth, _)| *depth);
    keyed.into_iter().map(|(_, entry)| entry).collect()
}

fn failed(root: &ImageRef, plan: Option<PlanView>, error: &str) -> CascadeOutcome {
    CascadeOutcome {
        root: root.clone(),
        plan,
        report: None,
        error: Some(error.to_owned()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use strata_core::graph::{EdgeKind, Evidence, Node, Producer};

    use super::*;

    fn image(text: &str) -> ImageRef {
        ImageRef::parse(text).unwrap()
    }

    /// debian (external) -> python (managed) -> app (managed); redis (external) alone.
    fn hierarchy() -> Hierarchy {
        let mut hierarchy = Hierarchy::default();
        let graph = &mut hierarchy.graph;
        for managed in ["python:3", "acme/app:1"] {
            let node = Node::managed(image(managed), Producer::dockerfile("r", "Dockerfile"));
            graph.add_node(node).unwrap();
        }
        graph.add_node(Node::external(image("redis:7"))).unwrap();
        for (base, child) in [("debian:12", "python:3"), ("python:3", "acme/app:1")] {
            let evidence = Evidence::Dockerfile {
                path: "r/Dockerfile".into(),
                line: 1,
            };
            graph.add_edge(&image(base), &image(child), EdgeKind::FinalStage, evidence);
        }
        hierarchy
    }

    #[test]
    fn upper_bases_go_first_and_bases_with_nothing_managed_below_are_left_out() {
        let hierarchy = hierarchy();
        let moved = [
            image("acme/app:1"),
            image("python:3"),
            image("debian:12"),
            image("redis:7"),
            image("alpine:3"),
        ];
        let order: Vec<String> = ordered(&hierarchy, &moved, &Workspace::default())
            .into_iter()
            .map(|(root, plan)| {
                assert!(!plan.unwrap().is_empty());
                root.familiar()
            })
            .collect();
        assert_eq!(order, ["debian:12", "python:3"]);
    }
}
