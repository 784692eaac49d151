//! extract stage: a span-keeping YAML tree shared by the compose, Kubernetes and Actions
//! extractors. Reads text only; never expands aliases into copies and never recurses on the
//! depth of the input.
//!
//! Built on the event parser under serde-saphyr (`granit_parser`, which serde-saphyr
//! re-exports) rather than on `serde_saphyr::Spanned`: events carry each scalar's style
//! (plain, quoted, block) and the byte range of its token, which is what deciding whether a
//! value can be rewritten in place needs, and an alias stays a pointer to its anchor instead of
//! being copied by a deserializer, so an alias bomb costs nothing to read. For `&str` input the
//! parser reports byte offsets directly (its `index()` counts chars; a char-to-byte table is
//! built only if a byte offset is ever missing). The parser refuses nesting deeper than 255
//! levels with an error, and the tree is built with an explicit stack.
//!
//! Walking the tree follows aliases and `<<` merge keys, but every step is charged to a
//! per-document budget proportional to the document's size, so a walk through a document
//! crafted to multiply work through aliases stops early and the caller reports it.
//!
//! A string value is [`Written::Exact`] when some bytes of the text are exactly the value
//! (plain scalars on one line, quoted scalars without escapes or folding, `|-`/`>-` blocks of
//! one line), so a pin can be spliced at the end; otherwise [`Written::Inexact`] with the whole
//! token, which the extractors report as an occurrence blocked as `unrewritable`.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::ops::Range;

use serde_saphyr::granit_parser::ScalarStyle;

use crate::occurrence::ExtractError;

mod build;
mod site;

pub(crate) use build::parse;
pub(crate) use site::{Site, exhausted_error, record};

/// How many merge keys deep a lookup follows (`<<: *a` where `a` itself merges ...).
const MAX_MERGE_DEPTH: usize = 16;

/// Walking budget: this many steps plus a few per node of the document.
const BASE_BUDGET: usize = 100_000;
const BUDGET_PER_NODE: usize = 16;

/// Index of a node in its document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct NodeId(usize);

#[derive(Debug)]
enum Kind<'t> {
    Scalar {
        value: Cow<'t, str>,
        style: ScalarStyle,
    },
    Sequence(Vec<NodeId>),
    Mapping(Vec<(NodeId, NodeId)>),
    /// An alias and the anchored node it names (`None` if the anchor is unknown).
    Alias(Option<NodeId>),
}

#[derive(Debug)]
struct Node<'t> {
    kind: Kind<'t>,
    /// Byte range of the node's source (quotes included; a whole collection).
    start: usize,
    end: usize,
    /// 1-based line where the node starts.
    line: usize,
}

/// A key and its value in a mapping; `value` is already resolved through aliases.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) key: NodeId,
    pub(crate) value: NodeId,
}

/// What a value is, as far as an image reference is concerned.
#[derive(Debug)]
pub(crate) enum Value<'d> {
    /// `~`, `null` or nothing: no value written.
    Null,
    /// A string (decoded from YAML) and where it is written.
    Scalar { value: &'d str, at: Written },
    /// A mapping, a sequence or an alias to an unknown anchor; `source` is its text.
    Other { source: &'d str },
}

/// Where a string value is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Written {
    /// These bytes of the text are exactly the value: a rewrite can splice them.
    Exact(Range<usize>),
    /// The text differs from the value (escapes, folding, block syntax): the range is the
    /// whole token, quotes included, and why it cannot be edited in place.
    Inexact(Range<usize>, &'static str),
}

/// One YAML document as a tree of nodes with byte positions.
#[derive(Debug)]
pub(crate) struct Document<'t> {
    text: &'t str,
    nodes: Vec<Node<'t>>,
    budget: Cell<usize>,
    exhausted: Cell<bool>,
}

/// Every document of a YAML stream, and the syntax errors met on the way.
#[derive(Debug)]
pub(crate) struct Stream<'t> {
    pub(crate) documents: Vec<Document<'t>>,
    pub(crate) errors: Vec<ExtractError>,
}

