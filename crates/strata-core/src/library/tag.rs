//! library stage (knowledge): the anatomy of an official image tag, e.g.
//! `3.12.4-slim-bookworm` = version 3.12.4, variant `slim` on Debian bookworm. Used to
//! find a removed tag's successor. Pure string work.

use std::cmp::Ordering;

use super::release::{self, Family};

/// A numeric version such as `3.12.4`; `8u412` reads as 8.0.412 (Java update releases).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Version(pub(crate) Vec<u64>);

impl Version {
    /// How many components were written (`3.12` has 2).
    pub(crate) fn precision(&self) -> usize {
        self.0.len()
    }

    /// Numeric order; when one is a prefix of the other the longer is greater.
    pub(crate) fn compare(&self, other: &Version) -> Ordering {
        self.0.cmp(&other.0)
    }

    /// The first `n` components.
    pub(crate) fn truncated(&self, n: usize) -> &[u64] {
        &self.0[..n.min(self.0.len())]
    }

    /// Whether `self` starts with all of `prefix`'s components.
    pub(crate) fn starts_with(&self, prefix: &[u64]) -> bool {
        self.0.starts_with(prefix)
    }
}

/// A variant part of a tag, after the version.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Token<'a> {
    /// A word that must match exactly: `slim`, `alpine`, `fpm`, `jdk`, `lts`.
    Plain(&'a str),
    /// A release that may advance on a newer tag: `bookworm`, `jammy`, `ltsc2022`.
    Release(Family, u64),
    /// A word with a version number that may advance: `alpine3.20`, `ubi9`, and a bare
    /// number after a word (`alpine-3.24`), keyed by the word.
    Numbered(&'a str, Version),
    /// A build date (`20240701`): any date matches.
    Date,
}

impl Token<'_> {
    /// Whether `newer` is this token or a later release of the same kind.
    pub(crate) fn accepts(&self, newer: &Token<'_>) -> bool {
        match (self, newer) {
            (Token::Plain(a), Token::Plain(b)) => a == b,
            (Token::Release(f, a), Token::Release(g, b)) => f == g && b >= a,
            (Token::Numbered(p, a), Token::Numbered(q, b)) => {
                p == q && b.compare(a) != Ordering::Less
            }
            (Token::Date, Token::Date) => true,
            _ => false,
        }
    }

    /// Whether this token and `other` are of the same kind (same word or family), so one
    /// image's tags can stand in for the other's.
    pub(crate) fn same_kind(&self, other: &Token<'_>) -> bool {
        match (self, other) {
            (Token::Plain(a), Token::Plain(b)) => a == b,
            (Token::Release(f, _), Token::Release(g, _)) => f == g,
            (Token::Numbered(p, _), Token::Numbered(q, _)) => p == q,
            (Token::Date, Token::Date) => true,
            _ => false,
        }
    }
}

/// A tag split into version and variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Anatomy<'a> {
    pub(crate) version: Option<Version>,
    /// A release candidate, beta, alpha or early-access build.
    pub(crate) prerelease: bool,
    pub(crate) tokens: Vec<Token<'a>>,
}

const PRERELEASE_WORDS: &[&str] = &["rc", "ea", "beta", "alpha", "preview", "dev"];

/// Splits `tag` at `-` into a leading version (if any) and variant tokens.
pub(crate) fn anatomy(tag: &str) -> Anatomy<'_> {
    let mut parts = tag.split('-').peekable();
    let mut version = None;
    let mut prerelease = false;
    if let Some(leading) = parts.peek().and_then(|first| parse_version(first)) {
        parts.next();
        version = Some(leading.0);
        prerelease = leading.1;
        // A Java build number (`8u412-b08`) belongs to the version.
        if parts.peek().is_some_and(|p| is_build_number(p)) {
            parts.next();
        }
        if parts
            .peek()
            .is_some_and(|p| PRERELEASE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(p)))
        {
            prerelease = true;
            parts.next();
            // An early-access build number (`28-ea-11`).
            if parts
                .peek()
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            {
                parts.next();
            }
        }
    }
    let mut tokens: Vec<Token<'_>> = Vec::new();
    let mut previous: Option<&str> = None;
    for part in parts {
        tokens.push(classify(part, previous));
        previous = Some(part);
    }
    Anatomy {
        version,
        prerelease,
        tokens,
    }
}

