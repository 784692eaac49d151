//! graph stage, repositories: where each workspace repository's files are on disk —
//! a local directory as configured, or a shallow git clone kept in the clone directory
//! and refreshed on every run. Runs `git` (which honours the user's credential helpers);
//! reads no file contents.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest as _, Sha256};

use crate::config::workspace::{RepositorySource, RepositorySpec, Workspace};

/// A workspace repository ready to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub name: String,
    pub dir: PathBuf,
    /// The repository's spec (`None` for the implicit one-directory workspace).
    pub spec: Option<RepositorySpec>,
}

/// Every repository of `workspace`, cloned or refreshed as needed. Without a declared
/// workspace, the config's directory is the one repository.
pub fn checkouts(workspace: &Workspace, cache_dir: Option<&Path>) -> Result<Vec<Checkout>> {
    if !workspace.declared {
        let dir = workspace.base_dir.clone();
        let name = std::path::absolute(&dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "workspace".to_owned());
        return Ok(vec![Checkout {
            name,
            dir,
            spec: None,
        }]);
    }
    let clone_dir = workspace
        .clone_dir
        .clone()
        .or_else(|| cache_dir.map(|d| d.join("repositories")));
    let mut out = Vec::new();
    for spec in &workspace.repositories {
        let dir = match &spec.source {
            RepositorySource::Local(path) => {
                let dir = workspace.base_dir.join(path);
                if !dir.is_dir() {
                    bail!(
                        "repository {}: {} is not a directory",
                        spec.name,
                        dir.display()
                    );
                }
                dir
            }
            RepositorySource::Git { url, rev } => {
                let Some(root) = &clone_dir else {
                    bail!(
                        "repository {}: no directory to clone {url} into (set \
                         workspace.clone_dir or STRATA_CACHE_DIR)",
                        spec.name
                    );
                };
                let dir = root.join(clone_name(&spec.name, url));
                sync(url, rev.as_deref(), &dir)
                    .with_context(|| format!("repository {}: fetching {url}", spec.name))?;
                dir
            }
        };
        out.push(Checkout {
            name: spec.name.clone(),
            dir,
            spec: Some(spec.clone()),
        });
    }
    Ok(out)
}

/// `<name>-<first 12 hex of sha256(url)>`: readable, and two URLs never share a clone.
fn clone_name(name: &str, url: &str) -> String {
    let hash = hex::encode(Sha256::digest(url.as_bytes()));
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}-{}", &hash[..12])
}

/// A shallow clone of `rev` (default branch when `None`) at `dir`, fetched again and
/// reset when it exists, so the files are always the remote's current ones. One process
/// or task at a time per clone (a lock file beside it): two fetches into one clone at
/// once trip over each other's `FETCH_HEAD`.
fn sync(url: &str, rev: Option<&str>, dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let lock_path = dir.with_extension("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    lock.lock()
        .with_context(|| format!("locking {}", lock_path.display()))?;
    let synced = sync_locked(url, rev, dir);
    let _ = lock.unlock();
    synced
}

fn sync_locked(url: &str, rev: Option<&str>, dir: &Path) -> Result<()> {
    if dir.join(".git").is_dir() {
        let wanted = rev.unwrap_or("HEAD");
        git(dir, &["fetch", "--quiet", "--depth", "1", "origin", wanted])?;
        // Reset only when the remote moved on: pins a cascade wrote in place stay until
        // the remote has something newer.
        let fetched = output(dir, &["rev-parse", "FETCH_HEAD"])?;
        if output(dir, &["rev-parse", "HEAD"]).ok() != Some(fetched) {
            git(dir, &["reset", "--quiet", "--hard", "FETCH_HEAD"])?;
        }
        return Ok(());
    }
    let mut args = vec!["clone", "--quiet", "--depth", "1"];
    if let Some(rev) = rev {
        args.extend(["--branch", rev]);
    }
    let target = dir.to_string_lossy().into_owned();
    args.extend(["--", url, target.as_str()]);
    git(Path::new("."), &args)
}

/// What a git command printed, trimmed.
fn output(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .context("running git (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "git {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    output(dir, args).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_names_are_safe_and_distinct() {
        let a = clone_name("org/vumi", "https://x.example/org/vumi.git");
        let b = clone_name("org/vumi", "https://y.example/org/vumi.git");
        assert!(a.starts_with("org_vumi-"), "{a}");
        assert_ne!(a, b);
        assert_eq!(a.len(), "org_vumi-".len() + 12);
    }
}
