//! act stage, on files: replaces files with their rewritten text atomically (a temporary
//! file in the same directory, fsync, rename, then fsync of the directory), keeping the
//! file's permissions, so a crash leaves the old file or the new one, never half of one;
//! and renders the unified diff `--dry-run` prints. It decides nothing about contents.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};

/// One file to replace: `old` is what was read (the file must still hold it), `new` what
/// goes in its place.
#[derive(Debug, Clone, Copy)]
pub struct FileWrite<'a> {
    pub path: &'a Path,
    pub old: &'a str,
    pub new: &'a str,
}

/// Files written at once: fsync is the slow part and overlaps well.
const WRITERS: usize = 8;

/// Writes every file (in parallel); one result per file, in order. Each directory that
/// received a file is fsynced once at the end so the renames are durable too.
pub fn write_files(files: &[FileWrite<'_>]) -> Vec<Result<()>> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<PathBuf>>>> =
        Mutex::new((0..files.len()).map(|_| None).collect());
    let workers = WRITERS.min(files.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let result = replace(file);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    let results: Vec<Result<PathBuf>> = slots
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| Err(anyhow::anyhow!("file was not written"))))
        .collect();
    let mut dirs: Vec<&Path> = results
        .iter()
        .filter_map(|r| r.as_ref().ok()?.parent())
        .collect();
    dirs.sort_unstable();
    dirs.dedup();
    for dir in dirs {
        // Best effort: the file is already complete and in place; this only makes the
        // rename itself survive a power cut. Some filesystems refuse to sync a directory.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    results.into_iter().map(|r| r.map(|_| ())).collect()
}

/// Replaces one file; returns the real path written (symlinks are followed, so a link
/// stays a link and its target gets the new text).
fn replace(file: &FileWrite<'_>) -> Result<PathBuf> {
    let real = fs::canonicalize(file.path)
        .with_context(|| format!("cannot resolve {}", file.path.display()))?;
    let current = fs::read(&real).with_context(|| format!("cannot read {}", real.display()))?;
    if current != file.old.as_bytes() {
        bail!(
            "{} changed after it was read; not written (run again)",
            file.path.display()
        );
    }
    let permissions = fs::metadata(&real)
        .with_context(|| format!("cannot stat {}", real.display()))?
        .permissions();
    let dir = real.parent().unwrap_or(Path::new("."));
    let name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (tmp, mut out) = create_temp(dir, &name)?;
    let written = (|| -> Result<()> {
        out.write_all(file.new.as_bytes())?;
        out.set_permissions(permissions)?;
        out.sync_all()?;
        drop(out);
        fs::rename(&tmp, &real)?;
        Ok(())
    })();
    if let Err(err) = written {
        let _ = fs::remove_file(&tmp);
        return Err(err.context(format!("cannot write {}", real.display())));
    }
    Ok(real)
}

/// A new, empty temporary file beside `name` in `dir`.
fn create_temp(dir: &Path, name: &str) -> Result<(PathBuf, File)> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let pid = std::process::id();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.strata-{pid}-{n}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && n < 1_000_000 => {}
            Err(err) => {
                return Err(err).with_context(|| {
                    format!("cannot create a temporary file in {}", dir.display())
                });
            }
        }
    }
}

/// The unified diff from `old` to `new`, with `a/` and `b/` headers naming `display`
/// (what `git apply` and `patch -p1` take). Empty when nothing changed.
pub fn unified_diff(display: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{display}"), &format!("b/{display}"))
        .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn replaces_content_keeps_mode_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        fs::write(&path, "FROM a\r\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        let results = write_files(&[FileWrite {
            path: &path,
            old: "FROM a\r\n",
            new: "FROM a@x\r\n",
        }]);
        results[0].as_ref().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "FROM a@x\r\n");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o640);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_file_changed_since_it_was_read_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Dockerfile");
        fs::write(&path, "FROM b\n").unwrap();
        let results = write_files(&[FileWrite {
            path: &path,
            old: "FROM a\n",
            new: "FROM a@x\n",
        }]);
        let err = results[0].as_ref().unwrap_err();
        assert!(
            format!("{err:#}").contains("changed after it was read"),
            "{err:#}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), "FROM b\n");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_link_and_its_target_changes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.Dockerfile");
        let link = dir.path().join("Dockerfile");
        fs::write(&target, "FROM a\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let results = write_files(&[FileWrite {
            path: &link,
            old: "FROM a\n",
            new: "FROM a@x\n",
        }]);
        results[0].as_ref().unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&target).unwrap(), "FROM a@x\n");
    }

    #[test]
    fn many_files_each_get_their_own_result() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = (0..20).map(|i| dir.path().join(format!("f{i}"))).collect();
        for p in &paths {
            fs::write(p, "old\n").unwrap();
        }
        let missing = dir.path().join("missing");
        let mut writes: Vec<FileWrite<'_>> = paths
            .iter()
            .map(|p| FileWrite {
                path: p,
                old: "old\n",
                new: "new\n",
            })
            .collect();
        writes.push(FileWrite {
            path: &missing,
            old: "old\n",
            new: "new\n",
        });
        let results = write_files(&writes);
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 20);
        assert!(results[20].is_err());
        for p in &paths {
            assert_eq!(fs::read_to_string(p).unwrap(), "new\n");
        }
    }

    #[test]
    fn diff_shows_only_the_changed_line_with_git_headers() {
        let old = "FROM a:1\nRUN x\n";
        let new = "FROM a:1@sha256:d\nRUN x\n";
        let diff = unified_diff("sub/Dockerfile", old, new);
        assert!(
            diff.starts_with("--- a/sub/Dockerfile\n+++ b/sub/Dockerfile\n"),
            "{diff}"
        );
        assert!(
            diff.contains("-FROM a:1\n+FROM a:1@sha256:d\n RUN x\n"),
            "{diff}"
        );
        assert_eq!(unified_diff("x", old, old), "");
    }
}
