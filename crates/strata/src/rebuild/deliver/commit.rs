//! act stage, `pins = "commit"`: the new pins committed on the repository's branch and
//! pushed to `origin`, where the repository's CI (or the trigger, told the commit) builds
//! them. The commit is built from the remote branch's tip with git plumbing (never in a
//! working tree: the user's files, index and HEAD are not touched) and pushed with a
//! lease on that tip; a branch that moved meanwhile is read again and the commit redone,
//! a bounded number of times. A tip that already has the new pins gets no commit.

use std::path::{Path, PathBuf};

use super::{Context, Move, rewrite};
use crate::discover::{Filters, SourceFile, classify, discover};
use crate::git::{Git, Pushed, TreeEntry};
use crate::scan::{FileScan, ScanOptions, extract_text, scan};
use crate::update::commit::REMOTE;

/// How many times a push refused because the branch moved is redone on the new tip.
pub(super) const ATTEMPTS: usize = 5;

/// One commit to make.
#[derive(Debug, Clone)]
pub(super) struct Job {
    /// A directory inside the repository.
    pub dir: PathBuf,
    /// The branch to commit on; `None`: the one checked out.
    pub branch: Option<String>,
    pub moves: Vec<Move>,
    pub scan: ScanOptions,
    /// The commit message's subject and body, without the list of pins.
    pub message: String,
    /// The push is the rebuild's trigger (the repository's CI builds on push): when
    /// nothing needs rewriting, an empty commit is pushed so the CI still builds.
    pub push_is_trigger: bool,
}

/// The trailer every commit of new pins carries, one per moved base
/// (`Strata-Rebuild-On: org/base:1@sha256:…`): how a rerun knows a push already
/// carried these moves.
const TRAILER: &str = "Strata-Rebuild-On";

/// How far back a branch's history is searched for the trailers.
const HISTORY: usize = 100;

/// Where the new pins are on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Committed {
    /// The commit that has them: new, or the tip that had them already.
    pub commit: String,
    pub branch: String,
    /// Whether this call pushed it.
    pub pushed: bool,
    /// `path:line` of the pins moved (empty when nothing was committed).
    pub places: Vec<String>,
}

impl Committed {
    /// The progress line.
    pub(super) fn describe(&self) -> String {
        let short = &self.commit[..self.commit.len().min(12)];
        if self.pushed && self.places.is_empty() {
            format!(
                "nothing pins a moved base: pushed the empty commit {short} to {REMOTE}/{} to \
                 start its build",
                self.branch
            )
        } else if self.pushed {
            format!(
                "pins committed as {short} and pushed to {REMOTE}/{} ({})",
                self.branch,
                self.places.join(", ")
            )
        } else {
            format!(
                "{REMOTE}/{} already pins the new digests at {short}",
                self.branch
            )
        }
    }
}

/// The commit message for `cx`'s image and its moved bases.
pub(super) fn message(cx: &Context<'_>, moves: &[Move]) -> String {
    let subject = match moves {
        [one] => format!("Pin {} to {}", one.base.familiar(), super::short(&one.to)),
        _ => format!("Pin the new bases of {}", cx.image.familiar()),
    };
    let mut body = format!(
        "{subject}\n\nstrata cascade {} from {} rebuilds {} on the new digests of its bases:\n\n",
        cx.cascade_id,
        cx.root.familiar(),
        cx.image.familiar()
    );
    for mv in moves {
        body.push_str(&format!("- {}: {}\n", mv.base.familiar(), mv.to));
    }
    body
}

