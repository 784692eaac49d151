//! graph stage: staleness — how far each image lags behind the newest content of its
//! ancestors, from digests the caller observed. Pure comparison of recorded values;
//! nothing here asks a registry what a tag points at.
//!
//! Inputs, per followed edge `base -> child`: the digest of `base` the child was built on
//! ([`Edge::built_on`](super::Edge::built_on), from base annotations or a layer-prefix
//! match) and the digest `base` points at now ([`Node::digest`](super::Node::digest)).
//! The edge has *moved* when both are known and differ.
//!
//! The lag of an image is the number of rebuilds, one level after another and ending
//! with its own, that must happen before it contains the newest content of every
//! ancestor:
//!
//! - an image with no bases lags 0 (we know of nothing newer for it);
//! - through one edge an image lags `lag(base) + 1` if its base lags (`lag(base) > 0`):
//!   the base must be rebuilt and then the image on top of it, even when the image was
//!   built on the base's current digest, since that digest is itself behind;
//! - else `1` if the edge moved (the base is up to date but the image is not built on
//!   it), else `0`;
//! - over several bases, the largest of these.
//!
//! So `debian` moved ⇒ `python` built on the old `debian` lags 1, `acme/base` built on
//! the current `python` lags 2, `acme/app` on the current `acme/base` lags 3.
//! An edge whose digests are not both known, or a base whose own lag is unknown,
//! makes the image [`Freshness::Unknown`] unless another base proves it stale; when it
//! does, the lag is a lower bound.

use std::collections::BTreeMap;

use super::build::Graph;
use super::order::CycleError;
use super::{EdgeFilter, ImageRef};

/// How up to date an image is. See the module documentation for the definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Freshness {
    /// Built on the newest content of every ancestor we know of.
    Fresh,
    /// `levels` rebuilds (the image's own included) separate it from the newest content.
    Stale { levels: u32 },
    /// Some base digest is unknown, so we cannot tell.
    Unknown,
    /// The tag does not exist in its registry.
    Missing,
}

impl Freshness {
    pub fn is_stale(self) -> bool {
        matches!(self, Freshness::Stale { .. })
    }

    /// The lag in levels; 0 when fresh or unknown.
    pub fn lag(self) -> u32 {
        match self {
            Freshness::Stale { levels } => levels,
            Freshness::Fresh | Freshness::Unknown | Freshness::Missing => 0,
        }
    }
}

/// The freshness of every node of a graph, and which bases have moved under a child.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Staleness {
    by_image: BTreeMap<ImageRef, Freshness>,
    moved: BTreeMap<ImageRef, Vec<ImageRef>>,
}

impl Staleness {
    /// The freshness of `image`; `Unknown` for an image the graph did not have.
    pub fn get(&self, image: &ImageRef) -> Freshness {
        self.by_image
            .get(image)
            .copied()
            .unwrap_or(Freshness::Unknown)
    }

    /// Every image with its freshness, sorted by image.
    pub fn iter(&self) -> impl Iterator<Item = (&ImageRef, Freshness)> {
        self.by_image
            .iter()
            .map(|(image, freshness)| (image, *freshness))
    }

    /// The stale images with their lag, sorted by image.
    pub fn stale(&self) -> impl Iterator<Item = (&ImageRef, u32)> {
        self.iter()
            .filter_map(|(image, f)| f.is_stale().then_some((image, f.lag())))
    }

    /// Bases whose current digest differs from the one some child was built on, each with
    /// those children (sorted): where cascades start.
    pub fn moved_bases(&self) -> &BTreeMap<ImageRef, Vec<ImageRef>> {
        &self.moved
    }
}

/// What one base says about a child: the lag it proves and whether it leaves doubt.
#[derive(Debug, Clone, Copy, Default)]
struct Lag {
    known: u32,
    uncertain: bool,
}

