//! The image graph's questions on whole hierarchies: cascade plans, the failed-subtree
//! rule, cycles, staleness, base inference from layers, and size.
#![allow(clippy::unwrap_used)]

mod graph_fixture;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use graph_fixture::{diamond, digest, generated, hierarchy, image};
use strata_core::graph::{
    EdgeFilter, EdgeKind, Evidence, Graph, ImageRef, LayerIndex, Node, Plan, Producer, infer_base,
};

fn describe_plan(plan: &Plan) -> String {
    let mut out = format!("root: {}\n", plan.root().familiar());
    for (at, level) in plan.levels().iter().enumerate() {
        let _ = writeln!(out, "level {}:", at + 1);
        for image in level {
            let bases: Vec<String> = plan.parents(image).iter().map(ImageRef::familiar).collect();
            let _ = writeln!(out, "  {} <- {}", image.familiar(), bases.join(", "));
        }
    }
    out
}

fn describe_split(plan: &Plan, failed: &[&str]) -> String {
    let failed: BTreeSet<ImageRef> = failed.iter().map(|n| image(n)).collect();
    let split = plan.split(&failed);
    let names: Vec<String> = failed.iter().map(ImageRef::familiar).collect();
    let mut out = format!("failed: {}\n", names.join(", "));
    let proceed: Vec<String> = split.proceed.iter().map(ImageRef::familiar).collect();
    let _ = writeln!(out, "proceed: {}", proceed.join(", "));
    for (image, blockers) in &split.skip {
        let blockers: Vec<String> = blockers.iter().map(ImageRef::familiar).collect();
        let _ = writeln!(
            out,
            "skip: {} (failed: {})",
            image.familiar(),
            blockers.join(", ")
        );
    }
    out
}

/// Every planned image comes after each of its bases in the plan.
fn assert_ordered(graph: &Graph, plan: &Plan, follow: EdgeFilter) {
    for image in plan.images() {
        let level = plan.level_of(image).unwrap();
        for edge in graph.parents(image, follow) {
            if let Some(base_level) = plan.level_of(edge.base()) {
                assert!(
                    base_level < level,
                    "{image} at {level}, base {} at {base_level}",
                    edge.base()
                );
            }
        }
        assert!(
            !plan.parents(image).is_empty(),
            "{image} has no planned base"
        );
    }
}

#[test]
fn five_level_cascade_plan() {
    let graph = hierarchy();
    graph.validate().unwrap();
    let plan = graph
        .downstream(&image("debian:bookworm"), EdgeFilter::FinalStage)
        .unwrap();
    assert_eq!(plan.len(), 32);
    assert_eq!(plan.levels().len(), 5);
    assert_eq!(plan.levels()[4].len(), 20);
    assert_ordered(&graph, &plan, EdgeFilter::FinalStage);
    insta::assert_snapshot!(describe_plan(&plan));
    // From the middle: only that branch.
    let plan = graph
        .downstream(&image("acme/node:22"), EdgeFilter::FinalStage)
        .unwrap();
    insta::assert_snapshot!("five_level_cascade_from_node", describe_plan(&plan));
}

#[test]
fn diamond_plan_places_the_join_after_both_bases() {
    let graph = diamond();
    let root = image("acme/base:1");
    // Final-stage only: polyglot follows python alone.
    let plan = graph.downstream(&root, EdgeFilter::FinalStage).unwrap();
    insta::assert_snapshot!("diamond_final_stage", describe_plan(&plan));
    let plan = graph.downstream(&root, EdgeFilter::All).unwrap();
    assert_ordered(&graph, &plan, EdgeFilter::All);
    assert_eq!(plan.parents(&image("acme/polyglot:1")).len(), 2);
    insta::assert_snapshot!("diamond_all_edges", describe_plan(&plan));
}

#[test]
fn diamond_join_is_placed_after_its_deepest_base() {
    // base -> a -> b -> join and base -> join: join waits for b (level 3), not level 1.
    let mut graph = Graph::new();
    for name in ["acme/a:1", "acme/b:1", "acme/join:1"] {
        let producer = Producer::dockerfile(name, "Dockerfile");
        graph
            .add_node(Node::managed(image(name), producer))
            .unwrap();
    }
    let edges = [
        ("base:1", "acme/a:1"),
        ("acme/a:1", "acme/b:1"),
        ("acme/b:1", "acme/join:1"),
    ];
    let evidence = Evidence::BaseAnnotation { digest: None };
    for (base, child) in edges {
        graph.add_edge(
            &image(base),
            &image(child),
            EdgeKind::FinalStage,
            evidence.clone(),
        );
    }
    graph.add_edge(
        &image("base:1"),
        &image("acme/join:1"),
        EdgeKind::CopyFrom,
        evidence,
    );
    let plan = graph.downstream(&image("base:1"), EdgeFilter::All).unwrap();
    assert_eq!(plan.level_of(&image("acme/join:1")), Some(3));
    assert_eq!(plan.len(), 3);
}

#[test]
fn failed_node_stops_its_own_subtree_only() {
    let graph = hierarchy();
    let plan = graph
        .downstream(&image("debian:bookworm"), EdgeFilter::FinalStage)
        .unwrap();
    let failures = describe_split(&plan, &["acme/python-web:3.12", "acme/nest:10"]);
    insta::assert_snapshot!("failed_subtree_hierarchy", failures);
    // In the diamond, one failed base of two is enough to skip the join.
    let plan = diamond()
        .downstream(&image("acme/base:1"), EdgeFilter::All)
        .unwrap();
    insta::assert_snapshot!(
        "failed_subtree_diamond",
        describe_split(&plan, &["acme/node:22"])
    );
    assert_eq!(
        plan.subtree(&image("acme/python:3")),
        BTreeSet::from([image("acme/polyglot:1")])
    );
}

