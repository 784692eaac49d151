//! One module per verb, each thin: turn arguments into options, call the pipeline, print.

mod cascade;
mod check;
mod graph;
mod official_images;
mod pin;
mod scan;
mod update;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Exit codes shared by every verb.
pub mod exit {
    /// Nothing to report.
    pub const OK: u8 = 0;
    /// Findings (check failed, updates pending).
    pub const FINDINGS: u8 = 1;
    /// An error (bad input, a failed lookup).
    pub const ERROR: u8 = 2;
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Pin(args) => pin::run(&args),
        Command::Update(args) => update::run(&args),
        Command::OfficialImages(args) => official_images::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Graph(args) => graph::run(&args),
        Command::Cascade(args) => cascade::run(&args),
    }
}
