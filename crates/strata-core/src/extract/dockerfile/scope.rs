//! extract stage, Dockerfile variables before the first stage: what `FROM` and
//! `--platform` see (`dockerfile2llb/convert.go` `buildMetaArgs`, `defaultArgs`,
//! `buildDispatchStates`). Only the automatic platform arguments and the global `ARG`s
//! exist there: a variable no global `ARG` declares is the empty string, which BuildKit
//! reports as `UndefinedArgInFrom` and goes on; `--build-arg` reaches only declared ones.
//! A declared `ARG` without a default that the scan was not given is *unresolved*: the
//! build gets it from `--build-arg`, strata cannot know it. Pure.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::shell::{Env, Expansion, Lexer, ShellError};

/// The automatic arguments BuildKit defines for every build (`defaultArgs`), borrowed:
/// built for every file, so it allocates nothing.
#[derive(Debug, Default, Clone)]
pub(super) struct PlatformArgs<'a> {
    values: [(&'static str, &'a str); 11],
}

const PLATFORM_NAMES: [&str; 11] = [
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDOSVERSION",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETOSVERSION",
    "TARGETARCH",
    "TARGETVARIANT",
    "TARGETSTAGE",
];

impl<'a> PlatformArgs<'a> {
    /// `build` and `target` as `os/arch[/variant]`; each value replaced by a
    /// `--build-arg` of the same name when one is given.
    pub(super) fn new(
        build: &'a str,
        target: &'a str,
        target_stage: &'a str,
        overrides: &'a BTreeMap<String, String>,
    ) -> Self {
        let split = |platform: &'a str| {
            let mut parts = platform.splitn(3, '/');
            let os = parts.next().unwrap_or_default();
            let arch = parts.next().unwrap_or_default();
            let variant = parts.next().unwrap_or_default();
            [platform, os, "", arch, variant]
        };
        let [b0, b1, b2, b3, b4] = split(build);
        let [t0, t1, t2, t3, t4] = split(target);
        let defaults = [b0, b1, b2, b3, b4, t0, t1, t2, t3, t4, target_stage];
        let mut values = [("", ""); 11];
        for (i, name) in PLATFORM_NAMES.iter().enumerate() {
            let value = overrides.get(*name).map_or(defaults[i], String::as_str);
            values[i] = (name, value);
        }
        PlatformArgs { values }
    }

    fn get(&self, name: &str) -> Option<&'a str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }
}

/// The global `ARG`s over the platform arguments: what the lexer looks names up in.
struct Layered<'s, 'a> {
    args: &'s BTreeMap<String, String>,
    platform: &'s PlatformArgs<'a>,
}

impl Env for Layered<'_, '_> {
    fn get(&self, name: &str) -> Option<&str> {
        match self.args.get(name) {
            Some(value) => Some(value),
            None => self.platform.get(name),
        }
    }
}

/// The global scope as the walk builds it.
#[derive(Debug, Default)]
pub(super) struct Scope<'a> {
    /// The automatic platform arguments.
    pub(super) platform: PlatformArgs<'a>,
    /// Global `ARG`s with a value (they shadow a platform argument of the same name).
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

impl Scope<'_> {
    /// Whether `name` has a value (a global `ARG` or a platform argument).
    pub(super) fn has_value(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    fn value(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(value) => Some(value),
            None => self.platform.get(name),
        }
    }

    /// Every name with a value, for "did you mean" hints.
    pub(super) fn value_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.values.keys().map(String::as_str).collect();
        names.extend(PLATFORM_NAMES);
        names
    }

    /// Expands `raw` (BuildKit's `ProcessWordWithMatches` against the global args).
    pub(super) fn expand(&self, lexer: &Lexer, raw: &str) -> Result<Expanded, ShellError> {
        let env = Layered {
            args: &self.values,
            platform: &self.platform,
        };
        let expansion = match lexer.expand(raw, &env) {
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
            .filter(|name| self.value(name).is_some_and(str::is_empty))
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
