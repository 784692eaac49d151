//! graph stage: the key of a graph node, an image tag without digest. Pure string work
//! on top of the reference grammar; no registry lookups.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::reference::{Reference, ReferenceError};

/// Why a reference cannot name a graph node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    /// The text is not an image reference at all.
    #[error("invalid image reference {text:?}: {source}")]
    Invalid {
        text: String,
        source: ReferenceError,
    },
    /// Pinned by digest only: a node is a tag, and which tag this digest came from is
    /// not written down.
    #[error("image reference {reference} has a digest but no tag; a graph node needs a tag")]
    DigestOnly { reference: String },
}

/// A normalised `registry/repository:tag` with no digest: the identity of a graph node.
///
/// `python:3.12-slim`, `docker.io/library/python:3.12-slim` and
/// `python:3.12-slim@sha256:…` are the same node; a reference without tag or digest is
/// `:latest`, as Docker reads it. Ordering is by the normalised text, which is what makes
/// every listing in this module deterministic.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageRef(Reference);

impl ImageRef {
    /// The node for `reference`: its digest dropped, `latest` when it names no tag.
    pub fn new(reference: &Reference) -> Result<ImageRef, ImageRefError> {
        match (reference.tag(), reference.digest()) {
            (Some(_), _) => Ok(ImageRef(reference.without_digest())),
            (None, Some(_)) => Err(ImageRefError::DigestOnly {
                reference: reference.to_string(),
            }),
            (None, None) => reference
                .with_tag("latest")
                .map(ImageRef)
                .map_err(|source| ImageRefError::Invalid {
                    text: reference.to_string(),
                    source,
                }),
        }
    }

    /// Parses and normalises `text` (`python:3.12` -> `docker.io/library/python:3.12`).
    pub fn parse(text: &str) -> Result<ImageRef, ImageRefError> {
        let reference =
            Reference::parse_normalized(text).map_err(|source| ImageRefError::Invalid {
                text: text.to_owned(),
                source,
            })?;
        ImageRef::new(&reference)
    }

    /// The underlying reference (tag set, digest absent).
    pub fn reference(&self) -> &Reference {
        &self.0
    }

    /// The full repository name, e.g. `docker.io/library/python`.
    pub fn name(&self) -> String {
        self.0.name()
    }

    /// The tag (always present).
    pub fn tag(&self) -> &str {
        self.0.tag().unwrap_or("latest")
    }

    /// The short form people write: `python:3.12-slim`, `acme/app:1`, `ghcr.io/x/y:2`.
    /// It maps back to exactly one node, so renderings meant for people use it.
    pub fn familiar(&self) -> String {
        self.0.familiar_string()
    }
}

impl fmt::Display for ImageRef {
    /// The full normalised form, `docker.io/library/python:3.12-slim`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ImageRef({})", self.0)
    }
}

impl FromStr for ImageRef {
    type Err = ImageRefError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImageRef::parse(s)
    }
}

impl Serialize for ImageRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ImageRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn normalises_tag_and_drops_digest() {
        let cases = [
            (
                "python:3.12-slim",
                "docker.io/library/python:3.12-slim",
                "python:3.12-slim",
            ),
            ("ubuntu", "docker.io/library/ubuntu:latest", "ubuntu:latest"),
            ("acme/app:1", "docker.io/acme/app:1", "acme/app:1"),
            ("ghcr.io/x/y:2", "ghcr.io/x/y:2", "ghcr.io/x/y:2"),
            (
                "index.docker.io/library/debian:12",
                "docker.io/library/debian:12",
                "debian:12",
            ),
            (
                "localhost:5000/a:b",
                "localhost:5000/a:b",
                "localhost:5000/a:b",
            ),
        ];
        for (input, full, familiar) in cases {
            let image = ImageRef::parse(input).unwrap();
            assert_eq!(image.to_string(), full, "{input}");
            assert_eq!(image.familiar(), familiar, "{input}");
            assert_eq!(
                ImageRef::parse(&image.familiar()).unwrap(),
                image,
                "{input}"
            );
        }
        let pinned = ImageRef::parse(&format!("debian:12@{DIGEST}")).unwrap();
        assert_eq!(pinned, ImageRef::parse("debian:12").unwrap());
        assert_eq!(pinned.tag(), "12");
        assert_eq!(pinned.name(), "docker.io/library/debian");
    }

    #[test]
    fn rejects_digest_only_and_invalid() {
        let err = ImageRef::parse(&format!("debian@{DIGEST}")).unwrap_err();
        assert!(matches!(err, ImageRefError::DigestOnly { .. }), "{err}");
        assert!(err.to_string().contains("needs a tag"));
        let err = ImageRef::parse("Not A Reference").unwrap_err();
        assert!(matches!(err, ImageRefError::Invalid { .. }), "{err}");
    }

    #[test]
    fn serde_round_trip() {
        let image = ImageRef::parse("python:3.12").unwrap();
        let json = serde_json::to_string(&image).unwrap();
        assert_eq!(json, "\"docker.io/library/python:3.12\"");
        assert_eq!(serde_json::from_str::<ImageRef>(&json).unwrap(), image);
    }
}
