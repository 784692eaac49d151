//! extract stage: container images in Kubernetes manifests. Pure: reads the given text only;
//! no cluster, no Helm rendering, no kustomize overlays.
//!
//! A document is a manifest when its top-level mapping has both `apiVersion` and `kind`
//! (every Kubernetes object, built-in or custom, has both); other documents yield nothing. A
//! file whose YAML is broken is still a manifest when it has top-level `apiVersion:` and
//! `kind:` lines, and its syntax errors are reported.
//!
//! Pod specs are found by their shape, at any depth of a manifest, not by a list of kinds, so
//! every pod template a controller will run is read: Deployments and CronJobs, and custom
//! resources that embed pod templates at their own paths (RayCluster `headGroupSpec` and
//! `workerGroupSpecs`, JobSet `replicatedJobs`, LeaderWorkerSet `leaderWorkerTemplate`, ECK
//! `podTemplate`, Knative, Argo Rollouts, ...). An image is read from
//! - each mapping with an `image` in a `containers`, `initContainers` or `ephemeralContainers`
//!   list (the core `PodSpec`), or in a `sidecars` or `steps` list (Argo Workflows templates,
//!   Tekton Tasks);
//! - a `container`, `script` or `stepTemplate` mapping with an `image` (Argo Workflows
//!   templates, Tekton);
//! - `volumes[].image.reference`, an image volume (the kubelet's `ImageVolume`).
//!
//! Images come in the order the file writes them. A string anywhere else (a ConfigMap holding
//! YAML, an annotation) is never read as structure, and `image` keys outside these shapes (a
//! Helm-style `image: {repository, tag}`, an operator's own `spec.image`) are left alone.
//!
//! Go templates (Helm charts' `templates/`) are read the same way every time: see
//! `kubernetes/template.rs`. A value holding `{{` is a [`SkipReason::Templated`] skip on the
//! line of its `image:` key; an obvious placeholder (`$IMAGE`, `<PROJECT_ID>`) is a
//! `placeholder` skip.
//!
//! Positions, aliases, merge keys and values that cannot be edited in place are handled as
//! in the compose extractor. The signature matches the other YAML extractors; `vars` is not
//! used (manifests have no variables of their own).

mod template;

use serde_saphyr::granit_parser::{Event, Parser};

use crate::extract::yaml::{self, Document, Entry, NodeId, Site, Value, Written};
use crate::occurrence::{Extraction, Role, Skip, SkipReason, Source};

/// Lists whose mappings are containers.
const CONTAINER_LISTS: [&str; 5] = [
    "containers",
    "initContainers",
    "ephemeralContainers",
    "sidecars",
    "steps",
];

/// Mappings that are one container.
const CONTAINER_FIELDS: [&str; 3] = ["container", "script", "stepTemplate"];

/// Whether any document of `text` has a top-level mapping with both `apiVersion` and `kind`,
/// or the text is broken YAML written like a manifest (top-level `apiVersion:` and `kind:`
/// lines). Cheap enough for file discovery: it stops at the first such document and never
/// builds a tree.
pub fn is_manifest(text: &str) -> bool {
    if !text.contains("apiVersion") || !text.contains("kind") {
        return false;
    }
    let neutral = template::neutralize(text);
    let mut top = TopLevelKeys::default();
    for next in Parser::new_from_str(&neutral) {
        let Ok((event, _)) = next else {
            return written_like_a_manifest(text);
        };
        if top.event(&event) {
            return true;
        }
    }
    false
}

/// Top-level `apiVersion:` and `kind:` lines (at column 0), for text that is not YAML.
fn written_like_a_manifest(text: &str) -> bool {
    let mut api_version = false;
    let mut kind = false;
    for line in text.lines() {
        api_version |= line.starts_with("apiVersion:");
        kind |= line.starts_with("kind:");
    }
    api_version && kind
}

/// Tracks the keys of each document's top-level mapping through an event stream.
#[derive(Default)]
struct TopLevelKeys {
    /// Open collections.
    depth: usize,
    root_is_mapping: bool,
    /// Whether the next node at depth 1 is a key.
    key_next: bool,
    api_version: bool,
    kind: bool,
}

impl TopLevelKeys {
    /// Feeds one event; true once a document has both keys.
    fn event(&mut self, event: &Event<'_>) -> bool {
        match event {
            Event::DocumentStart(..) => *self = TopLevelKeys::default(),
            Event::Scalar(value, ..) => self.node(Some(value)),
            Event::Alias(_) => self.node(None),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if self.depth == 0 {
                    self.root_is_mapping = matches!(event, Event::MappingStart(..));
                    self.key_next = true;
                } else {
                    self.node(None);
                }
                self.depth += 1;
            }
            Event::MappingEnd | Event::SequenceEnd => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        self.api_version && self.kind
    }

    fn node(&mut self, scalar: Option<&str>) {
        if self.depth != 1 || !self.root_is_mapping {
            return;
        }
        if self.key_next {
            match scalar {
                Some("apiVersion") => self.api_version = true,
                Some("kind") => self.kind = true,
                _ => {}
            }
        }
        self.key_next = !self.key_next;
    }
}

