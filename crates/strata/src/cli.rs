//! The command line, parsed without side effects: clap definitions only. Each verb's
//! arguments turn into options in `commands::<verb>`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Keep container images on fresh, pinned base images.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find every image reference in Dockerfiles, compose files, Kubernetes manifests and
    /// GitHub Actions workflows.
    Scan(ScanArgs),
    /// Pin every image tag to the digest it points at now, in place
    /// (`python:3.12` -> `python:3.12@sha256:…`).
    Pin(PinArgs),
    /// Docker Official Images knowledge: build the removed-tags index from a
    /// docker-library/official-images checkout.
    OfficialImages(OfficialImagesArgs),
}

/// Output formats shared by the verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// What every verb that reads a repository takes.
#[derive(Debug, Args)]
pub struct Selection {
    /// Files or directories to scan (default: the current directory). A file named here
    /// is scanned whatever its name.
    pub paths: Vec<PathBuf>,
    /// Set a build argument (only applies to ARGs the Dockerfile declares).
    #[arg(long = "build-arg", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub build_args: Vec<(String, String)>,
    /// Target platform, as for `docker build --platform` (sets TARGETPLATFORM, TARGETOS, …).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Also scan files matching this glob (relative to the scanned root), whatever their name.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files matching this glob (relative to the scanned root).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PinArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Print the changes as a unified diff and write nothing (exit 1 when something would
    /// change).
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Read settings from this file instead of strata.toml in the scanned directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Look REGISTRY's tags up on HOST instead, a mirror serving the same content (the
    /// references written are unchanged). Repeatable; overrides strata.toml.
    #[arg(long = "registry-mirror", value_name = "REGISTRY=HOST")]
    pub registry_mirrors: Vec<String>,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

#[derive(Debug, Args)]
pub struct OfficialImagesArgs {
    #[command(subcommand)]
    pub command: OfficialImagesCommand,
}

#[derive(Debug, Subcommand)]
pub enum OfficialImagesCommand {
    /// Walk the mainline history of every `library/<image>` file and write the removed-tags
    /// index (when each tag appeared and when it was dropped).
    Index(OfficialImagesIndexArgs),
}

#[derive(Debug, Args)]
pub struct OfficialImagesIndexArgs {
    /// A git checkout of docker-library/official-images.
    pub checkout: PathBuf,
    /// Write the index here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only index this image (repeatable; default: every library file the history has).
    #[arg(long = "image", value_name = "NAME")]
    pub images: Vec<String>,
}
