//! library stage (knowledge): builds one image's removed-tags history from the
//! successive versions of its library file, oldest first. The caller walks git and hands
//! in each mainline commit's text; this module only compares listings.

use std::collections::HashMap;

use super::history::{GitCommitSeen, ImageHistory, RemovedTag, TagKind};
use super::manifest::{Format, Manifest};
use super::rfc2822;
use crate::reference::grammar;

/// The tags one version of a library file lists, with where each was listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagListing {
    pub format: Format,
    /// In file order, each tag once.
    pub tags: Vec<(String, TagKind)>,
}

/// Reads the tags a library file lists. Strict bashbrew parsing first; when that fails
/// (old history has files bashbrew would reject, e.g. without maintainers) the tags are
/// read leniently from `Tags:`/`SharedTags:` fields or `tag: url@commit` lines. `None`
/// when nothing tag-like can be read, so a broken version says nothing either way.
pub fn listed_tags(text: &str) -> Option<TagListing> {
    if let Ok(manifest) = Manifest::parse(text) {
        let mut tags = Vec::new();
        for entry in manifest.entries() {
            tags.extend(entry.tags.iter().map(|t| (t.clone(), TagKind::Tag)));
        }
        for entry in manifest.entries() {
            tags.extend(
                entry
                    .shared_tags
                    .iter()
                    .map(|t| (t.clone(), TagKind::Shared)),
            );
        }
        let mut seen = std::collections::HashSet::new();
        tags.retain(|(t, _)| seen.insert(t.clone()));
        return Some(TagListing {
            format: manifest.format(),
            tags,
        });
    }
    let listing = lenient_rfc2822(text).or_else(|| lenient_line_based(text))?;
    (!listing.tags.is_empty()).then_some(listing)
}

fn is_field_line(line: &str, field: &str) -> bool {
    line.strip_prefix(field)
        .is_some_and(|rest| rest.trim_start().starts_with(':'))
}

fn lenient_rfc2822(text: &str) -> Option<TagListing> {
    if !text.lines().any(|l| is_field_line(l, "Tags")) {
        return None;
    }
    let mut tags: Vec<String> = Vec::new();
    let mut shared: Vec<String> = Vec::new();
    // Field by field, skipping lines that would make the strict reader fail; `current`
    // is the list an indented continuation line extends.
    let mut current: Option<TagKind> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        let (kind, value) = if trimmed.is_empty() {
            current = None;
            continue;
        } else if line.starts_with([' ', '\t']) {
            match current {
                Some(kind) => (kind, trimmed),
                None => continue,
            }
        } else if is_field_line(line, "Tags") {
            (TagKind::Tag, line.split_once(':').map_or("", |(_, v)| v))
        } else if is_field_line(line, "SharedTags") {
            (TagKind::Shared, line.split_once(':').map_or("", |(_, v)| v))
        } else {
            current = None;
            continue;
        };
        current = Some(kind);
        let target = match kind {
            TagKind::Tag => &mut tags,
            TagKind::Shared => &mut shared,
        };
        target.extend(rfc2822::list(value).filter(|t| grammar::match_tag(t)));
    }
    let mut seen = std::collections::HashSet::new();
    let tags = tags.into_iter().map(|t| (t, TagKind::Tag));
    let all = tags.chain(shared.into_iter().map(|t| (t, TagKind::Shared)));
    let tags = all.filter(|(t, _)| seen.insert(t.clone())).collect();
    Some(TagListing {
        format: Format::Rfc2822,
        tags,
    })
}

fn lenient_line_based(text: &str) -> Option<TagListing> {
    let mut seen = std::collections::HashSet::new();
    let mut tags = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((tag, rest)) = line.split_once(':') else {
            continue;
        };
        let tag = tag.trim();
        if rest.contains('@') && grammar::match_tag(tag) && seen.insert(tag.to_owned()) {
            tags.push((tag.to_owned(), TagKind::Tag));
        }
    }
    Some(TagListing {
        format: Format::LineBased,
        tags,
    })
}

/// One version of the file at a mainline commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshot<'a> {
    /// The commit deleted the file (or it does not exist there).
    Absent,
    /// The file's text at that commit.
    Text(&'a str),
}

#[derive(Debug)]
struct TagState {
    kind: TagKind,
    first_seen: super::timestamp::Timestamp,
    /// (commit number, position in that listing) of the first sighting, for ordering.
    first_order: (u32, u32),
    present: bool,
    /// (date, abbreviated commit, commit number) of the latest disappearance.
    removed: Option<(super::timestamp::Timestamp, String, u32)>,
    readded: u32,
}

