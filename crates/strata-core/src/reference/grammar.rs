//! reference stage: hand-written recognisers for the distribution reference grammar
//! (domain, path components, tag, digest, identifier), each anchored at both ends. They
//! only look at bytes and never allocate; they neither normalise nor validate digests
//! against their algorithm (that is `Digest`'s job).
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [ domain "/" ] path-component [ "/" path-component ]*
//! domain           := host [ ":" port ]
//! host             := domain-name | "[" [a-fA-F0-9:]+ "]"
//! domain-name      := domain-component [ "." domain-component ]*
//! domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! port             := [0-9]+
//! path-component   := [a-z0-9]+ [ separator [a-z0-9]+ ]*
//! separator        := "." | "_" | "__" | "-"+
//! tag              := [\w][\w.-]{0,127}
//! digest           := algorithm ":" [0-9a-fA-F]{32,}
//! algorithm        := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
//! identifier       := [a-f0-9]{64}
//! ```

/// The parts of a string that matched the name grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameMatch<'a> {
    /// The registry part, when the first component is a valid domain followed by `/`.
    pub domain: Option<&'a str>,
    /// The repository path (everything after the domain).
    pub path: &'a str,
}

/// The parts of a string that matched the full reference grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceMatch<'a> {
    /// The name, domain included, as written.
    pub name: &'a str,
    /// The tag after `:`, if present.
    pub tag: Option<&'a str>,
    /// The digest after `@`, if present (only shape-checked, see [`match_digest`]).
    pub digest: Option<&'a str>,
}

/// Longest tag the grammar accepts, in bytes.
pub const MAX_TAG_LEN: usize = 128;

/// Whole-string match of `host[:port]` (a registry domain).
pub fn match_domain(s: &str) -> bool {
    let b = s.as_bytes();
    let host_end = match b.first() {
        Some(b'[') => match b.iter().position(|&c| c == b']') {
            Some(close) if close > 1 && b[1..close].iter().all(|&c| is_ipv6_char(c)) => close + 1,
            _ => return false,
        },
        _ => {
            let end = b.iter().position(|&c| c == b':').unwrap_or(b.len());
            if !is_domain_name(&b[..end]) {
                return false;
            }
            end
        }
    };
    match &b[host_end..] {
        [] => true,
        [b':', port @ ..] => !port.is_empty() && port.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// Whole-string match of the name grammar (`[domain/]path`), splitting off the domain
/// the way the upstream regular expression does: the first component is the domain
/// whenever it can be one and a path follows.
pub fn match_name(s: &str) -> Option<NameMatch<'_>> {
    if let Some((first, rest)) = s.split_once('/')
        && match_domain(first)
        && is_path(rest)
    {
        return Some(NameMatch {
            domain: Some(first),
            path: rest,
        });
    }
    is_path(s).then_some(NameMatch {
        domain: None,
        path: s,
    })
}

/// Whole-string match of `name[:tag][@digest]`.
pub fn match_reference(s: &str) -> Option<ReferenceMatch<'_>> {
    // No production but digest may contain `@`, so the first `@` starts the digest.
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !match_digest(d)) {
        return None;
    }
    // A name holds `:` only inside its domain, which ends at the first `/`; so a `:`
    // after the last `/` can only start the tag.
    let path_start = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[path_start..].rfind(':') {
        Some(i) => (&rest[..path_start + i], Some(&rest[path_start + i + 1..])),
        None => (rest, None),
    };
    if tag.is_some_and(|t| !match_tag(t)) || match_name(name).is_none() {
        return None;
    }
    Some(ReferenceMatch { name, tag, digest })
}

/// Whole-string match of a tag: `[\w][\w.-]{0,127}`.
pub fn match_tag(s: &str) -> bool {
    match s.as_bytes() {
        [first, rest @ ..] => {
            s.len() <= MAX_TAG_LEN
                && is_word(*first)
                && rest.iter().all(|&c| is_word(c) || c == b'.' || c == b'-')
        }
        [] => false,
    }
}

