//! diff stage, driven: compares two images per platform — resolves both, pairs their
//! platforms (os, architecture, variant), fetches each platform's config and layers
//! (layers streamed into the on-disk blob store once, each unique layer read once even
//! when both images share it), computes the final filesystems' package databases with
//! the layer rules, matches advisories, finds the causes — and assembles the core's
//! [`Report`]. Never writes anything but the blob cache; prints nothing.

pub mod advisories;
mod compare;
mod inventory;
pub mod layer;
pub mod refresh;
pub mod why;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use strata_core::imagediff::{ConfigView, Report, Side, platform_name};
use strata_core::osv::AdvisoryIndex;
use strata_core::reference::{Digest, Reference};
use tokio::sync::Semaphore;

use self::compare::compare;
use self::inventory::inventory;
use self::layer::LayerRead;
use self::why::{SideFacts, Sources};
use crate::registry::{Manifest, ManifestKind, RegistryClient};
use crate::state::State;

/// What to compare and with what.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Only these platforms (`linux/arm64`; a name without variant matches any).
    pub platforms: Vec<String>,
    /// The OSV advisory directory (`None`: advisories are not matched).
    pub advisories: Option<PathBuf>,
    /// A Docker Official Images checkout or copy (`library/`), for library causes.
    pub official_images: Option<PathBuf>,
    /// Layers read at once (default: the available cores).
    pub parallel: Option<usize>,
}

/// One side as resolved: what it was named, its top-level digest and manifest.
struct Resolved {
    reference: Reference,
    digest: Digest,
    top: Manifest,
}

/// One platform of one side.
pub(crate) struct PlatformImage {
    pub(crate) name: String,
    pub(crate) manifest: Manifest,
    pub(crate) config: ConfigView,
    pub(crate) config_bytes_labels: BTreeMap<String, String>,
    pub(crate) layers: Vec<(Digest, u64)>,
}

