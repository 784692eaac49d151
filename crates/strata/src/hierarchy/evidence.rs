//! graph stage, registry evidence: asks the registry about every node (in parallel),
//! follows base annotations to images the files never named, and adds the edges and
//! digests the answers prove. Base annotations are the image's own statement; images
//! without one get a layer-prefix edge — against their Dockerfile base's current or
//! earlier digests when the files name a base, else the longest prefix among all known
//! images ([`LayerIndex`]). Lookup failures become warnings, never errors.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use strata_core::graph::{EdgeFilter, EdgeKind, Evidence, ImageRef, LayerIndex, Node};
use strata_core::reference::Digest;
use tokio::task::JoinSet;

use super::published::{self, Published};
use super::{Hierarchy, history};
use crate::registry::{RegistryClient, RegistryError};
use crate::state::State;

/// Earlier digests of a base tried for a layer-prefix match.
pub(super) const HISTORY_DEPTH: usize = 5;

/// Rounds of following annotations to images not yet inspected.
const MAX_ROUNDS: usize = 8;

/// Inspects every node, then adds evidence edges and current digests to the graph.
pub(super) async fn observe(
    hierarchy: &mut Hierarchy,
    client: &RegistryClient,
    platform: &str,
    state: Option<&State>,
) {
    let mut failed: BTreeSet<ImageRef> = BTreeSet::new();
    for _ in 0..MAX_ROUNDS {
        let todo: Vec<ImageRef> = hierarchy
            .graph
            .nodes()
            .iter()
            .map(|n| n.image.clone())
            .filter(|i| !hierarchy.published.contains_key(i) && !failed.contains(i))
            .collect();
        if todo.is_empty() {
            break;
        }
        for (image, result) in inspect_all(client, &todo, platform).await {
            match result {
                Ok(seen) => {
                    if let Some(base) = seen.base_image() {
                        // Annotated bases join the graph so they are inspected next round.
                        let _ = hierarchy.graph.add_node(Node::external(base));
                    }
                    hierarchy.graph.set_digest(&image, seen.digest.clone());
                    hierarchy.published.insert(image, seen);
                }
                Err(e) => {
                    let missing = e.chain().any(|cause| {
                        matches!(
                            cause.downcast_ref::<RegistryError>(),
                            Some(RegistryError::NotFound { .. })
                        )
                    });
                    if missing {
                        // Not in its registry: missing, never fresh.
                        hierarchy.graph.set_missing(&image);
                        hierarchy.warnings.push(format!("{e:#}"));
                    } else if hierarchy.graph.node(&image).is_some_and(|n| n.is_managed()) {
                        hierarchy.warnings.push(format!("{e:#}"));
                    }
                    failed.insert(image);
                }
            }
        }
    }
    let images: Vec<ImageRef> = hierarchy.published.keys().cloned().collect();
    let earlier = match state {
        Some(state) => history(state, &images).await,
        None => BTreeMap::new(),
    };
    let old = inspect_history(client, &earlier, platform).await;
    annotate(hierarchy);
    layer_prefixes(hierarchy, &old);
}

/// Inspects `images` concurrently (the client bounds requests per registry).
async fn inspect_all(
    client: &RegistryClient,
    images: &[ImageRef],
    platform: &str,
) -> Vec<(ImageRef, anyhow::Result<Published>)> {
    let mut tasks = JoinSet::new();
    for image in images {
        let (client, image, platform) = (client.clone(), image.clone(), platform.to_owned());
        tasks.spawn(async move {
            let result = published::inspect(&client, &image, &platform).await;
            (image, result)
        });
    }
    let mut out = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(pair) = joined {
            out.push(pair);
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The earlier digests' contents, per image (those the registry still serves).
async fn inspect_history(
    client: &RegistryClient,
    earlier: &BTreeMap<ImageRef, Vec<Digest>>,
    platform: &str,
) -> BTreeMap<ImageRef, Vec<Published>> {
    let mut out: BTreeMap<ImageRef, Vec<Published>> = BTreeMap::new();
    for (image, digests) in earlier {
        for digest in digests {
            if let Ok(seen) = published::inspect_digest(client, image, digest, platform).await {
                out.entry(image.clone()).or_default().push(seen);
            }
        }
    }
    out
}

/// Base annotation evidence with the recorded digest, normalised to the base's
/// top-level digest when it names one of the base's current platform manifests.
fn annotate(hierarchy: &mut Hierarchy) {
    for (image, seen) in &hierarchy.published {
        let Some(base) = seen.base_image() else {
            continue;
        };
        let digest = seen
            .base_digest
            .clone()
            .map(|d| match hierarchy.published.get(&base) {
                Some(current) if current.is(&d) => current.digest.clone(),
                _ => d,
            });
        let evidence = Evidence::BaseAnnotation { digest };
        hierarchy
            .graph
            .add_edge(&base, image, EdgeKind::FinalStage, evidence);
    }
}

/// Layer-prefix edges for published images that name no base digest.
fn layer_prefixes(hierarchy: &mut Hierarchy, old: &BTreeMap<ImageRef, Vec<Published>>) {
    let mut candidates: Vec<(ImageRef, Vec<Digest>)> = Vec::new();
    let mut digest_of: HashMap<(ImageRef, Vec<Digest>), Digest> = HashMap::new();
    let current = hierarchy.published.iter();
    let earlier = old
        .iter()
        .flat_map(|(i, list)| list.iter().map(move |p| (i, p)));
    for (image, seen) in current.chain(earlier) {
        candidates.push((image.clone(), seen.layers.clone()));
        digest_of
            .entry((image.clone(), seen.layers.clone()))
            .or_insert_with(|| seen.digest.clone());
    }
    let index = LayerIndex::new(&candidates);
    let mut found = Vec::new();
    for (image, seen) in &hierarchy.published {
        if seen.base_digest.is_some() || seen.layers.is_empty() {
            continue;
        }
        let bases: Vec<ImageRef> = hierarchy
            .graph
            .parents(image, EdgeFilter::FinalStage)
            .iter()
            .map(|e| e.base().clone())
            .collect();
        if bases.is_empty() {
            if let Some((base, n)) = index.infer_base(&seen.layers)
                && base != *image
                && let Some(digest) = digest_of.get(&(base.clone(), seen.layers[..n].to_vec()))
            {
                found.push((base, image.clone(), n, digest.clone()));
            }
            continue;
        }
        // The files name the base: which of its digests does this image sit on?
        for base in bases {
            let versions = hierarchy
                .published
                .get(&base)
                .into_iter()
                .chain(old.get(&base).into_iter().flatten());
            if let Some(version) = versions.into_iter().find(|v| seen.layers_start_with(v)) {
                found.push((
                    base,
                    image.clone(),
                    version.layers.len(),
                    version.digest.clone(),
                ));
            }
        }
    }
    for (base, child, layers, digest) in found {
        let evidence = Evidence::LayerPrefix {
            layers,
            digest: Some(digest),
        };
        hierarchy
            .graph
            .add_edge(&base, &child, EdgeKind::FinalStage, evidence);
    }
}
