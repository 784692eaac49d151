//! act stage, `pins = "in-place"`: the new pins written to the repository's working tree,
//! where a local command trigger (`make publish`, `docker build .`) reads them. Files are
//! replaced atomically, keeping mode, line endings and BOM; nothing else in them changes.
//! No git: uncommitted changes stay uncommitted.

use std::path::Path;

use super::{Move, moved, rewrite};
use crate::discover::{Filters, discover};
use crate::scan::{ScanOptions, scan};

/// Rewrites every pin of `moves` under `dir`. `Some` line: what was written; `None`: the
/// working tree already had the new pins.
pub(super) fn write(
    dir: &Path,
    moves: &[Move],
    opts: &ScanOptions,
) -> Result<Option<String>, String> {
    let (files, _walk_errors) = discover(&[dir.to_path_buf()], &Filters::default())
        .map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let mut rewritten = rewrite(scan(&files, opts), moves, opts)?;
    if rewritten.places.is_empty() {
        return Ok(None);
    }
    crate::outcome::write(&mut rewritten.outcomes);
    let unwritten: Vec<String> = rewritten
        .outcomes
        .iter()
        .filter(|o| o.changed() && !o.written)
        .map(|o| {
            let why: Vec<&str> = o.errors.iter().map(|e| e.message.as_str()).collect();
            format!("{}: {}", o.file.display, why.join("; "))
        })
        .collect();
    if !unwritten.is_empty() {
        return Err(format!(
            "writing the new pins in {}: {}",
            dir.display(),
            unwritten.join(", ")
        ));
    }
    Ok(Some(format!(
        "pinned {} in place ({})",
        moved(moves),
        rewritten.places.join(", ")
    )))
}
