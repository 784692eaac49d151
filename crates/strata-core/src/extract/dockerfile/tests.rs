//! BuildKit's rules, one table per family, each case written from the BuildKit source it
//! cites (moby/buildkit `frontend/dockerfile`: `dockerfile2llb/convert.go`,
//! `dockerfile2llb/validations.go`, `instructions/parse.go`, `instructions/bflag.go`,
//! `parser/directives.go`, `linter/ruleset.go`) or from BuildKit's own tests.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::BTreeMap;

use super::{Options, extract};

/// Everything a file yields, one line each: `L<line> image|skip|error|warn …`.
fn outcome_with(src: &str, opts: &Options) -> Vec<String> {
    let out = extract(src, opts);
    let mut lines = Vec::new();
    for (i, o) in out.occurrences.iter().enumerate() {
        let platform = o
            .platform
            .as_deref()
            .map(|p| format!(" on {p}"))
            .unwrap_or_default();
        lines.push(format!("L{} image {}{platform}", o.line, o.reference));
        for w in out.warnings.iter().filter(|w| w.occurrence == Some(i)) {
            lines.push(format!("L{} warn {}: {}", w.line, w.code, w.message));
        }
    }
    for w in out.warnings.iter().filter(|w| w.occurrence.is_none()) {
        lines.push(format!("L{} warn {}: {}", w.line, w.code, w.message));
    }
    for s in &out.skips {
        lines.push(format!("L{} skip {} {}", s.line, s.reason.code(), s.text));
    }
    for e in &out.errors {
        lines.push(format!("L{} error {}", e.line, e.message));
    }
    lines
}

fn outcome(src: &str) -> Vec<String> {
    outcome_with(src, &Options::default())
}

