//! `strata man [DIR]`: manual pages generated from the clap definitions
//! (`clap_mangen`): `strata.1` and one page per verb (`strata-scan.1`, …) written into
//! DIR, or `strata.1` alone on standard output.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_mangen::Man;

use super::exit;
use crate::cli::{Cli, ManArgs};

pub(super) fn run(args: &ManArgs) -> Result<u8> {
    let command = Cli::command();
    let Some(dir) = &args.dir else {
        let mut out = io::stdout().lock();
        Man::new(command)
            .render(&mut out)
            .context("writing the manual page")?;
        out.flush()?;
        return Ok(exit::OK);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_page(dir, "strata", command.clone())?;
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("strata-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(name.clone());
        write_page(dir, &name, page)?;
    }
    Ok(exit::OK)
}

fn write_page(dir: &Path, name: &str, command: clap::Command) -> Result<()> {
    let mut buffer = Vec::new();
    Man::new(command)
        .render(&mut buffer)
        .with_context(|| format!("rendering {name}.1"))?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, buffer).with_context(|| format!("writing {}", path.display()))
}
