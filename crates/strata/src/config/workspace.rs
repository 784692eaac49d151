//! config stage: the `[workspace]` part of `strata.toml` — which repositories strata
//! manages, which image each build produces, how each image is rebuilt (its trigger) and
//! how a cascade paces itself. Raw serde shapes validated into typed values; reads no
//! file but the config text, clones nothing, fires nothing.
//!
//! ```toml
//! [workspace]
//! platform = "linux/amd64"      # whose layers are compared for multi-platform images
//! follow = "final-stage"        # or "all": also builder stages and COPY --from sources
//!
//! [workspace.cascade]
//! parallel = 8                  # rebuilds in flight at once
//! timeout = "30m"               # per image: trigger to published on the new base
//! poll_interval = "50ms"        # first registry poll; grows to poll_max
//! poll_max = "5s"
//!
//! [workspace.trigger]           # the default trigger of every managed image
//! kind = "command"
//! command = ["make", "publish"]
//!
//! [[workspace.repository]]
//! path = "services/vumi"        # relative to this file; or git = "https://…", rev = "main"
//! produces = "registry.example.com/org/{dir}:latest"
//!
//! [[workspace.image]]
//! name = "registry.example.com/org/legacy:1"   # a published image, even without a Dockerfile
//! trigger = { kind = "webhook", url = "https://ci.example/hooks/legacy", secret_env = "HOOK_SECRET" }
//! ```
//!
//! Trigger kinds are documented in `docs/cascade.md`.

mod trigger;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use strata_core::graph::{EdgeFilter, ImageRef};

use trigger::RawTrigger;
pub use trigger::Trigger;

use super::ConfigError;

/// Longest rebuild concurrency a config may ask for.
const MAX_PARALLEL: usize = 64;

/// The validated `[workspace]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Whether the file had a `[workspace]` table at all. Without one, the directory
    /// of the config is the only repository.
    pub declared: bool,
    /// The directory relative paths are read against (the config file's).
    pub base_dir: PathBuf,
    pub repositories: Vec<RepositorySpec>,
    pub images: Vec<ImageSpec>,
    /// The trigger of managed images that name none themselves.
    pub trigger: Option<Trigger>,
    /// `os/arch[/variant]` whose platform manifest is compared in multi-platform images.
    pub platform: String,
    /// Which edges the hierarchy follows for staleness and cascades.
    pub follow: EdgeFilter,
    pub cascade: CascadeSettings,
    /// Where git repositories are cloned (default: `repositories/` in the cache dir).
    pub clone_dir: Option<PathBuf>,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            declared: false,
            base_dir: PathBuf::from("."),
            repositories: Vec::new(),
            images: Vec::new(),
            trigger: None,
            platform: "linux/amd64".to_owned(),
            follow: EdgeFilter::FinalStage,
            cascade: CascadeSettings::default(),
            clone_dir: None,
        }
    }
}

/// One `[[workspace.repository]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySpec {
    /// How images and messages name it (default: the directory or URL's last segment).
    pub name: String,
    pub source: RepositorySource,
    /// Naming rule for Dockerfiles that state no image: `{dir}` is the Dockerfile's
    /// directory name (the repository's name at its root), `{repo}` the repository's.
    pub produces: Option<String>,
    pub trigger: Option<Trigger>,
}

/// Where a repository's files are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositorySource {
    /// A directory, resolved against the config file's directory.
    Local(PathBuf),
    /// A git URL cloned (shallow) into the clone directory; `rev` is a branch or tag.
    Git { url: String, rev: Option<String> },
}

/// One `[[workspace.image]]`: a statement about one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSpec {
    pub image: ImageRef,
    /// The repository (by name) whose file builds it.
    pub repository: Option<String>,
    /// The Dockerfile building it, relative to the repository.
    pub dockerfile: Option<String>,
    /// The Dockerfile stage built, when not the last.
    pub target: Option<String>,
    pub trigger: Option<Trigger>,
}

/// `[workspace.cascade]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CascadeSettings {
    /// Rebuilds in flight at once (triggered and not yet published), 1..=64.
    pub parallel: usize,
    /// Per image, from its trigger to its publication on the new base.
    pub timeout: Duration,
    /// The first wait between registry polls; each wait is 1.5 times the last.
    pub poll_interval: Duration,
    /// The longest wait between polls.
    pub poll_max: Duration,
}