/// Runs a table: each case's outcome must contain every expected line, and nothing
/// else when the case lists `only`.
fn table(cases: &[(&str, &str, &[&str])]) {
    let mut failures = Vec::new();
    for (name, src, want) in cases {
        let got = outcome(src);
        let missing: Vec<&&str> = want
            .iter()
            .filter(|w| !got.iter().any(|g| g == **w))
            .collect();
        if !missing.is_empty() || got.len() != want.len() {
            failures.push(format!("{name}:\n  want {want:#?}\n  got  {got:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(!cases.is_empty());
}

const UNDEF: &str = "warn undefined-arg-in-from: FROM argument";

#[test]
fn from_sees_only_global_args_and_undeclared_ones_are_empty() {
    // convert.go buildDispatchStates: FROM is expanded with the global args only;
    // validations.go reportUnusedFromArgs: a name no ARG declares is UndefinedArgInFrom
    // (linter/ruleset.go), expanded to nothing; "base name (…) should not be blank".
    table(&[
        (
            "undeclared suffix expands to nothing",
            "FROM mcr.microsoft.com/dotnet/sdk:5.0${IMAGESUFFIX}\n",
            &[
                "L1 image mcr.microsoft.com/dotnet/sdk:5.0",
                &format!("L1 {UNDEF} 'IMAGESUFFIX' is not declared"),
            ],
        ),
        (
            "undeclared tag leaves an invalid reference",
            "FROM nginx:$version\n",
            &[
                "L1 error version is not declared by a global ARG, so it is empty: nginx:: invalid reference format",
            ],
        ),
        (
            "undeclared registry leaves a leading slash",
            "FROM $REGISTRY/alpine:3.15\n",
            &[
                "L1 error REGISTRY is not declared by a global ARG, so it is empty: /alpine:3.15: invalid reference format",
            ],
        ),
        (
            "undeclared whole name is blank",
            "FROM ${BLANK}\n",
            &[
                "L1 error BLANK is not declared by a global ARG, so it is empty: base name (${BLANK}) should not be blank",
            ],
        ),
        (
            "an ARG inside a stage does not reach a later FROM",
            "FROM alpine AS a\nARG IMG=busybox\nFROM ${IMG:-alpine}:3\n",
            &[
                "L1 image docker.io/library/alpine:latest",
                "L3 image docker.io/library/alpine:3",
                &format!("L3 {UNDEF} 'IMG' is not declared"),
            ],
        ),
        (
            // dockerfile_check_test.go testUndefinedArgInFrom (tag=latest, ${version}).
            "declared and undeclared together",
            "ARG tag=latest\nFROM busybox:${tag}${version} AS b\n",
            &[
                "L2 image docker.io/library/busybox:latest",
                &format!("L2 {UNDEF} 'version' is not declared"),
            ],
        ),
        (
            // dockerfile_check_test.go: `ARG DEBUG` then `FROM scra${DEBUG:-tch}`.
            "a declared ARG with no value takes the default and is no warning",
            "ARG DEBUG\nFROM scra${DEBUG:-tch}\n",
            &["L2 skip scratch scra${DEBUG:-tch}"],
        ),
        (
            "did you mean a declared one",
            "ARG PYTHON_VERSION=3.12\nFROM python:${PYTHON_VERSON}3\n",
            &[
                "L2 image docker.io/library/python:3",
                &format!(
                    "L2 {UNDEF} 'PYTHON_VERSON' is not declared (did you mean PYTHON_VERSION?)"
                ),
            ],
        ),
        (
            // buildMetaArgs lints nothing: an ARG default is expanded silently.
            "an ARG default using an undeclared name is no warning",
            "ARG IMG=${UNDECLARED}alpine\nFROM $IMG\n",
            &["L2 image docker.io/library/alpine:latest"],
        ),
        (
            "unresolved: a declared global ARG without default",
            "ARG REG\nFROM $REG/app:1\n",
            &["L2 skip unresolved-variable $REG/app:1"],
        ),
        (
            "unresolved through another ARG's default",
            "ARG REG\nARG IMG=${REG}/app\nFROM ${IMG}:1\n",
            &["L3 skip unresolved-variable ${IMG}:1"],
        ),
        (
            // buildMetaArgs: a value only when the ARG has one; re-declaring keeps it.
            "an ARG declared again without default keeps its value",
            "ARG TAG=3.19\nARG TAG\nFROM alpine:$TAG\n",
            &["L3 image docker.io/library/alpine:3.19"],
        ),
        (
            // defaultArgs: the platform args are in the global scope from the start.
            "a platform ARG declared again keeps the automatic value",
            "ARG TARGETARCH\nFROM foo-$TARGETARCH\n",
            &["L2 image docker.io/library/foo-amd64:latest"],
        ),
        (
            "TARGETSTAGE is the last stage's name",
            "FROM busybox AS base\nFROM alpine:${TARGETSTAGE} AS final\n",
            &[
                "L1 image docker.io/library/busybox:latest",
                "L2 image docker.io/library/alpine:final",
            ],
        ),
        (
            "an empty ARG says so",
            "ARG WINDOWS_VERSION=\nFROM mcr.microsoft.com/windows/servercore:$WINDOWS_VERSION\n",
            &[
                "L2 error ARG WINDOWS_VERSION is empty: mcr.microsoft.com/windows/servercore:: invalid reference format",
            ],
        ),
        (
            "an obvious placeholder is called one",
            "FROM <PROJECT_ID>/app:1\n",
            &[
                "L1 error <PROJECT_ID> is a placeholder, filled in before use: <PROJECT_ID>/app:1: invalid reference format",
            ],
        ),
        (
            "a CI expression is a placeholder, not a template",
            "FROM ${{ env.IMAGE }}\n",
            &[
                "L1 error ${{ env.IMAGE }} is a placeholder, filled in before use: FROM requires either one or three arguments",
            ],
        ),
    ]);
}

#[test]
fn build_args_reach_declared_args_only() {
    // buildMetaArgs reads --build-arg only for ARGs the file declares; defaultArgs lets a
    // --build-arg replace an automatic platform arg.
    let opts = Options {
        build_args: BTreeMap::from([
            ("VERSION".to_owned(), "1.2".to_owned()),
            ("REG".to_owned(), "registry.example.com".to_owned()),
            ("TARGETARCH".to_owned(), "arm64".to_owned()),
        ]),
        ..Options::default()
    };
    let cases: [(&str, &[&str]); 3] = [
        (
            "FROM nginx:1${VERSION}\n",
            &[
                "L1 image docker.io/library/nginx:1",
                &format!("L1 {UNDEF} 'VERSION' is not declared"),
            ],
        ),
        (
            "ARG REG\nFROM $REG/app:1\n",
            &["L2 image registry.example.com/app:1"],
        ),
        (
            "FROM foo-$TARGETARCH\n",
            &["L1 image docker.io/library/foo-arm64:latest"],
        ),
    ];
    for (src, want) in cases {
        assert_eq!(outcome_with(src, &opts), *want, "{src}");
    }
}

#[test]
fn stages_only_backwards() {
    // convert.go: FROM looks its expanded name up exactly in statesByName (lower-cased
    // names of earlier stages, addState); --from looks up every stage case-insensitively
    // (findStateByName), an index with findStateByIndex; validations.go
    // validateCircularDependency; dispatch: "needs to be defined before".
    table(&[
        (
            "FROM with the name of a later stage is an image",
            "FROM builder AS app\nFROM golang AS builder\n",
            &[
                "L1 image docker.io/library/builder:latest",
                "L2 image docker.io/library/golang:latest",
            ],
        ),
        (
            "FROM is exact: Builder is not the stage builder",
            "FROM busybox AS builder\nFROM Builder\n",
            &[
                "L1 image docker.io/library/busybox:latest",
                "L2 error Builder: repository name must be lowercase",
            ],
        ),
        (
            "stage names are lower-cased, --from is case-insensitive",
            "FROM busybox AS Builder\nFROM builder\nCOPY --from=BUILDER / /\n",
            &[
                "L1 image docker.io/library/busybox:latest",
                "L2 skip build-stage builder",
                "L3 skip build-stage BUILDER",
            ],
        ),
        (
            "COPY --from a later stage",
            "FROM busybox AS a\nCOPY --from=b / /\nFROM busybox AS b\n",
            &[
                "L1 image docker.io/library/busybox:latest",
                "L2 error cannot copy from stage \"b\", it needs to be defined before current stage \"a\"",
            ],
        ),
        (
            // convert_test.go TestDockerfileCircularDependencies, single stage.
            "COPY --from the stage itself",
            "FROM busybox AS stage0\nCOPY --from=stage0 f1 /sub/\n",
            &[
                "L1 image docker.io/library/busybox:latest",
                "L2 error circular dependency detected on stage: stage0",
            ],
        ),
        (
            // convert_test.go TestDockerfileCircularDependencies, three stages.
            "a cycle through a later stage",
            "FROM busybox AS stage0\nCOPY --from=stage2 f1 /sub/\nFROM busybox AS stage1\nCOPY --from=stage0 f2 /sub/\nFROM busybox AS stage2\nCOPY --from=stage1 f2 /sub/\n",
            &[
                "L1 image docker.io/library/busybox:latest",
                "L2 error circular dependency detected on stage: stage0",
            ],
        ),
        (
            "an unnamed stage is stage-N",
            "FROM alpine\nFROM busybox\nCOPY --from=1 / /\n",
            &[
                "L1 image docker.io/library/alpine:latest",
                "L2 image docker.io/library/busybox:latest",
                "L3 error circular dependency detected on stage: stage-1",
            ],
        ),
        (
            "indexes: earlier is a stage, out of range is an error",
            "FROM alpine\nFROM busybox\nCOPY --from=0 / /\nCOPY --from=5 / /\n",
            &[
                "L1 image docker.io/library/alpine:latest",
                "L2 image docker.io/library/busybox:latest",
                "L3 skip build-stage 0",
                "L4 error invalid stage index 5",
            ],
        ),
        (
            "a negative index",
            "FROM alpine\nCOPY --from=-1 / /\n",
            &[
                "L1 image docker.io/library/alpine:latest",
                "L2 error invalid stage index -1",
            ],
        ),
        (
            "COPY --from with a variable",
            "FROM alpine\nCOPY --from=$X / /\n",
            &[
                "L1 image docker.io/library/alpine:latest",
                "L2 error COPY --from=$X: variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround",
            ],
        ),
        (
            "RUN --mount=from a later stage",
            "FROM busybox AS a\nRUN --mount=from=b,target=/x ls\nFROM busybox AS b\n",
            &[
                "L1 image docker.io/library/busybox:latest",
                "L2 error cannot mount from stage \"b\" to \"/x\", stage needs to be defined before current command",
            ],
        ),
        (
            // commands_runmount.go parseMount: `from` with a `$` anywhere but last.
            "RUN --mount=from with a variable",
            "FROM busybox\nRUN --mount=from=$X,target=/x ls\n",
            &[
                "L1 image docker.io/library/busybox:latest",
                "L2 error 'from' doesn't support variable expansion, define alias stage instead",
            ],
        ),
        (
            // detectRunMount looks names up only: `from=0` is the image `0`.
            "RUN --mount=from takes no index",
            "FROM alpine\nFROM busybox\nRUN --mount=type=bind,FROM=0,target=/x ls\n",
            &[
                "L1 image docker.io/library/alpine:latest",
                "L2 image docker.io/library/busybox:latest",
                "L3 image docker.io/library/0:latest",
            ],
        ),
        (
            "mount keys are case-insensitive and the stage is earlier",
            "FROM golang AS tools\nFROM alpine\nRUN --mount=type=bind,From=TOOLS,target=/t ls\n",
            &[
                "L1 image docker.io/library/golang:latest",
                "L2 image docker.io/library/alpine:latest",
                "L3 skip build-stage TOOLS",
            ],
        ),
    ]);
}

#[test]
fn platforms_checked_after_expansion() {
    // convert.go buildDispatchStates: "empty platform value from expression",
    // "failed to parse platform" (containerd platforms.Parse), with wrapSuggestAny.
    table(&[
        (
            "the build platform",
            "FROM --platform=$BUILDPLATFORM golang AS b\n",
            &["L1 image docker.io/library/golang:latest on linux/amd64"],
        ),
        (
            // dockerfile_check_test.go testUndefinedArgInFrom.
            "a misspelt platform arg is empty",
            "FROM --platform=$BULIDPLATFORM scratch\n",
            &[
                "L1 error empty platform value from expression $BULIDPLATFORM (did you mean BUILDPLATFORM?)",
            ],
        ),
        (
            "an empty ARG",
            "ARG P=\nFROM --platform=$P alpine\n",
            &["L2 error empty platform value from expression $P"],
        ),
        (
            // dockerfile_check_test.go testUndefinedArgInFrom (MY_ARCH).
            "an unparsable platform",
            "ARG MY_OS=linux\nARG MY_ARCH=amd64\nFROM --platform=linux/${MYARCH} busybox\n",
            &[
                "L3 error failed to parse platform linux/${MYARCH}: \"\" is an invalid component of \"linux/\": platform specifier component must match \"^[A-Za-z0-9_.-]+$\": invalid argument (did you mean MY_ARCH?)",
            ],
        ),
        (
            "a wildcard",
            "FROM --platform=linux/* alpine\n",
            &[
                "L1 error failed to parse platform linux/*: \"linux/*\": wildcards not yet supported: invalid argument",
            ],
        ),
        (
            "an ARG the scan was not given leaves the platform unknown",
            "ARG P\nFROM --platform=$P alpine\n",
            &["L2 image docker.io/library/alpine:latest"],
        ),
        (
            "undeclared names in --platform are warned about too",
            "FROM --platform=${PLAT:-linux/arm64} alpine\n",
            &[
                "L1 image docker.io/library/alpine:latest on linux/arm64",
                &format!("L1 {UNDEF} 'PLAT' is not declared"),
            ],
        ),
    ]);
}

#[test]
fn syntax_directive_after_a_shebang() {
    // parser/directives.go DetectSyntax drops a first `#!` line; the directive must start
    // its line with `#`.
    table(&[
        (
            "shebang first",
            "#!/usr/bin/env buildctl-daemonless.sh\n# syntax=docker/dockerfile:1\nFROM a\n",
            &[
                "L2 image docker.io/docker/dockerfile:1",
                "L3 image docker.io/library/a:latest",
            ],
        ),
        (
            "indented: the parser reads it, DetectSyntax does not",
            "  # syntax=docker/dockerfile:1\nFROM a\n",
            &["L2 image docker.io/library/a:latest"],
        ),
    ]);
}

#[test]
fn what_buildkit_rejects() {
    // instructions/parse.go (parseOnBuild, errAtLeastOneArgument, errExactlyOneArgument,
    // errNoDestinationArgument, parseHealthcheck, parseShell), bflag.go (BFlags.Parse:
    // unknown, duplicate, missing and non-boolean values, with suggest.WrapError),
    // convert.go ("dockerfile contains no stages to build"), shell/lex.go (`${VAR:?}`).
    let a = "L1 image docker.io/library/alpine:latest";
    table(&[
        (
            "ONBUILD FROM",
            "FROM alpine\nONBUILD FROM x\n",
            &[a, "L2 error FROM isn't allowed as an ONBUILD trigger"],
        ),
        (
            "ONBUILD MAINTAINER",
            "FROM alpine\nonbuild maintainer me\n",
            &[a, "L2 error MAINTAINER isn't allowed as an ONBUILD trigger"],
        ),
        (
            "ONBUILD ONBUILD",
            "FROM alpine\nONBUILD ONBUILD RUN x\n",
            &[
                a,
                "L2 error Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
            ],
        ),
        (
            "ONBUILD alone",
            "FROM alpine\nONBUILD\n",
            &[a, "L2 error ONBUILD requires at least one argument"],
        ),
        (
            "no stage",
            "ARG foo=bar\n",
            &["L0 error dockerfile contains no stages to build"],
        ),
        (
            "COPY without destination",
            "FROM alpine\nCOPY onlyone\n",
            &[
                a,
                "L2 error COPY requires at least two arguments, but only one was provided. Destination could not be determined",
            ],
        ),
        (
            "ADD without destination",
            "FROM alpine\nADD [\"a\"]\n",
            &[
                a,
                "L2 error ADD requires at least two arguments, but only one was provided. Destination could not be determined",
            ],
        ),
        (
            "heredoc destination",
            "FROM alpine\nCOPY a <<EOF\nx\nEOF\n",
            &[a, "L2 error COPY cannot accept a heredoc as a destination"],
        ),
        (
            "WORKDIR alone",
            "FROM alpine\nWORKDIR\n",
            &[a, "L2 error WORKDIR requires exactly one argument"],
        ),
        (
            "USER alone",
            "FROM alpine\nUSER\n",
            &[a, "L2 error USER requires exactly one argument"],
        ),
        (
            "STOPSIGNAL alone",
            "FROM alpine\nSTOPSIGNAL\n",
            &[a, "L2 error STOPSIGNAL requires exactly one argument"],
        ),
        (
            "EXPOSE alone",
            "FROM alpine\nEXPOSE\n",
            &[a, "L2 error EXPOSE requires at least one argument"],
        ),
        (
            "VOLUME alone",
            "FROM alpine\nVOLUME\n",
            &[a, "L2 error VOLUME requires at least one argument"],
        ),
        (
            "VOLUME empty",
            "FROM alpine\nVOLUME [\" \"]\n",
            &[a, "L2 error VOLUME specified can not be an empty string"],
        ),
        (
            "ENV alone",
            "FROM alpine\nENV\n",
            &[a, "L2 error ENV requires at least one argument"],
        ),
        (
            "LABEL alone",
            "FROM alpine\nLABEL\n",
            &[a, "L2 error LABEL requires at least one argument"],
        ),
        (
            "ENV blank name",
            "FROM alpine\nENV =x\n",
            &[a, "L2 error ENV names can not be blank"],
        ),
        (
            "ARG blank name",
            "ARG =x\nFROM alpine\n",
            &["L1 error ARG names can not be blank"],
        ),
        (
            "ARG alone",
            "ARG\nFROM alpine\n",
            &["L1 error ARG requires at least one argument"],
        ),
        (
            "HEALTHCHECK NONE with arguments",
            "FROM alpine\nHEALTHCHECK NONE x\n",
            &[a, "L2 error HEALTHCHECK NONE takes no arguments"],
        ),
        (
            "HEALTHCHECK unknown type",
            "FROM alpine\nHEALTHCHECK cmdx true\n",
            &[a, "L2 error Unknown type \"CMDX\" in HEALTHCHECK (try CMD)"],
        ),
        (
            "HEALTHCHECK without command",
            "FROM alpine\nHEALTHCHECK CMD\n",
            &[a, "L2 error Missing command after HEALTHCHECK CMD"],
        ),
        (
            "HEALTHCHECK duration without unit",
            "FROM alpine\nHEALTHCHECK --interval=5 CMD true\n",
            &[a, "L2 error time: missing unit in duration \"5\""],
        ),
        (
            "HEALTHCHECK duration too short",
            "FROM alpine\nHEALTHCHECK --timeout=10us CMD true\n",
            &[a, "L2 error Interval \"timeout\" cannot be less than 1ms"],
        ),
        (
            "HEALTHCHECK negative retries",
            "FROM alpine\nHEALTHCHECK --retries=-1 CMD true\n",
            &[a, "L2 error --retries cannot be negative (-1)"],
        ),
        (
            "SHELL not JSON",
            "FROM alpine\nSHELL sh -c\n",
            &[
                a,
                "L2 error SHELL requires the arguments to be in JSON form",
            ],
        ),
        (
            "unknown FROM flag",
            "FROM --plaform=linux/amd64 alpine\n",
            &["L1 error unknown flag: --plaform (did you mean platform?)"],
        ),
        (
            "ADD takes no --from",
            "FROM alpine\nADD --from=x a b\n",
            &[a, "L2 error unknown flag: --from"],
        ),
        (
            "unknown RUN flag",
            "FROM alpine\nRUN --mont=type=cache ls\n",
            &[a, "L2 error unknown flag: --mont (did you mean mount?)"],
        ),
        (
            "flags on ENV",
            "FROM alpine\nENV --x=1 A=b\n",
            &[a, "L2 error unknown flag: --x"],
        ),
        (
            "duplicate flag",
            "FROM alpine\nCOPY --from=a --from=b x y\n",
            &[a, "L2 error duplicate flag specified: --from"],
        ),
        (
            "repeatable flag",
            "FROM alpine\nCOPY --exclude=a --exclude=b x y\n",
            &[a],
        ),
        (
            "boolean flag",
            "FROM alpine\nCOPY --link=maybe a b\n",
            &[
                a,
                "L2 error expecting boolean value for flag --link, not: maybe",
            ],
        ),
        (
            "string flag without value",
            "FROM alpine\nCOPY --chown a b\n",
            &[a, "L2 error missing a value on flag: --chown"],
        ),
        // parseArg and parseStopSignal never parse their flags.
        (
            "ARG ignores flags",
            "ARG --x V=1\nFROM alpine:$V\n",
            &["L2 image docker.io/library/alpine:1"],
        ),
        (
            "unknown instruction",
            "FRM alpine\n",
            &["L1 error unknown instruction: FRM (did you mean FROM?)"],
        ),
        (
            "required variable unset",
            "FROM alpine:${TAG:?unset}\n",
            &["L1 error alpine:${TAG:?unset}: TAG: unset"],
        ),
        (
            "required variable from --build-arg",
            "ARG TAG\nFROM alpine:${TAG:?unset}\n",
            &["L2 skip unresolved-variable alpine:${TAG:?unset}"],
        ),
        (
            "required ARG default",
            "ARG TAG=${X:?needed}\nFROM alpine\n",
            &["L1 error ARG TAG: X: needed"],
        ),
    ]);
}

#[test]
fn templates_are_skipped_not_errors() {
    table(&[
        (
            "template statement",
            "{{ range .x }}\nFROM a\n",
            &["L1 skip template-source {{ range .x }}"],
        ),
        (
            "jinja block",
            "FROM python\n{% for p in pkgs %}\nRUN pip install {{ p }}\n{% endfor %}\n",
            &["L2 skip template-source {% for p in pkgs %}"],
        ),
        (
            "templated base",
            "FROM {{ .Base }}\n",
            &["L1 skip template-source FROM {{ .Base }}"],
        ),
        (
            "Go templates in RUN are shell text",
            "FROM alpine\nRUN docker inspect --format '{{.Id}}' x\n",
            &["L1 image docker.io/library/alpine:latest"],
        ),
    ]);
}

#[test]
fn column_is_the_rewritable_texts_own() {
    // docs/json.md: `column` is the rewritable text's first byte on its own line.
    let src = "ARG PY=3.12-slim\nFROM python:${PY}\nFROM alpine:3.19\n";
    let out = extract(src, &Options::default());
    let got: Vec<(usize, usize, &str)> = out
        .occurrences
        .iter()
        .map(|o| (o.line, o.column, &src[o.span.clone()]))
        .collect();
    assert_eq!(got, [(2, 8, "3.12-slim"), (3, 6, "alpine:3.19")]);
}

#[test]
fn bad_input_never_panics_and_names_a_line() {
    let inputs = [
        "FROM --platform= alpine\n",
        "FROM alpine\nRUN --mount=\"from=x\n",
        "FROM alpine\nRUN --mount=type=bind,\"from\"\"=x\" ls\n",
        "FROM alpine\nCOPY --from= a b\n",
        "FROM alpine\nHEALTHCHECK --interval=.s CMD x\n",
        "FROM alpine\nHEALTHCHECK --interval=1.5.5s CMD x\n",
        "FROM a AS b\nCOPY --from=99999999999999999999999 / /\n",
        "ARG A=${\nFROM x\n",
        "FROM ${A:-${B:-${C}}}\n",
    ];
    for src in inputs {
        let out = extract(src, &Options::default());
        for e in &out.errors {
            assert!(e.line >= 1, "{src:?}: {e:?}");
        }
    }
}
