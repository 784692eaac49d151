//! act stage, on git: the repositories a `--commit`/`--push`/`--pr` run commits to.
//! When the scanned directory is inside one repository that is the only one, exactly
//! as before; when it is inside none (a folder holding several checkouts), each scanned
//! file belongs to the repository of its nearest enclosing `.git` (a directory, or the
//! file of a submodule or worktree), and each repository is opened, checked and
//! connected to its forge on its own, so one that is refused stops no other. Decides
//! nothing about images; writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::Options;
use super::commit::{self, Repository};
use super::propose::{self, Target};
use crate::forge::ForgeConfig;
use crate::git::{Git, GitError};
use crate::scan::FileScan;
use crate::state;

/// One repository the change sets go to.
#[derive(Debug)]
pub struct Checkout {
    /// Its directory as the report shows it (relative to the scanned root); `None` when
    /// the scanned root is inside it, the only repository of the run.
    pub label: Option<String>,
    /// The repository, opened and checked, or why it could not be.
    pub repo: Result<Repository, String>,
    /// Its forge repository (with `--pr`), or why there is none.
    pub target: Option<Result<Target, String>>,
    /// The indices of the scanned files it holds; `None`: every file.
    pub files: Option<BTreeSet<usize>>,
}

impl Checkout {
    /// Whether the scanned file `index` is committed here.
    pub fn holds(&self, index: usize) -> bool {
        self.files
            .as_ref()
            .is_none_or(|files| files.contains(&index))
    }
}

/// Where a committing run's change sets go.
#[derive(Debug, Default)]
pub struct Checkouts {
    pub checkouts: Vec<Checkout>,
    /// Scanned files inside no repository (their moves cannot be committed).
    pub outside: Vec<usize>,
}

/// Opens the repository containing the scanned root, or when there is none, every
/// repository holding a scanned file. A problem with the one repository (a dirty tree,
/// no `origin` to tell the forge repository from) fails the run before anything is
/// looked up, as does the state database inside a repository, a forge without settings
/// or `--repo` with several repositories; a problem with one of several repositories
/// fails only its change sets.
pub fn open(options: &Options, results: &[FileScan]) -> Result<Checkouts> {
    let repo = match commit::open(&options.root, options.allow_dirty) {
        Err(err) if not_a_repository(&err) => return open_each(options, results),
        opened => opened?,
    };
    let target = match options.forge {
        Some(kind) => Some(propose::connect(kind, options.repo.as_deref(), &repo)?),
        None => None,
    };
    state::ensure_outside(&options.state, repo.git.top())?;
    Ok(Checkouts {
        checkouts: vec![Checkout {
            label: None,
            repo: Ok(repo),
            target: target.map(Ok),
            files: None,
        }],
        outside: Vec::new(),
    })
}

fn not_a_repository(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<GitError>(),
        Some(GitError::NotARepository { .. })
    )
}

/// The scanned root is in no repository: one checkout per repository holding files.
fn open_each(options: &Options, results: &[FileScan]) -> Result<Checkouts> {
    let (found, outside) = locate(results);
    let root = options.root.canonicalize().unwrap_or(options.root.clone());
    if found.len() > 1
        && let Some(repo) = &options.repo
    {
        let labels: Vec<String> = found.keys().map(|top| label(&root, top)).collect();
        bail!(
            "--repo {repo} names one forge repository, but {} holds {} git repositories \
             ({}); leave --repo out: each repository's pull requests go to the one its \
             origin remote names",
            options.root.display(),
            found.len(),
            labels.join(", ")
        );
    }
    let config = match options.forge {
        Some(kind) => Some(ForgeConfig::from_environment(kind)?),
        None => None,
    };
    let mut checkouts = Vec::with_capacity(found.len());
    for (top, (git, files)) in found {
        let label = label(&root, &top);
        let repo = git.map_err(|e| e.to_string()).and_then(|git| {
            commit::open(git.top(), options.allow_dirty).map_err(|e| format!("{e:#}"))
        });
        if let Ok(repo) = &repo {
            state::ensure_outside(&options.state, repo.git.top())?;
        }
        let target = config.as_ref().map(|config| match &repo {
            Ok(repo) => propose::connect_with(config, repo).map_err(|e| format!("{label}: {e:#}")),
            Err(why) => Err(why.clone()),
        });
        checkouts.push(Checkout {
            label: Some(label),
            repo,
            target,
            files: Some(files),
        });
    }
    Ok(Checkouts { checkouts, outside })
}

