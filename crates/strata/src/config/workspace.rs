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

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use strata_core::graph::{EdgeFilter, ImageRef};

use trigger::RawTrigger;
pub use trigger::{DEFAULT_INPUTS, INPUT_NAMES, Inputs, Trigger};

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
    /// The config file it was read from (`None`: no file).
    pub config_file: Option<PathBuf>,
    pub repositories: Vec<RepositorySpec>,
    pub images: Vec<ImageSpec>,
    /// The trigger of managed images that name none themselves.
    pub trigger: Option<Trigger>,
    /// How rebuilds get their new pins, for images and repositories that say nothing.
    pub pins: Option<PinMode>,
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
            config_file: None,
            repositories: Vec::new(),
            images: Vec::new(),
            trigger: None,
            pins: None,
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
    /// How its rebuilds get their new pins (`None`: the image's or workspace's say).
    pub pins: Option<PinMode>,
    /// The branch new pins are committed to (`pins = "commit"`); `None`: the branch
    /// checked out (a local repository) or `rev`, else the remote's default branch.
    pub branch: Option<String>,
}

/// How a rebuild gets the new pins of its moved bases (`pins = …`). A build reads its
/// checkout, and a pinned checkout names the old digest, so before an image is rebuilt
/// every pin of its moved bases in its repository is rewritten and brought to where the
/// build reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinMode {
    /// `in-place`: written to the repository's working tree; a command trigger runs
    /// there. The default for a `command` trigger.
    InPlace,
    /// `commit`: committed on the repository's branch and pushed to `origin`; the
    /// trigger is told the commit. The default for `push` and the remote triggers.
    Commit,
    /// `pull-request`: proposed in a pull request (the `pr` trigger, and only it).
    PullRequest,
    /// `none`: no file is changed; the trigger is told the new digest and must use it.
    Leave,
}

impl PinMode {
    /// As the config writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PinMode::InPlace => "in-place",
            PinMode::Commit => "commit",
            PinMode::PullRequest => "pull-request",
            PinMode::Leave => "none",
        }
    }

    fn parse(text: &str) -> Result<PinMode, String> {
        match text {
            "in-place" => Ok(PinMode::InPlace),
            "commit" => Ok(PinMode::Commit),
            "pull-request" => Ok(PinMode::PullRequest),
            "none" => Ok(PinMode::Leave),
            other => Err(format!(
                "{other:?}: expected \"in-place\", \"commit\", \"pull-request\" or \"none\""
            )),
        }
    }

    /// The mode for an image whose settings say `explicit` (image, else repository,
    /// else workspace) and which is rebuilt by `trigger`. A `pr` trigger proposes and a
    /// `push` trigger commits whatever else is said; a contradiction is an error.
    pub fn effective(
        explicit: Option<PinMode>,
        trigger: Option<&Trigger>,
    ) -> Result<PinMode, String> {
        let implied = match trigger {
            Some(Trigger::PullRequest { .. }) => Some(PinMode::PullRequest),
            Some(Trigger::Push) => Some(PinMode::Commit),
            _ => None,
        };
        match (explicit, implied) {
            (Some(said), Some(needed)) if said != needed => Err(format!(
                "pins = \"{}\" cannot go with a {} trigger, which needs pins = \"{}\"",
                said.as_str(),
                trigger.map_or("", Trigger::kind),
                needed.as_str()
            )),
            (_, Some(needed)) => Ok(needed),
            (Some(PinMode::PullRequest), None) => Err(
                "pins = \"pull-request\" needs the pr trigger (trigger = { kind = \"pr\" })"
                    .to_owned(),
            ),
            (Some(said), None) => Ok(said),
            (None, None) => Ok(match trigger {
                Some(Trigger::Command { .. }) | None => PinMode::InPlace,
                Some(_) => PinMode::Commit,
            }),
        }
    }
}

/// One build argument of an image, and where its value is written in `strata.toml` (so
/// a pin it holds can be rewritten there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildArg {
    pub value: String,
    /// The value's exact bytes in the config file; `None` when the file writes it in a
    /// form a splice cannot reproduce (escapes, a multi-line string).
    pub span: Option<Range<usize>>,
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
    /// The platform it is built for (`--platform`), when not the workspace's.
    pub platform: Option<String>,
    /// Its build arguments (`--build-arg NAME=value`): its bases are read with them, and
    /// its trigger is told them.
    pub build_args: BTreeMap<String, BuildArg>,
    pub trigger: Option<Trigger>,
    /// How its rebuilds get their new pins (`None`: its repository's or workspace's say).
    pub pins: Option<PinMode>,
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

