//! The command line of the verbs that set strata up in a repository — `init`, `config`,
//! `completions`, `man` — as clap definitions only.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// A repository, or a folder whose subfolders are git repositories (default: the
    /// current directory). Several paths: one repository each.
    pub paths: Vec<PathBuf>,
    /// Print the proposed strata.toml and write nothing (exit 1 when it would write one).
    #[arg(long)]
    pub dry_run: bool,
    /// Replace an existing strata.toml.
    #[arg(long)]
    pub force: bool,
    /// Where to write (default: strata.toml in the one path given, else in the current
    /// directory).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a strata.toml: every error with file, line and column, and the nearest
    /// known key for an unknown one (exit 2 when invalid).
    Check(ConfigCheckArgs),
    /// Print the JSON Schema of strata.toml (the one in docs/strata.schema.json).
    Schema,
}

#[derive(Debug, Args)]
pub struct ConfigCheckArgs {
    /// The file (default: the strata.toml that governs the current directory).
    pub file: Option<PathBuf>,
}

/// Shells `strata completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write strata.1 and one page per verb (strata-scan.1, …) into this directory
    /// (default: print strata.1 to standard output).
    pub dir: Option<PathBuf>,
}
