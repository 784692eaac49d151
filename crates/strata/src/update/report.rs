//! act stage, for reading: what a `strata update` run did, as the documented JSON
//! schema (docs/update.md); `table` renders the same document for people. Builds values
//! only; decides nothing.

use std::collections::BTreeMap;

use serde::Serialize;
use strata_core::graph::ImageRef;
use strata_core::update::Decision;

use super::decide::FileOutcome;
use super::{GroupOutcome, Run};
use crate::forge::OpenOutcome;
use crate::pin::report::{
    ChangedJson, ErrorJson, KeptJson, RegistryJson, SkippedJson, add_problems, changed, failed,
    kept, registries_json, skipped,
};
use crate::rebuild::{PlanView, Report};

/// `strata update --format json`.
#[derive(Debug, Serialize)]
pub struct UpdateJson {
    pub dry_run: bool,
    /// The updates went to branches (`--commit`); the working tree is untouched.
    pub committed: bool,
    /// Moved pins (written, committed, or with `dry_run` that would be).
    pub updates: Vec<UpdatedJson>,
    /// Pins whose tag still points at the pinned digest.
    pub current: Vec<KeptJson>,
    /// References without a digest (`strata pin` pins them).
    pub not_pinned: Vec<KeptJson>,
    pub skips: Vec<SkippedJson>,
    pub errors: Vec<ErrorJson>,
    /// Files whose text changes in the working tree (with `dry_run`: would change).
    pub changed_files: Vec<ChangedJson>,
    /// The change sets, with their branches and pull requests.
    pub groups: Vec<GroupJson>,
    /// The rebuild cascades from the moved bases (plans only with `dry_run`).
    pub cascades: Vec<CascadeJson>,
    pub registries: BTreeMap<String, RegistryJson>,
    pub summary: SummaryJson,
}

#[derive(Debug, Serialize)]
pub struct UpdatedJson {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub source: &'static str,
    /// The normalised reference as pinned today.
    pub reference: String,
    pub before: String,
    pub after: String,
    pub from: String,
    pub to: String,
    /// The `ARG` whose default holds the pin, if any.
    pub arg: Option<String>,
    pub written: bool,
}

#[derive(Debug, Serialize)]
pub struct GroupJson {
    /// The git repository the branch is in, relative to the scanned directory
    /// (`services/api`); `null` when that directory is inside the run's only repository.
    pub repository: Option<String>,
    /// `docker.io/library/python:3.12`, or `repository`.
    pub key: String,
    pub branch: String,
    pub title: String,
    pub moves: Vec<MoveJson>,
    /// `created`, `updated` or `unchanged` (with `--commit`).
    pub status: Option<&'static str>,
    /// The branch's commit.
    pub commit: Option<String>,
    /// Commits made in this run.
    pub commits: usize,
    /// Pushed in this run (`false`: the remote had it already).
    pub pushed: Option<bool>,
    pub pull_request: Option<PullJson>,
    pub notes: Vec<String>,
    pub error: Option<String>,
}

