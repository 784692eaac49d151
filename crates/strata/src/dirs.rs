//! Where strata keeps its own files: the user's cache and state directories, never the
//! scanned repository. Reads environment variables only; creates nothing.
//!
//! - cache: `$STRATA_CACHE_DIR`, else `$XDG_CACHE_HOME/strata`, else `~/.cache/strata`;
//! - state: `$STRATA_STATE_DIR`, else `$XDG_STATE_HOME/strata`, else
//!   `~/.local/state/strata`.
//!
//! Relative values are ignored, as the XDG base directory specification asks.

use std::ffi::OsString;
use std::path::PathBuf;

/// The cache directory (content by digest; safe to delete), if one can be named.
pub fn cache_dir() -> Option<PathBuf> {
    locate(
        &|name| std::env::var_os(name),
        "STRATA_CACHE_DIR",
        "XDG_CACHE_HOME",
        ".cache",
    )
}

/// The state directory (what strata remembers between runs), if one can be named.
pub fn state_dir() -> Option<PathBuf> {
    locate(
        &|name| std::env::var_os(name),
        "STRATA_STATE_DIR",
        "XDG_STATE_HOME",
        ".local/state",
    )
}

fn locate(
    var: &dyn Fn(&str) -> Option<OsString>,
    own: &str,
    xdg: &str,
    under_home: &str,
) -> Option<PathBuf> {
    let absolute = |name: &str| {
        var(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    if let Some(dir) = absolute(own) {
        return Some(dir);
    }
    if let Some(dir) = absolute(xdg) {
        return Some(dir.join("strata"));
    }
    absolute("HOME").map(|home| home.join(under_home).join("strata"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn cache(vars: &[(&str, &str)]) -> Option<PathBuf> {
        locate(&with(vars), "STRATA_CACHE_DIR", "XDG_CACHE_HOME", ".cache")
    }

    #[test]
    fn own_variable_then_xdg_then_home() {
        let all = [
            ("STRATA_CACHE_DIR", "/own"),
            ("XDG_CACHE_HOME", "/xdg"),
            ("HOME", "/home/u"),
        ];
        assert_eq!(cache(&all), Some(PathBuf::from("/own")));
        assert_eq!(cache(&all[1..]), Some(PathBuf::from("/xdg/strata")));
        assert_eq!(
            cache(&all[2..]),
            Some(PathBuf::from("/home/u/.cache/strata"))
        );
        assert_eq!(cache(&[]), None);
    }

    #[test]
    fn relative_values_are_ignored() {
        let vars = [
            ("STRATA_CACHE_DIR", "rel"),
            ("XDG_CACHE_HOME", "also/rel"),
            ("HOME", "/h"),
        ];
        assert_eq!(cache(&vars), Some(PathBuf::from("/h/.cache/strata")));
    }
}
