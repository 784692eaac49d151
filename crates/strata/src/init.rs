//! init stage: `strata init` proposes a workspace `strata.toml` for a repository or a
//! folder of repositories. It reads what already says which images each repository
//! produces — CI files through [`strata_core::ci`], Dockerfile `# strata: produces`
//! comments and compose `build:` + `image:` through the graph's own reader — works out
//! each build's bases with its own build arguments, and names each build by the tag the
//! workspace builds on ([`choose`]). What the files cannot tell becomes a `# ?` question
//! in the text ([`render`]), never a guess. Reads files and runs `git`; writing the file
//! is the command's job.

pub mod choose;
mod render;
pub mod repository;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use anyhow::Result;
use strata_core::ci::{self, Build, Pushed};
use strata_core::graph::ImageRef;

use crate::config::workspace::{BuildArg, ImageSpec, RepositorySource, RepositorySpec, Workspace};
use crate::discover::{Filters, Kind, discover};
use crate::hierarchy::{declare, dockerfile, source};
use crate::scan::{ScanOptions, scan};
use crate::selection::host_platform;

pub use choose::{Chosen, Entry, Trigger};
pub use render::render;

/// The registry host of the stand-in names used while working out each build's bases.
const PROBE_HOST: &str = "strata-init.invalid";

/// What `strata init` proposes.
#[derive(Debug, Clone, Default)]
pub struct Proposal {
    pub repositories: Vec<RepositoryPlan>,
    /// Questions about the workspace as a whole.
    pub questions: Vec<String>,
    /// Repositories left out (no Dockerfile, no build).
    pub skipped: Vec<String>,
}

/// One repository of the proposal.
#[derive(Debug, Clone)]
pub struct RepositoryPlan {
    pub name: String,
    /// Relative to the config file's directory.
    pub path: String,
    /// A naming rule, when one is proposed.
    pub produces: Option<String>,
    pub chosen: Chosen,
}

impl Proposal {
    /// Every `# ?` line the text will have.
    pub fn question_count(&self) -> usize {
        self.questions.len()
            + self
                .repositories
                .iter()
                .map(|r| {
                    r.chosen.questions.len()
                        + r.chosen
                            .entries
                            .iter()
                            .map(|e| e.questions.len())
                            .sum::<usize>()
                })
                .sum::<usize>()
    }

    /// Active `[[workspace.image]]` entries.
    pub fn image_count(&self) -> usize {
        self.repositories
            .iter()
            .flat_map(|r| &r.chosen.entries)
            .filter(|e| !e.commented)
            .count()
    }
}

/// Reads the repositories under `paths` and proposes the workspace of a `strata.toml`
/// in `config_dir`.
pub fn propose(paths: &[PathBuf], config_dir: &Path) -> Result<Proposal> {
    let mut found = repository::find(paths)?;
    unique_names(&mut found);
    let readings: Vec<ci::Reading> = found
        .iter()
        .map(|f| {
            let mut reading = ci::github::read(&f.files, &f.repository);
            let gitlab = ci::gitlab::read(&f.files, &f.repository);
            reading.builds.extend(gitlab.builds);
            reading.questions.extend(gitlab.questions);
            reading
        })
        .collect();
    let (bases, declared) = probe(&found, &readings)?;
    let mut referenced: BTreeSet<ImageRef> = bases.values().flatten().cloned().collect();
    let mut has_dockerfile = BTreeSet::new();
    for f in &found {
        for image in dockerfile_bases(&f.dir, &mut has_dockerfile, &f.name) {
            referenced.insert(image);
        }
    }
    let mut proposal = Proposal::default();
    for (f, reading) in found.iter().zip(&readings) {
        let known: Vec<choose::Known<'_>> = reading
            .builds
            .iter()
            .map(|build| choose::Known {
                build,
                dockerfile_exists: build
                    .dockerfile
                    .value()
                    .is_some_and(|d| f.dir.join(d).is_file()),
            })
            .collect();
        let place = choose::Place {
            name: f.name.clone(),
            github: f
                .origin
                .as_ref()
                .filter(|o| o.is_github())
                .map(|o| o.path.clone()),
            default_branch: f.repository.default_branch.clone(),
            declared: declared.get(&f.name).cloned().unwrap_or_default(),
            project: f.origin.as_ref().map(|o| o.path.clone()),
        };
        let mut chosen = choose::choose(&place, &known, &referenced);
        for question in &reading.questions {
            chosen.questions.push(format!(
                "{}:{}: {}",
                question.file, question.line, question.text
            ));
        }
        let declares = !place.declared.is_empty();
        if chosen.entries.is_empty() && !declares {
            if !has_dockerfile.contains(&f.name) && reading.builds.is_empty() {
                proposal.skipped.push(f.name.clone());
                continue;
            }
            if !reading.builds.iter().any(|b| b.pushed != Pushed::No) {
                let unread = unread_ci(&f.dir);
                let also = if unread.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (its {} {} not read)",
                        unread.join(", "),
                        if unread.len() == 1 { "is" } else { "are" }
                    )
                };
                chosen.questions.push(format!(
                    "no CI file here says which images its Dockerfiles produce{also}: add `# strata: produces <image>` \
                     to each Dockerfile, or a naming rule such as produces = \"registry.example.com/org/{{dir}}:latest\""
                ));
            }
        }
        if declares {
            let names: Vec<String> = place.declared.iter().map(ImageRef::familiar).collect();
            chosen.notes.insert(
                0,
                format!("its Dockerfile comments or compose files declare {} (read by strata as they are)", names.join(", ")),
            );
        }
        proposal.repositories.push(RepositoryPlan {
            name: f.name.clone(),
            path: relative(config_dir, &f.dir),
            produces: None,
            chosen,
        });
    }
    Ok(proposal)
}

