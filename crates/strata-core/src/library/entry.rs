//! library stage (knowledge): one entry of a library file (a build and its tags) with
//! bashbrew's defaults, inheritance rules, normalisation and canonical field order.
//! Pure values; no I/O.

use std::collections::BTreeMap;
use std::fmt;

/// The architecture an entry builds for when it names none.
pub const DEFAULT_ARCHITECTURE: &str = "amd64";

/// How bashbrew spells the maintainer format in its error messages.
pub const MAINTAINERS_FORMAT: &str =
    "Full Name <contact-email-or-url> (@github-handle) OR Full Name (@github-handle)";

/// Architectures bashbrew accepts in `Architectures:`.
const SUPPORTED_ARCHITECTURES: &[&str] = &[
    "amd64",
    "arm32v5",
    "arm32v6",
    "arm32v7",
    "arm64v8",
    "i386",
    "loong64",
    "mips64le",
    "ppc64le",
    "riscv64",
    "s390x",
    "windows-amd64",
];

/// One paragraph of a library file after inheriting the global values: every tag in
/// `tags` names the same build.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub maintainers: Vec<String>,
    pub tags: Vec<String>,
    /// Tags that may point at several entries (a manifest list across them).
    pub shared_tags: Vec<String>,
    /// Sorted and without duplicates.
    pub architectures: Vec<String>,
    pub git_repo: String,
    pub git_fetch: String,
    pub git_commit: String,
    pub directory: String,
    pub file: String,
    pub builder: String,
    /// Architecture-specific overrides keyed by their full field name, such as
    /// `s390x-GitCommit` or `arm64v8-Directory`.
    pub arch_values: BTreeMap<String, String>,
    pub constraints: Vec<String>,
}

impl Entry {
    /// bashbrew's defaults, which the global entry starts from.
    pub fn bashbrew_default() -> Entry {
        Entry {
            architectures: vec![DEFAULT_ARCHITECTURE.to_owned()],
            git_fetch: "refs/heads/master".to_owned(),
            directory: ".".to_owned(),
            file: "Dockerfile".to_owned(),
            ..Entry::default()
        }
    }

    /// The value of `<arch>-<field>` when set, else the entry's own `field` value.
    /// `field` is one of `GitRepo`, `GitFetch`, `GitCommit`, `Directory`, `File`.
    pub fn arch_value(&self, arch: &str, field: &str) -> &str {
        let key = format!("{arch}-{field}");
        if let Some(value) = self.arch_values.get(&key).filter(|v| !v.is_empty()) {
            return value;
        }
        match field {
            "GitRepo" => &self.git_repo,
            "GitFetch" => &self.git_fetch,
            "GitCommit" => &self.git_commit,
            "Directory" => &self.directory,
            "File" => &self.file,
            _ => "",
        }
    }

    /// The commit to build for `arch`.
    pub fn arch_git_commit(&self, arch: &str) -> &str {
        self.arch_value(arch, "GitCommit")
    }

    /// Whether `tag` is one of this entry's own tags.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// Whether `tag` is one of this entry's shared tags.
    pub fn has_shared_tag(&self, tag: &str) -> bool {
        self.shared_tags.iter().any(|t| t == tag)
    }

    /// `Tags:` as written back: comma-and-space separated.
    pub fn tags_string(&self) -> String {
        self.tags.join(", ")
    }

    /// A copy with every value equal to the one in `defaults` cleared, as bashbrew does
    /// before printing an entry under its global entry.
    pub fn without_defaults(&self, defaults: &Entry) -> Entry {
        let mut entry = self.clone();
        if entry.maintainers == defaults.maintainers {
            entry.maintainers.clear();
        }
        if entry.tags == defaults.tags {
            entry.tags.clear();
        }
        if entry.shared_tags == defaults.shared_tags {
            entry.shared_tags.clear();
        }
        if entry.architectures == defaults.architectures {
            entry.architectures.clear();
        }
        clear_if_equal(&mut entry.git_repo, &defaults.git_repo);
        clear_if_equal(&mut entry.git_fetch, &defaults.git_fetch);
        clear_if_equal(&mut entry.git_commit, &defaults.git_commit);
        clear_if_equal(&mut entry.directory, &defaults.directory);
        clear_if_equal(&mut entry.file, &defaults.file);
        clear_if_equal(&mut entry.builder, &defaults.builder);
        for (key, value) in defaults.arch_values.iter().filter(|(_, v)| !v.is_empty()) {
            if entry.arch_values.get(key) == Some(value) {
                entry.arch_values.remove(key);
            }
        }
        if entry.constraints == defaults.constraints {
            entry.constraints.clear();
        }
        entry
    }

