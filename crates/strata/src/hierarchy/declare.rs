//! graph stage, files side: which managed image each build in the workspace produces
//! and what it builds on. In order of precedence: `[[workspace.image]]` entries naming a
//! Dockerfile, `# strata: produces` comments, compose `build:` + `image:` services, then
//! a repository's `produces` naming rule for files named `Dockerfile`/`Containerfile`.
//! Reads the repositories' files; no registry.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};

use strata_core::graph::{ImageRef, Producer};

use super::compose;
use super::dockerfile::{self, BaseUse};
use super::source::Checkout;
use crate::config::workspace::{BuildArg, ImageSpec, PinMode, Trigger, Workspace, expand_rule};
use crate::discover::{Filters, Kind, SourceFile, discover};
use crate::scan::{FileScan, ScanOptions, compose_environment, extract_text, scan, scan_file};

/// One image a workspace build produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Produced {
    pub image: ImageRef,
    pub producer: Producer,
    /// The Dockerfile built, relative to the repository.
    pub dockerfile: String,
    /// The repository checkout (where command triggers run).
    pub dir: PathBuf,
    /// What its Dockerfile builds on, final-stage base first.
    pub bases: Vec<BaseUse>,
    pub trigger: Option<Trigger>,
    /// How it is built beyond its Dockerfile.
    pub how: How,
}

/// The settings an image is built with, as its declaration gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct How {
    /// `--platform`, when not the workspace's.
    pub platform: Option<String>,
    /// `--build-arg`s (from `[[workspace.image]]` or compose `build.args`).
    pub build_args: BTreeMap<String, BuildArg>,
    /// The image's own `pins` setting.
    pub pins: Option<PinMode>,
}

impl How {
    fn of(spec: &ImageSpec) -> How {
        How {
            platform: spec.platform.clone(),
            build_args: spec.build_args.clone(),
            pins: spec.pins,
        }
    }

    /// `opts` with this image's platform and build arguments.
    fn scan_options(&self, opts: &ScanOptions) -> ScanOptions {
        let mut own = opts.clone();
        if let Some(platform) = &self.platform {
            own.dockerfile.platform = Some(platform.clone());
        }
        for (name, arg) in &self.build_args {
            own.dockerfile
                .build_args
                .insert(name.clone(), arg.value.clone());
        }
        own
    }

    fn is_default(&self) -> bool {
        self.platform.is_none() && self.build_args.is_empty()
    }
}

/// Everything read from the files.
#[derive(Debug, Default)]
pub struct Declared {
    pub produced: Vec<Produced>,
    pub warnings: Vec<String>,
}

/// Reads every checkout.
pub fn declare(workspace: &Workspace, checkouts: &[Checkout], opts: &ScanOptions) -> Declared {
    let mut out = Declared::default();
    for checkout in checkouts {
        read_checkout(workspace, checkout, opts, &mut out);
    }
    out
}

