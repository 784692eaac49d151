//! extract stage, driven, for compose files: the variables a compose file is interpolated
//! with (the environment over its project's `.env` files), and the files compose reads
//! because of it (`include:`, `extends: {file}`), read in turn. Reads files; the rules
//! themselves are in strata-core (`extract::compose`).
//!
//! Each file is reported once, as the file that writes its image lines:
//! - a compose file discovery finds is read whole, as its own project (with the `.env` of its
//!   directory), unless another compose file `include`s it: then it is read as that project
//!   reads it (the first includer, in path order), which adds the including project's
//!   variables over its own `.env`. An `extends` into it adds nothing;
//! - any other file a compose file brings in (a `common.yml`, a file under another name) is
//!   read as compose wherever it is inside the scanned paths, with what compose would use
//!   there: an `include`d file whole, with the including project's variables over its own
//!   project's `.env` (compose-go `loader/include.go`); an `extends` file only for the
//!   extended services, with the extending project's variables (`loader/extends.go`). When
//!   several files bring it in, the first (in path order) sets its variables and the
//!   services add up;
//! - a file outside the scanned paths is a `not-followed` skip on the line that names it; a
//!   file that does not exist, or a service `extends` names that it lacks, is an error there
//!   (compose refuses the project).

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use strata_core::extract::compose::{self, Environment, Link, Read, Services};
use strata_core::occurrence::{ExtractError, Skip, SkipReason};

use super::{FileScan, read_text};
use crate::discover::{Kind, Reach, SourceFile};

/// Reads a compose file as its reach says (its own project when it has none).
pub(super) fn read(file: &SourceFile, text: &str) -> Read {
    let (env, errors) = environment(file);
    let services = match file.reach.as_ref().and_then(|r| r.services.as_ref()) {
        Some(names) => Services::Only(names),
        None => Services::All,
    };
    let mut read = compose::read(text, &|name| env.get(name), services);
    read.extraction.errors.extend(errors);
    read
}

/// The project directory and `.env` files of a compose file.
fn project(file: &SourceFile) -> (PathBuf, Vec<PathBuf>) {
    match &file.reach {
        Some(reach) => (reach.project_dir.clone(), reach.env_files.clone()),
        None => {
            let dir = parent(&file.path);
            let dotenv = dir.join(".env");
            (dir, vec![dotenv])
        }
    }
}

/// The directory of `path` (`.` for a bare file name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The variables compose interpolates `file` with: the process environment over its
/// project's `.env` files (its own directory's, or those of the project that brought it
/// in). A `.env` file that is missing is skipped; one that is malformed is an error (line 0,
/// the message naming the `.env` file and its line). For anything else in a compose file
/// that compose interpolates (`build.context`, `build.dockerfile`), pass the result's
/// `get` to `strata_core::extract::compose::interpolate`.
pub fn environment(file: &SourceFile) -> (Environment, Vec<ExtractError>) {
    let (_, env_files) = project(file);
    let mut env = Environment::new(std::env::vars());
    let mut errors = Vec::new();
    for path in env_files {
        if !path.is_file() {
            continue;
        }
        match read_text(&path) {
            Ok(text) => {
                if let Err(error) = env.add_dotenv(&text) {
                    errors.push(ExtractError {
                        line: 0,
                        message: format!("{}: {error}", path.display()),
                    });
                }
            }
            Err((line, message)) => errors.push(ExtractError {
                line: 0,
                message: format!("{}: line {line}: {message}", path.display()),
            }),
        }
    }
    (env, errors)
}

/// Where a scanned file sits: the directory of the scanned root it was found under, and the
/// prefix its display path has (non-empty for a file named on the command line).
#[derive(Debug, Clone)]
struct Root {
    dir: PathBuf,
    prefix: String,
}

fn root_of(file: &SourceFile) -> Root {
    let display = Path::new(&file.display);
    if display == file.path {
        // Named on the command line: its directory is its tree.
        Root {
            dir: parent(&file.path),
            prefix: display
                .parent()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default(),
        }
    } else {
        let depth = display.components().count();
        Root {
            dir: file
                .path
                .ancestors()
                .nth(depth)
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            prefix: String::new(),
        }
    }
}

