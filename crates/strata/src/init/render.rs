//! init stage, writing: the proposal as `strata.toml` text — the workspace, each
//! repository with its trigger, each image entry with comments saying where it comes
//! from, and every question as a `# ?` comment (entries a question blocks are written
//! commented out). Pure text work.

use std::fmt::Write as _;

use super::choose::{DEFAULT_PLATFORM, Entry, Trigger};
use super::{Proposal, RepositoryPlan};

/// The file's text.
pub fn render(proposal: &Proposal) -> String {
    let mut out = String::new();
    let questions = proposal.question_count();
    out.push_str("# strata.toml: the image workspace, written by `strata init` from what the\n");
    out.push_str(
        "# repositories' CI files, Dockerfiles and compose files say. `strata graph` draws\n",
    );
    out.push_str("# the hierarchy; docs/cascade.md explains every key.\n");
    if questions > 0 {
        let (lines, verb, object) = if questions == 1 {
            ("line", "asks", "it")
        } else {
            ("lines", "ask", "them")
        };
        let _ = writeln!(
            out,
            "# {questions} `# ?` {lines} below {verb} what the files could not tell: answer\n\
             # {object} here, then delete the `# ?`."
        );
    }
    out.push('\n');
    out.push_str("[workspace]\n");
    let _ = writeln!(
        out,
        "platform = {}   # whose layers are compared in multi-platform images",
        quote(DEFAULT_PLATFORM)
    );
    for question in &proposal.questions {
        comment(&mut out, "# ? ", question);
    }
    for repository in &proposal.repositories {
        out.push('\n');
        render_repository(&mut out, repository);
    }
    if !proposal.skipped.is_empty() {
        out.push('\n');
        comment(
            &mut out,
            "# ",
            &format!(
                "Not listed (no Dockerfile and no image build): {}",
                proposal.skipped.join(", ")
            ),
        );
    }
    out
}

fn render_repository(out: &mut String, repository: &RepositoryPlan) {
    out.push_str("[[workspace.repository]]\n");
    let _ = writeln!(out, "name = {}", quote(&repository.name));
    let _ = writeln!(out, "path = {}", quote(&repository.path));
    if let Some(rule) = &repository.produces {
        let _ = writeln!(out, "produces = {}", quote(rule));
    }
    if let Some(note) = &repository.chosen.trigger_note {
        comment(out, "# ", note);
    }
    if let Some(trigger) = &repository.chosen.trigger {
        let _ = writeln!(out, "trigger = {}", trigger_table(trigger));
    }
    for note in &repository.chosen.notes {
        comment(out, "# ", note);
    }
    for question in &repository.chosen.questions {
        comment(out, "# ? ", question);
    }
    for entry in &repository.chosen.entries {
        out.push('\n');
        render_entry(out, entry);
    }
}

fn render_entry(out: &mut String, entry: &Entry) {
    let _ = writeln!(out, "# {}", entry.image.familiar());
    for note in &entry.notes {
        comment(out, "#   ", note);
    }
    for question in &entry.questions {
        comment(out, "# ? ", question);
    }
    let prefix = if entry.commented { "# " } else { "" };
    let mut lines = vec![
        "[[workspace.image]]".to_owned(),
        format!("name = {}", quote(&entry.image.familiar())),
        format!("repository = {}", quote(&entry.repository)),
        format!("dockerfile = {}", quote(&entry.dockerfile)),
    ];
    if let Some(target) = &entry.target {
        lines.push(format!("target = {}", quote(target)));
    }
    if let Some(platform) = &entry.platform {
        lines.push(format!("platform = {}", quote(platform)));
    }
    if !entry.build_args.is_empty() {
        let pairs: Vec<String> = entry
            .build_args
            .iter()
            .map(|(k, v)| format!("{} = {}", key(k), quote(v)))
            .collect();
        lines.push(format!("build_args = {{ {} }}", pairs.join(", ")));
    }
    if let Some(trigger) = &entry.trigger {
        lines.push(format!("trigger = {}", trigger_table(trigger)));
    }
    for line in lines {
        let _ = writeln!(out, "{prefix}{line}");
    }
}

fn trigger_table(trigger: &Trigger) -> String {
    match trigger {
        Trigger::Push => "{ kind = \"push\" }".to_owned(),
        Trigger::GitHubWorkflow {
            repository,
            workflow,
            git_ref,
        } => format!(
            "{{ kind = \"github-workflow\", repository = {}, workflow = {}, ref = {} }}",
            quote(repository),
            quote(workflow),
            quote(git_ref)
        ),
    }
}

/// One comment, on one line per text line (a comment never ends the line early).
fn comment(out: &mut String, prefix: &str, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{prefix}{}", line.trim_end());
    }
}

/// A TOML basic string.
pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, else quoted.
fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        name.to_owned()
    } else {
        quote(name)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// TOML 1.0, "String": basic strings escape `"`, `\` and control characters.
    #[test]
    fn strings_and_keys_are_valid_toml() {
        for text in [
            "plain",
            "with \"quotes\"",
            "back\\slash",
            "tab\tand\nnewline",
            "bell\u{7}",
        ] {
            let doc = format!("{} = {}", key("k-1"), quote(text));
            let parsed: toml::Table = toml::from_str(&doc).unwrap();
            assert_eq!(parsed["k-1"].as_str(), Some(text));
        }
        let doc = format!("{} = 1", key("a.b c"));
        let parsed: toml::Table = toml::from_str(&doc).unwrap();
        assert!(parsed.contains_key("a.b c"));
    }
}
