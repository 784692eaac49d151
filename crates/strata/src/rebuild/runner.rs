//! act stage, the cascade runner: walks a plan image by image — each one only once every
//! base of it in the plan is published on its new digest — with a bound on rebuilds in
//! flight, recording every step in the state database before acting on it (claim, then
//! trigger), so a rerun after a crash triggers nothing twice and skips nothing that was
//! not blocked. A failure stops its own subtree ([`Plan::split`]), never its siblings.

use std::collections::{BTreeMap, BTreeSet};

use strata_core::graph::{EdgeKind, Graph, ImageRef, Plan};
use time::OffsetDateTime;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::cascade::UP_TO_DATE;
use super::deliver::{self, Delivered, Deliverer, Move};
use super::report::{NodeReport, Status};
use super::trigger::{self, Request};
use super::wait::{self, Base, Polling, short};
use crate::config::workspace::CascadeSettings;
use crate::hierarchy::Build;
use crate::hierarchy::published::{self, Published};
use crate::progress::Progress;
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
    /// Brings each image's new pins to its build before its trigger.
    pub(super) deliverer: Deliverer,
    pub(super) run: RunId,
    /// The cascade's root (for commit messages).
    pub(super) root: ImageRef,
    pub(super) quiet: bool,
    /// Images done out of the plan, drawn on a terminal (hidden when quiet).
    pub(super) progress: Progress,
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
    /// How it is built (`None`: the hierarchy knows no build for it).
    build: Option<Build>,
    /// Its final-stage bases in the plan with their new images (what it must be on).
    bases: Vec<(ImageRef, Published)>,
    /// Every base of it in the plan with its new digest: the pins to bring to its build.
    moves: Vec<Move>,
    /// Already claimed by an earlier run: wait only.
    triggered: bool,
}