/// `[workspace]`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Workspace")]
pub(super) struct RawWorkspace {
    /// `os/arch[/variant]` whose layers are compared in multi-platform images (default
    /// `linux/amd64`).
    platform: Option<String>,
    /// Which edges staleness and cascades follow: `final-stage` (default) or `all`
    /// (builder stages and `COPY --from` sources too).
    #[schemars(extend("enum" = ["final-stage", "all"]))]
    follow: Option<String>,
    /// Where git repositories are cloned, relative to this file (default: the cache
    /// directory).
    clone_dir: Option<String>,
    /// How a cascade paces itself.
    #[serde(default)]
    cascade: RawCascade,
    /// The trigger of every managed image that names none itself.
    trigger: Option<RawTrigger>,
    /// How rebuilds get their new pins: `in-place`, `commit`, `pull-request` or `none`
    /// (default: by trigger).
    #[schemars(extend("enum" = ["in-place", "commit", "pull-request", "none"]))]
    pins: Option<String>,
    /// The repositories strata manages.
    #[serde(default)]
    repository: Vec<RawRepository>,
    /// Statements about single images: which Dockerfile builds them, with what.
    #[serde(default)]
    image: Vec<RawImage>,
}

/// `[workspace.cascade]`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Cascade")]
struct RawCascade {
    /// Rebuilds in flight at once (1 to 64; default 8).
    #[schemars(range(min = 1, max = 64))]
    parallel: Option<i64>,
    /// Per image, trigger to published on the new base: `250ms`, `5s`, `30m`, `2h`
    /// (default 1h).
    timeout: Option<String>,
    /// The first wait between registry polls (default 50ms); each wait is 1.5 times the
    /// last.
    poll_interval: Option<String>,
    /// The longest wait between polls (default 5s).
    poll_max: Option<String>,
}

/// `[[workspace.repository]]`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Repository")]
struct RawRepository {
    /// How images and messages name it (default: the last path or URL segment).
    name: Option<String>,
    /// A directory, relative to this file (or `git`).
    path: Option<String>,
    /// A git URL, cloned shallow into the clone directory (or `path`).
    git: Option<String>,
    /// With `git`: the branch or tag (default: the remote's default branch).
    rev: Option<String>,
    /// Naming rule for Dockerfiles that state no image: `{dir}` is the Dockerfile's
    /// directory name, `{repo}` the repository's, e.g.
    /// `registry.example.com/org/{dir}:latest`.
    produces: Option<String>,
    /// How its images are rebuilt (unless an image says otherwise).
    trigger: Option<RawTrigger>,
    /// How its rebuilds get their new pins: `in-place`, `commit`, `pull-request`,
    /// `none`.
    #[schemars(extend("enum" = ["in-place", "commit", "pull-request", "none"]))]
    pins: Option<String>,
    /// The branch new pins are committed to (`pins = "commit"`).
    branch: Option<String>,
}

/// `[[workspace.image]]`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Image")]
struct RawImage {
    /// The image, with its tag: `registry.example.com/org/api:2`.
    name: String,
    /// The repository (by name) whose Dockerfile builds it.
    repository: Option<String>,
    /// Its Dockerfile, relative to the repository (needs `repository`).
    dockerfile: Option<String>,
    /// The stage built (`--target`), when not the last.
    target: Option<String>,
    /// `--platform`, when not the workspace's: `os/arch[/variant]`.
    platform: Option<String>,
    /// `--build-arg`s: its bases are read with them and its trigger is told them.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    build_args: BTreeMap<String, toml::Spanned<String>>,
    /// How it is rebuilt (else its repository's, else the workspace's).
    trigger: Option<RawTrigger>,
    /// How its rebuilds get their new pins: `in-place`, `commit`, `pull-request`,
    /// `none`.
    #[schemars(extend("enum" = ["in-place", "commit", "pull-request", "none"]))]
    pins: Option<String>,
}

/// Builds a [`ConfigError`] for `key` in `file`.
pub(super) fn error(
    file: &Path,
    key: impl Into<String>,
    message: impl Into<String>,
) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        at: None,
        key: Some(key.into()),
        message: message.into(),
    }
}

