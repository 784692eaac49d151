//! decide + act + record stages of `strata update`, driven: looks up the tag of every
//! pinned reference, records each answer as an observation, rewrites the pins whose tag
//! moved (in the working tree, or as commits on a branch per change set), and with
//! `--push`/`--pr` pushes the branches and opens or updates their pull requests; then,
//! when asked, cascades rebuilds from the moved bases (`cascade`). `base` runs the same
//! act stages for one known move in one repository (a cascade's `pr` trigger). A scanned
//! directory inside no repository but holding several is worked on per repository
//! (`repositories`). Printing is the command's job (`report`).
//!
//! Order of work, so that a run stopped anywhere is finished by the next one: checks on
//! the repository and forge settings first (nothing is looked up for a run that cannot
//! finish), then lookups and observations, then per change set: commit, record the
//! proposal, push (with a lease), record the commit, open or update the pull request,
//! record it, close the superseded ones; cascades last, once every pin is settled. One
//! failing change set, or repository, never stops the others.

pub mod base;
pub mod cascade;
pub mod commit;
pub mod decide;
pub mod details;
pub mod message;
pub mod propose;
pub mod remote;
pub mod report;
pub mod repositories;
pub mod table;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use anyhow::{Context, Result};
use strata_core::update::{BaseMove, Group, Grouping, group};
use time::OffsetDateTime;

use self::cascade::{CascadeOutcome, Cascading};
use self::commit::{Built, Repository, Settled, Step};
use self::decide::FileOutcome;
use self::details::MoveDetails;
use self::message::MoveText;
use self::propose::{Proposed, Request, Target};
use self::repositories::{Checkout, Checkouts};
use crate::config::RegistrySettings;
use crate::discover::SourceFile;
use crate::forge::{ForgeKind, MergeMethod};
use crate::registry::{RegistryClient, Stats, TagKey};
use crate::resolve::{self, Lookups};
use crate::scan::{FileScan, ScanOptions};
use crate::state::{self, Observation, State};

/// What one run does.
#[derive(Debug, Clone)]
pub struct Options {
    /// The scanned root: the repository is the one containing it, else each one that
    /// holds a scanned file.
    pub root: PathBuf,
    pub scan: ScanOptions,
    /// Decide only: write, commit and push nothing.
    pub dry_run: bool,
    /// Commit each change set on its branch instead of writing the working tree.
    pub commit: bool,
    /// Push the branches (implies `commit`).
    pub push: bool,
    /// Open pull requests there (implies `push`).
    pub forge: Option<ForgeKind>,
    /// The forge repository (`owner/name`), instead of the one `origin` names (refused
    /// with several repositories).
    pub repo: Option<String>,
    pub allow_dirty: bool,
    /// The state database.
    pub state: PathBuf,
    pub grouping: Grouping,
    pub labels: Vec<String>,
    /// Turn on the forge's auto-merge of each pull request (with this merge method,
    /// `None`: the forge's default).
    pub auto_merge: Option<Option<MergeMethod>>,
    pub registry: RegistrySettings,
    pub cache_dir: Option<PathBuf>,
    /// Cascade rebuilds from the moved bases that have managed images below them
    /// (with `dry_run`: plan them); `None`: no cascades.
    pub cascade: Option<Cascading>,
}

/// What happened to one change set.
#[derive(Debug, Clone)]
pub struct GroupOutcome {
    pub group: Group,
    /// The repository the branch is in, relative to the scanned root; `None` when the
    /// scanned root is inside the run's only repository (or nothing is committed).
    pub repository: Option<String>,
    /// When strata first saw each move's tag at its new digest (same order as moves).
    pub first_seen: Vec<Option<OffsetDateTime>>,
    /// Where the branch ended up (with `--commit`).
    pub branch: Option<Settled>,
    /// New commits made.
    pub commits: usize,
    /// `Some(true)` pushed, `Some(false)` the remote had it already.
    pub pushed: Option<bool>,
    pub pull_request: Option<Proposed>,
    pub notes: Vec<String>,
    pub error: Option<String>,
}

/// Everything a run did.
#[derive(Debug)]
pub struct Run {
    pub outcomes: Vec<FileOutcome>,
    pub groups: Vec<GroupOutcome>,
    pub lookups: Lookups,
    pub stats: Stats,
    /// The updates went to branches (`--commit`), not the working tree.
    pub committed: bool,
    /// One per moved base with managed images below it, in the order run.
    pub cascades: Vec<CascadeOutcome>,
}

/// Runs the pipeline on scanned files (then the cascades, when asked).
pub fn run(options: &Options, results: Vec<FileScan>) -> Result<Run> {
    let commit = (options.commit || options.push || options.forge.is_some()) && !options.dry_run;
    let checkouts = if commit {
        repositories::open(options, &results)?
    } else {
        state::ensure_outside(&options.state, &options.root)?;
        Checkouts::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let state = State::open(&options.state)
            .await
            .with_context(|| format!("opening the state database {}", options.state.display()))?;
        let run = run_with(options, commit, &checkouts, &state, results).await;
        state.close().await;
        run
    })
}