/// Compares `old` with `new`.
pub async fn diff(
    client: &RegistryClient,
    old: &Reference,
    new: &Reference,
    options: &Options,
    state: Option<&State>,
) -> Result<Report> {
    let (old, new) = tokio::try_join!(resolve(client, old), resolve(client, new))?;
    let (old_platforms, new_platforms) =
        tokio::try_join!(platforms(client, &old), platforms(client, &new))?;
    let wanted = |name: &str| {
        options.platforms.is_empty()
            || options
                .platforms
                .iter()
                .any(|p| name == p || name.starts_with(&format!("{p}/")))
    };
    let mut pairs = Vec::new();
    let mut added = Vec::new();
    let mut removed = Vec::new();
    for (name, digest) in &new_platforms {
        if !wanted(name) {
            continue;
        }
        match old_platforms.get(name) {
            Some(old_digest) => pairs.push((name.clone(), old_digest.clone(), digest.clone())),
            None => added.push(name.clone()),
        }
    }
    removed.extend(
        old_platforms
            .keys()
            .filter(|n| wanted(n) && !new_platforms.contains_key(*n))
            .cloned(),
    );
    if pairs.is_empty() && !options.platforms.is_empty() && added.is_empty() && removed.is_empty() {
        return Err(anyhow!(
            "neither image has the platform {}",
            options.platforms.join(", ")
        ));
    }
    // Every platform image of both sides.
    let mut images = Vec::new();
    for (name, old_digest, new_digest) in &pairs {
        let (a, b) = tokio::try_join!(
            platform_image(client, &old, name, old_digest),
            platform_image(client, &new, name, new_digest)
        )?;
        images.push((a, b));
    }
    // Each unique layer fetched and read once.
    let reads = read_layers(client, &old, &new, &images, options.parallel).await;
    let mut ecosystems = BTreeSet::new();
    let mut inventories = Vec::new();
    for (a, b) in &images {
        let (old_inv, new_inv) = (inventory(a, &reads), inventory(b, &reads));
        for inv in [&old_inv, &new_inv] {
            if let Some(r) = inv.release.as_ref() {
                ecosystems.insert(r.ecosystem.split(':').next().unwrap_or_default().to_owned());
            }
        }
        inventories.push((old_inv, new_inv));
    }
    let mut notes_all = Vec::new();
    let advisories = match options.advisories.as_deref() {
        Some(dir) if !ecosystems.is_empty() => {
            let dir = dir.to_owned();
            let wanted = ecosystems.clone();
            let loaded = tokio::task::spawn_blocking(move || advisories::load(&dir, &wanted))
                .await
                .context("loading advisories")??;
            notes_all.extend(loaded.problems.iter().take(5).cloned());
            Some(loaded.index)
        }
        Some(_) => Some(AdvisoryIndex::default()),
        None => None,
    };
    let mut reports = Vec::new();
    for ((a, b), (old_inv, new_inv)) in images.iter().zip(inventories) {
        reports.push(compare(
            a,
            b,
            old_inv,
            new_inv,
            advisories.as_ref(),
            &notes_all,
        ));
    }
    let facts = |side: &Resolved, image: Option<&PlatformImage>| {
        let mut metadata = annotations(&side.top);
        if let Some(image) = image {
            metadata.extend(annotations(&image.manifest));
            for (k, v) in &image.config_bytes_labels {
                metadata.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        SideFacts {
            reference: Some(side.reference.clone()),
            digest: Some(side.digest.clone()),
            metadata,
            layers: image
                .map(|i| {
                    i.config
                        .diff_ids
                        .iter()
                        .filter_map(|d| d.parse().ok())
                        .collect()
                })
                .unwrap_or_default(),
            platform: image.map_or_else(|| "linux/amd64".to_owned(), |i| i.name.clone()),
        }
    };
    let first = images.first();
    let sources = Sources {
        client,
        state,
        official_images: options.official_images.as_deref(),
    };
    let causes = why::causes(
        &facts(&old, first.map(|(a, _)| a)),
        &facts(&new, first.map(|(_, b)| b)),
        sources,
    )
    .await;
    Ok(Report::new(
        Side {
            reference: old.reference.to_string(),
            digest: old.digest.to_string(),
        },
        Side {
            reference: new.reference.to_string(),
            digest: new.digest.to_string(),
        },
        reports,
        added,
        removed,
        causes,
        advisories.as_ref().map(AdvisoryIndex::len),
    ))
}

async fn resolve(client: &RegistryClient, reference: &Reference) -> Result<Resolved> {
    let digest = match reference.digest() {
        Some(digest) => digest.clone(),
        None => {
            client
                .resolve(reference)
                .await
                .with_context(|| format!("looking up {reference}"))?
                .digest
        }
    };
    let top = client
        .manifest(reference, &digest)
        .await
        .with_context(|| format!("reading {reference}"))?;
    Ok(Resolved {
        reference: reference.clone(),
        digest,
        top,
    })
}

/// Platform name -> manifest digest (a single-platform image names itself from its
/// config).
async fn platforms(client: &RegistryClient, side: &Resolved) -> Result<BTreeMap<String, Digest>> {
    if let ManifestKind::Index { .. } = side.top.kind {
        return Ok(side
            .top
            .platforms()
            .into_iter()
            .map(|p| {
                (
                    platform_name(&p.os, &p.architecture, p.variant.as_deref()),
                    p.digest,
                )
            })
            .collect());
    }
    let config = client
        .config(&side.reference, &side.top)
        .await
        .with_context(|| format!("reading the config of {}", side.reference))?;
    let name = platform_name(
        config.os.as_deref().unwrap_or("unknown"),
        config.architecture.as_deref().unwrap_or("unknown"),
        config.variant.as_deref(),
    );
    Ok(BTreeMap::from([(name, side.digest.clone())]))
}

async fn platform_image(
    client: &RegistryClient,
    side: &Resolved,
    name: &str,
    digest: &Digest,
) -> Result<PlatformImage> {
    let context = || {
        format!(
            "reading {}@{digest} ({name})",
            side.reference.without_digest()
        )
    };
    let manifest = if *digest == side.digest {
        side.top.clone()
    } else {
        client
            .manifest(&side.reference, digest)
            .await
            .with_context(context)?
    };
    let config = client
        .config(&side.reference, &manifest)
        .await
        .with_context(context)?;
    let view = ConfigView::parse(&config.bytes).with_context(context)?;
    let ManifestKind::Image { layers, .. } = &manifest.kind else {
        return Err(anyhow!("{} is an index inside an index", context()));
    };
    Ok(PlatformImage {
        name: name.to_owned(),
        layers: layers.iter().map(|l| (l.digest.clone(), l.size)).collect(),
        config_bytes_labels: config.labels.clone(),
        config: view,
        manifest,
    })
}

pub(crate) type Reads = HashMap<Digest, Result<Arc<LayerRead>, String>>;

/// Fetches (into the blob store) and reads every unique layer of `images`, reads bounded
/// by the cores, fetches by the client's per-registry limit.
async fn read_layers(
    client: &RegistryClient,
    old: &Resolved,
    new: &Resolved,
    images: &[(PlatformImage, PlatformImage)],
    parallel: Option<usize>,
) -> Reads {
    let mut unique: BTreeMap<Digest, (Reference, u64)> = BTreeMap::new();
    for (a, b) in images {
        for (side, image) in [(old, a), (new, b)] {
            for (digest, size) in &image.layers {
                unique
                    .entry(digest.clone())
                    .or_insert_with(|| (side.reference.clone(), *size));
            }
        }
    }
    let cores = parallel
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
        .max(1);
    let cpu = Arc::new(Semaphore::new(cores));
    let mut tasks = tokio::task::JoinSet::new();
    for (digest, (reference, size)) in unique {
        let client = client.clone();
        let cpu = cpu.clone();
        tasks.spawn(async move {
            let result = read_one(&client, &reference, &digest, size, &cpu).await;
            (digest, result.map(Arc::new))
        });
    }
    let mut reads = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((digest, result)) = joined {
            reads.insert(digest, result);
        }
    }
    reads
}

async fn read_one(
    client: &RegistryClient,
    reference: &Reference,
    digest: &Digest,
    size: u64,
    cpu: &Semaphore,
) -> Result<LayerRead, String> {
    for attempt in 0..2 {
        let file = client
            .blob_file(reference, digest, size)
            .await
            .map_err(|e| e.to_string())?;
        let _permit = cpu.acquire().await.map_err(|e| e.to_string())?;
        let (path, d) = (file.path.clone(), digest.clone());
        let read = tokio::task::spawn_blocking(move || layer::read(&path, &d))
            .await
            .map_err(|e| format!("reading layer {digest}: {e}"))?;
        match read {
            Ok(read) => return Ok(read),
            // A stored copy that no longer hashes right: drop it and fetch once more.
            Err(layer::LayerError::Mismatch { .. }) if !file.fetched && attempt == 0 => {
                client.forget_blob(digest);
            }
            Err(err) => return Err(err.to_string()),
        }
    }
    Err(format!("layer {digest} could not be read"))
}

#[derive(Deserialize)]
struct Annotated {
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

fn annotations(manifest: &Manifest) -> BTreeMap<String, String> {
    serde_json::from_slice::<Annotated>(&manifest.bytes)
        .map(|a| a.annotations)
        .unwrap_or_default()
}

pub(crate) fn short(digest: &Digest) -> String {
    digest.as_str().chars().take(19).collect()
}
