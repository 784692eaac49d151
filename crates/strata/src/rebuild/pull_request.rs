//! act stage, the `pr` rebuild trigger: proposes the image's new base in the image's own
//! repository — the pin of the base rewritten to the base's new digest, committed on
//! the `strata/<image>-<tag>` branch, pushed, and the pull request opened or updated —
//! through `crate::update::base`. Merging it and the CI build that follows are the
//! repository's business: the cascade only waits for the new image, as for any trigger.

use std::path::Path;

use strata_core::graph::ImageRef;
use strata_core::reference::Digest;

use super::trigger::{Context, Request};
use crate::forge::{ForgeKind, OpenOutcome};
use crate::scan::ScanOptions;
use crate::selection::host_platform;
use crate::update::base::{BaseUpdate, propose_base};

/// What the `pr` trigger is configured with.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub forge: Option<ForgeKind>,
    pub repository: Option<&'a str>,
    pub labels: &'a [String],
}

/// Opens or updates the pull request moving `request`'s base in the repository holding
/// `dir`; returns a line saying what the forge now has.
pub async fn open(
    settings: Settings<'_>,
    request: &Request,
    dir: &Path,
    cx: &Context,
) -> Result<String, String> {
    let fail = |message: String| format!("pr trigger: {message}");
    let base = ImageRef::parse(&request.base_image).map_err(|e| fail(e.to_string()))?;
    let to: Digest = request
        .base_digest
        .parse()
        .map_err(|e| fail(format!("base digest {:?}: {e}", request.base_digest)))?;
    let mut scan = ScanOptions::default();
    scan.dockerfile.platform = Some(cx.platform.clone());
    scan.dockerfile.build_platform = Some(host_platform());
    let update = BaseUpdate {
        dir,
        base: &base,
        to: &to,
        forge: settings.forge,
        repository: settings.repository,
        labels: settings.labels,
        scan: &scan,
    };
    // One at a time: two images of one repository share the base's branch.
    let _one = cx.proposing.lock().await;
    let proposed = propose_base(&update, &cx.state, Some(&cx.registry))
        .await
        .map_err(|e| fail(format!("{e:#}")))?;
    let Some(outcome) = proposed else {
        return Ok(format!(
            "its repository already pins {} at {}",
            base.familiar(),
            super::wait::short(&to)
        ));
    };
    let branch = &outcome.group.branch;
    Ok(match &outcome.pull_request {
        Some(pull) => {
            let done = match pull.outcome {
                OpenOutcome::Created => "opened",
                OpenOutcome::Updated => "updated",
                OpenOutcome::Unchanged => "already open",
            };
            format!(
                "pull request {} {done} ({branch}): {}",
                pull.number, pull.url
            )
        }
        None => format!("branch {branch} pushed"),
    })
}
