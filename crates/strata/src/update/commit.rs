//! act stage, on git: turns a change set into commits on its branch and pushes it.
//! Commits are built from the base commit's files with plumbing, never in a working
//! tree: the user's files, index and HEAD stay exactly as they were, whatever their
//! state. A branch that already carries the same change (same patch, whatever its base)
//! is left alone; one with another change is reset to the new commits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use strata_core::update::BaseMove;

use super::decide::apply_move;
use crate::discover::SourceFile;
use crate::git::{Git, TreeEntry};
use crate::scan::ScanOptions;

/// The remote branches are pushed to and read from.
pub const REMOTE: &str = "origin";

/// The repository an update commits to, and where its branches start.
#[derive(Debug)]
pub struct Repository {
    pub git: Git,
    /// The branch checked out at start (`None` on a detached HEAD).
    pub base_branch: Option<String>,
    /// The commit every change set's branch starts from.
    pub base: String,
}

/// Opens the repository containing `root` and checks it may be worked on: refuses
/// tracked modifications, staged changes and a detached HEAD unless `allow_dirty`.
pub fn open(root: &Path, allow_dirty: bool) -> Result<Repository> {
    let git = Git::discover(root)?;
    let top = git.top().display().to_string();
    let base = git
        .resolve("HEAD")?
        .ok_or_else(|| anyhow!("{top} has no commits yet: there is no base to branch from"))?;
    let base_branch = git.current_branch()?;
    if !allow_dirty {
        let modified = git.modified()?;
        if !modified.is_empty() {
            // `XY path` lines: the path is what people need.
            let shown: Vec<&str> = modified
                .iter()
                .take(5)
                .map(|l| l.get(3..).unwrap_or(l))
                .collect();
            let more = modified.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            bail!(
                "the working tree of {top} has uncommitted changes ({}{more}); commit or stash \
                 them, or pass --allow-dirty to branch from the last commit anyway (your \
                 changes are never touched)",
                shown.join(", ")
            );
        }
        if base_branch.is_none() {
            bail!(
                "HEAD is detached in {top}: check out the branch updates should start from, \
                 or pass --allow-dirty to branch from the detached commit"
            );
        }
    }
    Ok(Repository {
        git,
        base_branch,
        base,
    })
}

impl Repository {
    /// `path` relative to the top level with `/` separators, if it is inside.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let real = path.canonicalize().ok()?;
        let top = self.git.top().canonicalize().ok()?;
        let relative: PathBuf = real.strip_prefix(&top).ok()?.to_path_buf();
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_str().map(str::to_owned))
            .collect::<Option<_>>()?;
        Some(parts.join("/"))
    }
}

/// One commit to make: a move, the files it changes, the message.
#[derive(Debug)]
pub struct Step<'a> {
    pub mv: &'a BaseMove,
    /// Each file with its path relative to the top level.
    pub files: Vec<(&'a SourceFile, String)>,
    pub message: String,
}

/// The commits built for a change set.
#[derive(Debug, Clone)]
pub struct Built {
    /// The last commit.
    pub tip: String,
    /// Commits made (steps that changed nothing are left out).
    pub commits: usize,
}

/// Commits each step on top of the previous one, starting at the base commit, with the
/// files' contents as committed there. `None` when no step changes anything (the pins
/// moved only in uncommitted text). A file missing from the base commit is a note.
pub fn build(
    repo: &Repository,
    steps: &[Step<'_>],
    opts: &ScanOptions,
    notes: &mut Vec<String>,
) -> Result<Option<Built>> {
    let git = &repo.git;
    let mut contents: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut parent = repo.base.clone();
    let mut commits = 0;
    for step in steps {
        let mut entries = Vec::new();
        for (file, path) in &step.files {
            let Some((mode, text)) = content(repo, &mut contents, path)? else {
                notes.push(format!("{path} is not in the base commit; not committed"));
                continue;
            };
            let new = apply_move(file, &text, step.mv, opts).map_err(|m| anyhow!(m))?;
            if new == text {
                continue;
            }
            let blob = git.write_blob(new.as_bytes())?;
            entries.push(TreeEntry {
                path: path.clone(),
                mode: mode.clone(),
                blob,
            });
            contents.insert(path.clone(), (mode, new));
        }
        if entries.is_empty() {
            continue;
        }
        let tree = git.tree_with(&parent, &entries)?;
        parent = git.commit_tree(&tree, &parent, &step.message)?;
        commits += 1;
    }
    Ok((commits > 0).then_some(Built {
        tip: parent,
        commits,
    }))
}

/// A file's mode and text as the steps so far left it (first read: the base commit).
fn content(
    repo: &Repository,
    contents: &mut BTreeMap<String, (String, String)>,
    path: &str,
) -> Result<Option<(String, String)>> {
    if let Some(known) = contents.get(path) {
        return Ok(Some(known.clone()));
    }
    let Some((mode, blob)) = repo.git.file_at(&repo.base, path)? else {
        return Ok(None);
    };
    let bytes = repo.git.blob(&blob)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow!("{path} in the base commit is not UTF-8 text"))?;
    contents.insert(path.to_owned(), (mode.clone(), text.clone()));
    Ok(Some((mode, text)))
}

