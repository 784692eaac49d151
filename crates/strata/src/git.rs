//! act stage: the `git` command-line adapter. Runs `git` as a child process with an
//! argument vector (never a shell) and terminal prompts off, so credentials come from the
//! user's helpers and SSH agent and a missing one fails instead of hanging. Commits are
//! built with plumbing (blobs, a temporary index, `commit-tree`, `update-ref`), so no
//! working tree, index or HEAD of the user's is ever touched. It decides nothing about
//! images or branches' contents.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a git command failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` could not be started.
    #[error("cannot run git (is it installed and on PATH?): {source}")]
    Spawn { source: std::io::Error },
    /// The directory is in no git repository.
    #[error("{} is not inside a git repository", dir.display())]
    NotARepository { dir: PathBuf },
    /// A command exited unsuccessfully.
    #[error("`git {command}` failed{}: {stderr}", code.map(|c| format!(" (exit {c})")).unwrap_or_default())]
    Failed {
        command: String,
        code: Option<i32>,
        stderr: String,
    },
    /// A command printed something this adapter does not understand.
    #[error("`git {command}` printed something unexpected: {detail}")]
    Unexpected { command: String, detail: String },
}

/// The name and e-mail used when neither the environment nor git's configuration
/// names an author or committer.
pub const FALLBACK_NAME: &str = "strata";
pub const FALLBACK_EMAIL: &str = "strata@localhost";

/// One file's new content in a tree: `mode` as git writes it (`100644`, `100755`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub path: String,
    pub mode: String,
    pub blob: String,
}

/// How a push of a commit ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote branch now points at the commit.
    Done,
    /// The remote branch was not where the lease expected (it moved meanwhile): try again
    /// on its new tip.
    Stale { summary: String },
    /// The remote refused the update itself (a protected branch, a hook); `remote_said`
    /// is what it printed.
    RemoteRejected {
        summary: String,
        remote_said: String,
    },
}

/// A repository, addressed through its top-level directory.
#[derive(Debug, Clone)]
pub struct Git {
    top: PathBuf,
}

impl Git {
    /// The repository containing `dir`.
    pub fn discover(dir: &Path) -> Result<Git, GitError> {
        let probe = Git {
            top: dir.to_path_buf(),
        };
        match probe.run(["rev-parse", "--show-toplevel"]) {
            Ok(top) if !top.is_empty() => Ok(Git {
                top: PathBuf::from(top),
            }),
            Ok(_) | Err(GitError::Failed { .. }) => Err(GitError::NotARepository {
                dir: dir.to_path_buf(),
            }),
            Err(err) => Err(err),
        }
    }

    /// The working tree's top-level directory.
    pub fn top(&self) -> &Path {
        &self.top
    }

    /// The checked-out branch (`main`), or `None` on a detached HEAD.
    pub fn current_branch(&self) -> Result<Option<String>, GitError> {
        self.optional(["symbolic-ref", "-q", "--short", "HEAD"])
    }

    /// The commit a revision names, or `None` when it names none.
    pub fn resolve(&self, revision: &str) -> Result<Option<String>, GitError> {
        let spec = format!("{revision}^{{commit}}");
        self.optional(["rev-parse", "--verify", "-q", spec.as_str()])
    }

    /// Tracked files with modifications, staged or not (`XY path` lines of
    /// `git status --porcelain`); empty when the working tree is clean. Untracked files
    /// do not count. Never refreshes the index (`--no-optional-locks`).
    pub fn modified(&self) -> Result<Vec<String>, GitError> {
        let out = self.run([
            "--no-optional-locks",
            "status",
            "--porcelain=v1",
            "--untracked-files=no",
            "--ignore-submodules=dirty",
        ])?;
        Ok(out.lines().map(str::to_owned).collect())
    }

    /// The mode and blob of `path` (relative, `/`-separated) in `commit`; `None` when
    /// the commit has no file there (or only a directory, link or submodule).
    pub fn file_at(&self, commit: &str, path: &str) -> Result<Option<(String, String)>, GitError> {
        let out = self.run(["ls-tree", "-z", commit, "--", path])?;
        for record in out.split('\0').filter(|r| !r.is_empty()) {
            let Some((meta, name)) = record.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = meta.split(' ').collect();
            if let [mode, "blob", blob] = fields.as_slice()
                && name == path
                && mode.starts_with("100")
            {
                return Ok(Some(((*mode).to_owned(), (*blob).to_owned())));
            }
        }
        Ok(None)
    }