impl Default for CascadeSettings {
    fn default() -> Self {
        CascadeSettings {
            parallel: 8,
            timeout: Duration::from_secs(60 * 60),
            poll_interval: Duration::from_millis(50),
            poll_max: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkspace {
    platform: Option<String>,
    follow: Option<String>,
    clone_dir: Option<String>,
    #[serde(default)]
    cascade: RawCascade,
    trigger: Option<RawTrigger>,
    #[serde(default)]
    repository: Vec<RawRepository>,
    #[serde(default)]
    image: Vec<RawImage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCascade {
    parallel: Option<i64>,
    timeout: Option<String>,
    poll_interval: Option<String>,
    poll_max: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepository {
    name: Option<String>,
    path: Option<String>,
    git: Option<String>,
    rev: Option<String>,
    produces: Option<String>,
    trigger: Option<RawTrigger>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    name: String,
    repository: Option<String>,
    dockerfile: Option<String>,
    target: Option<String>,
    trigger: Option<RawTrigger>,
}

/// Builds a [`ConfigError`] for `key` in `file`.
pub(super) fn error(
    file: &Path,
    key: impl Into<String>,
    message: impl Into<String>,
) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        key: Some(key.into()),
        message: message.into(),
    }
}

/// Validates `[workspace]` (absent: the defaults, with the config's directory as base).
pub(super) fn validate(raw: Option<RawWorkspace>, file: &Path) -> Result<Workspace, ConfigError> {
    let base_dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let Some(raw) = raw else {
        return Ok(Workspace {
            base_dir,
            ..Workspace::default()
        });
    };
    let platform = match raw.platform {
        None => Workspace::default().platform,
        Some(p) if p.split('/').count() >= 2 && !p.contains(char::is_whitespace) => p,
        Some(p) => {
            return Err(error(
                file,
                "workspace.platform",
                format!("{p:?} is not os/arch"),
            ));
        }
    };
    let follow = match raw.follow.as_deref() {
        None | Some("final-stage") => EdgeFilter::FinalStage,
        Some("all") => EdgeFilter::All,
        Some(other) => {
            let message = format!("{other:?}: expected \"final-stage\" or \"all\"");
            return Err(error(file, "workspace.follow", message));
        }
    };
    let trigger = raw
        .trigger
        .map(|t| t.validate(file, "workspace.trigger"))
        .transpose()?;
    let mut repositories = Vec::new();
    for (at, repo) in raw.repository.into_iter().enumerate() {
        let spec = validate_repository(repo, file, &format!("workspace.repository[{at}]"))?;
        if repositories
            .iter()
            .any(|r: &RepositorySpec| r.name == spec.name)
        {
            let message = format!("a second repository named {:?} (set `name`)", spec.name);
            return Err(error(file, format!("workspace.repository[{at}]"), message));
        }
        repositories.push(spec);
    }
    let mut images = Vec::new();
    for (at, image) in raw.image.into_iter().enumerate() {
        let key = format!("workspace.image[{at}]");
        let spec = validate_image(image, file, &key)?;
        if let Some(name) = &spec.repository
            && !repositories.iter().any(|r| &r.name == name)
        {
            return Err(error(file, key, format!("no repository named {name:?}")));
        }
        images.push(spec);
    }
    Ok(Workspace {
        declared: true,
        clone_dir: raw.clone_dir.map(|d| base_dir.join(d)),
        base_dir,
        repositories,
        images,
        trigger,
        platform,
        follow,
        cascade: validate_cascade(raw.cascade, file)?,
    })
}

fn validate_repository(
    raw: RawRepository,
    file: &Path,
    key: &str,
) -> Result<RepositorySpec, ConfigError> {
    let source = match (raw.path, raw.git) {
        (Some(path), None) if raw.rev.is_none() => RepositorySource::Local(PathBuf::from(path)),
        (Some(_), None) => return Err(error(file, key, "`rev` needs `git`, not `path`")),
        (None, Some(url)) if !url.trim().is_empty() => RepositorySource::Git { url, rev: raw.rev },
        (None, None) | (None, Some(_)) => {
            return Err(error(
                file,
                key,
                "set `path` (a directory) or `git` (a URL)",
            ));
        }
        (Some(_), Some(_)) => return Err(error(file, key, "set `path` or `git`, not both")),
    };
    let name = match raw.name {
        Some(name) if !name.trim().is_empty() => name,
        Some(_) => return Err(error(file, format!("{key}.name"), "empty name")),
        None => default_name(&source, file),
    };
    if let Some(rule) = &raw.produces {
        check_rule(rule).map_err(|m| error(file, format!("{key}.produces"), m))?;
    }
    let trigger = raw
        .trigger
        .map(|t| t.validate(file, &format!("{key}.trigger")))
        .transpose()?;
    Ok(RepositorySpec {
        name,
        source,
        produces: raw.produces,
        trigger,
    })
}

/// The last path or URL segment, without `.git`; for a path that ends in `.` or `..`
/// (`path = "."`), the name of the directory it is, relative to the config file.
fn default_name(source: &RepositorySource, file: &Path) -> String {
    let text = match source {
        RepositorySource::Local(path) => path.to_string_lossy().into_owned(),
        RepositorySource::Git { url, .. } => url.clone(),
    };
    let trimmed = text.trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next().unwrap_or(trimmed);
    let last = last.strip_suffix(".git").unwrap_or(last);
    match (last, source) {
        ("" | "." | "..", RepositorySource::Local(path)) => {
            let base = file.parent().unwrap_or(Path::new("."));
            let dir = base.join(path);
            let dir = dir.canonicalize().unwrap_or(dir);
            dir.file_name().map_or_else(
                || "workspace".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            )
        }
        ("" | ".", _) => "workspace".to_owned(),
        (name, _) => name.to_owned(),
    }
}

/// A naming rule must give a valid image once its placeholders are filled.
fn check_rule(rule: &str) -> Result<(), String> {
    let sample = expand_rule(rule, "dir", "repo");
    ImageRef::parse(&sample)
        .map(|_| ())
        .map_err(|e| format!("{rule:?} does not make an image name: {e}"))
}

/// Fills `{dir}` and `{repo}` in a naming rule (lower-cased, as image names must be).
pub fn expand_rule(rule: &str, dir: &str, repo: &str) -> String {
    rule.replace("{dir}", &dir.to_ascii_lowercase())
        .replace("{repo}", &repo.to_ascii_lowercase())
}

fn validate_image(raw: RawImage, file: &Path, key: &str) -> Result<ImageSpec, ConfigError> {
    let image = ImageRef::parse(&raw.name)
        .map_err(|e| error(file, format!("{key}.name"), e.to_string()))?;
    let trigger = raw
        .trigger
        .map(|t| t.validate(file, &format!("{key}.trigger")))
        .transpose()?;
    if raw.dockerfile.is_some() && raw.repository.is_none() {
        return Err(error(file, key, "`dockerfile` needs `repository`"));
    }
    Ok(ImageSpec {
        image,
        repository: raw.repository,
        dockerfile: raw.dockerfile,
        target: raw.target.map(|t| t.to_ascii_lowercase()),
        trigger,
    })
}

fn validate_cascade(raw: RawCascade, file: &Path) -> Result<CascadeSettings, ConfigError> {
    let defaults = CascadeSettings::default();
    let parallel = match raw.parallel {
        None => defaults.parallel,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_PARALLEL).contains(n))
            .ok_or_else(|| {
                let message = format!("{n} is out of range (1 to {MAX_PARALLEL})");
                error(file, "workspace.cascade.parallel", message)
            })?,
    };
    let duration = |value: Option<String>, name: &str, default: Duration| match value {
        None => Ok(default),
        Some(text) => {
            parse_duration(&text).map_err(|m| error(file, format!("workspace.cascade.{name}"), m))
        }
    };
    let settings = CascadeSettings {
        parallel,
        timeout: duration(raw.timeout, "timeout", defaults.timeout)?,
        poll_interval: duration(raw.poll_interval, "poll_interval", defaults.poll_interval)?,
        poll_max: duration(raw.poll_max, "poll_max", defaults.poll_max)?,
    };
    if settings.poll_max < settings.poll_interval {
        let message = "shorter than poll_interval";
        return Err(error(file, "workspace.cascade.poll_max", message));
    }
    Ok(settings)
}

/// `250ms`, `5s`, `30m`, `2h`, or a bare number of seconds; more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (e.g. 250ms, 5s, 30m, 2h)"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit {other:?} in {text:?} (ms, s, m, h)")),
    };
    if !(seconds > 0.0 && seconds < 1e9) {
        return Err(format!("{text:?} must be more than zero"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
