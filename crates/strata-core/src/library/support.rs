//! library stage (knowledge → decide): whether an image reference names a tag the
//! Docker Official Images still publish, when it stopped, and what to use instead. Pure:
//! the library and history are handed in.

use super::Library;
use super::history::History;
use super::suggest::{Suggestion, suggest};
use super::timestamp::Timestamp;
use crate::reference::{DOCKER_HUB, Reference};

/// When a tag was listed and when it stopped being listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub first_seen: Timestamp,
    pub removed: Timestamp,
    /// Abbreviated id of the official-images commit that dropped it.
    pub commit: String,
}

/// What the official images say about a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    /// Listed in the image's library file, a digest-only reference (it names content, not
    /// a tag), or `latest` when listed.
    Supported,
    /// The image is an official image but this tag is not listed any more (or never was).
    Unsupported {
        /// From the removed-tags history, when it knows the tag.
        removed: Option<Removal>,
        /// The natural successor, when there is one.
        suggestion: Option<Suggestion>,
        /// The whole image was retired (its library file is gone, like `centos`).
        image_retired: bool,
    },
    /// `docker.io/library/<name>` with no library file and no history for `<name>`.
    UnknownImage,
    /// Not a `docker.io/library/...` reference.
    NotOfficial,
}

/// The library file name of an official image reference (`python` for
/// `docker.io/library/python:3.12`), or `None` for any other reference.
pub fn official_image(reference: &Reference) -> Option<&str> {
    if reference.domain() != DOCKER_HUB {
        return None;
    }
    let name = reference.path().strip_prefix("library/")?;
    (!name.contains('/')).then_some(name)
}

/// Decides whether `reference` uses a tag the official images still publish. A reference
/// with both tag and digest is judged by its tag (the tag says which line it follows).
pub fn support(reference: &Reference, library: &Library, history: Option<&History>) -> Support {
    let Some(image) = official_image(reference) else {
        return Support::NotOfficial;
    };
    let tag = match (reference.tag(), reference.digest()) {
        (Some(tag), _) => tag,
        (None, Some(_)) => return Support::Supported,
        (None, None) => "latest",
    };
    let removal = || {
        let removed = history?.removed(image, tag)?;
        Some(Removal {
            first_seen: removed.first_seen,
            removed: removed.removed,
            commit: removed.removed_commit.clone(),
        })
    };
    if let Some(manifest) = library.get(image) {
        if manifest.lists(tag) {
            return Support::Supported;
        }
        return Support::Unsupported {
            removed: removal(),
            suggestion: suggest(library, image, tag),
            image_retired: false,
        };
    }
    let retired = history
        .and_then(|h| h.image(image))
        .is_some_and(|h| !h.library_file_exists_at_head);
    if !retired {
        return Support::UnknownImage;
    }
    Support::Unsupported {
        removed: removal(),
        suggestion: None,
        image_retired: true,
    }
}