/// Accumulates one image's history, commit by commit, oldest first.
#[derive(Debug, Default)]
pub struct Timeline {
    commits: u32,
    formats: Vec<Format>,
    first_commit: Option<super::timestamp::Timestamp>,
    exists: bool,
    tags: HashMap<String, TagState>,
    /// Abbreviated GitCommit -> where it first appeared.
    git_commits: std::collections::BTreeMap<String, GitCommitSeen>,
}

impl Timeline {
    /// An empty timeline.
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Records the file as of `commit` (its full or abbreviated id) made at `at`. An
    /// unreadable version is counted but changes no tag's state.
    pub fn observe(
        &mut self,
        commit: &str,
        at: super::timestamp::Timestamp,
        snapshot: Snapshot<'_>,
    ) {
        let number = self.commits;
        self.commits += 1;
        self.first_commit.get_or_insert(at);
        let listing = match snapshot {
            Snapshot::Absent => TagListing {
                format: Format::Rfc2822,
                tags: Vec::new(),
            },
            Snapshot::Text(text) => match listed_tags(text) {
                Some(listing) => listing,
                None => return,
            },
        };
        self.exists = matches!(snapshot, Snapshot::Text(_));
        if self.exists && !self.formats.contains(&listing.format) {
            self.formats.push(listing.format);
        }
        let short: String = commit.chars().take(12).collect();
        if let Snapshot::Text(text) = snapshot {
            self.note_git_commits(text, &short, at);
        }
        let listed: std::collections::HashSet<&str> =
            listing.tags.iter().map(|(t, _)| t.as_str()).collect();
        for state in self
            .tags
            .iter_mut()
            .filter(|(t, _)| !listed.contains(t.as_str()))
        {
            let state = state.1;
            if state.present {
                state.present = false;
                state.removed = Some((at, short.clone(), number));
            }
        }
        for (position, (tag, kind)) in listing.tags.into_iter().enumerate() {
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            let state = self.tags.entry(tag).or_insert(TagState {
                kind,
                first_seen: at,
                first_order: (number, position),
                present: false,
                removed: None,
                readded: 0,
            });
            if !state.present && state.removed.is_some() {
                state.readded += 1;
            }
            state.present = true;
        }
    }

    /// Records the GitCommits (entries' own and per-architecture ones) this version names
    /// for the first time. A version bashbrew cannot parse names none.
    fn note_git_commits(&mut self, text: &str, commit: &str, at: super::timestamp::Timestamp) {
        let Ok(manifest) = Manifest::parse(text) else {
            return;
        };
        for entry in manifest.entries() {
            let per_arch = entry
                .arch_values
                .iter()
                .filter(|(key, _)| key.ends_with("-GitCommit"))
                .map(|(_, value)| value);
            for git_commit in std::iter::once(&entry.git_commit).chain(per_arch) {
                let Some(key) = git_commit
                    .get(..12)
                    .filter(|k| k.bytes().all(|b| b.is_ascii_hexdigit()))
                else {
                    continue;
                };
                self.git_commits
                    .entry(key.to_ascii_lowercase())
                    .or_insert_with(|| GitCommitSeen {
                        commit: commit.to_owned(),
                        date: at,
                    });
            }
        }
    }

    /// The history: tags not listed by the last version, ordered by removal.
    pub fn finish(self) -> ImageHistory {
        let current = self.tags.values().filter(|s| s.present).count();
        let mut removed: Vec<(String, TagState)> =
            self.tags.into_iter().filter(|(_, s)| !s.present).collect();
        removed.sort_by_key(|(_, s)| (s.removed.as_ref().map(|r| r.2), s.first_order));
        let removed_tags: Vec<RemovedTag> = removed
            .into_iter()
            .filter_map(|(tag, state)| {
                let (removed, removed_commit, _) = state.removed?;
                Some(RemovedTag {
                    tag,
                    kind: state.kind,
                    first_seen: state.first_seen,
                    removed,
                    removed_commit,
                    readded_count: (state.readded > 0).then_some(state.readded),
                })
            })
            .collect();
        ImageHistory {
            library_file_exists_at_head: self.exists,
            mainline_commits_touching_file: self.commits,
            formats_seen: self.formats,
            first_commit_date: self.first_commit,
            current_tag_count: u32::try_from(current).unwrap_or(u32::MAX),
            removed_tag_count: u32::try_from(removed_tags.len()).unwrap_or(u32::MAX),
            removed_tags,
            git_commits: self.git_commits,
        }
    }
}
