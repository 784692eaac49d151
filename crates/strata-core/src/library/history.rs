//! library stage (knowledge): the removed-tags index (`removed-tags.json`): for each
//! official image, every tag its library file listed at some mainline commit and no
//! longer lists, with when it appeared and when (and in which commit) it went away.
//! Types, serde shape and lookups only; reading the file is the caller's job.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::manifest::Format;
use super::timestamp::Timestamp;

/// Where a tag was listed when it was first seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagKind {
    /// In `Tags:` (or a line-based line).
    Tag,
    /// Only in `SharedTags:`.
    Shared,
}

/// One tag that is no longer listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedTag {
    pub tag: String,
    pub kind: TagKind,
    /// Committer date of the first mainline commit listing it.
    pub first_seen: Timestamp,
    /// Committer date of the first mainline commit, after its last listing, without it.
    pub removed: Timestamp,
    /// First 12 hex digits of that commit.
    pub removed_commit: String,
    /// How many times it came back after being dropped, before its final removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readded_count: Option<u32>,
}

/// The history of one image's library file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageHistory {
    pub library_file_exists_at_head: bool,
    pub mainline_commits_touching_file: u32,
    pub formats_seen: Vec<Format>,
    pub first_commit_date: Option<Timestamp>,
    pub current_tag_count: u32,
    pub removed_tag_count: u32,
    /// In order of removal.
    pub removed_tags: Vec<RemovedTag>,
    /// When each `GitCommit` the file ever named first appeared: its first 12 hex
    /// digits -> the first mainline commit listing it. Traces an official image's move
    /// to the official-images change that made it. Absent from older indexes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub git_commits: BTreeMap<String, GitCommitSeen>,
}

/// The first mainline commit of official-images that named a `GitCommit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitCommitSeen {
    /// First 12 hex digits of that official-images commit.
    pub commit: String,
    /// Its committer date.
    pub date: Timestamp,
}

/// Where the index was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistorySource {
    /// The repository (URL or path) that was walked.
    pub repo: String,
    pub head_commit: String,
    pub head_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// The `removed-tags.json` document as written on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFile {
    pub description: String,
    pub source: HistorySource,
    /// What each field of a removed tag means (documentation carried in the file).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    pub images: BTreeMap<String, ImageHistory>,
}

impl HistoryFile {
    /// The description and field documentation strata writes into a new index.
    pub fn describe(source: HistorySource, images: BTreeMap<String, ImageHistory>) -> HistoryFile {
        let fields = [
            ("tag", "tag name"),
            (
                "kind",
                "\"tag\" (Tags:) or \"shared\" (only in SharedTags:) at first sighting",
            ),
            (
                "first_seen",
                "committer date of the first mainline commit listing it",
            ),
            (
                "removed",
                "committer date of the first mainline commit after its last listing in \
                 which it is absent (a deleted file counts)",
            ),
            (
                "removed_commit",
                "first 12 hex digits of that mainline commit",
            ),
            (
                "readded_count",
                "present only if the tag was removed and later re-added before its final removal",
            ),
            (
                "git_commits",
                "per image: first 12 hex digits of each GitCommit the file named -> the first \
                 mainline commit naming it (12 hex digits) and its committer date",
            ),
        ];
        HistoryFile {
            description: "Tags listed in docker-library/official-images library/<image> at some \
                          mainline commit and absent at HEAD, from `git log --first-parent` of \
                          each library file (RFC 2822 and line-based formats)."
                .to_owned(),
            source,
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            images,
        }
    }
}

/// The removed-tags index with fast `(image, tag)` lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    file: HistoryFile,
    /// Per image, indexes into `removed_tags` sorted by tag, for binary search (no
    /// second copy of 75,000 tag strings).
    by_tag: BTreeMap<String, Vec<u32>>,
}

impl History {
    /// Indexes a parsed document.
    pub fn new(file: HistoryFile) -> History {
        let by_tag = file.images.iter().map(|(name, image)| {
            let tags = &image.removed_tags;
            let count = u32::try_from(tags.len()).unwrap_or(u32::MAX);
            let mut order: Vec<u32> = (0..count).collect();
            order.sort_unstable_by(|&a, &b| tags[a as usize].tag.cmp(&tags[b as usize].tag));
            (name.clone(), order)
        });
        let by_tag = by_tag.collect();
        History { file, by_tag }
    }

    /// The document behind the index.
    pub fn file(&self) -> &HistoryFile {
        &self.file
    }

    /// Gives the document back.
    pub fn into_file(self) -> HistoryFile {
        self.file
    }

    /// The history of one image (by its library file name, e.g. `python`).
    pub fn image(&self, image: &str) -> Option<&ImageHistory> {
        self.file.images.get(image)
    }

    /// Image names in the index, sorted.
    pub fn images(&self) -> impl Iterator<Item = &str> {
        self.file.images.keys().map(String::as_str)
    }

    /// The first official-images commit that named `git_commit` (full or abbreviated,
    /// at least 12 hex digits) in `image`'s library file, when the index records it.
    pub fn git_commit_seen(&self, image: &str, git_commit: &str) -> Option<&GitCommitSeen> {
        let key = git_commit.get(..12)?;
        self.file.images.get(image)?.git_commits.get(key)
    }

    /// When `image:tag` was listed and when it was removed, if it ever was.
    pub fn removed(&self, image: &str, tag: &str) -> Option<&RemovedTag> {
        let tags = &self.file.images.get(image)?.removed_tags;
        let order = self.by_tag.get(image)?;
        let found = order.binary_search_by(|&i| tags[i as usize].tag.as_str().cmp(tag));
        found.ok().map(|at| &tags[order[at] as usize])
    }
}

impl From<HistoryFile> for History {
    fn from(file: HistoryFile) -> History {
        History::new(file)
    }
}

impl Serialize for History {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.file.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for History {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        HistoryFile::deserialize(deserializer).map(History::new)
    }
}