/// `base` joined with `relative`, `..` and `.` resolved without touching the disk.
fn join(base: &Path, relative: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for component in base.join(relative).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// A file a link names, and how compose reads it.
struct Target {
    /// The reaching file's index and the link's line, for messages.
    from: usize,
    line: usize,
    /// As written in the link.
    written: String,
    path: PathBuf,
    reach: Reach,
}

/// What a compose file's links lead to.
fn targets(index: usize, file: &SourceFile, links: &[Link]) -> Vec<Target> {
    let (project_dir, env_files) = project(file);
    let mut out = Vec::new();
    for link in links {
        match link {
            Link::Include {
                line,
                paths,
                project_directory,
                env_files: given,
            } => {
                let Some(first) = paths.first() else { continue };
                let included_dir = match project_directory {
                    Some(dir) => join(&project_dir, dir),
                    None => parent(&join(&project_dir, first)),
                };
                let mut chain = env_files.clone();
                if given.is_empty() {
                    chain.push(included_dir.join(".env"));
                } else {
                    chain.extend(
                        given
                            .iter()
                            .filter(|f| f.as_str() != "/dev/null")
                            .map(|f| join(&project_dir, f)),
                    );
                }
                for written in paths {
                    out.push(Target {
                        from: index,
                        line: *line,
                        written: written.clone(),
                        path: join(&project_dir, written),
                        reach: Reach {
                            project_dir: included_dir.clone(),
                            env_files: chain.clone(),
                            services: None,
                        },
                    });
                }
            }
            Link::Extends {
                line,
                file: written,
                service,
            } => {
                let path = join(&project_dir, written);
                out.push(Target {
                    from: index,
                    line: *line,
                    written: written.clone(),
                    reach: Reach {
                        project_dir: parent(&path),
                        env_files: env_files.clone(),
                        services: Some(BTreeSet::from([service.clone()])),
                    },
                    path,
                });
            }
        }
    }
    out
}

/// Adds `more` to what compose takes from a file; true when that grew.
fn merge(reach: &mut Reach, more: &Reach) -> bool {
    match (&mut reach.services, &more.services) {
        (None, _) => false,
        (Some(_), None) => {
            reach.services = None;
            true
        }
        (Some(names), Some(extra)) => {
            let before = names.len();
            names.extend(extra.iter().cloned());
            names.len() > before
        }
    }
}

/// Follows the `include` and `extends` links of every compose file in `results`, reading the
/// files they lead to (see the module documentation for the rules). Keeps `results` sorted.
pub(super) fn follow(results: &mut Vec<FileScan>) {
    let mut pending: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.file.kind == Kind::Compose
                && (s.text.contains("include") || s.text.contains("extends"))
        })
        .map(|(i, _)| i)
        .collect();
    if pending.is_empty() {
        return;
    }
    let mut state = Follow::new(results);
    while !pending.is_empty() {
        let mut grown: BTreeSet<PathBuf> = BTreeSet::new();
        for index in std::mem::take(&mut pending) {
            for target in state.links_of(index) {
                if let Some(canonical) = state.reach(target) {
                    grown.insert(canonical);
                }
            }
        }
        for canonical in grown {
            pending.push(state.load(&canonical));
        }
    }
    state.check_extends();
    for scan in results.iter_mut().filter(|s| s.file.kind == Kind::Compose) {
        // Link skips and errors were added after the file's own: back into line order.
        scan.extraction.skips.sort_by_key(|s| s.line);
        scan.extraction.errors.sort_by_key(|e| e.line);
    }
    results.sort_by(|a, b| a.file.display.cmp(&b.file.display));
}

/// A file brought in by links, and how to show it.
struct Reached {
    reach: Reach,
    path: PathBuf,
    display: String,
    root: Root,
}

/// An `extends` to check once every file is read: the service must be in the file.
struct ExtendsCheck {
    from: usize,
    line: usize,
    written: String,
    target: PathBuf,
    service: String,
}

/// The state of following links over one scan.
struct Follow<'r> {
    results: &'r mut Vec<FileScan>,
    /// Canonical path of every scanned file, to its index.
    by_path: HashMap<PathBuf, usize>,
    /// The root of files read because of links (others have the root they were found in).
    roots: HashMap<usize, Root>,
    reached: HashMap<PathBuf, Reached>,
    /// The services each compose file defines, by canonical path, once known.
    services: HashMap<PathBuf, BTreeSet<String>>,
    extends: Vec<ExtendsCheck>,
}

