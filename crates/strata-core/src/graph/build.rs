//! graph stage: building the graph from observations and reading it back. Pure
//! bookkeeping; what the observations are and where they came from is the caller's.

use std::collections::HashMap;

use crate::reference::Digest;

use super::{EdgeFilter, EdgeKind, Evidence, ImageRef, Node, NodeKind, Producer};

/// Position of a node in [`Graph`]'s node list; stable for the graph's lifetime.
pub(super) type NodeId = usize;

/// Two producers claim to build the same tag. The first one added is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{image} is built by two producers: {kept_repository}/{kept_path} (kept) and {other_repository}/{other_path}",
    image = image.familiar(),
    kept_repository = kept.repository,
    kept_path = kept.path,
    other_repository = other.repository,
    other_path = other.path
)]
pub struct ProducerConflict {
    pub image: ImageRef,
    /// Boxed to keep the error small: it is returned on every `add_node`.
    pub kept: Box<Producer>,
    pub other: Box<Producer>,
}

/// "`child` is built from `base`", with why we think so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    base: ImageRef,
    child: ImageRef,
    kind: EdgeKind,
    evidence: Vec<Evidence>,
    pub(super) base_id: NodeId,
    pub(super) child_id: NodeId,
}

impl Edge {
    /// The image built upon.
    pub fn base(&self) -> &ImageRef {
        &self.base
    }

    /// The image built.
    pub fn child(&self) -> &ImageRef {
        &self.child
    }

    pub fn kind(&self) -> EdgeKind {
        self.kind
    }

    /// Every distinct piece of evidence, in the order it was added.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }

    /// The digest of `base` the child was built on, when evidence records it. A base
    /// annotation is the image's own statement and wins over a layer-prefix match;
    /// among several of one kind the first added counts.
    pub fn built_on(&self) -> Option<&Digest> {
        let annotated = self.evidence.iter().find_map(|e| match e {
            Evidence::BaseAnnotation { digest } => digest.as_ref(),
            _ => None,
        });
        annotated.or_else(|| {
            self.evidence.iter().find_map(|e| match e {
                Evidence::LayerPrefix { digest, .. } => digest.as_ref(),
                _ => None,
            })
        })
    }
}

