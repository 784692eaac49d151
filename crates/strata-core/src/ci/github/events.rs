//! ci stage: a workflow's `on:` — which pushes, tags, schedules and manual runs start it —
//! with GitHub's branch and tag filter patterns. Pure.
//!
//! Rules from GitHub's "Events that trigger workflows" and "Workflow syntax" references:
//! `on` is an event name, a list of them, or a mapping; `push` without `branches`,
//! `branches-ignore`, `tags` or `tags-ignore` runs on every branch and every tag; with only
//! branch filters it runs on no tag, with only tag filters on no branch; a pattern list
//! is read in order, `!pattern` excluding what earlier ones matched. In patterns `*`
//! matches any characters but `/`, `**` any characters, `?` and `+` repeat the previous
//! character zero-or-one and one-or-more times, and `[…]` is a set.

use super::super::yaml_value::Yaml;
use crate::extract::yaml::NodeId;

/// What starts one workflow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Events {
    /// `push` on the default branch.
    pub(crate) push_default: bool,
    /// `push` of some git tag.
    pub(crate) push_tags: bool,
    pub(crate) dispatch: bool,
    pub(crate) schedule: bool,
    /// `workflow_call`: a reusable workflow.
    pub(crate) call: bool,
    /// The inputs of `workflow_dispatch` or `workflow_call`, with their defaults.
    pub(crate) inputs: Vec<(String, Option<NodeId>)>,
}

/// Reads `on:` (`true` is YAML 1.1's reading of a bare `on` key, which some parsers use).
pub(crate) fn read(yaml: &Yaml<'_, '_>, root: NodeId, default_branch: &str) -> Events {
    let mut events = Events::default();
    let Some(on) = yaml.get(root, "on").or_else(|| yaml.get(root, "true")) else {
        return events;
    };
    let named: Vec<(String, Option<NodeId>)> = if yaml.is_mapping(on) {
        yaml.entries(on)
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect()
    } else {
        yaml.strings(on).into_iter().map(|k| (k, None)).collect()
    };
    for (name, body) in named {
        match name.as_str() {
            "push" => {
                let filter = |key: &str| {
                    body.filter(|b| yaml.is_mapping(*b))
                        .and_then(|b| yaml.get(b, key))
                        .map(|v| yaml.strings(v))
                };
                let branches = filter("branches");
                let branches_ignore = filter("branches-ignore");
                let tags = filter("tags");
                let tags_ignore = filter("tags-ignore");
                let no_branch_filter = branches.is_none() && branches_ignore.is_none();
                let no_tag_filter = tags.is_none() && tags_ignore.is_none();
                events.push_default |= match (&branches, &branches_ignore) {
                    (Some(patterns), _) => filter_matches(patterns, default_branch),
                    (None, Some(ignored)) => !filter_matches(ignored, default_branch),
                    (None, None) => no_tag_filter,
                };
                events.push_tags |= match (&tags, &tags_ignore) {
                    (Some(patterns), _) => !patterns.is_empty(),
                    (None, Some(_)) => true,
                    (None, None) => no_branch_filter,
                };
            }
            "workflow_dispatch" => {
                events.dispatch = true;
                read_inputs(yaml, body, &mut events.inputs);
            }
            "workflow_call" => {
                events.call = true;
                read_inputs(yaml, body, &mut events.inputs);
            }
            "schedule" => events.schedule = true,
            _ => {}
        }
    }
    events
}

fn read_inputs(yaml: &Yaml<'_, '_>, body: Option<NodeId>, out: &mut Vec<(String, Option<NodeId>)>) {
    let Some(inputs) = body
        .filter(|b| yaml.is_mapping(*b))
        .and_then(|b| yaml.get(b, "inputs"))
    else {
        return;
    };
    for (name, spec) in yaml.entries(inputs) {
        let default = yaml.get(spec, "default");
        if !out.iter().any(|(n, _)| *n == name) {
            out.push((name, default));
        }
    }
}

