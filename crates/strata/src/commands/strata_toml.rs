//! `strata config check [FILE]` and `strata config schema`: validate a strata.toml with
//! the error placed at its file, line and column (the line shown, the column marked);
//! print the JSON Schema editors use. Exit 0 valid, 2 invalid.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::{Result, bail};

use super::exit;
use crate::cli::{ConfigArgs, ConfigCheckArgs, ConfigCommand};
use crate::config::{self, ConfigError, schema};

pub(super) fn run(args: &ConfigArgs) -> Result<u8> {
    match &args.command {
        ConfigCommand::Check(check) => run_check(check),
        ConfigCommand::Schema => {
            let mut out = io::stdout().lock();
            out.write_all(schema::text().as_bytes())?;
            out.flush()?;
            Ok(exit::OK)
        }
    }
}

fn run_check(args: &ConfigCheckArgs) -> Result<u8> {
    let file = match &args.file {
        Some(file) => file.clone(),
        None => match config::find(&PathBuf::from(".")) {
            Some(found) => found,
            None => bail!("no {} here or in a directory above", config::FILE_NAME),
        },
    };
    match config::load(Some(&file), &PathBuf::from(".")) {
        Ok(config) => {
            let workspace = &config.workspace;
            let mut out = io::stdout().lock();
            if workspace.declared {
                writeln!(
                    out,
                    "{}: ok ({} repositor{}, {} image entr{})",
                    file.display(),
                    workspace.repositories.len(),
                    if workspace.repositories.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    },
                    workspace.images.len(),
                    if workspace.images.len() == 1 {
                        "y"
                    } else {
                        "ies"
                    },
                )?;
            } else {
                writeln!(out, "{}: ok", file.display())?;
            }
            Ok(exit::OK)
        }
        Err(error) => {
            let mut err = io::stderr().lock();
            writeln!(err, "error: {error}")?;
            write_snippet(&mut err, &error)?;
            Ok(exit::ERROR)
        }
    }
}

/// The line the error is on, with its column marked.
fn write_snippet(out: &mut dyn Write, error: &ConfigError) -> io::Result<()> {
    let Some(at) = error.at else { return Ok(()) };
    let Ok(text) = std::fs::read_to_string(&error.file) else {
        return Ok(());
    };
    let Some(line) = text.lines().nth(at.line.saturating_sub(1)) else {
        return Ok(());
    };
    let number = at.line.to_string();
    let pad = " ".repeat(number.len());
    writeln!(out, "{pad} --> {}:{at}", error.file.display())?;
    writeln!(out, "{pad} |")?;
    writeln!(out, "{number} | {line}")?;
    let indent: String = line
        .chars()
        .take(at.column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    writeln!(out, "{pad} | {indent}^")
}
