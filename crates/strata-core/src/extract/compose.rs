//! extract stage: image references in docker compose files (`services.<name>.image`).
//! Pure: variables come from the caller; no `.env` file, no environment, no other files.
//!
//! Values are interpolated as docker compose does (`$VAR`, `${VAR}`, `${VAR:-default}`,
//! `${VAR-default}`, `${VAR:?err}`, `${VAR?err}`, `${VAR:+alt}`, `${VAR+alt}`, `$$`). The
//! expanded value is the reference; the occurrence's `text` and `span` are the value as
//! written, so a pin lands after the written text (`app:${TAG:-1.2}@sha256:...` is still a
//! valid compose value). A variable without value or default is an `unresolved-variable` skip;
//! a malformed template (`$1`, `${}`) is an error, as compose rejects the file.
//!
//! A service with both `build:` and `image:` builds that image: its occurrence has
//! [`Role::Produces`]. The service's `platform:` fills the occurrence's `platform`. `x-`
//! extension keys are not services. YAML anchors and `<<` merge keys are followed; a value
//! reached through an alias has the span of the anchored scalar, so services sharing one
//! anchored image share one span (pin it once). `extends:` and `include:` (which pull
//! services from other files) and the legacy version-1 format without `services:` are out of
//! scope.
//!
//! All YAML extractors share the signature
//! `fn extract(text: &str, vars: &dyn Fn(&str) -> Option<String>) -> Extraction`, where `vars`
//! returns a variable's value or `None` when it is not set. `line` is the line of the
//! `image:` key; `column` is the column of `span.start` on its own line (a later line for a
//! block scalar or an alias). A value whose bytes differ from its meaning (YAML escapes,
//! folded lines) is still an occurrence, blocked as `unrewritable`, with the whole token as
//! its span.

mod interpolation;

use crate::extract::yaml::{self, Document, Entry, Site, Value};
use crate::occurrence::{ExtractError, Extraction, Role, Skip, SkipReason, Source};

pub use interpolation::{InterpolationError, interpolate};

/// Finds the images of every service of every document in `text`.
pub fn extract(text: &str, vars: &dyn Fn(&str) -> Option<String>) -> Extraction {
    let stream = yaml::parse(text);
    let mut out = Extraction {
        errors: stream.errors,
        ..Extraction::default()
    };
    for document in &stream.documents {
        Walk {
            text,
            document,
            vars,
        }
        .services(&mut out);
        if document.exhausted() {
            out.errors.push(yaml::exhausted_error(document));
        }
    }
    out
}

/// One document being read, with what reading it needs.
struct Walk<'a, 't> {
    text: &'a str,
    document: &'a Document<'t>,
    vars: &'a dyn Fn(&str) -> Option<String>,
}

impl Walk<'_, '_> {
    fn services(&self, out: &mut Extraction) {
        let document = self.document;
        let Some(root) = document.root() else { return };
        let Some(services) = document.get(root, "services") else {
            return;
        };
        for (name, service) in document.entries(services.value) {
            if name.starts_with("x-") || !document.is_mapping(service.value) {
                continue;
            }
            let Some(image) = document.get(service.value, "image") else {
                continue;
            };
            let builds = document
                .get(service.value, "build")
                .is_some_and(|b| !document.is_null(b.value));
            let role = if builds { Role::Produces } else { Role::Uses };
            let platform = document
                .get(service.value, "platform")
                .and_then(|p| self.platform(p));
            self.image(image, role, platform, out);
        }
    }

    /// Records the occurrence, skip or error for one service's `image:`.
    fn image(&self, image: Entry, role: Role, platform: Option<String>, out: &mut Extraction) {
        let line = self.document.line(image.key);
        let (written, at) = match self.document.value(image.value) {
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
        let site = Site {
            line,
            written,
            at,
            source: Source::Compose,
        };
        match interpolate(written, self.vars) {
            Ok(expanded) => {
                let found = site
                    .occurrence(self.text, &expanded, role)
                    .map(|mut occurrence| {
                        occurrence.platform = platform;
                        occurrence
                    });
                yaml::record(out, found);
            }
            Err(InterpolationError::Unresolved { name }) => {
                out.skips
                    .push(site.skip(SkipReason::UnresolvedVariable { name }));
            }
            Err(error @ InterpolationError::Invalid { .. }) => {
                out.errors.push(ExtractError {
                    line,
                    message: error.to_string(),
                });
            }
        }
    }

    /// The service's `platform:`, expanded; `None` when absent or not expandable.
    fn platform(&self, entry: Entry) -> Option<String> {
        match self.document.value(entry.value) {
            Value::Scalar { value, .. } => {
                interpolate(value, self.vars).ok().filter(|p| !p.is_empty())
            }
            Value::Null | Value::Other { .. } => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
