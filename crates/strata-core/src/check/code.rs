//! decide stage, for `check`: the finding codes, their default severities and the text
//! that documents them (shown in SARIF rules and mirrored by docs/checks.md). Pure
//! data: nothing here looks at a file or a registry.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::occurrence::SkipReason;

/// How much a finding matters. Ordered: `Note < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Informational.
    Note,
    /// Shown, but the check still passes.
    Warning,
    /// Fails the check (exit 1).
    Error,
}

impl Severity {
    /// `error`, `warning` or `note` (the SARIF level names).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What a finding is about. The kebab-case codes are stable and each has a section in
/// docs/checks.md; add variants, never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// A tag with no digest.
    Unpinned,
    /// Pinned, but the tag points at another digest now.
    MovedTag,
    /// The tag, or the pinned digest, no longer exists in the registry.
    MissingTag,
    /// A Docker Official Image tag its library file no longer lists.
    UnsupportedTag,
    /// Text in an image position that is not a valid reference.
    InvalidReference,
    /// A reference built from a variable nobody set.
    UnresolvedVariable,
    /// An unpinned reference whose `ARG` default also feeds something else.
    SharedArg,
    /// An unpinned reference that cannot be edited in place.
    Unrewritable,
    /// An unpinned reference sharing its text with references pinned differently.
    ConflictingPins,
    /// A digest with no tag.
    DigestOnly,
}

