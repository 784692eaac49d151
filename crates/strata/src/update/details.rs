//! resolve stage, for pull request bodies: what the registry says about both sides of a
//! move — the platforms of the old and new digests, and the source repository and
//! revision the new (and old) image configs carry as OCI labels, and the full image
//! comparison of `crate::diff` (summary and per-platform details). Failures here never
//! fail an update; they are shown as unknown. Network only through the registry client.

use strata_core::reference::{Digest, Reference};
use strata_core::update::BaseMove;

use crate::registry::{ManifestKind, PlatformDigest, RegistryClient};
use crate::state::State;

/// `org.opencontainers.image.source`: where the image's source lives.
pub const SOURCE_LABEL: &str = "org.opencontainers.image.source";
/// `org.opencontainers.image.revision`: the source revision it was built from.
pub const REVISION_LABEL: &str = "org.opencontainers.image.revision";

/// The platform whose config is read when a digest is a multi-platform index.
const PREFERRED_PLATFORM: (&str, &str) = ("linux", "amd64");

/// A titled block of Markdown added to a move's part of the pull request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub markdown: String,
}

/// What is known about one move beyond its digests. `Default` is "nothing fetched".
#[derive(Debug, Clone, Default)]
pub struct MoveDetails {
    /// Platforms of the first old digest (`None`: not fetched; empty: single image).
    pub old_platforms: Option<Result<Vec<PlatformDigest>, String>>,
    /// Platforms of the new digest.
    pub new_platforms: Option<Result<Vec<PlatformDigest>, String>>,
    /// The new image's source repository label.
    pub source: Option<String>,
    /// The old and new images' revision labels.
    pub old_revision: Option<String>,
    pub new_revision: Option<String>,
    /// What changed in the image and why (Markdown), shown first in the body.
    pub summary: Option<String>,
    /// Further sections. The extension point for what later stages know about a move
    /// (the full image comparison, the vulnerability delta): each adds a [`Section`]
    /// here and the body renders it after the built-in ones.
    pub extra: Vec<Section>,
}

/// Fetches everything the body shows for `mv` (platform lists and configs are read by
/// digest, verified and cached by the client).
pub async fn fetch(client: &RegistryClient, mv: &BaseMove, state: Option<&State>) -> MoveDetails {
    let base = &mv.base;
    let old = mv.from.first();
    let old_platforms = match old {
        Some(digest) => Some(platforms(client, base, digest).await),
        None => None,
    };
    let new_platforms = Some(platforms(client, base, &mv.to).await);
    let new_labels = labels(client, base, &mv.to).await;
    let old_labels = match old {
        Some(digest) => labels(client, base, digest).await,
        None => Default::default(),
    };
    let (summary, extra) = comparison(client, mv, state).await;
    MoveDetails {
        old_platforms,
        new_platforms,
        source: new_labels.get(SOURCE_LABEL).cloned(),
        old_revision: old_labels.get(REVISION_LABEL).cloned(),
        new_revision: new_labels.get(REVISION_LABEL).cloned(),
        summary,
        extra,
    }
}

/// The most characters one move's image comparison takes in a body (several moves
/// share a body; the forge's own limit is enforced on the whole body when sent).
pub const COMPARISON_BUDGET: usize = 40_000;

/// The image comparison of the move's old and new digests (`strata diff`): the summary
/// for the top of the body, and the per-platform details as a section. A comparison
/// that fails says so; it never fails the update.
async fn comparison(
    client: &RegistryClient,
    mv: &BaseMove,
    state: Option<&State>,
) -> (Option<String>, Vec<Section>) {
    let Some(old) = mv.from.first() else {
        return (None, Vec::new());
    };
    let options = crate::diff::Options {
        advisories: crate::diff::advisories::location(None),
        ..crate::diff::Options::default()
    };
    let old_ref = mv.base.with_digest(old.clone());
    let new_ref = mv.base.with_digest(mv.to.clone());
    match crate::diff::diff(client, &old_ref, &new_ref, &options, state).await {
        Ok(report) => {
            let md = strata_core::imagediff::markdown_for_pull_request(&report, COMPARISON_BUDGET);
            let details = (!md.details.is_empty()).then(|| Section {
                title: "Details per platform".to_owned(),
                markdown: md.details,
            });
            (Some(md.summary), details.into_iter().collect())
        }
        Err(err) => (
            Some(format!(
                "strata could not compare the two images: {}\n",
                format!("{err:#}").replace('\n', " ")
            )),
            Vec::new(),
        ),
    }
}

async fn platforms(
    client: &RegistryClient,
    base: &Reference,
    digest: &Digest,
) -> Result<Vec<PlatformDigest>, String> {
    client
        .platforms(base, digest)
        .await
        .map_err(|err| err.to_string())
}

/// The config labels of `digest` (for an index: of its preferred platform's image);
/// empty when anything along the way fails.
async fn labels(
    client: &RegistryClient,
    base: &Reference,
    digest: &Digest,
) -> std::collections::BTreeMap<String, String> {
    let Ok(mut manifest) = client.manifest(base, digest).await else {
        return Default::default();
    };
    if let ManifestKind::Index { manifests } = &manifest.kind {
        let chosen = manifests
            .iter()
            .find(|m| {
                m.platform
                    .as_ref()
                    .is_some_and(|p| (p.os.as_str(), p.architecture.as_str()) == PREFERRED_PLATFORM)
            })
            .or_else(|| manifests.iter().find(|m| m.platform.is_some()));
        let Some(chosen) = chosen else {
            return Default::default();
        };
        let digest = chosen.digest.clone();
        match client.manifest(base, &digest).await {
            Ok(image) => manifest = image,
            Err(_) => return Default::default(),
        }
    }
    match client.config(base, &manifest).await {
        Ok(config) => config.labels,
        Err(_) => Default::default(),
    }
}
