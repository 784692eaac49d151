//! graph stage: drawing a [`View`] as text — an indented tree for terminals, Graphviz dot
//! and a Mermaid flowchart. Pure string building; printing is the caller's.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::view::{Status, TreeStyle, View, ViewKind, ViewNode, Waiting};
use super::{EdgeKind, ImageRef};

/// The glyphs of one [`TreeStyle`].
struct Glyphs {
    branch: &'static str,
    last: &'static str,
    through: &'static str,
    fresh: &'static str,
    stale: &'static str,
    unknown: &'static str,
    missing: &'static str,
}

const UNICODE: Glyphs = Glyphs {
    branch: "├── ",
    last: "└── ",
    through: "│   ",
    fresh: "✓",
    stale: "✗",
    unknown: "?",
    missing: "!",
};

const ASCII: Glyphs = Glyphs {
    branch: "|-- ",
    last: "`-- ",
    through: "|   ",
    fresh: "[ok]",
    stale: "[stale]",
    unknown: "[?]",
    missing: "[missing]",
};

/// One line of the tree still to draw.
struct Pending {
    node: usize,
    /// Drawn before the connector: the ancestors' continuation columns.
    prefix: String,
    /// `None` for a top-level line.
    last: Option<bool>,
    via: EdgeKind,
}

impl View {
    /// An indented tree, bases above the images built on them. A node with no base in
    /// the view starts a tree; one with several bases is drawn under each, its subtree
    /// only the first time (later lines end in `(*)`). Edges other than final-stage say
    /// `via <kind>`. Each line carries the node's freshness mark and lag.
    pub fn tree(&self, style: TreeStyle) -> String {
        let glyphs = match style {
            TreeStyle::Unicode => &UNICODE,
            TreeStyle::Ascii => &ASCII,
        };
        let children = self.children();
        let mut has_base = vec![false; self.nodes.len()];
        for list in &children {
            for &(child, _) in list {
                has_base[child] = true;
            }
        }
        let mut drawn = vec![false; self.nodes.len()];
        let mut out = String::new();
        // Trees from every node without a base, then from whatever is left (only nodes on
        // a cycle have no such ancestor).
        let starts: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| !has_base[i])
            .chain(0..self.nodes.len())
            .collect();
        for start in starts {
            if drawn[start] {
                continue;
            }
            let first = Pending {
                node: start,
                prefix: String::new(),
                last: None,
                via: EdgeKind::FinalStage,
            };
            let mut stack = vec![first];
            while let Some(item) = stack.pop() {
                let connector = match item.last {
                    None => "",
                    Some(true) => glyphs.last,
                    Some(false) => glyphs.branch,
                };
                let node = &self.nodes[item.node];
                let _ = write!(out, "{}{connector}{}", item.prefix, node.label);
                if node.kind == ViewKind::External {
                    out.push_str(" (external)");
                }
                let _ = write!(out, " {}", mark(node, glyphs));
                if item.via != EdgeKind::FinalStage {
                    let _ = write!(out, " via {}", item.via.as_str());
                }
                let below = &children[item.node];
                if drawn[item.node] && !below.is_empty() {
                    out.push_str(" (*)");
                }
                out.push('\n');
                if drawn[item.node] {
                    continue;
                }
                drawn[item.node] = true;
                let prefix = match item.last {
                    None => item.prefix,
                    Some(true) => item.prefix + "    ",
                    Some(false) => item.prefix + glyphs.through,
                };
                for (at, &(child, via)) in below.iter().enumerate().rev() {
                    let last = Some(at + 1 == below.len());
                    stack.push(Pending {
                        node: child,
                        prefix: prefix.clone(),
                        last,
                        via,
                    });
                }
            }
        }
        out
    }

    /// A Graphviz digraph. Node ids are the full names, labels the familiar names with
    /// the freshness; stale nodes are filled red, unknown ones grey, external ones dashed;
    /// edges other than final-stage are dashed and labelled with their kind.
    pub fn dot(&self) -> String {
        let mut out = String::from("digraph images {\n    node [shape=box];\n");
        for node in &self.nodes {
            let mut attributes = vec![format!(
                "label=\"{}\\n{}\"",
                dot_escape(&node.label),
                status_text(node)
            )];
            let mut styles = Vec::new();
            if node.kind == ViewKind::External {
                styles.push("dashed");
            }
            match node.status {
                Status::Stale => {
                    styles.push("filled");
                    attributes.push("color=\"#c62828\", fillcolor=\"#fde2e2\"".to_owned());
                }
                Status::Unknown => attributes.push("color=\"#9e9e9e\"".to_owned()),
                Status::Missing => {
                    styles.push("filled");
                    attributes.push("color=\"#6d4c41\", fillcolor=\"#efebe9\"".to_owned());
                }
                Status::Fresh => {}
            }
            if !styles.is_empty() {
                attributes.push(format!("style=\"{}\"", styles.join(",")));
            }
            let _ = writeln!(
                out,
                "    \"{}\" [{}];",
                dot_escape(&node.name.to_string()),
                attributes.join(", ")
            );
        }
        for edge in &self.edges {
            let _ = write!(
                out,
                "    \"{}\" -> \"{}\"",
                dot_escape(&edge.base.to_string()),
                dot_escape(&edge.child.to_string())
            );
            if edge.kind != EdgeKind::FinalStage {
                let _ = write!(out, " [style=dashed, label=\"{}\"]", edge.kind.as_str());
            }
            out.push_str(";\n");
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart (`flowchart TD`). Node ids are `n<index>` in name order;
    /// labels and classes follow the same rules as [`View::dot`].
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        for (at, node) in self.nodes.iter().enumerate() {
            let label = mermaid_escape(&node.label);
            let _ = writeln!(out, "    n{at}[\"{label}<br/>{}\"]", status_text(node));
        }
        let index = self.index();
        for edge in &self.edges {
            let (Some(base), Some(child)) = (index.get(&edge.base), index.get(&edge.child)) else {
                continue;
            };
            match edge.kind {
                EdgeKind::FinalStage => {
                    let _ = writeln!(out, "    n{base} --> n{child}");
                }
                kind => {
                    let _ = writeln!(out, "    n{base} -. {} .-> n{child}", kind.as_str());
                }
            }
        }
        out.push_str("    classDef stale fill:#fde2e2,stroke:#c62828,color:#b71c1c\n");
        out.push_str("    classDef unknown stroke:#9e9e9e,color:#616161\n");
        out.push_str("    classDef missing fill:#efebe9,stroke:#6d4c41,color:#4e342e\n");
        out.push_str("    classDef external stroke-dasharray:5 5\n");
        let classes: [(&str, NodeTest); 4] = [
            ("stale", |n| n.status == Status::Stale),
            ("unknown", |n| n.status == Status::Unknown),
            ("missing", |n| n.status == Status::Missing),
            ("external", |n| n.kind == ViewKind::External),
        ];
        for (class, member) in classes {
            let ids: Vec<String> = (0..self.nodes.len())
                .filter(|&at| member(&self.nodes[at]))
                .map(|at| format!("n{at}"))
                .collect();
            if !ids.is_empty() {
                let _ = writeln!(out, "    class {} {class}", ids.join(","));
            }
        }
        out
    }

    /// Node positions by name.
    fn index(&self) -> BTreeMap<&ImageRef, usize> {
        self.nodes
            .iter()
            .enumerate()
            .map(|(at, node)| (&node.name, at))
            .collect()
    }

    /// Per node, the (child, edge kind) pairs below it, in edge order.
    fn children(&self) -> Vec<Vec<(usize, EdgeKind)>> {
        let index = self.index();
        let mut children = vec![Vec::new(); self.nodes.len()];
        for edge in &self.edges {
            if let (Some(&base), Some(&child)) = (index.get(&edge.base), index.get(&edge.child)) {
                children[base].push((child, edge.kind));
            }
        }
        children
    }
}

