//! reference stage: the lower-level operations of distribution/reference, for callers
//! that need upstream's exact behaviour (strict parsing without normalisation, names
//! without tags, canonical-only parsing, glob matching). Pure string work, no I/O; most
//! code should use [`Reference`] instead.

use std::fmt;

use super::{Digest, MAX_PATH_LEN, Reference, ReferenceError, digest, glob, grammar};

/// A reference exactly as written: the domain is optional (`ubuntu` has none) and
/// nothing is normalised. This is upstream's `Named` (plus tag and digest).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Named {
    /// `[domain/]path`.
    name: String,
    /// Byte length of the domain prefix of `name`, 0 when there is none.
    domain_len: usize,
    tag: Option<String>,
    /// Kept as text: `with_digest` accepts digests `Digest` would reject, as upstream.
    digest: Option<String>,
}

impl Named {
    /// The domain, if the name has one.
    pub fn domain(&self) -> Option<&str> {
        (self.domain_len > 0).then(|| &self.name[..self.domain_len])
    }

    /// The name without its domain.
    pub fn path(&self) -> &str {
        match self.domain_len {
            0 => &self.name,
            n => &self.name[n + 1..],
        }
    }

    /// The whole name, domain included.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest text, if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// This reference with `tag` attached (upstream `WithTag`); any digest is kept.
    pub fn with_tag(&self, tag: &str) -> Result<Named, ReferenceError> {
        if !grammar::match_tag(tag) {
            return Err(ReferenceError::InvalidTagFormat);
        }
        Ok(Named {
            tag: Some(tag.to_owned()),
            ..self.clone()
        })
    }

    /// This reference with `digest` attached (upstream `WithDigest`); any tag is kept.
    /// Only the digest's shape is checked, not its algorithm or length.
    pub fn with_digest(&self, digest: &str) -> Result<Named, ReferenceError> {
        if !grammar::match_digest(digest) {
            return Err(ReferenceError::InvalidDigestFormat);
        }
        Ok(Named {
            digest: Some(digest.to_owned()),
            ..self.clone()
        })
    }
}

impl From<&Reference> for Named {
    fn from(reference: &Reference) -> Named {
        Named {
            name: reference.name(),
            domain_len: reference.domain().len(),
            tag: reference.tag().map(str::to_owned),
            digest: reference.digest().map(|d| d.as_str().to_owned()),
        }
    }
}

/// Upstream's `String()`: `name[:tag][@digest]`, nothing added.
impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Either a named reference or a bare digest (see [`parse_any_reference`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyReference {
    /// A name, normalised, with tag and digest as written.
    Named(Named),
    /// A digest with no name (`sha256:...` or a bare 64-hex image ID).
    Digest(Digest),
}

impl fmt::Display for AnyReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyReference::Named(named) => named.fmt(f),
            AnyReference::Digest(digest) => digest.fmt(f),
        }
    }
}

/// The pieces of a string that passed every check of upstream `Parse`, as slices of it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Split<'a> {
    pub(super) domain: Option<&'a str>,
    pub(super) name: &'a str,
    pub(super) tag: Option<&'a str>,
    pub(super) digest: Option<&'a str>,
}

/// Upstream `Parse`'s checks, in its order: empty, grammar (with a dedicated error
/// when only upper case spoils it), path length, digest algorithm and length.
pub(super) fn split(s: &str) -> Result<Split<'_>, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError::NameEmpty);
    }
    let Some(m) = grammar::match_reference(s) else {
        // Error path only, so the allocation is fine; Unicode lowering as upstream does.
        let lower = s.to_lowercase();
        if lower != s && grammar::match_reference(&lower).is_some() {
            return Err(ReferenceError::NameContainsUppercase);
        }
        return Err(ReferenceError::InvalidFormat);
    };
    let (domain, path) = match grammar::match_name(m.name) {
        Some(n) => (n.domain, n.path),
        None => (None, m.name),
    };
    if path.len() > MAX_PATH_LEN {
        return Err(ReferenceError::NameTooLong { length: path.len() });
    }
    if let Some(d) = m.digest {
        digest::validate(d)?;
    }
    Ok(Split {
        domain,
        name: m.name,
        tag: m.tag,
        digest: m.digest,
    })
}

/// Strict parse with no normalisation (upstream `Parse`): `ubuntu` stays `ubuntu`.
pub fn parse(s: &str) -> Result<Named, ReferenceError> {
    let parts = split(s)?;
    Ok(Named {
        name: parts.name.to_owned(),
        domain_len: parts.domain.map_or(0, str::len),
        tag: parts.tag.map(str::to_owned),
        digest: parts.digest.map(str::to_owned),
    })
}

/// Validates a bare repository name, no tag or digest (upstream `WithName`).
pub fn with_name(s: &str) -> Result<Named, ReferenceError> {
    let m = grammar::match_name(s).ok_or(ReferenceError::InvalidFormat)?;
    if m.path.len() > MAX_PATH_LEN {
        return Err(ReferenceError::NameTooLong {
            length: m.path.len(),
        });
    }
    Ok(Named {
        name: s.to_owned(),
        domain_len: m.domain.map_or(0, str::len),
        tag: None,
        digest: None,
    })
}

/// Parses `s` and fails with [`ReferenceError::NameNotCanonical`] unless it is already
/// written fully normalised (upstream `ParseNamed`).
pub fn parse_named(s: &str) -> Result<Reference, ReferenceError> {
    let reference = Reference::parse_normalized(s)?;
    if Named::from(&reference).to_string() != s {
        return Err(ReferenceError::NameNotCanonical);
    }
    Ok(reference)
}

/// Normalises like [`Reference::parse_normalized`], then adds the tag `latest` when
/// there is neither tag nor digest and drops the tag when there are both (upstream
/// `ParseDockerRef`), so the result names exactly what Docker would pull.
pub fn parse_docker_ref(s: &str) -> Result<Reference, ReferenceError> {
    let reference = Reference::parse_normalized(s)?;
    match (reference.tag(), reference.digest()) {
        (Some(_), Some(_)) => Ok(reference.without_tag()),
        (None, None) => reference.with_tag("latest"),
        _ => Ok(reference),
    }
}

/// Parses a name, a digest (`sha256:<hex>`) or a bare 64-hex image ID, which is taken
/// as a sha256 digest (upstream `ParseAnyReference`).
pub fn parse_any_reference(s: &str) -> Result<AnyReference, ReferenceError> {
    if let Some(digest) = Digest::from_identifier(s) {
        return Ok(AnyReference::Digest(digest));
    }
    if let Ok(digest) = s.parse::<Digest>() {
        return Ok(AnyReference::Digest(digest));
    }
    let reference = Reference::parse_normalized(s)?;
    Ok(AnyReference::Named(Named::from(&reference)))
}

/// Whether `pattern` (Go `path.Match` syntax: `*`, `?`, `[...]`, `\`) matches the
/// reference's familiar string (`foo/bar:tag`) or, failing that, its familiar name
/// (upstream `FamiliarMatch`).
pub fn familiar_match(pattern: &str, reference: &Reference) -> Result<bool, ReferenceError> {
    if glob::path_match(pattern, &reference.familiar_string())? {
        return Ok(true);
    }
    glob::path_match(pattern, &reference.familiar_name())
}
