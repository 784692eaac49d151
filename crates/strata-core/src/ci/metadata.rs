//! ci stage: the tags `docker/metadata-action` makes for one kind of run, worked out as
//! far as they are static. Pure: the commit, the date and a pushed git tag's name are
//! unknown pieces of the result, never invented.
//!
//! The rules are metadata-action's `src/tag.ts`, `src/flavor.ts`, `src/image.ts` and
//! `src/meta.ts`: tag rules sorted by priority (schedule 1000, semver and pep440 900,
//! match 800, edge 700, ref 600, raw 200, sha 100, `priority=` overriding); the first
//! enabled rule that gives a value is the main version, the others partial versions
//! (duplicates dropped); `latest` follows the main rule (`flavor: latest=auto`: semver
//! and pep440 releases, match and git tags) or the flavor; `prefix`/`suffix` of a rule,
//! else of the flavor; every tag sanitised to `[A-Za-z0-9._-]` (other runs become `-`);
//! every enabled image gets every tag; without `tags:` the rules are `type=schedule`,
//! `type=ref,event=branch`, `type=ref,event=tag`, `type=ref,event=pr`.

use super::Run;
use super::list::{ListOptions, fields, input_list};
use super::text::{Piece, Text};
use super::version;

/// metadata-action's inputs, after the runner substituted their expressions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inputs {
    pub images: Text,
    pub tags: Text,
    pub flavor: Text,
}

/// What the action outputs for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// `image:tag`, in the action's order.
    pub tags: Vec<Text>,
    /// What could not be worked out.
    pub questions: Vec<String>,
}

/// How the name of a pushed git tag is shown.
const GIT_TAG: &str = "<pushed git tag>";

const LIST: ListOptions = ListOptions {
    ignore_comma: true,
    comments: true,
};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    kind: String,
    attrs: Vec<(String, Text)>,
    priority: i64,
    written: String,
}

impl Rule {
    fn attr(&self, name: &str) -> Option<&Text> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

#[derive(Debug, Default)]
struct Flavor {
    latest: String,
    prefix: Text,
    prefix_latest: bool,
    suffix: Text,
    suffix_latest: bool,
}

/// The tags of `inputs` for `run`; `default_branch` is the repository's.
pub fn tags(inputs: &Inputs, run: &Run, default_branch: &str) -> Output {
    let mut out = Output::default();
    let images = images(&inputs.images, &mut out.questions);
    let flavor = flavor(&inputs.flavor, &mut out.questions);
    let mut rules = Vec::new();
    let mut written = input_list(&inputs.tags, LIST);
    if written.is_empty() {
        written = [
            "type=schedule",
            "type=ref,event=branch",
            "type=ref,event=tag",
            "type=ref,event=pr",
        ]
        .iter()
        .map(|t| Text::known(t))
        .collect();
    }
    for text in &written {
        match rule(text) {
            Ok(rule) => rules.push(rule),
            Err(message) => out.questions.push(message),
        }
    }
    // A stable sort, highest priority first, as Array.prototype.sort is stable.
    rules.sort_by_key(|r| std::cmp::Reverse(r.priority));
    let ctx = Context {
        run,
        default_branch,
        flavor: &flavor,
    };
    let mut main: Option<Text> = None;
    let mut partial: Vec<Text> = Vec::new();
    let mut latest: Option<bool> = None;
    for rule in &rules {
        let enable = ctx.global(rule.attr("enable").unwrap_or(&Text::known("true")));
        match enable.value() {
            Some("true") => {}
            Some("false") => continue,
            Some(other) => {
                out.questions.push(format!(
                    "metadata-action rule `{}`: enable={other} is neither true nor false",
                    rule.written
                ));
                continue;
            }
            None => out.questions.push(format!(
                "metadata-action rule `{}` is enabled only when {} (taken as enabled)",
                rule.written,
                enable.display()
            )),
        }
        let Some((value, is_latest)) = ctx.value(rule, &mut out.questions) else {
            continue;
        };
        let value = sanitize(&value);
        if value.is_empty() {
            continue;
        }
        match &main {
            None => main = Some(value),
            Some(m) if *m == value => {}
            Some(_) => {
                if !partial.contains(&value) {
                    partial.push(value);
                }
            }
        }
        if latest.is_none() {
            latest = Some(is_latest);
        }
    }
    let Some(main) = main else {
        return out;
    };
    let mut versions = vec![main];
    versions.extend(partial);
    if latest == Some(true) {
        let mut tag = Text::default();
        if flavor.prefix_latest {
            tag.push(&ctx.global(&flavor.prefix));
        }
        tag.push_str("latest");
        if flavor.suffix_latest {
            tag.push(&ctx.global(&flavor.suffix));
        }
        versions.push(sanitize(&tag));
    }
    if images.is_empty() {
        out.questions
            .push("metadata-action has no images: its tags name no image".to_owned());
    }
    for image in images {
        for version in &versions {
            let mut tag = image.clone();
            tag.push_str(":");
            tag.push(version);
            out.tags.push(tag);
        }
    }
    out
}

/// The enabled image names (lower-cased, as `sanitizeImageName` does).
fn images(input: &Text, questions: &mut Vec<String>) -> Vec<Text> {
    let items = input_list(input, LIST);
    let mut out = Vec::new();
    for item in items {
        let fields = fields(item.as_marked());
        let keyed = fields.iter().any(|f| f.contains('='));
        if !keyed {
            out.extend(
                fields
                    .iter()
                    .map(|f| Text::from_marked(f.trim().to_owned())),
            );
            continue;
        }
        let mut name = None;
        let mut enable = Text::known("true");
        for field in &fields {
            match field.split_once('=') {
                None => name = Some(Text::from_marked(field.trim().to_owned())),
                Some((key, value)) => match key.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(Text::from_marked(value.trim().to_owned())),
                    "enable" => enable = Text::from_marked(value.trim().to_owned()),
                    other => questions.push(format!(
                        "metadata-action image attribute {other:?} is unknown"
                    )),
                },
            }
        }
        match (name, enable.value()) {
            (Some(name), Some("true")) => out.push(name),
            (Some(_), Some(_)) => {}
            (Some(name), None) => {
                questions.push(format!(
                    "metadata-action image {} is enabled only when {} (taken as enabled)",
                    name.display(),
                    enable.display()
                ));
                out.push(name);
            }
            (None, _) => questions.push(format!(
                "metadata-action image {} has no name",
                item.display()
            )),
        }
    }
    out.into_iter()
        .filter(|n| !n.is_empty())
        .map(|n| lower(&n))
        .collect()
}

