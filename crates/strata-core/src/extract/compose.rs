//! extract stage: image references in docker compose files (`services.<name>.image`).
//! Pure: variables come from the caller; no `.env` file, no environment, no other files.
//!
//! Values are interpolated as docker compose does (see `compose/interpolation.rs`). The
//! expanded value is the reference; the occurrence's `text` and `span` are the value as
//! written, so a pin lands after the written text (`app:${TAG:-1.2}@sha256:...` is still a
//! valid compose value). A variable without value or default is an `unresolved-variable` skip;
//! a malformed template (`${}`) is an error, as compose rejects the file. The variables a
//! project sees (the environment over its `.env` files) are built by [`Environment`] from text
//! the caller reads; [`dotenv::parse`] reads one `.env` file as compose does.
//!
//! A service with both `build:` and `image:` builds that image: its occurrence has
//! [`Role::Produces`]. The service's `platform:` fills the occurrence's `platform`. `x-`
//! extension keys are not services. YAML anchors and `<<` merge keys are followed; a value
//! reached through an alias has the span of the anchored scalar, so services sharing one
//! anchored image share one span (pin it once).
//!
//! Files compose reads because of this one are returned as [`Link`]s for the caller to
//! follow: `include:` entries (compose imports every service of the included file) and
//! `extends:` with a `file:` (compose takes the one named service, and what it extends in
//! turn). An `extends:` within the same file needs nothing followed: the base service is in
//! this file and reported here. [`read`] with [`Services::Only`] reads just the services
//! another file extends (and their own bases), as compose does; an extended file's own
//! `include:` is not read (compose skips it). A remote `include` (git, OCI) is a
//! `not-followed` skip.
//!
//! A document without `services:` whose top-level entries are services (`web: {image: ...}`)
//! is the legacy version-1 format, which docker compose no longer reads: each of its images
//! is a `compose-v1` skip.
//!
//! All YAML extractors share the signature
//! `fn extract(text: &str, vars: &dyn Fn(&str) -> Option<String>) -> Extraction`, where `vars`
//! returns a variable's value or `None` when it is not set. `line` is the line of the
//! `image:` key; `column` is the column of `span.start` on its own line (a later line for a
//! block scalar or an alias). A value whose bytes differ from its meaning (YAML escapes,
//! folded lines) is still an occurrence, blocked as `unrewritable`, with the whole token as
//! its span.

pub mod dotenv;
mod environment;
mod interpolation;
mod link;

use std::collections::BTreeSet;

use crate::extract::yaml::{self, Document, Entry, NodeId, Site, Value};
use crate::occurrence::{ExtractError, Extraction, Role, Skip, SkipReason, Source};

pub use environment::Environment;
pub use interpolation::{InterpolationError, interpolate};
pub use link::Link;

/// Which services of a file to read.
#[derive(Debug, Clone, Copy)]
pub enum Services<'a> {
    /// Every service (a compose file of its own, or one another file `include`s).
    All,
    /// These services and the ones they extend within the file (a file another file
    /// `extends` from).
    Only(&'a BTreeSet<String>),
}

/// What reading one compose file found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Read {
    pub extraction: Extraction,
    /// Other files compose reads because of this one.
    pub links: Vec<Link>,
    /// The names of the services the file defines (every one, whatever was read).
    pub services: BTreeSet<String>,
}

/// Finds the images of every service of every document in `text`.
pub fn extract(text: &str, vars: &dyn Fn(&str) -> Option<String>) -> Extraction {
    read(text, vars, Services::All).extraction
}

