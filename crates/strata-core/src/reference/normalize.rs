//! reference stage: Docker's normalisation of familiar names (`ubuntu` ->
//! `docker.io/library/ubuntu`) and back. Pure string work: it never asks a registry
//! whether a name exists.

use super::strict::split;
use super::{DOCKER_HUB, Digest, Reference, ReferenceError, grammar};

/// Docker Hub's legacy name, rewritten to [`DOCKER_HUB`].
const LEGACY_DOCKER_HUB: &str = "index.docker.io";

/// Namespace of official images on Docker Hub.
const OFFICIAL_PREFIX: &str = "library/";

/// Upstream `ParseNormalizedNamed`, building the normalised text in one allocation.
pub(super) fn parse_normalized(s: &str) -> Result<Reference, ReferenceError> {
    // Upstream reports "" as a bad format (it first becomes `docker.io/library/`);
    // saying it is empty is more useful.
    if s.is_empty() {
        return Err(ReferenceError::NameEmpty);
    }
    if grammar::match_identifier(s) {
        return Err(ReferenceError::HexIdentifier);
    }
    let (domain, remainder) = split_docker_domain(s);
    let add_library = domain == DOCKER_HUB && !remainder.contains('/');
    // The repository part stops at the first `:` (the tag) as upstream cuts it.
    let remote = remainder.split(':').next().unwrap_or(remainder);
    if has_upper(remote) {
        return Err(ReferenceError::NameContainsUppercase);
    }

    let prefix_len = if add_library {
        OFFICIAL_PREFIX.len()
    } else {
        0
    };
    let mut text = String::with_capacity(domain.len() + 1 + prefix_len + remainder.len());
    text.push_str(domain);
    text.push('/');
    if add_library {
        text.push_str(OFFICIAL_PREFIX);
    }
    text.push_str(remainder);

    let parts = split(&text)?;
    // Upstream would accept a first component such as `a_b.c` (chosen as the domain for
    // its dot, then reparsed as a path) and return a name with no domain at all; such a
    // name is no pullable image, so it is refused instead.
    let domain_len = match parts.domain {
        Some(d) => d.len(),
        None => return Err(ReferenceError::InvalidFormat),
    };
    let name_len = parts.name.len();
    let tag_end = parts.tag.map_or(name_len, |t| name_len + 1 + t.len());
    let digest = parts.digest.map(Digest::from_validated);
    text.truncate(tag_end);
    Ok(Reference::from_parts(text, domain_len, name_len, digest))
}

/// Upstream `splitDockerDomain`: the first `/`-separated component is a registry when
/// [`is_registry_like`]; otherwise the name lives on Docker Hub. Returns the domain and
/// the rest; the caller adds `library/` for one-component Docker Hub names.
fn split_docker_domain(s: &str) -> (&str, &str) {
    match s.split_once('/') {
        Some((LEGACY_DOCKER_HUB, rest)) => (DOCKER_HUB, rest),
        Some((first, rest)) if is_registry_like(first) => (first, rest),
        _ => (DOCKER_HUB, s),
    }
}

/// Whether a leading name component is read as a registry: `localhost`, anything with
/// `.` or `:` (a host name, an IP address, a port), or upper case (which namespaces
/// cannot have).
fn is_registry_like(first: &str) -> bool {
    first == "localhost" || first.contains(['.', ':']) || has_upper(first)
}

/// Whether lower-casing would change `s` (upstream compares with `strings.ToLower`).
fn has_upper(s: &str) -> bool {
    if s.is_ascii() {
        return s.bytes().any(|c| c.is_ascii_uppercase());
    }
    s.chars().any(|c| c.to_lowercase().ne(std::iter::once(c)))
}

/// Upstream `FamiliarName`: drops `docker.io/`, and `library/` when nothing nests below
/// it. `name` is `domain/path`. Unlike upstream, the domain stays when dropping it would
/// make the first path component read as a registry (`docker.io/localhost/app`), so the
/// familiar name always parses back to the same repository; likewise `library/` stays
/// before a 64-hex name, which alone would be read as an image ID.
pub(super) fn familiar_name<'a>(domain: &str, path: &'a str, name: &'a str) -> &'a str {
    if domain != DOCKER_HUB {
        return name;
    }
    let short = match path.strip_prefix(OFFICIAL_PREFIX) {
        Some(short) if !short.contains('/') && !grammar::match_identifier(short) => short,
        _ => path,
    };
    match short.split_once('/') {
        Some((first, _)) if is_registry_like(first) => name,
        _ => short,
    }
}
