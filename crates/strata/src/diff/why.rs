//! diff stage, causes: why an image moved, where strata can know it — the base image
//! underneath changed (the base annotations, `org.opencontainers.image.base.name` /
//! `.base.digest`, differ; or the new image's layers start with the base tag's current
//! layers and the old image's do not), with when strata first saw the base there; the
//! maintainers' source changed (OCI `source` / `revision` / `version` labels, with a
//! compare link for GitHub, GitLab and Gitea URLs); for Docker Official Images, the
//! `library/<name>` entry whose `GitCommit` changed, with the official-images commit
//! that changed it (from the history index, else `git log -S` in a checkout). Reads the registry, the
//! state database and the checkout; a failure only means one cause fewer.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use strata_core::graph::ImageRef;
use strata_core::imagediff::Cause;
use strata_core::library::Manifest;
use strata_core::reference::{Digest, Reference};

use crate::hierarchy::published::{self, BASE_DIGEST, BASE_NAME};
use crate::registry::{RegistryClient, TagKey};
use crate::state::State;
use crate::update::message::format_time;

pub const SOURCE: &str = "org.opencontainers.image.source";
pub const REVISION: &str = "org.opencontainers.image.revision";
pub const VERSION: &str = "org.opencontainers.image.version";

/// What one side says about itself: its annotations and labels merged (the
/// platform manifest's annotations win over the index's, labels fill the rest), and its
/// layers (diff IDs) on the compared platform.
#[derive(Debug, Clone, Default)]
pub struct SideFacts {
    pub reference: Option<Reference>,
    pub digest: Option<Digest>,
    pub metadata: BTreeMap<String, String>,
    pub layers: Vec<Digest>,
    pub platform: String,
}