/// One cascade: the plan, the report once run (as `strata cascade --format json` has
/// it), or what stopped it.
#[derive(Debug, Serialize)]
pub struct CascadeJson {
    pub root: ImageRef,
    pub plan: Option<PlanView>,
    pub report: Option<Report>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct MoveJson {
    pub base: String,
    pub from: Vec<String>,
    pub to: String,
    pub files: Vec<String>,
    /// When strata first saw the tag at `to` (RFC 3339, UTC).
    pub first_seen: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PullJson {
    pub number: u64,
    pub url: String,
    /// `created`, `updated` or `unchanged`.
    pub outcome: &'static str,
    /// Pull requests closed as superseded by this one.
    pub superseded: Vec<u64>,
}

#[derive(Debug, Default, Serialize)]
pub struct SummaryJson {
    pub updated: usize,
    pub current: usize,
    pub not_pinned: usize,
    pub skipped: usize,
    pub failed: usize,
    pub files_scanned: usize,
    pub files_changed: usize,
    pub groups: usize,
    pub groups_failed: usize,
    pub cascades: usize,
    /// Cascades that could not run or in which some image failed.
    pub cascades_failed: usize,
}

/// Builds the JSON document for a run.
pub fn json(run: &Run, dry_run: bool) -> UpdateJson {
    let mut doc = UpdateJson {
        dry_run,
        committed: run.committed,
        updates: Vec::new(),
        current: Vec::new(),
        not_pinned: Vec::new(),
        skips: Vec::new(),
        errors: Vec::new(),
        changed_files: Vec::new(),
        groups: run
            .groups
            .iter()
            .map(|g| group_json(g, &run.outcomes))
            .collect(),
        cascades: run
            .cascades
            .iter()
            .map(|c| CascadeJson {
                root: c.root.clone(),
                plan: c.plan.clone(),
                report: c.report.clone(),
                error: c.error.clone(),
            })
            .collect(),
        registries: registries_json(&run.stats),
        summary: SummaryJson::default(),
    };
    let in_tree = !run.committed;
    for outcome in &run.outcomes {
        add_file(&mut doc, outcome, dry_run, in_tree);
    }
    doc.summary = SummaryJson {
        updated: doc.updates.len(),
        current: doc.current.len(),
        not_pinned: doc.not_pinned.len(),
        skipped: doc.skips.len(),
        failed: doc.errors.len(),
        files_scanned: run.outcomes.len(),
        files_changed: doc.changed_files.len(),
        groups: doc.groups.len(),
        groups_failed: doc.groups.iter().filter(|g| g.error.is_some()).count(),
        cascades: run.cascades.len(),
        cascades_failed: run.cascades.iter().filter(|c| c.failed()).count(),
    };
    doc
}

fn add_file(doc: &mut UpdateJson, outcome: &FileOutcome, dry_run: bool, in_tree: bool) {
    let file = &outcome.file.display;
    for entry in &outcome.entries {
        let o = &entry.occurrence;
        match &entry.decision {
            Decision::Update(m) => doc.updates.push(UpdatedJson {
                file: file.clone(),
                line: o.line,
                column: o.column,
                source: o.source.as_str(),
                reference: o.reference.to_string(),
                before: m.before.clone(),
                after: m.after.clone(),
                from: m.from.to_string(),
                to: m.to.to_string(),
                arg: o.arg.clone(),
                written: outcome.written,
            }),
            Decision::Current => doc.current.push(kept(file, o)),
            Decision::NotPinned => doc.not_pinned.push(kept(file, o)),
            Decision::Skip(reason) => doc.skips.push(skipped(file, o.line, &o.text, reason)),
            Decision::Failed(failure) => doc.errors.push(failed(file, o, failure)),
        }
    }
    add_problems(&mut doc.skips, &mut doc.errors, outcome);
    // With --commit the working tree never changes: branches carry the updates.
    if outcome.changed() && in_tree {
        doc.changed_files.push(changed(outcome, dry_run));
    }
}

fn group_json(g: &GroupOutcome, outcomes: &[FileOutcome]) -> GroupJson {
    GroupJson {
        repository: g.repository.clone(),
        key: g.group.key.clone(),
        branch: g.group.branch.clone(),
        title: g.group.title(),
        moves: g
            .group
            .moves
            .iter()
            .zip(&g.first_seen)
            .map(|(m, seen)| MoveJson {
                base: m.base.to_string(),
                from: m.from.iter().map(ToString::to_string).collect(),
                to: m.to.to_string(),
                files: m
                    .files
                    .iter()
                    .filter_map(|&i| outcomes.get(i).map(|o| o.file.display.clone()))
                    .collect(),
                first_seen: seen.map(crate::output::rfc3339),
            })
            .collect(),
        status: g.branch.as_ref().map(|b| b.status.as_str()),
        commit: g.branch.as_ref().map(|b| b.tip.clone()),
        commits: g.commits,
        pushed: g.pushed,
        pull_request: g.pull_request.as_ref().map(|p| PullJson {
            number: p.number,
            url: p.url.clone(),
            outcome: match p.outcome {
                OpenOutcome::Created => "created",
                OpenOutcome::Updated => "updated",
                OpenOutcome::Unchanged => "unchanged",
            },
            superseded: p.superseded.clone(),
        }),
        notes: g.notes.clone(),
        error: g.error.clone(),
    }
}
