//! Renderings of the image graph: snapshots of each format, and a check that the tree,
//! dot, Mermaid and JSON outputs, read back with plain string matching, describe the
//! same nodes, edges and freshness.
#![allow(clippy::unwrap_used)]

mod graph_fixture;

use std::collections::{BTreeMap, BTreeSet};

use graph_fixture::{diamond, hierarchy, image};
use strata_core::graph::{
    EdgeFilter, EdgeKind, Evidence, Graph, ImageRef, Staleness, TreeStyle, View,
};

#[test]
fn hierarchy_tree() {
    let view = hierarchy().view(EdgeFilter::FinalStage).unwrap();
    insta::assert_snapshot!(view.tree(TreeStyle::Unicode));
}

#[test]
fn hierarchy_tree_ascii() {
    let view = hierarchy().view(EdgeFilter::FinalStage).unwrap();
    let tree = view.tree(TreeStyle::Ascii);
    assert!(tree.is_ascii());
    insta::assert_snapshot!(tree);
}

#[test]
fn hierarchy_dot() {
    insta::assert_snapshot!(hierarchy().view(EdgeFilter::FinalStage).unwrap().dot());
}

#[test]
fn hierarchy_mermaid() {
    insta::assert_snapshot!(hierarchy().view(EdgeFilter::FinalStage).unwrap().mermaid());
}

#[test]
fn diamond_renderings() {
    let view = diamond().view(EdgeFilter::All).unwrap();
    insta::assert_snapshot!("diamond_tree", view.tree(TreeStyle::Unicode));
    insta::assert_snapshot!("diamond_dot", view.dot());
    insta::assert_snapshot!("diamond_mermaid", view.mermaid());
    insta::assert_json_snapshot!("diamond_json", view);
}

#[test]
fn json_view_round_trips() {
    let view = hierarchy().view(EdgeFilter::All).unwrap();
    let json = serde_json::to_string(&view).unwrap();
    assert_eq!(serde_json::from_str::<View>(&json).unwrap(), view);
}

/// Nodes with their freshness (`fresh`, `stale 3`, `unknown`) and edges with their kind.
#[derive(Debug, PartialEq, Eq)]
struct Described {
    nodes: BTreeMap<ImageRef, String>,
    edges: BTreeSet<(ImageRef, ImageRef, String)>,
}

/// `fresh`, `stale, 3 levels behind` and the tree's marks, all to one spelling.
fn freshness(text: &str) -> String {
    let text = text.trim();
    if text == "fresh" || text == "✓" || text == "[ok]" {
        return "fresh".to_owned();
    }
    if text == "unknown" || text == "?" || text == "[?]" {
        return "unknown".to_owned();
    }
    let lag: String = text.chars().filter(char::is_ascii_digit).collect();
    assert!(text.contains("stale") || text.contains('✗'), "{text}");
    format!("stale {lag}")
}

fn from_json(json: &str) -> Described {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let text = |v: &serde_json::Value| v.as_str().unwrap().to_owned();
    let nodes = value["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let status = match text(&n["status"]).as_str() {
                "stale" => format!("stale {}", n["lag"]),
                other => other.to_owned(),
            };
            (image(&text(&n["name"])), status)
        })
        .collect();
    let edges = value["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                image(&text(&e["base"])),
                image(&text(&e["child"])),
                text(&e["kind"]),
            )
        })
        .collect();
    Described { nodes, edges }
}

/// Text between the first pair of double quotes after `from`.
fn quoted(line: &str, from: usize) -> (&str, usize) {
    let start = line[from..].find('"').unwrap() + from + 1;
    let end = line[start..].find('"').unwrap() + start;
    (&line[start..end], end + 1)
}

