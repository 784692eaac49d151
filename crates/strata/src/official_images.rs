//! adapter (knowledge): the Docker Official Images library on disk. Reads `library/*`
//! files and `removed-tags.json`, and builds that index from a docker-library/
//! official-images git checkout by walking `git log --first-parent` with the git CLI.
//! Parsing and deciding stay in `strata_core::library`; nothing here talks to a network.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};
use strata_core::library::{
    History, HistoryFile, HistorySource, ImageHistory, Library, Manifest, Snapshot, Timeline,
    Timestamp,
};

/// The name of the removed-tags index beside a `library/` folder.
pub const HISTORY_FILE: &str = "removed-tags.json";

/// What [`load`] found: the library files and, when available, the removed-tags history.
#[derive(Debug, Clone)]
pub struct OfficialImages {
    pub library: Library,
    pub history: Option<History>,
}

/// Loads `<dir>/library/*` (or `<dir>/*` when `dir` is the library folder itself) and
/// `<dir>/removed-tags.json` when present. Without that file, a git checkout of
/// official-images gets its history from the git walk of [`walk_history`] (slow: prefer
/// writing the index once with `strata official-images index`).
pub fn load(dir: &Path) -> Result<OfficialImages> {
    let library_dir = if dir.join("library").is_dir() {
        dir.join("library")
    } else {
        dir.to_owned()
    };
    let index = dir.join(HISTORY_FILE);
    // The index (12 MB of JSON for the whole official-images history) takes longer than
    // the library files: read both at once.
    let (library, history) = std::thread::scope(|scope| {
        let history = scope.spawn(|| -> Result<Option<History>> {
            if index.is_file() {
                Ok(Some(read_history(&index)?))
            } else if dir.join(".git").exists() && library_dir != dir {
                Ok(Some(walk_history(dir, &[])?))
            } else {
                Ok(None)
            }
        });
        let library = load_library(&library_dir);
        let history = history
            .join()
            .unwrap_or_else(|_| bail!("reading {} panicked", index.display()));
        (library, history)
    });
    Ok(OfficialImages {
        library: library?,
        history: history?,
    })
}

/// Parses every file of a library folder (hidden files are skipped).
pub fn load_library(dir: &Path) -> Result<Library> {
    let mut library = Library::new();
    let entries = fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with('.') || !path.is_file() {
            continue;
        }
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let manifest =
            Manifest::parse(&text).with_context(|| format!("parsing {}", path.display()))?;
        library.insert(name, manifest);
    }
    Ok(library)
}

/// Reads a `removed-tags.json` index.
pub fn read_history(path: &Path) -> Result<History> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

/// Writes the index in the layout of `removed-tags.json`: one removed tag per line, so
/// successive indexes diff well.
pub fn write_history(history: &History, out: &mut dyn Write) -> Result<()> {
    let file = history.file();
    writeln!(out, "{{")?;
    writeln!(
        out,
        "\"description\": {},",
        serde_json::to_string(&file.description)?
    )?;
    writeln!(out, "\"source\": {},", serde_json::to_string(&file.source)?)?;
    writeln!(out, "\"fields\": {},", serde_json::to_string(&file.fields)?)?;
    writeln!(out, "\"images\": {{")?;
    for (i, (name, image)) in file.images.iter().enumerate() {
        let mut head = serde_json::to_value(image)?;
        if let Some(object) = head.as_object_mut() {
            object.remove("removed_tags");
        }
        let head = serde_json::to_string(&head)?;
        let head = head.strip_suffix('}').unwrap_or(&head);
        write!(
            out,
            "{}: {head}, \"removed_tags\": [",
            serde_json::to_string(name)?
        )?;
        for (j, tag) in image.removed_tags.iter().enumerate() {
            let sep = if j == 0 { "\n" } else { ",\n" };
            write!(out, "{sep}{}", serde_json::to_string(tag)?)?;
        }
        let last = if i + 1 == file.images.len() { "" } else { "," };
        writeln!(out, "\n]}}{last}")?;
    }
    writeln!(out, "}}\n}}")?;
    Ok(())
}

/// Builds the removed-tags history of an official-images checkout: for every
/// `library/<image>` file ever on the mainline (or only `images`, when given), each
/// first-parent commit's version of the file is compared with the one before.
pub fn walk_history(checkout: &Path, images: &[String]) -> Result<History> {
    let git = Git::new(checkout);
    let head_commit = git.output(&["rev-parse", "HEAD"])?.trim().to_owned();
    let head_date = git.output(&["log", "-1", "--format=%cI", "HEAD"])?;
    let head_date = Timestamp::parse(head_date.trim()).ok();
    let repo = match git.output(&["remote", "get-url", "origin"]) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => checkout.display().to_string(),
    };
    let names = if images.is_empty() {
        git.library_files()?
    } else {
        images.iter().cloned().collect()
    };
    let mut reader = BlobReader::start(checkout)?;
    let mut histories = BTreeMap::new();
    for name in names {
        let history = walk_image(&git, &mut reader, &name)
            .with_context(|| format!("walking the history of library/{name}"))?;
        histories.insert(name, history);
    }
    reader.finish()?;
    let source = HistorySource {
        repo,
        head_commit,
        head_date,
        license: None,
    };
    Ok(History::new(HistoryFile::describe(source, histories)))
}

