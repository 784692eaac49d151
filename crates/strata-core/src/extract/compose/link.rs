//! extract stage: the `include:` and `extends:` entries of a compose file, read into the
//! files compose would go on to read. Pure: paths are returned as written (interpolated),
//! for the caller to resolve; nothing here touches files.
//!
//! Shapes follow compose-go (`loader/include.go` `loadIncludeConfig`, `loader/extends.go`
//! `applyServiceExtends`): an `include` item is a path or a mapping with `path` (one path or a
//! list: the first is the file, the rest its overrides), `project_directory` and `env_file`
//! (one or a list); `extends` is a service name, or a mapping with a required `service` and
//! an optional `file`.

use super::{Expansion, Read, Walk};
use crate::extract::yaml::{Entry, NodeId, Value};
use crate::occurrence::{ExtractError, Skip, SkipReason};

/// A file compose reads because a compose file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// An `include:` item: every service of these files, the first being the included
    /// project's file and the others its overrides.
    Include {
        /// 1-based line of the item.
        line: usize,
        paths: Vec<String>,
        /// The included project's directory, when given (relative to the including one's).
        project_directory: Option<String>,
        /// The included project's `.env` files, when given; empty means the `.env` of its
        /// project directory.
        env_files: Vec<String>,
    },
    /// `extends: {file, service}`: the one service (and what it extends in its own file).
    Extends {
        /// 1-based line of the `extends` key.
        line: usize,
        file: String,
        service: String,
    },
}

/// Whether compose would fetch `path` from elsewhere (a git repository or an OCI artifact)
/// rather than read a local file.
fn is_remote(path: &str) -> bool {
    path.contains("://") || path.starts_with("git@")
}

/// The name of the service `service` extends within its own file, if it does.
pub(super) fn same_file_base(walk: &Walk<'_, '_>, service: NodeId) -> Option<String> {
    let document = walk.document;
    let extends = document.get(service, "extends")?;
    if document.is_mapping(extends.value) {
        if document.get(extends.value, "file").is_some() {
            return None;
        }
        let name = document.get(extends.value, "service")?;
        walk.string(name).ok()
    } else {
        walk.string(extends).ok()
    }
}

impl Walk<'_, '_> {
    /// A string value, interpolated.
    fn string(&self, entry: Entry) -> Result<String, Expansion> {
        let line = self.document.line(entry.key);
        match self.document.value(entry.value) {
            Value::Scalar { value, .. } => self.expand(value, line),
            Value::Null | Value::Other { .. } => Err(Expansion::Error(ExtractError {
                line,
                message: format!(
                    "{} must be a string",
                    self.document.str(entry.key).unwrap_or("value")
                ),
            })),
        }
    }

    /// A string or a list of strings (an `include` path or `env_file`), interpolated.
    fn strings(&self, entry: Entry) -> Result<Vec<String>, Expansion> {
        let items = self.document.items(entry.value);
        if items.is_empty() {
            return self.string(entry).map(|one| vec![one]);
        }
        items
            .into_iter()
            .map(|item| {
                self.string(Entry {
                    key: entry.key,
                    value: item,
                })
            })
            .collect()
    }

    /// Records what a failed expansion means at `line`, showing `written`.
    fn refuse(&self, failure: Expansion, line: usize, written: &str, out: &mut Read) {
        match failure {
            Expansion::Skip(reason) => out.extraction.skips.push(Skip {
                line,
                text: written.to_owned(),
                reason,
            }),
            Expansion::Error(error) => out.extraction.errors.push(error),
        }
    }

    /// The text of a node as written, for messages.
    fn source(&self, node: NodeId) -> String {
        match self.document.value(node) {
            Value::Scalar { value, .. } => value.to_owned(),
            Value::Other { source } => source.to_owned(),
            Value::Null => String::new(),
        }
    }

    /// Reads the top-level `include:` list into links.
    pub(super) fn includes(&self, include: Entry, out: &mut Read) {
        let document = self.document;
        if document.is_null(include.value) {
            return;
        }
        if !document.is_sequence(include.value) {
            out.extraction.errors.push(ExtractError {
                line: document.line(include.key),
                message: "`include` must be a list".to_owned(),
            });
            return;
        }
        for item in document.items(include.value) {
            let line = document.line(item);
            let written = self.source(item);
            match self.include(item) {
                Ok(link) => {
                    let Link::Include { paths, .. } = &link else {
                        continue;
                    };
                    if let Some(remote) = paths.iter().find(|p| is_remote(p)) {
                        out.extraction.skips.push(Skip {
                            line,
                            text: remote.clone(),
                            reason: SkipReason::NotFollowed {
                                reason: "a remote resource, which compose fetches over the network"
                                    .to_owned(),
                            },
                        });
                    } else {
                        out.links.push(link);
                    }
                }
                Err(failure) => self.refuse(failure, line, &written, out),
            }
        }
    }

    /// One `include` item.
    fn include(&self, item: NodeId) -> Result<Link, Expansion> {
        let document = self.document;
        let line = document.line(item);
        if !document.is_mapping(item) {
            let path = self.string(Entry {
                key: item,
                value: item,
            })?;
            return Ok(Link::Include {
                line,
                paths: vec![path],
                project_directory: None,
                env_files: Vec::new(),
            });
        }
        let Some(path) = document.get(item, "path") else {
            return Err(Expansion::Error(ExtractError {
                line,
                message: "`include` item has no `path`".to_owned(),
            }));
        };
        let paths = self.strings(path)?;
        let project_directory = document
            .get(item, "project_directory")
            .map(|entry| self.string(entry))
            .transpose()?;
        let env_files = match document.get(item, "env_file") {
            Some(entry) if !document.is_null(entry.value) => self.strings(entry)?,
            _ => Vec::new(),
        };
        Ok(Link::Include {
            line,
            paths,
            project_directory,
            env_files,
        })
    }

    /// Reads one read service's `extends:`: a link to another file, or a check that the
    /// base service of the same file exists.
    pub(super) fn extends(
        &self,
        name: &str,
        service: NodeId,
        defined: &[(&str, Entry)],
        out: &mut Read,
    ) {
        let document = self.document;
        let Some(extends) = document.get(service, "extends") else {
            return;
        };
        let line = document.line(extends.key);
        let written = self.source(extends.value);
        let (base, file) = if document.is_mapping(extends.value) {
            let Some(base) = document.get(extends.value, "service") else {
                out.extraction.errors.push(ExtractError {
                    line,
                    message: format!("extends.{name}.service is required"),
                });
                return;
            };
            let file = document
                .get(extends.value, "file")
                .filter(|entry| !document.is_null(entry.value));
            (base, file)
        } else {
            (extends, None)
        };
        let base = match self.string(base) {
            Ok(base) => base,
            Err(failure) => return self.refuse(failure, line, &written, out),
        };
        match file.map(|file| self.string(file)).transpose() {
            Err(failure) => self.refuse(failure, line, &written, out),
            Ok(Some(file)) if is_remote(&file) => out.extraction.skips.push(Skip {
                line,
                text: file,
                reason: SkipReason::NotFollowed {
                    reason: "a remote resource, which compose fetches over the network".to_owned(),
                },
            }),
            Ok(Some(file)) => out.links.push(Link::Extends {
                line,
                file,
                service: base,
            }),
            Ok(None) if !defined.iter().any(|(n, _)| *n == base) => {
                out.extraction.errors.push(ExtractError {
                    line,
                    message: format!("cannot extend service {name:?}: service {base:?} not found"),
                });
            }
            Ok(None) => {}
        }
    }
}