/// Finds the container images of every manifest in `text`. `vars` is not used.
pub fn extract(text: &str, _vars: &dyn Fn(&str) -> Option<String>) -> Extraction {
    let neutral = template::neutralize(text);
    let templated = matches!(neutral, std::borrow::Cow::Owned(_));
    let stream = yaml::parse(&neutral);
    let mut out = Extraction::default();
    if templated && !stream.errors.is_empty() {
        // A template that is not YAML even neutralised: its syntax errors are not the
        // file's, and its image lines are said as text.
        for (line, value) in template::image_lines(text) {
            if value.contains("{{") {
                out.skips.push(Skip {
                    line,
                    text: value.to_owned(),
                    reason: SkipReason::Templated,
                });
            }
        }
        return out;
    }
    out.errors = stream.errors;
    for document in &stream.documents {
        let walk = Walk { text, document };
        if let Some(root) = document.root()
            && document.get(root, "apiVersion").is_some()
            && document.get(root, "kind").is_some()
        {
            walk.manifest(root, &mut out);
        }
        if document.exhausted() {
            out.errors.push(yaml::exhausted_error(document));
        }
    }
    out
}

/// A place to look, in the order the file writes them.
enum Task {
    Node(NodeId),
    /// A container mapping: its `image`.
    Container(Entry),
    /// An image volume's `image` mapping: its `reference`.
    Volume(NodeId),
}

struct Walk<'a, 't> {
    /// The original text (the document may have been parsed from its neutralised copy,
    /// which has the same byte offsets).
    text: &'a str,
    document: &'a Document<'t>,
}

impl Walk<'_, '_> {
    /// Walks a manifest depth-first with an explicit stack (input depth is never call
    /// depth); every step is charged to the document's budget, so aliases cannot multiply
    /// the work without bound.
    fn manifest(&self, root: NodeId, out: &mut Extraction) {
        let document = self.document;
        let mut stack = vec![Task::Node(root)];
        while let Some(task) = stack.pop() {
            if document.exhausted() {
                return;
            }
            match task {
                Task::Container(image) => self.image(image, out),
                Task::Volume(image) => {
                    if let Some(reference) = document.get(image, "reference") {
                        self.image(reference, out);
                    }
                }
                Task::Node(node) => {
                    let mut next = Vec::new();
                    if document.is_mapping(node) {
                        for (key, entry) in document.entries(node) {
                            self.entry(key, entry, &mut next);
                        }
                    } else {
                        next.extend(document.items(node).into_iter().map(Task::Node));
                    }
                    stack.extend(next.into_iter().rev());
                }
            }
        }
    }

    /// What to look at under one key of a mapping.
    fn entry(&self, key: &str, entry: Entry, next: &mut Vec<Task>) {
        let document = self.document;
        let image_of = |node: NodeId| {
            if document.is_mapping(node) {
                document.get(node, "image")
            } else {
                None
            }
        };
        if CONTAINER_LISTS.contains(&key) && document.is_sequence(entry.value) {
            for item in document.items(entry.value) {
                next.push(match image_of(item) {
                    Some(image) => Task::Container(image),
                    None => Task::Node(item),
                });
            }
        } else if CONTAINER_FIELDS.contains(&key)
            && let Some(image) = image_of(entry.value)
        {
            next.push(Task::Container(image));
        } else if key == "volumes" && document.is_sequence(entry.value) {
            for item in document.items(entry.value) {
                match image_of(item) {
                    Some(image) if document.is_mapping(image.value) => {
                        next.push(Task::Volume(image.value));
                    }
                    _ => next.push(Task::Node(item)),
                }
            }
        } else {
            next.push(Task::Node(entry.value));
        }
    }

    /// The text the original file has over a node's token (its neutralised copy may differ).
    fn original(&self, at: &Written) -> &str {
        let span = match at {
            Written::Exact(span) | Written::Inexact(span, _) => span.clone(),
        };
        self.text.get(span).unwrap_or_default()
    }

    fn image(&self, image: Entry, out: &mut Extraction) {
        let line = self.document.line(image.key);
        match self.document.value(image.value) {
            Value::Null => {}
            Value::Scalar { value, at } => {
                let original = self.original(&at);
                if original.contains("{{") {
                    out.skips.push(Skip {
                        line,
                        text: original.trim_matches(['"', '\'']).to_owned(),
                        reason: SkipReason::Templated,
                    });
                    return;
                }
                let site = Site {
                    line,
                    written: value,
                    at,
                    source: Source::Kubernetes,
                };
                yaml::record(out, site.occurrence(self.text, value, Role::Uses));
            }
            Value::Other { .. } => {
                let span = self.document.span(image.value);
                let source = self.text.get(span).unwrap_or_default();
                let reason = if source.contains("{{") {
                    SkipReason::Templated
                } else {
                    SkipReason::InvalidReference {
                        reason: "the value is not a string".to_owned(),
                    }
                };
                out.skips.push(Skip {
                    line,
                    text: source.to_owned(),
                    reason,
                });
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
