//! library stage (knowledge): the RFC 2822 style library format. Paragraphs of
//! `Field: value` lines separated by blank lines; the first paragraph is the global
//! entry. Pure text in, values out.

use super::entry::Entry;
use super::manifest::{Format, Manifest, ManifestError, valid_git_commit, valid_git_fetch};

/// Fields whose `<arch>-` prefixed form overrides the value for one architecture.
const ARCH_FIELDS: &[&str] = &["-GitRepo", "-GitFetch", "-GitCommit", "-Directory", "-File"];

/// One `Field: value` of a paragraph, continuation lines already joined.
#[derive(Debug)]
pub(super) struct Field<'a> {
    pub(super) name: &'a str,
    pub(super) value: String,
}

/// Splits a file into paragraphs of fields. Comment lines (`#` after optional
/// whitespace) vanish entirely, so they never split a paragraph; an indented line
/// continues the previous field.
pub(super) fn paragraphs(text: &str) -> Result<Vec<Vec<Field<'_>>>, ManifestError> {
    let mut paragraphs = Vec::new();
    let mut current: Vec<Field<'_>> = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        if trimmed.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        let bad_line = || ManifestError::BadLine {
            line: index + 1,
            text: line.to_owned(),
        };
        if line.starts_with([' ', '\t']) {
            let field = current.last_mut().ok_or_else(bad_line)?;
            field.value.push('\n');
            field.value.push_str(trimmed);
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(bad_line)?;
        current.push(Field {
            name: name.trim(),
            value: value.trim().to_owned(),
        });
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    Ok(paragraphs)
}

/// A comma-separated list, each item stripped of whitespace; empty items dropped.
pub(super) fn list(value: &str) -> impl Iterator<Item = String> + '_ {
    let items = value
        .split(',')
        .map(|item| item.trim_matches(['\n', '\r', '\t', ' ']));
    items.filter(|item| !item.is_empty()).map(str::to_owned)
}

/// Applies one paragraph on top of `entry` (a copy of the global entry). As in bashbrew,
/// `SharedTags` and `Architectures` replace the inherited value when present, while the
/// other lists add to it.
fn apply(entry: &mut Entry, fields: &[Field<'_>]) {
    let inherited_shared = std::mem::take(&mut entry.shared_tags);
    let inherited_arches = std::mem::take(&mut entry.architectures);
    for field in fields {
        let value = field.value.as_str();
        match field.name {
            "Maintainers" => entry.maintainers.extend(list(value)),
            "Tags" => entry.tags.extend(list(value)),
            "SharedTags" => entry.shared_tags.extend(list(value)),
            "Architectures" => entry.architectures.extend(list(value)),
            "Constraints" => entry.constraints.extend(list(value)),
            "GitRepo" => entry.git_repo = value.to_owned(),
            "GitFetch" => entry.git_fetch = value.to_owned(),
            "GitCommit" => entry.git_commit = value.to_owned(),
            "Directory" => entry.directory = value.to_owned(),
            "File" => entry.file = value.to_owned(),
            "Builder" => entry.builder = value.to_owned(),
            name if ARCH_FIELDS.iter().any(|suffix| name.ends_with(suffix)) => {
                entry.arch_values.insert(name.to_owned(), value.to_owned());
            }
            // Unknown fields are carried by bashbrew's paragraph but never used.
            _ => {}
        }
    }
    if entry.shared_tags.is_empty() {
        entry.shared_tags = inherited_shared;
    }
    if entry.architectures.is_empty() {
        entry.architectures = inherited_arches;
    }
    entry.normalise_architectures();
}

/// Parses an RFC 2822 style library file with bashbrew's checks.
pub(super) fn parse(text: &str) -> Result<Manifest, ManifestError> {
    let paragraphs = paragraphs(text)?;
    let mut paragraphs = paragraphs.iter();
    let mut global = Entry::bashbrew_default();
    if let Some(first) = paragraphs.next() {
        apply(&mut global, first);
    }
    let mut manifest = Manifest::with_global(Format::Rfc2822, global);
    manifest.check_global()?;
    for fields in paragraphs {
        let mut entry = manifest.global().clone();
        apply(&mut entry, fields);
        if !valid_git_fetch(&entry.git_fetch) {
            let (tags, value) = (entry.tags_string(), entry.git_fetch);
            return Err(ManifestError::InvalidGitFetch { tags, value });
        }
        if !valid_git_commit(&entry.git_commit) {
            let (tags, value) = (entry.tags_string(), entry.git_commit);
            return Err(ManifestError::InvalidGitCommit { tags, value });
        }
        manifest.add_entry(entry)?;
    }
    Ok(manifest)
}
