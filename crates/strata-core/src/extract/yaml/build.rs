//! extract stage: builds the span-keeping YAML tree from parser events. Reads text only;
//! uses an explicit stack, so input depth never becomes call depth.

use std::cell::{Cell, OnceCell};
use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Marker, Parser, Span};

use super::{BASE_BUDGET, BUDGET_PER_NODE, Document, Kind, Node, NodeId, Stream};
use crate::occurrence::ExtractError;

/// Parses every document of `text`. A document with a syntax error is dropped (and reported);
/// parsing resumes at the next `---`.
pub(crate) fn parse(text: &str) -> Stream<'_> {
    let offsets = Offsets {
        text,
        chars: OnceCell::new(),
    };
    let mut parser = Parser::new_from_str(text);
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    let mut builder: Option<Builder<'_>> = None;
    while let Some(next) = parser.next_event() {
        match next {
            Ok((Event::DocumentStart(..), _)) => builder = Some(Builder::new(text)),
            Ok((Event::DocumentEnd, _)) => {
                if let Some(done) = builder.take() {
                    documents.push(done.finish());
                }
            }
            Ok((event, span)) => {
                if let Some(builder) = builder.as_mut() {
                    builder.event(event, &span, &offsets);
                }
            }
            Err(error) => {
                errors.push(ExtractError {
                    line: error.marker().line(),
                    message: format!("invalid YAML: {}", error.info()),
                });
                builder = None;
                if !matches!(parser.proceed_next_document(), Ok(true)) {
                    break;
                }
            }
        }
    }
    Stream { documents, errors }
}

/// Byte offsets of parser markers.
struct Offsets<'t> {
    text: &'t str,
    /// Byte offset of each char, built only if the parser ever omits a byte offset.
    chars: OnceCell<Vec<usize>>,
}

impl Offsets<'_> {
    fn byte(&self, marker: &Marker) -> usize {
        if let Some(byte) = marker.byte_offset() {
            return byte;
        }
        let chars = self.chars.get_or_init(|| {
            let mut starts: Vec<usize> = self.text.char_indices().map(|(i, _)| i).collect();
            starts.push(self.text.len());
            starts
        });
        chars
            .get(marker.index())
            .copied()
            .unwrap_or(self.text.len())
    }
}

struct Frame {
    id: NodeId,
    /// A mapping's key still waiting for its value.
    key: Option<NodeId>,
}

struct Builder<'t> {
    text: &'t str,
    nodes: Vec<Node<'t>>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str) -> Self {
        Builder {
            text,
            nodes: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
        }
    }

    fn event(&mut self, event: Event<'t>, span: &Span, offsets: &Offsets<'_>) {
        let start = offsets.byte(&span.start);
        let end = offsets.byte(&span.end);
        match event {
            Event::Scalar(value, style, anchor, _) => {
                self.add(Kind::Scalar { value, style }, start, end, span, anchor);
            }
            Event::SequenceStart(_, anchor, _) => {
                let id = self.add(Kind::Sequence(Vec::new()), start, end, span, anchor);
                self.stack.push(Frame { id, key: None });
            }
            Event::MappingStart(_, anchor, _) => {
                let id = self.add(Kind::Mapping(Vec::new()), start, end, span, anchor);
                self.stack.push(Frame { id, key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = self.stack.pop()
                    && let Some(node) = self.nodes.get_mut(frame.id.0)
                {
                    node.end = end.max(node.start);
                }
            }
            Event::Alias(anchor) => {
                let target = self.anchors.get(&anchor).copied();
                self.add(Kind::Alias(target), start, end, span, 0);
            }
            _ => {}
        }
    }

    fn add(
        &mut self,
        kind: Kind<'t>,
        start: usize,
        end: usize,
        span: &Span,
        anchor: usize,
    ) -> NodeId {
        let id = NodeId(self.nodes.len());
        self.nodes.push(Node {
            kind,
            start,
            end,
            line: span.start.line(),
        });
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        if let Some(frame) = self.stack.last_mut()
            && let Some(parent) = self.nodes.get_mut(frame.id.0)
        {
            match &mut parent.kind {
                Kind::Sequence(items) => items.push(id),
                Kind::Mapping(entries) => match frame.key.take() {
                    Some(key) => entries.push((key, id)),
                    None => frame.key = Some(id),
                },
                Kind::Scalar { .. } | Kind::Alias(_) => {}
            }
        }
        id
    }

    fn finish(self) -> Document<'t> {
        let budget = BASE_BUDGET.saturating_add(self.nodes.len().saturating_mul(BUDGET_PER_NODE));
        Document {
            text: self.text,
            nodes: self.nodes,
            budget: Cell::new(budget),
            exhausted: Cell::new(false),
        }
    }
}