/// The image hierarchy: nodes are tags, edges point from a base to the images built on it.
/// At most one edge exists per (base, child, kind); adding it again merges the evidence.
/// Nothing stops a cycle from being added: [`Graph::validate`] reports it.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub(super) nodes: Vec<Node>,
    index: HashMap<ImageRef, NodeId>,
    pub(super) edges: Vec<Edge>,
    edge_index: HashMap<(NodeId, NodeId, EdgeKind), usize>,
    /// Per node, indices into `edges` of the edges into it and out of it.
    incoming: Vec<Vec<usize>>,
    outgoing: Vec<Vec<usize>>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    /// Adds `node`, or merges it into the node already there: a managed node replaces an
    /// external one (edges often name a base before its producer is read), and a known
    /// digest replaces an unknown or older one. Two different producers for one tag
    /// are a conflict: the first is kept and the error says so.
    pub fn add_node(&mut self, node: Node) -> Result<(), ProducerConflict> {
        let Some(&id) = self.index.get(&node.image) else {
            self.insert(node);
            return Ok(());
        };
        let existing = &mut self.nodes[id];
        if node.digest.is_some() {
            existing.digest = node.digest;
        }
        match (&existing.kind, node.kind) {
            (_, NodeKind::External) => Ok(()),
            (NodeKind::External, kind) => {
                existing.kind = kind;
                Ok(())
            }
            (NodeKind::Managed(kept), NodeKind::Managed(other)) if *kept != other => {
                Err(ProducerConflict {
                    image: existing.image.clone(),
                    kept: Box::new(kept.clone()),
                    other: Box::new(other),
                })
            }
            (NodeKind::Managed(_), NodeKind::Managed(_)) => Ok(()),
        }
    }

    /// Records that `child` is built from `base`. Either end not yet known is added as an
    /// external node (a later [`Graph::add_node`] can make it managed). Adding an edge
    /// that exists merges `evidence` into it, without duplicates.
    pub fn add_edge(
        &mut self,
        base: &ImageRef,
        child: &ImageRef,
        kind: EdgeKind,
        evidence: Evidence,
    ) {
        let base_id = self.id_or_insert(base);
        let child_id = self.id_or_insert(child);
        if let Some(&at) = self.edge_index.get(&(base_id, child_id, kind)) {
            let edge = &mut self.edges[at];
            if !edge.evidence.contains(&evidence) {
                edge.evidence.push(evidence);
            }
            return;
        }
        let at = self.edges.len();
        self.edge_index.insert((base_id, child_id, kind), at);
        self.outgoing[base_id].push(at);
        self.incoming[child_id].push(at);
        self.edges.push(Edge {
            base: base.clone(),
            child: child.clone(),
            kind,
            evidence: vec![evidence],
            base_id,
            child_id,
        });
    }

    /// Sets the digest `image` points at now, adding it as external if unknown.
    pub fn set_digest(&mut self, image: &ImageRef, digest: Digest) {
        let id = self.id_or_insert(image);
        self.nodes[id].digest = Some(digest);
    }

    /// Records that `image`'s tag does not exist in its registry (adding it as external
    /// if unknown): it is `missing`, never fresh.
    pub fn set_missing(&mut self, image: &ImageRef) {
        let id = self.id_or_insert(image);
        self.nodes[id].missing = true;
        self.nodes[id].digest = None;
    }

    /// The edge `base -> child` of `kind`, if recorded.
    pub fn edge(&self, base: &ImageRef, child: &ImageRef, kind: EdgeKind) -> Option<&Edge> {
        let key = (self.id(base)?, self.id(child)?, kind);
        self.edge_index.get(&key).map(|&at| &self.edges[at])
    }

    pub fn node(&self, image: &ImageRef) -> Option<&Node> {
        self.index.get(image).map(|&id| &self.nodes[id])
    }

    pub fn contains(&self, image: &ImageRef) -> bool {
        self.index.contains_key(image)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// All nodes, sorted by image.
    pub fn nodes(&self) -> Vec<&Node> {
        self.sorted_ids()
            .into_iter()
            .map(|id| &self.nodes[id])
            .collect()
    }

    /// All edges, sorted by (base, child, kind).
    pub fn edges(&self) -> Vec<&Edge> {
        let mut edges: Vec<&Edge> = self.edges.iter().collect();
        edges.sort_by(|a, b| (&a.base, &a.child, a.kind).cmp(&(&b.base, &b.child, b.kind)));
        edges
    }

    /// The followed edges into `image` (its bases), sorted by base then kind.
    pub fn parents(&self, image: &ImageRef, follow: EdgeFilter) -> Vec<&Edge> {
        let mut edges = self.followed(image, &self.incoming, follow);
        edges.sort_by(|a, b| (&a.base, a.kind).cmp(&(&b.base, b.kind)));
        edges
    }

    /// The followed edges out of `image` (images built on it), sorted by child then kind.
    pub fn children(&self, image: &ImageRef, follow: EdgeFilter) -> Vec<&Edge> {
        let mut edges = self.followed(image, &self.outgoing, follow);
        edges.sort_by(|a, b| (&a.child, a.kind).cmp(&(&b.child, b.kind)));
        edges
    }

    fn followed(&self, image: &ImageRef, lists: &[Vec<usize>], follow: EdgeFilter) -> Vec<&Edge> {
        let Some(id) = self.id(image) else {
            return Vec::new();
        };
        lists[id]
            .iter()
            .map(|&at| &self.edges[at])
            .filter(|e| follow.accepts(e.kind))
            .collect()
    }

    pub(super) fn id(&self, image: &ImageRef) -> Option<NodeId> {
        self.index.get(image).copied()
    }

    /// Node ids in image order.
    pub(super) fn sorted_ids(&self) -> Vec<NodeId> {
        let mut ids: Vec<NodeId> = (0..self.nodes.len()).collect();
        ids.sort_by(|&a, &b| self.nodes[a].image.cmp(&self.nodes[b].image));
        ids
    }

    fn id_or_insert(&mut self, image: &ImageRef) -> NodeId {
        match self.index.get(image) {
            Some(&id) => id,
            None => self.insert(Node::external(image.clone())),
        }
    }

    fn insert(&mut self, node: Node) -> NodeId {
        let id = self.nodes.len();
        self.index.insert(node.image.clone(), id);
        self.nodes.push(node);
        self.incoming.push(Vec::new());
        self.outgoing.push(Vec::new());
        id
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn image(s: &str) -> ImageRef {
        s.parse().unwrap()
    }

    fn digest(n: u8) -> Digest {
        format!("sha256:{:064x}", n).parse().unwrap()
    }

    #[test]
    fn edges_create_external_nodes_that_producers_upgrade() {
        let mut graph = Graph::new();
        graph.add_edge(
            &image("debian:12"),
            &image("acme/base:1"),
            EdgeKind::FinalStage,
            annotation(None),
        );
        assert_eq!(graph.len(), 2);
        assert!(!graph.node(&image("acme/base:1")).unwrap().is_managed());
        graph
            .add_node(Node::managed(
                image("acme/base:1"),
                Producer::dockerfile("acme/base", "Dockerfile"),
            ))
            .unwrap();
        assert!(graph.node(&image("acme/base:1")).unwrap().is_managed());
        // An external sighting later does not downgrade it.
        graph
            .add_node(Node::external(image("acme/base:1")))
            .unwrap();
        assert!(graph.node(&image("acme/base:1")).unwrap().is_managed());
    }

    #[test]
    fn second_producer_is_a_conflict_and_first_is_kept() {
        let mut graph = Graph::new();
        let first = Producer::dockerfile("acme/a", "Dockerfile");
        let second = Producer::compose("acme/b", "compose.yaml", "app");
        graph
            .add_node(Node::managed(image("acme/app:1"), first.clone()))
            .unwrap();
        graph
            .add_node(Node::managed(image("acme/app:1"), first.clone()))
            .unwrap();
        let err = graph
            .add_node(Node::managed(image("acme/app:1"), second))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "acme/app:1 is built by two producers: acme/a/Dockerfile (kept) and acme/b/compose.yaml"
        );
        assert_eq!(
            graph.node(&image("acme/app:1")).unwrap().producer(),
            Some(&first)
        );
    }

    #[test]
    fn repeated_edges_merge_evidence() {
        let mut graph = Graph::new();
        let (base, child) = (image("debian:12"), image("acme/base:1"));
        let from = Evidence::Dockerfile {
            path: "Dockerfile".into(),
            line: 3,
        };
        graph.add_edge(&base, &child, EdgeKind::FinalStage, from.clone());
        graph.add_edge(&base, &child, EdgeKind::FinalStage, from);
        graph.add_edge(
            &base,
            &child,
            EdgeKind::FinalStage,
            layer_prefix(Some(digest(2))),
        );
        graph.add_edge(
            &base,
            &child,
            EdgeKind::FinalStage,
            annotation(Some(digest(1))),
        );
        graph.add_edge(&base, &child, EdgeKind::CopyFrom, annotation(None));
        let edges = graph.edges();
        assert_eq!(edges.len(), 2);
        assert_eq!(edges[0].kind(), EdgeKind::FinalStage);
        assert_eq!(edges[0].evidence().len(), 3);
        // The annotation is preferred over the layer match.
        assert_eq!(edges[0].built_on(), Some(&digest(1)));
        assert_eq!(edges[1].built_on(), None);
        assert_eq!(graph.parents(&child, EdgeFilter::FinalStage).len(), 1);
        let edge = graph.edge(&base, &child, EdgeKind::CopyFrom).unwrap();
        assert_eq!(edge.evidence(), [annotation(None)]);
        assert!(graph.edge(&child, &base, EdgeKind::CopyFrom).is_none());
        assert_eq!(graph.parents(&child, EdgeFilter::All).len(), 2);
        assert_eq!(graph.children(&base, EdgeFilter::All).len(), 2);
    }

    #[test]
    fn digests_are_set_and_merged() {
        let mut graph = Graph::new();
        graph.set_digest(&image("debian:12"), digest(1));
        graph.add_node(Node::external(image("debian:12"))).unwrap();
        assert_eq!(
            graph.node(&image("debian:12")).unwrap().digest,
            Some(digest(1))
        );
        graph
            .add_node(Node::external(image("debian:12")).with_digest(digest(2)))
            .unwrap();
        assert_eq!(
            graph.node(&image("debian:12")).unwrap().digest,
            Some(digest(2))
        );
    }

    #[test]
    fn listings_are_sorted_whatever_the_insertion_order() {
        let mut graph = Graph::new();
        for name in ["c:1", "a:1", "b:1"] {
            graph.add_node(Node::external(image(name))).unwrap();
        }
        let names: Vec<String> = graph.nodes().iter().map(|n| n.image.familiar()).collect();
        assert_eq!(names, ["a:1", "b:1", "c:1"]);
    }

    fn annotation(digest: Option<Digest>) -> Evidence {
        Evidence::BaseAnnotation { digest }
    }

    fn layer_prefix(digest: Option<Digest>) -> Evidence {
        Evidence::LayerPrefix { layers: 1, digest }
    }
}
