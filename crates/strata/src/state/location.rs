//! record stage: where the state database lives. Reads an environment variable and, to
//! compare paths, the filesystem's view of them; never creates or opens anything.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::StateError;
use crate::dirs;

/// The environment variable naming the state database file.
pub const STATE_ENV: &str = "STRATA_STATE";

/// The database file name inside the state directory.
const FILE_NAME: &str = "state.db";

/// The database file: `flag` (`--state`), else `$STRATA_STATE`, else `state.db` in the
/// state directory ([`dirs::state_dir`]).
pub fn state_path(flag: Option<&Path>) -> Result<PathBuf, StateError> {
    choose(flag, std::env::var_os(STATE_ENV), dirs::state_dir())
}

fn choose(
    flag: Option<&Path>,
    env: Option<OsString>,
    dir: Option<PathBuf>,
) -> Result<PathBuf, StateError> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    // An empty variable counts as unset (as XDG says for its own variables).
    if let Some(path) = env.filter(|value| !value.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    dir.map(|dir| dir.join(FILE_NAME))
        .ok_or(StateError::NoLocation)
}

/// Fails when `path` is inside a git working tree that the scan covers: the repository
/// `root` is in, or one below `root` (a folder of clones). Follows symbolic links where
/// the paths exist. A folder that is no repository cannot commit the database, so a
/// database inside it, outside every repository, is fine.
pub fn ensure_outside(path: &Path, root: &Path) -> Result<(), StateError> {
    let path = resolved(path);
    let root = resolved(root);
    let Some(repository) = working_tree(&path) else {
        return Ok(());
    };
    if repository.starts_with(&root) || root.starts_with(&repository) {
        return Err(StateError::InsideRepository {
            path,
            root: repository,
        });
    }
    Ok(())
}

/// The nearest directory above `path` with a `.git` entry (a directory, or the file a
/// linked worktree or submodule has).
fn working_tree(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `path` made absolute, with its longest existing prefix canonicalised (the file itself
/// may not exist yet).
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    for ancestor in absolute.ancestors() {
        if let Ok(real) = ancestor.canonicalize() {
            let rest = absolute.strip_prefix(ancestor).unwrap_or(Path::new(""));
            return real.join(rest);
        }
    }
    absolute
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_is_flag_then_variable_then_state_dir() {
        let flag = Some(Path::new("/flag.db"));
        let env = || Some(OsString::from("/env.db"));
        let dir = || Some(PathBuf::from("/home/u/.local/state/strata"));
        let cases = [
            (choose(flag, env(), dir()).ok(), Some("/flag.db")),
            (choose(None, env(), dir()).ok(), Some("/env.db")),
            (
                choose(None, None, dir()).ok(),
                Some("/home/u/.local/state/strata/state.db"),
            ),
            (
                choose(None, Some(OsString::new()), dir()).ok(),
                Some("/home/u/.local/state/strata/state.db"),
            ),
            (choose(None, None, None).ok(), None),
        ];
        for (found, expected) in cases {
            assert_eq!(found, expected.map(PathBuf::from));
        }
    }

    #[test]
    fn database_inside_a_scanned_repository_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path();
        // A plain folder of clones: `clones/` is no repository, `clones/a` is one.
        let clones = top.join("clones");
        std::fs::create_dir_all(clones.join("a/.git")).unwrap();
        std::fs::create_dir_all(clones.join("a/sub")).unwrap();
        std::fs::create_dir_all(top.join("elsewhere")).unwrap();
        let cases = [
            // (database, scanned root, refused)
            (clones.join("state.db"), clones.clone(), false),
            (clones.join("a/state.db"), clones.clone(), true),
            (clones.join("a/.strata/state.db"), clones.join("a"), true),
            (clones.join("a/sub/../state.db"), clones.join("a/sub"), true),
            (clones.join("a/state.db"), clones.join("a/sub"), true),
            (top.join("elsewhere/state.db"), clones.join("a"), false),
            (clones.join("a/state.db"), top.join("elsewhere"), false),
        ];
        for (db, root, refused) in cases {
            let result = ensure_outside(&db, &root);
            assert_eq!(
                result.is_err(),
                refused,
                "{} in {}",
                db.display(),
                root.display()
            );
        }
        let message = ensure_outside(&clones.join("a/x.db"), &clones)
            .unwrap_err()
            .to_string();
        assert!(message.contains("clones/a;"), "{message}");
    }
}