impl<'t> Document<'t> {
    /// The top node, if the document is not empty.
    pub(crate) fn root(&self) -> Option<NodeId> {
        if self.nodes.is_empty() {
            None
        } else {
            Some(self.resolve(NodeId(0)))
        }
    }

    /// Whether a walk ran out of budget (its results are then incomplete).
    pub(crate) fn exhausted(&self) -> bool {
        self.exhausted.get()
    }

    /// Charges `steps` to the budget; false (and marks the document) when it is spent.
    fn charge(&self, steps: usize) -> bool {
        match self.budget.get().checked_sub(steps) {
            Some(left) => {
                self.budget.set(left);
                true
            }
            None => {
                self.budget.set(0);
                self.exhausted.set(true);
                false
            }
        }
    }

    fn node(&self, id: NodeId) -> Option<&Node<'t>> {
        self.nodes.get(id.0)
    }

    /// Follows an alias to its anchored node (an anchor is never itself an alias).
    fn resolve(&self, id: NodeId) -> NodeId {
        match self.node(id).map(|node| &node.kind) {
            Some(Kind::Alias(Some(target))) if self.charge(1) => *target,
            _ => id,
        }
    }

    /// 1-based line where a node starts.
    pub(crate) fn line(&self, id: NodeId) -> usize {
        self.node(id).map_or(0, |node| node.line)
    }

    /// The byte range of a node's source (after alias resolution): quotes included, a whole
    /// collection.
    pub(crate) fn span(&self, id: NodeId) -> Range<usize> {
        self.node(self.resolve(id))
            .map_or(0..0, |node| node.start..node.end)
    }

    /// The string value of a scalar node (after alias resolution).
    pub(crate) fn str(&self, id: NodeId) -> Option<&str> {
        match &self.node(self.resolve(id))?.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Whether the node is a mapping (after alias resolution).
    pub(crate) fn is_mapping(&self, id: NodeId) -> bool {
        matches!(
            self.node(self.resolve(id)).map(|n| &n.kind),
            Some(Kind::Mapping(_))
        )
    }

    /// Whether the node is a sequence (after alias resolution).
    pub(crate) fn is_sequence(&self, id: NodeId) -> bool {
        matches!(
            self.node(self.resolve(id)).map(|n| &n.kind),
            Some(Kind::Sequence(_))
        )
    }

    /// Whether a value is absent: a null scalar.
    pub(crate) fn is_null(&self, id: NodeId) -> bool {
        matches!(self.value(id), Value::Null)
    }

    /// The items of a sequence, resolved through aliases; empty for anything else.
    pub(crate) fn items(&self, id: NodeId) -> Vec<NodeId> {
        match self.node(self.resolve(id)).map(|n| &n.kind) {
            Some(Kind::Sequence(items)) if self.charge(items.len()) => {
                items.iter().map(|&item| self.resolve(item)).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The value of `key` in a mapping, looking through `<<` merge keys as YAML 1.1 and
    /// docker compose do (keys of the mapping itself win, then merged mappings in order).
    pub(crate) fn get(&self, map: NodeId, key: &str) -> Option<Entry> {
        self.lookup(self.resolve(map), key, 0)
    }

    fn lookup(&self, map: NodeId, key: &str, depth: usize) -> Option<Entry> {
        let Some(Kind::Mapping(entries)) = self.node(map).map(|n| &n.kind) else {
            return None;
        };
        if !self.charge(entries.len()) {
            return None;
        }
        let mut merges = Vec::new();
        for &(k, v) in entries {
            if self.is_merge_key(k) {
                merges.push(v);
            } else if self.str(k) == Some(key) {
                return Some(Entry {
                    key: k,
                    value: self.resolve(v),
                });
            }
        }
        if depth >= MAX_MERGE_DEPTH {
            return None;
        }
        merges
            .into_iter()
            .flat_map(|merge| self.merge_sources(merge))
            .find_map(|source| self.lookup(source, key, depth + 1))
    }

    /// Every entry of a mapping with a scalar key, merged entries included (each key once,
    /// the first definition winning), in source order of the mapping itself.
    pub(crate) fn entries(&self, map: NodeId) -> Vec<(&str, Entry)> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        self.collect_entries(self.resolve(map), 0, &mut seen, &mut out);
        out
    }

    fn collect_entries<'d>(
        &'d self,
        map: NodeId,
        depth: usize,
        seen: &mut HashSet<&'d str>,
        out: &mut Vec<(&'d str, Entry)>,
    ) {
        let Some(Kind::Mapping(entries)) = self.node(map).map(|n| &n.kind) else {
            return;
        };
        if !self.charge(entries.len()) {
            return;
        }
        let mut merges = Vec::new();
        for &(k, v) in entries {
            if self.is_merge_key(k) {
                merges.push(v);
            } else if let Some(name) = self.str(k)
                && seen.insert(name)
            {
                out.push((
                    name,
                    Entry {
                        key: k,
                        value: self.resolve(v),
                    },
                ));
            }
        }
        if depth < MAX_MERGE_DEPTH {
            for source in merges
                .into_iter()
                .flat_map(|merge| self.merge_sources(merge))
            {
                self.collect_entries(source, depth + 1, seen, out);
            }
        }
    }

    /// A plain `<<` key (a quoted one is an ordinary key).
    fn is_merge_key(&self, id: NodeId) -> bool {
        matches!(
            self.node(id).map(|n| &n.kind),
            Some(Kind::Scalar { value, style: ScalarStyle::Plain }) if value == "<<"
        )
    }

    /// The mappings a merge key's value names: one mapping or a sequence of them.
    fn merge_sources(&self, value: NodeId) -> Vec<NodeId> {
        let value = self.resolve(value);
        match self.node(value).map(|n| &n.kind) {
            Some(Kind::Mapping(_)) => vec![value],
            Some(Kind::Sequence(_)) => self.items(value),
            _ => Vec::new(),
        }
    }

    /// What a value node holds, with the exact byte span of a string when it has one.
    pub(crate) fn value(&self, id: NodeId) -> Value<'_> {
        let Some(node) = self.node(self.resolve(id)) else {
            return Value::Null;
        };
        match &node.kind {
            Kind::Scalar { value, style } => {
                if *style == ScalarStyle::Plain && is_null(value) {
                    return Value::Null;
                }
                let raw = node.start..node.end;
                let at = match self.content_span(raw.clone(), value, *style) {
                    Some(exact) => Written::Exact(exact),
                    None => Written::Inexact(raw, unrewritable_reason(*style)),
                };
                Value::Scalar { value, at }
            }
            _ => Value::Other {
                source: self.text.get(node.start..node.end).unwrap_or_default(),
            },
        }
    }

    /// The byte range holding exactly `value`, or `None` when the source differs from the
    /// value (escapes, doubled quotes, folded lines): such a value cannot be edited in place.
    fn content_span(
        &self,
        raw: Range<usize>,
        value: &str,
        style: ScalarStyle,
    ) -> Option<Range<usize>> {
        let source = self.text.get(raw.clone())?;
        match style {
            ScalarStyle::Plain => (source == value).then_some(raw),
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let quote = if style == ScalarStyle::SingleQuoted {
                    '\''
                } else {
                    '"'
                };
                let inner = source.strip_prefix(quote)?.strip_suffix(quote)?;
                (inner == value).then_some(raw.start + 1..raw.end - 1)
            }
            // `|-` or `>-` with one line: the value is the start of the block, and what
            // follows is only the line break and indentation.
            ScalarStyle::Literal | ScalarStyle::Folded => {
                let rest = source.strip_prefix(value)?;
                (!value.contains(['\n', '\r']) && rest.trim().is_empty())
                    .then_some(raw.start..raw.start + value.len())
            }
        }
    }
}

/// YAML 1.2 core schema nulls (plain scalars only).
fn is_null(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

/// Why a scalar of this style has no exact span, for a skip message.
fn unrewritable_reason(style: ScalarStyle) -> &'static str {
    match style {
        ScalarStyle::Plain => "plain value folded over several lines",
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            "quoted value with escapes or folded over several lines"
        }
        ScalarStyle::Literal | ScalarStyle::Folded => {
            "block scalar with several lines or a kept line break"
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
