//! Test support, a build like `docker build`: reads the Dockerfile it is given (from a
//! checkout, or a commit of a repository) with the image's build arguments, target and
//! platform, and builds on exactly what that file names — the pinned digest when the
//! `FROM` is pinned, the tag's current image when it is not — then pushes the result to
//! the loopback registry. The new image is the base's layers plus one layer, with the
//! base annotations a BuildKit build writes (`org.opencontainers.image.base.name` and
//! `.digest`).
//!
//! What it keeps of the real thing: the base comes from the file, never from what a
//! cascade says the base should be, so a checkout that still pins an old digest builds
//! on the old digest. The build is reproducible: the same file, arguments and base give
//! the same image digest (as a fully cached `docker build` would). What it leaves out:
//! `RUN`, `COPY` and contexts (one synthetic layer stands for them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use strata_core::extract::dockerfile::{Options, extract};
use strata_core::graph::{EdgeKind, bases};
use strata_core::occurrence::Source;

use crate::hierarchy::{Rebuilt, Target, qualified, rebuild_on, through_mirror};
use crate::seed::Seeder;

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct Recipe {
    /// The image to push, as named (`127.0.0.1:5000/org/app:1`, or a Docker Hub name
    /// served through a mirror).
    pub image: String,
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// `--build-arg`s.
    pub build_args: BTreeMap<String, String>,
    /// `--target`.
    pub target: Option<String>,
    /// `--platform` (default `linux/amd64`).
    pub platform: Option<String>,
}

/// What a build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The base as the Dockerfile names it, expanded (`…/python:3.12-slim@sha256:…`).
    pub from: String,
    /// The base image's digest the new image sits on.
    pub base_digest: String,
    /// The new image's manifest digest.
    pub digest: String,
}

/// Builds `recipe` and pushes it; `mirrors` (`registry=host,…`) maps registries that
/// stand for loopback ones. A file whose final stage has no image (scratch, an
/// unresolved variable) cannot be built here.
pub async fn build(recipe: &Recipe, mirrors: &str) -> Result<Built> {
    let platform = recipe
        .platform
        .clone()
        .unwrap_or_else(|| "linux/amd64".to_owned());
    let options = Options {
        build_args: recipe.build_args.clone(),
        platform: Some(platform.clone()),
        build_platform: Some("linux/amd64".to_owned()),
    };
    let extraction = extract(&recipe.dockerfile, &options);
    if let Some(error) = extraction.errors.first() {
        bail!("Dockerfile line {}: {}", error.line, error.message);
    }
    let base = bases(&recipe.dockerfile, &extraction, recipe.target.as_deref())
        .into_iter()
        .find(|b| b.kind == EdgeKind::FinalStage)
        .context("the built stage has no base image (scratch or an unresolved variable)")?;
    let reference = extraction
        .occurrences
        .iter()
        .find(|o| o.line == base.line && o.source == Source::From)
        .map(|o| o.reference.clone())
        .context("no FROM occurrence for the final stage")?;
    let from = reference.to_string();
    let name = reference.without_digest().to_string();
    let mut parent =
        Target::parse(&through_mirror(&name, mirrors)).with_context(|| format!("FROM {from}"))?;
    if let Some(digest) = reference.digest() {
        parent.tag = digest.to_string();
    }
    let child = Target::parse(&through_mirror(&recipe.image, mirrors)).context("the image")?;
    let seeder = Seeder::new(&child.base_url())?;
    // The annotation names the base as the Dockerfile does (mirrors are transparent).
    let base_name = if mirrors.is_empty() {
        name
    } else {
        qualified(&name)
    };
    let args: Vec<String> = recipe
        .build_args
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let seed = format!(
        "{} from {from} target {:?} args {}",
        recipe.image,
        recipe.target,
        args.join(" ")
    );
    let Rebuilt {
        base_digest,
        digest,
    } = rebuild_on(&seeder, &child, &parent, &base_name, &platform, &seed).await?;
    Ok(Built {
        from,
        base_digest,
        digest,
    })
}

/// The `strata-test-builder` program for the test or benchmark calling this: beside the
/// calling binary's profile directory (`target/<profile>/`), built with cargo when it is
/// not there yet (a `cargo test -p strata` run; `cargo test --workspace` builds it with
/// the test kit). `STRATA_TEST_BUILDER` overrides.
pub fn program() -> PathBuf {
    static PATH: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(path) = std::env::var_os("STRATA_TEST_BUILDER") {
            return PathBuf::from(path);
        }
        let exe = std::env::current_exe().unwrap_or_default();
        // target/<profile>/deps/<test binary>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = profile_dir.join(format!(
            "strata-test-builder{}",
            std::env::consts::EXE_SUFFIX
        ));
        if !path.exists() {
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let mut cargo = Command::new(env!("CARGO"));
            cargo.args([
                "build",
                "-q",
                "-p",
                "strata-testkit",
                "--bin",
                "strata-test-builder",
            ]);
            if release {
                cargo.arg("--release");
            }
            if let Some(target) = profile_dir.parent() {
                cargo.env("CARGO_TARGET_DIR", target);
            }
            let built = cargo.status().is_ok_and(|s| s.success());
            assert!(built, "building strata-test-builder failed");
        }
        path
    })
    .clone()
}
