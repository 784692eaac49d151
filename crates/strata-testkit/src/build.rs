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
