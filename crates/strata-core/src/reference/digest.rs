//! reference stage: content digests (`sha256:<hex>`). Pure parsing and printing; no
//! hashing of data happens here and nothing here touches I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ReferenceError, grammar};

/// A validated content digest such as `sha256:2c26b46b...`.
///
/// Only algorithms whose encoded length we know are accepted (today `sha256`, 64
/// lowercase hex characters), the same set a Docker client built with just sha256 has.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    /// The whole `algorithm:hex` text; kept as one string so Display and comparison are free.
    text: String,
    /// Byte index of the `:` separating algorithm and hex.
    colon: usize,
}

/// Algorithms we can verify, with the number of hex characters their digests have.
const ALGORITHMS: &[(&str, usize)] = &[("sha256", 64)];

impl Digest {
    /// Wraps text that [`validate`] accepted.
    pub(super) fn from_validated(s: &str) -> Digest {
        Digest {
            text: s.to_owned(),
            colon: s.find(':').unwrap_or(0),
        }
    }

    /// The digest of a 64-hex image ID, as `sha256:<id>`; `None` unless `id` is one.
    pub(super) fn from_identifier(id: &str) -> Option<Digest> {
        grammar::match_identifier(id).then(|| Digest {
            text: format!("sha256:{id}"),
            colon: "sha256".len(),
        })
    }

    /// The algorithm part, e.g. `sha256`.
    pub fn algorithm(&self) -> &str {
        &self.text[..self.colon]
    }

    /// The encoded (hex) part, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// The whole `algorithm:hex` string.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for Digest {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        validate(s)?;
        Ok(Digest::from_validated(s))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.text)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Checks `s` the way go-digest's `Parse` does: `algorithm:encoded`, a supported algorithm,
/// the right number of lowercase hex digits. An unknown algorithm is reported as
/// unsupported only when the whole string is otherwise well formed.
pub(super) fn validate(s: &str) -> Result<(), ReferenceError> {
    let (algorithm, encoded) = match s.split_once(':') {
        Some((a, e)) if !a.is_empty() && !e.is_empty() => (a, e),
        _ => return Err(ReferenceError::DigestInvalidFormat),
    };
    let Some(&(_, expected)) = ALGORITHMS.iter().find(|(name, _)| *name == algorithm) else {
        return Err(if is_well_formed(algorithm, encoded) {
            ReferenceError::DigestUnsupported
        } else {
            ReferenceError::DigestInvalidFormat
        });
    };
    if encoded.len() != expected {
        return Err(ReferenceError::DigestInvalidLength {
            expected,
            found: encoded.len(),
        });
    }
    if !encoded
        .bytes()
        .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    {
        return Err(ReferenceError::DigestInvalidFormat);
    }
    Ok(())
}

/// go-digest's general shape: `[a-z0-9]+([.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+`.
fn is_well_formed(algorithm: &str, encoded: &str) -> bool {
    let component = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    algorithm.split(['.', '+', '_', '-']).all(component)
        && encoded
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'=' || c == b'_' || c == b'-')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_sha256_and_reports_each_failure_kind() {
        let hex = "a".repeat(64);
        let cases: [(String, Result<(), ReferenceError>); 8] = [
            (format!("sha256:{hex}"), Ok(())),
            (
                format!("sha256:{}", "A".repeat(64)),
                Err(ReferenceError::DigestInvalidFormat),
            ),
            (
                "sha256:abc".to_owned(),
                Err(ReferenceError::DigestInvalidLength {
                    expected: 64,
                    found: 3,
                }),
            ),
            (
                format!("sha512:{hex}{hex}"),
                Err(ReferenceError::DigestUnsupported),
            ),
            (
                format!("md5+b64:{hex}"),
                Err(ReferenceError::DigestUnsupported),
            ),
            (
                format!("SHA256:{hex}"),
                Err(ReferenceError::DigestInvalidFormat),
            ),
            (format!(":{hex}"), Err(ReferenceError::DigestInvalidFormat)),
            (
                "sha256:".to_owned(),
                Err(ReferenceError::DigestInvalidFormat),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<Digest>().map(|_| ()), want, "{input}");
        }
    }

    #[test]
    fn exposes_algorithm_and_hex() {
        let text = format!("sha256:{}", "0".repeat(64));
        let digest: Digest = text.parse().unwrap();
        assert_eq!(digest.algorithm(), "sha256");
        assert_eq!(digest.hex(), "0".repeat(64));
        assert_eq!(digest.to_string(), text);
        assert_eq!(
            serde_json::to_string(&digest).unwrap(),
            format!("\"{text}\"")
        );
    }
}
