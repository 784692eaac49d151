//! act stage, build arguments: an image whose base comes from a build argument set in
//! `strata.toml` (`build_args = { BASE = "org/base:1@sha256:…" }`) has its pin there,
//! not in a file of its repository. The value is rewritten in `strata.toml` — a splice
//! of the digest at the value's exact bytes, found by reading the file again, written
//! atomically — and the trigger is told the new value.

use std::collections::BTreeMap;

use strata_core::graph::ImageRef;
use strata_core::reference::Reference;

use super::{Delivered, Move, moved};
use crate::apply::{FileWrite, write_files};
use crate::hierarchy::Build;

/// The image's build arguments by name (as its trigger is told them).
pub(super) fn values(build: &Build) -> BTreeMap<String, String> {
    build
        .how
        .build_args
        .iter()
        .map(|(name, arg)| (name.clone(), arg.value.clone()))
        .collect()
}

/// Rewrites the pins `moves` reach among `image`'s build arguments in `strata.toml`, and
/// puts the new values in `delivered`. `Some` line: what was rewritten.
pub(super) fn rewrite(
    build: &Build,
    image: &ImageRef,
    moves: &[Move],
    delivered: &mut Delivered,
) -> Result<Option<String>, String> {
    let stale: Vec<(&String, &Move)> = build
        .how
        .build_args
        .iter()
        .filter_map(|(name, arg)| {
            let reference = Reference::parse_normalized(&arg.value).ok()?;
            let mv = moves.iter().find(|m| m.pins(&reference))?;
            (reference.digest() != Some(&mv.to)).then_some((name, mv))
        })
        .collect();
    if stale.is_empty() {
        return Ok(None);
    }
    let Some(file) = &build.config_file else {
        return Ok(None);
    };
    // Read again: another image may have rewritten the file since it was loaded.
    let text =
        std::fs::read_to_string(file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    let config = crate::config::parse(&text, file).map_err(|e| e.to_string())?;
    let Some(spec) = config.workspace.images.iter().find(|i| &i.image == image) else {
        // The arguments came from elsewhere (a compose file): not strata.toml's to change.
        return Ok(None);
    };
    let mut new = text.clone();
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut names = Vec::new();
    for (name, mv) in stale {
        let Some(arg) = spec.build_args.get(name) else {
            continue;
        };
        let current = Reference::parse_normalized(&arg.value)
            .map_err(|e| format!("{}: build argument {name}: {e}", file.display()))?;
        let value = match current.digest() {
            Some(digest) if digest == &mv.to => arg.value.clone(),
            Some(digest) => arg
                .value
                .strip_suffix(digest.as_str())
                .map(|head| format!("{head}{}", mv.to))
                .ok_or_else(|| {
                    format!(
                        "{}: build argument {name} of {}: cannot find its digest in {:?}",
                        file.display(),
                        image.familiar(),
                        arg.value
                    )
                })?,
            None => continue,
        };
        if value != arg.value {
            let span = arg.span.clone().ok_or_else(|| {
                format!(
                    "{}: build argument {name} of {} pins {} but is written in a form strata \
                     cannot rewrite (escapes or a multi-line string): write it as one plain \
                     quoted string",
                    file.display(),
                    image.familiar(),
                    mv.base.familiar()
                )
            })?;
            edits.push((span, value.clone()));
            names.push(name.clone());
        }
        delivered.build_args.insert(name.clone(), value);
    }
    if edits.is_empty() {
        return Ok(None);
    }
    // Back to front, so earlier spans stay valid.
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.0.start));
    for (span, value) in &edits {
        new.replace_range(span.clone(), value);
    }
    let written = write_files(&[FileWrite {
        path: file,
        old: &text,
        new: &new,
    }]);
    if let Some(Err(e)) = written.into_iter().next() {
        return Err(format!("writing {}: {e:#}", file.display()));
    }
    Ok(Some(format!(
        "build argument{} {} pinned to {} in {}",
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        moved(moves),
        file.display()
    )))
}
