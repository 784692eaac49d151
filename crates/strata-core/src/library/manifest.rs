//! library stage (knowledge): one Docker Official Images library file as bashbrew reads
//! it: a global entry of defaults plus one entry per build, with bashbrew's validation,
//! duplicate-entry merging and canonical re-serialisation. Pure text in, values out.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::entry::{Entry, MAINTAINERS_FORMAT};
use super::line_based;
use super::rfc2822;

/// Why a library file is not a valid manifest. The messages keep bashbrew's wording
/// (including its capitalised field names) so they can be searched for upstream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// A line is neither `Field: value`, an indented continuation, a comment nor blank.
    #[error("Bad line: {text:?} (line {line} has no ':')")]
    BadLine { line: usize, text: String },
    /// The global entry names no maintainer.
    #[error("missing Maintainers")]
    MissingMaintainers,
    /// A global maintainer does not match [`MAINTAINERS_FORMAT`].
    #[error("invalid Maintainers: {:?} (expected format {MAINTAINERS_FORMAT:?})", invalid.join(", "))]
    InvalidMaintainers { invalid: Vec<String> },
    /// `Tags:` in the global entry.
    #[error("global Tags not permitted")]
    GlobalTags,
    /// The global `Architectures:` names an unknown architecture.
    #[error("invalid global Architectures: {:?}", invalid.join(", "))]
    InvalidGlobalArchitectures { invalid: Vec<String> },
    /// An entry without `Tags:`.
    #[error("missing Tags")]
    MissingTags,
    /// An entry that, after inheriting the global values, still lacks a git field.
    #[error("Tags {tags:?} missing one of GitRepo, GitFetch, or GitCommit")]
    MissingGitFields { tags: String },
    /// `GitFetch:` is not `refs/heads/...` or `refs/tags/...`.
    #[error(
        "Tags {tags:?} has invalid GitFetch (must be \"refs/heads/...\" or \"refs/tags/...\"): {value:?}"
    )]
    InvalidGitFetch { tags: String, value: String },
    /// `GitCommit:` is not a hexadecimal commit id.
    #[error("Tags {tags:?} has invalid GitCommit (must be a commit, not a tag or ref): {value:?}")]
    InvalidGitCommit { tags: String, value: String },
    /// An entry-level maintainer does not match [`MAINTAINERS_FORMAT`].
    #[error(
        "Tags {tags:?} has invalid Maintainers: {:?} (expected format {MAINTAINERS_FORMAT:?})",
        invalid.join(", ")
    )]
    InvalidEntryMaintainers { tags: String, invalid: Vec<String> },
    /// An entry's `Architectures:` names an unknown architecture.
    #[error("Tags {tags:?} has invalid Architectures: {:?}", invalid.join(", "))]
    InvalidArchitectures { tags: String, invalid: Vec<String> },
    /// The same tag twice in one file (in `Tags:`, or in `Tags:` and `SharedTags:`).
    #[error("Tags {tags:?} includes duplicate tag: {tag:?}")]
    DuplicateTag { tags: String, tag: String },
    /// A tag of this entry is already a shared tag of an earlier entry.
    #[error("Tags {tags:?} includes tag conflicting with a shared tag: {tag:?}")]
    TagConflictsWithSharedTag { tags: String, tag: String },
    /// A shared tag of this entry is already a tag of an earlier entry.
    #[error("Tags {tags:?} includes conflicting shared tag: {tag:?}")]
    SharedTagConflictsWithTag { tags: String, tag: String },
    /// A line-based manifest line without the `tag:` separator.
    #[error("manifest line missing ':': {line:?}")]
    LineMissingColon { line: String },
    /// A line-based manifest line without the `url@commit` separator.
    #[error("manifest line missing '@': {line:?}")]
    LineMissingAt { line: String },
}

/// Which of bashbrew's two syntaxes a library file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Format {
    /// The pre-2015 format: `tag: git-url@commit [directory]`, one tag per line.
    #[serde(rename = "line-based")]
    LineBased,
    /// RFC 2822 style paragraphs (`Tags:`, `GitCommit:`, ...), the current format.
    #[serde(rename = "rfc2822")]
    Rfc2822,
}

impl Format {
    /// The name used in the removed-tags index (`line-based`, `rfc2822`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::LineBased => "line-based",
            Format::Rfc2822 => "rfc2822",
        }
    }
}

