//! resolve stage: where registry credentials come from: explicit entries, the
//! environment, Docker's `config.json` (`auths`, `credHelpers`, `credsStore`). Secrets
//! never appear in Debug output or error messages.
//!
//! Environment variables (read by [`Credentials::from_environment`]):
//! - `STRATA_REGISTRY_<HOST>_USER` / `STRATA_REGISTRY_<HOST>_PASSWORD`: credentials for
//!   one registry; `<HOST>` is the registry host (and port) upper-cased with every
//!   character other than a letter or digit replaced by `_` (`ghcr.io` ->
//!   `STRATA_REGISTRY_GHCR_IO_USER`, `localhost:5000` -> `STRATA_REGISTRY_LOCALHOST_5000_USER`,
//!   Docker Hub is `DOCKER_IO`).
//! - `STRATA_REGISTRY_USER` / `STRATA_REGISTRY_PASSWORD`: credentials for the registry
//!   named by `STRATA_REGISTRY` (a host such as `ghcr.io`), or, when `STRATA_REGISTRY` is
//!   unset, for every registry that has no other credentials.
//!
//! Precedence for a registry: explicit/per-registry entries, then the `STRATA_REGISTRY`
//! pair, then Docker's configuration, then the unscoped pair.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;

use super::RegistryError;
use super::endpoint::{credential_host, credential_server_url};

/// A secret for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Username and password (or personal access token), sent as Basic auth or to the
    /// token realm.
    Basic {
        /// The user name.
        username: String,
        /// The password or access token.
        password: String,
    },
    /// An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the token realm.
    IdentityToken {
        /// The refresh token.
        token: String,
    },
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Credential::IdentityToken { .. } => f
                .debug_struct("IdentityToken")
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

/// Every source of credentials the client consults, in precedence order.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// Per-registry entries (explicit, or `STRATA_REGISTRY_<HOST>_*`), keyed by host.
    explicit: BTreeMap<String, Credential>,
    /// `STRATA_REGISTRY_USER`/`_PASSWORD`, with the host `STRATA_REGISTRY` names.
    fallback: Option<(Option<String>, Credential)>,
    /// Docker's `config.json`, if one was read.
    docker: Option<DockerConfig>,
    /// `PATH` used to find `docker-credential-*` helpers (default: the process `PATH`).
    helper_path: Option<OsString>,
}

impl Credentials {
    /// No credentials at all: every registry is accessed anonymously.
    pub fn none() -> Credentials {
        Credentials::default()
    }

    /// Credentials from the process environment (see the module docs) and Docker's
    /// `config.json` (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`). A
    /// missing config file is not an error; an unreadable or invalid one is.
    pub fn from_environment() -> Result<Credentials, RegistryError> {
        let mut credentials = Credentials::from_vars(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        );
        let dir = match std::env::var_os("DOCKER_CONFIG") {
            Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
            _ => std::env::home_dir().map(|home| home.join(".docker")),
        };
        if let Some(dir) = dir {
            let path = dir.join("config.json");
            if path.is_file() {
                credentials.docker = Some(DockerConfig::read(&path)?);
            }
        }
        Ok(credentials)
    }