/// What happened to a change set's branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchStatus {
    /// The branch did not exist.
    Created,
    /// The branch carried another change and now points at the new commits.
    Updated,
    /// The branch already carried this change: nothing was committed.
    Unchanged,
}

impl BranchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BranchStatus::Created => "created",
            BranchStatus::Updated => "updated",
            BranchStatus::Unchanged => "unchanged",
        }
    }
}

/// Where a change set's branch ended up.
#[derive(Debug, Clone)]
pub struct Settled {
    pub tip: String,
    pub status: BranchStatus,
}

/// Points `branch` at the change: at an existing commit carrying the same patch (on
/// the remote, `remote`, or the local branch), else at `built`.
pub fn settle(
    repo: &Repository,
    branch: &str,
    built: &Built,
    remote: Option<&str>,
) -> Result<Settled> {
    let git = &repo.git;
    if repo.base_branch.as_deref() == Some(branch) {
        bail!("{branch} is the branch checked out; check out the base branch and run again");
    }
    let local = git.resolve(&format!("refs/heads/{branch}"))?;
    let tracking = match remote {
        Some(tip) => Some(tip.to_owned()),
        None => git.resolve(&format!("refs/remotes/{REMOTE}/{branch}"))?,
    };
    let wanted = git.patch_id(&repo.base, &built.tip)?;
    let mut candidates: Vec<&String> = tracking.iter().chain(local.iter()).collect();
    candidates.dedup();
    for candidate in candidates {
        let Some(fork) = git.merge_base(&repo.base, candidate)? else {
            continue;
        };
        if wanted.is_some() && git.patch_id(&fork, candidate)? == wanted {
            if local.as_ref() != Some(candidate) {
                git.set_branch(branch, candidate, local.as_deref())?;
            }
            return Ok(Settled {
                tip: candidate.clone(),
                status: BranchStatus::Unchanged,
            });
        }
    }
    git.set_branch(branch, &built.tip, local.as_deref())?;
    let status = if local.is_some() || tracking.is_some() {
        BranchStatus::Updated
    } else {
        BranchStatus::Created
    };
    Ok(Settled {
        tip: built.tip.clone(),
        status,
    })
}

/// The commit `branch` has on the remote now, fetched when it is not here yet (so its
/// patch can be compared); `None` when the remote has no such branch.
pub fn remote_tip(repo: &Repository, branch: &str) -> Result<Option<String>> {
    let git = &repo.git;
    if git.remote_url(REMOTE)?.is_none() {
        bail!("the repository has no remote named {REMOTE} to push to");
    }
    let tip = git
        .remote_branch(REMOTE, branch)
        .with_context(|| format!("reading {branch} on {REMOTE}"))?;
    if let Some(tip) = &tip
        && git.resolve(tip)?.is_none()
    {
        git.fetch_branch(REMOTE, branch)
            .with_context(|| format!("fetching {branch} from {REMOTE}"))?;
    }
    Ok(tip)
}

/// Pushes `branch` unless the remote already has `tip`; `true` when it pushed. The
/// lease is the remote commit read before, so a branch moved meanwhile is not lost.
pub fn push(repo: &Repository, branch: &str, tip: &str, remote: Option<&str>) -> Result<bool> {
    if remote == Some(tip) {
        return Ok(false);
    }
    repo.git
        .push_branch(REMOTE, branch, remote)
        .with_context(|| format!("pushing {branch} to {REMOTE}"))?;
    Ok(true)
}