fn from_dot(dot: &str) -> Described {
    let mut nodes = BTreeMap::new();
    let mut edges = BTreeSet::new();
    for line in dot.lines().map(str::trim).filter(|l| l.starts_with('"')) {
        let (first, after) = quoted(line, 0);
        if line[after..].trim_start().starts_with("->") {
            let (second, after) = quoted(line, after);
            let kind = match line[after..].find("label=") {
                Some(at) => quoted(line, after + at).0.to_owned(),
                None => "final-stage".to_owned(),
            };
            edges.insert((image(first), image(second), kind));
        } else {
            let at = line.find("label=").unwrap();
            let (label, _) = quoted(line, at);
            let (name, status) = label.split_once("\\n").unwrap();
            assert_eq!(image(name), image(first));
            nodes.insert(image(first), freshness(status));
        }
    }
    Described { nodes, edges }
}

fn from_mermaid(mermaid: &str) -> Described {
    let mut ids = BTreeMap::new();
    let mut nodes = BTreeMap::new();
    let mut edges = BTreeSet::new();
    for line in mermaid.lines().map(str::trim) {
        if let Some((id, rest)) = line.split_once("[\"") {
            let label = rest.trim_end_matches("\"]");
            let (name, status) = label.split_once("<br/>").unwrap();
            ids.insert(id.to_owned(), image(name));
            nodes.insert(image(name), freshness(status));
        } else if line.contains("-->") || line.contains(".->") {
            let words: Vec<&str> = line.split_whitespace().collect();
            let kind = if words[1] == "-->" {
                "final-stage"
            } else {
                words[2]
            };
            let (base, child) = (&ids[words[0]], &ids[*words.last().unwrap()]);
            edges.insert((base.clone(), child.clone(), kind.to_owned()));
        }
    }
    Described { nodes, edges }
}

/// Depth from the indentation (four columns a level), the name first after it, the
/// edge kind after `via`, the freshness mark before that.
fn from_tree(tree: &str) -> Described {
    let mut nodes = BTreeMap::new();
    let mut edges = BTreeSet::new();
    let mut path: Vec<ImageRef> = Vec::new();
    for line in tree.lines() {
        let indent = line.chars().take_while(|c| " │├└─|`-".contains(*c)).count();
        let rest: String = line.chars().skip(indent).collect();
        let rest = rest.trim_end_matches(" (*)");
        let (rest, kind) = match rest.split_once(" via ") {
            Some((rest, kind)) => (rest, kind.to_owned()),
            None => (rest, "final-stage".to_owned()),
        };
        let (name, status) = rest.split_once(' ').unwrap();
        let status = status.trim_start_matches("(external) ");
        let depth = indent / 4;
        path.truncate(depth);
        if let Some(base) = path.last() {
            edges.insert((base.clone(), image(name), kind));
        }
        path.push(image(name));
        nodes.insert(image(name), freshness(status));
    }
    Described { nodes, edges }
}

fn assert_all_agree(view: &View) {
    let json = from_json(&serde_json::to_string_pretty(view).unwrap());
    assert_eq!(json.nodes.len(), view.nodes.len());
    assert_eq!(json.edges.len(), view.edges.len());
    assert_eq!(from_dot(&view.dot()), json, "dot");
    assert_eq!(from_mermaid(&view.mermaid()), json, "mermaid");
    assert_eq!(from_tree(&view.tree(TreeStyle::Unicode)), json, "tree");
    assert_eq!(from_tree(&view.tree(TreeStyle::Ascii)), json, "ascii tree");
}

#[test]
fn all_renderings_describe_the_same_graph() {
    for follow in [EdgeFilter::FinalStage, EdgeFilter::All] {
        assert_all_agree(&hierarchy().view(follow).unwrap());
        assert_all_agree(&diamond().view(follow).unwrap());
    }
    assert_all_agree(&Graph::new().view(EdgeFilter::All).unwrap());
}

#[test]
fn a_graph_with_a_cycle_still_renders() {
    let mut graph = diamond();
    let evidence = Evidence::BaseAnnotation { digest: None };
    graph.add_edge(
        &image("acme/polyglot:1"),
        &image("acme/base:1"),
        EdgeKind::FinalStage,
        evidence,
    );
    assert!(graph.view(EdgeFilter::FinalStage).is_err());
    let view = View::new(&graph, &Staleness::default(), EdgeFilter::All);
    assert_all_agree(&view);
    insta::assert_snapshot!(view.tree(TreeStyle::Ascii));
}
