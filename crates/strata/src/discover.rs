//! discover stage: which files under the given paths name images, and of what kind.
//! Walks with the `ignore` crate (honours `.gitignore`, `.ignore`, skips hidden
//! directories such as `.git` but not `.github`), never follows symlinks (so a symlink
//! loop cannot trap it), and classifies files by name. Reads no file contents.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;

/// What a file is, which decides the extractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Dockerfile,
    /// A template that renders into a Dockerfile (`Dockerfile.j2`, `Dockerfile.template`):
    /// reported as a `template-source` skip, never read.
    DockerfileTemplate,
    Compose,
    Workflow,
    /// GitHub Actions action metadata (`action.yml` / `action.yaml`).
    Action,
    /// Any other YAML file: scanned as Kubernetes manifests when it holds any.
    Yaml,
}

/// A file to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Where to read it.
    pub path: PathBuf,
    /// How to show it: relative to the scanned root, with `/` separators.
    pub display: String,
    pub kind: Kind,
    /// For a compose file read because another one includes or extends it: how compose
    /// reads it there. `None` for every file discovery finds.
    pub reach: Option<Reach>,
}

/// How compose reads a file that another compose file `include`s or `extends` from (set by
/// the scan, which follows those links; see `scan/compose.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The project directory that relative paths in the file resolve against.
    pub project_dir: PathBuf,
    /// The `.env` files whose variables apply, in order (an earlier file wins).
    pub env_files: Vec<PathBuf>,
    /// The services compose takes from the file (`extends`); `None` for all (`include`).
    pub services: Option<std::collections::BTreeSet<String>>,
}

/// Extra include and exclude globs (gitignore-style, matched against the path relative
/// to the scanned root).
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// A path that could not be walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    pub path: String,
    pub message: String,
}

/// What template files end in: `Dockerfile.template`, `.tmpl`/`.tpl`/`.gotmpl` (Go
/// templates), `.j2`/`.jinja`/`.jinja2` (Jinja), `.in` (autoconf, CMake `configure_file`),
/// `.erb`, `.mustache`, `.hbs`.
const TEMPLATE_EXTENSIONS: [&str; 11] = [
    "template", "tmpl", "tpl", "gotmpl", "j2", "jinja", "jinja2", "in", "erb", "mustache", "hbs",
];

/// What source code, documentation and data files end in: `dockerfile.rs`,
/// `dockerfile_parse.py` or `Dockerfile.md` is about Dockerfiles, not one.
const OTHER_EXTENSIONS: [&str; 40] = [
    "rs", "go", "py", "pyi", "js", "mjs", "cjs", "ts", "jsx", "tsx", "java", "kt", "scala", "rb",
    "php", "pl", "c", "h", "cc", "cpp", "hpp", "cs", "swift", "sh", "bash", "zsh", "ps1", "bat",
    "md", "rst", "adoc", "html", "json", "toml", "xml", "yml", "yaml", "lock", "snap", "svg",
];

/// The names people give Dockerfiles (`docker build -f`): `Dockerfile`, `Containerfile`,
/// `api.Dockerfile`, `Dockerfile.dev`, `Dockerfile-windows`, `Dockerfile_arm`,
/// `Dockerfile.go`; not a source or document file named after them in lower case, as
/// source files are (`dockerfile.go`, `dockerfile_parse.py`). `name` is lower-cased;
/// `original` is the name as written.
fn is_dockerfile_name(name: &str, original: &str) -> bool {
    let source_like = original.starts_with(['d', 'c']);
    ["dockerfile", "containerfile"].iter().any(|stem| {
        name.ends_with(stem)
            || name.strip_prefix(stem).is_some_and(|rest| {
                rest.starts_with(['.', '-', '_'])
                    && !(source_like
                        && rest
                            .rsplit_once('.')
                            .is_some_and(|(_, ext)| OTHER_EXTENSIONS.contains(&ext)))
            })
    })
}

/// A Dockerfile name with a template extension after the stem (`Dockerfile.j2`,
/// `Dockerfile.in`, `Dockerfile.template-curl`, `api.Dockerfile.tmpl`).
fn is_template_name(name: &str) -> bool {
    let Some(at) = name
        .find("dockerfile")
        .or_else(|| name.find("containerfile"))
    else {
        return false;
    };
    name[at..]
        .split('.')
        .skip(1)
        .any(|part| TEMPLATE_EXTENSIONS.contains(&part) || part.starts_with("template"))
}

/// Classifies a file by its name and location.
pub fn classify(relative: &Path) -> Option<Kind> {
    let original = relative.file_name()?.to_str()?;
    let name = original.to_ascii_lowercase();
    if name.ends_with(".dockerignore") {
        return None;
    }
    if is_template_name(&name) {
        return Some(Kind::DockerfileTemplate);
    }
    if is_dockerfile_name(&name, original) {
        return Some(Kind::Dockerfile);
    }
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if !yaml {
        return None;
    }
    if name.starts_with("docker-compose")
        || name.starts_with("compose.")
        || name.starts_with("compose-")
    {
        return Some(Kind::Compose);
    }
    // The runner reads exactly these names (`ActionManager`: `action.yml`, `action.yaml`).
    if matches!(
        relative.file_name().and_then(|n| n.to_str()),
        Some("action.yml" | "action.yaml")
    ) {
        return Some(Kind::Action);
    }
    let in_workflows = relative
        .parent()
        .is_some_and(|p| p.ends_with(".github/workflows") || p == Path::new(".github/workflows"));
    if in_workflows {
        return Some(Kind::Workflow);
    }
    Some(Kind::Yaml)
}

