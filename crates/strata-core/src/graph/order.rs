//! graph stage: the ordering algorithms — adjacency under an edge filter, topological
//! order and cycle search. Iterative throughout, so a deep hierarchy cannot exhaust the
//! stack; pure, and deterministic: results depend on image names only.

use std::fmt;

use super::build::{Graph, NodeId};
use super::{EdgeFilter, ImageRef};

/// The graph has a cycle: no order builds every image after its bases.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("image dependency cycle: {}", CyclePath(.cycle))]
pub struct CycleError {
    /// The images around the cycle, each built from the one before it and the first from
    /// the last; starts at the smallest image so the same cycle always reads the same.
    pub cycle: Vec<ImageRef>,
}

/// `a -> b -> c -> a`, in familiar names.
struct CyclePath<'a>(&'a [ImageRef]);

impl fmt::Display for CyclePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for image in self.0 {
            write!(f, "{} -> ", image.familiar())?;
        }
        match self.0.first() {
            Some(first) => f.write_str(&first.familiar()),
            None => Ok(()),
        }
    }
}

/// Followed edges as per-node neighbour lists, deduplicated (kinds merged) and sorted
/// by image, so every traversal visits neighbours in the same order.
pub(super) struct Adjacency {
    pub(super) children: Vec<Vec<NodeId>>,
    pub(super) parents: Vec<Vec<NodeId>>,
    /// Every node id, in image order.
    by_image: Vec<NodeId>,
}

impl Graph {
    /// Checks that no chain of edges (of any kind) leads from an image back to itself.
    pub fn validate(&self) -> Result<(), CycleError> {
        let adjacency = self.adjacency(EdgeFilter::All);
        let everyone = vec![true; self.nodes.len()];
        match self.find_cycle(&adjacency, &everyone) {
            Some(cycle) => Err(cycle),
            None => Ok(()),
        }
    }

    pub(super) fn adjacency(&self, follow: EdgeFilter) -> Adjacency {
        let mut children = vec![Vec::new(); self.nodes.len()];
        let mut parents = vec![Vec::new(); self.nodes.len()];
        for edge in self.edges.iter().filter(|e| follow.accepts(e.kind())) {
            children[edge.base_id].push(edge.child_id);
            parents[edge.child_id].push(edge.base_id);
        }
        // One sort by name, then integer ranks for every neighbour list.
        let by_image = self.sorted_ids();
        let mut rank = vec![0; self.nodes.len()];
        for (at, &id) in by_image.iter().enumerate() {
            rank[id] = at;
        }
        for list in children.iter_mut().chain(parents.iter_mut()) {
            list.sort_by_key(|&id| rank[id]);
            list.dedup();
        }
        Adjacency {
            children,
            parents,
            by_image,
        }
    }

    /// The members in an order where each comes after all its member parents (Kahn's
    /// algorithm, ties broken by image). `Err` carries a cycle among the members.
    pub(super) fn topological(
        &self,
        adjacency: &Adjacency,
        member: &[bool],
    ) -> Result<Vec<NodeId>, CycleError> {
        let mut waiting: Vec<usize> = (0..self.nodes.len())
            .map(|id| adjacency.parents[id].iter().filter(|&&p| member[p]).count())
            .collect();
        let mut ready: Vec<NodeId> = adjacency
            .by_image
            .iter()
            .copied()
            .filter(|&id| member[id] && waiting[id] == 0)
            .rev()
            .collect();
        let mut order = Vec::with_capacity(ready.len());
        while let Some(id) = ready.pop() {
            order.push(id);
            // Children come sorted; pushing them reversed pops the smallest first.
            for &child in adjacency.children[id].iter().rev() {
                if member[child] {
                    waiting[child] -= 1;
                    if waiting[child] == 0 {
                        ready.push(child);
                    }
                }
            }
        }
        if order.len() == member.iter().filter(|&&m| m).count() {
            return Ok(order);
        }
        match self.find_cycle(adjacency, member) {
            Some(cycle) => Err(cycle),
            // Kahn's algorithm stalls only on a cycle, which the search always finds.
            None => Ok(order),
        }
    }

