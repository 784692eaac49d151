//! decide stage, for `update`: given one file's occurrences and the digest each pinned
//! tag resolves to now, decides which pins moved and the bytes that replace their
//! digests; then groups the moves of a whole repository into change sets (one per moved
//! base, or one for the repository) and names their branches. Pure: lookups arrive as
//! values; nothing here touches a registry, a file, git or a clock.
//!
//! An update replaces the digest at the end of an occurrence's span
//! (`python:3.12@sha256:old` -> `python:3.12@sha256:new`, or the same at the end of an
//! `ARG` default). References without a digest are `pin`'s business and left alone.
//! Occurrences sharing the replaced bytes (one `ARG` default used by several `FROM`s)
//! are updated by one edit when they all want the same one, and all skipped as
//! `conflicting-pins` otherwise.

use std::collections::{BTreeMap, BTreeSet};

use crate::decision::{self, Decide};
use crate::occurrence::{Occurrence, SkipReason};
use crate::reference::{Digest, Reference};
use crate::rewrite::{self, Edit};

/// What updating an occurrence needs before it can be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// It names a tag and a digest: the tag must be looked up.
    Lookup,
    /// It names no digest: nothing to update (pinning it is `pin`'s job).
    NotPinned,
    /// It is never updated, for this reason.
    Skip(SkipReason),
}

/// Classifies one occurrence. Images built here and blocked occurrences are skipped;
/// digest-only references have no tag to follow.
pub fn need(occurrence: &Occurrence) -> Need {
    if let Some(reason) = decision::never_rewritten(occurrence) {
        return Need::Skip(reason);
    }
    let reference = &occurrence.reference;
    match (reference.tag(), reference.digest()) {
        (Some(_), Some(_)) => Need::Lookup,
        (None, Some(_)) => Need::Skip(SkipReason::DigestOnly),
        (_, None) => Need::NotPinned,
    }
}

/// One moved pin to rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The replacement of the old digest's bytes with the new digest.
    pub edit: Edit,
    /// The span's text before (`python:3.12@sha256:old`, or an `ARG` default).
    pub before: String,
    /// The same text after the update.
    pub after: String,
    /// The digest written today.
    pub from: Digest,
    /// The digest the tag points at now.
    pub to: Digest,
}

/// What happens to one occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<E> {
    /// Its tag moved: rewrite the digest.
    Update(Move),
    /// Its digest is still the one the tag points at.
    Current,
    /// It names no digest (see [`Need::NotPinned`]).
    NotPinned,
    /// Leave it, for this reason.
    Skip(SkipReason),
    /// Its lookup failed with this error.
    Failed(E),
}

/// Decides every occurrence of one file, in order. `lookup` is asked for the current
/// digest of each pinned occurrence's tag (by index) and nothing else.
pub fn decide<E>(
    text: &str,
    occurrences: &[Occurrence],
    lookup: impl FnMut(usize, &Occurrence) -> Result<Digest, E>,
) -> Vec<Decision<E>> {
    decision::decide_file(text, occurrences, lookup)
}

impl<E> Decide for Decision<E> {
    type Error = E;

    fn without_lookup(occurrence: &Occurrence) -> Option<Self> {
        match need(occurrence) {
            Need::Skip(reason) => Some(Decision::Skip(reason)),
            Need::NotPinned => Some(Decision::NotPinned),
            Need::Lookup => None,
        }
    }

    fn with_digest(text: &str, occurrence: &Occurrence, digest: Digest) -> Self {
        move_to(text, occurrence, digest)
    }

    fn failed(error: E) -> Self {
        Decision::Failed(error)
    }

    fn edit(&self) -> Option<&Edit> {
        match self {
            Decision::Update(update) => Some(&update.edit),
            _ => None,
        }
    }

    fn conflicting() -> Self {
        Decision::Skip(SkipReason::ConflictingPins)
    }
}

/// The update of a pinned occurrence to `to`, or why its bytes cannot take it.
fn move_to<E>(text: &str, occurrence: &Occurrence, to: Digest) -> Decision<E> {
    let Some(from) = occurrence.reference.digest() else {
        return Decision::NotPinned;
    };
    if *from == to {
        return Decision::Current;
    }
    let span = &occurrence.span;
    if let Err(error) = rewrite::check(text, span) {
        return unrewritable(error.to_string());
    }
    let before = &text[span.clone()];
    // The digest must be written out at the end of the span; one assembled from a
    // variable elsewhere cannot be replaced here.
    let Some(head) = before.strip_suffix(from.as_str()) else {
        return unrewritable(format!(
            "the digest {from} is not written at the end of {before:?}"
        ));
    };
    let start = span.start + head.len();
    Decision::Update(Move {
        edit: Edit {
            span: start..span.end,
            text: to.to_string(),
        },
        before: before.to_owned(),
        after: format!("{head}{to}"),
        from: from.clone(),
        to,
    })
}

fn unrewritable<E>(reason: String) -> Decision<E> {
    Decision::Skip(SkipReason::Unrewritable { reason })
}

/// The edits to write for one file's decisions (a shared edit appears once per
/// occurrence; [`rewrite::apply`] writes identical ones once).
pub fn edits<E>(decisions: &[Decision<E>]) -> Vec<Edit> {
    decision::edits(decisions)
}

/// How moves are bundled into change sets (`[update] group` in `strata.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    /// One change set per moved base tag, on branch `strata/<image>-<tag>`.
    #[default]
    Base,
    /// One change set for the whole repository, on branch [`REPOSITORY_BRANCH`], with
    /// one commit per moved base.
    Repository,
}