fn walk_image(git: &Git, reader: &mut BlobReader, name: &str) -> Result<ImageHistory> {
    let path = format!("library/{name}");
    let log = git.output(&[
        "log",
        "--first-parent",
        "--reverse",
        "--format=%H %cI",
        "--",
        &path,
    ])?;
    let mut timeline = Timeline::new();
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let Some((commit, date)) = line.split_once(' ') else {
            bail!("unexpected git log line {line:?}");
        };
        let at = Timestamp::parse(date.trim())?;
        match reader.read(&format!("{commit}:{path}"))? {
            Some(text) => timeline.observe(commit, at, Snapshot::Text(&text)),
            None => timeline.observe(commit, at, Snapshot::Absent),
        }
    }
    Ok(timeline.finish())
}

/// Runs `git -C <checkout> ...` and collects stdout.
struct Git {
    checkout: PathBuf,
}

impl Git {
    fn new(checkout: &Path) -> Git {
        Git {
            checkout: checkout.to_owned(),
        }
    }

    fn output(&self, args: &[&str]) -> Result<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.checkout)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .context("running git (is it installed?)")?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!("git {} failed: {}", args.join(" "), stderr.trim());
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Every `library/<name>` path the mainline ever touched, deleted ones included.
    fn library_files(&self) -> Result<BTreeSet<String>> {
        let log = self.output(&[
            "log",
            "--first-parent",
            "--format=",
            "--name-only",
            "--",
            "library/",
        ])?;
        let names = log
            .lines()
            .filter_map(|l| l.trim().strip_prefix("library/"));
        Ok(names
            .filter(|n| !n.is_empty() && !n.contains('/'))
            .map(str::to_owned)
            .collect())
    }
}

