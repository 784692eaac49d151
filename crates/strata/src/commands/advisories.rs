//! `strata advisories fetch [ECOSYSTEM]…`: download the OSV exports `strata diff` and
//! pull request bodies match against, into the advisory directory. The only part of
//! advisory matching that needs the network; exit 2 if any download failed (the others
//! are still kept).

use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use super::exit;
use crate::cli::{AdvisoriesArgs, AdvisoriesCommand};
use crate::diff::advisories;
use crate::diff::refresh::{self, DEFAULT_ECOSYSTEMS};
use crate::registry::install_crypto_provider;

pub(super) fn run(args: &AdvisoriesArgs) -> Result<u8> {
    let AdvisoriesCommand::Fetch(args) = &args.command;
    install_crypto_provider();
    let dir = match args.into.clone().or_else(|| advisories::location(None)) {
        Some(dir) => dir,
        None => crate::dirs::cache_dir()
            .map(|d| d.join("advisories"))
            .ok_or_else(|| anyhow!("no cache directory: pass --into DIR"))?,
    };
    let ecosystems: Vec<String> = if args.ecosystems.is_empty() {
        DEFAULT_ECOSYSTEMS.iter().map(|e| (*e).to_owned()).collect()
    } else {
        args.ecosystems.clone()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let http = reqwest::Client::builder()
        .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let mut failed = 0;
    for ecosystem in &ecosystems {
        match runtime.block_on(refresh::fetch(&http, &args.url, ecosystem, &dir)) {
            Ok(done) => println!(
                "{}: {} records, {} bytes -> {}",
                done.ecosystem,
                done.records,
                done.bytes,
                done.path.display()
            ),
            Err(err) => {
                failed += 1;
                eprintln!("error: {ecosystem}: {err:#}");
            }
        }
    }
    Ok(if failed > 0 { exit::ERROR } else { exit::OK })
}