/// A guess for files named explicitly or included by glob whatever their name.
fn kind_for_any(relative: &Path) -> Kind {
    classify(relative).unwrap_or_else(|| {
        let name = relative.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            Kind::Yaml
        } else {
            Kind::Dockerfile
        }
    })
}

fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| format!("invalid glob {pattern:?}: {e}"))?;
        builder.add(glob);
        // `dir/` style patterns also match everything below.
        if let Ok(below) = Glob::new(&format!("{}/**", pattern.trim_end_matches('/'))) {
            builder.add(below);
        }
    }
    builder.build().map_err(|e| e.to_string())
}

fn display(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Finds the files to scan under `roots`. A root that is a file is scanned whatever its
/// name. Results are sorted by display path.
pub fn discover(
    roots: &[PathBuf],
    filters: &Filters,
) -> Result<(Vec<SourceFile>, Vec<WalkError>), String> {
    let include = glob_set(&filters.include)?;
    let exclude = glob_set(&filters.exclude)?;
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for root in roots {
        let meta = match std::fs::metadata(root) {
            Ok(meta) => meta,
            Err(e) => {
                errors.push(WalkError {
                    path: root.display().to_string(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        if meta.is_file() {
            files.push(SourceFile {
                path: root.clone(),
                display: display(root),
                kind: kind_for_any(root),
                reach: None,
            });
            continue;
        }
        let mut walker = WalkBuilder::new(root);
        walker
            .follow_links(false)
            .require_git(false)
            .hidden(false)
            .filter_entry(|entry| {
                // Skip VCS and tool directories, but look inside `.github`.
                let name = entry.file_name().to_string_lossy();
                !(entry.depth() > 0
                    && name.starts_with('.')
                    && name != ".github"
                    && name != ".gitlab")
                    || entry.file_type().is_some_and(|t| t.is_file())
            });
        for entry in walker.build() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    errors.push(WalkError {
                        path: root.display().to_string(),
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if exclude.is_match(relative) {
                continue;
            }
            let kind = if include.is_match(relative) {
                Some(kind_for_any(relative))
            } else {
                classify(relative)
            };
            if let Some(kind) = kind {
                files.push(SourceFile {
                    path: entry.path().to_path_buf(),
                    display: display(relative),
                    kind,
                    reach: None,
                });
            }
        }
    }
    files.sort_by(|a, b| a.display.cmp(&b.display));
    files.dedup_by(|a, b| a.path == b.path);
    Ok((files, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let cases = [
            ("Dockerfile", Some(Kind::Dockerfile)),
            ("api.Dockerfile", Some(Kind::Dockerfile)),
            ("owner__repo__Dockerfile", Some(Kind::Dockerfile)),
            ("build/Containerfile", Some(Kind::Dockerfile)),
            ("Dockerfile.dev", Some(Kind::Dockerfile)),
            ("dockerfile", Some(Kind::Dockerfile)),
            ("Dockerfile.dockerignore", None),
            ("DockerfileHelper.cs", None),
            ("Dockerfile-windows", Some(Kind::Dockerfile)),
            ("Dockerfile_arm", Some(Kind::Dockerfile)),
            ("docker/Containerfile.fedora", Some(Kind::Dockerfile)),
            ("Containerfile-ubi", Some(Kind::Dockerfile)),
            ("web.dockerfile", Some(Kind::Dockerfile)),
            ("dockerfile.rs", None),
            ("dockerfile_parse_bench.py", None),
            ("dockerfile_ast_bench.js", None),
            ("dockerfile.go", None),
            ("Dockerfile.go", Some(Kind::Dockerfile)),
            ("Dockerfile.python", Some(Kind::Dockerfile)),
            ("Dockerfile_arm64", Some(Kind::Dockerfile)),
            ("Dockerfile.j2", Some(Kind::DockerfileTemplate)),
            ("Dockerfile.template", Some(Kind::DockerfileTemplate)),
            ("Dockerfile.template-curl", Some(Kind::DockerfileTemplate)),
            ("Dockerfile.in", Some(Kind::DockerfileTemplate)),
            ("api.Dockerfile.tmpl", Some(Kind::DockerfileTemplate)),
            ("Containerfile.jinja2", Some(Kind::DockerfileTemplate)),
            ("Dockerfile.inc", Some(Kind::Dockerfile)),
            ("Dockerfiles.md", None),
            ("template.in", None),
            ("compose.yaml", Some(Kind::Compose)),
            ("docker-compose.prod.yml", Some(Kind::Compose)),
            (".github/workflows/ci.yml", Some(Kind::Workflow)),
            // GitHub reads an action's metadata from `action.yml` or `action.yaml`.
            ("action.yml", Some(Kind::Action)),
            ("tools/lint/action.yaml", Some(Kind::Action)),
            ("my-action.yml", Some(Kind::Yaml)),
            ("deploy/app.yaml", Some(Kind::Yaml)),
            ("README.md", None),
        ];
        for (name, want) in cases {
            assert_eq!(classify(Path::new(name)), want, "{name}");
        }
    }
}
