//! `strata graph` on the five-level workspace: every format (tree, dot, mermaid, JSON)
//! draws the same nodes, edges and stale marks; the evidence is the right kind for each
//! edge (Dockerfile, compose, annotation, layer prefix); the other edge kinds appear on
//! request; a dependency cycle is an error that names it.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod cascade_support;

use std::collections::BTreeSet;

use cascade_support::{Setup, setup};
use serde_json::Value;

type Edges = BTreeSet<(String, String)>;

/// (nodes, edges, stale nodes), all by familiar name.
struct Drawn {
    nodes: BTreeSet<String>,
    edges: Edges,
    stale: BTreeSet<String>,
}

async fn draw(setup: &Setup, format: &str) -> String {
    let run = setup.strata(&["graph", "--format", format], &[]).await;
    assert_eq!(run.code, 1, "stale images exist: {}", run.stderr);
    run.stdout
}

fn from_json(doc: &Value) -> Drawn {
    let label = |full: &Value| {
        doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == *full)
            .map(|n| n["label"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let nodes = doc["nodes"].as_array().unwrap();
    Drawn {
        nodes: nodes
            .iter()
            .map(|n| n["label"].as_str().unwrap().to_owned())
            .collect(),
        edges: doc["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (label(&e["base"]), label(&e["child"])))
            .collect(),
        stale: nodes
            .iter()
            .filter(|n| n["stale"] == true)
            .map(|n| n["label"].as_str().unwrap().to_owned())
            .collect(),
    }
}

/// Text between the first pair of `"`.
fn quoted(line: &str) -> &str {
    line.split('"').nth(1).unwrap()
}

fn from_dot(text: &str, json: &Value) -> Drawn {
    let label = |full: &str| {
        json["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == full)
            .unwrap()["label"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let mut drawn = Drawn {
        nodes: BTreeSet::new(),
        edges: BTreeSet::new(),
        stale: BTreeSet::new(),
    };
    for line in text.lines().map(str::trim).filter(|l| l.starts_with('"')) {
        if let Some((base, child)) = line.split_once(" -> ") {
            drawn
                .edges
                .insert((label(quoted(base)), label(quoted(child))));
        } else {
            let name = label(quoted(line));
            if line.contains("filled") {
                drawn.stale.insert(name.clone());
            }
            drawn.nodes.insert(name);
        }
    }
    drawn
}

fn from_mermaid(text: &str) -> Drawn {
    let mut ids = std::collections::BTreeMap::new();
    let mut drawn = Drawn {
        nodes: BTreeSet::new(),
        edges: BTreeSet::new(),
        stale: BTreeSet::new(),
    };
    for line in text.lines().map(str::trim) {
        if let Some((id, rest)) = line.split_once("[\"") {
            let name = rest.split("<br/>").next().unwrap().to_owned();
            ids.insert(id.to_owned(), name.clone());
            drawn.nodes.insert(name);
        }
    }
    for line in text.lines().map(str::trim) {
        if let Some((base, child)) = line.split_once(" --> ") {
            drawn.edges.insert((ids[base].clone(), ids[child].clone()));
        }
        if let Some(list) = line
            .strip_prefix("class ")
            .and_then(|l| l.strip_suffix(" stale"))
        {
            drawn
                .stale
                .extend(list.split(',').map(|id| ids[id].clone()));
        }
    }
    drawn
}

/// Indentation gives the edges: four columns per level.
fn from_tree(text: &str) -> Drawn {
    let mut drawn = Drawn {
        nodes: BTreeSet::new(),
        edges: BTreeSet::new(),
        stale: BTreeSet::new(),
    };
    let mut path: Vec<String> = Vec::new();
    for line in text.lines() {
        let start = line.find(|c: char| c.is_ascii_alphanumeric()).unwrap();
        let depth = line[..start].chars().count() / 4;
        let name = line[start..].split_whitespace().next().unwrap().to_owned();
        path.truncate(depth);
        if let Some(base) = path.last() {
            drawn.edges.insert((base.clone(), name.clone()));
        }
        if line.contains('✗') {
            drawn.stale.insert(name.clone());
        }
        drawn.nodes.insert(name.clone());
        path.push(name);
    }
    drawn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_format_draws_the_same_hierarchy() {
    let setup = setup(true).await;
    setup.move_root().await;
    let json: Value = serde_json::from_str(&draw(&setup, "json").await).unwrap();
    let reference = from_json(&json);
    assert_eq!(reference.nodes.len(), setup.members.len());
    assert_eq!(reference.edges.len(), setup.members.len() - 1);
    assert_eq!(reference.stale.len(), setup.managed().len());
    let expected: Edges = setup
        .managed()
        .iter()
        .map(|m| (m.parent.clone().unwrap(), m.name.clone()))
        .collect();
    assert_eq!(reference.edges, expected);
    let others = [
        ("dot", from_dot(&draw(&setup, "dot").await, &json)),
        ("mermaid", from_mermaid(&draw(&setup, "mermaid").await)),
        ("tree", from_tree(&draw(&setup, "tree").await)),
    ];
    for (format, drawn) in others {
        assert_eq!(drawn.nodes, reference.nodes, "{format} nodes");
        assert_eq!(drawn.edges, reference.edges, "{format} edges");
        assert_eq!(drawn.stale, reference.stale, "{format} stale marks");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edges_carry_the_evidence_they_came_from() {
    let setup = setup(true).await;
    let run = setup
        .strata(&["graph", "--format", "json", "--all-edges"], &[])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let h = &setup.host;
    let edge = |base: &str, child: &str, kind: &str| -> Value {
        doc["edges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| {
                e["base"] == format!("{h}/{base}")
                    && e["child"] == format!("{h}/{child}")
                    && e["kind"] == kind
            })
            .unwrap_or_else(|| panic!("no {kind} edge {base} -> {child}"))
            .clone()
    };
    let sources = |e: &Value| -> Vec<String> {
        e["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["source"].as_str().unwrap().to_owned())
            .collect()
    };
    // Final stage through the alias `base`; the `tools` stage is a builder edge.
    let python_base = edge("base/python:3.12-slim", "org/python-base:3", "final-stage");
    assert_eq!(sources(&python_base), ["dockerfile", "base-annotation"]);
    assert_eq!(
        python_base["evidence"][0]["path"],
        "images/python-base/Dockerfile"
    );
    assert_eq!(python_base["evidence"][0]["line"], 3);
    let tools = edge("base/debian:bookworm", "org/python-base:3", "build-stage");
    assert_eq!(sources(&tools), ["dockerfile"]);
    // Compose build + image, naming rule, explicit entry, git repository.
    let vumi = edge("org/python-base:3", "org/vumi:latest", "final-stage");
    assert_eq!(vumi["evidence"][0]["path"], "vumi/Dockerfile");
    edge("org/vumi:latest", "org/junebug:latest", "final-stage");
    let go = edge("org/vumi:latest", "org/vumi-go:1", "final-stage");
    assert_eq!(go["evidence"][0]["path"], "vumi/go/Dockerfile.go");
    let celery = edge("org/python-base:3", "org/celery-base:5", "final-stage");
    assert_eq!(
        celery["evidence"][0]["path"],
        "celery/celery-base/Dockerfile"
    );
    // No Dockerfile and no annotation: the layer prefix finds the base.
    let legacy = edge("org/worker:1", "legacy/report:1", "final-stage");
    assert_eq!(sources(&legacy), ["layer-prefix"]);
    assert_eq!(legacy["evidence"][0]["layers"], 5);
    let nodes = doc["nodes"].as_array().unwrap();
    let producer = |name: &str| {
        nodes
            .iter()
            .find(|n| n["name"] == format!("{h}/{name}"))
            .unwrap()["producer"]
            .clone()
    };
    assert_eq!(producer("org/vumi:latest")["service"], "vumi");
    assert_eq!(producer("org/vumi:latest")["path"], "compose.yaml");
    assert_eq!(producer("svc/beat-3:1")["repository"], "services");
    assert_eq!(producer("base/debian:bookworm"), Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_is_an_error_that_names_it() {
    let setup = setup(false).await;
    let h = &setup.host;
    let ws = setup.dir.path().join("cycle");
    for (name, base) in [("a", "b"), ("b", "c"), ("c", "a")] {
        let file = ws.join(format!("{name}/Dockerfile"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            file,
            format!("# strata: produces {h}/loop/{name}:1\nFROM {h}/loop/{base}:1\n"),
        )
        .unwrap();
    }
    let dir = ws.to_str().unwrap();
    let run = setup.strata(&["graph", dir], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stdout);
    let cycle = format!(
        "image dependency cycle: {h}/loop/a:1 -> {h}/loop/c:1 -> {h}/loop/b:1 -> {h}/loop/a:1"
    );
    assert!(run.stderr.contains(&cycle), "{}", run.stderr);
    let run = setup
        .strata(
            &["cascade", &format!("{h}/loop/a:1"), "-w", dir, "--dry-run"],
            &[],
        )
        .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("image dependency cycle"),
        "{}",
        run.stderr
    );
}
