//! decide stage, for `check`: a finding (one problem at one place) and what the caller
//! observed about tags and digests, which findings are made from. Values only; no I/O.

use super::code::{Code, Severity};
use crate::library::{Removal, Suggestion, Timestamp};
use crate::reference::{Digest, Reference};

/// One problem at one place in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    /// The code's default until a policy is applied.
    pub severity: Severity,
    /// Relative to the scanned root, `/`-separated.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based byte column of `text` on `line`.
    pub column: usize,
    /// The text as written in the file.
    pub text: String,
    /// The normalised reference, when the text is one.
    pub reference: Option<Reference>,
    /// The pinned digest, when the reference has one.
    pub digest: Option<Digest>,
    /// The digest the tag points at now, when looked up.
    pub current_digest: Option<Digest>,
    /// Since when the tag has pointed at `current_digest`, as far as the state database
    /// has seen (`None` on the first sighting of the tag).
    pub since: Option<Timestamp>,
    /// The last time the tag was seen at the pinned digest, when it ever was.
    pub pinned_last_seen: Option<Timestamp>,
    /// When the official images dropped the tag, when the history knows.
    pub removal: Option<Removal>,
    /// The tag to move to, for unsupported tags.
    pub suggestion: Option<Suggestion>,
    /// One line for people, saying what is wrong and (briefly) what to do.
    pub message: String,
}

impl Finding {
    /// A finding with only its place and text set.
    pub(super) fn new(code: Code, file: &str, line: usize, column: usize, text: &str) -> Finding {
        Finding {
            code,
            severity: code.default_severity(),
            file: file.to_owned(),
            line,
            column,
            text: text.to_owned(),
            reference: None,
            digest: None,
            current_digest: None,
            since: None,
            pinned_last_seen: None,
            removal: None,
            suggestion: None,
            message: String::new(),
        }
    }
}

/// What a tag pointed at when the caller looked it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagState {
    /// The tag exists and points at this digest.
    Points(Current),
    /// The registry says the tag does not exist (HTTP 404).
    Missing,
}

/// A tag's current digest, with what the state database remembers of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub digest: Digest,
    /// Since when the tag has pointed at `digest` (`None`: first sighting).
    pub since: Option<Timestamp>,
    /// Every digest the tag was seen at before, with its last sighting.
    pub seen: Vec<(Digest, Timestamp)>,
}

/// What the caller learned from registries and the state database. Every answer is
/// optional: `None` means "not looked up" (offline, or the lookup failed), and then the
/// checks that need it stay silent.
pub trait Observations {
    /// What `reference`'s tag (`latest` when none is written) points at now.
    fn tag(&self, reference: &Reference) -> Option<&TagState>;
    /// Whether the registry still serves `digest` in `reference`'s repository.
    fn digest_exists(&self, reference: &Reference, digest: &Digest) -> Option<bool>;
}

/// Nothing observed: the `--offline` case.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offline;

impl Observations for Offline {
    fn tag(&self, _: &Reference) -> Option<&TagState> {
        None
    }

    fn digest_exists(&self, _: &Reference, _: &Digest) -> Option<bool> {
        None
    }
}

/// `sha256:` and the first 12 hex digits, for messages.
pub(super) fn short(digest: &Digest) -> String {
    let hex = digest.hex();
    format!("{}:{}", digest.algorithm(), hex.get(..12).unwrap_or(hex))
}
