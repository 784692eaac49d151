//! graph stage: cascade plans — which managed images to rebuild below a moved base, in
//! which order, and which to skip once some builds failed. Pure: triggering builds and
//! waiting for published digests is the caller's.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use super::build::Graph;
use super::order::CycleError;
use super::{EdgeFilter, ImageRef};

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The root is not a node of the graph.
    #[error("{} is not in the image graph", image.familiar())]
    UnknownImage { image: ImageRef },
    /// The images below the root depend on each other in a circle.
    #[error(transparent)]
    Cycle(#[from] CycleError),
}

/// The rebuilds a change of `root` calls for, in levels: every image of level `n` has all
/// its bases that are in the plan in levels before `n` (or is built on the root itself),
/// so level `n` may start once level `n - 1` has published. Within a level images are
/// sorted; each image appears once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    root: ImageRef,
    /// `levels[0]` is level 1, the images built directly on the root.
    levels: Vec<Vec<ImageRef>>,
    /// For each planned image, its bases inside the plan (the root included), sorted.
    parents: BTreeMap<ImageRef, Vec<ImageRef>>,
}

/// What happens to a plan's remaining images once some have failed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Split {
    /// Planned images with no failed ancestor in the plan, in plan order (failed ones left out).
    pub proceed: Vec<ImageRef>,
    /// Planned images below a failure, each with the failed images (its ancestors in the
    /// plan) that block it, in plan order.
    pub skip: Vec<(ImageRef, BTreeSet<ImageRef>)>,
}

impl Graph {
    /// The managed images below `root` along `follow`ed edges, levelled so that each is
    /// rebuilt after every base of it that is rebuilt too. Level of an image = 1 + the
    /// highest level among its bases in the plan, the root being level 0.
    ///
    /// The closure does not pass through external images: a change of `debian` reaches
    /// an image built on `python` only once `python`'s publisher rebuilds it, which is a
    /// new cascade from `python`. The root itself may be external or managed.
    pub fn downstream(&self, root: &ImageRef, follow: EdgeFilter) -> Result<Plan, PlanError> {
        let root_id = self.id(root).ok_or_else(|| PlanError::UnknownImage {
            image: root.clone(),
        })?;
        let adjacency = self.adjacency(follow);
        let mut member = vec![false; self.nodes.len()];
        member[root_id] = true;
        let mut queue = VecDeque::from([root_id]);
        while let Some(id) = queue.pop_front() {
            for &child in &adjacency.children[id] {
                if !member[child] && self.nodes[child].is_managed() {
                    member[child] = true;
                    queue.push_back(child);
                }
            }
        }
        let order = self.topological(&adjacency, &member)?;
        let mut level = vec![0usize; self.nodes.len()];
        let mut levels: Vec<Vec<ImageRef>> = Vec::new();
        let mut parents = BTreeMap::new();
        for id in order.into_iter().filter(|&id| id != root_id) {
            let bases: Vec<usize> = adjacency.parents[id]
                .iter()
                .copied()
                .filter(|&p| member[p])
                .collect();
            level[id] = 1 + bases.iter().map(|&p| level[p]).max().unwrap_or(0);
            if levels.len() < level[id] {
                levels.resize(level[id], Vec::new());
            }
            let image = self.nodes[id].image.clone();
            levels[level[id] - 1].push(image.clone());
            let bases = bases.iter().map(|&p| self.nodes[p].image.clone()).collect();
            parents.insert(image, bases);
        }
        for images in &mut levels {
            images.sort();
        }
        Ok(Plan {
            root: root.clone(),
            levels,
            parents,
        })
    }

    /// The images we do not build that stand between `root` and managed images: the
    /// external images below `root` (reached through external images only) with managed
    /// images below them, each with how many. A cascade from `root` cannot reach those
    /// managed images: their chain waits on the external image's publisher, and their
    /// cascade starts when that image moves.
    pub fn behind_external(
        &self,
        root: &ImageRef,
        follow: EdgeFilter,
    ) -> Result<Vec<(ImageRef, usize)>, PlanError> {
        let root_id = self.id(root).ok_or_else(|| PlanError::UnknownImage {
            image: root.clone(),
        })?;
        let adjacency = self.adjacency(follow);
        // The external images reachable from `from` through external images only.
        let externals_below = |from: usize| {
            let mut seen = vec![false; self.nodes.len()];
            let mut queue = VecDeque::from([from]);
            let mut found = Vec::new();
            while let Some(id) = queue.pop_front() {
                for &child in &adjacency.children[id] {
                    if !seen[child] && !self.nodes[child].is_managed() {
                        seen[child] = true;
                        found.push(child);
                        queue.push_back(child);
                    }
                }
            }
            found
        };
        let mut out = Vec::new();
        for external in externals_below(root_id) {
            let mut behind = BTreeSet::new();
            for id in std::iter::once(external).chain(externals_below(external)) {
                let plan = self.downstream(&self.nodes[id].image, follow)?;
                behind.extend(plan.images().cloned());
            }
            if !behind.is_empty() {
                out.push((self.nodes[external].image.clone(), behind.len()));
            }
        }
        out.sort();
        Ok(out)
    }
}