fn lower(text: &Text) -> Text {
    let mut out = Text::default();
    for piece in text.pieces() {
        match piece {
            Piece::Known(k) => out.push_str(&k.to_lowercase()),
            Piece::Unknown(u) => out.push(&Text::unknown(u)),
        }
    }
    out
}

fn flavor(input: &Text, questions: &mut Vec<String>) -> Flavor {
    let mut flavor = Flavor {
        latest: "auto".to_owned(),
        ..Flavor::default()
    };
    for item in input_list(input, LIST) {
        let mut last = "";
        for field in fields(item.as_marked()) {
            let Some((key, value)) = field.split_once('=') else {
                questions.push(format!(
                    "metadata-action flavor {} is not key=value",
                    item.display()
                ));
                continue;
            };
            let value = Text::from_marked(value.trim().to_owned());
            match key.trim().to_ascii_lowercase().as_str() {
                "latest" => flavor.latest = value.display(),
                "prefix" => {
                    flavor.prefix = value;
                    last = "prefix";
                }
                "suffix" => {
                    flavor.suffix = value;
                    last = "suffix";
                }
                "onlatest" => {
                    let on = value.value() == Some("true");
                    match last {
                        "prefix" => flavor.prefix_latest = on,
                        "suffix" => flavor.suffix_latest = on,
                        _ => {}
                    }
                }
                other => questions.push(format!("metadata-action flavor {other:?} is unknown")),
            }
        }
    }
    flavor
}