/// What a rebuild task ends with.
struct Finished {
    image: ImageRef,
    result: Result<(Published, Status), String>,
    triggered_at: Option<OffsetDateTime>,
    /// How long delivering its new pins took.
    delivery: Option<std::time::Duration>,
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
                let job = self.job(inputs, image, &slots, bases, triggered);
                self.progress
                    .set_message(format!("level {}: {}", job.level, image.familiar()));
                slots.insert(image.clone(), Slot::Running);
                in_flight += 1;
                let runner = self.clone();
                tasks.spawn(async move { runner.rebuild(job).await });
            }
            let Some(joined) = tasks.join_next().await else {
                break;
            };
            in_flight = in_flight.saturating_sub(1);
            self.progress.inc(1);
            let Ok(done) = joined else { continue };
            let now = OffsetDateTime::now_utc();
            let key = done.image.to_string();
            let report = reports
                .entry(done.image.clone())
                .or_insert_with(|| blank(&done.image, 0));
            report.triggered_at = done.triggered_at.or(report.triggered_at);
            report.finished_at = Some(now);
            report.delivery_ms = done
                .delivery
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
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
            self.progress.inc(1);
            slots.insert(image, Slot::Skipped);
        }
    }

    fn job(
        &self,
        inputs: &Inputs<'_>,
        image: &ImageRef,
        slots: &BTreeMap<ImageRef, Slot>,
        bases: Vec<(ImageRef, Published)>,
        triggered: bool,
    ) -> Job {
        let moves = inputs
            .plan
            .parents(image)
            .iter()
            .filter_map(|base| match slots.get(base) {
                Some(Slot::Done(seen)) => Some(Move {
                    base: base.clone(),
                    to: seen.digest.clone(),
                }),
                _ => None,
            })
            .collect();
        Job {
            image: image.clone(),
            level: inputs.plan.level_of(image).unwrap_or(0),
            build: inputs.builds.get(image).cloned(),
            bases,
            moves,
            triggered,
        }
    }

    /// One image: skip it if already on its new bases, else deliver its new pins,
    /// claim, trigger and wait.
    async fn rebuild(self, job: Job) -> Finished {
        let mut triggered_at = None;
        let mut delivery = None;
        let result = self
            .rebuild_inner(&job, &mut triggered_at, &mut delivery)
            .await;
        Finished {
            image: job.image,
            result,
            triggered_at,
            delivery,
        }
    }

    async fn rebuild_inner(
        &self,
        job: &Job,
        triggered_at: &mut Option<OffsetDateTime>,
        delivery: &mut Option<std::time::Duration>,
    ) -> Result<(Published, Status), String> {
        let key = job.image.to_string();
        let news: Vec<&Published> = job.bases.iter().map(|(_, p)| p).collect();
        let base_name = job.bases.first().map(|(i, _)| i.familiar());
        let before = if job.triggered {
            None
        } else {
            published::inspect(&self.client, &job.image, &self.platform)
                .await
                .ok()
        };
        let mut claimed_now = false;
        let mut delivered = Delivered::default();
        if !job.triggered {
            if let Some(current) = &before
                && !news.is_empty()
                && wait::is_on(current, &news)
            {
                let reason = format!(
                    "{UP_TO_DATE} {} {}",
                    base_name.unwrap_or_default(),
                    short(&news[0].digest)
                );
                let now = OffsetDateTime::now_utc();
                self.state
                    .skip_node(self.run, &key, &reason, now)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok((current.clone(), Status::UpToDate));
            }
            let build = self.startable(job)?;
            let started = std::time::Instant::now();
            delivered = self.deliver(job, build).await?;
            *delivery = Some(started.elapsed());
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
        let timeout = self.settings.timeout;
        if claimed_now {
            match tokio::time::timeout_at(deadline, self.fire(job, &delivered)).await {
                Ok(fired) => fired?,
                Err(_) => {
                    return Err(format!(
                        "timed out after {timeout:?}: its trigger had not finished"
                    ));
                }
            }
        }
        let polling = Polling {
            first: self.settings.poll_interval,
            max: self.settings.poll_max,
            deadline,
        };
        let before = before.as_ref().map(|b| &b.digest);
        let bases: Vec<Base<'_>> = job
            .bases
            .iter()
            .map(|(image, new)| Base { image, new })
            .collect();
        let waited = wait::published_on(
            &self.client,
            &job.image,
            before,
            &bases,
            &self.platform,
            polling,
        );
        match waited.await {
            Ok(seen) => Ok((seen, Status::Published)),
            Err(last_seen) => Err(format!(
                "timed out after {timeout:?}, not published on the new base: {last_seen}"
            )),
        }
    }

    /// The image's build, when it can be started: it has a trigger and its settings agree.
    fn startable<'j>(&self, job: &'j Job) -> Result<&'j Build, String> {
        let build = job
            .build
            .as_ref()
            .filter(|b| b.trigger.is_some())
            .ok_or_else(|| format!("no trigger configured for {}", job.image.familiar()))?;
        build.pins.as_ref().map_err(Clone::clone)?;
        Ok(build)
    }

    /// Brings the job's new pins to its build and records where they went.
    async fn deliver(&self, job: &Job, build: &Build) -> Result<Delivered, String> {
        let cx = deliver::Context {
            image: &job.image,
            cascade_id: self.run.0,
            root: &self.root,
        };
        let delivered = self.deliverer.deliver(build, &job.moves, &cx).await?;
        if let Some(line) = &delivered.said {
            self.say(&format!("L{} {}: {line}", job.level, job.image.familiar()));
        }
        if !delivered.record.is_empty() {
            let now = OffsetDateTime::now_utc();
            self.state
                .record_delivery(self.run, &job.image.to_string(), &delivered.record, now)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(delivered)
    }

    /// Fires the job's trigger, told where its new pins are.
    async fn fire(&self, job: &Job, delivered: &Delivered) -> Result<(), String> {
        let Some(build) = &job.build else {
            return Err(format!(
                "no trigger configured for {}",
                job.image.familiar()
            ));
        };
        let Some(trigger) = &build.trigger else {
            return Err(format!(
                "no trigger configured for {}",
                job.image.familiar()
            ));
        };
        self.say(&format!(
            "L{} trigger {} ({})",
            job.level,
            job.image.familiar(),
            trigger.kind()
        ));
        let request = Request {
            image: job.image.clone(),
            base: job.bases.first().map(|(i, _)| i.clone()),
            base_digest: job
                .bases
                .first()
                .map(|(_, b)| b.digest.to_string())
                .unwrap_or_default(),
            level: job.level,
            cascade_id: self.run.0,
            dockerfile: build.dockerfile.clone(),
            target: build.target.clone(),
            platform: build.how.platform.clone(),
            build_args: delivered.build_args.clone(),
            commit: delivered.record.commit.clone(),
            git_ref: delivered.record.git_ref.clone(),
        };
        trigger::fire(trigger, &request, &build.dir, &self.triggers).await
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

    /// A line for people on stderr (above the progress bar on a terminal).
    pub(super) fn say(&self, line: &str) {
        if !self.quiet {
            self.progress.println(line);
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
        delivery_ms: None,
    }
}
