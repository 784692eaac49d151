//! `strata official-images index <CHECKOUT>`: walk an official-images checkout's git
//! history once and write the removed-tags index that `unsupported-tag` checks read.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{Context, Result};

use super::exit;
use crate::cli::{OfficialImagesArgs, OfficialImagesCommand, OfficialImagesIndexArgs};
use crate::official_images::{walk_history, write_history};

pub(super) fn run(args: &OfficialImagesArgs, out: &mut dyn Write) -> Result<u8> {
    match &args.command {
        OfficialImagesCommand::Index(index) => run_index(index, out),
    }
}

fn run_index(args: &OfficialImagesIndexArgs, stdout: &mut dyn Write) -> Result<u8> {
    let history = walk_history(&args.checkout, &args.images)
        .with_context(|| format!("indexing {}", args.checkout.display()))?;
    match &args.output {
        Some(path) if path.as_os_str() != "-" => {
            let file =
                File::create(path).with_context(|| format!("creating {}", path.display()))?;
            let mut out = BufWriter::new(file);
            write_history(&history, &mut out)?;
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
        }
        _ => write_history(&history, stdout).context("writing the index")?,
    }
    let images = history.images().count();
    let removed: usize = history
        .file()
        .images
        .values()
        .map(|i| i.removed_tags.len())
        .sum();
    eprintln!("indexed {images} images, {removed} removed tags");
    Ok(exit::OK)
}
