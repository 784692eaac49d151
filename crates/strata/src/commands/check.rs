//! `strata check`: scan, check (registries and state unless `--offline`), print the
//! findings in the chosen format, optionally publish a GitHub check run. Exit 0 clean,
//! 1 with error findings, 2 when something could not be checked (errors win).

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{exit, load_config, scanned_root};
use crate::check::{self, Options, Report};
use crate::cli::{CheckArgs, CheckFormat};
use crate::config::Config;
use crate::forge::{ForgeConfig, ForgeKind, GitHub};
use crate::registry::install_crypto_provider;
use crate::report::{github, json, markdown, sarif, table};
use crate::selection;

pub(super) fn run(args: &CheckArgs, out: &mut dyn Write) -> Result<u8> {
    install_crypto_provider();
    let root = scanned_root(&args.selection.paths);
    let mirrors = &args.registry_mirrors;
    let config = load_config(args.config.as_deref(), &root, mirrors, args.verify)?;
    let results = selection::scan_selection(&args.selection)?;
    let options = Options {
        offline: args.offline,
        official_images: args
            .official_images
            .clone()
            .or_else(|| config.check.official_images.clone()),
        registry: config.registry.clone(),
        state: args.state.clone(),
        root: root.clone(),
        policy: config.check.policy.clone(),
    };
    let report = check::run(&results, &options)?;
    write(
        out,
        &mut io::stderr().lock(),
        args.format,
        &report,
        &options,
        &root,
    )?;
    for (format, file) in &args.outputs {
        let mut buffer = Vec::new();
        write(
            &mut buffer,
            &mut io::sink(),
            *format,
            &report,
            &options,
            &root,
        )?;
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(file, buffer).with_context(|| format!("writing {}", file.display()))?;
    }
    let mut code = report.exit_code();
    if publish_wanted(args, &config)
        && let Err(err) = publish(args, &report)
    {
        eprintln!("error: publishing the check run: {err:#}");
        code = exit::ERROR;
    }
    Ok(code)
}

/// The report in `format` (a table's problems go to `err`).
fn write(
    out: &mut dyn Write,
    err: &mut dyn Write,
    format: CheckFormat,
    report: &Report,
    options: &Options,
    root: &Path,
) -> Result<()> {
    match format {
        CheckFormat::Table => {
            table::write_table_report(out, err, report)?;
        }
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &json::check_json(report))
                .context("writing JSON")?;
            writeln!(out)?;
        }
        CheckFormat::Sarif => {
            let log = sarif::sarif(report, &options.policy, Some(root));
            serde_json::to_writer_pretty(&mut *out, &log).context("writing SARIF")?;
            writeln!(out)?;
        }
        CheckFormat::Github => github::write_annotations(out, report)?,
        CheckFormat::Markdown => markdown::write_summary(out, report)?,
    }
    Ok(())
}

/// `--github-check-run`, or `github_check_run = true` when running in GitHub Actions
/// (never offline: publishing is a network request).
fn publish_wanted(args: &CheckArgs, config: &Config) -> bool {
    if args.github_check_run {
        return true;
    }
    if !config.check.github_check_run {
        return false;
    }
    if args.offline {
        eprintln!("note: not publishing a check run with --offline");
        return false;
    }
    let in_actions = args.github_repository.is_some() && args.github_sha.is_some();
    if !in_actions {
        eprintln!("note: not publishing a check run: GITHUB_REPOSITORY and GITHUB_SHA unset");
    }
    in_actions
}

fn publish(args: &CheckArgs, report: &Report) -> Result<()> {
    let (Some(repo), Some(sha)) = (&args.github_repository, &args.github_sha) else {
        bail!(
            "a check run needs --github-repository and --github-sha (or GITHUB_REPOSITORY and GITHUB_SHA)"
        );
    };
    let forge = GitHub::new(ForgeConfig::from_environment(ForgeKind::GitHub)?)?;
    let run = github::check_run(report);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let created = runtime.block_on(forge.create_check_run(repo, sha, &run))?;
    eprintln!("published check run {}", created.url);
    Ok(())
}