impl Graph {
    /// Computes every node's freshness along `follow`ed edges (see the module docs).
    pub fn staleness(&self, follow: EdgeFilter) -> Result<Staleness, CycleError> {
        let adjacency = self.adjacency(follow);
        let everyone = vec![true; self.nodes.len()];
        let order = self.topological(&adjacency, &everyone)?;
        let mut lag = vec![Lag::default(); self.nodes.len()];
        let mut moved: BTreeMap<ImageRef, Vec<ImageRef>> = BTreeMap::new();
        // One slot per node filled from its incoming edges, visited in topological order
        // so each base is settled before its children read it.
        let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for (at, edge) in self.edges.iter().enumerate() {
            if follow.accepts(edge.kind()) {
                incoming[edge.child_id].push(at);
            }
        }
        for id in order {
            let mut own = Lag::default();
            for &at in &incoming[id] {
                let edge = &self.edges[at];
                let base = lag[edge.base_id];
                let current = self.nodes[edge.base_id].digest.as_ref();
                let edge_moved = match (edge.built_on(), current) {
                    (Some(built_on), Some(current)) => Some(built_on != current),
                    _ => None,
                };
                if edge_moved == Some(true) {
                    moved
                        .entry(edge.base().clone())
                        .or_default()
                        .push(edge.child().clone());
                }
                let through = match (base.known, edge_moved) {
                    (0, Some(true)) => Lag {
                        known: 1,
                        uncertain: base.uncertain,
                    },
                    (0, Some(false)) => base,
                    (0, None) => Lag {
                        known: 0,
                        uncertain: true,
                    },
                    (k, _) => Lag {
                        known: k.saturating_add(1),
                        uncertain: base.uncertain,
                    },
                };
                own.known = own.known.max(through.known);
                own.uncertain |= through.uncertain;
            }
            lag[id] = own;
        }
        for children in moved.values_mut() {
            children.sort();
            children.dedup();
        }
        let by_image = self
            .nodes
            .iter()
            .zip(&lag)
            .map(|(node, lag)| {
                let freshness = if node.missing {
                    Freshness::Missing
                } else {
                    freshness(*lag)
                };
                (node.image.clone(), freshness)
            })
            .collect();
        Ok(Staleness { by_image, moved })
    }
}

