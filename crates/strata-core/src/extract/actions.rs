//! extract stage: container images in GitHub Actions workflow files and action metadata
//! files. Pure: reads the given text only; expressions are never evaluated.
//!
//! Workflows (GitHub's workflow syntax; the runner's schema `workflow-v1.0.json`): images come
//! from `jobs.<id>.container` (`one-of: string, container-mapping`: a string, or a mapping with
//! `image:`), `jobs.<id>.services.<name>` (`services-container`, `one-of: non-empty-string,
//! service-container-mapping`: a string, or a mapping with `image:`), and steps that run a
//! container directly, `jobs.<id>.steps[*].uses: docker://<image>` (the runner's
//! `PipelineTemplateConverter` tests the prefix case-sensitively), whose span is the part
//! after `docker://`. An empty `container`/`image` is how a workflow turns a container or
//! service off (GitHub's documented behaviour), so it yields nothing.
//!
//! Action metadata (`action.yml` / `action.yaml`, GitHub's metadata syntax; the runner's
//! `ActionManager`): with `runs.using: docker`, `runs.image` is a build when it ends in
//! `Dockerfile` or `dockerfile` (that Dockerfile is scanned on its own, nothing here), an image
//! when it starts with `docker://` (any case), and anything else is refused by the runner
//! (`should be either '[path]/Dockerfile' or 'docker://image[:tag]'`), an error here too. A
//! composite action's `runs.steps[*].uses: docker://` are images as in a workflow.
//!
//! A value containing `${{` is an expression evaluated by the runner: it is skipped as
//! [`SkipReason::Templated`]. Positions, aliases, merge keys and values that cannot be edited
//! in place are handled as in the compose extractor. The signature matches the other YAML
//! extractors; `vars` is not used.

use crate::extract::yaml::{self, Document, Entry, NodeId, Site, Value, Written};
use crate::occurrence::{ExtractError, Extraction, Role, Skip, SkipReason, Source};

/// The `uses:` prefix of a step that runs an image.
const DOCKER_SCHEME: &str = "docker://";

/// Finds the images of every job of every document in `text`. `vars` is not used.
pub fn extract(text: &str, _vars: &dyn Fn(&str) -> Option<String>) -> Extraction {
    each_document(text, |walk, root, out| {
        if let Some(jobs) = walk.document.get(root, "jobs") {
            for (_, job) in walk.document.entries(jobs.value) {
                walk.job(job.value, out);
            }
        }
    })
}

/// Finds the images of an action metadata file (`action.yml`). `vars` is not used.
pub fn extract_action(text: &str, _vars: &dyn Fn(&str) -> Option<String>) -> Extraction {
    each_document(text, |walk, root, out| {
        if let Some(runs) = walk.document.get(root, "runs") {
            walk.runs(runs.value, out);
        }
    })
}

fn each_document(text: &str, read: impl Fn(&Walk<'_, '_>, NodeId, &mut Extraction)) -> Extraction {
    let stream = yaml::parse(text);
    let mut out = Extraction {
        errors: stream.errors,
        ..Extraction::default()
    };
    for document in &stream.documents {
        let walk = Walk { text, document };
        if let Some(root) = document.root() {
            read(&walk, root, &mut out);
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
                "container" => self.container(entry, out),
                "services" => {
                    for (_, service) in document.entries(entry.value) {
                        self.container(service, out);
                    }
                }
                "steps" => self.steps(entry.value, out),
                _ => {}
            }
        }
    }

    /// A job container or a service container: an image string, or a mapping with `image:`.
    fn container(&self, entry: Entry, out: &mut Extraction) {
        if self.document.is_mapping(entry.value) {
            if let Some(image) = self.document.get(entry.value, "image") {
                self.image(image, out);
            }
        } else {
            self.image(entry, out);
        }
    }

    /// Steps whose `uses:` runs an image.
    fn steps(&self, steps: NodeId, out: &mut Extraction) {
        for step in self.document.items(steps) {
            if let Some(uses) = self.document.get(step, "uses")
                && let Value::Scalar { value, .. } = self.document.value(uses.value)
                && value.starts_with(DOCKER_SCHEME)
            {
                self.record(uses, DOCKER_SCHEME.len(), out);
            }
        }
    }

    /// An action's `runs:`.
    fn runs(&self, runs: NodeId, out: &mut Extraction) {
        let document = self.document;
        let using = document
            .get(runs, "using")
            .and_then(|u| document.str(u.value))
            .unwrap_or_default();
        if using.eq_ignore_ascii_case("composite") {
            if let Some(steps) = document.get(runs, "steps") {
                self.steps(steps.value, out);
            }
            return;
        }
        if !using.eq_ignore_ascii_case("docker") {
            return;
        }
        let Some(image) = document.get(runs, "image") else {
            out.errors.push(ExtractError {
                line: document.line(runs),
                message: "a docker action needs `runs.image`".to_owned(),
            });
            return;
        };
        let line = document.line(image.key);
        let value = match document.value(image.value) {
            Value::Scalar { value, .. } => value,
            Value::Null => "",
            Value::Other { source } => source,
        };
        if value.ends_with("Dockerfile") || value.ends_with("dockerfile") {
            return;
        }
        let scheme = value.get(..DOCKER_SCHEME.len());
        if scheme.is_some_and(|s| s.eq_ignore_ascii_case(DOCKER_SCHEME)) {
            self.record(image, DOCKER_SCHEME.len(), out);
        } else {
            out.errors.push(ExtractError {
                line,
                message: format!(
                    "runs.image {value:?} should be either '[path]/Dockerfile' or 'docker://image[:tag]'"
                ),
            });
        }
    }

    /// Records the image written at `entry` (a string whose image starts `strip` bytes in).
    fn image(&self, entry: Entry, out: &mut Extraction) {
        self.record(entry, 0, out);
    }

    fn record(&self, entry: Entry, strip: usize, out: &mut Extraction) {
        let line = self.document.line(entry.key);
        let (value, at) = match self.document.value(entry.value) {
            Value::Null => return,
            Value::Scalar { value, at } => (value, at),
            Value::Other { source } => {
                let reason = SkipReason::InvalidReference {
                    reason: "the value is not a string".to_owned(),
                };
                out.skips.push(Skip {
                    line,
                    text: source.to_owned(),
                    reason,
                });
                return;
            }
        };
        let Some(written) = value.get(strip..) else {
            return;
        };
        if written.is_empty() && strip == 0 {
            return;
        }
        // The stripped prefix is plain ASCII, so an exact value's image starts right after it.
        let at = match at {
            Written::Exact(span) => Written::Exact(span.start + strip..span.end),
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
