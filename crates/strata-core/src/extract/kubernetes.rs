//! extract stage: container images in Kubernetes manifests. Pure: reads the given text only;
//! no cluster, no Helm rendering, no kustomize overlays.
//!
//! A document is a manifest when its top-level mapping has both `apiVersion` and `kind`;
//! other documents (and files with none) yield nothing. The pod spec is at `spec` for a
//! `Pod`, `template.spec` for a `PodTemplate`, `spec.jobTemplate.spec.template.spec` for a
//! `CronJob`, and `spec.template.spec` for every other kind (Deployment, StatefulSet,
//! DaemonSet, ReplicaSet, Job, ReplicationController and custom kinds with a pod template).
//! A `List` (or `<Kind>List`) is read item by item. Images come from `initContainers`,
//! `containers` and `ephemeralContainers`, in the order the file lists them.
//!
//! Helm and other Go templates are rendered elsewhere: a value containing `{{` is skipped as
//! [`SkipReason::Templated`], and when a file that contains `{{` is not valid YAML its syntax
//! errors are reported as templated skips rather than errors.
//!
//! Positions, aliases, merge keys and values that cannot be edited in place are handled as
//! in the compose extractor. The signature matches the other YAML extractors; `vars` is not
//! used (manifests have no variables of their own).

use serde_saphyr::granit_parser::{Event, Parser};

use crate::extract::yaml::{self, Document, Entry, NodeId, Site, Value};
use crate::occurrence::{Extraction, Role, Skip, SkipReason, Source};

/// How many `List`s deep items are read.
const MAX_LIST_DEPTH: usize = 8;

/// The pod spec fields that hold containers.
const CONTAINER_FIELDS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// Whether any document of `text` has a top-level mapping with both `apiVersion` and `kind`.
/// Cheap enough for file discovery: it stops at the first such document and never builds a
/// tree; text that is not YAML is not a manifest.
pub fn is_manifest(text: &str) -> bool {
    if !text.contains("apiVersion") || !text.contains("kind") {
        return false;
    }
    let mut top = TopLevelKeys::default();
    for next in Parser::new_from_str(text) {
        let Ok((event, _)) = next else { return false };
        if top.event(&event) {
            return true;
        }
    }
    false
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
    let stream = yaml::parse(text);
    let mut out = Extraction::default();
    if text.contains("{{") && !stream.errors.is_empty() {
        // A Go template is not YAML until rendered; its syntax errors are not the file's.
        let lines: Vec<&str> = text.lines().collect();
        out.skips.extend(stream.errors.iter().map(|error| Skip {
            line: error.line,
            text: source_line(&lines, error.line).to_owned(),
            reason: SkipReason::Templated,
        }));
    } else {
        out.errors = stream.errors;
    }
    for document in &stream.documents {
        let walk = Walk { text, document };
        if let Some(root) = document.root()
            && document.get(root, "apiVersion").is_some()
            && document.get(root, "kind").is_some()
        {
            walk.object(root, 0, &mut out);
        }
        if document.exhausted() {
            out.errors.push(yaml::exhausted_error(document));
        }
    }
    out
}

/// The text of 1-based `line`, trimmed.
fn source_line<'t>(lines: &[&'t str], line: usize) -> &'t str {
    lines.get(line.saturating_sub(1)).map_or("", |l| l.trim())
}

struct Walk<'a, 't> {
    text: &'a str,
    document: &'a Document<'t>,
}

impl Walk<'_, '_> {
    /// Reads one Kubernetes object (a document, or an item of a `List`).
    fn object(&self, object: NodeId, depth: usize, out: &mut Extraction) {
        let document = self.document;
        let kind = document
            .get(object, "kind")
            .and_then(|k| document.str(k.value));
        let path: &[&str] = match kind {
            Some("Pod") => &["spec"],
            Some("PodTemplate") => &["template", "spec"],
            Some("CronJob") => &["spec", "jobTemplate", "spec", "template", "spec"],
            Some(kind) if kind.ends_with("List") && document.get(object, "items").is_some() => {
                if depth < MAX_LIST_DEPTH
                    && let Some(items) = document.get(object, "items")
                {
                    for item in document.items(items.value) {
                        self.object(item, depth + 1, out);
                    }
                }
                return;
            }
            _ => &["spec", "template", "spec"],
        };
        if let Some(spec) = self.path(object, path) {
            self.pod_spec(spec, out);
        }
    }

    fn path(&self, from: NodeId, keys: &[&str]) -> Option<NodeId> {
        keys.iter().try_fold(from, |node, key| {
            self.document.get(node, key).map(|entry| entry.value)
        })
    }

    fn pod_spec(&self, spec: NodeId, out: &mut Extraction) {
        for (field, containers) in self.document.entries(spec) {
            if !CONTAINER_FIELDS.contains(&field) {
                continue;
            }
            for container in self.document.items(containers.value) {
                if let Some(image) = self.document.get(container, "image") {
                    self.image(image, out);
                }
            }
        }
    }

    fn image(&self, image: Entry, out: &mut Extraction) {
        let line = self.document.line(image.key);
        match self.document.value(image.value) {
            Value::Null => {}
            Value::Scalar { value, at } => {
                let site = Site {
                    line,
                    written: value,
                    at,
                    source: Source::Kubernetes,
                };
                if value.contains("{{") {
                    out.skips.push(site.skip(SkipReason::Templated));
                } else {
                    yaml::record(out, site.occurrence(self.text, value, Role::Uses));
                }
            }
            Value::Other { source } => {
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
