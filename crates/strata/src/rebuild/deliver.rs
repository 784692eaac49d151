//! act stage, before a trigger: brings the new pins of an image's moved bases to where
//! its build reads them. A build reads its checkout, and a pinned checkout names the
//! old digest, so every pin of every moved base in the image's repository (Dockerfile
//! `FROM`, the `ARG` default that holds it, compose `image:`, any other file) is
//! rewritten with `update`'s splice and re-read check, then, as the image's `pins`
//! setting says: written to the working tree (`in_place`), committed on the branch and
//! pushed (`commit`), or proposed in a pull request (`pull_request`); a pin held by a
//! build argument in `strata.toml` is rewritten there (`arguments`).
//!
//! Every mode is idempotent: a repository that already pins the new digests gets no new
//! write, commit, push or pull request, so a cascade resumed after a crash, or a second
//! image of the same repository on the same base, repeats nothing. Work on one repository
//! is serialised. It starts no build: that is `trigger`'s.

mod arguments;
mod commit;
mod in_place;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use strata_core::graph::ImageRef;
use strata_core::reference::{Digest, Reference};
use strata_core::update::Decision;

use super::pull_request;
use super::wait::short;
use crate::config::workspace::{PinMode, Trigger};
use crate::hierarchy::Build;
use crate::outcome::Failure;
use crate::registry::RegistryClient;
use crate::scan::{FileScan, ScanOptions};
use crate::selection::host_platform;
use crate::state::{PinDelivery, State};
use crate::update::decide::{self, FileOutcome};

/// One moved base: every pin of `base` goes to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub base: ImageRef,
    pub to: Digest,
}

impl Move {
    /// Whether `reference` pins this move's base (at any digest).
    fn pins(&self, reference: &Reference) -> bool {
        reference.digest().is_some() && reference.without_digest() == *self.base.reference()
    }
}

/// What the cascade knows about the image being delivered (for commit messages).
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub image: &'a ImageRef,
    /// The cascade's id and root, for the commit message.
    pub cascade_id: i64,
    pub root: &'a ImageRef,
}

/// Where the new pins went.
#[derive(Debug, Clone, Default)]
pub struct Delivered {
    /// The commit and ref, or the pull request, that carry them (what the state records).
    pub record: PinDelivery,
    /// The image's build arguments as its build must pass them (new pins included).
    pub build_args: BTreeMap<String, String>,
    /// What was done, for the progress line; `None` when nothing needed doing.
    pub said: Option<String>,
}

/// Delivers pins for a cascade; clones share the per-repository locks.
#[derive(Debug, Clone)]
pub struct Deliverer {
    pub state: State,
    pub registry: RegistryClient,
    /// How the repositories' files are read (the workspace platform).
    pub scan: ScanOptions,
    locks: Arc<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>>,
}

impl Deliverer {
    pub fn new(state: State, registry: RegistryClient, platform: &str) -> Deliverer {
        let mut scan = ScanOptions::default();
        scan.dockerfile.platform = Some(platform.to_owned());
        scan.dockerfile.build_platform = Some(host_platform());
        Deliverer {
            state,
            registry,
            scan,
            locks: Arc::default(),
        }
    }

    /// Brings `moves` to `build`'s build as its `pins` mode says. `Err`: why the image
    /// cannot be rebuilt on its new bases (nothing was triggered).
    pub async fn deliver(
        &self,
        build: &Build,
        moves: &[Move],
        cx: &Context<'_>,
    ) -> Result<Delivered, String> {
        let mode = build.pins.clone()?;
        let mut delivered = Delivered {
            build_args: arguments::values(build),
            ..Delivered::default()
        };
        let mut said = Vec::new();
        if mode != PinMode::Leave {
            let file = build.config_file.clone();
            let _config = self.lock(file.as_deref().unwrap_or(Path::new(""))).await;
            if let Some(line) = arguments::rewrite(build, cx.image, moves, &mut delivered)? {
                said.push(line);
            }
        }
        let _repository = self.lock(&build.dir).await;
        let line = match mode {
            PinMode::Leave => None,
            PinMode::InPlace => {
                let dir = build.dir.clone();
                let (moves, scan) = (moves.to_vec(), self.scan.clone());
                blocking(move || in_place::write(&dir, &moves, &scan)).await?
            }
            PinMode::Commit => {
                let job = commit::Job {
                    dir: build.dir.clone(),
                    branch: build.branch.clone(),
                    moves: moves.to_vec(),
                    scan: self.scan.clone(),
                    message: commit::message(cx, moves),
                    push_is_trigger: matches!(build.trigger, Some(Trigger::Push)),
                };
                match blocking(move || commit::commit(&job)).await? {
                    Some(done) => {
                        delivered.record.commit = Some(done.commit.clone());
                        delivered.record.git_ref = Some(format!("refs/heads/{}", done.branch));
                        Some(done.describe())
                    }
                    None => None,
                }
            }
            PinMode::PullRequest => {
                let Some(Trigger::PullRequest {
                    forge,
                    repository,
                    labels,
                    auto_merge,
                    merge_method,
                }) = &build.trigger
                else {
                    return Err("pins = \"pull-request\" needs the pr trigger".to_owned());
                };
                let settings = pull_request::Settings {
                    forge: *forge,
                    repository: repository.as_deref(),
                    labels,
                    auto_merge: auto_merge.then_some(*merge_method),
                    branch: build.branch.as_deref(),
                };
                let mut lines = Vec::new();
                for mv in moves {
                    let opened = pull_request::open(settings, mv, &build.dir, self).await?;
                    if delivered.record.pull_request.is_none() {
                        delivered.record.pull_request = opened.url;
                    }
                    lines.push(opened.line);
                }
                (!lines.is_empty()).then(|| lines.join("; "))
            }
        };
        said.extend(line);
        delivered.said = (!said.is_empty()).then(|| said.join("; "));
        Ok(delivered)
    }

