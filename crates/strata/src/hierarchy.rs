//! graph stage, driven: builds the image hierarchy of a workspace — its repositories'
//! Dockerfiles and compose files ([`declare`]), then what the registry says about every
//! image ([`published`]: tag digests, base annotations, layers) — into a
//! [`strata_core::graph::Graph`], plus how each managed image is rebuilt. It observes
//! and records; staleness, plans and renderings are the core graph's, firing rebuilds
//! is `crate::rebuild`'s.
//!
//! Edges come from three kinds of evidence: a managed Dockerfile's `FROM` (final stage
//! through stage aliases; other stages and `COPY --from` as other edge kinds), a published
//! image's base annotations, and — for images that carry none — the layer-prefix match
//! against the current (and previously observed) layers of the other images.

mod compose;
mod declare;
pub mod dockerfile;
mod evidence;
pub mod published;
pub mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use strata_core::graph::{Evidence, Graph, ImageRef, Node, Producer};
use strata_core::reference::Digest;
use time::OffsetDateTime;

pub use declare::{Declared, How, Produced, declare};
pub use published::Published;

use crate::config::workspace::{PinMode, RepositorySource, RepositorySpec, Trigger, Workspace};
use crate::registry::{RegistryClient, TagKey};
use crate::scan::ScanOptions;
use crate::selection::host_platform;
use crate::state::State;

/// How a managed image is rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// The repository (by name) that builds it.
    pub repository: String,
    /// Where a command trigger runs: the repository's checkout.
    pub dir: PathBuf,
    /// `None`: no trigger configured (a cascade reports the image as failed).
    pub trigger: Option<Trigger>,
    /// How its rebuild gets the new pins of its moved bases; `Err`: its settings
    /// contradict each other (the cascade fails the image with this message).
    pub pins: Result<PinMode, String>,
    /// The branch `pins = "commit"` commits to; `None`: the one checked out.
    pub branch: Option<String>,
    /// Its Dockerfile, relative to the repository (`None`: no Dockerfile in reach).
    pub dockerfile: Option<String>,
    /// The stage built, when not the last.
    pub target: Option<String>,
    /// Its platform and build arguments beyond the Dockerfile's.
    pub how: How,
    /// The `strata.toml` its build arguments are written in (where their pins live).
    pub config_file: Option<PathBuf>,
}

impl Build {
    /// The build with `trigger` for an image of `repository` at `dir`, its settings taken
    /// from the repository spec (`pins`, `branch`) and the workspace.
    fn new(
        workspace: &Workspace,
        spec: Option<&RepositorySpec>,
        repository: String,
        dir: PathBuf,
        trigger: Option<Trigger>,
        how: How,
    ) -> Build {
        let explicit = how
            .pins
            .or_else(|| spec.and_then(|s| s.pins))
            .or(workspace.pins);
        let branch = spec.and_then(|s| {
            s.branch.clone().or_else(|| match &s.source {
                RepositorySource::Git { rev, .. } => rev.clone(),
                RepositorySource::Local(_) => None,
            })
        });
        Build {
            repository,
            dir,
            pins: PinMode::effective(explicit, trigger.as_ref()),
            trigger,
            branch,
            dockerfile: None,
            target: None,
            how,
            config_file: workspace.config_file.clone(),
        }
    }
}

/// The workspace's image graph and everything learnt while building it.
#[derive(Debug, Default)]
pub struct Hierarchy {
    pub graph: Graph,
    /// Every managed image's build.
    pub builds: BTreeMap<ImageRef, Build>,
    /// What the registry said about each image it knows.
    pub published: BTreeMap<ImageRef, Published>,
    /// Things that did not stop the graph but left it incomplete.
    pub warnings: Vec<String>,
}

/// Reads the workspace's repositories (cloning git ones into `cache_dir`) and asks the
/// registry about every image. `state`, when open, supplies the digests base tags
/// pointed at before (for layer-prefix matches of stale images) and records what was
/// seen now.
pub async fn build(
    workspace: &Workspace,
    cache_dir: Option<&Path>,
    client: &RegistryClient,
    state: Option<&State>,
) -> Result<Hierarchy> {
    let checkouts = source::checkouts(workspace, cache_dir)?;
    let mut opts = ScanOptions::default();
    opts.dockerfile.platform = Some(workspace.platform.clone());
    opts.dockerfile.build_platform = Some(host_platform());
    let declared = declare(workspace, &checkouts, &opts);
    let mut hierarchy = assemble(workspace, &checkouts, declared);
    // What the registry says is true as of the lookups, not of their end: recorded at the
    // time they started, a slow lookup that raced a push is older than what a faster
    // check saw since, and the database takes it for the outdated sighting it is.
    let looked_up = OffsetDateTime::now_utc();
    evidence::observe(&mut hierarchy, client, &workspace.platform, state).await;
    if let Some(state) = state {
        record(
            state,
            &hierarchy.published,
            looked_up,
            &mut hierarchy.warnings,
        )
        .await;
    }
    Ok(hierarchy)
}