/// Whether a node belongs to a Mermaid class.
type NodeTest = fn(&ViewNode) -> bool;

/// The tree's freshness mark: `✓`, `✗ 2 levels behind`, `?`.
fn mark(node: &ViewNode, glyphs: &Glyphs) -> String {
    match node.status {
        Status::Fresh => glyphs.fresh.to_owned(),
        Status::Stale => {
            let mut text = format!("{} {}", glyphs.stale, behind(node.lag));
            if let Some(waiting) = &node.waiting {
                let _ = write!(text, ", {}", waiting_text(waiting));
            }
            text
        }
        Status::Unknown => glyphs.unknown.to_owned(),
        Status::Missing => format!("{} missing: its registry does not have it", glyphs.missing),
    }
}

/// `still built on debian:bookworm@sha256:0123456789ab (moved 2026-11-24)`.
fn waiting_text(waiting: &Waiting) -> String {
    let digest = waiting.built_on.to_string();
    let short: String = digest.chars().take(19).collect();
    let mut text = format!("still built on {}@{short}", waiting.base.familiar());
    if let Some(at) = &waiting.moved_at {
        let day = at.get(..10).unwrap_or(at);
        let _ = write!(text, " (moved {day})");
    }
    text
}

/// `fresh`, `stale, 2 levels behind`, `unknown`.
fn status_text(node: &ViewNode) -> String {
    match node.status {
        Status::Fresh => "fresh".to_owned(),
        Status::Stale => format!("stale, {}", behind(node.lag)),
        Status::Unknown => "unknown".to_owned(),
        Status::Missing => "missing".to_owned(),
    }
}

fn behind(lag: u32) -> String {
    match lag {
        1 => "1 level behind".to_owned(),
        n => format!("{n} levels behind"),
    }
}

fn dot_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn mermaid_escape(text: &str) -> String {
    text.replace('"', "#quot;")
}
