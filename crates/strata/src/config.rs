//! config stage: `strata.toml`, the repository's policy and settings file. Parsed into a
//! raw serde shape, then validated into [`Config`], whose values are always usable: an
//! invalid file is an error naming the file and the key, never a half-read setting.
//! Reads one file; never writes.
//!
//! ```toml
//! [registry]
//! insecure = ["registry.lan:5000"]     # plain HTTP (loopback registries always are)
//! ca_file = "certs/internal-ca.pem"     # relative to this file
//! max_in_flight = 16                     # requests at once per registry
//! verify = false                         # pin/check: also GET each manifest by digest
//!
//! [registry.mirrors]
//! "docker.io" = "mirror.lan:5000"        # look docker.io tags up there instead
//! "ghcr.io" = "https://localhost:5443"   # a scheme, as Docker's `registry-mirrors` take,
//!                                        # says how to speak to it (TLS even on loopback)
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use strata_core::reference::grammar::match_domain;

pub mod check;
mod position;
pub mod schema;
pub mod serve;
pub mod update;
pub mod workspace;

pub use position::Position;

/// The file looked up in the scanned root when `--config` is not given.
pub const FILE_NAME: &str = "strata.toml";

/// Most requests in flight per registry a config may ask for.
const MAX_IN_FLIGHT: usize = 256;

/// A bad config file: which file, where in it, which key (dotted, when known) and what
/// is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}{message}", file.display(), position::suffix(at.as_ref()), key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default())]
pub struct ConfigError {
    pub file: PathBuf,
    /// The line and column the error is at, when the text shows it (filled in by
    /// [`parse`] from the key when a validator leaves it out).
    pub at: Option<Position>,
    pub key: Option<String>,
    pub message: String,
}

/// A registry host as references write it: `host[:port]`, no scheme, no path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Host(String);

impl Host {
    /// Validates `text`; Docker Hub's other names become `docker.io`.
    pub fn parse(text: &str) -> Result<Host, String> {
        let trimmed = text.trim();
        if trimmed.contains("://") {
            return Err(format!(
                "{text:?} is a URL; write the registry as host[:port], without a scheme"
            ));
        }
        if trimmed.is_empty() || !match_domain(trimmed) {
            return Err(format!("{text:?} is not a registry host[:port]"));
        }
        let lower = trimmed.to_ascii_lowercase();
        Ok(Host(match lower.as_str() {
            "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
            _ => lower,
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a mirror is served: `host[:port]`, with the scheme when one was written
/// (`https://localhost:5443`, the way Docker's `registry-mirrors` are written), which then
/// decides TLS instead of the loopback and `insecure` rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub host: Host,
    /// `"http"` or `"https"` when written.
    pub scheme: Option<&'static str>,
}

impl Mirror {
    /// Validates `host[:port]` or `http(s)://host[:port]` (a trailing `/` allowed, no path).
    pub fn parse(text: &str) -> Result<Mirror, String> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        for scheme in ["http", "https"] {
            if let Some(rest) = lower.strip_prefix(&format!("{scheme}://")) {
                let rest = &trimmed[trimmed.len() - rest.len()..];
                let host = Host::parse(rest.strip_suffix('/').unwrap_or(rest))
                    .map_err(|_| format!("{text:?} is not a mirror URL (scheme://host[:port])"))?;
                return Ok(Mirror {
                    host,
                    scheme: Some(scheme),
                });
            }
        }
        if trimmed.contains("://") {
            return Err(format!("{text:?}: a mirror's scheme must be http or https"));
        }
        Ok(Mirror {
            host: Host::parse(trimmed)?,
            scheme: None,
        })
    }
}

impl fmt::Display for Mirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scheme {
            Some(scheme) => write!(f, "{scheme}://{}", self.host),
            None => write!(f, "{}", self.host),
        }
    }
}

/// The whole validated configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The file it came from (`None`: defaults, no file).
    pub file: Option<PathBuf>,
    pub registry: RegistrySettings,
    /// `[workspace]`: the repositories and images of the image hierarchy.
    pub workspace: workspace::Workspace,
    /// `[update]`: how `strata update` groups and proposes moved pins.
    pub update: update::UpdateSettings,
    /// `[check]`: the policy `strata check` applies.
    pub check: check::CheckSettings,
    /// `[serve]`: the always-on watcher.
    pub serve: serve::ServeSettings,
}

/// `[registry]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySettings {
    /// Registries spoken to over plain HTTP.
    pub insecure: Vec<Host>,
    /// Extra CA bundle (PEM), resolved against the config file's directory.
    pub ca_file: Option<PathBuf>,
    /// Requests in flight per registry, 1..=256.
    pub max_in_flight: usize,
    /// Registry -> mirror that serves it.
    pub mirrors: BTreeMap<Host, Mirror>,
    /// `pin` and `check` fetch every resolved manifest by digest and check its sha256
    /// before trusting the tag's digest (`--verify`): a second request per tag, a `GET`,
    /// which Docker Hub counts as a pull where the `HEAD` is not.
    pub verify: bool,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            insecure: Vec::new(),
            ca_file: None,
            max_in_flight: 16,
            mirrors: BTreeMap::new(),
            verify: false,
        }
    }
}