    /// Whether two entries build the same thing, so their tags can be merged.
    pub(super) fn same_build_artifacts(&self, other: &Entry) -> bool {
        let arch_keys = self.arch_values.keys().chain(other.arch_values.keys());
        for key in arch_keys {
            let ours = self.arch_values.get(key).map_or("", String::as_str);
            let theirs = other.arch_values.get(key).map_or("", String::as_str);
            if ours != theirs {
                return false;
            }
        }
        self.architectures == other.architectures
            && self.git_repo == other.git_repo
            && self.git_fetch == other.git_fetch
            && self.git_commit == other.git_commit
            && self.directory == other.directory
            && self.file == other.file
            && self.builder == other.builder
            && self.constraints == other.constraints
    }

    pub(super) fn invalid_maintainers(&self) -> Vec<String> {
        let bad = self.maintainers.iter().filter(|m| !valid_maintainer(m));
        bad.cloned().collect()
    }

    pub(super) fn invalid_architectures(&self) -> Vec<String> {
        let bad = self.architectures.iter();
        let bad = bad.filter(|a| !SUPPORTED_ARCHITECTURES.contains(&a.as_str()));
        bad.cloned().collect()
    }

    /// Sorts and de-duplicates `Architectures`.
    pub(super) fn normalise_architectures(&mut self) {
        self.architectures.sort();
        self.architectures.dedup();
    }

    pub(super) fn dedup_shared_tags(&mut self) {
        let mut seen = std::collections::HashSet::new();
        self.shared_tags.retain(|t| seen.insert(t.clone()));
    }

    pub(super) fn clean_directories(&mut self) {
        self.directory = clean_path(&self.directory);
        for (key, value) in &mut self.arch_values {
            if key.ends_with("-Directory") && !value.is_empty() {
                *value = clean_path(value);
            }
        }
    }
}

/// Prints the entry's non-empty fields in bashbrew's canonical order.
impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines: Vec<String> = Vec::new();
        let mut push = |name: &str, value: String| {
            if !value.is_empty() {
                lines.push(format!("{name}: {value}"));
            }
        };
        push("Maintainers", self.maintainers.join(", "));
        push("Tags", self.tags.join(", "));
        push("SharedTags", self.shared_tags.join(", "));
        push("Architectures", self.architectures.join(", "));
        push("GitRepo", self.git_repo.clone());
        push("GitFetch", self.git_fetch.clone());
        push("GitCommit", self.git_commit.clone());
        push("Directory", self.directory.clone());
        push("File", self.file.clone());
        push("Builder", self.builder.clone());
        for (key, value) in &self.arch_values {
            push(key, value.clone());
        }
        push("Constraints", self.constraints.join(", "));
        f.write_str(&lines.join("\n"))
    }
}

fn clear_if_equal(value: &mut String, default: &str) {
    if value == default {
        value.clear();
    }
}

/// `Full Name [<email-or-url>] (@github-handle)`, as bashbrew's maintainer pattern.
pub(super) fn valid_maintainer(text: &str) -> bool {
    let is_special = |c: char| matches!(c, '<' | '>' | '(' | ')');
    let word = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || is_special(c));
    let Some(inner) = text.strip_suffix(')') else {
        return false;
    };
    let Some(open) = inner.rfind("(@") else {
        return false;
    };
    let (head, handle) = (&inner[..open], &inner[open + 2..]);
    if !word(handle) || !head.ends_with(char::is_whitespace) {
        return false;
    }
    let mut name = head.trim_end();
    if let Some(email_part) = name.strip_suffix('>') {
        let Some(lt) = email_part.rfind('<') else {
            return false;
        };
        let (before, email) = (&email_part[..lt], &email_part[lt + 1..]);
        if !word(email) || !before.ends_with(char::is_whitespace) {
            return false;
        }
        name = before.trim_end();
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(first) if !first.is_whitespace() && !is_special(first) => !chars.any(is_special),
        _ => false,
    }
}

/// Go's `path.Clean`: collapse slashes, drop `.` elements, resolve `..` lexically.
pub(super) fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}