    /// Credentials from `STRATA_REGISTRY_*` variables given as name/value pairs.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Credentials {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let mut credentials = Credentials::default();
        for (name, username) in &vars {
            let Some(host) = name
                .strip_prefix("STRATA_REGISTRY_")
                .and_then(|rest| rest.strip_suffix("_USER"))
            else {
                continue;
            };
            if let Some(password) = vars.get(&format!("STRATA_REGISTRY_{host}_PASSWORD")) {
                let credential = Credential::Basic {
                    username: username.clone(),
                    password: password.clone(),
                };
                credentials
                    .explicit
                    .insert(format!("env:{host}"), credential);
            }
        }
        if let (Some(username), Some(password)) = (
            vars.get("STRATA_REGISTRY_USER"),
            vars.get("STRATA_REGISTRY_PASSWORD"),
        ) {
            let host = vars
                .get("STRATA_REGISTRY")
                .filter(|host| !host.is_empty())
                .map(|host| credential_host(host));
            let credential = Credential::Basic {
                username: username.clone(),
                password: password.clone(),
            };
            credentials.fallback = Some((host, credential));
        }
        credentials
    }

    /// Adds Docker configuration from the `config.json` file at `path`.
    pub fn with_docker_config_file(mut self, path: &Path) -> Result<Credentials, RegistryError> {
        self.docker = Some(DockerConfig::read(path)?);
        Ok(self)
    }

    /// Adds Docker configuration from `config.json` text.
    pub fn with_docker_config_json(mut self, json: &str) -> Result<Credentials, RegistryError> {
        self.docker = Some(DockerConfig::parse(json, "config.json")?);
        Ok(self)
    }

    /// Sets the credential for `registry` (a host as written in references, e.g.
    /// `docker.io` or `localhost:5000`), overriding every other source.
    pub fn with(mut self, registry: &str, credential: Credential) -> Credentials {
        self.explicit.insert(credential_host(registry), credential);
        self
    }

    /// Searches `path` (a `PATH`-style list) instead of the process `PATH` for
    /// `docker-credential-*` helpers.
    pub fn with_helper_path(mut self, path: impl Into<OsString>) -> Credentials {
        self.helper_path = Some(path.into());
        self
    }

    /// The credential for `registry`, running a credential helper if one is configured.
    pub(crate) async fn lookup(&self, registry: &str) -> Result<Option<Credential>, RegistryError> {
        let host = credential_host(registry);
        if let Some(credential) = self
            .explicit
            .get(&host)
            .or_else(|| self.explicit.get(&format!("env:{}", env_key(&host))))
        {
            return Ok(Some(credential.clone()));
        }
        match &self.fallback {
            Some((Some(only), credential)) if *only == host => return Ok(Some(credential.clone())),
            _ => {}
        }
        if let Some(docker) = &self.docker {
            if let Some(helper) = docker.helper_for(&host) {
                let url = credential_server_url(registry);
                let found = super::helper::get(helper, &url, self.helper_path.as_deref())
                    .await
                    .map_err(|detail| RegistryError::Credentials {
                        registry: registry.to_owned(),
                        detail,
                    })?;
                if found.is_some() {
                    return Ok(found);
                }
            }
            if let Some(credential) = docker.auths.get(&host) {
                return Ok(Some(credential.clone()));
            }
        }
        match &self.fallback {
            Some((None, credential)) => Ok(Some(credential.clone())),
            _ => Ok(None),
        }
    }
}

/// `ghcr.io` -> `GHCR_IO`, the `<HOST>` part of the per-registry variables.
fn env_key(host: &str) -> String {
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// What we use from Docker's `config.json`.
#[derive(Clone, Debug, Default)]
struct DockerConfig {
    /// Inline credentials by registry host.
    auths: BTreeMap<String, Credential>,
    /// `credHelpers`: helper name by registry host.
    helpers: BTreeMap<String, String>,
    /// `credsStore`: the helper for every registry without its own.
    store: Option<String>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    auths: BTreeMap<String, RawAuth>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize)]
struct RawAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

impl DockerConfig {
    fn read(path: &Path) -> Result<DockerConfig, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|err| RegistryError::Config {
            detail: format!("cannot read {}: {err}", path.display()),
        })?;
        DockerConfig::parse(&text, &path.display().to_string())
    }

    fn parse(text: &str, origin: &str) -> Result<DockerConfig, RegistryError> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|err| RegistryError::Config {
            detail: format!("{origin} is not a valid Docker config file: {err}"),
        })?;
        let mut auths = BTreeMap::new();
        for (key, entry) in raw.auths {
            let host = credential_host(&key);
            if let Some(credential) = entry.credential(&key)? {
                auths.insert(host, credential);
            }
        }
        let helpers = raw
            .cred_helpers
            .into_iter()
            .map(|(key, helper)| (credential_host(&key), helper))
            .collect();
        let store = raw.creds_store.filter(|store| !store.is_empty());
        Ok(DockerConfig {
            auths,
            helpers,
            store,
        })
    }

    fn helper_for(&self, host: &str) -> Option<&str> {
        self.helpers
            .get(host)
            .or(self.store.as_ref())
            .map(String::as_str)
    }
}

impl RawAuth {
    /// The credential an `auths` entry holds; `None` for the empty placeholders Docker
    /// writes when a credential store keeps the secret.
    fn credential(self, key: &str) -> Result<Option<Credential>, RegistryError> {
        if let Some(token) = self.identitytoken.filter(|token| !token.is_empty()) {
            return Ok(Some(Credential::IdentityToken { token }));
        }
        if let Some(encoded) = self.auth.filter(|auth| !auth.is_empty()) {
            let invalid = || RegistryError::Config {
                detail: format!("config.json: the `auth` of {key} is not base64 `user:password`"),
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| invalid())?;
            let text = String::from_utf8(decoded).map_err(|_| invalid())?;
            let (username, password) = text.split_once(':').ok_or_else(invalid)?;
            return Ok(Some(Credential::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            }));
        }
        match (self.username, self.password) {
            (Some(username), Some(password)) if !username.is_empty() => {
                Ok(Some(Credential::Basic { username, password }))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "credentials_tests.rs"]
mod tests;
