//! graph stage, registry side: what a published image says about its base — the tag's
//! digest, the base annotations (`org.opencontainers.image.base.name` / `.base.digest`,
//! read from the image manifest, then the index, then the config labels) and its layer
//! list. Layers are the config's `rootfs.diff_ids` (uncompressed, so a recompressed copy
//! of a base still matches), always of one platform: the workspace's, else the first.
//! Reads the registry only; decides nothing.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde::Deserialize;
use strata_core::graph::ImageRef;
use strata_core::reference::{Digest, Reference};

use crate::registry::{Manifest, ManifestKind, PlatformDigest, RegistryClient};

/// The annotation (or label) naming the base image.
pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
/// The annotation (or label) holding the base's digest.
pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// One published image, as far as the hierarchy cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// What the tag points at (an index digest for multi-platform images).
    pub digest: Digest,
    /// Every digest that stands for this image: the top-level one and, for an index,
    /// each platform manifest's (annotations may record either).
    pub aliases: Vec<Digest>,
    /// The base it says it was built on.
    pub base_name: Option<String>,
    pub base_digest: Option<Digest>,
    /// The compared platform's layers (diff IDs), base first.
    pub layers: Vec<Digest>,
}

impl Published {
    /// Whether `digest` names this image (top-level or one of its platforms).
    pub fn is(&self, digest: &Digest) -> bool {
        self.aliases.contains(digest)
    }

    /// The base named by the annotations, when it parses as an image tag.
    pub fn base_image(&self) -> Option<ImageRef> {
        self.base_name
            .as_deref()
            .and_then(|name| ImageRef::parse(name).ok())
    }

    /// Whether this image's layers start with all of `base`'s (and `base` has some).
    pub fn layers_start_with(&self, base: &Published) -> bool {
        !base.layers.is_empty() && self.layers.starts_with(&base.layers)
    }
}

#[derive(Deserialize)]
struct Annotated {
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// Looks the tag up (one `HEAD`) and reads what it points at.
pub async fn inspect(
    client: &RegistryClient,
    image: &ImageRef,
    platform: &str,
) -> Result<Published> {
    let resolved = client
        .resolve(image.reference())
        .await
        .with_context(|| format!("looking up {}", image.familiar()))?;
    inspect_digest(client, image, &resolved.digest, platform).await
}

/// Reads the image `digest` of `image`'s repository (content by digest, cacheable).
pub async fn inspect_digest(
    client: &RegistryClient,
    image: &ImageRef,
    digest: &Digest,
    platform: &str,
) -> Result<Published> {
    let reference: &Reference = image.reference();
    let context = || format!("reading {}@{digest}", image.familiar());
    let top = client
        .manifest(reference, digest)
        .await
        .with_context(context)?;
    let mut aliases = vec![digest.clone()];
    let mut annotations = annotations(&top);
    let manifest = match &top.kind {
        ManifestKind::Image { .. } => top,
        ManifestKind::Index { .. } => {
            let platforms = client
                .platforms(reference, digest)
                .await
                .with_context(context)?;
            aliases.extend(platforms.iter().map(|p| p.digest.clone()));
            let Some(chosen) = choose(&platforms, platform) else {
                return Ok(Published {
                    digest: digest.clone(),
                    aliases,
                    base_name: annotations.remove(BASE_NAME),
                    base_digest: annotations.get(BASE_DIGEST).and_then(|d| d.parse().ok()),
                    layers: Vec::new(),
                });
            };
            let inner = client
                .manifest(reference, &chosen.digest)
                .await
                .with_context(context)?;
            // The platform manifest's own annotations win over the index's.
            annotations.extend(self::annotations(&inner));
            inner
        }
    };
    let config = client
        .config(reference, &manifest)
        .await
        .with_context(context)?;
    let pick = |key: &str| {
        annotations
            .get(key)
            .or_else(|| config.labels.get(key))
            .filter(|v| !v.trim().is_empty())
            .cloned()
    };
    Ok(Published {
        digest: digest.clone(),
        aliases,
        base_name: pick(BASE_NAME),
        base_digest: pick(BASE_DIGEST).and_then(|d| d.trim().parse().ok()),
        layers: config.diff_ids,
    })
}

fn annotations(manifest: &Manifest) -> BTreeMap<String, String> {
    serde_json::from_slice::<Annotated>(&manifest.bytes)
        .map(|a| a.annotations)
        .unwrap_or_default()
}

/// The platform `os/arch[/variant]` asked for, else the first one listed.
fn choose<'p>(platforms: &'p [PlatformDigest], wanted: &str) -> Option<&'p PlatformDigest> {
    let mut parts = wanted.split('/');
    let (os, arch, variant) = (parts.next(), parts.next(), parts.next());
    platforms
        .iter()
        .find(|p| {
            Some(p.os.as_str()) == os
                && Some(p.architecture.as_str()) == arch
                && (variant.is_none() || p.variant.as_deref() == variant)
        })
        .or_else(|| platforms.first())
}
