//! `strata pin`: resolve every unpinned tag to its digest and write `name:tag@digest` in
//! place. Exit 0 when everything is pinned, 1 when `--dry-run` found changes, 2 when any
//! lookup or file failed (the rest are still pinned).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};

use super::exit;
use crate::cli::{Format, PinArgs};
use crate::config::{self, Config};
use crate::pin::{self, report};
use crate::registry::install_crypto_provider;
use crate::resolve::{self, LookupOptions, Lookups};
use crate::{dirs, selection};

pub(super) fn run(args: &PinArgs) -> Result<u8> {
    install_crypto_provider();
    let config = load_config(args)?;
    let results = selection::scan_selection(&args.selection)?;
    let needed = pin::needed(&results);
    let json = args.format == Format::Json;
    let (lookups, stats) = if needed.is_empty() {
        (Lookups::default(), Default::default())
    } else {
        let client = resolve::client(
            &config.registry,
            dirs::cache_dir().map(|d| d.join("registry")),
        )?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let options = LookupOptions {
            platforms: json,
            verify: config.registry.verify,
        };
        let lookups = runtime.block_on(resolve::look_up_with(&client, needed, options));
        (lookups, client.stats())
    };
    let opts = selection::scan_options(&args.selection);
    let mut outcomes = pin::decide(results, &lookups, &opts);
    if !args.dry_run {
        pin::write(&mut outcomes);
    }
    let doc = report::json(&outcomes, &lookups, &stats, args.dry_run);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match (args.format, args.dry_run) {
        (Format::Json, _) => {
            serde_json::to_writer_pretty(&mut out, &doc).context("writing JSON")?;
            writeln!(out)?;
        }
        (Format::Table, true) => {
            // The diff alone on stdout (it applies with `git apply`); the report beside it.
            for changed in &doc.changed_files {
                out.write_all(changed.diff.as_deref().unwrap_or_default().as_bytes())?;
            }
            report::write_text(&mut io::stderr().lock(), &doc)?;
        }
        (Format::Table, false) => report::write_text(&mut out, &doc)?,
    }
    out.flush()?;
    Ok(if doc.summary.failed > 0 {
        exit::ERROR
    } else if args.dry_run && doc.summary.files_changed > 0 {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// `--config FILE`, else `strata.toml` in the scanned root; `--registry-mirror` flags
/// override the file's mirrors, and `--verify` turns verification on.
fn load_config(args: &PinArgs) -> Result<Config> {
    let root = scanned_root(&args.selection.paths);
    let mut config = config::load(args.config.as_deref(), &root)?;
    for flag in &args.registry_mirrors {
        let (from, to) =
            config::parse_mirror(flag).map_err(|e| anyhow!("--registry-mirror: {e}"))?;
        config.registry.mirrors.insert(from, to);
    }
    config.registry.verify |= args.verify;
    Ok(config)
}

/// The directory whose `strata.toml` applies: the first path named (its directory, for
/// a file), else the current directory.
fn scanned_root(paths: &[PathBuf]) -> PathBuf {
    match paths.first() {
        None => PathBuf::from("."),
        Some(path) if path.is_dir() => path.clone(),
        Some(path) => match path.parent() {
            Some(parent) if parent != Path::new("") => parent.to_owned(),
            _ => PathBuf::from("."),
        },
    }
}
