//! ci stage: CI files' YAML, read through the extractors' span-keeping tree, as the
//! values expressions and matrices work on. Pure; nesting deeper than [`MAX_DEPTH`]
//! becomes an unknown value rather than deeper recursion.

use crate::extract::yaml::{Document, NodeId, Value as Node, Written};

use super::expr::Value;
use super::text::clean;

/// Deepest nesting turned into values.
const MAX_DEPTH: usize = 64;

/// One document of a CI file, with the file's text.
pub(crate) struct Yaml<'a, 't> {
    pub(crate) text: &'a str,
    pub(crate) doc: &'a Document<'t>,
}

impl Yaml<'_, '_> {
    pub(crate) fn root(&self) -> Option<NodeId> {
        self.doc.root()
    }

    pub(crate) fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.doc.get(map, key).map(|e| e.value)
    }

    /// The line of `key` in `map` (else the map's own line).
    pub(crate) fn key_line(&self, map: NodeId, key: &str) -> usize {
        self.doc
            .get(map, key)
            .map_or_else(|| self.doc.line(map), |e| self.doc.line(e.key))
    }

    pub(crate) fn entries(&self, map: NodeId) -> Vec<(String, NodeId)> {
        self.doc
            .entries(map)
            .into_iter()
            .map(|(k, e)| (clean(k), e.value))
            .collect()
    }

    pub(crate) fn items(&self, seq: NodeId) -> Vec<NodeId> {
        self.doc.items(seq)
    }

    pub(crate) fn line(&self, id: NodeId) -> usize {
        self.doc.line(id)
    }

    /// Whether a scalar is a block (`|`, `>`): its text starts on the line after the
    /// node's.
    pub(crate) fn starts_block(&self, id: NodeId) -> bool {
        let line = self.doc.line(id);
        self.text
            .lines()
            .nth(line.saturating_sub(1))
            .is_some_and(|l| {
                let t = l.trim_end();
                let t = t.strip_suffix(['-', '+']).unwrap_or(t);
                let t = t.trim_end_matches(|c: char| c.is_ascii_digit());
                t.ends_with('|') || t.ends_with('>')
            })
    }

    pub(crate) fn is_mapping(&self, id: NodeId) -> bool {
        self.doc.is_mapping(id)
    }

    /// A scalar's text (any scalar: `3.10` is `"3.10"` here).
    pub(crate) fn string(&self, id: NodeId) -> Option<String> {
        match self.doc.value(id) {
            Node::Scalar { value, .. } => Some(clean(value)),
            Node::Null => Some(String::new()),
            Node::Other { .. } => None,
        }
    }

    /// `key`'s scalar text in `map`.
    pub(crate) fn str_at(&self, map: NodeId, key: &str) -> Option<String> {
        self.get(map, key).and_then(|v| self.string(v))
    }

    /// A sequence of scalars, or one scalar, as strings.
    pub(crate) fn strings(&self, id: NodeId) -> Vec<String> {
        match self.string(id) {
            Some(one) if !one.is_empty() => vec![one],
            Some(_) => Vec::new(),
            None => self
                .items(id)
                .into_iter()
                .filter_map(|i| self.string(i))
                .collect(),
        }
    }

    /// The node as an expression value: plain scalars typed as YAML 1.2 reads them,
    /// quoted ones strings, mappings closed objects in file order.
    pub(crate) fn value(&self, id: NodeId) -> Value {
        self.value_at(id, 0)
    }

    fn value_at(&self, id: NodeId, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Unknown;
        }
        match self.doc.value(id) {
            Node::Null => Value::Null,
            Node::Scalar { value, at } => {
                let quoted = match at {
                    Written::Exact(range) => {
                        let before = range
                            .start
                            .checked_sub(1)
                            .and_then(|i| self.text.as_bytes().get(i));
                        matches!(before, Some(b'\'' | b'"'))
                            && self.text.as_bytes().get(range.end) == before
                    }
                    Written::Inexact(..) => true,
                };
                Value::from_scalar(&clean(value), quoted)
            }
            Node::Other { source } => {
                if self.is_mapping(id) {
                    Value::object(
                        self.entries(id)
                            .into_iter()
                            .map(|(k, v)| (k, self.value_at(v, depth + 1)))
                            .collect(),
                    )
                } else if source.trim_start().starts_with(['[', '-']) {
                    Value::Array(
                        self.items(id)
                            .into_iter()
                            .map(|i| self.value_at(i, depth + 1))
                            .collect(),
                    )
                } else {
                    Value::Unknown
                }
            }
        }
    }
}