impl SideFacts {
    fn get(&self, key: &str) -> Option<&str> {
        self.metadata
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Everything the causes may consult.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub client: &'a RegistryClient,
    pub state: Option<&'a State>,
    pub official_images: Option<&'a Path>,
}

/// The causes strata can establish, most fundamental first.
pub async fn causes(old: &SideFacts, new: &SideFacts, sources: Sources<'_>) -> Vec<Cause> {
    let mut out = Vec::new();
    if let Some(cause) = base(old, new, sources).await {
        out.push(cause);
    }
    if let Some(cause) = library(old, new, sources.official_images) {
        out.push(cause);
    }
    if let Some(cause) = source(old, new) {
        out.push(cause);
    }
    out
}

async fn base(old: &SideFacts, new: &SideFacts, sources: Sources<'_>) -> Option<Cause> {
    let name = new.get(BASE_NAME).or_else(|| old.get(BASE_NAME))?;
    let image = ImageRef::parse(name).ok()?;
    let parse = |side: &SideFacts| side.get(BASE_DIGEST).and_then(|d| d.parse::<Digest>().ok());
    let (old_digest, new_digest) = (parse(old), parse(new));
    let (old_digest, new_digest, evidence) = match (old_digest, new_digest) {
        (Some(a), Some(b)) if a != b => (Some(a), b, "annotations"),
        (Some(_), Some(_)) => return None,
        (old_digest, _) => {
            // No digest to compare: the base tag's current image, by layers.
            let now = published::inspect(sources.client, &image, &new.platform)
                .await
                .ok()?;
            let starts =
                |layers: &[Digest]| !now.layers.is_empty() && layers.starts_with(&now.layers);
            if !starts(&new.layers) || starts(&old.layers) {
                return None;
            }
            (old_digest, now.digest, "layers")
        }
    };
    let moved_at = match (sources.state, TagKey::of(image.reference())) {
        (Some(state), Ok(key)) => state
            .digest_first_seen(&key, &new_digest)
            .await
            .ok()
            .flatten()
            .map(format_time),
        _ => None,
    };
    let below = match &old_digest {
        Some(old_digest) => {
            below(
                sources.client,
                &image,
                old_digest,
                &new_digest,
                &new.platform,
            )
            .await
        }
        None => Vec::new(),
    };
    Some(Cause::Base {
        below,
        image: image.familiar(),
        old_digest: old_digest.map(|d| d.to_string()),
        new_digest: Some(new_digest.to_string()),
        moved_at,
        evidence: match evidence {
            "layers" => "layers, which start with the base tag's current layers",
            _ => "org.opencontainers.image.base.* annotations",
        }
        .to_owned(),
    })
}

/// The bases below `image` that moved between its old and new digest, deepest first,
/// from each level's base annotations (at most 8 levels).
async fn below(
    client: &RegistryClient,
    image: &ImageRef,
    old: &Digest,
    new: &Digest,
    platform: &str,
) -> Vec<String> {
    let mut chain = Vec::new();
    let (mut image, mut old, mut new) = (image.clone(), old.clone(), new.clone());
    for _ in 0..8 {
        let (Ok(a), Ok(b)) = (
            published::inspect_digest(client, &image, &old, platform).await,
            published::inspect_digest(client, &image, &new, platform).await,
        ) else {
            break;
        };
        let (Some(base), Some(a_digest), Some(b_digest)) =
            (b.base_image(), a.base_digest, b.base_digest)
        else {
            break;
        };
        if a_digest == b_digest {
            break;
        }
        chain.push(base.familiar());
        (image, old, new) = (base, a_digest, b_digest);
    }
    chain.reverse();
    chain
}

fn source(old: &SideFacts, new: &SideFacts) -> Option<Cause> {
    let url = new.get(SOURCE).or_else(|| old.get(SOURCE))?;
    let (old_rev, new_rev) = (old.get(REVISION), new.get(REVISION));
    let (old_ver, new_ver) = (old.get(VERSION), new.get(VERSION));
    if old_rev == new_rev && old_ver == new_ver {
        return None;
    }
    let repo = repository_url(url)?;
    let compare = match (old_rev, new_rev) {
        (Some(a), Some(b)) if a != b && safe_revision(a) && safe_revision(b) => {
            compare_link(&repo, a, b)
        }
        _ => None,
    };
    Some(Cause::Source {
        url: repo,
        old_revision: old_rev.map(str::to_owned),
        new_revision: new_rev.map(str::to_owned),
        old_version: old_ver.map(str::to_owned),
        new_version: new_ver.map(str::to_owned),
        compare,
    })
}

/// An http(s) repository URL without `.git`, a trailing slash or a `#ref:dir` fragment
/// (Docker Official Images write `…/python.git#<commit>:3.12/slim`), made only of
/// characters that cannot break out of Markdown.
pub fn repository_url(url: &str) -> Option<String> {
    let url = url.trim();
    let url = url.split('#').next().unwrap_or(url);
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?@!$&'*+,;=%".contains(c));
    let url = url.trim_end_matches('/');
    ok.then(|| url.strip_suffix(".git").unwrap_or(url).to_owned())
}

/// `<repo>/compare/a...b` (GitHub, Gitea), `<repo>/-/compare/a...b` (GitLab).
pub fn compare_link(repo: &str, old: &str, new: &str) -> Option<String> {
    let host = repo.split('/').nth(2)?;
    if host.contains("gitlab") {
        Some(format!("{repo}/-/compare/{old}...{new}"))
    } else if host == "github.com" || host.contains("gitea") || host == "codeberg.org" {
        Some(format!("{repo}/compare/{old}...{new}"))
    } else {
        None
    }
}

fn safe_revision(revision: &str) -> bool {
    !revision.is_empty()
        && revision.len() <= 64
        && revision
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn library(old: &SideFacts, new: &SideFacts, dir: Option<&Path>) -> Option<Cause> {
    let dir = dir?;
    let reference = new.reference.as_ref()?;
    let name = reference
        .path()
        .strip_prefix("library/")
        .filter(|_| reference.domain() == "docker.io")?;
    let library = if dir.join("library").is_dir() {
        dir.join("library")
    } else {
        dir.to_owned()
    };
    let text = std::fs::read_to_string(library.join(name)).ok()?;
    let manifest = Manifest::parse(&text).ok()?;
    // The new side's tag, else the old side's (a digest-only NEW has none).
    let tags = [
        reference.tag(),
        old.reference.as_ref().and_then(Reference::tag),
    ];
    let entry = tags.into_iter().flatten().find_map(|tag| {
        manifest
            .entry_for_tag(tag)
            .or_else(|| manifest.entries_for_shared_tag(tag).next())
    })?;
    let new_commit = new
        .get(REVISION)
        .filter(|r| safe_revision(r))
        .unwrap_or(&entry.git_commit)
        .to_owned();
    let old_commit = old
        .get(REVISION)
        .filter(|r| safe_revision(r))
        .map(str::to_owned);
    if old_commit.as_deref() == Some(new_commit.as_str()) {
        return Some(Cause::LibraryUnchanged {
            image: name.to_owned(),
            git_commit: new_commit,
        });
    }
    let repo = repository_url(&entry.git_repo).unwrap_or_else(|| entry.git_repo.clone());
    let compare = old_commit
        .as_deref()
        .and_then(|old| compare_link(&repo, old, &new_commit));
    let (commit, date) = introduced_by(dir, name, &new_commit).unzip();
    Some(Cause::Library {
        image: name.to_owned(),
        tags: entry.tags.clone(),
        git_repo: repo,
        old_commit,
        new_commit,
        compare,
        commit,
        date,
    })
}

/// The official-images commit that first named `git_commit` in `library/<name>`, with
/// its date: from the history index `strata official-images index` writes
/// (`removed-tags.json` beside `library/`), else from a git checkout, the oldest
/// mainline commit that added it (`git log -S`).
fn introduced_by(dir: &Path, name: &str, git_commit: &str) -> Option<(String, String)> {
    if !safe_revision(git_commit) {
        return None;
    }
    let index = dir.join(crate::official_images::HISTORY_FILE);
    if index.is_file()
        && let Ok(history) = crate::official_images::read_history(&index)
        && let Some(seen) = history.git_commit_seen(name, git_commit)
    {
        return Some((seen.commit.clone(), seen.date.to_string()));
    }
    if !dir.join(".git").exists() {
        return None;
    }
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "log",
            "--first-parent",
            "--format=%H %cI",
            "-S",
            git_commit,
            "--",
        ])
        .arg(format!("library/{name}"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let last = text.lines().rfind(|l| !l.trim().is_empty())?;
    let (commit, date) = last.split_once(' ')?;
    Some((commit.to_owned(), date.trim().to_owned()))
}