/// A filter list applied to `name`: the last pattern that matches decides.
pub(crate) fn filter_matches(patterns: &[String], name: &str) -> bool {
    let mut matched = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) if glob(negated, name) => matched = false,
            Some(_) => {}
            None if glob(pattern, name) => matched = true,
            None => {}
        }
    }
    matched
}

/// GitHub's filter pattern syntax, matched against the whole name.
fn glob(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Dynamic programming over (pattern position, name position): no recursion, and
    // at most |pattern| × |name| steps.
    let mut reachable = vec![false; name.len() + 1];
    reachable[0] = true;
    let mut p = 0;
    while p < pattern.len() {
        let (atom, width): (Atom, usize) = match pattern[p] {
            '*' if pattern.get(p + 1) == Some(&'*') => (Atom::AnyDeep, 2),
            '*' => (Atom::Any, 1),
            '[' => match pattern[p + 1..].iter().position(|c| *c == ']') {
                Some(end) => (Atom::Set(pattern[p + 1..p + 1 + end].to_vec()), end + 2),
                None => (Atom::Char('['), 1),
            },
            '\\' if p + 1 < pattern.len() => (Atom::Char(pattern[p + 1]), 2),
            c => (Atom::Char(c), 1),
        };
        let repeat = pattern
            .get(p + width)
            .copied()
            .filter(|c| matches!(c, '?' | '+'));
        let mut next = vec![false; name.len() + 1];
        for start in 0..=name.len() {
            if !reachable[start] {
                continue;
            }
            match (&atom, repeat) {
                (Atom::Any | Atom::AnyDeep, _) => {
                    next[start] = true;
                    let mut i = start;
                    while i < name.len() && (matches!(atom, Atom::AnyDeep) || name[i] != '/') {
                        i += 1;
                        next[i] = true;
                    }
                }
                (_, Some('?')) => {
                    next[start] = true;
                    if start < name.len() && atom.matches(name[start]) {
                        next[start + 1] = true;
                    }
                }
                (_, Some(_)) => {
                    let mut i = start;
                    while i < name.len() && atom.matches(name[i]) {
                        i += 1;
                        next[i] = true;
                    }
                }
                (_, None) => {
                    if start < name.len() && atom.matches(name[start]) {
                        next[start + 1] = true;
                    }
                }
            }
        }
        reachable = next;
        p += width + usize::from(repeat.is_some());
    }
    reachable[name.len()]
}

enum Atom {
    Char(char),
    Any,
    AnyDeep,
    Set(Vec<char>),
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(x) => *x == c,
            Atom::Any => c != '/',
            Atom::AnyDeep => true,
            Atom::Set(set) => {
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        if (set[i]..=set[i + 2]).contains(&c) {
                            return true;
                        }
                        i += 3;
                    } else {
                        if set[i] == c {
                            return true;
                        }
                        i += 1;
                    }
                }
                false
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The examples of GitHub's "Filter pattern cheat sheet".
    #[test]
    fn patterns_follow_the_filter_cheat_sheet() {
        let cases: &[(&str, &str, bool)] = &[
            ("feature/*", "feature/my-branch", true),
            ("feature/*", "feature/your/branch", false),
            ("feature/**", "feature/beta-a/my-branch", true),
            ("main", "main", true),
            ("main", "mains", false),
            (
                "releases/mona-the-octocat",
                "releases/mona-the-octocat",
                true,
            ),
            ("*", "main", true),
            ("*", "releases/x", false),
            ("**", "all/the/branches", true),
            ("v2*", "v2.0", true),
            ("v[12].[0-9]+.[0-9]+", "v1.10.1", true),
            ("v[12].[0-9]+.[0-9]+", "v3.0.0", false),
            ("v1.?", "v1.", true),
            ("v1.?", "v1", true),
            ("v*", "v1.0.0", true),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(glob(pattern, name), *want, "{pattern} {name}");
        }
    }

    #[test]
    fn a_later_negation_excludes() {
        let patterns = ["releases/**".to_owned(), "!releases/**-alpha".to_owned()];
        assert!(filter_matches(&patterns, "releases/10"));
        assert!(!filter_matches(&patterns, "releases/10-alpha"));
    }
}
