//! extract stage: container images in GitHub Actions workflow files. Pure: reads the given
//! text only; expressions are never evaluated.
//!
//! Images come from `jobs.<id>.container` (a string, or a mapping with `image:`),
//! `jobs.<id>.services.<name>.image`, and steps that run a container directly,
//! `jobs.<id>.steps[*].uses: docker://<image>`, whose span is the part after `docker://`.
//! A value containing `${{` is an expression evaluated by the runner: it is skipped as
//! [`SkipReason::Templated`]. An empty `container`/`image` is how a workflow turns a
//! container or service off (GitHub's documented behaviour), so it yields nothing. Action
//! metadata files (`action.yml` with `runs.image`) are out of scope.
//!
//! Positions, aliases, merge keys and values that cannot be edited in place are handled as
//! in the compose extractor. The signature matches the other YAML extractors; `vars` is not
//! used.

use crate::extract::yaml::{self, Document, Entry, NodeId, Site, Value, Written};
use crate::occurrence::{Extraction, Role, Skip, SkipReason, Source};

/// The `uses:` prefix of a step that runs an image.
const DOCKER_SCHEME: &str = "docker://";

/// Finds the images of every job of every document in `text`. `vars` is not used.
pub fn extract(text: &str, _vars: &dyn Fn(&str) -> Option<String>) -> Extraction {
    let stream = yaml::parse(text);
    let mut out = Extraction {
        errors: stream.errors,
        ..Extraction::default()
    };
    for document in &stream.documents {
        let walk = Walk { text, document };
        if let Some(root) = document.root()
            && let Some(jobs) = document.get(root, "jobs")
        {
            for (_, job) in document.entries(jobs.value) {
                walk.job(job.value, &mut out);
            }
        }
        if document.exhausted() {
            out.errors.push(yaml::exhausted_error(document));
        }
    }
    out
}

struct Walk<'a, 't> {
    text: &'a str,
    document: &'a Document<'t>,
}

impl Walk<'_, '_> {
    /// Reads one job's fields in file order.
    fn job(&self, job: NodeId, out: &mut Extraction) {
        let document = self.document;
        for (field, entry) in document.entries(job) {
            match field {
                "container" if document.is_mapping(entry.value) => {
                    if let Some(image) = document.get(entry.value, "image") {
                        self.image(image, "", out);
                    }
                }
                "container" => self.image(entry, "", out),
                "services" => {
                    for (_, service) in document.entries(entry.value) {
                        if let Some(image) = document.get(service.value, "image") {
                            self.image(image, "", out);
                        }
                    }
                }
                "steps" => {
                    for step in document.items(entry.value) {
                        if let Some(uses) = document.get(step, "uses") {
                            self.image(uses, DOCKER_SCHEME, out);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Records the image written at `entry`, after `prefix`; a value without the prefix is
    /// not an image (a `uses:` naming an action) and is ignored.
    fn image(&self, entry: Entry, prefix: &str, out: &mut Extraction) {
        let line = self.document.line(entry.key);
        let (value, at) = match self.document.value(entry.value) {
            Value::Null => return,
            Value::Scalar { value, at } => (value, at),
            Value::Other { source } => {
                if prefix.is_empty() {
                    let reason = SkipReason::InvalidReference {
                        reason: "the value is not a string".to_owned(),
                    };
                    out.skips.push(Skip {
                        line,
                        text: source.to_owned(),
                        reason,
                    });
                }
                return;
            }
        };
        let Some(written) = value.strip_prefix(prefix) else {
            return;
        };
        if written.is_empty() && prefix.is_empty() {
            return;
        }
        // The prefix is plain ASCII, so an exact value's image starts right after it.
        let at = match at {
            Written::Exact(span) => Written::Exact(span.start + prefix.len()..span.end),
            inexact @ Written::Inexact(..) => inexact,
        };
        let site = Site {
            line,
            written,
            at,
            source: Source::Actions,
        };
        if written.contains("${{") {
            out.skips.push(site.skip(SkipReason::Templated));
        } else {
            yaml::record(out, site.occurrence(self.text, written, Role::Uses));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