    /// Depth-first search for a cycle among the members, starting from the smallest image.
    fn find_cycle(&self, adjacency: &Adjacency, member: &[bool]) -> Option<CycleError> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnPath,
            Done,
        }
        let mut mark = vec![Mark::New; self.nodes.len()];
        for &start in &adjacency.by_image {
            if !member[start] || mark[start] != Mark::New {
                continue;
            }
            // The path from `start`, each entry with the index of its next child to try.
            let mut path: Vec<(NodeId, usize)> = vec![(start, 0)];
            mark[start] = Mark::OnPath;
            while let Some(top) = path.last_mut() {
                let (id, next) = *top;
                let Some(&child) = adjacency.children[id].get(next) else {
                    mark[id] = Mark::Done;
                    path.pop();
                    continue;
                };
                top.1 += 1;
                if !member[child] {
                    continue;
                }
                match mark[child] {
                    Mark::OnPath => return Some(self.cycle_from(&path, child)),
                    Mark::New => {
                        mark[child] = Mark::OnPath;
                        path.push((child, 0));
                    }
                    Mark::Done => {}
                }
            }
        }
        None
    }

    /// The cycle closed by an edge back to `again`, rotated to start at its smallest image.
    fn cycle_from(&self, path: &[(NodeId, usize)], again: NodeId) -> CycleError {
        let from = path.iter().position(|&(id, _)| id == again).unwrap_or(0);
        let mut cycle: Vec<ImageRef> = path[from..]
            .iter()
            .map(|&(id, _)| self.nodes[id].image.clone())
            .collect();
        let smallest = cycle
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.cmp(b.1))
            .map_or(0, |(at, _)| at);
        cycle.rotate_left(smallest);
        CycleError { cycle }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{EdgeKind, Evidence};
    use super::*;

    fn graph(edges: &[(&str, &str, EdgeKind)]) -> Graph {
        let mut graph = Graph::new();
        for &(base, child, kind) in edges {
            let evidence = Evidence::BaseAnnotation { digest: None };
            graph.add_edge(
                &base.parse().unwrap(),
                &child.parse().unwrap(),
                kind,
                evidence,
            );
        }
        graph
    }

    use EdgeKind::{BuildStage, CopyFrom, FinalStage};

    #[test]
    fn validate_names_the_cycle_in_order() {
        // (edges as base, child, kind; expected cycle)
        type Case = (
            &'static [(&'static str, &'static str, EdgeKind)],
            Option<&'static str>,
        );
        let cases: &[Case] = &[
            (&[], None),
            (
                &[("a:1", "b:1", FinalStage), ("b:1", "c:1", FinalStage)],
                None,
            ),
            (
                &[
                    ("a:1", "b:1", FinalStage),
                    ("a:1", "c:1", FinalStage),
                    ("b:1", "d:1", FinalStage),
                    ("c:1", "d:1", FinalStage),
                ],
                None,
            ),
            (&[("a:1", "a:1", FinalStage)], Some("a:1 -> a:1")),
            (
                &[
                    ("c:1", "a:1", FinalStage),
                    ("a:1", "b:1", FinalStage),
                    ("b:1", "c:1", FinalStage),
                ],
                Some("a:1 -> b:1 -> c:1 -> a:1"),
            ),
            // A cycle through a builder edge is a cycle too.
            (
                &[
                    ("x:1", "b:1", FinalStage),
                    ("b:1", "c:1", BuildStage),
                    ("c:1", "b:1", CopyFrom),
                ],
                Some("b:1 -> c:1 -> b:1"),
            ),
        ];
        for (edges, expected) in cases {
            let got = graph(edges).validate().err().map(|e| e.to_string());
            let expected = expected.map(|c| format!("image dependency cycle: {c}"));
            assert_eq!(got, expected, "{edges:?}");
        }
    }

    #[test]
    fn topological_order_puts_bases_first_and_breaks_ties_by_name() {
        let graph = graph(&[
            ("z:1", "m:1", FinalStage),
            ("a:1", "m:1", FinalStage),
            ("m:1", "b:1", FinalStage),
            ("a:1", "c:1", BuildStage),
        ]);
        let adjacency = graph.adjacency(EdgeFilter::All);
        let member = vec![true; graph.len()];
        let order = graph.topological(&adjacency, &member).unwrap();
        let names: Vec<String> = order
            .iter()
            .map(|&id| graph.nodes[id].image.familiar())
            .collect();
        assert_eq!(names, ["a:1", "c:1", "z:1", "m:1", "b:1"]);
    }
}