impl Plan {
    /// The image whose change the plan follows from (not itself rebuilt).
    pub fn root(&self) -> &ImageRef {
        &self.root
    }

    /// The images to rebuild, level by level; `levels()[0]` is level 1.
    pub fn levels(&self) -> &[Vec<ImageRef>] {
        &self.levels
    }

    /// Every planned image in build order (level by level, sorted within a level).
    pub fn images(&self) -> impl Iterator<Item = &ImageRef> {
        self.levels.iter().flatten()
    }

    /// Number of images to rebuild.
    pub fn len(&self) -> usize {
        self.parents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    pub fn contains(&self, image: &ImageRef) -> bool {
        self.parents.contains_key(image)
    }

    /// The 1-based level of a planned image; 0 for the root; `None` when not planned.
    pub fn level_of(&self, image: &ImageRef) -> Option<usize> {
        if *image == self.root {
            return Some(0);
        }
        self.levels
            .iter()
            .position(|level| level.binary_search(image).is_ok())
            .map(|at| at + 1)
    }

    /// The bases of a planned image that the plan rebuilds (or the root): the digests to
    /// wait for before building it. Empty for an image not in the plan.
    pub fn parents(&self, image: &ImageRef) -> &[ImageRef] {
        self.parents.get(image).map_or(&[], Vec::as_slice)
    }

    /// The planned images below `image` (not including it), i.e. what a failure of
    /// `image` stops. For the root this is the whole plan.
    pub fn subtree(&self, image: &ImageRef) -> BTreeSet<ImageRef> {
        let failed = BTreeSet::from([image.clone()]);
        self.split(&failed)
            .skip
            .into_iter()
            .map(|(image, _)| image)
            .collect()
    }

    /// Splits the plan after the builds in `failed` did not succeed: an image goes ahead
    /// only if none of its ancestors in the plan failed. One failed base is enough to skip
    /// an image, even when its other bases succeeded — building it would mix old and new.
    /// A failure stops its own subtree only; its siblings still go ahead.
    pub fn split(&self, failed: &BTreeSet<ImageRef>) -> Split {
        // Failed ancestors per image, borrowed until the output needs owned names.
        let mut blocked: HashMap<&ImageRef, BTreeSet<&ImageRef>> = HashMap::new();
        let mut split = Split::default();
        for image in self.images() {
            let mut blockers = BTreeSet::new();
            for base in self.parents(image) {
                if let Some(failed) = failed.get(base) {
                    blockers.insert(failed);
                }
                if let Some(above) = blocked.get(base) {
                    blockers.extend(above.iter().copied());
                }
            }
            if !failed.contains(image) {
                if blockers.is_empty() {
                    split.proceed.push(image.clone());
                } else {
                    let owned = blockers.iter().map(|&b| b.clone()).collect();
                    split.skip.push((image.clone(), owned));
                }
            }
            if !blockers.is_empty() {
                blocked.insert(image, blockers);
            }
        }
        split
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::{EdgeKind, Evidence, Node, Producer};
    use super::*;

    /// Edges `base>child` (`~` for copy-from); names in capitals are external.
    fn graph(edges: &str) -> Graph {
        let mut graph = Graph::new();
        for spec in edges.split_whitespace() {
            let (kind, (base, child)) = match spec.split_once('>') {
                Some(ends) => (EdgeKind::FinalStage, ends),
                None => (EdgeKind::CopyFrom, spec.split_once('~').unwrap()),
            };
            for name in [base, child] {
                let image = image(name);
                if name.chars().all(|c| c.is_ascii_lowercase()) {
                    let producer = Producer::dockerfile(name, "Dockerfile");
                    graph.add_node(Node::managed(image, producer)).unwrap();
                } else {
                    graph.add_node(Node::external(image)).unwrap();
                }
            }
            let evidence = Evidence::BaseAnnotation { digest: None };
            graph.add_edge(&image(base), &image(child), kind, evidence);
        }
        graph
    }

    fn image(name: &str) -> ImageRef {
        format!("{}:1", name.to_ascii_lowercase()).parse().unwrap()
    }

    /// Levels as `b c | d`.
    fn levels(plan: &Plan) -> String {
        let levels: Vec<String> = plan
            .levels()
            .iter()
            .map(|level| {
                let names: Vec<String> = level
                    .iter()
                    .map(|i| i.familiar().replace(":1", ""))
                    .collect();
                names.join(" ")
            })
            .collect();
        levels.join(" | ")
    }

    #[test]
    fn levels_follow_the_longest_path() {
        let cases = [
            ("a>b", "a", EdgeFilter::FinalStage, "b"),
            ("a>c a>b b>c", "a", EdgeFilter::FinalStage, "b | c"),
            (
                "a>b a>c b>d c>d d>e",
                "a",
                EdgeFilter::FinalStage,
                "b c | d | e",
            ),
            // Only the part below the root; other bases of a planned image do not count.
            ("x>b a>b b>c", "b", EdgeFilter::FinalStage, "c"),
            ("a>b x>y", "a", EdgeFilter::FinalStage, "b"),
            // A leaf has nothing to rebuild.
            ("a>b", "b", EdgeFilter::FinalStage, ""),
            // Copy-from edges only on request.
            ("a>b a~c", "a", EdgeFilter::FinalStage, "b"),
            ("a>b a~c c>d", "a", EdgeFilter::All, "b c | d"),
            // External images stop the cascade; the root may be external.
            ("D>P P>b D>c", "D", EdgeFilter::FinalStage, "c"),
            ("D>P P>b b>c", "P", EdgeFilter::FinalStage, "b | c"),
        ];
        for (edges, root, follow, expected) in cases {
            let plan = graph(edges).downstream(&image(root), follow).unwrap();
            assert_eq!(levels(&plan), expected, "{edges} from {root}");
        }
    }

    /// What a cascade from `root` cannot reach: managed images behind images nobody here
    /// builds, through chains of them, each external image with its managed count.
    #[test]
    fn managed_images_behind_external_ones_are_counted_per_external_image() {
        let cases = [
            // debian -> python (external) -> base -> app: two managed behind python.
            ("D>P P>b b>c", "D", "p:2"),
            // Two external levels: both named, each with what is below it.
            ("D>P P>Q Q>b", "D", "p:1 q:1"),
            // A managed child of the root is the root's own plan, not behind anything.
            ("D>b D>P P>c", "D", "p:1"),
            // An external image with nothing managed below is no obstacle.
            ("D>P", "D", ""),
            ("a>b", "a", ""),
        ];
        for (edges, root, expected) in cases {
            let behind = graph(edges)
                .behind_external(&image(root), EdgeFilter::FinalStage)
                .unwrap();
            let words: Vec<String> = behind
                .iter()
                .map(|(i, n)| format!("{}:{n}", i.familiar().replace(":1", "")))
                .collect();
            assert_eq!(words.join(" "), expected, "{edges}");
        }
    }

    #[test]
    fn plan_queries() {
        let plan = graph("a>b a>c b>d c>d")
            .downstream(&image("a"), EdgeFilter::All)
            .unwrap();
        assert_eq!(plan.root(), &image("a"));
        assert_eq!(plan.len(), 3);
        assert_eq!(plan.level_of(&image("a")), Some(0));
        assert_eq!(plan.level_of(&image("d")), Some(2));
        assert_eq!(plan.level_of(&image("z")), None);
        assert_eq!(plan.parents(&image("d")), [image("b"), image("c")]);
        assert_eq!(plan.parents(&image("b")), [image("a")]);
        assert!(plan.contains(&image("c")) && !plan.contains(&image("a")));
        let order: Vec<ImageRef> = plan.images().cloned().collect();
        assert_eq!(order, [image("b"), image("c"), image("d")]);
        assert_eq!(plan.subtree(&image("a")).len(), 3);
        assert_eq!(plan.subtree(&image("b")), BTreeSet::from([image("d")]));
    }

    #[test]
    fn errors() {
        let err = graph("a>b")
            .downstream(&image("z"), EdgeFilter::FinalStage)
            .unwrap_err();
        assert_eq!(err.to_string(), "z:1 is not in the image graph");
        let err = graph("a>b b>c c>b").downstream(&image("a"), EdgeFilter::FinalStage);
        assert_eq!(
            err.unwrap_err().to_string(),
            "image dependency cycle: b:1 -> c:1 -> b:1"
        );
        // A cycle elsewhere does not stop a plan that does not reach it.
        let plan = graph("a>b x>y y>x").downstream(&image("a"), EdgeFilter::FinalStage);
        assert_eq!(levels(&plan.unwrap()), "b");
    }

    #[test]
    fn failures_stop_their_own_subtree() {
        // a -> b -> d, a -> c -> d, c -> e, a -> f
        let plan = graph("a>b a>c b>d c>d c>e a>f")
            .downstream(&image("a"), EdgeFilter::FinalStage)
            .unwrap();
        let cases: [(&[&str], &str, &str); 5] = [
            (&[], "b c f d e", ""),
            (&["b"], "c f e", "d<b"),
            (&["c"], "b f", "d<c e<c"),
            (&["b", "c"], "f", "d<b,c e<c"),
            (&["a"], "", "b<a c<a f<a d<a e<a"),
        ];
        for (failed, proceed, skip) in cases {
            let failed: BTreeSet<ImageRef> = failed.iter().map(|n| image(n)).collect();
            let split = plan.split(&failed);
            let name = |i: &ImageRef| i.familiar().replace(":1", "");
            let got_proceed: Vec<String> = split.proceed.iter().map(name).collect();
            let got_skip: Vec<String> = split
                .skip
                .iter()
                .map(|(i, by)| {
                    let by: Vec<String> = by.iter().map(name).collect();
                    format!("{}<{}", name(i), by.join(","))
                })
                .collect();
            assert_eq!(got_proceed.join(" "), proceed, "{failed:?}");
            assert_eq!(got_skip.join(" "), skip, "{failed:?}");
        }
    }
}
