//! act + record stages for one repository and one moved base: the update pipeline fed
//! a move that is already known (a cascade's new base image) instead of registry
//! lookups — what a cascade's `pr` trigger runs in the repository of an image it
//! rebuilds. Scans the repository, commits the rewritten pins on the base's branch,
//! pushes it and opens or updates its pull request. Never writes the working tree.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use strata_core::graph::ImageRef;
use strata_core::reference::Digest;
use strata_core::update::{Decision, Grouping};
use time::OffsetDateTime;

use super::commit::{self, REMOTE, Repository};
use super::decide::{self, FileOutcome};
use super::remote::forge_of;
use super::repositories::Checkout;
use super::{GroupOutcome, Pipeline, propose};
use crate::discover::{Filters, discover};
use crate::forge::{ForgeKind, MergeMethod};
use crate::outcome::Failure;
use crate::registry::{RegistryClient, TagKey};
use crate::scan::{FileScan, ScanOptions, extract_text};
use crate::state::State;

/// One base moved to a known digest, to be proposed in one repository.
#[derive(Debug, Clone)]
pub struct BaseUpdate<'a> {
    /// A directory inside the repository (its whole checkout is scanned).
    pub dir: &'a Path,
    /// The base whose pins move.
    pub base: &'a ImageRef,
    /// The base's new digest.
    pub to: &'a Digest,
    /// The forge; `None`: told from the `origin` URL's host.
    pub forge: Option<ForgeKind>,
    /// The forge repository; `None`: the one the `origin` URL names.
    pub repository: Option<&'a str>,
    pub labels: &'a [String],
    /// Turn on the forge's auto-merge (with this method, `None`: the forge's default).
    pub auto_merge: Option<Option<MergeMethod>>,
    /// Branch from `origin`'s current tip of the base branch (`branch`, else the one
    /// checked out) rather than the commit checked out: what a cascade proposes against,
    /// so a pull request merged meanwhile is seen and a checkout nobody pulls is no
    /// obstacle.
    pub latest: bool,
    /// The base branch (`None`: the one checked out).
    pub branch: Option<&'a str>,
    pub scan: &'a ScanOptions,
}

/// Commits `update`'s move on its branch (`strata/<image>-<tag>`), pushes it and opens
/// or updates the pull request, as `update --pr` would for that base alone.
/// The branch starts from the commit checked out, and the files are read as that commit
/// has them (uncommitted changes are ignored, never touched). `Ok(None)` when it already
/// pins the new digest (nothing to propose); an error when it pins the base nowhere.
/// Git runs blocking.
pub async fn propose_base(
    update: &BaseUpdate<'_>,
    state: &State,
    client: Option<&RegistryClient>,
) -> Result<Option<GroupOutcome>> {
    let mut repo = commit::open(update.dir, true)?;
    if let Some(branch) = update.branch {
        repo.base_branch = Some(branch.to_owned());
    }
    if update.latest
        && let Some(branch) = repo.base_branch.clone()
        && let Some(tip) = commit::remote_tip(&repo, &branch).ok().flatten()
    {
        repo.base = tip;
    }
    let kind = match update.forge {
        Some(kind) => kind,
        None => origin_forge(&repo)?,
    };
    let target = propose::connect(kind, update.repository, &repo)?;
    let results = scan_committed(&repo, update.scan)?;
    let base = update.base.reference();
    let outcomes = decide::decide_with(results, update.scan, |reference| {
        if reference.without_digest() == *base {
            return Ok(update.to.clone());
        }
        // Every other pin stays as it is.
        reference
            .digest()
            .cloned()
            .ok_or_else(|| Failure::File(format!("{reference} has no digest")))
    });
    let top = repo.git.top().display().to_string();
    let pins = pins_of(&outcomes, update.base);
    if pins.moved == 0 {
        if let Some(failure) = pins.failed.first() {
            bail!("{failure}");
        }
        if pins.current > 0 {
            return Ok(None);
        }
        bail!(
            "no file in {top} pins {} (as `{}@sha256:…`): there is no pin to propose (pin it \
             with `strata pin`, or let a push start its build: trigger = {{ kind = \"push\" }})",
            update.base.familiar(),
            update.base.familiar()
        );
    }
    let key = TagKey::of(base).map_err(|e| anyhow!("{e}"))?;
    let mut since = HashMap::new();
    if let Ok(Some(at)) = state.digest_first_seen(&key, update.to).await {
        since.insert(key, at);
    }
    let checkout = Checkout {
        label: None,
        repo: Ok(repo),
        target: Some(Ok(target)),
        files: None,
    };
    let pipeline = Pipeline {
        scan: update.scan,
        grouping: Grouping::Base,
        write: false,
        push: true,
        labels: update.labels,
        auto_merge: update.auto_merge,
        checkouts: std::slice::from_ref(&checkout),
        state,
        client: client.cloned(),
        at: OffsetDateTime::now_utc(),
    };
    let (_, groups) = pipeline.act(outcomes, &since).await;
    let mut groups = groups.into_iter();
    let (Some(outcome), None) = (groups.next(), groups.next()) else {
        bail!(
            "expected one change set for {} in {top}",
            update.base.familiar()
        );
    };
    match &outcome.error {
        Some(error) => bail!("{error}"),
        None => Ok(Some(outcome)),
    }
}

/// The forge the `origin` URL's host names.
fn origin_forge(repo: &Repository) -> Result<ForgeKind> {
    let url = repo.git.remote_url(REMOTE)?.ok_or_else(|| {
        anyhow!("the repository has no {REMOTE} remote to open the pull request on")
    })?;
    forge_of(&url).ok_or_else(|| {
        anyhow!("cannot tell the forge from the {REMOTE} URL {url:?}: set the trigger's `forge`")
    })
}

/// Every image file of the repository as the base commit has it (what the branch is
/// built from; the working tree may differ), scanned. Files the commit lacks are left
/// out: they cannot be proposed.
fn scan_committed(repo: &Repository, opts: &ScanOptions) -> Result<Vec<FileScan>> {
    let top = repo.git.top().to_path_buf();
    let (files, _walk_errors) = discover(&[top], &Filters::default()).map_err(|e| anyhow!(e))?;
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let Some(path) = repo.relative(&file.path) else {
            continue;
        };
        let Some((_mode, blob)) = repo.git.file_at(&repo.base, &path)? else {
            continue;
        };
        let Ok(text) = String::from_utf8(repo.git.blob(&blob)?) else {
            continue;
        };
        let extraction = extract_text(&file, &text, opts);
        out.push(FileScan {
            file,
            text,
            extraction,
        });
    }
    Ok(out)
}

/// What happens to the pins of `base`.
#[derive(Debug, Default)]
struct Pins {
    moved: usize,
    /// Already at the new digest.
    current: usize,
    /// Why pins could not be rewritten.
    failed: Vec<String>,
}

fn pins_of(outcomes: &[FileOutcome], base: &ImageRef) -> Pins {
    let mut pins = Pins::default();
    let of_base = outcomes
        .iter()
        .flat_map(|o| &o.entries)
        .filter(|e| e.occurrence.reference.without_digest() == *base.reference());
    for entry in of_base {
        match &entry.decision {
            Decision::Update(_) => pins.moved += 1,
            Decision::Current => pins.current += 1,
            Decision::Failed(failure) => pins.failed.push(failure.to_string()),
            _ => {}
        }
    }
    pins
}
