//! graph stage: the flat, serialisable picture of a graph with its staleness that every
//! rendering (tree, dot, mermaid, JSON) is drawn from, so they cannot disagree. Pure;
//! writing the output anywhere is the caller's.

use serde::{Deserialize, Serialize};

use crate::reference::Digest;

use super::build::Graph;
use super::order::CycleError;
use super::stale::{Freshness, Staleness};
use super::{EdgeFilter, EdgeKind, Evidence, ImageRef, Producer};

/// Freshness as a word, for the JSON view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Fresh,
    Stale,
    Unknown,
    /// The tag does not exist in its registry.
    Missing,
}

/// One image of the view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewNode {
    /// The full normalised name, `docker.io/library/python:3.12`.
    pub name: ImageRef,
    /// The familiar name, `python:3.12`, which renderings for people show.
    pub label: String,
    /// `managed` or `external`.
    pub kind: ViewKind,
    pub producer: Option<Producer>,
    /// The digest the tag points at now.
    pub digest: Option<Digest>,
    /// The digest of its final-stage base it was built on, when recorded.
    pub base_digest: Option<Digest>,
    pub status: Status,
    pub stale: bool,
    /// Levels behind (see [`Freshness`]); 0 unless stale.
    pub lag: u32,
    /// For a stale image we do not build: the base it is still built on an old digest
    /// of, which its publisher has not rebuilt it on yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<Waiting>,
}

/// What a stale external image waits on: its publisher's rebuild on `base`'s new digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    /// The base that moved under it.
    pub base: ImageRef,
    /// The digest of `base` it is still built on.
    pub built_on: Digest,
    /// When `base` moved away from `built_on`, as the caller knows it (RFC 3339); `None`
    /// when unknown.
    pub moved_at: Option<String>,
}

/// Whether a view node is built by us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViewKind {
    Managed,
    External,
}

/// One edge of the view: `child` is built from `base`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewEdge {
    pub base: ImageRef,
    pub child: ImageRef,
    pub kind: EdgeKind,
    /// The digest of `base` the child was built on, when recorded.
    pub built_on: Option<Digest>,
    pub evidence: Vec<Evidence>,
}

/// Every node (sorted by name) and the followed edges (sorted by base, child, kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub nodes: Vec<ViewNode>,
    pub edges: Vec<ViewEdge>,
}

/// Which characters a tree is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TreeStyle {
    /// Box-drawing characters and ✓ / ✗ marks.
    #[default]
    Unicode,
    /// Plain ASCII, for terminals and logs that mangle anything else.
    Ascii,
}

impl View {
    /// The view of `graph` along `follow`ed edges, with freshness from `staleness`
    /// (pass `Staleness::default()` to draw a graph whose staleness is not known, e.g.
    /// one with a cycle: every node is then `unknown`).
    pub fn new(graph: &Graph, staleness: &Staleness, follow: EdgeFilter) -> View {
        let nodes = graph
            .nodes()
            .into_iter()
            .map(|node| {
                let freshness = staleness.get(&node.image);
                let base_digest = graph
                    .parents(&node.image, EdgeFilter::FinalStage)
                    .iter()
                    .find_map(|edge| edge.built_on().cloned());
                ViewNode {
                    name: node.image.clone(),
                    label: node.image.familiar(),
                    kind: if node.is_managed() {
                        ViewKind::Managed
                    } else {
                        ViewKind::External
                    },
                    producer: node.producer().cloned(),
                    digest: node.digest.clone(),
                    base_digest,
                    status: match freshness {
                        Freshness::Fresh => Status::Fresh,
                        Freshness::Stale { .. } => Status::Stale,
                        Freshness::Unknown => Status::Unknown,
                        Freshness::Missing => Status::Missing,
                    },
                    stale: freshness.is_stale(),
                    lag: freshness.lag(),
                    waiting: (!node.is_managed() && freshness.is_stale())
                        .then(|| waiting(graph, staleness, &node.image))
                        .flatten(),
                }
            })
            .collect();
        let edges = graph
            .edges()
            .into_iter()
            .filter(|edge| follow.accepts(edge.kind()))
            .map(|edge| ViewEdge {
                base: edge.base().clone(),
                child: edge.child().clone(),
                kind: edge.kind(),
                built_on: edge.built_on().cloned(),
                evidence: edge.evidence().to_vec(),
            })
            .collect();
        View { nodes, edges }
    }
}

/// The final-stage base `image` is behind: one it is built on an old digest of (else one
/// that is stale itself).
fn waiting(graph: &Graph, staleness: &Staleness, image: &ImageRef) -> Option<Waiting> {
    let parents = graph.parents(image, EdgeFilter::FinalStage);
    let moved = parents.iter().find(|edge| {
        let now = graph.node(edge.base()).and_then(|n| n.digest.as_ref());
        matches!((edge.built_on(), now), (Some(on), Some(now)) if on != now)
    });
    let edge = moved.or_else(|| {
        parents
            .iter()
            .find(|edge| staleness.get(edge.base()).is_stale())
    })?;
    Some(Waiting {
        base: edge.base().clone(),
        built_on: edge.built_on()?.clone(),
        moved_at: None,
    })
}

impl Graph {
    /// The view along `follow`ed edges with staleness computed along the same edges.
    pub fn view(&self, follow: EdgeFilter) -> Result<View, CycleError> {
        Ok(View::new(self, &self.staleness(follow)?, follow))
    }
}