fn read_checkout(
    workspace: &Workspace,
    checkout: &Checkout,
    opts: &ScanOptions,
    out: &mut Declared,
) {
    let (files, walk_errors) =
        match discover(std::slice::from_ref(&checkout.dir), &Filters::default()) {
            Ok(found) => found,
            Err(e) => {
                out.warnings
                    .push(format!("repository {}: {e}", checkout.name));
                return;
            }
        };
    for e in walk_errors {
        out.warnings.push(format!(
            "repository {}: {}: {}",
            checkout.name, e.path, e.message
        ));
    }
    let scans = scan(&files, opts);
    let mut by_path: HashMap<PathBuf, &FileScan> = HashMap::new();
    for s in &scans {
        by_path.insert(normalize(&checkout.dir.join(&s.file.display)), s);
    }
    let repo_trigger = checkout.spec.as_ref().and_then(|s| s.trigger.clone());
    let trigger = |explicit: Option<&Trigger>| {
        explicit
            .cloned()
            .or_else(|| repo_trigger.clone())
            .or_else(|| workspace.trigger.clone())
    };
    // Dockerfiles that already have an owner; the naming rule covers the rest.
    let mut claimed: BTreeSet<PathBuf> = BTreeSet::new();
    let add = |out: &mut Declared,
               image: ImageRef,
               producer: Producer,
               dockerfile: &str,
               bases,
               t,
               how: How| {
        out.produced.push(Produced {
            image,
            producer,
            dockerfile: dockerfile.to_owned(),
            dir: checkout.dir.clone(),
            bases,
            trigger: t,
            how,
        });
    };
    for spec in workspace
        .images
        .iter()
        .filter(|i| i.repository.as_deref() == Some(&checkout.name))
    {
        let Some(path) = &spec.dockerfile else {
            continue;
        };
        let full = normalize(&checkout.dir.join(path));
        let how = How::of(spec);
        let read = Read {
            full: &full,
            shown: path,
            by_path: &by_path,
            opts,
            how: &how,
            repository: &checkout.name,
        };
        let Some(bases) = bases_of(&read, spec.target.as_deref(), out) else {
            continue;
        };
        claimed.insert(full);
        let mut producer = Producer::dockerfile(&checkout.name, path);
        producer.target = spec.target.clone();
        add(
            out,
            spec.image.clone(),
            producer,
            path,
            bases,
            trigger(spec.trigger.as_ref()),
            how,
        );
    }
    for s in scans.iter().filter(|s| s.file.kind == Kind::Dockerfile) {
        let (statements, bad) = dockerfile::statements(&s.text);
        for (line, message) in bad {
            out.warnings.push(format!(
                "{}/{}:{line}: {message}",
                checkout.name, s.file.display
            ));
        }
        for statement in statements {
            claimed.insert(normalize(&checkout.dir.join(&s.file.display)));
            let bases = dockerfile::bases(&s.text, &s.extraction, statement.target.as_deref());
            let mut producer = Producer::dockerfile(&checkout.name, &s.file.display);
            producer.target = statement.target.clone();
            let explicit = explicit_trigger(workspace, &statement.image);
            add(
                out,
                statement.image,
                producer,
                &s.file.display,
                bases,
                trigger(explicit),
                How::default(),
            );
        }
    }
    for s in scans.iter().filter(|s| s.file.kind == Kind::Compose) {
        let (env, _env_errors) = compose_environment(&s.file);
        let (builds, warnings) =
            match compose::builds(&s.text, &s.extraction, &|name| env.get(name)) {
                Ok(found) => found,
                Err(e) => {
                    out.warnings
                        .push(format!("{}/{}: {e}", checkout.name, s.file.display));
                    continue;
                }
            };
        for warning in warnings {
            out.warnings
                .push(format!("{}/{}: {warning}", checkout.name, s.file.display));
        }
        let compose_dir = Path::new(&s.file.display).parent().unwrap_or(Path::new(""));
        for build in builds {
            let relative = compose_dir.join(&build.context).join(&build.dockerfile);
            let full = normalize(&checkout.dir.join(&relative));
            let shown = normalize(&relative).to_string_lossy().replace('\\', "/");
            let how = How {
                build_args: build
                    .args
                    .iter()
                    .map(|(name, value)| {
                        let arg = BuildArg {
                            value: value.clone(),
                            span: None,
                        };
                        (name.clone(), arg)
                    })
                    .collect(),
                ..How::default()
            };
            let read = Read {
                full: &full,
                shown: &shown,
                by_path: &by_path,
                opts,
                how: &how,
                repository: &checkout.name,
            };
            let Some(bases) = bases_of(&read, build.target.as_deref(), out) else {
                continue;
            };
            claimed.insert(full);
            let mut producer = Producer::compose(&checkout.name, &s.file.display, &build.service);
            producer.target = build.target.clone();
            let explicit = explicit_trigger(workspace, &build.image);
            add(
                out,
                build.image,
                producer,
                &shown,
                bases,
                trigger(explicit),
                how,
            );
        }
    }
    let Some(rule) = checkout.spec.as_ref().and_then(|s| s.produces.as_deref()) else {
        return;
    };
    for s in scans.iter().filter(|s| s.file.kind == Kind::Dockerfile) {
        let full = normalize(&checkout.dir.join(&s.file.display));
        let path = Path::new(&s.file.display);
        let named = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|n| n == "dockerfile" || n == "containerfile");
        if claimed.contains(&full) || !named {
            continue;
        }
        let dir = path.parent().and_then(Path::file_name).map_or_else(
            || checkout.name.clone(),
            |d| d.to_string_lossy().into_owned(),
        );
        let text = expand_rule(rule, &dir, &checkout.name);
        let image = match ImageRef::parse(&text) {
            Ok(image) => image,
            Err(e) => {
                out.warnings.push(format!(
                    "{}/{}: naming rule: {e}",
                    checkout.name, s.file.display
                ));
                continue;
            }
        };
        let bases = dockerfile::bases(&s.text, &s.extraction, None);
        let producer = Producer::dockerfile(&checkout.name, &s.file.display);
        let explicit = explicit_trigger(workspace, &image);
        add(
            out,
            image,
            producer,
            &s.file.display,
            bases,
            trigger(explicit),
            How::default(),
        );
    }
}

/// The trigger a `[[workspace.image]]` entry gives `image`, if any.
fn explicit_trigger<'w>(workspace: &'w Workspace, image: &ImageRef) -> Option<&'w Trigger> {
    workspace
        .images
        .iter()
        .find(|i| &i.image == image)
        .and_then(|i| i.trigger.as_ref())
}

/// A Dockerfile to read for one image.
struct Read<'a> {
    /// Where it is.
    full: &'a Path,
    /// How messages name it (relative to the repository).
    shown: &'a str,
    /// What the scan of the repository already read.
    by_path: &'a HashMap<PathBuf, &'a FileScan>,
    opts: &'a ScanOptions,
    /// The image's own platform and build arguments.
    how: &'a How,
    repository: &'a str,
}

/// The bases of the Dockerfile `read` names (scanned already, or read now), with the
/// image's own platform and build arguments; `None` with a warning when it cannot be read.
fn bases_of(read: &Read<'_>, target: Option<&str>, out: &mut Declared) -> Option<Vec<BaseUse>> {
    let own = read.how.scan_options(read.opts);
    let file = SourceFile {
        path: read.full.to_path_buf(),
        display: read.shown.to_owned(),
        kind: Kind::Dockerfile,
        reach: None,
    };
    let fresh;
    let (scanned, with_own) = match read.by_path.get(read.full) {
        Some(s) => (*s, read.how.is_default()),
        None => {
            fresh = scan_file(&file, &own);
            (&fresh, true)
        }
    };
    if let Some(error) = scanned.extraction.errors.first()
        && scanned.text.is_empty()
    {
        out.warnings.push(format!(
            "{}/{}: {}",
            read.repository, read.shown, error.message
        ));
        return None;
    }
    if with_own {
        return Some(dockerfile::bases(
            &scanned.text,
            &scanned.extraction,
            target,
        ));
    }
    // Read again with the image's own arguments: they choose its bases.
    let extraction = extract_text(&file, &scanned.text, &own);
    Some(dockerfile::bases(&scanned.text, &extraction, target))
}

/// `path` with `.` and `..` resolved lexically (no filesystem access).
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
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
    out
}