#[test]
fn cycle_error_names_the_cycle() {
    let mut graph = hierarchy();
    let evidence = Evidence::Dockerfile {
        path: "Dockerfile".into(),
        line: 4,
    };
    // acme/base copies from one of its own descendants.
    let (leaf, base) = (image("acme/celery:5"), image("acme/base:bookworm"));
    graph.add_edge(&leaf, &base, EdgeKind::CopyFrom, evidence);
    let err = graph.validate().unwrap_err();
    insta::assert_snapshot!(err.to_string());
    assert_eq!(err.cycle.len(), 4);
    // The final-stage hierarchy alone has no cycle, so a final-stage cascade still works,
    // and one along every edge kind refuses.
    let root = image("debian:bookworm");
    assert!(graph.downstream(&root, EdgeFilter::FinalStage).is_ok());
    let err = graph.downstream(&root, EdgeFilter::All).unwrap_err();
    assert_eq!(
        err.to_string(),
        "image dependency cycle: acme/base:bookworm -> acme/python:3.12 -> \
         acme/python-worker:3.12 -> acme/celery:5 -> acme/base:bookworm"
    );
}

#[test]
fn staleness_of_the_hierarchy() {
    let staleness = hierarchy().staleness(EdgeFilter::FinalStage).unwrap();
    let mut out = String::new();
    for (image, freshness) in staleness.iter() {
        let _ = writeln!(out, "{}: {freshness:?}", image.familiar());
    }
    out.push_str("moved:\n");
    for (base, children) in staleness.moved_bases() {
        let children: Vec<String> = children.iter().map(ImageRef::familiar).collect();
        let _ = writeln!(out, "  {} under {}", base.familiar(), children.join(", "));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn layer_prefix_inference() {
    let layers = |ids: &[u32]| -> Vec<_> { ids.iter().map(|&n| digest(n)).collect() };
    let candidates = vec![
        (image("debian:bookworm"), layers(&[1])),
        (image("debian:12"), layers(&[1])),
        (image("python:3.12-slim"), layers(&[1, 2, 3])),
        (image("acme/base:bookworm"), layers(&[1, 2, 3, 4])),
        (image("acme/tools:1"), layers(&[7])),
        (image("acme/other:1"), layers(&[1, 5])),
        (image("busybox:1"), layers(&[])),
    ];
    let images: [(&str, &[u32]); 7] = [
        ("acme/app:1", &[1, 2, 3, 4, 10, 11]),
        ("acme/base:bookworm", &[1, 2, 3, 4]),
        ("acme/py:1", &[1, 2, 3, 12]),
        ("acme/deb:1", &[1, 13]),
        ("acme/unrelated:1", &[14, 7, 1]),
        ("acme/one-layer:1", &[7]),
        ("acme/fork:1", &[1, 2, 6]),
    ];
    let index = LayerIndex::new(&candidates);
    let mut out = String::new();
    for (name, ids) in images {
        let found = infer_base(&layers(ids), &candidates);
        assert_eq!(index.infer_base(&layers(ids)), found, "{name}");
        let found = match found {
            Some((base, 1)) => format!("{} (1 layer)", base.familiar()),
            Some((base, n)) => format!("{} ({n} layers)", base.familiar()),
            None => "no base".to_owned(),
        };
        let _ = writeln!(out, "{name} {ids:?}: {found}");
    }
    insta::assert_snapshot!(out);
}

#[test]
fn ten_thousand_nodes_build_and_order() {
    let graph = generated(10_000);
    assert_eq!(graph.len(), 10_000);
    graph.validate().unwrap();
    let root = image("gen/image-00000:1");
    for follow in [EdgeFilter::FinalStage, EdgeFilter::All] {
        let plan = graph.downstream(&root, follow).unwrap();
        assert_eq!(plan.len(), 9_999);
        assert_ordered(&graph, &plan, follow);
        let staleness = graph.staleness(follow).unwrap();
        assert_eq!(staleness.stale().count(), 0);
    }
    let plan = graph.downstream(&root, EdgeFilter::FinalStage).unwrap();
    // A ten-way tree of 10,000 nodes is four levels deep below the root.
    assert_eq!(plan.levels().len(), 4);
    let failed = BTreeSet::from([image("gen/image-00001:1")]);
    let split = plan.split(&failed);
    assert_eq!(split.proceed.len() + split.skip.len() + 1, 9_999);
}

#[test]
fn deep_chain_does_not_exhaust_the_stack() {
    let mut graph = Graph::new();
    let name = |i: usize| image(&format!("chain/link-{i:05}:1"));
    let evidence = Evidence::BaseAnnotation {
        digest: Some(digest(1)),
    };
    graph.set_digest(&name(0), digest(2));
    for i in 1..10_000 {
        let producer = Producer::dockerfile("chain", format!("{i}"));
        graph
            .add_node(Node::managed(name(i), producer).with_digest(digest(1)))
            .unwrap();
        graph.add_edge(
            &name(i - 1),
            &name(i),
            EdgeKind::FinalStage,
            evidence.clone(),
        );
    }
    graph.validate().unwrap();
    let plan = graph.downstream(&name(0), EdgeFilter::FinalStage).unwrap();
    assert_eq!(plan.levels().len(), 9_999);
    let staleness = graph.staleness(EdgeFilter::FinalStage).unwrap();
    assert_eq!(staleness.get(&name(9_999)).lag(), 9_999);
    // Closing the chain makes a 10,000-long cycle, found without recursion.
    graph.add_edge(&name(9_999), &name(0), EdgeKind::FinalStage, evidence);
    assert_eq!(graph.validate().unwrap_err().cycle.len(), 10_000);
}