impl<'r> Follow<'r> {
    fn new(results: &'r mut Vec<FileScan>) -> Self {
        let by_path = results
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.file.path.canonicalize().ok().map(|c| (c, i)))
            .collect();
        Follow {
            results,
            by_path,
            roots: HashMap::new(),
            reached: HashMap::new(),
            services: HashMap::new(),
            extends: Vec::new(),
        }
    }

    fn root(&self, index: usize) -> Root {
        self.roots
            .get(&index)
            .cloned()
            .unwrap_or_else(|| root_of(&self.results[index].file))
    }

    fn error(&mut self, index: usize, line: usize, message: String) {
        self.results[index]
            .extraction
            .errors
            .push(ExtractError { line, message });
    }

    /// The files the links of compose file `index` lead to.
    fn links_of(&self, index: usize) -> Vec<Target> {
        let scan = &self.results[index];
        let read = read(&scan.file, &scan.text);
        targets(index, &scan.file, &read.links)
    }

    /// Records that `target` is brought in; its canonical path when it must be (re)read.
    fn reach(&mut self, target: Target) -> Option<PathBuf> {
        let root = self.root(target.from);
        let canonical = match target.path.canonicalize() {
            Ok(canonical) => canonical,
            Err(e) => {
                let message = format!("{}: cannot read: {e}", target.written);
                self.error(target.from, target.line, message);
                return None;
            }
        };
        let root_dir = root.dir.canonicalize().unwrap_or_else(|_| root.dir.clone());
        let Ok(relative) = canonical.strip_prefix(&root_dir) else {
            self.results[target.from].extraction.skips.push(Skip {
                line: target.line,
                text: target.written,
                reason: SkipReason::NotFollowed {
                    reason: "outside the scanned paths".to_owned(),
                },
            });
            return None;
        };
        let relative = relative.to_path_buf();
        if let Some(services) = &target.reach.services {
            for service in services {
                self.extends.push(ExtendsCheck {
                    from: target.from,
                    line: target.line,
                    written: target.written.clone(),
                    target: canonical.clone(),
                    service: service.clone(),
                });
            }
        }
        let mut known = None;
        if let Some(&i) = self.by_path.get(&canonical) {
            let file = &self.results[i].file;
            match file.kind {
                // A project of its own, read whole: an `extends` adds nothing to it.
                Kind::Compose if file.reach.is_none() && target.reach.services.is_some() => {
                    return None;
                }
                Kind::Compose | Kind::Yaml => {
                    known = Some((file.path.clone(), file.display.clone()))
                }
                _ => {
                    let message = format!("{}: not a compose file", target.written);
                    self.error(target.from, target.line, message);
                    return None;
                }
            }
        }
        if let Some(existing) = self.reached.get_mut(&canonical) {
            return merge(&mut existing.reach, &target.reach).then_some(canonical);
        }
        let (path, display) = known.unwrap_or_else(|| {
            let shown = relative.to_string_lossy().replace('\\', "/");
            let display = if root.prefix.is_empty() {
                shown
            } else {
                format!("{}/{shown}", root.prefix)
            };
            (root.dir.join(&relative), display)
        });
        let reached = Reached {
            reach: target.reach,
            path,
            display,
            root,
        };
        self.reached.insert(canonical.clone(), reached);
        Some(canonical)
    }

    /// Reads a brought-in file as compose reads it, in place of any earlier scan of it.
    fn load(&mut self, canonical: &Path) -> usize {
        let Some(reached) = self.reached.get(canonical) else {
            return 0;
        };
        let file = SourceFile {
            path: reached.path.clone(),
            display: reached.display.clone(),
            kind: Kind::Compose,
            reach: Some(reached.reach.clone()),
        };
        let root = reached.root.clone();
        let scan = match read_text(&file.path) {
            Ok(text) => {
                let read = read(&file, &text);
                self.services.insert(canonical.to_path_buf(), read.services);
                FileScan {
                    file,
                    text,
                    extraction: read.extraction,
                }
            }
            Err((line, message)) => {
                let mut extraction = strata_core::occurrence::Extraction::default();
                extraction.errors.push(ExtractError { line, message });
                FileScan {
                    file,
                    text: String::new(),
                    extraction,
                }
            }
        };
        let index = match self.by_path.get(canonical) {
            Some(&i) => {
                self.results[i] = scan;
                i
            }
            None => {
                self.results.push(scan);
                let i = self.results.len() - 1;
                self.by_path.insert(canonical.to_path_buf(), i);
                i
            }
        };
        self.roots.insert(index, root);
        index
    }

    /// Every `extends` names a service its file defines (compose: "service not found").
    fn check_extends(&mut self) {
        for check in std::mem::take(&mut self.extends) {
            let known = match self.services.get(&check.target) {
                Some(known) => known.contains(&check.service),
                None => {
                    let Some(&i) = self.by_path.get(&check.target) else {
                        continue;
                    };
                    let scan = &self.results[i];
                    let defined = read(&scan.file, &scan.text).services;
                    let known = defined.contains(&check.service);
                    self.services.insert(check.target.clone(), defined);
                    known
                }
            };
            if !known {
                let message = format!(
                    "cannot extend service {:?}: not found in {}",
                    check.service, check.written
                );
                self.error(check.from, check.line, message);
            }
        }
    }
}