/// Commits and pushes `job`'s pins; see the module docs. `None`: the directory has no
/// repository with an `origin` to push to, and nothing in it pins a moved base (so
/// nothing needs to reach the build).
pub(super) fn commit(job: &Job) -> Result<Option<Committed>, String> {
    let git = match Git::discover(&job.dir) {
        Ok(git) if git.remote_url(REMOTE).ok().flatten().is_some() => git,
        Ok(_) | Err(_) if job.push_is_trigger => {
            return Err(format!(
                "the push trigger pushes to {REMOTE}, and {} is in no git repository with an \
                 {REMOTE} remote",
                job.dir.display()
            ));
        }
        Ok(_) | Err(_) => return nothing_pinned(job).map(|()| None),
    };
    let top = git.top().to_path_buf();
    let branch = match &job.branch {
        Some(branch) => branch.clone(),
        None => git
            .current_branch()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "HEAD is detached in {}: set the repository's `branch` for pins = \"commit\"",
                    top.display()
                )
            })?,
    };
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let tip = remote_tip(&git, &branch)?;
        let files = scan_commit(&git, &top, &tip, &job.scan)?;
        let rewritten = rewrite(files, &job.moves, &job.scan)?;
        let trailers = trailers(&job.moves);
        if rewritten.places.is_empty() && (!job.push_is_trigger || carried(&git, &tip, &trailers)?)
        {
            return Ok(Some(Committed {
                commit: tip,
                branch,
                pushed: false,
                places: Vec::new(),
            }));
        }
        let mut entries = Vec::new();
        for outcome in rewritten.outcomes.iter().filter(|o| o.changed()) {
            let path = outcome.file.display.clone();
            let mode = git
                .file_at(&tip, &path)
                .map_err(|e| e.to_string())?
                .map_or_else(|| "100644".to_owned(), |(mode, _)| mode);
            let blob = git
                .write_blob(outcome.new.as_bytes())
                .map_err(|e| e.to_string())?;
            entries.push(TreeEntry { path, mode, blob });
        }
        let moved = if rewritten.places.is_empty() {
            "No pin to move: this commit starts the rebuild.".to_owned()
        } else {
            format!("Pins moved: {}", rewritten.places.join(", "))
        };
        let message = format!("{}\n{moved}\n\n{trailers}", job.message);
        let tree = if entries.is_empty() {
            git.tree_of(&tip).map_err(|e| e.to_string())?
        } else {
            git.tree_with(&tip, &entries).map_err(|e| e.to_string())?
        };
        let commit = git
            .commit_tree(&tree, &tip, &message)
            .map_err(|e| e.to_string())?;
        match git
            .push_commit(REMOTE, &commit, &branch, &tip)
            .map_err(|e| e.to_string())?
        {
            Pushed::Done => {
                return Ok(Some(Committed {
                    commit,
                    branch,
                    pushed: true,
                    places: rewritten.places,
                }));
            }
            Pushed::Stale { summary } => last = summary,
            Pushed::RemoteRejected {
                summary,
                remote_said,
            } => {
                let said = if remote_said.is_empty() {
                    String::new()
                } else {
                    format!(": {remote_said}")
                };
                return Err(format!(
                    "{REMOTE} refused the push of the new pins to {branch} {summary}{said}; if \
                     {branch} is protected, let a pull request carry them instead: trigger = \
                     {{ kind = \"pr\", auto_merge = true }} (pins = \"pull-request\")"
                ));
            }
        }
    }
    Err(format!(
        "{REMOTE}/{branch} kept moving: the push of the new pins was refused {ATTEMPTS} times \
         ({last})"
    ))
}

/// `Strata-Rebuild-On: <base>@<digest>` lines for `moves`.
fn trailers(moves: &[Move]) -> String {
    moves
        .iter()
        .map(|m| format!("{TRAILER}: {}@{}\n", m.base, m.to))
        .collect()
}

/// Whether a recent commit of `tip`'s history carries every one of `trailers`.
fn carried(git: &Git, tip: &str, trailers: &str) -> Result<bool, String> {
    let messages = git.messages(tip, HISTORY).map_err(|e| e.to_string())?;
    Ok(messages
        .split('\0')
        .any(|message| trailers.lines().all(|t| message.lines().any(|l| l == t))))
}