    /// Holds work on one repository (or file) to one image at a time.
    async fn lock(&self, key: &Path) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            locks.entry(key.to_path_buf()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

/// Commits every pin of `moves` under `dir` on its branch (`branch`, else the one checked
/// out) and pushes it to `origin`, as `pins = "commit"` does; what `strata serve` runs for
/// a moved tag in repositories that pin it. `Ok(None)`: no repository with an `origin`
/// there, and nothing pinned; `Ok(Some((commit, branch, pushed)))` otherwise.
pub async fn commit_pins(
    dir: PathBuf,
    branch: Option<String>,
    moves: Vec<Move>,
    scan: ScanOptions,
    message: String,
) -> Result<Option<(String, String, bool)>, String> {
    let job = commit::Job {
        dir,
        branch,
        moves,
        scan,
        message,
        push_is_trigger: false,
    };
    let done = blocking(move || commit::commit(&job)).await?;
    Ok(done.map(|c| (c.commit, c.branch, c.pushed)))
}

/// Runs git and file work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| format!("delivering the new pins: {e}"))?
}

/// `org/base:1 at sha256:0123456789ab` for messages.
fn moved(moves: &[Move]) -> String {
    moves
        .iter()
        .map(|m| format!("{} at {}", m.base.familiar(), short(&m.to)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The files of one repository with every pin of `moves` rewritten (nothing written).
#[derive(Debug)]
struct Rewritten {
    outcomes: Vec<FileOutcome>,
    /// `path:line` of every pin moved.
    places: Vec<String>,
}

/// Decides `results` against `moves`: pins of a moved base go to its new digest, every
/// other pin stays. A pin of a moved base that cannot be rewritten (its `ARG` is shared,
/// its text crosses a continuation, …) is an error: its build would stay on the old base.
fn rewrite(
    results: Vec<FileScan>,
    moves: &[Move],
    scan: &ScanOptions,
) -> Result<Rewritten, String> {
    let outcomes = decide::decide_with(results, scan, |reference| {
        match moves.iter().find(|m| m.pins(reference)) {
            Some(mv) => Ok(mv.to.clone()),
            None => reference
                .digest()
                .cloned()
                .ok_or_else(|| Failure::File(format!("{reference} has no digest"))),
        }
    });
    let mut places = Vec::new();
    let mut stuck = Vec::new();
    for outcome in &outcomes {
        for entry in &outcome.entries {
            let reference = &entry.occurrence.reference;
            let Some(mv) = moves.iter().find(|m| m.pins(reference)) else {
                continue;
            };
            let place = format!("{}:{}", outcome.file.display, entry.occurrence.line);
            match &entry.decision {
                Decision::Update(_) => places.push(place),
                Decision::Current | Decision::NotPinned => {}
                Decision::Skip(reason) if reference.digest() != Some(&mv.to) => {
                    stuck.push(format!("{place} ({})", reason.code()));
                }
                Decision::Skip(_) => {}
                Decision::Failed(failure) => stuck.push(format!("{place} ({failure})")),
            }
        }
    }
    if !stuck.is_empty() {
        return Err(format!(
            "{} pinned at an old digest cannot be rewritten: {}",
            moves
                .iter()
                .map(|m| m.base.familiar())
                .collect::<Vec<_>>()
                .join(", "),
            stuck.join(", ")
        ));
    }
    Ok(Rewritten { outcomes, places })
}
