//! extract stage, Dockerfile variables before the first stage: what `FROM` and
//! `--platform` see (`dockerfile2llb/convert.go` `buildMetaArgs`, `defaultArgs`,
//! `buildDispatchStates`). Only the automatic platform arguments and the global `ARG`s
//! exist there: a variable no global `ARG` declares is the empty string, which BuildKit
//! reports as `UndefinedArgInFrom` and goes on; `--build-arg` reaches only declared ones.
//! A declared `ARG` without a default that the scan was not given is *unresolved*: the
//! build gets it from `--build-arg`, strata cannot know it. Pure.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::shell::{Expansion, Lexer, ShellError};

/// The global scope as the walk builds it.
#[derive(Debug, Default)]
pub(super) struct Scope {
    /// Every variable with a value: platform arguments and global `ARG`s.
    pub(super) values: BTreeMap<String, String>,
    /// Every name a global `ARG` declares (with or without a value).
    pub(super) declared: HashSet<String>,
    /// Declared `ARG`s with no value for this scan, each with the declared `ARG` without
    /// a default it comes down to (itself, or one its default uses).
    pub(super) unresolved: HashMap<String, String>,
}

/// A word expanded in the global scope.
#[derive(Debug)]
pub(super) enum Expanded {
    /// The value, and the names that made part of it empty.
    Value {
        value: String,
        /// Used but declared by no global `ARG`: expanded to nothing.
        undeclared: Vec<String>,
        /// Declared, set to the empty string.
        empty: Vec<String>,
    },
    /// It needs this declared `ARG`, which has no value in this scan.
    Unresolved(String),
}

impl Scope {
    /// Expands `raw` (BuildKit's `ProcessWordWithMatches` against the global args).
    pub(super) fn expand(&self, lexer: &Lexer, raw: &str) -> Result<Expanded, ShellError> {
        let expansion = match lexer.expand(raw, &self.values) {
            Ok(expansion) => expansion,
            // `${NAME:?message}`: an error in BuildKit, unless `NAME` is an ARG the scan
            // was not given (the build would give it).
            Err(ShellError::Unset { name, .. }) if self.unresolved.contains_key(&name) => {
                return Ok(Expanded::Unresolved(self.unresolved[&name].clone()));
            }
            Err(e) => return Err(e),
        };
        if let Some(root) = self.unresolved_in(raw, &expansion) {
            return Ok(Expanded::Unresolved(root));
        }
        let undeclared = expansion
            .unset
            .iter()
            .filter(|name| !self.declared.contains(*name) && !name.is_empty())
            .cloned()
            .collect();
        let empty = expansion
            .used
            .iter()
            .filter(|name| self.values.get(*name).is_some_and(String::is_empty))
            .cloned()
            .collect();
        Ok(Expanded::Value {
            value: expansion.value,
            undeclared,
            empty,
        })
    }

    /// The unresolved `ARG` a word depends on: one it names plainly (`$NAME`, `${NAME}`;
    /// `${NAME:-default}` has a value anyway), or one behind an `ARG` it uses.
    pub(super) fn unresolved_in(&self, raw: &str, expansion: &Expansion) -> Option<String> {
        let plain = expansion
            .unset
            .iter()
            .filter(|name| self.unresolved.contains_key(*name))
            .find(|name| names_plainly(raw, name));
        if let Some(name) = plain {
            return self.unresolved.get(name).cloned();
        }
        expansion
            .used
            .iter()
            .find_map(|name| self.unresolved.get(name).cloned())
    }
}

/// Whether `raw` uses `$name` or `${name}` without a modifier.
fn names_plainly(raw: &str, name: &str) -> bool {
    if raw.contains(&format!("${{{name}}}")) {
        return true;
    }
    let bare = format!("${name}");
    raw.match_indices(&bare).any(|(i, _)| {
        let after = raw[i + bare.len()..].chars().next();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The automatic platform arguments BuildKit defines for every build (`defaultArgs`),
/// each replaced by a `--build-arg` of the same name when one is given.
pub(super) fn platform_args(
    build: &str,
    target: &str,
    target_stage: &str,
    overrides: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut args = BTreeMap::new();
    for (prefix, platform) in [("BUILD", build), ("TARGET", target)] {
        let mut parts = platform.splitn(3, '/');
        let os = parts.next().unwrap_or_default();
        let arch = parts.next().unwrap_or_default();
        let variant = parts.next().unwrap_or_default();
        args.insert(format!("{prefix}PLATFORM"), platform.to_owned());
        args.insert(format!("{prefix}OS"), os.to_owned());
        args.insert(format!("{prefix}OSVERSION"), String::new());
        args.insert(format!("{prefix}ARCH"), arch.to_owned());
        args.insert(format!("{prefix}VARIANT"), variant.to_owned());
    }
    args.insert("TARGETSTAGE".to_owned(), target_stage.to_owned());
    for (name, value) in args.iter_mut() {
        if let Some(given) = overrides.get(name) {
            value.clone_from(given);
        }
    }
    args
}

/// What made a value empty, for a message: `ARG TAG is empty`, `REGISTRY is not
/// declared (no global ARG), so it is empty`. `None` when nothing did.
pub(super) fn empty_note(undeclared: &[String], empty: &[String]) -> Option<String> {
    let mut notes: Vec<String> = empty.iter().map(|n| format!("ARG {n} is empty")).collect();
    notes.extend(
        undeclared
            .iter()
            .map(|n| format!("{n} is not declared by a global ARG, so it is empty")),
    );
    (!notes.is_empty()).then(|| notes.join("; "))
}
