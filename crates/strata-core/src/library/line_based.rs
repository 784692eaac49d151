//! library stage (knowledge): the pre-2015 line-based library format, one tag per line
//! as `tag: git-url@commit [directory]`, maintainers in `# maintainer:` comments. Only
//! old history uses it. Pure text in, values out.

use super::entry::Entry;
use super::manifest::{Format, Manifest, ManifestError, valid_git_commit};

/// The fetch spec line-based files imply: any branch.
const LINE_BASED_FETCH: &str = "refs/heads/*";

/// Parses one `tag: url@commit [directory]` line on top of `defaults`.
fn parse_line(line: &str, defaults: &Entry) -> Result<Entry, ManifestError> {
    let missing_colon = || ManifestError::LineMissingColon {
        line: line.to_owned(),
    };
    let missing_at = || ManifestError::LineMissingAt {
        line: line.to_owned(),
    };
    let (tag, rest) = line.split_once(':').ok_or_else(missing_colon)?;
    let (repo, rest) = rest.split_once('@').ok_or_else(missing_at)?;
    let mut entry = defaults.clone();
    entry.tags = vec![tag.trim().to_owned()];
    entry.git_repo = repo.trim().to_owned();
    match rest.split_once(' ') {
        Some((commit, directory)) => {
            entry.git_commit = commit.trim().to_owned();
            entry.directory = directory.trim().to_owned();
        }
        None => entry.git_commit = rest.trim().to_owned(),
    }
    if entry.git_fetch == LINE_BASED_FETCH && !valid_git_commit(&entry.git_commit) {
        // Not a commit id, so it names a git tag to fetch.
        entry.git_fetch = format!("refs/tags/{}", entry.git_commit);
        entry.git_commit = "FETCH_HEAD".to_owned();
    }
    Ok(entry)
}

/// Parses a line-based library file with bashbrew's checks.
pub(super) fn parse(text: &str) -> Result<Manifest, ManifestError> {
    let mut global = Entry::bashbrew_default();
    global.git_fetch = LINE_BASED_FETCH.to_owned();
    let mut manifest = Manifest::with_global(Format::LineBased, global);
    for raw in text.split('\n') {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(maintainer) = comment.strip_prefix(" maintainer: ") {
                let maintainer = maintainer.trim().to_owned();
                manifest.global_mut().maintainers.push(maintainer);
            }
            continue;
        }
        let entry = parse_line(line, manifest.global())?;
        manifest.add_entry(entry)?;
    }
    manifest.check_global_maintainers()?;
    Ok(manifest)
}
