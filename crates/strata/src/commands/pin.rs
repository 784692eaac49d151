//! `strata pin`: resolve every unpinned tag to its digest and write `name:tag@digest` in
//! place. Exit 0 when everything is pinned, 1 when `--dry-run` found changes, 2 when any
//! lookup or file failed (the rest are still pinned).

use std::io::Write;

use anyhow::{Context, Result};

use super::{exit, load_config, print_rewrites, scanned_root};
use crate::cli::{Format, PinArgs};
use crate::outcome;
use crate::pin::{self, report};
use crate::registry::install_crypto_provider;
use crate::resolve::{self, LookupOptions, Lookups};
use crate::{dirs, selection};

pub(super) fn run(args: &PinArgs, out: &mut dyn Write) -> Result<u8> {
    install_crypto_provider();
    let root = scanned_root(&args.selection.paths);
    let mirrors = &args.registry_mirrors;
    let config = load_config(args.config.as_deref(), &root, mirrors, args.verify)?;
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
        outcome::write(&mut outcomes);
    }
    let doc = report::json(&outcomes, &lookups, &stats, args.dry_run);
    let changed = &doc.changed_files;
    print_rewrites(
        out,
        args.format,
        args.dry_run,
        &doc,
        changed,
        report::write_text,
    )?;
    Ok(if doc.summary.failed > 0 {
        exit::ERROR
    } else if args.dry_run && doc.summary.files_changed > 0 {
        exit::FINDINGS
    } else {
        exit::OK
    })
}
