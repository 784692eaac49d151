//! act stage, the cascade runner: walks a plan image by image — each one only once every
//! base of it in the plan is published on its new digest — with a bound on rebuilds in
//! flight, recording every step in the state database before acting on it (claim, then
//! trigger), so a rerun after a crash triggers nothing twice and skips nothing that was
//! not blocked. A failure stops its own subtree ([`Plan::split`]), never its siblings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use strata_core::graph::{EdgeKind, Graph, ImageRef, Plan};
use time::OffsetDateTime;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::cascade::UP_TO_DATE;
use super::report::{NodeReport, Status};
use super::trigger::{self, Request};
use super::wait::{self, Polling, short};
use crate::config::workspace::{CascadeSettings, Trigger};
use crate::hierarchy::published::{self, Published};
use crate::registry::RegistryClient;
use crate::state::{NodeState, RunId, State};

/// Everything a run needs, shared by its rebuild tasks.
#[derive(Debug, Clone)]
pub(super) struct Runner {
    pub(super) client: RegistryClient,
    pub(super) state: State,
    pub(super) settings: CascadeSettings,
    pub(super) platform: String,
    pub(super) triggers: trigger::Context,
    pub(super) run: RunId,
    pub(super) quiet: bool,
}

/// Where a node stands in this process.
#[derive(Debug, Clone)]
pub(super) enum Slot {
    /// Not started; `triggered` when a crashed run already fired its trigger.
    Waiting {
        triggered: bool,
    },
    Running,
    Done(Box<Published>),
    Failed,
    Skipped,
}

/// One rebuild, owned by its task.
struct Job {
    image: ImageRef,
    level: usize,
    trigger: Option<Trigger>,
    dir: PathBuf,
    /// The new images of its final-stage bases in the plan.
    bases: Vec<Published>,
    base_name: String,
    /// Already claimed by an earlier run: wait only.
    triggered: bool,
}

/// What a rebuild task ends with.
struct Finished {
    image: ImageRef,
    result: Result<(Published, Status), String>,
    triggered_at: Option<OffsetDateTime>,
}

/// The per-image facts the runner reads from the hierarchy.
pub(super) struct Inputs<'a> {
    pub(super) graph: &'a Graph,
    pub(super) plan: &'a Plan,
    pub(super) builds: &'a BTreeMap<ImageRef, crate::hierarchy::Build>,
}

