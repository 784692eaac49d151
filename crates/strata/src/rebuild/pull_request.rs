//! act stage, `pins = "pull-request"` (the `pr` trigger): proposes a moved base's new
//! digest in the image's own repository — every pin of the base rewritten, committed on
//! the `strata/<image>-<tag>` branch, pushed, and the pull request opened or updated —
//! through `crate::update::base`; with `auto_merge`, the forge's auto-merge is turned on
//! so the repository's CI merges and publishes with nobody in the loop. Merging and the
//! build that follows are the repository's: the cascade only waits for the new image.

use std::path::Path;

use super::deliver::{Deliverer, Move};
use super::wait::short;
use crate::forge::{AutoMerge, ForgeKind, MergeMethod, OpenOutcome};
use crate::update::base::{BaseUpdate, propose_base};

/// What the `pr` trigger is configured with.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub forge: Option<ForgeKind>,
    pub repository: Option<&'a str>,
    pub labels: &'a [String],
    /// Turn on auto-merge (with this method, `None`: the forge's default).
    pub auto_merge: Option<Option<MergeMethod>>,
    /// The branch pull requests go to (`None`: the one checked out).
    pub branch: Option<&'a str>,
}

/// What the forge now has.
#[derive(Debug, Clone)]
pub struct Opened {
    /// For the progress line.
    pub line: String,
    /// The pull request's address (`None`: none was needed).
    pub url: Option<String>,
}

/// Opens or updates the pull request moving `mv`'s base in the repository holding `dir`.
pub async fn open(
    settings: Settings<'_>,
    mv: &Move,
    dir: &Path,
    deliverer: &Deliverer,
) -> Result<Opened, String> {
    let fail = |message: String| format!("pr trigger: {message}");
    let update = BaseUpdate {
        dir,
        base: &mv.base,
        to: &mv.to,
        forge: settings.forge,
        repository: settings.repository,
        labels: settings.labels,
        auto_merge: settings.auto_merge,
        latest: true,
        branch: settings.branch,
        scan: &deliverer.scan,
    };
    let proposed = propose_base(&update, &deliverer.state, Some(&deliverer.registry))
        .await
        .map_err(|e| fail(format!("{e:#}")))?;
    let Some(outcome) = proposed else {
        return Ok(Opened {
            line: format!(
                "its repository already pins {} at {}",
                mv.base.familiar(),
                short(&mv.to)
            ),
            url: None,
        });
    };
    let branch = &outcome.group.branch;
    Ok(match &outcome.pull_request {
        Some(pull) => {
            let done = match pull.outcome {
                OpenOutcome::Created => "opened",
                OpenOutcome::Updated => "updated",
                OpenOutcome::Unchanged => "already open",
            };
            let merge = match pull.auto_merge {
                None => "",
                Some(AutoMerge::Enabled) => ", auto-merge on",
                Some(AutoMerge::Merged) => ", merged",
            };
            Opened {
                line: format!(
                    "pull request {} {done}{merge} ({branch}): {}",
                    pull.number, pull.url
                ),
                url: Some(pull.url.clone()),
            }
        }
        None => Opened {
            line: format!("branch {branch} pushed"),
            url: None,
        },
    })
}