async fn run_with(
    options: &Options,
    commit: bool,
    checkouts: &Checkouts,
    state: &State,
    results: Vec<FileScan>,
) -> Result<Run> {
    let needed = decide::needed(&results);
    let mut client = None;
    let lookups = if needed.is_empty() {
        Lookups::default()
    } else {
        let created = resolve::client(&options.registry, options.cache_dir.clone())?;
        // `[registry] verify` applies here too: a moved digest is fetched and hashed
        // before it is written.
        let lookup = resolve::LookupOptions {
            platforms: false,
            verify: options.registry.verify,
        };
        let lookups = resolve::look_up_with(&created, needed, lookup).await;
        client = Some(created);
        lookups
    };
    let pipeline = Pipeline {
        scan: &options.scan,
        grouping: options.grouping,
        write: !options.dry_run && !commit,
        push: options.push || options.forge.is_some(),
        labels: &options.labels,
        auto_merge: options.auto_merge,
        checkouts: &checkouts.checkouts,
        state,
        client,
        at: OffsetDateTime::now_utc(),
    };
    let since = pipeline.observe(&lookups).await?;
    let mut outcomes = decide::decide(results, &lookups, &options.scan);
    for &index in &checkouts.outside {
        if let Some(outcome) = outcomes.get_mut(index)
            && outcome.changed()
        {
            let message = format!(
                "{} is in no git repository: its moved pins cannot be committed (`strata \
                 update` without --commit, --push or --pr rewrites it in place)",
                outcome.file.display
            );
            decide::refuse(outcome, message);
        }
    }
    let (outcomes, groups) = pipeline.act(outcomes, &since).await;
    let cascades = match (&options.cascade, &pipeline.client) {
        (Some(cascading), Some(client)) => {
            let moved = cascade::moved_bases(&groups);
            cascade::run(cascading, &moved, options.dry_run, client, state).await
        }
        _ => Vec::new(),
    };
    let stats = pipeline
        .client
        .as_ref()
        .map(RegistryClient::stats)
        .unwrap_or_default();
    Ok(Run {
        outcomes,
        groups,
        lookups,
        stats,
        committed: commit,
        cascades,
    })
}

/// What every stage of one run shares.
struct Pipeline<'a> {
    scan: &'a ScanOptions,
    grouping: Grouping,
    /// Write the working tree (not a dry run, no branches).
    write: bool,
    /// Push the branches (`--push`, `--pr`).
    push: bool,
    labels: &'a [String],
    auto_merge: Option<Option<MergeMethod>>,
    /// Where change sets are committed; none: the working tree (or a dry run).
    checkouts: &'a [Checkout],
    state: &'a State,
    client: Option<RegistryClient>,
    at: OffsetDateTime,
}