/// Reads the images of the chosen services of `text`, and the files it makes compose read.
pub fn read(text: &str, vars: &dyn Fn(&str) -> Option<String>, services: Services<'_>) -> Read {
    let stream = yaml::parse(text);
    let mut out = Read {
        extraction: Extraction {
            errors: stream.errors,
            ..Extraction::default()
        },
        ..Read::default()
    };
    for document in &stream.documents {
        let walk = Walk {
            text,
            document,
            vars,
        };
        walk.document(services, &mut out);
        if document.exhausted() {
            out.extraction.errors.push(yaml::exhausted_error(document));
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
    fn document(&self, services: Services<'_>, out: &mut Read) {
        let document = self.document;
        let Some(root) = document.root() else { return };
        let Some(section) = document.get(root, "services") else {
            if matches!(services, Services::All) {
                self.legacy(root, &mut out.extraction);
                if let Some(include) = document.get(root, "include") {
                    self.includes(include, out);
                }
            }
            return;
        };
        let defined: Vec<(&str, Entry)> = document
            .entries(section.value)
            .into_iter()
            .filter(|(name, service)| !name.starts_with("x-") && document.is_mapping(service.value))
            .collect();
        out.services
            .extend(defined.iter().map(|(name, _)| (*name).to_owned()));
        let chosen = match services {
            Services::All => None,
            Services::Only(names) => Some(self.closure(names, &defined)),
        };
        if chosen.is_none()
            && let Some(include) = document.get(root, "include")
        {
            self.includes(include, out);
        }
        for (name, service) in &defined {
            if chosen.as_ref().is_some_and(|set| !set.contains(*name)) {
                continue;
            }
            self.extends(name, service.value, &defined, out);
            self.service(service.value, &mut out.extraction);
        }
    }

    /// The services `names` and, transitively, the ones they extend within the file.
    fn closure(&self, names: &BTreeSet<String>, defined: &[(&str, Entry)]) -> BTreeSet<String> {
        let mut chosen: BTreeSet<String> = names.clone();
        let mut queue: Vec<String> = names.iter().cloned().collect();
        while let Some(name) = queue.pop() {
            let Some((_, service)) = defined.iter().find(|(n, _)| *n == name) else {
                continue;
            };
            if let Some(base) = link::same_file_base(self, service.value)
                && chosen.insert(base.clone())
            {
                queue.push(base);
            }
        }
        chosen
    }

    /// Records the images of one service.
    fn service(&self, service: NodeId, out: &mut Extraction) {
        let document = self.document;
        let Some(image) = document.get(service, "image") else {
            return;
        };
        let builds = document
            .get(service, "build")
            .is_some_and(|b| !document.is_null(b.value));
        let role = if builds { Role::Produces } else { Role::Uses };
        let platform = document
            .get(service, "platform")
            .and_then(|p| self.platform(p));
        self.image(image, role, platform, out);
    }

    /// A document with no `services:`: version-1 services at the top level are said.
    fn legacy(&self, root: NodeId, out: &mut Extraction) {
        let document = self.document;
        for (name, entry) in document.entries(root) {
            if name.starts_with("x-") || !document.is_mapping(entry.value) {
                continue;
            }
            let Some(image) = document.get(entry.value, "image") else {
                continue;
            };
            let text = match document.value(image.value) {
                Value::Scalar { value, .. } => value.to_owned(),
                Value::Other { source } => source.to_owned(),
                Value::Null => continue,
            };
            out.skips.push(Skip {
                line: document.line(image.key),
                text,
                reason: SkipReason::ComposeV1,
            });
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
        match self.expand(written, line) {
            Ok(expanded) => {
                let found = site
                    .occurrence(self.text, &expanded, role)
                    .map(|mut occurrence| {
                        occurrence.platform = platform;
                        occurrence
                    });
                yaml::record(out, found);
            }
            Err(Expansion::Skip(reason)) => out.skips.push(site.skip(reason)),
            Err(Expansion::Error(error)) => out.errors.push(error),
        }
    }

    /// Interpolates a value written on `line`.
    fn expand(&self, written: &str, line: usize) -> Result<String, Expansion> {
        interpolate(written, self.vars).map_err(|error| match error {
            InterpolationError::Unresolved { name } | InterpolationError::Required { name, .. } => {
                Expansion::Skip(SkipReason::UnresolvedVariable { name })
            }
            InterpolationError::Invalid { .. } => Expansion::Error(ExtractError {
                line,
                message: error.to_string(),
            }),
        })
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

/// Why a value could not be interpolated: a skip, or an error compose would report.
enum Expansion {
    Skip(SkipReason),
    Error(ExtractError),
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