/// Whole-string match of the reference grammar's digest production: a well-formed
/// algorithm name, `:`, and at least 32 hex digits of either case. Whether the algorithm
/// is supported and the length right is checked when a `Digest` is built.
pub fn match_digest(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    hex.len() >= 32
        && hex.bytes().all(|c| c.is_ascii_hexdigit())
        && algorithm
            .split(['-', '_', '+', '.'])
            .all(|part| match part.as_bytes() {
                [first, rest @ ..] => {
                    first.is_ascii_alphabetic() && rest.iter().all(u8::is_ascii_alphanumeric)
                }
                [] => false,
            })
}

/// Whole-string match of an image ID: exactly 64 lowercase hex digits.
pub fn match_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(is_lower_hex)
}

/// `path-component ["/" path-component]*`.
pub(super) fn is_path(s: &str) -> bool {
    s.split('/').all(|c| is_path_component(c.as_bytes()))
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*` where a separator is `.`, `_`, `__` or `-`+.
fn is_path_component(b: &[u8]) -> bool {
    let mut i = 0;
    loop {
        let run = b[i..].iter().take_while(|&&c| is_lower_alnum(c)).count();
        if run == 0 {
            return false;
        }
        i += run;
        let sep = match b.get(i) {
            None => return true,
            Some(b'.') => 1,
            Some(b'_') if b.get(i + 1) == Some(&b'_') => 2,
            Some(b'_') => 1,
            Some(b'-') => b[i..].iter().take_while(|&&c| c == b'-').count(),
            Some(_) => return false,
        };
        i += sep;
    }
}

/// `domain-component ("." domain-component)*`.
fn is_domain_name(b: &[u8]) -> bool {
    b.split(|&c| c == b'.').all(|part| match part {
        [] => false,
        [only] => only.is_ascii_alphanumeric(),
        [first, middle @ .., last] => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && middle
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        }
    })
}

fn is_ipv6_char(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':'
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn is_lower_hex(c: u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
}

/// `\w` in RE2: ASCII letters, digits and underscore.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn path_components_follow_separator_rules() {
        let cases = [
            ("a", true),
            ("a.b", true),
            ("a_b", true),
            ("a__b", true),
            ("a___b", false),
            ("a--b", true),
            ("a---b", true),
            ("a..b", false),
            ("a._b", false),
            ("a-", false),
            ("-a", false),
            ("_a", false),
            ("A", false),
            ("", false),
        ];
        for (input, want) in cases {
            assert_eq!(is_path_component(input.as_bytes()), want, "{input:?}");
        }
    }

    #[test]
    fn domains_accept_hosts_ipv4_ipv6_and_ports() {
        let cases = [
            ("localhost", true),
            ("Registry.Example.com:443", true),
            ("127.0.0.1:5000", true),
            ("[::1]", true),
            ("[::1]:5000", true),
            ("[]", false),
            ("[::1]:", false),
            ("[::1", false),
            ("[fe80::1%eth0]", false),
            ("host:", false),
            ("host:80:90", false),
            ("a..b", false),
            ("a.-b", false),
            ("", false),
        ];
        for (input, want) in cases {
            assert_eq!(match_domain(input), want, "{input:?}");
        }
    }

    #[test]
    fn tags_are_limited_to_128_bytes() {
        assert!(match_tag(&"a".repeat(128)));
        assert!(!match_tag(&"a".repeat(129)));
        assert!(!match_tag(".a"));
        assert!(!match_tag("-a"));
        assert!(match_tag("_a.B-1"));
    }

    #[test]
    fn reference_splits_port_from_tag() {
        let m = match_reference("localhost:5000/app:1.0").expect("matches");
        assert_eq!(
            (m.name, m.tag, m.digest),
            ("localhost:5000/app", Some("1.0"), None)
        );
        let m = match_reference("localhost:5000").expect("matches");
        assert_eq!((m.name, m.tag), ("localhost", Some("5000")));
        assert!(match_reference("a@b@c").is_none());
        assert!(match_reference("a:").is_none());
        assert!(match_reference("a@").is_none());
    }
}