impl Runner {
    /// Runs the plan from `slots` (the root `Done`) to the end; returns a report per node.
    pub(super) async fn run(
        &self,
        inputs: &Inputs<'_>,
        mut slots: BTreeMap<ImageRef, Slot>,
        mut reports: BTreeMap<ImageRef, NodeReport>,
    ) -> BTreeMap<ImageRef, NodeReport> {
        let mut tasks: JoinSet<Finished> = JoinSet::new();
        let mut in_flight = 0usize;
        loop {
            self.skip_blocked(inputs.plan, &mut slots, &mut reports)
                .await;
            for image in inputs.plan.images() {
                if in_flight >= self.settings.parallel {
                    break;
                }
                let Some(Slot::Waiting { triggered }) = slots.get(image) else {
                    continue;
                };
                let triggered = *triggered;
                let Some(bases) = ready_bases(inputs, image, &slots) else {
                    continue;
                };
                let job = self.job(inputs, image, bases, triggered);
                slots.insert(image.clone(), Slot::Running);
                in_flight += 1;
                let runner = self.clone();
                tasks.spawn(async move { runner.rebuild(job).await });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            in_flight = in_flight.saturating_sub(1);
            let Ok(done) = joined else { continue };
            let now = OffsetDateTime::now_utc();
            let key = done.image.to_string();
            let report = reports
                .entry(done.image.clone())
                .or_insert_with(|| blank(&done.image, 0));
            report.triggered_at = done.triggered_at.or(report.triggered_at);
            report.finished_at = Some(now);
            match done.result {
                Ok((seen, status)) => {
                    if status == Status::Published
                        && let Err(e) = self
                            .state
                            .publish_node(self.run, &key, &seen.digest, now)
                            .await
                    {
                        self.say(&format!(
                            "warning: recording {}: {e}",
                            done.image.familiar()
                        ));
                    }
                    self.say(&format!(
                        "L{} {} {} {}",
                        report.level,
                        status.as_str(),
                        done.image.familiar(),
                        short(&seen.digest)
                    ));
                    report.status = status;
                    report.digest = Some(seen.digest.clone());
                    slots.insert(done.image, Slot::Done(Box::new(seen)));
                }
                Err(message) => {
                    if let Err(e) = self.state.fail_node(self.run, &key, &message, now).await {
                        self.say(&format!(
                            "warning: recording {}: {e}",
                            done.image.familiar()
                        ));
                    }
                    self.say(&format!(
                        "L{} failed {}: {message}",
                        report.level,
                        done.image.familiar()
                    ));
                    report.status = Status::Failed;
                    report.message = Some(message);
                    slots.insert(done.image, Slot::Failed);
                }
            }
        }
        reports
    }

    /// Marks every waiting node below a failed one skipped (in the database first).
    async fn skip_blocked(
        &self,
        plan: &Plan,
        slots: &mut BTreeMap<ImageRef, Slot>,
        reports: &mut BTreeMap<ImageRef, NodeReport>,
    ) {
        let failed: BTreeSet<ImageRef> = slots
            .iter()
            .filter(|(_, s)| matches!(s, Slot::Failed))
            .map(|(i, _)| i.clone())
            .collect();
        if failed.is_empty() {
            return;
        }
        for (image, blockers) in plan.split(&failed).skip {
            if !matches!(slots.get(&image), Some(Slot::Waiting { triggered: false })) {
                continue;
            }
            let names: Vec<String> = blockers.iter().map(ImageRef::familiar).collect();
            let reason = format!("base failed: {}", names.join(", "));
            let now = OffsetDateTime::now_utc();
            if let Err(e) = self
                .state
                .skip_node(self.run, &image.to_string(), &reason, now)
                .await
            {
                self.say(&format!("warning: recording {}: {e}", image.familiar()));
            }
            self.say(&format!("skipped {}: {reason}", image.familiar()));
            if let Some(report) = reports.get_mut(&image) {
                report.status = Status::Skipped;
                report.message = Some(reason);
                report.finished_at = Some(now);
            }
            slots.insert(image, Slot::Skipped);
        }
    }

    fn job(
        &self,
        inputs: &Inputs<'_>,
        image: &ImageRef,
        bases: Vec<(ImageRef, Published)>,
        triggered: bool,
    ) -> Job {
        let build = inputs.builds.get(image);
        let base_name = bases
            .first()
            .map(|(i, _)| i)
            .or_else(|| inputs.plan.parents(image).first())
            .map(ImageRef::familiar)
            .unwrap_or_default();
        Job {
            image: image.clone(),
            level: inputs.plan.level_of(image).unwrap_or(0),
            trigger: build.and_then(|b| b.trigger.clone()),
            dir: build.map_or_else(|| PathBuf::from("."), |b| b.dir.clone()),
            bases: bases.into_iter().map(|(_, p)| p).collect(),
            base_name,
            triggered,
        }
    }

    /// One image: skip it if already on its new bases, else claim, trigger and wait.
    async fn rebuild(self, job: Job) -> Finished {
        let mut triggered_at = None;
        let result = self.rebuild_inner(&job, &mut triggered_at).await;
        Finished {
            image: job.image,
            result,
            triggered_at,
        }
    }

    async fn rebuild_inner(
        &self,
        job: &Job,
        triggered_at: &mut Option<OffsetDateTime>,
    ) -> Result<(Published, Status), String> {
        let key = job.image.to_string();
        let bases: Vec<&Published> = job.bases.iter().collect();
        let before = if job.triggered {
            None
        } else {
            published::inspect(&self.client, &job.image, &self.platform)
                .await
                .ok()
        };
        let mut claimed_now = false;
        if !job.triggered {
            if let Some(current) = &before
                && !bases.is_empty()
                && wait::is_on(current, &bases)
            {
                let reason = format!("{UP_TO_DATE} {} {}", job.base_name, short(&bases[0].digest));
                let now = OffsetDateTime::now_utc();
                self.state
                    .skip_node(self.run, &key, &reason, now)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok((current.clone(), Status::UpToDate));
            }
            let now = OffsetDateTime::now_utc();
            claimed_now = self
                .state
                .claim_node(self.run, &key, now)
                .await
                .map_err(|e| e.to_string())?;
            if claimed_now {
                *triggered_at = Some(now);
            } else if let Some(done) = self.recorded(&job.image).await? {
                return Ok((done, Status::Published));
            }
        }
        let deadline = Instant::now() + self.settings.timeout;
        let work = async {
            if claimed_now {
                let trigger = job
                    .trigger
                    .as_ref()
                    .ok_or_else(|| format!("no trigger configured for {}", job.image.familiar()))?;
                self.say(&format!(
                    "L{} trigger {} ({})",
                    job.level,
                    job.image.familiar(),
                    trigger.kind()
                ));
                let request = Request {
                    image: job.image.familiar(),
                    base_image: job.base_name.clone(),
                    base_digest: bases
                        .first()
                        .map(|b| b.digest.to_string())
                        .unwrap_or_default(),
                    level: job.level,
                    cascade_id: self.run.0,
                };
                let told = trigger::fire(trigger, &request, &job.dir, &self.triggers).await?;
                if let Some(line) = told {
                    self.say(&format!("L{} {}: {line}", job.level, job.image.familiar()));
                }
            }
            let polling = Polling {
                first: self.settings.poll_interval,
                max: self.settings.poll_max,
                deadline,
            };
            let before = before.as_ref().map(|b| &b.digest);
            wait::published_on(
                &self.client,
                &job.image,
                before,
                &bases,
                &self.platform,
                polling,
            )
            .await
        };
        match tokio::time::timeout_at(deadline, work).await {
            Ok(Ok(seen)) => Ok((seen, Status::Published)),
            Ok(Err(message)) => Err(message),
            Err(_) => Err(format!("timed out after {:?}", self.settings.timeout)),
        }
    }

    /// A node another run finished: its recorded image, when published.
    async fn recorded(&self, image: &ImageRef) -> Result<Option<Published>, String> {
        let nodes = self
            .state
            .cascade_nodes(self.run)
            .await
            .map_err(|e| e.to_string())?;
        let key = image.to_string();
        let Some(node) = nodes.iter().find(|n| n.image == key) else {
            return Err(format!(
                "{} is not part of cascade {}",
                image.familiar(),
                self.run
            ));
        };
        match (node.state, &node.new_digest) {
            (NodeState::Published, Some(digest)) => {
                published::inspect_digest(&self.client, image, digest, &self.platform)
                    .await
                    .map(Some)
                    .map_err(|e| format!("{e:#}"))
            }
            (NodeState::Triggered, _) => Ok(None),
            (other, _) => Err(format!(
                "{} is {other} in cascade {}",
                image.familiar(),
                self.run
            )),
        }
    }

    pub(super) fn say(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
}

/// The new images of `image`'s final-stage bases in the plan (any base when it has no
/// final-stage one), once every plan base of it is done; `None` while one is not.
fn ready_bases(
    inputs: &Inputs<'_>,
    image: &ImageRef,
    slots: &BTreeMap<ImageRef, Slot>,
) -> Option<Vec<(ImageRef, Published)>> {
    let mut finals = Vec::new();
    for base in inputs.plan.parents(image) {
        let Some(Slot::Done(seen)) = slots.get(base) else {
            return None;
        };
        if inputs
            .graph
            .edge(base, image, EdgeKind::FinalStage)
            .is_some()
        {
            finals.push((base.clone(), (**seen).clone()));
        }
    }
    Some(finals)
}

/// An empty report line for `image`.
pub(super) fn blank(image: &ImageRef, level: usize) -> NodeReport {
    NodeReport {
        image: image.clone(),
        level,
        status: Status::Pending,
        digest: None,
        trigger: None,
        triggered_at: None,
        finished_at: None,
        message: None,
    }
}