impl Pipeline<'_> {
    /// Groups the moves into change sets (per repository when committing), writes the
    /// working tree or commits, pushes and proposes each change set. `since`: when each
    /// tag was first seen where it points now.
    async fn act(
        &self,
        mut outcomes: Vec<FileOutcome>,
        since: &HashMap<TagKey, OffsetDateTime>,
    ) -> (Vec<FileOutcome>, Vec<GroupOutcome>) {
        let found = decide::found(&outcomes);
        if self.write {
            crate::outcome::write(&mut outcomes);
        }
        let mut done = Vec::new();
        if self.checkouts.is_empty() {
            for group in group(found, self.grouping) {
                done.push(outcome_of(group, None, since));
            }
            return (outcomes, done);
        }
        let progress = crate::progress::Progress::bar(self.checkouts.len(), "repositories");
        for checkout in self.checkouts {
            progress.set_message(checkout.label.clone().unwrap_or_default());
            progress.inc(1);
            let mine = found.iter().filter(|f| checkout.holds(f.file)).cloned();
            for group in group(mine, self.grouping) {
                let mut outcome = outcome_of(group, checkout.label.clone(), since);
                let target = match &checkout.target {
                    None => Ok(None),
                    Some(target) => target.as_ref().map(Some),
                };
                match (&checkout.repo, target) {
                    (Err(why), _) | (Ok(_), Err(why)) => outcome.error = Some(why.clone()),
                    (Ok(repo), Ok(target)) => {
                        if let Err(err) = self.propose(repo, target, &outcomes, &mut outcome).await
                        {
                            outcome.error = Some(format!("{err:#}"));
                        }
                    }
                }
                done.push(outcome);
            }
        }
        progress.finish();
        (outcomes, done)
    }

    /// Records every successful lookup; returns since when each tag has pointed at its
    /// current digest (as strata saw it).
    async fn observe(&self, lookups: &Lookups) -> Result<HashMap<TagKey, OffsetDateTime>> {
        let mut since = HashMap::new();
        let mut keys: Vec<_> = lookups.tags.iter().collect();
        keys.sort_by(|a, b| a.0.cmp(b.0));
        for (key, result) in keys {
            let Ok(resolved) = result else { continue };
            let observation = self
                .state
                .record_observation(key, &resolved.digest, self.at)
                .await
                .with_context(|| format!("recording what {key} points at"))?;
            let at = match observation {
                Observation::New | Observation::Outdated { .. } => self.at,
                Observation::Unchanged { since } => since,
                Observation::Moved(moved) => moved.observed_at,
            };
            since.insert(key.clone(), at);
        }
        Ok(since)
    }

    /// Commits, pushes and proposes one change set.
    async fn propose(
        &self,
        repo: &Repository,
        target: Option<&Target>,
        outcomes: &[FileOutcome],
        outcome: &mut GroupOutcome,
    ) -> Result<()> {
        let mut notes = Vec::new();
        let mut texts = Vec::new();
        let mut steps = Vec::new();
        for (mv, first_seen) in outcome.group.moves.iter().zip(&outcome.first_seen) {
            let files = files_of(repo, outcomes, mv, &mut notes);
            let text = MoveText {
                mv,
                files: files
                    .iter()
                    .map(|(_, path, lines)| (path.clone(), lines.clone()))
                    .collect(),
                first_seen: *first_seen,
                details: self.details(mv, target.is_some()).await,
            };
            steps.push(Step {
                mv,
                files: files
                    .into_iter()
                    .map(|(file, path, _)| (file, path))
                    .collect(),
                message: message::commit_message(&text),
            });
            texts.push(text);
        }
        let group = &outcome.group;
        let built = commit::build(repo, &steps, self.scan, &mut notes);
        outcome.notes.append(&mut notes);
        let Some(built) = built? else {
            outcome
                .notes
                .push("nothing to commit: the base commit has none of these pins".into());
            return Ok(());
        };
        let push = self.push;
        let remote = if push {
            commit::remote_tip(repo, &group.branch)?
        } else {
            None
        };
        let settled = commit::settle(repo, &group.branch, &built, remote.as_deref())?;
        outcome.commits = new_commits(&settled, &built);
        outcome.branch = Some(settled.clone());
        if !push {
            return Ok(());
        }
        if let Some(target) = target {
            propose::record_draft(self.state, target, group, self.at).await?;
        }
        outcome.pushed = Some(commit::push(
            repo,
            &group.branch,
            &settled.tip,
            remote.as_deref(),
        )?);
        let Some(target) = target else {
            return Ok(());
        };
        let key = propose::key(target, group);
        self.state
            .record_commit(&key, &settled.tip, self.at)
            .await?;
        let request = Request {
            group,
            base: repo.base_branch.as_deref(),
            title: group.title(),
            body: crate::forge::fit_body(
                &message::pull_request_body(group, &texts),
                target.kind.body_limit(),
            ),
            labels: self.labels,
            auto_merge: self.auto_merge,
        };
        outcome.pull_request = Some(propose::open(self.state, target, &request, self.at).await?);
        Ok(())
    }

    /// What the registry says about both digests of a move, for pull requests only.
    async fn details(&self, mv: &BaseMove, proposing: bool) -> MoveDetails {
        match &self.client {
            Some(client) if proposing => details::fetch(client, mv, Some(self.state)).await,
            _ => MoveDetails::default(),
        }
    }
}

/// A change set before anything is done with it.
fn outcome_of(
    group: Group,
    repository: Option<String>,
    since: &HashMap<TagKey, OffsetDateTime>,
) -> GroupOutcome {
    let first_seen = group
        .moves
        .iter()
        .map(|m| {
            TagKey::of(&m.base)
                .ok()
                .and_then(|k| since.get(&k).copied())
        })
        .collect();
    GroupOutcome {
        group,
        repository,
        first_seen,
        branch: None,
        commits: 0,
        pushed: None,
        pull_request: None,
        notes: Vec::new(),
        error: None,
    }
}

/// The files a move changes: each with its repository-relative path and the lines
/// changed. Files outside the repository become notes.
fn files_of<'a>(
    repo: &Repository,
    outcomes: &'a [FileOutcome],
    mv: &BaseMove,
    notes: &mut Vec<String>,
) -> Vec<(&'a SourceFile, String, Vec<usize>)> {
    let mut out = Vec::new();
    for outcome in mv.files.iter().filter_map(|&i| outcomes.get(i)) {
        let Some(path) = repo.relative(&outcome.file.path) else {
            notes.push(format!(
                "{} is outside the repository; not committed",
                outcome.file.display
            ));
            continue;
        };
        let lines: BTreeSet<usize> = decide::moved_entries(outcome, mv)
            .iter()
            .map(|e| e.occurrence.line)
            .collect();
        out.push((&outcome.file, path, lines.into_iter().collect()));
    }
    out
}

fn new_commits(settled: &Settled, built: &Built) -> usize {
    match settled.status {
        commit::BranchStatus::Unchanged => 0,
        _ => built.commits,
    }
}