/// Without a repository to push to: fine when the working tree pins no moved base at an
/// old digest, else an error saying why the pins cannot reach the build.
fn nothing_pinned(job: &Job) -> Result<(), String> {
    let (files, _walk_errors) = discover(std::slice::from_ref(&job.dir), &Filters::default())
        .map_err(|e| format!("reading {}: {e}", job.dir.display()))?;
    let rewritten = rewrite(scan(&files, &job.scan), &job.moves, &job.scan)?;
    if rewritten.places.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} pins {} ({}) but is in no git repository with an {REMOTE} remote to push the new \
         pins to: set pins = \"in-place\" for a build that reads this directory",
        job.dir.display(),
        super::moved(&job.moves),
        rewritten.places.join(", ")
    ))
}

/// The commit `branch` has on `origin` now, fetched when it is not here yet.
fn remote_tip(git: &Git, branch: &str) -> Result<String, String> {
    let tip = git
        .remote_branch(REMOTE, branch)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{REMOTE} has no branch {branch} to commit the new pins on"))?;
    if git.resolve(&tip).map_err(|e| e.to_string())?.is_none() {
        git.fetch_branch(REMOTE, branch)
            .map_err(|e| format!("fetching {branch} from {REMOTE}: {e}"))?;
    }
    Ok(tip)
}

