//! `strata diff OLD NEW`: compare two images per platform — config, layers, OS packages,
//! advisories fixed and introduced, and why it moved — as a table, Markdown or JSON.
//! Exit 0 when the images are the same (and everything could be read), 1 when they
//! differ or the result is partial, 2 on errors.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use strata_core::imagediff;
use strata_core::reference::{Digest, Reference};

use super::{exit, load_config};
use crate::cli::{DiffArgs, DiffFormat};
use crate::diff::{self, Options, advisories};
use crate::registry::install_crypto_provider;
use crate::state::{self, State};
use crate::{dirs, resolve};

pub(super) fn run(args: &DiffArgs) -> Result<u8> {
    install_crypto_provider();
    let old =
        Reference::parse_normalized(&args.old).map_err(|e| anyhow!("OLD {:?}: {e}", args.old))?;
    let new = second(&old, &args.new)?;
    let config = load_config(
        args.config.as_deref(),
        Path::new("."),
        &args.registry_mirrors,
        false,
    )?;
    let options = Options {
        platforms: args.platforms.clone(),
        advisories: advisories::location(args.advisories.as_deref()),
        official_images: args.official_images.clone(),
        parallel: None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = runtime.block_on(async {
        let client = resolve::client(
            &config.registry,
            dirs::cache_dir().map(|d| d.join("registry")),
        )?;
        let state = open_state(args.state.as_deref()).await;
        let report = diff::diff(&client, &old, &new, &options, state.as_ref()).await;
        if let Some(state) = state {
            state.close().await;
        }
        report
    })?;
    let mut out = std::io::stdout().lock();
    match args.format {
        DiffFormat::Table => out.write_all(imagediff::table(&report).as_bytes())?,
        DiffFormat::Markdown => {
            let md = imagediff::markdown(&report, usize::MAX);
            out.write_all(md.summary.as_bytes())?;
            out.write_all(md.details.as_bytes())?;
        }
        DiffFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report).context("writing JSON")?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if report.unchanged() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

/// NEW as written, or OLD's repository at a digest (`@sha256:…` or `sha256:…`).
fn second(old: &Reference, text: &str) -> Result<Reference> {
    let bare = text.strip_prefix('@').unwrap_or(text);
    if bare.starts_with("sha256:") {
        let digest: Digest = bare.parse().map_err(|e| anyhow!("NEW {text:?}: {e}"))?;
        let name = format!("{}/{}@{digest}", old.domain(), old.path());
        return Reference::parse_normalized(&name).map_err(|e| anyhow!("NEW {text:?}: {e}"));
    }
    Reference::parse_normalized(text).map_err(|e| anyhow!("NEW {text:?}: {e}"))
}

/// The state database, when named or already present (a diff never creates one).
async fn open_state(flag: Option<&Path>) -> Option<State> {
    let path = state::state_path(flag).ok()?;
    if flag.is_none() && !path.exists() {
        return None;
    }
    State::open(&path).await.ok()
}