    /// A blob's bytes.
    pub fn blob(&self, blob: &str) -> Result<Vec<u8>, GitError> {
        Ok(self.output(["cat-file", "blob", blob], None)?.stdout)
    }

    /// Stores `bytes` as a blob, exactly (no clean filters or line-ending conversion),
    /// and returns its id.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<String, GitError> {
        let out = self.output(
            ["hash-object", "-w", "--no-filters", "--stdin"],
            Some(bytes),
        )?;
        object_id("hash-object", &out.stdout)
    }

    /// The tree of `commit` with `entries` replacing or adding files, written through a
    /// temporary index so the repository's own index is never read or written.
    pub fn tree_with(&self, commit: &str, entries: &[TreeEntry]) -> Result<String, GitError> {
        let index = TempIndex::new(&self.git_dir()?);
        let env = [("GIT_INDEX_FILE", index.path.as_os_str())];
        self.output_env(["read-tree", commit], None, &env)?;
        let mut info = Vec::new();
        for entry in entries {
            info.extend_from_slice(
                format!("{} {}\t{}\0", entry.mode, entry.blob, entry.path).as_bytes(),
            );
        }
        self.output_env(["update-index", "-z", "--index-info"], Some(&info), &env)?;
        let out = self.output_env(["write-tree"], None, &env)?;
        object_id("write-tree", &out.stdout)
    }

    /// A new commit of `tree` on `parent` with `message`, authored and committed by
    /// whoever git's configuration or environment names, else [`FALLBACK_NAME`].
    pub fn commit_tree(&self, tree: &str, parent: &str, message: &str) -> Result<String, GitError> {
        let identity = self.fallback_identity()?;
        let env: Vec<(&str, &OsStr)> = identity.iter().map(|(k, v)| (*k, OsStr::new(*v))).collect();
        let args = ["commit-tree", tree, "-p", parent, "-F", "-"];
        let out = self.output_env(args, Some(message.as_bytes()), &env)?;
        object_id("commit-tree", &out.stdout)
    }

    /// The identity variables to set: only those neither the environment nor git's
    /// configuration provides.
    fn fallback_identity(&self) -> Result<Vec<(&'static str, &'static str)>, GitError> {
        let mut env = Vec::new();
        for role in ["author", "committer"] {
            for (field, fallback) in [("name", FALLBACK_NAME), ("email", FALLBACK_EMAIL)] {
                let variable = match (role, field) {
                    ("author", "name") => "GIT_AUTHOR_NAME",
                    ("author", _) => "GIT_AUTHOR_EMAIL",
                    (_, "name") => "GIT_COMMITTER_NAME",
                    _ => "GIT_COMMITTER_EMAIL",
                };
                if std::env::var_os(variable).is_some_and(|v| !v.is_empty()) {
                    continue;
                }
                let own = self.config(&format!("{role}.{field}"))?;
                let user = self.config(&format!("user.{field}"))?;
                if own.or(user).is_none_or(|v| v.is_empty()) {
                    env.push((variable, fallback));
                }
            }
        }
        Ok(env)
    }

    /// A configuration value, or `None` when unset.
    pub fn config(&self, key: &str) -> Result<Option<String>, GitError> {
        self.optional(["config", "--get", key])
    }

    /// Points `refs/heads/<branch>` at `commit` if it still points at `expected`
    /// (`None`: if it does not exist yet), atomically.
    pub fn set_branch(
        &self,
        branch: &str,
        commit: &str,
        expected: Option<&str>,
    ) -> Result<(), GitError> {
        let name = format!("refs/heads/{branch}");
        let old = expected.unwrap_or("");
        let args = [
            "update-ref",
            "-m",
            "strata update",
            name.as_str(),
            commit,
            old,
        ];
        self.run(args).map(drop)
    }

    /// The best common ancestor of two commits; `None` when they share no history.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<Option<String>, GitError> {
        self.optional(["merge-base", a, b])
    }

    /// A stable id of the change from `from` to `to` (`git patch-id --stable`: the diff
    /// without line numbers or commit data); `None` when the trees are equal.
    pub fn patch_id(&self, from: &str, to: &str) -> Result<Option<String>, GitError> {
        let diff = self.output(
            ["diff-tree", "-p", "--full-index", "--no-color", from, to],
            None,
        )?;
        if diff.stdout.is_empty() {
            return Ok(None);
        }
        let out = self.output(["patch-id", "--stable"], Some(&diff.stdout))?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.split_whitespace().next().map(str::to_owned))
    }

    /// The URL of remote `name`, as configured; `None` without such a remote.
    pub fn remote_url(&self, name: &str) -> Result<Option<String>, GitError> {
        self.config(&format!("remote.{name}.url"))
    }

    /// The commit `refs/heads/<branch>` has on `remote` right now; `None` if absent.
    pub fn remote_branch(&self, remote: &str, branch: &str) -> Result<Option<String>, GitError> {
        let name = format!("refs/heads/{branch}");
        let out = self.run(["ls-remote", "--quiet", remote, name.as_str()])?;
        Ok(out.lines().find_map(|line| {
            let (id, found) = line.split_once('\t')?;
            (found == name).then(|| id.to_owned())
        }))
    }

    /// Fetches `branch` from `remote` into `refs/remotes/<remote>/<branch>`.
    pub fn fetch_branch(&self, remote: &str, branch: &str) -> Result<(), GitError> {
        let spec = format!("+refs/heads/{branch}:refs/remotes/{remote}/{branch}");
        self.run(["fetch", "--quiet", "--no-tags", remote, spec.as_str()])
            .map(drop)
    }

    /// Pushes the local `branch` to `remote` if the remote branch is still at `expected`
    /// (`None`: still absent): `git push --force-with-lease`, so a branch someone else
    /// moved meanwhile is never overwritten.
    pub fn push_branch(
        &self,
        remote: &str,
        branch: &str,
        expected: Option<&str>,
    ) -> Result<(), GitError> {
        let name = format!("refs/heads/{branch}");
        let lease = format!("--force-with-lease={name}:{}", expected.unwrap_or(""));
        let spec = format!("{name}:{name}");
        let args = [
            "push",
            "--quiet",
            "--porcelain",
            lease.as_str(),
            remote,
            spec.as_str(),
        ];
        self.run(args).map(drop)
    }

    /// The messages of the last `count` commits reachable from `commit`, newest first, as
    /// one text.
    pub fn messages(&self, commit: &str, count: usize) -> Result<String, GitError> {
        let count = format!("--max-count={count}");
        let out = self.output(["log", count.as_str(), "--format=%B%x00", commit], None)?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The tree of `commit`.
    pub fn tree_of(&self, commit: &str) -> Result<String, GitError> {
        let spec = format!("{commit}^{{tree}}");
        self.run(["rev-parse", "--verify", spec.as_str()])
    }

    /// Every file of `commit` (regular files only, not links or submodules), with its
    /// mode and blob.
    pub fn files_at(&self, commit: &str) -> Result<Vec<TreeEntry>, GitError> {
        let out = self.output(["ls-tree", "-r", "-z", "--full-tree", commit], None)?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut files = Vec::new();
        for record in text.split('\0').filter(|r| !r.is_empty()) {
            let Some((meta, path)) = record.split_once('\t') else {
                continue;
            };
            if let [mode, "blob", blob] = meta.split(' ').collect::<Vec<_>>().as_slice()
                && mode.starts_with("100")
            {
                files.push(TreeEntry {
                    path: path.to_owned(),
                    mode: (*mode).to_owned(),
                    blob: (*blob).to_owned(),
                });
            }
        }
        Ok(files)
    }

    /// Pushes `commit` to `refs/heads/<branch>` of `remote` if that branch is still at
    /// `expected` (`git push --force-with-lease`). A refusal is an answer, not an error:
    /// the branch moved meanwhile, or the remote (a protected branch, a hook) said no.
    pub fn push_commit(
        &self,
        remote: &str,
        commit: &str,
        branch: &str,
        expected: &str,
    ) -> Result<Pushed, GitError> {
        let name = format!("refs/heads/{branch}");
        let lease = format!("--force-with-lease={name}:{expected}");
        let spec = format!("{commit}:{name}");
        let args = ["push", "--porcelain", lease.as_str(), remote, spec.as_str()];
        let out = self.spawn(&args, None, &[])?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        // `<flag>\t<from>:<to>\t<summary> (<reason>)`: `!` is a refusal.
        let refused = stdout
            .lines()
            .find(|line| line.starts_with('!') && line.contains(&name));
        match (out.status.success(), refused) {
            (true, None) => Ok(Pushed::Done),
            (_, Some(line)) => {
                let summary = line.rsplit('\t').next().unwrap_or(line).trim().to_owned();
                let remote_said = trimmed(&out.stderr)
                    .lines()
                    .filter_map(|l| l.strip_prefix("remote:"))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" / ");
                // The ref moved under the remote's own lock (another push won the race)
                // is as stale as a lease that no longer holds.
                let raced = ["cannot lock ref", "failed to update ref", "but expected"]
                    .iter()
                    .any(|words| summary.contains(words));
                if summary.starts_with("[remote rejected]") && !raced {
                    Ok(Pushed::RemoteRejected {
                        summary,
                        remote_said,
                    })
                } else {
                    Ok(Pushed::Stale { summary })
                }
            }
            (false, None) => Err(failed(&args, &out)),
        }
    }

    /// The repository's git directory (absolute).
    fn git_dir(&self) -> Result<PathBuf, GitError> {
        self.run(["rev-parse", "--absolute-git-dir"])
            .map(PathBuf::from)
    }

    /// Runs a command whose exit status 1 means "no answer" (`None`).
    fn optional<const N: usize>(&self, args: [&str; N]) -> Result<Option<String>, GitError> {
        let out = self.spawn(&args, None, &[])?;
        match out.status.code() {
            Some(0) => Ok(Some(trimmed(&out.stdout))),
            Some(1) if out.stderr.is_empty() => Ok(None),
            _ => Err(failed(&args, &out)),
        }
    }

    /// Runs a command; its standard output without the final newline.
    fn run<const N: usize>(&self, args: [&str; N]) -> Result<String, GitError> {
        Ok(trimmed(&self.output(args, None)?.stdout))
    }

    fn output<const N: usize>(
        &self,
        args: [&str; N],
        input: Option<&[u8]>,
    ) -> Result<Output, GitError> {
        self.output_env(args, input, &[])
    }

    fn output_env<const N: usize>(
        &self,
        args: [&str; N],
        input: Option<&[u8]>,
        env: &[(&str, &OsStr)],
    ) -> Result<Output, GitError> {
        let out = self.spawn(&args, input, env)?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(failed(&args, &out))
        }
    }

    fn spawn(
        &self,
        args: &[&str],
        input: Option<&[u8]>,
        env: &[(&str, &OsStr)],
    ) -> Result<Output, GitError> {
        let mut command = Command::new("git");
        command
            .arg("-C")
            .arg(&self.top)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .map_err(|source| GitError::Spawn { source })?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            // Written from another thread: git may fill its output pipe before it has
            // read all of its input.
            let bytes = bytes.to_vec();
            let writer = std::thread::spawn(move || stdin.write_all(&bytes));
            let out = child
                .wait_with_output()
                .map_err(|source| GitError::Spawn { source })?;
            let _ = writer.join();
            return Ok(out);
        }
        child
            .wait_with_output()
            .map_err(|source| GitError::Spawn { source })
    }
}

fn trimmed(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim_end().to_owned()
}

fn failed(args: &[&str], out: &Output) -> GitError {
    GitError::Failed {
        command: args.join(" "),
        code: out.status.code(),
        stderr: trimmed(&out.stderr).trim().to_owned(),
    }
}

/// The object id a plumbing command printed.
fn object_id(command: &str, stdout: &[u8]) -> Result<String, GitError> {
    let id = trimmed(stdout);
    if id.len() >= 40 && id.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(id)
    } else {
        Err(GitError::Unexpected {
            command: command.to_owned(),
            detail: format!("expected an object id, got {id:?}"),
        })
    }
}

/// A temporary index file in the git directory, removed when dropped.
struct TempIndex {
    path: PathBuf,
}

impl TempIndex {
    fn new(git_dir: &Path) -> TempIndex {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("strata-index-{}-{n}", std::process::id());
        TempIndex {
            path: git_dir.join(name),
        }
    }
}

impl Drop for TempIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
