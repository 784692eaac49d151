//! init stage, files side: the repositories `strata init` describes and what it reads of
//! each — its CI files (GitHub workflows and local actions, the GitLab pipeline and its
//! includes) and, through `git`, its `origin` and default branch. Reads files and runs
//! `git config`/`git symbolic-ref`; writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use strata_core::ci::{File, Repository};

/// Largest CI file read (a workflow is a few kilobytes).
const MAX_FILE: u64 = 512 * 1024;

/// How deep under a repository YAML files are looked for (local actions, includes).
const MAX_DEPTH: usize = 5;

/// One repository found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Its name in the workspace (the directory's name).
    pub name: String,
    pub dir: PathBuf,
    /// What the CI readers are told.
    pub repository: Repository,
    /// Where `origin` is, when there is one.
    pub origin: Option<Origin>,
    /// The CI and YAML files read, relative to the repository.
    pub files: Vec<File>,
}

/// The forge `origin` points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub url: String,
    /// `github.com`, `gitlab.com`, `git.example.com`.
    pub host: String,
    /// `owner/name` (a GitLab project path may have subgroups).
    pub path: String,
}

impl Origin {
    pub fn is_github(&self) -> bool {
        self.host.contains("github")
    }

    pub fn is_gitlab(&self) -> bool {
        self.host.contains("gitlab")
    }
}

/// The repositories under `paths`: a path that is a git repository (or holds no git
/// repository at all) is one; a folder whose subfolders are git repositories gives
/// each of them.
pub fn find(paths: &[PathBuf]) -> Result<Vec<Found>> {
    let mut dirs = Vec::new();
    for path in paths {
        if !path.is_dir() {
            anyhow::bail!("{} is not a directory", path.display());
        }
        if path.join(".git").exists() {
            dirs.push(path.clone());
            continue;
        }
        let mut children: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() && p.join(".git").exists())
            .collect();
        children.sort();
        if children.is_empty() {
            dirs.push(path.clone());
        } else {
            dirs.extend(children);
        }
    }
    let mut out = Vec::new();
    for dir in dirs {
        out.push(read(&dir)?);
    }
    Ok(out)
}

fn read(dir: &Path) -> Result<Found> {
    let name = std::path::absolute(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "repository".to_owned());
    let origin = git(dir, &["config", "--get", "remote.origin.url"]).and_then(|u| parse_origin(&u));
    let default_branch = git(
        dir,
        &["symbolic-ref", "--short", "refs/remotes/origin/HEAD"],
    )
    .and_then(|r| r.split_once('/').map(|(_, b)| b.to_owned()))
    .or_else(|| git(dir, &["symbolic-ref", "--short", "HEAD"]))
    .unwrap_or_else(|| "main".to_owned());
    let gitlab_registry = origin
        .as_ref()
        .filter(|o| o.host == "gitlab.com")
        .map(|_| "registry.gitlab.com".to_owned());
    let repository = Repository {
        slug: origin.as_ref().map(|o| o.path.clone()),
        default_branch,
        gitlab_registry,
    };
    let mut files = Vec::new();
    collect(dir, dir, 0, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Found {
        name,
        dir: dir.to_path_buf(),
        repository,
        origin,
        files,
    })
}

/// `git -C dir args…`'s output line, if it ran and printed one.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let line = text.lines().next()?.trim().to_owned();
    (output.status.success() && !line.is_empty()).then_some(line)
}

/// `https://github.com/owner/name.git`, `git@github.com:owner/name.git`,
/// `ssh://git@host:22/group/sub/name`.
pub fn parse_origin(url: &str) -> Option<Origin> {
    let trimmed = url.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    let (host, path) = if let Some((_, rest)) = trimmed.split_once("://") {
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        let (host, path) = rest.split_once('/')?;
        (host.split(':').next()?.to_owned(), path.to_owned())
    } else {
        let rest = trimmed.rsplit_once('@').map_or(trimmed, |(_, r)| r);
        let (host, path) = rest.split_once(':')?;
        (host.to_owned(), path.to_owned())
    };
    let path = path.trim_matches('/').to_owned();
    (!host.is_empty() && path.contains('/')).then(|| Origin {
        url: url.trim().to_owned(),
        host: host.to_ascii_lowercase(),
        path,
    })
}

/// YAML files a CI reader may need: workflows, local actions, the pipeline and its
/// includes. Hidden folders other than `.github`, `.gitlab` and `.ci` are skipped, and
/// so are dependency folders.
fn collect(root: &Path, dir: &Path, depth: usize, out: &mut Vec<File>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            let hidden =
                name.starts_with('.') && !matches!(name.as_str(), ".github" | ".gitlab" | ".ci");
            if hidden || matches!(name.as_str(), "node_modules" | "vendor" | "target") {
                continue;
            }
            collect(root, &path, depth + 1, out)?;
        } else if kind.is_file() && (name.ends_with(".yml") || name.ends_with(".yaml")) {
            if entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX) > MAX_FILE {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push(File {
                path: relative,
                text,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The URL forms git documents under "GIT URLS" (git-clone(1)).
    #[test]
    fn origins_in_every_url_form() {
        let cases = [
            ("https://github.com/org/app.git", "github.com", "org/app"),
            ("https://github.com/org/app", "github.com", "org/app"),
            ("git@github.com:org/app.git", "github.com", "org/app"),
            (
                "ssh://git@gitlab.example.com:2222/group/sub/app.git",
                "gitlab.example.com",
                "group/sub/app",
            ),
            (
                "https://user:token@gitlab.com/group/app.git/",
                "gitlab.com",
                "group/app",
            ),
        ];
        for (url, host, path) in cases {
            let origin = parse_origin(url).unwrap();
            assert_eq!(
                (origin.host.as_str(), origin.path.as_str()),
                (host, path),
                "{url}"
            );
        }
        assert!(parse_origin("/srv/git/app").is_none());
    }
}