/// strata's configuration: registries, the image workspace, update and check policies.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "strata.toml")]
struct RawConfig {
    /// How registries are reached.
    #[serde(default)]
    registry: RawRegistry,
    /// The repositories and images of the image hierarchy (`strata graph`, `strata
    /// cascade`). Without it, the config's directory is the only repository.
    workspace: Option<workspace::RawWorkspace>,
    /// How `strata update` groups moved pins and what its pull requests carry.
    update: Option<update::RawUpdate>,
    /// The policy `strata check` applies.
    check: Option<check::RawCheck>,
    /// The always-on watcher, `strata serve`.
    serve: Option<serve::RawServe>,
}

/// `[registry]`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Registry")]
struct RawRegistry {
    /// Registries spoken to over plain HTTP, as `host[:port]` (loopback registries
    /// always are).
    #[serde(default)]
    insecure: Vec<String>,
    /// An extra CA bundle (PEM), relative to this file.
    ca_file: Option<String>,
    /// Requests in flight at once per registry (1 to 256; default 16).
    #[schemars(range(min = 1, max = 256))]
    max_in_flight: Option<i64>,
    /// Registry (`host[:port]`) to the mirror host that serves the same content.
    #[serde(default)]
    mirrors: BTreeMap<String, String>,
    /// `pin` and `check` also fetch every resolved manifest by digest and check its
    /// sha256 (a second request per tag, counted as a pull by Docker Hub).
    #[serde(default)]
    verify: bool,
}

/// Reads the config: `explicit` (which must exist), else the `strata.toml` found by
/// [`find`] (optional: without one, the defaults).
pub fn load(explicit: Option<&Path>, root: &Path) -> Result<Config, ConfigError> {
    let (file, required) = match explicit {
        Some(path) => (path.to_owned(), true),
        None => match find(root) {
            Some(found) => (found, true),
            None => return Ok(Config::default()),
        },
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(err) if !required && err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Config::default());
        }
        Err(err) => {
            return Err(ConfigError {
                file,
                at: None,
                key: None,
                message: format!("cannot read: {err}"),
            });
        }
    };
    parse(&text, &file)
}

/// The `strata.toml` that governs `root`: in `root` itself or the nearest directory above
/// it, so a command run inside one repository of a workspace still finds the workspace's
/// file (its mirrors, credentials source, policies).
pub fn find(root: &Path) -> Option<std::path::PathBuf> {
    // In the root itself: keep the path as the user wrote it (`./strata.toml`).
    let here = root.join(FILE_NAME);
    if here.is_file() {
        return Some(here);
    }
    let start = std::path::absolute(root).ok()?;
    let start = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start
    };
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Parses and validates config text read from `file`. Every error names the line and
/// column it is at (and, for an unknown key, the nearest known one).
pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
    validate(text, file).map_err(|error| position::locate(error, text))
}

fn validate(text: &str, file: &Path) -> Result<Config, ConfigError> {
    let raw: RawConfig =
        toml::from_str(text).map_err(|err| position::from_toml(&err, file, text))?;
    let registry = validate_registry(raw.registry, file)?;
    let workspace = workspace::validate(raw.workspace, file, text)?;
    let update = update::validate(raw.update, file)?;
    let check = check::validate(raw.check, file)?;
    let serve = serve::validate(raw.serve, file)?;
    Ok(Config {
        file: Some(file.to_owned()),
        serve,
        registry,
        workspace,
        update,
        check,
    })
}

fn validate_registry(raw: RawRegistry, file: &Path) -> Result<RegistrySettings, ConfigError> {
    let error = |key: String, message: String| ConfigError {
        file: file.to_owned(),
        at: None,
        key: Some(key),
        message,
    };
    let insecure = raw
        .insecure
        .iter()
        .enumerate()
        .map(|(i, h)| Host::parse(h).map_err(|m| error(format!("registry.insecure[{i}]"), m)))
        .collect::<Result<_, _>>()?;
    let ca_file = raw.ca_file.map(|name| {
        let base = file.parent().unwrap_or(Path::new(""));
        base.join(name)
    });
    let max_in_flight = match raw.max_in_flight {
        None => RegistrySettings::default().max_in_flight,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_IN_FLIGHT).contains(n))
            .ok_or_else(|| {
                error(
                    "registry.max_in_flight".to_owned(),
                    format!("{n} is out of range (1 to {MAX_IN_FLIGHT})"),
                )
            })?,
    };
    let mut mirrors = BTreeMap::new();
    for (from, to) in &raw.mirrors {
        let key = || format!("registry.mirrors.{from:?}");
        let from = Host::parse(from).map_err(|m| error(key(), m))?;
        let to = Mirror::parse(to).map_err(|m| error(key(), m))?;
        if mirrors.contains_key(&from) {
            return Err(error(key(), format!("a second mirror for {from}")));
        }
        mirrors.insert(from, to);
    }
    Ok(RegistrySettings {
        insecure,
        ca_file,
        max_in_flight,
        mirrors,
        verify: raw.verify,
    })
}

/// Parses a `--registry-mirror REGISTRY=HOST` value (`HOST` may be a URL with a scheme).
pub fn parse_mirror(text: &str) -> Result<(Host, Mirror), String> {
    let (from, to) = text
        .split_once('=')
        .ok_or_else(|| format!("expected REGISTRY=HOST, got {text:?}"))?;
    Ok((Host::parse(from)?, Mirror::parse(to)?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