/// One `tags:` line as `Parse` in tag.ts reads it.
fn rule(text: &Text) -> Result<Rule, String> {
    let written = text.display();
    let mut kind = "raw".to_owned();
    let mut attrs: Vec<(String, Text)> = Vec::new();
    for field in fields(text.as_marked()) {
        let field = field.trim();
        match field.split_once('=') {
            None => attrs.push(("value".to_owned(), Text::from_marked(field.to_owned()))),
            Some((key, value)) => {
                let key = key.trim().to_ascii_lowercase();
                let value = Text::from_marked(value.trim().to_owned());
                if key == "type" {
                    kind = value.display();
                } else {
                    attrs.retain(|(k, _)| *k != key);
                    attrs.push((key, value));
                }
            }
        }
    }
    let has = |attrs: &[(String, Text)], name: &str| attrs.iter().any(|(k, _)| k == name);
    let default_priority = match kind.as_str() {
        "schedule" => 1000,
        "semver" | "pep440" => 900,
        "match" => 800,
        "edge" => 700,
        "ref" => 600,
        "raw" => 200,
        "sha" => 100,
        other => {
            return Err(format!(
                "metadata-action rule `{written}`: unknown type {other:?}"
            ));
        }
    };
    match kind.as_str() {
        "schedule" if !has(&attrs, "pattern") => {
            attrs.push(("pattern".to_owned(), Text::known("nightly")));
        }
        "semver" | "pep440" | "match" if !has(&attrs, "pattern") => {
            return Err(format!("metadata-action rule `{written}` has no pattern"));
        }
        "ref" => match attrs
            .iter()
            .find(|(k, _)| k == "event")
            .map(|(_, v)| v.display())
        {
            Some(e) if e == "pr" && !has(&attrs, "prefix") => {
                attrs.push(("prefix".to_owned(), Text::known("pr-")));
            }
            Some(e) if matches!(e.as_str(), "branch" | "tag" | "pr") => {}
            _ => {
                return Err(format!(
                    "metadata-action rule `{written}` has no valid event"
                ));
            }
        },
        "raw" if !has(&attrs, "value") => {
            return Err(format!("metadata-action rule `{written}` has no value"));
        }
        "sha" if !has(&attrs, "prefix") => {
            attrs.push(("prefix".to_owned(), Text::known("sha-")));
        }
        _ => {}
    }
    let priority = match attrs.iter().find(|(k, _)| k == "priority") {
        Some((_, p)) => p
            .value()
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("metadata-action rule `{written}`: priority is not a number"))?,
        None => default_priority,
    };
    Ok(Rule {
        kind,
        attrs,
        priority,
        written,
    })
}

struct Context<'a> {
    run: &'a Run,
    default_branch: &'a str,
    flavor: &'a Flavor,
}

