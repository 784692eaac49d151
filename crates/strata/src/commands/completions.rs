//! `strata completions SHELL`: the shell's completion script, generated from the clap
//! definitions (`clap_complete`), on standard output.

use std::io;

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::{Shell as Target, generate};

use super::exit;
use crate::cli::{Cli, CompletionsArgs, Shell};

pub(super) fn run(args: &CompletionsArgs) -> Result<u8> {
    let target = match args.shell {
        Shell::Bash => Target::Bash,
        Shell::Zsh => Target::Zsh,
        Shell::Fish => Target::Fish,
        Shell::Powershell => Target::PowerShell,
        Shell::Elvish => Target::Elvish,
    };
    let mut command = Cli::command();
    generate(target, &mut command, "strata", &mut io::stdout());
    Ok(exit::OK)
}
