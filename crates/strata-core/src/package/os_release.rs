//! package stage: `os-release` (os-release(5): `KEY=value` lines, values optionally in
//! shell quotes with backslash escapes) and the OSV ecosystem release it names
//! (`Debian:12`, `Alpine:v3.20`, `Ubuntu:22.04:LTS`, as the OSV schema's
//! ecosystems.json writes them). Pure.

use serde::Serialize;

use crate::version::Scheme;

/// The fields of `os-release` strata uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OsRelease {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
}

/// An OSV ecosystem release and its version ordering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// As OSV records name it: `Debian:12`.
    pub ecosystem: String,
    #[serde(skip)]
    pub scheme: Scheme,
}

/// Debian's numbered releases by code name (distro-info-data's debian.csv), for
/// `os-release` files of testing images that carry no `VERSION_ID`.
const DEBIAN_CODENAMES: [(&str, &str); 7] = [
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("duke", "15"),
];

impl OsRelease {
    /// Parses the text; `None` when it names no `ID`.
    pub fn parse(text: &str) -> Option<OsRelease> {
        let mut release = OsRelease::default();
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(value.trim());
            match key.trim() {
                "ID" => release.id = value.to_ascii_lowercase(),
                "VERSION_ID" => release.version_id = Some(value),
                "VERSION_CODENAME" => release.codename = Some(value),
                "PRETTY_NAME" => release.pretty_name = Some(value),
                "VERSION" => release.version = Some(value),
                _ => {}
            }
        }
        (!release.id.is_empty()).then_some(release)
    }

    /// The OSV ecosystem release, for the distributions strata can match.
    pub fn release(&self) -> Option<Release> {
        let version = self.version_id.as_deref().filter(|v| !v.is_empty());
        let (ecosystem, scheme) = match self.id.as_str() {
            "debian" => {
                let number = match version {
                    Some(v) => v.split('.').next().unwrap_or(v).to_owned(),
                    None => self.debian_unnumbered()?,
                };
                (format!("Debian:{number}"), Scheme::Dpkg)
            }
            "ubuntu" => {
                let v = version?;
                let lts = self.version.as_deref().is_some_and(|t| t.contains("LTS"));
                let suffix = if lts { ":LTS" } else { "" };
                (format!("Ubuntu:{v}{suffix}"), Scheme::Dpkg)
            }
            "alpine" => {
                let v = version?;
                let mut parts = v.split('.');
                let major = parts.next().filter(|p| is_number(p))?;
                let minor: String = parts
                    .next()
                    .unwrap_or("0")
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                (format!("Alpine:v{major}.{minor}"), Scheme::Apk)
            }
            "wolfi" => ("Wolfi".to_owned(), Scheme::Apk),
            "chainguard" => ("Chainguard".to_owned(), Scheme::Apk),
            _ => return None,
        };
        Some(Release { ecosystem, scheme })
    }

    /// `sid`, or the number of a testing code name.
    fn debian_unnumbered(&self) -> Option<String> {
        let pretty = self.pretty_name.as_deref().unwrap_or_default();
        if let Some(name) = self.codename.as_deref() {
            if let Some((_, number)) = DEBIAN_CODENAMES.iter().find(|(c, _)| *c == name) {
                return Some((*number).to_owned());
            }
            if name == "sid" {
                return Some("sid".to_owned());
            }
        }
        pretty.contains("sid").then(|| "sid".to_owned())
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Removes shell quotes: `"…"` with `\"`, `\\`, `` \` ``, `\$` escapes, or `'…'` as is.
fn unquote(value: &str) -> String {
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return inner.to_owned();
    }
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next @ ('"' | '\\' | '`' | '$')) => out.push(next),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_as_osv_names_them() {
        let cases = [
            (
                "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
                 VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
                Some("Debian:12"),
            ),
            (
                "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nVERSION_CODENAME=trixie\nID=debian\n",
                Some("Debian:13"),
            ),
            (
                "ID=debian\nPRETTY_NAME=\"Debian GNU/Linux sid\"\n",
                Some("Debian:sid"),
            ),
            (
                "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.3\n",
                Some("Alpine:v3.20"),
            ),
            (
                "NAME=\"Ubuntu\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\nVERSION_ID=\"22.04\"\n",
                Some("Ubuntu:22.04:LTS"),
            ),
            ("ID=wolfi\n", Some("Wolfi")),
            ("ID=fedora\nVERSION_ID=40\n", None),
        ];
        for (text, want) in cases {
            let release = OsRelease::parse(text).and_then(|r| r.release());
            assert_eq!(release.map(|r| r.ecosystem).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn quotes_and_escapes() {
        let release = OsRelease::parse("ID='debian'\nPRETTY_NAME=\"a \\\"b\\\" \\$c\"\n").unwrap();
        assert_eq!(release.id, "debian");
        assert_eq!(release.pretty_name.as_deref(), Some("a \"b\" $c"));
        assert!(OsRelease::parse("garbage\n").is_none());
    }
}