impl Context<'_> {
    /// The branch the run is on, if any.
    fn branch(&self) -> Option<&str> {
        match self.run {
            Run::Branch(b) | Run::Schedule(b) | Run::Dispatch(b) => Some(b),
            Run::GitTag => None,
        }
    }

    /// `setGlobalExp`: the handlebars expressions every attribute may use.
    fn global(&self, text: &Text) -> Text {
        let mut out = Text::default();
        for piece in text.pieces() {
            match piece {
                Piece::Unknown(u) => out.push(&Text::unknown(u)),
                Piece::Known(known) => self.expand_known(known, &mut out),
            }
        }
        out
    }

    fn expand_known(&self, known: &str, out: &mut Text) {
        let mut rest = known;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find("}}") else {
                out.push_str(&rest[start..]);
                return;
            };
            let expression = &rest[start + 2..start + end];
            let written = &rest[start..start + end + 2];
            let name = expression.split_whitespace().next().unwrap_or("");
            let on_default = self.branch().is_some_and(|b| b == self.default_branch);
            match name {
                "branch" => out.push_str(self.branch().unwrap_or("")),
                "tag" if self.branch().is_some() => {}
                "is_default_branch" => out.push_str(if on_default { "true" } else { "false" }),
                "is_not_default_branch" => out.push_str(if on_default { "false" } else { "true" }),
                "base_ref" if self.branch().is_some() => {}
                _ => out.push(&Text::unknown(written)),
            }
            rest = &rest[start + end + 2..];
        }
        out.push_str(rest);
    }

    /// `setValue`: the rule's prefix and suffix, else the flavor's.
    fn affix(&self, rule: &Rule, value: Text) -> Text {
        let mut out = match rule.attr("prefix") {
            Some(prefix) => self.global(prefix),
            None => self.global(&self.flavor.prefix),
        };
        out.push(&value);
        match rule.attr("suffix") {
            Some(suffix) => out.push(&self.global(suffix)),
            None => out.push(&self.global(&self.flavor.suffix)),
        }
        out
    }

    /// The flavor's say on `latest` for a rule whose automatic answer is `auto`.
    fn latest(&self, auto: bool) -> bool {
        match self.flavor.latest.as_str() {
            "auto" => auto,
            other => other == "true",
        }
    }

    /// The rule's value for this run and whether it makes `latest`; `None`: no value.
    fn value(&self, rule: &Rule, questions: &mut Vec<String>) -> Option<(Text, bool)> {
        let attr = |name: &str| rule.attr(name).cloned().unwrap_or_default();
        match rule.kind.as_str() {
            "schedule" => match self.run {
                Run::Schedule(_) => {
                    let pattern = self.global(&attr("pattern"));
                    Some((self.affix(rule, pattern), self.latest(false)))
                }
                _ => None,
            },
            "semver" | "pep440" => {
                let given = attr("value");
                let source = if !given.is_empty() {
                    self.global(&given)
                } else if matches!(self.run, Run::GitTag) {
                    Text::unknown(GIT_TAG)
                } else {
                    return None;
                };
                if rule.attr("match").is_some_and(|m| !m.is_empty()) {
                    questions.push(format!(
                        "metadata-action rule `{}` takes part of its version by regular expression",
                        rule.written
                    ));
                    return Some((
                        self.affix(rule, Text::unknown("{{match}}")),
                        self.latest(true),
                    ));
                }
                let pattern = attr("pattern");
                let Some(raw) = source.value() else {
                    let parts = pattern.display().replace("{{", "").replace("}}", "");
                    let of = if source.display() == GIT_TAG {
                        "the pushed git tag".to_owned()
                    } else {
                        source.display()
                    };
                    let shown = format!("<{} of {of}>", parts.trim());
                    return Some((self.affix(rule, Text::unknown(&shown)), self.latest(true)));
                };
                let raw = raw.replace('/', "-");
                let expanded = if rule.kind == "semver" {
                    version::semver(&raw, &pattern.display())
                } else {
                    version::pep440(&raw, &pattern.display())
                };
                match expanded {
                    Some((value, release)) => {
                        Some((self.affix(rule, Text::known(&value)), self.latest(release)))
                    }
                    None => {
                        questions.push(format!(
                            "metadata-action rule `{}`: {raw:?} is not a valid {} version, so it makes no tag",
                            rule.written, rule.kind
                        ));
                        None
                    }
                }
            }
            "match" => {
                let given = attr("value");
                if given.is_empty() && !matches!(self.run, Run::GitTag) {
                    return None;
                }
                questions.push(format!(
                    "metadata-action rule `{}` takes part of a value by regular expression",
                    rule.written
                ));
                Some((
                    self.affix(rule, Text::unknown("{{match}}")),
                    self.latest(true),
                ))
            }
            "ref" => {
                let event = attr("event").display();
                match (event.as_str(), self.run) {
                    ("branch", Run::Branch(b) | Run::Schedule(b) | Run::Dispatch(b)) => {
                        Some((self.affix(rule, Text::known(b)), self.latest(false)))
                    }
                    ("tag", Run::GitTag) => {
                        Some((self.affix(rule, Text::unknown(GIT_TAG)), self.latest(true)))
                    }
                    _ => None,
                }
            }
            "edge" => {
                let branch = self.branch()?;
                let wanted = attr("branch");
                let wanted = if wanted.is_empty() {
                    self.default_branch.to_owned()
                } else {
                    wanted.display()
                };
                (wanted == branch)
                    .then(|| (self.affix(rule, Text::known("edge")), self.latest(false)))
            }
            "raw" => {
                let value = self.global(&attr("value"));
                Some((self.affix(rule, value), self.latest(false)))
            }
            "sha" => {
                let shown = if attr("format").value() == Some("long") {
                    "<commit sha>"
                } else {
                    "<short commit sha>"
                };
                Some((self.affix(rule, Text::unknown(shown)), self.latest(false)))
            }
            _ => None,
        }
    }
}

/// `sanitizeTag`: every run of characters outside `[A-Za-z0-9._-]` becomes one `-`.
fn sanitize(text: &Text) -> Text {
    let mut out = Text::default();
    for piece in text.pieces() {
        match piece {
            Piece::Unknown(u) => out.push(&Text::unknown(u)),
            Piece::Known(known) => {
                let mut clean = String::with_capacity(known.len());
                let mut in_bad = false;
                for c in known.chars() {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                        clean.push(c);
                        in_bad = false;
                    } else if !in_bad {
                        clean.push('-');
                        in_bad = true;
                    }
                }
                out.push_str(&clean);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
