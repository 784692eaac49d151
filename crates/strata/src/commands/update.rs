//! `strata update`: rewrite every pin whose tag moved to the tag's current digest, in
//! the working tree or (`--commit`) on a branch per change set, optionally pushed
//! (`--push`) and proposed as a pull request (`--pr`); then cascade rebuilds from each
//! moved base with managed images below it (`--cascade`, default with a `[workspace]`).
//! Exit 0 when done (also when files changed), 1 when `--dry-run` found changes, 2 when
//! anything failed, a rebuild included (the rest is still done).

use std::io::Write;

use anyhow::{Context, Result};

use super::{exit, load_config, print_rewrites, scanned_root};
use crate::cli::UpdateArgs;
use crate::config::Config;
use crate::registry::install_crypto_provider;
use crate::update::cascade::Cascading;
use crate::update::{self, Options, report, table};
use crate::{dirs, rebuild, selection, state};

pub(super) fn run(args: &UpdateArgs, out: &mut dyn Write) -> Result<u8> {
    install_crypto_provider();
    let root = scanned_root(&args.selection.paths);
    let mirrors = &args.registry_mirrors;
    let mut config = load_config(args.config.as_deref(), &root, mirrors, false)?;
    if config.file.is_none() {
        config.workspace.base_dir = root.clone();
    }
    let cascade = cascading(args, &config);
    let options = Options {
        root,
        scan: selection::scan_options(&args.selection),
        dry_run: args.dry_run,
        commit: args.commit || args.push || args.pr.is_some(),
        push: args.push || args.pr.is_some(),
        forge: args.pr,
        repo: args.repo.clone(),
        allow_dirty: args.allow_dirty,
        state: state::state_path(args.state.as_deref()).context("locating the state database")?,
        grouping: config.update.group,
        labels: config.update.labels.clone(),
        auto_merge: args.auto_merge.then(|| args.merge_method.map(Into::into)),
        registry: config.registry.clone(),
        cache_dir: dirs::cache_dir().map(|d| d.join("registry")),
        cascade,
    };
    let results = selection::scan_selection(&args.selection)?;
    let run = update::run(&options, results)?;
    let doc = report::json(&run, args.dry_run);
    let changed = &doc.changed_files;
    print_rewrites(out, args.format, args.dry_run, &doc, changed, table::write)?;
    let s = &doc.summary;
    Ok(
        if s.failed > 0 || s.groups_failed > 0 || s.cascades_failed > 0 {
            exit::ERROR
        } else if args.dry_run && s.updated > 0 {
            exit::FINDINGS
        } else {
            exit::OK
        },
    )
}

/// The cascades to run after the update: `--cascade`/`--no-cascade`, else
/// `[update] cascade`, else whether the config declares `[workspace]` and the update
/// rewrites the working tree. With `--commit`/`--push`/`--pr` the new pins live on a
/// branch that nothing has built yet, so those modes cascade only when asked to.
fn cascading(args: &UpdateArgs, config: &Config) -> Option<Cascading> {
    let in_place = !(args.commit || args.push || args.pr.is_some());
    let on = if args.cascade {
        true
    } else if args.no_cascade {
        false
    } else {
        config
            .update
            .cascade
            .unwrap_or(config.workspace.declared && in_place)
    };
    on.then(|| Cascading {
        workspace: config.workspace.clone(),
        cache_dir: dirs::cache_dir(),
        options: rebuild::Options::default(),
    })
}