/// Validates `[workspace]` (absent: the defaults, with the config's directory as base).
/// `text` is the whole config file (for the spans of values strata may rewrite).
pub(super) fn validate(
    raw: Option<RawWorkspace>,
    file: &Path,
    text: &str,
) -> Result<Workspace, ConfigError> {
    let base_dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let Some(raw) = raw else {
        return Ok(Workspace {
            base_dir,
            config_file: Some(file.to_path_buf()),
            ..Workspace::default()
        });
    };
    let platform = match raw.platform {
        None => Workspace::default().platform,
        Some(p) => check_platform(&p).map_err(|m| error(file, "workspace.platform", m))?,
    };
    let pins = pin_mode(raw.pins.as_deref(), file, "workspace.pins")?;
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
        let spec = validate_image(image, file, &key, text)?;
        if let Some(name) = &spec.repository
            && !repositories.iter().any(|r| &r.name == name)
        {
            return Err(error(file, key, format!("no repository named {name:?}")));
        }
        images.push(spec);
    }
    Ok(Workspace {
        declared: true,
        config_file: Some(file.to_path_buf()),
        clone_dir: raw.clone_dir.map(|d| base_dir.join(d)),
        base_dir,
        repositories,
        images,
        trigger,
        pins,
        platform,
        follow,
        cascade: validate_cascade(raw.cascade, file)?,
    })
}

/// `os/arch[/variant]`.
fn check_platform(text: &str) -> Result<String, String> {
    let parts = text.split('/').count();
    if (2..=3).contains(&parts)
        && !text.contains(char::is_whitespace)
        && text.split('/').all(|p| !p.is_empty())
    {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?} is not os/arch[/variant]"))
    }
}

fn pin_mode(raw: Option<&str>, file: &Path, key: &str) -> Result<Option<PinMode>, ConfigError> {
    raw.map(PinMode::parse)
        .transpose()
        .map_err(|m| error(file, key, m))
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
    let pins = pin_mode(raw.pins.as_deref(), file, &format!("{key}.pins"))?;
    if let Err(message) = PinMode::effective(pins, trigger.as_ref())
        && pins.is_some()
        && trigger.is_some()
    {
        return Err(error(file, format!("{key}.pins"), message));
    }
    let branch = match raw.branch {
        Some(b) if b.trim().is_empty() || b.contains(char::is_whitespace) => {
            return Err(error(
                file,
                format!("{key}.branch"),
                format!("{b:?} is not a branch name"),
            ));
        }
        other => other.map(|b| b.trim_start_matches("refs/heads/").to_owned()),
    };
    Ok(RepositorySpec {
        name,
        source,
        produces: raw.produces,
        trigger,
        pins,
        branch,
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

fn validate_image(
    raw: RawImage,
    file: &Path,
    key: &str,
    text: &str,
) -> Result<ImageSpec, ConfigError> {
    let image = ImageRef::parse(&raw.name)
        .map_err(|e| error(file, format!("{key}.name"), e.to_string()))?;
    let trigger = raw
        .trigger
        .map(|t| t.validate(file, &format!("{key}.trigger")))
        .transpose()?;
    if raw.dockerfile.is_some() && raw.repository.is_none() {
        return Err(error(file, key, "`dockerfile` needs `repository`"));
    }
    let platform = raw
        .platform
        .map(|p| check_platform(&p))
        .transpose()
        .map_err(|m| error(file, format!("{key}.platform"), m))?;
    let pins = pin_mode(raw.pins.as_deref(), file, &format!("{key}.pins"))?;
    if let (Some(_), Some(trigger)) = (pins, &trigger)
        && let Err(message) = PinMode::effective(pins, Some(trigger))
    {
        return Err(error(file, format!("{key}.pins"), message));
    }
    let mut build_args = BTreeMap::new();
    for (name, value) in raw.build_args {
        if name.is_empty() || name.contains(['=', ' ', '\t', '\n']) {
            let message = format!("{name:?} is not a build argument name");
            return Err(error(file, format!("{key}.build_args"), message));
        }
        let span = value.span();
        build_args.insert(
            name,
            BuildArg {
                span: inner_span(text, span, value.get_ref()),
                value: value.into_inner(),
            },
        );
    }
    Ok(ImageSpec {
        image,
        repository: raw.repository,
        dockerfile: raw.dockerfile,
        target: raw.target.map(|t| t.to_ascii_lowercase()),
        platform,
        build_args,
        trigger,
        pins,
    })
}

/// The bytes of a one-line TOML string's value inside its quotes, when they are exactly
/// `value` (no escapes): what a splice may replace.
fn inner_span(text: &str, span: Range<usize>, value: &str) -> Option<Range<usize>> {
    let written = text.get(span.clone())?;
    let quote = written.chars().next()?;
    let one_line = matches!(quote, '"' | '\'')
        && written.len() >= 2
        && written.ends_with(quote)
        && !written.starts_with("\"\"\"")
        && !written.starts_with("'''");
    let inner = span.start + 1..span.end - 1;
    (one_line && text.get(inner.clone()) == Some(value)).then_some(inner)
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
