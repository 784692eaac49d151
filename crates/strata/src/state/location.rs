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

/// Fails when `path` is inside `root`, following symbolic links where the paths exist, so
/// the database never lands in (and gets committed with) the repository being scanned.
pub fn ensure_outside(path: &Path, root: &Path) -> Result<(), StateError> {
    if resolved(path).starts_with(resolved(root)) {
        return Err(StateError::InsideRepository {
            path: path.to_path_buf(),
            root: root.to_path_buf(),
        });
    }
    Ok(())
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
    fn database_inside_the_repository_is_refused() {
        let dir = std::env::temp_dir();
        let repo = dir.join("strata-location-test-repo");
        assert!(ensure_outside(&repo.join("sub/../state.db"), &repo).is_err());
        assert!(ensure_outside(&repo.join(".strata/state.db"), &repo).is_err());
        assert!(ensure_outside(&dir.join("elsewhere/state.db"), &repo).is_ok());
        assert!(ensure_outside(&dir.join("strata-location-test-repo2/s.db"), &repo).is_ok());
    }
}