/// The repositories holding each scanned file, by top-level directory (with the
/// repository, or why git could not open it), and the files in none.
#[allow(clippy::type_complexity)] // one map, read once by the caller
fn locate(
    results: &[FileScan],
) -> (
    BTreeMap<PathBuf, (Result<Git, GitError>, BTreeSet<usize>)>,
    Vec<usize>,
) {
    let mut finder = Finder::default();
    let mut tops: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut found: BTreeMap<PathBuf, (Result<Git, GitError>, BTreeSet<usize>)> = BTreeMap::new();
    let mut outside = Vec::new();
    for (index, result) in results.iter().enumerate() {
        let Some(dir) = finder.enclosing(&result.file.path) else {
            outside.push(index);
            continue;
        };
        // Git says where the working tree's top is (one `rev-parse` per `.git`).
        let top = tops.entry(dir.clone()).or_insert_with(|| {
            let git = Git::discover(&dir);
            let top = git.as_ref().map_or(dir.clone(), |g| g.top().to_path_buf());
            let top = top.canonicalize().unwrap_or(top);
            found.entry(top.clone()).or_insert((git, BTreeSet::new()));
            top
        });
        if let Some((_, files)) = found.get_mut(top) {
            files.insert(index);
        }
    }
    (found, outside)
}

/// The directory holding a file's nearest enclosing `.git`, remembered per directory.
#[derive(Debug, Default)]
struct Finder {
    known: HashMap<PathBuf, Option<PathBuf>>,
}

impl Finder {
    fn enclosing(&mut self, file: &Path) -> Option<PathBuf> {
        let absolute = std::path::absolute(file).ok()?;
        let mut walked = Vec::new();
        let mut found = None;
        for dir in absolute.ancestors().skip(1) {
            if let Some(known) = self.known.get(dir) {
                found = known.clone();
                break;
            }
            walked.push(dir.to_path_buf());
            // A directory, or the file a submodule or worktree has instead.
            if dir.join(".git").exists() {
                found = Some(dir.to_path_buf());
                break;
            }
        }
        for dir in walked {
            self.known.insert(dir, found.clone());
        }
        found
    }
}

/// `top` relative to the scanned root with `/` separators (`services/api`), else whole.
fn label(root: &Path, top: &Path) -> String {
    match top.strip_prefix(root) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        _ => top.display().to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_git_wins_and_answers_are_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/.git")).unwrap();
        std::fs::create_dir_all(root.join("a/sub/deep")).unwrap();
        std::fs::write(root.join("a/sub/.git"), "gitdir: ../.git/modules/sub\n").unwrap();
        std::fs::create_dir_all(root.join("loose")).unwrap();
        let mut finder = Finder::default();
        assert_eq!(
            finder.enclosing(&root.join("a/Dockerfile")),
            Some(root.join("a"))
        );
        assert_eq!(
            finder.enclosing(&root.join("a/sub/deep/Dockerfile")),
            Some(root.join("a/sub"))
        );
        assert!(finder.known.contains_key(&root.join("a/sub/deep")));
        // Answered from memory now, even once the marker is gone.
        std::fs::remove_file(root.join("a/sub/.git")).unwrap();
        assert_eq!(
            finder.enclosing(&root.join("a/sub/deep/compose.yaml")),
            Some(root.join("a/sub"))
        );
        let loose = finder.enclosing(&root.join("loose/Dockerfile"));
        assert!(
            loose.as_ref().is_none_or(|d| !d.starts_with(root)),
            "{loose:?}"
        );
    }

    #[test]
    fn labels_are_relative_to_the_root() {
        let root = Path::new("/w");
        assert_eq!(label(root, Path::new("/w/services/api")), "services/api");
        assert_eq!(label(root, Path::new("/elsewhere/x")), "/elsewhere/x");
        assert_eq!(label(root, Path::new("/w")), "/w");
    }
}
