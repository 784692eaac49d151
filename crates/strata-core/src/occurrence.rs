//! extract stage: the values every extractor returns. An occurrence is one place in one
//! file that names an image; a skip is a place we deliberately do not treat as an image
//! reference (with a stable code saying why); an error is input the build tool itself
//! would reject. Nothing here knows about files on disk: callers attach the path.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

use crate::reference::Reference;

/// Where in a file an image reference was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A Dockerfile `FROM` instruction.
    From,
    /// `COPY --from=<image>` (or `ADD --from`).
    CopyFrom,
    /// `RUN --mount=...,from=<image>`.
    MountFrom,
    /// The `# syntax=` parser directive (the BuildKit frontend image).
    Syntax,
    /// `services.*.image` in a compose file.
    Compose,
    /// A container image in a Kubernetes manifest.
    Kubernetes,
    /// A GitHub Actions workflow (`container`, `services`, `uses: docker://`).
    Actions,
}

impl Source {
    /// The stable kebab-case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::From => "from",
            Source::CopyFrom => "copy-from",
            Source::MountFrom => "mount-from",
            Source::Syntax => "syntax",
            Source::Compose => "compose",
            Source::Kubernetes => "kubernetes",
            Source::Actions => "actions",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the file pulls the image or builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The image is pulled and built upon (a base): it can be pinned and watched.
    #[default]
    Uses,
    /// The image is the output of a build in this repository (compose `build:` with
    /// `image:`): never looked up or pinned, but it is a node of the image graph.
    Produces,
}

/// One image reference found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// 1-based line of the instruction or YAML key that uses the image.
    pub line: usize,
    /// 1-based byte column of `text` on `line`.
    pub column: usize,
    /// `[start, end)` byte range of the text a pin or update rewrites. For a reference
    /// written literally this is the reference itself; for one assembled from an `ARG`
    /// default it is that default's value, which may sit on another line. The digest
    /// always goes at the end of this range.
    pub span: Range<usize>,
    pub source: Source,
    /// The reference as written, before variable expansion.
    pub text: String,
    /// The expanded, normalised reference.
    pub reference: Reference,
    /// The lower-cased `AS` name of the stage this `FROM` starts.
    pub stage: Option<String>,
    /// The expanded `--platform` value written on the instruction.
    pub platform: Option<String>,
    /// When `span` is an `ARG` default, the name of that `ARG`.
    pub arg: Option<String>,
    pub role: Role,
    /// Why this occurrence must not be rewritten even though it names an image (the
    /// `ARG` it would rewrite is shared, the text crosses a line continuation, …).
    /// `None` for the usual case. Set by extractors; used by `pin` and `update`.
    pub blocked: Option<SkipReason>,
}

/// Why a place that looks like an image reference is not treated as one. The codes are
/// stable and documented (docs/skips.md); add new variants, never rename codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// `FROM <stage>` or `COPY --from=<stage|index>`: a stage of this build, not an image.
    BuildStage,
    /// `FROM scratch`: the empty image.
    Scratch,
    /// A variable with no default and no value given; names the variable.
    UnresolvedVariable { name: String },
    /// The text is not a valid image reference (in files where that is not fatal).
    InvalidReference { reason: String },
    /// The `ARG` default that would be rewritten also feeds other references or other
    /// instructions, so pinning it would change them too.
    SharedArg { name: String },
    /// The value is a template (Helm `{{ }}`, Actions `${{ }}`): rendered elsewhere.
    Templated,
    /// The value cannot be mapped to exact bytes of the file (escape sequences, folded lines,
    /// a block scalar with a trailing line break), so it could not be rewritten in place.
    Unrewritable { reason: String },
    /// The reference names a digest and no tag (`image@sha256:…`): it is already exact,
    /// and with no tag there is nothing to look up or watch.
    DigestOnly,
    /// A compose service builds this image itself (`build:` with `image:`): it is an
    /// output of the repository, so there is nothing in a registry to pin it to.
    BuiltHere,
    /// The bytes a pin would write are shared with other references (an `ARG` default
    /// several `FROM`s use, a YAML anchor) that would be pinned differently, or not at
    /// all, so none of them is pinned.
    ConflictingPins,
    /// A compose file in the legacy version-1 format (services at the top level, no
    /// `services:`), which docker compose no longer reads.
    ComposeV1,
    /// A file compose reads through `include` or `extends` that strata does not read: a
    /// remote resource, or a file outside the scanned paths. Says which.
    NotFollowed { reason: String },
    /// The value holds an obvious placeholder (`<PROJECT_ID>`, `$IMAGE_URL`), filled in by
    /// something else before use; names it.
    Placeholder { text: String },
    /// The whole file is a template that renders into a Dockerfile (`Dockerfile.j2`,
    /// `Dockerfile.template`, or instructions that are template markers such as `{{`):
    /// what it builds is only known once it is rendered.
    TemplateSource,
}

