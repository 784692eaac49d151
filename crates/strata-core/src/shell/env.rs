//! extract stage: where word expansion looks variables up. Read-only views over the
//! caller's maps and lists; nothing here copies or owns the variables.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// The variables a word is expanded against (build arguments, `ENV` values).
///
/// A variable set to the empty string is set: `${NULL-x}` expands to nothing, only
/// `${NULL:-x}` falls back to `x`.
pub trait Env {
    /// The value of `name`, compared exactly, or `None` when it is not set.
    fn get(&self, name: &str) -> Option<&str>;

    /// The value of a variable whose name equals `name` ignoring case, as BuildKit built for
    /// Windows looks names up. An exact match wins over other spellings. The default only
    /// finds exact matches; the provided implementations all search properly.
    fn get_ignore_case(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

impl<S: BuildHasher> Env for HashMap<String, String, S> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(String::as_str)
    }

    fn get_ignore_case(&self, name: &str) -> Option<&str> {
        Env::get(self, name).or_else(|| find_folded(self.iter(), name))
    }
}

impl Env for BTreeMap<String, String> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(String::as_str)
    }

    fn get_ignore_case(&self, name: &str) -> Option<&str> {
        Env::get(self, name).or_else(|| find_folded(self.iter(), name))
    }
}

/// A list of `(name, value)` pairs in definition order: a later pair overrides an earlier
/// one with the same name, as repeated `ARG`/`ENV` lines and `--build-arg`s do.
impl Env for [(String, String)] {
    fn get(&self, name: &str) -> Option<&str> {
        self.iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn get_ignore_case(&self, name: &str) -> Option<&str> {
        Env::get(self, name).or_else(|| find_folded(self.iter().rev().map(|(k, v)| (k, v)), name))
    }
}

impl Env for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<&str> {
        Env::get(self.as_slice(), name)
    }

    fn get_ignore_case(&self, name: &str) -> Option<&str> {
        self.as_slice().get_ignore_case(name)
    }
}

impl<E: Env + ?Sized> Env for &E {
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }

    fn get_ignore_case(&self, name: &str) -> Option<&str> {
        (**self).get_ignore_case(name)
    }
}

/// The first value whose key equals `name` ignoring case.
fn find_folded<'a>(
    mut pairs: impl Iterator<Item = (&'a String, &'a String)>,
    name: &str,
) -> Option<&'a str> {
    pairs
        .find(|(key, _)| equal_fold(key, name))
        .map(|(_, value)| value.as_str())
}

/// Go's `strings.EqualFold`: equal under simple Unicode case folding, one character against
/// one character (so `ß` does not equal `SS`).
pub(super) fn equal_fold(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    let mut left = a.chars();
    let mut right = b.chars();
    loop {
        match (left.next(), right.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y || chars_fold(x, y) => {}
            _ => return false,
        }
    }
}

fn chars_fold(x: char, y: char) -> bool {
    x.to_lowercase().eq(y.to_lowercase()) || x.to_uppercase().eq(y.to_uppercase())
}