/// The branch of the change set of [`Grouping::Repository`].
pub const REPOSITORY_BRANCH: &str = "strata/base-images";

/// The group key of [`Grouping::Repository`].
pub const REPOSITORY_GROUP: &str = "repository";

/// One moved pin, found in one file, as [`group`] takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The caller's index of the file.
    pub file: usize,
    /// The tag the pin follows, normalised and without a digest
    /// (`docker.io/library/python:3.12`).
    pub base: Reference,
    pub from: Digest,
    pub to: Digest,
}

/// One moved base tag and every file that pins it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseMove {
    /// The tag, normalised, without a digest.
    pub base: Reference,
    /// The digests pinned today (usually one), sorted.
    pub from: Vec<Digest>,
    /// The digest the tag points at now.
    pub to: Digest,
    /// The caller's file indices, sorted.
    pub files: Vec<usize>,
}

impl BaseMove {
    /// How people write the tag: `python:3.12`, `ghcr.io/acme/app:1.4`.
    pub fn familiar(&self) -> String {
        self.base.familiar_string()
    }

    /// The commit subject: `Update python:3.12-slim to sha256:abcd1234…`.
    pub fn subject(&self) -> String {
        format!("Update {} to {}", self.familiar(), short_digest(&self.to))
    }
}

/// One change set: one branch, one commit per move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// `docker.io/library/python:3.12` per base, [`REPOSITORY_GROUP`] per repository.
    pub key: String,
    /// The branch the change set is committed on.
    pub branch: String,
    /// The moves, by base.
    pub moves: Vec<BaseMove>,
}

impl Group {
    /// The pull request title: the commit subject for one move, a count for more.
    pub fn title(&self) -> String {
        match self.moves.as_slice() {
            [one] => one.subject(),
            moves => format!("Update {} base images", moves.len()),
        }
    }

    /// Every file the group changes, sorted.
    pub fn files(&self) -> Vec<usize> {
        let files: BTreeSet<usize> = self.moves.iter().flat_map(|m| m.files.clone()).collect();
        files.into_iter().collect()
    }

    /// The head-branch prefix that other change sets for the same bases would share:
    /// `strata/<image>-` per base, `strata/` per repository.
    pub fn branch_prefix(&self) -> String {
        match self.moves.as_slice() {
            [one] if self.key != REPOSITORY_GROUP => {
                format!("strata/{}-", ref_component(&one.base.familiar_name()))
            }
            _ => "strata/".to_owned(),
        }
    }
}

/// Bundles moved pins into change sets, in a stable order (by key, moves by base).
pub fn group(found: impl IntoIterator<Item = Found>, grouping: Grouping) -> Vec<Group> {
    let mut moves: BTreeMap<(Reference, Digest), (BTreeSet<Digest>, BTreeSet<usize>)> =
        BTreeMap::new();
    for f in found {
        let entry = moves.entry((f.base, f.to)).or_default();
        entry.0.insert(f.from);
        entry.1.insert(f.file);
    }
    let moves = moves
        .into_iter()
        .map(|((base, to), (from, files))| BaseMove {
            base,
            from: from.into_iter().collect(),
            to,
            files: files.into_iter().collect(),
        });
    match grouping {
        Grouping::Repository => {
            let moves: Vec<BaseMove> = moves.collect();
            if moves.is_empty() {
                return Vec::new();
            }
            vec![Group {
                key: REPOSITORY_GROUP.to_owned(),
                branch: REPOSITORY_BRANCH.to_owned(),
                moves,
            }]
        }
        Grouping::Base => {
            let mut groups: BTreeMap<String, Group> = BTreeMap::new();
            for m in moves {
                let key = m.base.to_string();
                groups
                    .entry(key.clone())
                    .or_insert_with(|| Group {
                        key,
                        branch: base_branch(&m.base),
                        moves: Vec::new(),
                    })
                    .moves
                    .push(m);
            }
            groups.into_values().collect()
        }
    }
}

/// The branch for one base tag: `strata/<image>-<tag>` with the familiar image name
/// (`strata/python-3.12-slim`, `strata/ghcr.io-acme-app-1.4`), made a valid git ref.
pub fn base_branch(base: &Reference) -> String {
    let tag = base.tag().unwrap_or("latest");
    format!(
        "strata/{}",
        ref_component(&format!("{}-{tag}", base.familiar_name()))
    )
}

/// `text` as one component of a git ref name (git-check-ref-format): characters other
/// than ASCII letters, digits, `.`, `_` and `-` become `-`, no `..`, no leading `.` or
/// `-`, no trailing `.` and no `.lock` ending. Never empty.
pub fn ref_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
            c
        } else {
            '-'
        };
        if c == '.' && out.ends_with('.') {
            continue;
        }
        out.push(c);
    }
    let mut out = out
        .trim_start_matches(['.', '-'])
        .trim_end_matches('.')
        .to_owned();
    if let Some(stem) = out.strip_suffix(".lock") {
        out = format!("{stem}-lock");
    }
    if out.is_empty() {
        out.push_str("image");
    }
    out
}

/// A digest shortened for subjects: `sha256:` and the first 8 hex digits, then `…`.
pub fn short_digest(digest: &Digest) -> String {
    let hex: String = digest.hex().chars().take(8).collect();
    format!("{}:{hex}…", digest.algorithm())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