/// CI configurations of systems `init` does not read, present in `dir`.
fn unread_ci(dir: &Path) -> Vec<&'static str> {
    [
        ".travis.yml",
        "Jenkinsfile",
        ".circleci/config.yml",
        ".drone.yml",
        "azure-pipelines.yml",
        "bitbucket-pipelines.yml",
        "cloudbuild.yaml",
        ".woodpecker.yml",
        "docker-bake.hcl",
    ]
    .into_iter()
    .filter(|name| dir.join(name).is_file())
    .collect()
}

/// Two repositories with one directory name get `-2`, `-3`, … (names must differ).
fn unique_names(found: &mut [repository::Found]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for f in found.iter_mut() {
        let count = seen.entry(f.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            f.name = format!("{}-{count}", f.name);
        }
    }
}

/// Reads every build's Dockerfile with its own arguments through the graph's reader (so
/// the bases are exactly those `strata graph` will see), and the images Dockerfile
/// comments and compose files already declare. Returns the bases by probe name and the
/// declared images by repository.
#[allow(clippy::type_complexity)]
fn probe(
    found: &[repository::Found],
    readings: &[ci::Reading],
) -> Result<(
    BTreeMap<String, Vec<ImageRef>>,
    BTreeMap<String, BTreeSet<ImageRef>>,
)> {
    let mut workspace = Workspace {
        declared: true,
        ..Workspace::default()
    };
    for f in found {
        let dir = std::path::absolute(&f.dir).unwrap_or_else(|_| f.dir.clone());
        workspace.repositories.push(RepositorySpec {
            name: f.name.clone(),
            source: RepositorySource::Local(dir),
            produces: None,
            trigger: None,
            pins: None,
            branch: None,
        });
    }
    let mut probes = 0usize;
    for (f, reading) in found.iter().zip(readings) {
        for build in &reading.builds {
            let Some(dockerfile) = build.dockerfile.value() else {
                continue;
            };
            if !f.dir.join(dockerfile).is_file() {
                continue;
            }
            probes += 1;
            let Ok(image) = ImageRef::parse(&format!("{PROBE_HOST}/b{probes}:probe")) else {
                continue;
            };
            workspace.images.push(ImageSpec {
                image,
                repository: Some(f.name.clone()),
                dockerfile: Some(dockerfile.to_owned()),
                target: build
                    .target
                    .as_ref()
                    .and_then(|t| t.value())
                    .map(str::to_ascii_lowercase),
                platform: None,
                build_args: known_args(build),
                trigger: None,
                pins: None,
            });
        }
    }
    let checkouts = source::checkouts(&workspace, None)?;
    let mut opts = ScanOptions::default();
    opts.dockerfile.platform = Some(choose::DEFAULT_PLATFORM.to_owned());
    opts.dockerfile.build_platform = Some(host_platform());
    let result = declare(&workspace, &checkouts, &opts);
    let mut bases: BTreeMap<String, Vec<ImageRef>> = BTreeMap::new();
    let mut declared: BTreeMap<String, BTreeSet<ImageRef>> = BTreeMap::new();
    for produced in result.produced {
        let all: Vec<ImageRef> = produced.bases.iter().map(|b| b.image.clone()).collect();
        if produced.image.reference().domain() != PROBE_HOST {
            declared
                .entry(produced.producer.repository.clone())
                .or_default()
                .insert(produced.image.clone());
        }
        bases
            .entry(produced.image.to_string())
            .or_default()
            .extend(all);
    }
    Ok((bases, declared))
}

fn known_args(build: &Build) -> BTreeMap<String, BuildArg> {
    build
        .build_args
        .iter()
        .filter_map(|(name, value)| {
            value.value().map(|v| {
                (
                    name.clone(),
                    BuildArg {
                        value: v.to_owned(),
                        span: None,
                    },
                )
            })
        })
        .collect()
}

/// The bases every Dockerfile of a repository names with its default arguments; marks
/// the repository as having Dockerfiles.
fn dockerfile_bases(dir: &Path, has: &mut BTreeSet<String>, name: &str) -> Vec<ImageRef> {
    let Ok((files, _)) = discover(
        std::slice::from_ref(&dir.to_path_buf()),
        &Filters::default(),
    ) else {
        return Vec::new();
    };
    let dockerfiles: Vec<_> = files
        .into_iter()
        .filter(|f| f.kind == Kind::Dockerfile)
        .collect();
    if !dockerfiles.is_empty() {
        has.insert(name.to_owned());
    }
    let mut opts = ScanOptions::default();
    opts.dockerfile.platform = Some(choose::DEFAULT_PLATFORM.to_owned());
    opts.dockerfile.build_platform = Some(host_platform());
    scan(&dockerfiles, &opts)
        .iter()
        .flat_map(|s| dockerfile::bases(&s.text, &s.extraction, None))
        .map(|b| b.image)
        .collect()
}

/// `to` relative to `from` (both made absolute), with `/` separators.
fn relative(from: &Path, to: &Path) -> String {
    let from = normalize(&std::path::absolute(from).unwrap_or_else(|_| from.to_path_buf()));
    let to = normalize(&std::path::absolute(to).unwrap_or_else(|_| to.to_path_buf()));
    let from_parts: Vec<Component<'_>> = from.components().collect();
    let to_parts: Vec<Component<'_>> = to.components().collect();
    let common = from_parts
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = Vec::new();
    for _ in common..from_parts.len() {
        parts.push("..".to_owned());
    }
    for part in &to_parts[common..] {
        parts.push(part.as_os_str().to_string_lossy().into_owned());
    }
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