/// Every image file of `commit`, read from git and extracted (the working tree is not
/// read). Paths are relative to the top level.
fn scan_commit(
    git: &Git,
    top: &Path,
    commit: &str,
    opts: &ScanOptions,
) -> Result<Vec<FileScan>, String> {
    let mut out = Vec::new();
    for entry in git.files_at(commit).map_err(|e| e.to_string())? {
        let relative = Path::new(&entry.path);
        let hidden = relative.components().any(|c| {
            let name = c.as_os_str().to_string_lossy();
            name.starts_with('.') && name != ".github"
        });
        let Some(kind) = classify(relative).filter(|_| !hidden) else {
            continue;
        };
        let Ok(text) = String::from_utf8(git.blob(&entry.blob).map_err(|e| e.to_string())?) else {
            continue;
        };
        let file = SourceFile {
            path: top.join(relative),
            display: entry.path.clone(),
            kind,
            reach: None,
        };
        let extraction = extract_text(&file, &text, opts);
        out.push(FileScan {
            file,
            text,
            extraction,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;
    use std::process::Command;

    use strata_core::graph::ImageRef;

    use super::*;

    fn sh(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {:?}", out);
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    const OLD: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const NEW: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    /// A clone of a bare `origin` whose main has a Dockerfile pinning `org/base:1` at OLD.
    fn setup() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let (origin, work) = (dir.path().join("origin.git"), dir.path().join("work"));
        std::fs::create_dir_all(&work).unwrap();
        sh(
            dir.path(),
            &[
                "init",
                "-q",
                "--bare",
                "--initial-branch=main",
                "origin.git",
            ],
        );
        sh(&work, &["init", "-q", "--initial-branch=main"]);
        std::fs::write(
            work.join("Dockerfile"),
            format!("FROM registry.example.com/org/base:1@{OLD}\n"),
        )
        .unwrap();
        sh(&work, &["add", "."]);
        sh(&work, &["commit", "-q", "-m", "initial"]);
        sh(
            &work,
            &["remote", "add", "origin", origin.to_str().unwrap()],
        );
        sh(&work, &["push", "-q", "origin", "main"]);
        (dir, origin, work)
    }

    fn job(work: &Path, push_is_trigger: bool) -> Job {
        Job {
            dir: work.to_path_buf(),
            branch: None,
            moves: vec![Move {
                base: ImageRef::parse("registry.example.com/org/base:1").unwrap(),
                to: NEW.parse().unwrap(),
            }],
            scan: ScanOptions::default(),
            message: "Pin org/base:1\n".to_owned(),
            push_is_trigger,
        }
    }

    fn origin_file(origin: &Path, path: &str) -> String {
        sh(origin, &["show", &format!("main:{path}")])
    }

    #[test]
    fn a_branch_that_moved_meanwhile_gets_the_commit_redone_on_its_new_tip() {
        let (_dir, origin, work) = setup();
        // Someone else's push wins the race, once: the hook moves main first.
        let other = origin.join("other-push");
        let hook = origin.join("hooks/pre-receive");
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\nif [ ! -e '{marker}' ]; then\n  touch '{marker}'\n  \
                 unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY \
                 GIT_ALTERNATE_OBJECT_DIRECTORIES\n  \
                 c=$(git commit-tree -p main -m other \"$(git rev-parse main^{{tree}})\")\n  \
                 git update-ref refs/heads/main \"$c\"\nfi\nexit 0\n",
                marker = other.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        let done = commit(&job(&work, false)).unwrap().unwrap();
        assert!(done.pushed);
        assert_eq!(done.places, ["Dockerfile:1"]);
        assert!(origin_file(&origin, "Dockerfile").contains(NEW));
        // Redone on the other push's commit, which is kept.
        let parent = sh(&origin, &["rev-parse", "main^"]);
        assert_eq!(sh(&origin, &["log", "-1", "--format=%s", &parent]), "other");
        let message = sh(&origin, &["log", "-1", "--format=%B", "main"]);
        assert!(
            message.contains(&format!(
                "Strata-Rebuild-On: registry.example.com/org/base:1@{NEW}"
            )),
            "{message}"
        );
        // Nothing left to do: a second delivery pushes nothing.
        let again = commit(&job(&work, false)).unwrap().unwrap();
        assert!(!again.pushed);
        assert_eq!(again.commit, sh(&origin, &["rev-parse", "main"]));
        // Not even as the trigger: the branch already carries the move.
        let trigger = commit(&job(&work, true)).unwrap().unwrap();
        assert!(!trigger.pushed);
    }

    #[test]
    fn a_protected_branch_names_the_setting_to_use_and_nothing_is_pushed() {
        let (_dir, origin, work) = setup();
        let hook = origin.join("hooks/pre-receive");
        std::fs::write(
            &hook,
            "#!/bin/sh\necho 'GitLab: You are not allowed to push code to protected branches on this project.' >&2\nexit 1\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        let err = commit(&job(&work, false)).unwrap_err();
        assert!(
            err.contains("protected branches") && err.contains("kind = \"pr\""),
            "{err}"
        );
        assert!(origin_file(&origin, "Dockerfile").contains(OLD));
    }

    #[test]
    fn a_push_trigger_with_nothing_pinned_pushes_one_empty_commit() {
        let (_dir, origin, work) = setup();
        std::fs::write(
            work.join("Dockerfile"),
            "FROM registry.example.com/org/base:1\n",
        )
        .unwrap();
        sh(&work, &["commit", "-q", "-am", "unpinned"]);
        sh(&work, &["push", "-q", "origin", "main"]);
        let before = sh(&origin, &["rev-parse", "main"]);
        let done = commit(&job(&work, true)).unwrap().unwrap();
        assert!(done.pushed && done.places.is_empty());
        assert_eq!(sh(&origin, &["rev-parse", "main^"]), before);
        assert_eq!(
            sh(&origin, &["rev-parse", "main^{tree}"]),
            sh(&origin, &["rev-parse", &format!("{before}^{{tree}}")])
        );
        assert!(
            done.describe().contains("empty commit"),
            "{}",
            done.describe()
        );
        let again = commit(&job(&work, true)).unwrap().unwrap();
        assert!(!again.pushed, "the move was pushed already");
        // Without the push being the trigger, nothing is pushed at all.
        let (_dir2, origin2, work2) = setup();
        std::fs::write(
            work2.join("Dockerfile"),
            "FROM registry.example.com/org/base:1\n",
        )
        .unwrap();
        sh(&work2, &["commit", "-q", "-am", "unpinned"]);
        sh(&work2, &["push", "-q", "origin", "main"]);
        let tip = sh(&origin2, &["rev-parse", "main"]);
        let done = commit(&job(&work2, false)).unwrap().unwrap();
        assert!(!done.pushed);
        assert_eq!(done.commit, tip);
    }
}