/// One `git cat-file --batch` process answering `<commit>:<path>` requests in turn.
struct BlobReader {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl BlobReader {
    fn start(checkout: &Path) -> Result<BlobReader> {
        let mut child = Command::new("git")
            .arg("-C")
            .arg(checkout)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("running git cat-file (is git installed?)")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            bail!("git cat-file started without pipes");
        };
        Ok(BlobReader {
            child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    /// The object's text, or `None` when it does not exist (the file is absent there).
    fn read(&mut self, object: &str) -> Result<Option<String>> {
        writeln!(self.stdin, "{object}")?;
        self.stdin.flush()?;
        let mut header = String::new();
        self.stdout.read_line(&mut header)?;
        let header = header.trim_end();
        if header.ends_with(" missing") || header.ends_with(" ambiguous") {
            return Ok(None);
        }
        let mut fields = header.split(' ');
        let (Some(_), Some(kind), Some(size)) = (fields.next(), fields.next(), fields.next())
        else {
            bail!("unexpected git cat-file answer {header:?} for {object}");
        };
        let size: usize = size
            .parse()
            .with_context(|| format!("git cat-file answer {header:?}"))?;
        let mut body = vec![0; size + 1];
        self.stdout.read_exact(&mut body)?;
        body.pop();
        if kind != "blob" {
            return Ok(None);
        }
        Ok(Some(String::from_utf8_lossy(&body).into_owned()))
    }

    fn finish(mut self) -> Result<()> {
        drop(self.stdin);
        self.child.wait().context("waiting for git cat-file")?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A throwaway git repository whose commits carry chosen dates.
    struct Repo {
        dir: tempfile::TempDir,
    }

    impl Repo {
        fn new() -> Repo {
            let repo = Repo {
                dir: tempfile::tempdir().unwrap(),
            };
            repo.git(&["init", "-q", "-b", "main"], "2020-01-01T00:00:00Z");
            fs::create_dir(repo.dir.path().join("library")).unwrap();
            repo
        }

        fn git(&self, args: &[&str], date: &str) {
            let status = Command::new("git")
                .arg("-C")
                .arg(self.dir.path())
                .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
                .args(["-c", "commit.gpgsign=false"])
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date)
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        }

        fn write(&self, name: &str, text: Option<&str>) {
            let path = self.dir.path().join("library").join(name);
            match text {
                Some(text) => fs::write(path, text).unwrap(),
                None => fs::remove_file(path).unwrap(),
            }
        }

        fn commit(&self, date: &str) {
            self.git(&["add", "-A"], date);
            self.git(&["commit", "-q", "-m", date], date);
        }
    }

    fn foo(tags: &[&str], shared: &str) -> String {
        let mut text = "Maintainers: T (@t)\nGitRepo: https://example.com/foo.git\n".to_owned();
        for (i, tag) in tags.iter().enumerate() {
            text += &format!("\nTags: {tag}\nGitCommit: {i:040x}\n");
            if i == 0 && !shared.is_empty() {
                text += &format!("SharedTags: {shared}\n");
            }
        }
        text
    }

    fn repo_with_history() -> Repo {
        let repo = Repo::new();
        repo.write("foo", Some(&foo(&["1.0, 1", "latest"], "shared-1")));
        repo.write("bar", Some("# maintainer: T (@t)\nold: git://example.com/bar@abc123\nlatest: git://example.com/bar@abc123 sub\n"));
        repo.commit("2020-01-01T10:00:00+01:00");
        repo.write("foo", Some(&foo(&["1.1, 1", "latest"], "")));
        repo.commit("2020-02-01T10:00:00-07:00");
        repo.write("foo", Some(&foo(&["1.1, 1", "1.0", "latest"], "")));
        repo.write("bar", None);
        repo.commit("2020-03-01T10:00:00Z");
        // A side branch adds and drops a tag: only its merge is on the mainline.
        repo.git(&["checkout", "-q", "-b", "side"], "2020-03-02T00:00:00Z");
        repo.write("foo", Some(&foo(&["2.0, 2", "1.1", "tmp"], "")));
        repo.commit("2020-03-02T10:00:00Z");
        repo.write("foo", Some(&foo(&["2.0, 2", "1.1"], "")));
        repo.commit("2020-03-03T10:00:00Z");
        repo.git(&["checkout", "-q", "main"], "2020-03-04T00:00:00Z");
        repo.git(
            &["merge", "-q", "--no-ff", "-m", "merge", "side"],
            "2020-04-01T10:00:00+02:00",
        );
        repo
    }

    #[test]
    fn walk_records_first_sighting_and_final_removal() {
        // Removed tags come in order of removal, then of first sighting in the file.
        let repo = repo_with_history();
        let history = walk_history(repo.dir.path(), &[]).unwrap();
        assert_eq!(history.images().collect::<Vec<_>>(), ["bar", "foo"]);

        let foo = history.image("foo").unwrap();
        assert!(foo.library_file_exists_at_head);
        assert_eq!(foo.mainline_commits_touching_file, 4);
        assert_eq!(foo.current_tag_count, 3);
        let removed: Vec<(&str, String, String)> = foo
            .removed_tags
            .iter()
            .map(|t| {
                (
                    t.tag.as_str(),
                    t.first_seen.to_string(),
                    t.removed.to_string(),
                )
            })
            .collect();
        let (jan, feb) = ("2020-01-01T10:00:00+01:00", "2020-02-01T10:00:00-07:00");
        let (mar, apr) = ("2020-03-01T10:00:00Z", "2020-04-01T10:00:00+02:00");
        let row = |t: &'static str, a: &str, b: &str| (t, a.to_owned(), b.to_owned());
        assert_eq!(
            removed,
            [
                row("shared-1", jan, feb),
                row("1.0", jan, apr),
                row("1", jan, apr),
                row("latest", jan, apr)
            ]
        );
        let one_oh = history.removed("foo", "1.0").unwrap();
        assert_eq!(one_oh.readded_count, Some(1));
        assert_eq!(one_oh.removed_commit.len(), 12);
        assert_eq!(
            history.removed("foo", "shared-1").unwrap().kind,
            strata_core::library::TagKind::Shared
        );
        assert_eq!(
            history.removed("foo", "tmp"),
            None,
            "side-branch commits are not mainline"
        );

        let bar = history.image("bar").unwrap();
        assert!(!bar.library_file_exists_at_head);
        assert_eq!(bar.formats_seen, [strata_core::library::Format::LineBased]);
        let bar_tags: Vec<&str> = bar.removed_tags.iter().map(|t| t.tag.as_str()).collect();
        assert_eq!(bar_tags, ["old", "latest"]);
        assert_eq!(bar.removed_tags[0].removed.to_string(), mar);
    }

    #[test]
    fn written_index_reads_back_and_load_uses_it() {
        let repo = repo_with_history();
        let history = walk_history(repo.dir.path(), &["foo".to_owned()]).unwrap();
        assert_eq!(history.images().count(), 1);
        let mut bytes = Vec::new();
        write_history(&history, &mut bytes).unwrap();
        let again: History = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(again, history);

        fs::write(repo.dir.path().join(HISTORY_FILE), &bytes).unwrap();
        let loaded = load(repo.dir.path()).unwrap();
        assert_eq!(loaded.history, Some(history));
        assert!(loaded.library.lists("foo", "2.0"));
        assert!(loaded.library.get("bar").is_none());
    }

    #[test]
    fn load_walks_a_checkout_without_an_index() {
        let repo = repo_with_history();
        let loaded = load(repo.dir.path()).unwrap();
        let history = loaded.history.unwrap();
        assert!(history.removed("bar", "old").is_some());
        // The library folder alone has no history.
        let bare = load(&repo.dir.path().join("library")).unwrap();
        assert!(bare.history.is_none());
        assert_eq!(bare.library.len(), 1);
    }

    #[test]
    fn load_reports_the_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("good"), foo(&["1"], "")).unwrap();
        fs::write(dir.path().join("bad"), "this is not a manifest").unwrap();
        let error = format!("{:#}", load(dir.path()).unwrap_err());
        assert!(
            error.contains("bad") && error.contains("Bad line:"),
            "{error}"
        );
    }
}