fn is_build_number(part: &str) -> bool {
    part.strip_prefix('b')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `3.12.4`, `v1.2`, `3.13.0rc1` (prerelease), `8u412` (8.0.412), `11.0.23_9`.
fn parse_version(part: &str) -> Option<(Version, bool)> {
    let body = part.strip_prefix('v').unwrap_or(part);
    let end = body
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(body.len());
    let (numbers, suffix) = body.split_at(end);
    if numbers.is_empty() || numbers.starts_with('.') || numbers.ends_with('.') {
        return None;
    }
    let mut parts: Vec<u64> = Vec::new();
    for n in numbers.split('.') {
        parts.push(n.parse().ok()?);
    }
    let lower = suffix.to_ascii_lowercase();
    let digits_after = |prefix: &str| {
        lower.strip_prefix(prefix).is_some_and(|rest| {
            rest.strip_prefix('.')
                .unwrap_or(rest)
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
    };
    let prerelease = ["a", "b", "rc", "alpha", "beta", "ea", "pre", "dev"]
        .iter()
        .any(|p| digits_after(p));
    if suffix.is_empty() || prerelease {
        return Some((Version(parts), prerelease && !suffix.is_empty()));
    }
    if let Some(update) = suffix.strip_prefix('u').and_then(|u| u.parse::<u64>().ok()) {
        parts.extend([0, update]);
        return Some((Version(parts), false));
    }
    // `_9` is a build number of the same release.
    let build = suffix
        .strip_prefix('_')
        .is_some_and(|b| b.bytes().all(|c| c.is_ascii_digit()));
    build.then_some((Version(parts), false))
}

fn classify<'a>(part: &'a str, previous: Option<&'a str>) -> Token<'a> {
    if is_date(part) {
        return Token::Date;
    }
    if let Some((family, rank)) = release::codename(part) {
        return Token::Release(family, rank);
    }
    if previous.is_some_and(release::is_windows_base)
        && let Some(rank) = release::windows_release(part)
    {
        return Token::Release(Family::Windows, rank);
    }
    let digits_at = part
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(part.len());
    let (word, number) = part.split_at(digits_at);
    let numbered = !number.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase());
    if numbered && let Some((version, false)) = parse_version(number) {
        // A bare number is keyed by the word before it (`alpine-3.24`).
        let key = if word.is_empty() {
            previous.unwrap_or("")
        } else {
            word
        };
        return Token::Numbered(key, version);
    }
    Token::Plain(part)
}

/// `20240701` or `20240701.1`: a build date.
fn is_date(part: &str) -> bool {
    let day = part.split_once('.').map_or(part, |(d, _)| d);
    day.len() == 8
        && day.bytes().all(|b| b.is_ascii_digit())
        && (day.starts_with("19") || day.starts_with("20"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn v(parts: &[u64]) -> Option<Version> {
        Some(Version(parts.to_vec()))
    }

    #[test]
    fn splits_version_and_variant() {
        let a = anatomy("3.12.4-slim-bookworm");
        assert_eq!(a.version, v(&[3, 12, 4]));
        assert_eq!(
            a.tokens,
            [Token::Plain("slim"), Token::Release(Family::Debian, 12)]
        );
        assert!(!a.prerelease);
    }

    #[test]
    fn reads_prereleases() {
        assert!(anatomy("3.13.0rc1-alpine").prerelease);
        assert!(anatomy("3.15-rc-slim").prerelease);
        assert!(anatomy("19beta3").prerelease);
        let ea = anatomy("28-ea-11-jdk-slim");
        assert!(ea.prerelease);
        assert_eq!(ea.version, v(&[28]));
        assert_eq!(ea.tokens, [Token::Plain("jdk"), Token::Plain("slim")]);
    }

    #[test]
    fn reads_java_update_versions() {
        let a = anatomy("8u412-b08-jdk-alpine");
        assert_eq!(a.version, v(&[8, 0, 412]));
        assert_eq!(a.tokens, [Token::Plain("jdk"), Token::Plain("alpine")]);
        assert_eq!(anatomy("11.0.23_9-jre").version, v(&[11, 0, 23]));
    }

    #[test]
    fn classifies_release_tokens() {
        let a = anatomy("1.22-windowsservercore-ltsc2022");
        assert_eq!(a.tokens[1], Token::Release(Family::Windows, 2108));
        let a = anatomy("3.8-windowsservercore-1809");
        assert_eq!(a.tokens[1], Token::Release(Family::Windows, 1809));
        let a = anatomy("3.10-alpine3.20");
        assert_eq!(a.tokens, [Token::Numbered("alpine", Version(vec![3, 20]))]);
        let a = anatomy("8-jdk-alpine-3.24");
        assert_eq!(a.tokens[2], Token::Numbered("alpine", Version(vec![3, 24])));
        assert_eq!(anatomy("jammy-20240627.1").tokens[1], Token::Date);
        assert_eq!(
            anatomy("xenial").tokens,
            [Token::Release(Family::Ubuntu, 1604)]
        );
        assert_eq!(anatomy("32bit").version, None);
    }

    #[test]
    fn advancing_is_one_way() {
        let buster = Token::Release(Family::Debian, 10);
        let bookworm = Token::Release(Family::Debian, 12);
        assert!(buster.accepts(&bookworm));
        assert!(!bookworm.accepts(&buster));
        assert!(!buster.accepts(&Token::Release(Family::Ubuntu, 2204)));
    }
}
