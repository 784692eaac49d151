//! Graphs shared by the graph integration tests: a five-level company hierarchy with
//! fan-out and some stale branches, a diamond, and generated large graphs.
#![allow(dead_code, clippy::unwrap_used)]

use strata_core::graph::{EdgeKind, Evidence, Graph, ImageRef, Node, Producer};
use strata_core::reference::Digest;

pub(crate) fn image(name: &str) -> ImageRef {
    name.parse().unwrap()
}

pub(crate) fn digest(n: u32) -> Digest {
    format!("sha256:{n:064x}").parse().unwrap()
}

/// Level-4 images of the hierarchy with their level-3 base and their four leaves.
const FAN_OUT: [(&str, &str, [&str; 4]); 5] = [
    (
        "acme/django:5",
        "acme/python-web:3.12",
        ["billing", "catalog", "accounts", "search"],
    ),
    (
        "acme/flask:3",
        "acme/python-web:3.12",
        ["webhooks", "reports", "admin", "status"],
    ),
    (
        "acme/celery:5",
        "acme/python-worker:3.12",
        ["mailer", "exporter", "indexer", "scheduler"],
    ),
    (
        "acme/next:15",
        "acme/node-web:22",
        ["storefront", "docs", "dashboard", "checkout"],
    ),
    (
        "acme/nest:10",
        "acme/node-cli:22",
        ["gateway", "auth", "notify", "media"],
    ),
];

/// The upper levels: (image, base).
const UPPER: [(&str, &str); 7] = [
    ("acme/base:bookworm", "debian:bookworm"),
    ("acme/python:3.12", "acme/base:bookworm"),
    ("acme/node:22", "acme/base:bookworm"),
    ("acme/python-web:3.12", "acme/python:3.12"),
    ("acme/python-worker:3.12", "acme/python:3.12"),
    ("acme/node-web:22", "acme/node:22"),
    ("acme/node-cli:22", "acme/node:22"),
];

/// Images built on an older digest of their base than the current one.
const MOVED: [&str; 3] = ["acme/node:22", "acme/flask:3", "acme/billing:1"];
/// An image whose base digest was never recorded.
const UNRECORDED: &str = "acme/search:1";

/// `debian:bookworm` (external) -> `acme/base` -> python / node -> four framework
/// images -> five app images -> twenty services: one root, five levels below it,
/// twenty leaves. `acme/node` and `acme/flask` were built on an older base digest,
/// `acme/billing` too, and `acme/search` has no recorded base digest. `acme/mailer`
/// also uses `golang:1.23` as a build stage.
pub(crate) fn hierarchy() -> Graph {
    let mut pairs: Vec<(String, String)> = UPPER
        .iter()
        .map(|(i, b)| (i.to_string(), b.to_string()))
        .collect();
    for (framework, base, leaves) in FAN_OUT {
        pairs.push((framework.to_owned(), base.to_owned()));
        for leaf in leaves {
            pairs.push((format!("acme/{leaf}:1"), framework.to_owned()));
        }
    }
    let mut graph = Graph::new();
    let root = image("debian:bookworm");
    graph
        .add_node(Node::external(root).with_digest(digest(1)))
        .unwrap();
    for (at, (name, _)) in pairs.iter().enumerate() {
        let repo = name.split(':').next().unwrap_or(name);
        let producer = Producer::dockerfile(repo, "Dockerfile");
        let node = Node::managed(image(name), producer).with_digest(digest(at as u32 + 2));
        graph.add_node(node).unwrap();
    }
    for (name, base) in &pairs {
        let (child, base) = (image(name), image(base));
        let current = graph.node(&base).unwrap().digest.clone().unwrap();
        let from = Evidence::Dockerfile {
            path: "Dockerfile".into(),
            line: 1,
        };
        graph.add_edge(&base, &child, EdgeKind::FinalStage, from);
        let built_on = if MOVED.contains(&name.as_str()) {
            Some(digest(9000))
        } else if name == UNRECORDED {
            None
        } else {
            Some(current)
        };
        if let Some(digest) = built_on {
            let annotation = Evidence::BaseAnnotation {
                digest: Some(digest),
            };
            graph.add_edge(&base, &child, EdgeKind::FinalStage, annotation);
        }
    }
    let builder = Evidence::Dockerfile {
        path: "Dockerfile".into(),
        line: 1,
    };
    graph.add_edge(
        &image("golang:1.23"),
        &image("acme/mailer:1"),
        EdgeKind::BuildStage,
        builder,
    );
    graph.set_digest(&image("golang:1.23"), digest(8000));
    graph
}

/// `acme/base` -> `acme/python` and `acme/node` -> `acme/polyglot`, which is built
/// FROM python and copies from node. `acme/node` moved under polyglot.
pub(crate) fn diamond() -> Graph {
    let mut graph = Graph::new();
    let nodes = [
        ("acme/base:1", 1),
        ("acme/python:3", 2),
        ("acme/node:22", 3),
        ("acme/polyglot:1", 4),
    ];
    for (name, n) in nodes {
        let repo = name.split(':').next().unwrap_or(name);
        let producer = Producer::dockerfile(repo, "Dockerfile");
        graph
            .add_node(Node::managed(image(name), producer).with_digest(digest(n)))
            .unwrap();
    }
    let edges = [
        ("acme/base:1", "acme/python:3", EdgeKind::FinalStage, 1),
        ("acme/base:1", "acme/node:22", EdgeKind::FinalStage, 1),
        ("acme/python:3", "acme/polyglot:1", EdgeKind::FinalStage, 2),
        ("acme/node:22", "acme/polyglot:1", EdgeKind::CopyFrom, 99),
    ];
    for (base, child, kind, built_on) in edges {
        let evidence = Evidence::BaseAnnotation {
            digest: Some(digest(built_on)),
        };
        graph.add_edge(&image(base), &image(child), kind, evidence);
    }
    graph
}

/// A generated DAG of `count` managed images under one external root: image `i` is
/// built FROM image `(i - 1) / 10` (a ten-way tree) and copies from image `i / 3`
/// when that is an earlier, different image — many diamonds, no cycle.
pub(crate) fn generated(count: usize) -> Graph {
    let names: Vec<ImageRef> = (0..count)
        .map(|i| image(&format!("gen/image-{i:05}:1")))
        .collect();
    let digests: Vec<Digest> = (0..count).map(|i| digest(i as u32)).collect();
    let mut graph = Graph::new();
    graph
        .add_node(Node::external(names[0].clone()).with_digest(digests[0].clone()))
        .unwrap();
    for i in 1..count {
        let producer = Producer::dockerfile("gen/images", format!("{i}/Dockerfile"));
        let node = Node::managed(names[i].clone(), producer).with_digest(digests[i].clone());
        graph.add_node(node).unwrap();
    }
    for i in 1..count {
        let base = (i - 1) / 10;
        let annotation = Evidence::BaseAnnotation {
            digest: Some(digests[base].clone()),
        };
        graph.add_edge(&names[base], &names[i], EdgeKind::FinalStage, annotation);
        let other = i / 3;
        if other != base && other < i {
            let evidence = Evidence::Dockerfile {
                path: format!("{i}/Dockerfile"),
                line: 3,
            };
            graph.add_edge(&names[other], &names[i], EdgeKind::CopyFrom, evidence);
        }
    }
    graph
}