impl SkipReason {
    /// Every code, in the order docs/skips.md documents them.
    pub const CODES: &'static [&'static str] = &[
        "build-stage",
        "scratch",
        "unresolved-variable",
        "invalid-reference",
        "templated",
        "shared-arg",
        "unrewritable",
        "digest-only",
        "built-here",
        "conflicting-pins",
        "compose-v1",
        "not-followed",
        "placeholder",
        "template-source",
    ];

    /// The stable kebab-case code.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::BuildStage => "build-stage",
            SkipReason::Scratch => "scratch",
            SkipReason::UnresolvedVariable { .. } => "unresolved-variable",
            SkipReason::InvalidReference { .. } => "invalid-reference",
            SkipReason::Templated => "templated",
            SkipReason::SharedArg { .. } => "shared-arg",
            SkipReason::Unrewritable { .. } => "unrewritable",
            SkipReason::DigestOnly => "digest-only",
            SkipReason::BuiltHere => "built-here",
            SkipReason::ConflictingPins => "conflicting-pins",
            SkipReason::ComposeV1 => "compose-v1",
            SkipReason::NotFollowed { .. } => "not-followed",
            SkipReason::Placeholder { .. } => "placeholder",
            SkipReason::TemplateSource => "template-source",
        }
    }

    /// A one-line human explanation.
    pub fn message(&self) -> String {
        match self {
            SkipReason::BuildStage => "refers to a build stage, not an image".to_owned(),
            SkipReason::Scratch => "scratch is the empty image; nothing to pin".to_owned(),
            SkipReason::UnresolvedVariable { name } => {
                format!(
                    "variable {name} has no default and no value was given (Dockerfile: --build-arg {name}=...; compose: set it in the environment or .env)"
                )
            }
            SkipReason::InvalidReference { reason } => {
                format!("not a valid image reference: {reason}")
            }
            SkipReason::Templated => {
                "value is a template expression, rendered elsewhere".to_owned()
            }
            SkipReason::SharedArg { name } => {
                format!(
                    "ARG {name} also feeds other references or instructions; pinning its default would change them too"
                )
            }
            SkipReason::Unrewritable { reason } => {
                format!("value cannot be edited in place in the file: {reason}")
            }
            SkipReason::DigestOnly => {
                "pinned to a digest with no tag; nothing to look up".to_owned()
            }
            SkipReason::BuiltHere => {
                "built by this repository (compose build:), not pulled from a registry".to_owned()
            }
            SkipReason::ConflictingPins => {
                "shares its text with other references that would be pinned differently or could not be looked up".to_owned()
            }
            SkipReason::ComposeV1 => {
                "compose file format version 1 (services at the top level, no `services:`): docker compose no longer reads it".to_owned()
            }
            SkipReason::NotFollowed { reason } => {
                format!("compose reads this file but strata does not follow it: {reason}")
            }
            SkipReason::Placeholder { text } => {
                format!("{text} is a placeholder, filled in before use; the image is not known here")
            }
            SkipReason::TemplateSource => {
                "a template that renders into a Dockerfile; scan the rendered file".to_owned()
            }
        }
    }
}

/// A place skipped on purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub line: usize,
    /// The text as written.
    pub text: String,
    pub reason: SkipReason,
}

/// Input that the build tool would reject. The rest of the file may still have been read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ExtractError {
    /// 1-based line, 0 when the error concerns the whole file.
    pub line: usize,
    pub message: String,
}

/// Something the build tool would warn about and go on (BuildKit's lint rules such as
/// `UndefinedArgInFrom`): the reference is still used, but maybe not as meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: usize,
    /// The index in [`Extraction::occurrences`] of the occurrence it concerns, if any.
    pub occurrence: Option<usize>,
    /// A stable kebab-case code: the slug of the BuildKit rule it follows
    /// (`undefined-arg-in-from`).
    pub code: &'static str,
    pub message: String,
}

/// Everything one extractor found in one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    pub occurrences: Vec<Occurrence>,
    pub skips: Vec<Skip>,
    pub errors: Vec<ExtractError>,
    pub warnings: Vec<Warning>,
}

#[cfg(test)]
mod tests {
    use super::SkipReason;

    /// One value of every variant; the match makes a new variant a compile error here
    /// until it is listed (and so documented).
    fn every_reason() -> Vec<SkipReason> {
        let all = vec![
            SkipReason::BuildStage,
            SkipReason::Scratch,
            SkipReason::UnresolvedVariable { name: "X".into() },
            SkipReason::InvalidReference { reason: "r".into() },
            SkipReason::Templated,
            SkipReason::SharedArg { name: "X".into() },
            SkipReason::Unrewritable { reason: "r".into() },
            SkipReason::DigestOnly,
            SkipReason::BuiltHere,
            SkipReason::ConflictingPins,
            SkipReason::ComposeV1,
            SkipReason::NotFollowed { reason: "r".into() },
            SkipReason::Placeholder { text: "<X>".into() },
            SkipReason::TemplateSource,
        ];
        for reason in &all {
            match reason {
                SkipReason::BuildStage
                | SkipReason::Scratch
                | SkipReason::UnresolvedVariable { .. }
                | SkipReason::InvalidReference { .. }
                | SkipReason::Templated
                | SkipReason::SharedArg { .. }
                | SkipReason::Unrewritable { .. }
                | SkipReason::DigestOnly
                | SkipReason::BuiltHere
                | SkipReason::ConflictingPins
                | SkipReason::ComposeV1
                | SkipReason::NotFollowed { .. }
                | SkipReason::Placeholder { .. } => {}
                SkipReason::TemplateSource => {}
            }
        }
        all
    }

    #[test]
    fn codes_lists_every_variant() {
        let codes: Vec<&str> = every_reason().iter().map(SkipReason::code).collect();
        assert_eq!(codes, SkipReason::CODES);
    }
}
