//! `strata init`: propose a commented `strata.toml` for a repository or a folder of
//! repositories and write it (never over an existing file without `--force`), or print
//! it (`--dry-run`: exit 1 when it would write one).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::exit;
use crate::apply::{FileWrite, write_files};
use crate::cli::InitArgs;
use crate::config::{self, FILE_NAME};
use crate::init;

pub(super) fn run(args: &InitArgs) -> Result<u8> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let output = match (&args.output, paths.as_slice()) {
        (Some(file), _) => file.clone(),
        (None, [one]) => one.join(FILE_NAME),
        (None, _) => PathBuf::from(FILE_NAME),
    };
    let config_dir = match output.parent() {
        Some(dir) if dir != Path::new("") => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let proposal = init::propose(&paths, &config_dir)?;
    let text = init::render(&proposal);
    // What is written must load: a proposal strata cannot read back is a bug here.
    config::parse(&text, &output)
        .map_err(|e| anyhow!("the proposed file does not load ({e}):\n{text}"))?;
    let existing = std::fs::read_to_string(&output).ok();
    let summary = format!(
        "{} repositor{}, {} image{}, {} question{} (`# ?`)",
        proposal.repositories.len(),
        if proposal.repositories.len() == 1 {
            "y"
        } else {
            "ies"
        },
        proposal.image_count(),
        if proposal.image_count() == 1 { "" } else { "s" },
        proposal.question_count(),
        if proposal.question_count() == 1 {
            ""
        } else {
            "s"
        },
    );
    if args.dry_run {
        let stdout = io::stdout();
        let mut out = stdout.lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        eprintln!("{}: {summary} (dry run, nothing written)", output.display());
        return Ok(if existing.as_deref() == Some(text.as_str()) {
            exit::OK
        } else {
            exit::FINDINGS
        });
    }
    match existing {
        Some(_) if !args.force => bail!(
            "{} already exists; not overwritten (--force replaces it, --dry-run prints the proposal)",
            output.display()
        ),
        Some(old) => {
            let write = FileWrite {
                path: &output,
                old: &old,
                new: &text,
            };
            for result in write_files(&[write]) {
                result?;
            }
        }
        None => {
            if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&output)
                .with_context(|| format!("creating {}", output.display()))?;
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", output.display()))?;
        }
    }
    eprintln!("wrote {}: {summary}", output.display());
    Ok(exit::OK)
}
