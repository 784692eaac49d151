//! library stage (knowledge): the Docker Official Images library — which tags each
//! official image still publishes (the `library/<name>` files bashbrew reads), which
//! tags it dropped and when (the removed-tags history), and what to move to. Pure:
//! callers read the files and hand in text; nothing here touches disk, git or network.
//!
//! ```
//! use strata_core::library::{Library, Manifest, Support, support};
//! use strata_core::reference::Reference;
//!
//! let text = "Maintainers: Jane Doe (@jane)\nGitRepo: https://example.com/py.git\n\n\
//!             Tags: 3.12.4-slim, 3.12-slim\nGitCommit: abc123\n\n\
//!             Tags: 3.13.1-slim, 3.13-slim\nGitCommit: def456\n";
//! let mut library = Library::new();
//! library.insert("python", Manifest::parse(text)?);
//!
//! let listed: Reference = "python:3.12-slim".parse()?;
//! assert_eq!(support(&listed, &library, None), Support::Supported);
//!
//! let old: Reference = "python:3.7-slim".parse()?;
//! let Support::Unsupported { suggestion: Some(next), .. } = support(&old, &library, None) else {
//!     panic!("expected a suggestion");
//! };
//! assert_eq!(next.to_string(), "python:3.12-slim");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod entry;
mod history;
mod line_based;
mod manifest;
mod release;
mod rfc2822;
mod suggest;
mod support;
mod tag;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
mod timeline;
mod timestamp;

use std::collections::BTreeMap;

pub use entry::{DEFAULT_ARCHITECTURE, Entry, MAINTAINERS_FORMAT};
pub use history::{
    GitCommitSeen, History, HistoryFile, HistorySource, ImageHistory, RemovedTag, TagKind,
};
pub use manifest::{Format, Manifest, ManifestError, SharedTagGroup};
pub use suggest::{Suggestion, successor, suggest};
pub use support::{Removal, Support, official_image, support};
pub use timeline::{Snapshot, TagListing, Timeline, listed_tags};
pub use timestamp::{Date, Timestamp, TimestampError};

/// The parsed library files, by image name (`python`, `node`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Library {
    images: BTreeMap<String, Manifest>,
}

impl Library {
    /// An empty library.
    pub fn new() -> Library {
        Library::default()
    }

    /// Adds (or replaces) the manifest of `image`; returns the one it replaced.
    pub fn insert(&mut self, image: impl Into<String>, manifest: Manifest) -> Option<Manifest> {
        self.images.insert(image.into(), manifest)
    }

    /// The manifest of `image`, if its library file was loaded.
    pub fn get(&self, image: &str) -> Option<&Manifest> {
        self.images.get(image)
    }

    /// Whether `image:tag` is listed.
    pub fn lists(&self, image: &str, tag: &str) -> bool {
        self.get(image).is_some_and(|m| m.lists(tag))
    }

    /// Images and their manifests, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Manifest)> {
        self.images
            .iter()
            .map(|(name, manifest)| (name.as_str(), manifest))
    }

    /// How many library files were loaded.
    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Whether no library file was loaded.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
}
