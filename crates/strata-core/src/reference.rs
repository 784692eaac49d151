//! reference stage: image references (`ghcr.io/org/app:1.2@sha256:...`) parsed, validated
//! and normalised as the distribution reference grammar and Docker's normalisation say.
//! Pure string work: no registry lookups, no I/O.
//!
//! [`Reference`] is what the rest of strata uses. [`strict`] has upstream's lower-level
//! operations (parsing without normalisation and the like) and [`grammar`] the anchored
//! recognisers they are built on.
//!
//! ```
//! use strata_core::reference::Reference;
//!
//! let r: Reference = "python:3.12-slim".parse()?;
//! assert_eq!(r.name(), "docker.io/library/python");
//! assert_eq!(r.familiar_name(), "python");
//! assert_eq!(r.to_string(), "docker.io/library/python:3.12-slim");
//! assert_eq!(Reference::parse_normalized("ubuntu")?.to_string(), "docker.io/library/ubuntu:latest");
//! # Ok::<(), strata_core::reference::ReferenceError>(())
//! ```

mod digest;
mod glob;
pub mod grammar;
mod normalize;
pub mod placeholder;
pub mod strict;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use digest::Digest;

/// Why a string is not a valid image reference. Messages follow the upstream
/// distribution/reference and go-digest wording so users can search for them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The text does not match the reference grammar.
    #[error("invalid reference format")]
    InvalidFormat,
    /// A tag does not match `[\w][\w.-]{0,127}`.
    #[error("invalid tag format")]
    InvalidTagFormat,
    /// A digest does not match the reference grammar's digest production.
    #[error("invalid digest format")]
    InvalidDigestFormat,
    /// The repository name has upper-case letters (it would be valid in lower case).
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// The input is empty.
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// The repository path is longer than [`MAX_PATH_LEN`] bytes.
    #[error("repository name must not be more than 255 characters (got {length})")]
    NameTooLong {
        /// Length of the offending path in bytes.
        length: usize,
    },
    /// The name is valid but not written in its fully normalised form.
    #[error("repository name must be canonical")]
    NameNotCanonical,
    /// A bare 64-hex string was given where a name was expected.
    #[error("invalid repository name, cannot specify 64-byte hexadecimal strings")]
    HexIdentifier,
    /// The digest's hex part has the wrong length for its algorithm.
    #[error("invalid checksum digest length (expected {expected}, found {found})")]
    DigestInvalidLength {
        /// Hex characters the algorithm requires.
        expected: usize,
        /// Hex characters present.
        found: usize,
    },
    /// The digest algorithm is well-formed but not one we can verify.
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
    /// The digest is not `algorithm:encoded`, or its encoding is wrong for the algorithm.
    #[error("invalid checksum digest format")]
    DigestInvalidFormat,
    /// A `familiar_match` pattern is malformed (as Go's `path.ErrBadPattern`).
    #[error("syntax error in pattern")]
    BadPattern,
}

/// Longest repository path (without the domain) the grammar accepts, in bytes.
pub const MAX_PATH_LEN: usize = 255;

/// The registry Docker Hub images are normalised to.
pub const DOCKER_HUB: &str = "docker.io";

/// A normalised image reference: always has a domain (`docker.io` for Docker Hub) and a
/// path (`library/ubuntu` for official images), plus the tag and digest as written.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// `domain/path[:tag]` in one allocation, so accessors are slices and Display is cheap.
    text: String,
    /// Byte length of the domain prefix of `text` (never zero).
    domain_len: usize,
    /// Byte length of `domain/path`; a tag follows after a `:` when `text` is longer.
    name_len: usize,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses `s` with Docker normalisation (`ubuntu` -> `docker.io/library/ubuntu`,
    /// `index.docker.io` -> `docker.io`). Tag and digest are kept as written; no default
    /// tag is added (Display shows `:latest` when neither is present).
    pub fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
        normalize::parse_normalized(s)
    }

    /// Builds a reference from text laid out as `domain/path[:tag]`.
    fn from_parts(
        text: String,
        domain_len: usize,
        name_len: usize,
        digest: Option<Digest>,
    ) -> Self {
        Reference {
            text,
            domain_len,
            name_len,
            digest,
        }
    }

    /// The registry host and optional port, e.g. `docker.io` or `localhost:5000`.
    pub fn domain(&self) -> &str {
        &self.text[..self.domain_len]
    }

    /// The repository path inside the registry, e.g. `library/python`.
    pub fn path(&self) -> &str {
        &self.text[self.domain_len + 1..self.name_len]
    }

    /// The full repository name, e.g. `docker.io/library/python`.
    pub fn name(&self) -> String {
        self.name_str().to_owned()
    }

    /// The full repository name, borrowed.
    fn name_str(&self) -> &str {
        &self.text[..self.name_len]
    }

    /// The shortest name Docker accepts for this repository: `python`, `org/app`,
    /// `ghcr.io/x/y`.
    pub fn familiar_name(&self) -> String {
        normalize::familiar_name(self.domain(), self.path(), self.name_str()).to_owned()
    }

    /// The familiar name with the tag and digest as written (no default tag):
    /// `python:3.12`, `org/app@sha256:...`.
    pub fn familiar_string(&self) -> String {
        let name = normalize::familiar_name(self.domain(), self.path(), self.name_str());
        let mut out = String::with_capacity(self.text.len() + 72);
        out.push_str(name);
        out.push_str(&self.text[self.name_len..]);
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest.as_str());
        }
        out
    }

    /// The tag, if one was written.
    pub fn tag(&self) -> Option<&str> {
        self.text.get(self.name_len + 1..)
    }

    /// The digest, if one was written.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same reference with `tag` in place of any tag; the digest is kept.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !grammar::match_tag(tag) {
            return Err(ReferenceError::InvalidTagFormat);
        }
        let mut text = String::with_capacity(self.name_len + 1 + tag.len());
        text.push_str(self.name_str());
        text.push(':');
        text.push_str(tag);
        Ok(Reference::from_parts(
            text,
            self.domain_len,
            self.name_len,
            self.digest.clone(),
        ))
    }

    /// The same reference pinned to `digest`; the tag is kept.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The same reference without its digest.
    pub fn without_digest(&self) -> Reference {
        Reference {
            digest: None,
            ..self.clone()
        }
    }

    /// The same reference without its tag.
    pub fn without_tag(&self) -> Reference {
        Reference::from_parts(
            self.name_str().to_owned(),
            self.domain_len,
            self.name_len,
            self.digest.clone(),
        )
    }

    /// Writes `name[:tag][@digest]` exactly as held, with no default tag.
    fn write_exact(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)?;
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_exact(f)?;
        if self.text.len() == self.name_len && self.digest.is_none() {
            f.write_str(":latest")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reference")
            .field("domain", &self.domain())
            .field("path", &self.path())
            .field("tag", &self.tag())
            .field("digest", &self.digest.as_ref().map(Digest::as_str))
            .finish()
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse_normalized(s)
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}