/// Where a listed tag lives: the first entry naming it, and whether only as a shared tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Listing {
    entry: usize,
    shared: bool,
}

/// A parsed library file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    format: Format,
    global: Entry,
    entries: Vec<Entry>,
    listed: HashMap<String, Listing>,
}

/// Shared tags that point at the same set of entries (one manifest list per group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedTagGroup<'a> {
    pub shared_tags: Vec<&'a str>,
    pub entries: Vec<&'a Entry>,
}

impl Manifest {
    /// Parses a library file as bashbrew does: RFC 2822 first, then the line-based
    /// format; when both fail the RFC 2822 error is the one reported.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        match rfc2822::parse(text) {
            Ok(manifest) => Ok(manifest),
            Err(error) => line_based::parse(text).map_err(|_| error),
        }
    }

    /// Parses the RFC 2822 format only.
    pub fn parse_rfc2822(text: &str) -> Result<Manifest, ManifestError> {
        rfc2822::parse(text)
    }

    /// Parses the pre-2015 line-based format only.
    pub fn parse_line_based(text: &str) -> Result<Manifest, ManifestError> {
        line_based::parse(text)
    }

    /// Starts an empty manifest with `global` as its defaults.
    pub(super) fn with_global(format: Format, global: Entry) -> Manifest {
        Manifest {
            format,
            global,
            entries: Vec::new(),
            listed: HashMap::new(),
        }
    }

    pub(super) fn global_mut(&mut self) -> &mut Entry {
        &mut self.global
    }

    /// The syntax the file was written in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The global entry (defaults every entry inherits).
    pub fn global(&self) -> &Entry {
        &self.global
    }

    /// The entries in file order, after merging entries that build the same thing.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether `tag` is listed, in `Tags:` or `SharedTags:`.
    pub fn lists(&self, tag: &str) -> bool {
        self.listed.contains_key(tag)
    }

    /// The entry whose `Tags:` include `tag` (shared tags are not considered).
    pub fn entry_for_tag(&self, tag: &str) -> Option<&Entry> {
        let listing = self.listed.get(tag).filter(|l| !l.shared)?;
        self.entries.get(listing.entry)
    }

    /// The entries whose `SharedTags:` include `tag`.
    pub fn entries_for_shared_tag<'a>(&'a self, tag: &'a str) -> impl Iterator<Item = &'a Entry> {
        self.entries.iter().filter(move |e| e.has_shared_tag(tag))
    }

    /// Every listed tag once, in file order: each entry's tags, then its new shared tags.
    pub fn tags(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        let all = self
            .entries
            .iter()
            .flat_map(|e| e.tags.iter().chain(&e.shared_tags));
        all.map(String::as_str)
            .filter(|t| seen.insert(*t))
            .collect()
    }

    /// Shared tags grouped by the set of entries they point at, in file order.
    pub fn shared_tag_groups(&self) -> Vec<SharedTagGroup<'_>> {
        let mut seen = std::collections::HashSet::new();
        let shared = self.entries.iter().flat_map(|e| e.shared_tags.iter());
        let shared: Vec<&str> = shared
            .map(String::as_str)
            .filter(|t| seen.insert(*t))
            .collect();
        let mut groups: Vec<(Vec<usize>, SharedTagGroup<'_>)> = Vec::new();
        for tag in shared {
            let members: Vec<usize> = (0..self.entries.len())
                .filter(|&i| self.entries[i].has_shared_tag(tag))
                .collect();
            match groups.iter_mut().find(|(key, _)| *key == members) {
                Some((_, group)) => group.shared_tags.push(tag),
                None => {
                    let entries = members.iter().map(|&i| &self.entries[i]).collect();
                    let group = SharedTagGroup {
                        shared_tags: vec![tag],
                        entries,
                    };
                    groups.push((members, group));
                }
            }
        }
        groups.into_iter().map(|(_, group)| group).collect()
    }

    /// Adds an entry after bashbrew's checks, merging it into an earlier entry that
    /// builds the same thing.
    pub(super) fn add_entry(&mut self, mut entry: Entry) -> Result<(), ManifestError> {
        if entry.tags.is_empty() {
            return Err(ManifestError::MissingTags);
        }
        let tags = entry.tags_string();
        if entry.git_repo.is_empty() || entry.git_fetch.is_empty() || entry.git_commit.is_empty() {
            return Err(ManifestError::MissingGitFields { tags });
        }
        let invalid = entry.invalid_maintainers();
        if !invalid.is_empty() {
            return Err(ManifestError::InvalidEntryMaintainers { tags, invalid });
        }
        entry.dedup_shared_tags();
        entry.clean_directories();
        let invalid = entry.invalid_architectures();
        if !invalid.is_empty() {
            return Err(ManifestError::InvalidArchitectures { tags, invalid });
        }
        self.check_new_tags(&entry, &tags)?;

        let index = match self
            .entries
            .iter()
            .position(|e| e.same_build_artifacts(&entry))
        {
            Some(index) => {
                let existing = &mut self.entries[index];
                existing.tags.extend(entry.tags.iter().cloned());
                existing
                    .shared_tags
                    .extend(entry.shared_tags.iter().cloned());
                existing.dedup_shared_tags();
                index
            }
            None => {
                self.entries.push(entry.clone());
                self.entries.len() - 1
            }
        };
        for tag in &entry.tags {
            self.listed.insert(
                tag.clone(),
                Listing {
                    entry: index,
                    shared: false,
                },
            );
        }
        for tag in &entry.shared_tags {
            let listing = Listing {
                entry: index,
                shared: true,
            };
            self.listed.entry(tag.clone()).or_insert(listing);
        }
        Ok(())
    }

    /// Rejects tags already used by earlier entries, or twice by this one.
    fn check_new_tags(&self, entry: &Entry, tags: &str) -> Result<(), ManifestError> {
        let mut seen = std::collections::HashSet::new();
        for tag in &entry.tags {
            match self.listed.get(tag) {
                Some(l) if !l.shared => return Err(duplicate(tags, tag)),
                Some(_) => {
                    let (tags, tag) = (tags.to_owned(), tag.clone());
                    return Err(ManifestError::TagConflictsWithSharedTag { tags, tag });
                }
                None => {}
            }
            if !seen.insert(tag.as_str()) {
                return Err(duplicate(tags, tag));
            }
        }
        for tag in &entry.shared_tags {
            if self.listed.get(tag).is_some_and(|l| !l.shared) {
                let (tags, tag) = (tags.to_owned(), tag.clone());
                return Err(ManifestError::SharedTagConflictsWithTag { tags, tag });
            }
            if !seen.insert(tag.as_str()) {
                return Err(duplicate(tags, tag));
            }
        }
        Ok(())
    }

    /// Checks the global entry as bashbrew does once the file is read.
    pub(super) fn check_global_maintainers(&self) -> Result<(), ManifestError> {
        if self.global.maintainers.is_empty() {
            return Err(ManifestError::MissingMaintainers);
        }
        let invalid = self.global.invalid_maintainers();
        if !invalid.is_empty() {
            return Err(ManifestError::InvalidMaintainers { invalid });
        }
        Ok(())
    }

    pub(super) fn check_global(&self) -> Result<(), ManifestError> {
        self.check_global_maintainers()?;
        if !self.global.tags.is_empty() {
            return Err(ManifestError::GlobalTags);
        }
        let invalid = self.global.invalid_architectures();
        if !invalid.is_empty() {
            return Err(ManifestError::InvalidGlobalArchitectures { invalid });
        }
        Ok(())
    }
}

fn duplicate(tags: &str, tag: &str) -> ManifestError {
    ManifestError::DuplicateTag {
        tags: tags.to_owned(),
        tag: tag.to_owned(),
    }
}

/// The canonical text: the global entry without bashbrew's defaults, then each entry
/// without the global values, separated by blank lines.
impl fmt::Display for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            self.global.without_defaults(&Entry::bashbrew_default())
        )?;
        for entry in &self.entries {
            write!(f, "\n\n{}", entry.without_defaults(&self.global))?;
        }
        Ok(())
    }
}

/// `refs/heads/...` or `refs/tags/...` without glob or colon characters.
pub(super) fn valid_git_fetch(value: &str) -> bool {
    let rest = value
        .strip_prefix("refs/heads/")
        .or_else(|| value.strip_prefix("refs/tags/"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(['*', '?', ':']))
}

/// One to 64 lower-case hexadecimal digits (SHA-1 or SHA-256 object ids, abbreviated).
pub(super) fn valid_git_commit(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