impl Code {
    /// Every code, in documentation order (SARIF rule indexes follow it).
    pub const ALL: [Code; 10] = [
        Code::Unpinned,
        Code::MovedTag,
        Code::MissingTag,
        Code::UnsupportedTag,
        Code::InvalidReference,
        Code::UnresolvedVariable,
        Code::SharedArg,
        Code::Unrewritable,
        Code::ConflictingPins,
        Code::DigestOnly,
    ];

    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unpinned => "unpinned",
            Code::MovedTag => "moved-tag",
            Code::MissingTag => "missing-tag",
            Code::UnsupportedTag => "unsupported-tag",
            Code::InvalidReference => "invalid-reference",
            Code::UnresolvedVariable => "unresolved-variable",
            Code::SharedArg => "shared-arg",
            Code::Unrewritable => "unrewritable",
            Code::ConflictingPins => "conflicting-pins",
            Code::DigestOnly => "digest-only",
        }
    }

    /// The code named `text`, if any.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.into_iter().find(|code| code.as_str() == text)
    }

    /// Position in [`Code::ALL`] (the SARIF `ruleIndex`).
    pub fn index(self) -> usize {
        Code::ALL.iter().position(|&c| c == self).unwrap_or(0)
    }

    /// The finding a skip reason becomes, when the user has something to do about it.
    /// Build stages, `scratch`, images built here, templates and placeholders (filled in
    /// elsewhere), version-1 compose files and files not followed are not findings.
    pub fn of_skip(reason: &SkipReason) -> Option<Code> {
        match reason {
            SkipReason::InvalidReference { .. } => Some(Code::InvalidReference),
            SkipReason::UnresolvedVariable { .. } => Some(Code::UnresolvedVariable),
            SkipReason::SharedArg { .. } => Some(Code::SharedArg),
            SkipReason::Unrewritable { .. } => Some(Code::Unrewritable),
            SkipReason::ConflictingPins => Some(Code::ConflictingPins),
            SkipReason::DigestOnly => Some(Code::DigestOnly),
            SkipReason::BuildStage
            | SkipReason::Scratch
            | SkipReason::BuiltHere
            | SkipReason::Templated
            | SkipReason::Placeholder { .. }
            | SkipReason::ComposeV1
            | SkipReason::NotFollowed { .. }
            | SkipReason::TemplateSource => None,
        }
    }

    /// The severity when the policy says nothing.
    pub fn default_severity(self) -> Severity {
        match self {
            Code::Unpinned | Code::MovedTag | Code::MissingTag | Code::UnsupportedTag => {
                Severity::Error
            }
            _ => Severity::Warning,
        }
    }

    /// Whether finding it takes registry requests (so `--offline` cannot).
    pub fn needs_network(self) -> bool {
        matches!(self, Code::MovedTag | Code::MissingTag)
    }

    /// A short title (SARIF `shortDescription`).
    pub fn title(self) -> &'static str {
        match self {
            Code::Unpinned => "Image tag not pinned to a digest",
            Code::MovedTag => "Pinned tag moved to another digest",
            Code::MissingTag => "Image tag or pinned digest missing from the registry",
            Code::UnsupportedTag => "Official image tag no longer supported",
            Code::InvalidReference => "Invalid image reference",
            Code::UnresolvedVariable => "Image reference uses an unset variable",
            Code::SharedArg => "Image ARG default shared with other uses",
            Code::Unrewritable => "Image reference cannot be rewritten in place",
            Code::ConflictingPins => "Shared image text would need conflicting pins",
            Code::DigestOnly => "Image pinned to a digest without a tag",
        }
    }

    /// What the finding means (SARIF `fullDescription`).
    pub fn description(self) -> &'static str {
        match self {
            Code::Unpinned => {
                "The reference names a tag but no digest. Tags move: the same file can build \
                 on different images from one day to the next, and nobody reviews the change."
            }
            Code::MovedTag => {
                "The reference is pinned (`name:tag@digest`), but the tag now points at another \
                 digest: a newer build of the base image exists (often with security fixes) \
                 and this file does not use it yet."
            }
            Code::MissingTag => {
                "The registry answers 404 for the tag, or for the pinned digest: the image was \
                 deleted or renamed, or the pinned build was garbage-collected. Builds that pull \
                 it will fail."
            }
            Code::UnsupportedTag => {
                "The reference uses a Docker Official Image tag that the image's current \
                 `library/<name>` file no longer lists: it gets no rebuilds and no security \
                 fixes any more."
            }
            Code::InvalidReference => {
                "The value in an image position is not a valid image reference, so nothing can \
                 pull it."
            }
            Code::UnresolvedVariable => {
                "The reference is built from a variable with no default and no value given, so \
                 strata cannot tell which image is used, nor check or pin it."
            }
            Code::SharedArg => {
                "The reference is unpinned, and the `ARG` default that would take its digest \
                 also feeds other references or instructions, so `strata pin` leaves it alone."
            }
            Code::Unrewritable => {
                "The reference is unpinned and its text cannot be edited in place safely (a \
                 line continuation, a variable with a modifier, an escaped or folded YAML \
                 scalar), so `strata pin` leaves it alone."
            }
            Code::ConflictingPins => {
                "The reference is unpinned and shares its text (one `ARG` default, one YAML \
                 anchor) with references that would be pinned differently, so `strata pin` \
                 leaves them all alone."
            }
            Code::DigestOnly => {
                "The reference names a digest and no tag (`image@sha256:…`): it is exact, but \
                 with no tag there is nothing to follow, so nobody learns about newer builds."
            }
        }
    }

    /// How to fix it, in Markdown (SARIF `help.markdown`; [`Code::help_text`] is the
    /// plain-text form).
    pub fn help(self) -> &'static str {
        match self {
            Code::Unpinned => "Run `strata pin` to write the digest the tag points at now.",
            Code::MovedTag => {
                "Run `strata update` to move the pin to the tag's current digest (and review \
                 the new base image), or keep the old digest on purpose and set \
                 `moved-tag = \"warning\"` in `[check.severity]`."
            }
            Code::MissingTag => {
                "Pick a tag that exists (see the registry's tag list) and run `strata pin`, \
                 or restore the image in the registry."
            }
            Code::UnsupportedTag => {
                "Move to the suggested tag on the same version line (or another supported \
                 tag) and run `strata pin`."
            }
            Code::InvalidReference => "Fix the value so that it is a valid image reference.",
            Code::UnresolvedVariable => {
                "Give the `ARG` a default, or pass `--build-arg NAME=VALUE`; in compose, set the \
                 variable or write `${VAR:-default}`."
            }
            Code::SharedArg => {
                "Give the image its own `ARG`, or write the reference in the `FROM` line, then \
                 run `strata pin`; or pin it by hand."
            }
            Code::Unrewritable => {
                "Write the reference on one line as a plain value, then run `strata pin`; or \
                 pin it by hand."
            }
            Code::ConflictingPins => {
                "Give each image its own `ARG` (or anchor), then run `strata pin`."
            }
            Code::DigestOnly => "Write the tag as well: `image:tag@sha256:…`.",
        }
    }

    /// [`Code::help`] without Markdown code marks.
    pub fn help_text(self) -> String {
        self.help().replace('`', "")
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