fn freshness(lag: Lag) -> Freshness {
    match lag {
        Lag {
            known: 0,
            uncertain: false,
        } => Freshness::Fresh,
        Lag {
            known: 0,
            uncertain: true,
        } => Freshness::Unknown,
        Lag { known, .. } => Freshness::Stale { levels: known },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{EdgeKind, Evidence, Node, Producer};
    use super::*;
    use crate::reference::Digest;

    fn digest(n: u8) -> Digest {
        format!("sha256:{:064x}", n).parse().unwrap()
    }

    /// Nodes `name=current digest` (0: unknown) and edges `base>child@built_on`
    /// (`@0`: unknown; `~` instead of `>` for a copy-from edge).
    fn graph(nodes: &str, edges: &str) -> Graph {
        let mut graph = Graph::new();
        for spec in nodes.split_whitespace() {
            let (name, current) = spec.split_once('=').unwrap();
            let producer = Producer::dockerfile(name, "Dockerfile");
            let mut node = Node::managed(format!("{name}:1").parse().unwrap(), producer);
            let current: u8 = current.parse().unwrap();
            if current > 0 {
                node = node.with_digest(digest(current));
            }
            graph.add_node(node).unwrap();
        }
        for spec in edges.split_whitespace() {
            let (pair, built_on) = spec.split_once('@').unwrap();
            let (kind, (base, child)) = match pair.split_once('>') {
                Some(ends) => (EdgeKind::FinalStage, ends),
                None => (EdgeKind::CopyFrom, pair.split_once('~').unwrap()),
            };
            let built_on: u8 = built_on.parse().unwrap();
            let evidence = Evidence::BaseAnnotation {
                digest: (built_on > 0).then(|| digest(built_on)),
            };
            let image = |n: &str| format!("{n}:1").parse::<ImageRef>().unwrap();
            graph.add_edge(&image(base), &image(child), kind, evidence);
        }
        graph
    }

    /// Freshness as `name:lag` for stale, `name:ok`, `name:?`.
    fn report(staleness: &Staleness) -> String {
        let words: Vec<String> = staleness
            .iter()
            .map(|(image, f)| {
                let name = image.familiar().trim_end_matches(":1").to_owned();
                match f {
                    Freshness::Fresh => format!("{name}:ok"),
                    Freshness::Stale { levels } => format!("{name}:{levels}"),
                    Freshness::Unknown => format!("{name}:?"),
                    Freshness::Missing => format!("{name}:missing"),
                }
            })
            .collect();
        words.join(" ")
    }

    const CHAIN: &str = "a=1 b=2 c=3 d=4";

    #[test]
    fn lag_counts_rebuild_levels() {
        let cases = [
            // Everything built on the current digests.
            (CHAIN, "a>b@1 b>c@2 c>d@3", "a:ok b:ok c:ok d:ok"),
            // The root fix: a moved under b; c and d are built on their bases' current
            // digests yet still behind it.
            (CHAIN, "a>b@9 b>c@2 c>d@3", "a:ok b:1 c:2 d:3"),
            // Moving again further down adds nothing: the lag is counted in levels.
            (CHAIN, "a>b@9 b>c@9 c>d@3", "a:ok b:1 c:2 d:3"),
            // Only the leaf is behind its base.
            (CHAIN, "a>b@1 b>c@2 c>d@9", "a:ok b:ok c:ok d:1"),
            // Unknown record: unknown, and so is everything that depends on it...
            (CHAIN, "a>b@1 b>c@0 c>d@3", "a:ok b:ok c:? d:?"),
            // ...unless an edge below proves it stale anyway (a lower bound).
            (CHAIN, "a>b@1 b>c@0 c>d@9", "a:ok b:ok c:? d:1"),
            // A known lag above an unknown edge still propagates.
            (CHAIN, "a>b@9 b>c@0 c>d@3", "a:ok b:1 c:2 d:3"),
            // An unknown current digest is as unknown as an unknown record.
            ("a=0 b=2", "a>b@1", "a:ok b:?"),
            // Diamond: the largest lag over the bases counts.
            (
                "a=1 b=2 c=3 d=4",
                "a>b@9 a>c@1 b>d@2 c>d@9",
                "a:ok b:1 c:ok d:2",
            ),
            // Copy-from edges are not followed by default.
            ("a=1 b=2", "a~b@9", "a:ok b:ok"),
        ];
        for (nodes, edges, expected) in cases {
            let staleness = graph(nodes, edges)
                .staleness(EdgeFilter::FinalStage)
                .unwrap();
            assert_eq!(report(&staleness), expected, "{nodes} / {edges}");
        }
    }

    /// A tag its registry does not have is missing, never fresh, and what is built on
    /// it cannot be told fresh either.
    #[test]
    fn a_missing_tag_is_missing_and_its_children_unknown() {
        let mut g = graph("a=1 b=2", "a>b@1");
        g.set_missing(&"a:1".parse().unwrap());
        let staleness = g.staleness(EdgeFilter::FinalStage).unwrap();
        assert_eq!(report(&staleness), "a:missing b:?");
        let mut g = graph("a=0", "");
        g.set_missing(&"a:1".parse().unwrap());
        let staleness = g.staleness(EdgeFilter::FinalStage).unwrap();
        assert_eq!(report(&staleness), "a:missing");
    }

    #[test]
    fn all_edges_filter_counts_copy_from() {
        let staleness = graph("a=1 b=2", "a~b@9")
            .staleness(EdgeFilter::All)
            .unwrap();
        assert_eq!(report(&staleness), "a:ok b:1");
    }

    #[test]
    fn moved_bases_list_where_cascades_start() {
        let staleness = graph("a=1 b=2 c=3 d=4", "a>b@9 a>c@9 b>d@9 c>d@3")
            .staleness(EdgeFilter::FinalStage)
            .unwrap();
        let moved: Vec<(String, Vec<String>)> = staleness
            .moved_bases()
            .iter()
            .map(|(base, children)| {
                (
                    base.familiar(),
                    children.iter().map(ImageRef::familiar).collect(),
                )
            })
            .collect();
        assert_eq!(
            moved,
            [
                ("a:1".to_owned(), vec!["b:1".to_owned(), "c:1".to_owned()]),
                ("b:1".to_owned(), vec!["d:1".to_owned()]),
            ]
        );
        assert_eq!(staleness.stale().count(), 3);
        assert_eq!(staleness.get(&"zzz:1".parse().unwrap()), Freshness::Unknown);
    }

    #[test]
    fn cycle_is_an_error() {
        let err = graph("a=1 b=2", "a>b@1 b>a@2")
            .staleness(EdgeFilter::FinalStage)
            .unwrap_err();
        assert_eq!(err.to_string(), "image dependency cycle: a:1 -> b:1 -> a:1");
    }
}
