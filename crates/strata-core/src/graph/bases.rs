//! graph stage, Dockerfile side: what one Dockerfile builds on — the image under its
//! final stage (through stage aliases), the images of its other stages, its `COPY
//! --from`/`RUN --mount` sources — as BuildKit would build it with the extraction's
//! arguments and platform. Pure text work on a file already read and extracted.

use crate::dockerfile;
use crate::graph::{EdgeKind, ImageRef};
use crate::occurrence::{Extraction, SkipReason, Source};

/// An image a Dockerfile builds on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUse {
    pub image: ImageRef,
    pub kind: EdgeKind,
    /// 1-based line of the `FROM`/`COPY`/`RUN`.
    pub line: usize,
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StageBase {
    Image(ImageRef, usize),
    /// An earlier stage, by index.
    Stage(usize),
    /// `scratch`, or a base we could not read (unresolved variable).
    Nothing,
}

#[derive(Debug)]
struct Stage {
    name: Option<String>,
    base: StageBase,
}

/// The images under the build of `target` (the last stage when `None`): final-stage base
/// first, then other stages' bases, then copy sources; each image once per kind.
/// An unknown `target` builds on nothing we can name.
pub fn bases(text: &str, extraction: &Extraction, target: Option<&str>) -> Vec<BaseUse> {
    let stages = stages(text, extraction);
    let Some(last) = stages.len().checked_sub(1) else {
        return Vec::new();
    };
    let built = match target {
        None => Some(last),
        Some(name) => stages
            .iter()
            .position(|s| s.name.as_deref() == Some(&name.to_ascii_lowercase())),
    };
    let mut out: Vec<BaseUse> = Vec::new();
    let mut push = |image: &ImageRef, kind: EdgeKind, line: usize| {
        if !out.iter().any(|b| &b.image == image && b.kind == kind) {
            out.push(BaseUse {
                image: image.clone(),
                kind,
                line,
            });
        }
    };
    // Walk the alias chain from the built stage down to an image.
    let mut chain = vec![false; stages.len()];
    let mut at = built;
    while let Some(index) = at.filter(|&i| !chain[i]) {
        chain[index] = true;
        at = match &stages[index].base {
            StageBase::Image(image, line) => {
                push(image, EdgeKind::FinalStage, *line);
                None
            }
            StageBase::Stage(earlier) => Some(*earlier),
            StageBase::Nothing => None,
        };
    }
    // Only stages at or before the built one take part in its build.
    let upto = built.map_or(0, |b| b + 1);
    for stage in stages.iter().take(upto) {
        if let StageBase::Image(image, line) = &stage.base {
            push(image, EdgeKind::BuildStage, *line);
        }
    }
    let first_line_after = |index: usize| -> usize {
        stage_lines(text)
            .get(index + 1)
            .copied()
            .unwrap_or(usize::MAX)
    };
    let limit = built.map_or(0, first_line_after);
    for occurrence in &extraction.occurrences {
        let copy = matches!(occurrence.source, Source::CopyFrom | Source::MountFrom);
        if copy
            && occurrence.line < limit
            && let Ok(image) = ImageRef::new(&occurrence.reference)
        {
            push(&image, EdgeKind::CopyFrom, occurrence.line);
        }
    }
    // A final-stage base is not also a build-stage base.
    let finals: Vec<ImageRef> = out
        .iter()
        .filter(|b| b.kind == EdgeKind::FinalStage)
        .map(|b| b.image.clone())
        .collect();
    out.retain(|b| b.kind != EdgeKind::BuildStage || !finals.contains(&b.image));
    out
}

/// 1-based start lines of every `FROM`, in order.
fn stage_lines(text: &str) -> Vec<usize> {
    match dockerfile::parse(text) {
        Ok(parsed) => parsed
            .instructions
            .iter()
            .filter(|i| i.is("from"))
            .map(|i| i.start_line)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Every stage with its name and base, matched to the extraction by line.
fn stages(text: &str, extraction: &Extraction) -> Vec<Stage> {
    let Ok(parsed) = dockerfile::parse(text) else {
        return Vec::new();
    };
    let mut stages: Vec<Stage> = Vec::new();
    for instruction in parsed.instructions.iter().filter(|i| i.is("from")) {
        let line = instruction.start_line;
        let words: Vec<&str> = instruction
            .text
            .split_whitespace()
            .skip(1)
            .filter(|w| !w.starts_with("--"))
            .collect();
        let name = match words.as_slice() {
            [_, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => Some(name.to_ascii_lowercase()),
            _ => None,
        };
        let image = extraction
            .occurrences
            .iter()
            .find(|o| o.line == line && o.source == Source::From)
            .and_then(|o| ImageRef::new(&o.reference).ok());
        let base = match image {
            Some(image) => StageBase::Image(image, line),
            None => {
                let skip = extraction.skips.iter().find(|s| s.line == line);
                match skip.map(|s| (&s.reason, s.text.to_ascii_lowercase())) {
                    Some((SkipReason::BuildStage, text)) => stages
                        .iter()
                        .position(|s| s.name.as_deref() == Some(text.as_str()))
                        .map_or(StageBase::Nothing, StageBase::Stage),
                    _ => StageBase::Nothing,
                }
            }
        };
        stages.push(Stage { name, base });
    }
    stages
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::extract::dockerfile::{Options, extract};

    use super::*;

    fn bases_of(text: &str, target: Option<&str>) -> Vec<String> {
        let extraction = extract(text, &Options::default());
        bases(text, &extraction, target)
            .iter()
            .map(|b| format!("{}:{}@{}", b.kind.as_str(), b.image.familiar(), b.line))
            .collect()
    }

    #[test]
    fn final_stage_follows_aliases_and_other_edges_get_their_kinds() {
        let text = "\
ARG PY=3.12
FROM golang:1.22 AS build
COPY --from=busybox:1 /bin/sh /bin/sh
FROM python:${PY}-slim AS base
FROM base AS runtime
COPY --from=build /app /app
RUN --mount=type=bind,from=alpine:3,target=/a true
FROM runtime
";
        assert_eq!(
            bases_of(text, None),
            [
                "final-stage:python:3.12-slim@4",
                "build-stage:golang:1.22@2",
                "copy-from:busybox:1@3",
                "copy-from:alpine:3@7",
            ]
        );
        // Building the first stage only: nothing after it counts.
        assert_eq!(
            bases_of(text, Some("build")),
            ["final-stage:golang:1.22@2", "copy-from:busybox:1@3"]
        );
        assert!(bases_of(text, Some("nope")).is_empty());
    }

    #[test]
    fn scratch_unresolved_and_broken_files_have_no_final_base() {
        assert!(bases_of("FROM scratch\nCOPY x /x\n", None).is_empty());
        assert!(bases_of("FROM $NOPE\n", None).is_empty());
        assert!(bases_of("FROM\n", None).is_empty());
        assert!(bases_of("", None).is_empty());
        assert_eq!(
            bases_of("FROM debian:12 AS a\nFROM debian:12\n", None),
            ["final-stage:debian:12@2"]
        );
    }
}
