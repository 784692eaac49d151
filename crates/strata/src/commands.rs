//! One module per verb, each thin: turn arguments into options, call the pipeline, print.

mod advisories;
mod cascade;
mod check;
mod completions;
mod diff;
mod graph;
mod init;
mod man;
mod official_images;
mod pin;
mod scan;
mod serve;
mod strata_toml;
mod update;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use crate::cli::{Cli, Command, Format};
use crate::config::{self, Config};
use crate::output;
use crate::pin::report::ChangedJson;

/// Exit codes shared by every verb.
pub mod exit {
    /// Nothing to report.
    pub const OK: u8 = 0;
    /// Findings (check failed, updates pending).
    pub const FINDINGS: u8 = 1;
    /// An error (bad input, a failed lookup).
    pub const ERROR: u8 = 2;
}

/// Runs a parsed command line; returns the exit code. Every verb writes its report
/// through one buffered standard output, flushed when the verb ends, also when it fails
/// (what was written before the error still reaches the reader).
pub fn run(cli: Cli) -> Result<u8> {
    let mut out = output::stdout();
    let result = run_verb(cli.command, &mut out);
    let flushed = out.flush().context("writing to standard output");
    let code = result?;
    flushed?;
    Ok(code)
}

fn run_verb(command: Command, out: &mut dyn Write) -> Result<u8> {
    match command {
        Command::Scan(args) => scan::run(&args, out),
        Command::Pin(args) => pin::run(&args, out),
        Command::Update(args) => update::run(&args, out),
        Command::OfficialImages(args) => official_images::run(&args, out),
        Command::Check(args) => check::run(&args, out),
        Command::Graph(args) => graph::run(&args, out),
        Command::Cascade(args) => cascade::run(&args, out),
        Command::Serve(args) => serve::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Advisories(args) => advisories::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Config(args) => strata_toml::run(&args),
        Command::Completions(args) => completions::run(&args),
        Command::Man(args) => man::run(&args),
    }
}

/// The directory whose `strata.toml` (and git repository) apply and that paths are shown
/// relative to: the first path named (its directory, for a file), else the current
/// directory.
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

/// `--config FILE`, else `strata.toml` in the scanned root; `--registry-mirror` flags
/// override the file's mirrors, and `verify` (`--verify`) turns verification on.
fn load_config(
    file: Option<&Path>,
    root: &Path,
    mirrors: &[String],
    verify: bool,
) -> Result<Config> {
    let mut config = config::load(file, root)?;
    for flag in mirrors {
        let (from, to) =
            config::parse_mirror(flag).map_err(|e| anyhow!("--registry-mirror: {e}"))?;
        config.registry.mirrors.insert(from, to);
    }
    config.registry.verify |= verify;
    Ok(config)
}

/// Prints the report of a verb that rewrites files: JSON, or the table; for a table dry
/// run the diff alone on stdout (it applies with `git apply`) and the report beside it.
fn print_rewrites<T: Serialize>(
    out: &mut dyn Write,
    format: Format,
    dry_run: bool,
    doc: &T,
    changed: &[ChangedJson],
    write_text: fn(&mut dyn Write, &T) -> io::Result<()>,
) -> Result<()> {
    match (format, dry_run) {
        (Format::Json, _) => {
            serde_json::to_writer_pretty(&mut *out, doc).context("writing JSON")?;
            writeln!(out)?;
        }
        (Format::Table, true) => {
            for file in changed {
                out.write_all(file.diff.as_deref().unwrap_or_default().as_bytes())?;
            }
            write_text(&mut io::stderr().lock(), doc)?;
        }
        (Format::Table, false) => write_text(out, doc)?,
    }
    Ok(())
}