/// The graph of what the files say: managed nodes with their Dockerfile edges, and the
/// `[[workspace.image]]` entries without a Dockerfile (managed when they have a trigger).
fn assemble(
    workspace: &Workspace,
    checkouts: &[source::Checkout],
    declared: Declared,
) -> Hierarchy {
    let mut hierarchy = Hierarchy {
        warnings: declared.warnings,
        ..Hierarchy::default()
    };
    for produced in declared.produced {
        let node = Node::managed(produced.image.clone(), produced.producer.clone());
        if let Err(conflict) = hierarchy.graph.add_node(node) {
            hierarchy.warnings.push(conflict.to_string());
            continue;
        }
        for base in &produced.bases {
            let evidence = Evidence::Dockerfile {
                path: format!("{}/{}", produced.producer.repository, produced.dockerfile),
                line: base.line,
            };
            hierarchy
                .graph
                .add_edge(&base.image, &produced.image, base.kind, evidence);
        }
        let spec = workspace
            .repositories
            .iter()
            .find(|r| r.name == produced.producer.repository);
        let mut build = Build::new(
            workspace,
            spec,
            produced.producer.repository.clone(),
            produced.dir,
            produced.trigger,
            produced.how,
        );
        build.dockerfile = Some(produced.dockerfile);
        build.target = produced.producer.target.clone();
        hierarchy.builds.entry(produced.image).or_insert(build);
    }
    for spec in workspace.images.iter().filter(|i| i.dockerfile.is_none()) {
        if hierarchy.builds.contains_key(&spec.image) {
            continue;
        }
        let trigger = spec.trigger.clone().or_else(|| workspace.trigger.clone());
        let node = match (&spec.trigger, &spec.repository) {
            (None, None) => Node::external(spec.image.clone()),
            _ => {
                let repository = spec
                    .repository
                    .clone()
                    .unwrap_or_else(|| spec.image.familiar());
                let dir = checkouts
                    .iter()
                    .find(|c| Some(&c.name) == spec.repository.as_ref())
                    .map_or_else(|| workspace.base_dir.clone(), |c| c.dir.clone());
                let repo_spec = workspace
                    .repositories
                    .iter()
                    .find(|r| Some(&r.name) == spec.repository.as_ref());
                let how = How {
                    platform: spec.platform.clone(),
                    build_args: spec.build_args.clone(),
                    pins: spec.pins,
                };
                let build = Build::new(workspace, repo_spec, repository.clone(), dir, trigger, how);
                hierarchy.builds.insert(spec.image.clone(), build);
                Node::managed(spec.image.clone(), Producer::dockerfile(repository, ""))
            }
        };
        if let Err(conflict) = hierarchy.graph.add_node(node) {
            hierarchy.warnings.push(conflict.to_string());
        }
    }
    hierarchy
}

/// The digests each image's tag was seen at before (newest first, current excluded).
pub async fn history(state: &State, images: &[ImageRef]) -> BTreeMap<ImageRef, Vec<Digest>> {
    let mut out = BTreeMap::new();
    for image in images {
        let Ok(key) = TagKey::of(image.reference()) else {
            continue;
        };
        let Ok(sightings) = state.sightings(&key).await else {
            continue;
        };
        let current = state.current(&key).await.ok().flatten().map(|c| c.digest);
        let mut digests: Vec<Digest> = sightings
            .into_iter()
            .rev()
            .map(|s| s.digest)
            .filter(|d| Some(d) != current.as_ref())
            .collect();
        digests.truncate(evidence::HISTORY_DEPTH);
        if !digests.is_empty() {
            out.insert(image.clone(), digests);
        }
    }
    out
}

/// Records every tag's current digest as an observation made at `now`.
async fn record(
    state: &State,
    published: &BTreeMap<ImageRef, Published>,
    now: OffsetDateTime,
    warnings: &mut Vec<String>,
) {
    for (image, seen) in published {
        let Ok(key) = TagKey::of(image.reference()) else {
            continue;
        };
        if let Err(e) = state.record_observation(&key, &seen.digest, now).await {
            warnings.push(format!("recording {}: {e}", image.familiar()));
            return;
        }
    }
}
