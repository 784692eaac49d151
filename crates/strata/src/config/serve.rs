//! config stage: the `[serve]` part of `strata.toml` — how the always-on watcher listens,
//! how often it looks tags up, what a moved tag sets off, and which secrets guard its
//! webhooks. Secrets are never in the file: only the names of the environment variables
//! holding them. A raw serde shape validated into typed values; reads nothing else.
//!
//! ```toml
//! [serve]
//! listen = "127.0.0.1:8080"        # the HTTP server: API, webhooks, metrics, dashboard
//! interval = "5m"                  # each watched tag is looked up once per interval
//! jitter = 0.1                     # ± this share of the interval, so lookups spread out
//! workers = 4                      # jobs run at once by this process
//! lease = "2m"                     # a job's lease; renewed while it runs
//! update = "off"                   # on a move: "off", "commit", "push" or "pr"
//! forge = "github"                 # with update = "pr"
//! webhook_registries = ["registry.example.com"]  # hosts named in webhooks we may act on
//!
//! [serve.secrets]                  # environment variables holding the webhook secrets
//! registry = "STRATA_REGISTRY_HOOK_TOKEN"   # Authorization: Bearer <token>
//! dockerhub = "STRATA_DOCKERHUB_HOOK_SECRET" # the last path segment of the hook URL
//! github = "STRATA_GITHUB_HOOK_SECRET"      # X-Hub-Signature-256 HMAC
//! gitlab = "STRATA_GITLAB_HOOK_TOKEN"       # X-Gitlab-Token
//! gitea = "STRATA_GITEA_HOOK_SECRET"        # X-Gitea-Signature HMAC
//! admin = "STRATA_ADMIN_TOKEN"              # enables the dashboard's actions
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use super::workspace::parse_duration;
use crate::forge::ForgeKind;

/// What a moved tag sets off besides the cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpdateMode {
    /// Only the cascade (it brings new pins to the managed images' repositories).
    #[default]
    Off,
    /// `update --commit`: branches committed, not pushed.
    Commit,
    /// `update --push`.
    Push,
    /// `update --pr <forge>`.
    PullRequest,
}

/// The environment variables holding the webhooks' secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    pub registry: Option<String>,
    pub dockerhub: Option<String>,
    pub github: Option<String>,
    pub gitlab: Option<String>,
    pub gitea: Option<String>,
    pub admin: Option<String>,
}

/// The validated `[serve]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub interval: Duration,
    /// Share of the interval each next lookup is moved by, at random, either way, in
    /// thousandths (`jitter = 0.1` is 100).
    pub jitter_permille: u32,
    pub workers: usize,
    pub lease: Duration,
    pub update: UpdateMode,
    pub forge: Option<ForgeKind>,
    /// Registry hosts a webhook may name beyond those of the watched tags.
    pub webhook_registries: Vec<String>,
    pub secrets: Secrets,
    /// The largest webhook body accepted.
    pub max_body: usize,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            interval: Duration::from_secs(5 * 60),
            jitter_permille: 100,
            workers: 4,
            lease: Duration::from_secs(120),
            update: UpdateMode::Off,
            forge: None,
            webhook_registries: Vec::new(),
            secrets: Secrets::default(),
            max_body: 1024 * 1024,
        }
    }
}

/// `[serve]` as written: how `strata serve` listens, looks tags up and acts on a move.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Serve")]
pub struct RawServe {
    /// The HTTP server's address and port: API, webhooks, metrics, dashboard (default
    /// 127.0.0.1:8080).
    listen: Option<String>,
    /// Each watched tag is looked up once per interval (`30s`, `5m`, `1h`; default 5m).
    interval: Option<String>,
    /// Each next lookup moves at random by up to this share of the interval, either way
    /// (0 to 0.5; default 0.1).
    #[schemars(range(min = 0.0, max = 0.5))]
    jitter: Option<f64>,
    /// Jobs this process runs at once (default 4).
    #[schemars(range(min = 1))]
    workers: Option<i64>,
    /// How long a job is leased to a process before another may take it over; renewed
    /// while it runs (default 2m).
    lease: Option<String>,
    /// What a moved tag sets off besides the cascade (default `off`).
    #[schemars(extend("enum" = ["off", "commit", "push", "pr"]))]
    update: Option<String>,
    /// With `update = "pr"`: the forge the pull requests go to.
    #[schemars(extend("enum" = ["github", "gitlab", "gitea"]))]
    forge: Option<String>,
    /// Registry hosts a webhook may name beyond those of the watched tags.
    #[serde(default)]
    webhook_registries: Vec<String>,
    /// The environment variables holding the webhooks' secrets (never the secrets).
    #[serde(default)]
    secrets: RawSecrets,
    /// The largest webhook body accepted, in bytes (default 1 MiB).
    #[schemars(range(min = 1))]
    max_body: Option<i64>,
}

/// `[serve.secrets]`: names of environment variables, never the secrets themselves. A
/// webhook whose variable is unset or empty is turned off (404).
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ServeSecrets")]
struct RawSecrets {
    /// Registry notifications: `Authorization: Bearer <token>`.
    registry: Option<String>,
    /// Docker Hub: the last path segment of the hook URL.
    dockerhub: Option<String>,
    /// GitHub: the secret of `X-Hub-Signature-256`.
    github: Option<String>,
    /// GitLab: the `X-Gitlab-Token`.
    gitlab: Option<String>,
    /// Gitea and Forgejo: the secret of `X-Gitea-Signature`.
    gitea: Option<String>,
    /// The admin token that turns on the API's and dashboard's actions.
    admin: Option<String>,
}

/// Checks `[serve]` (absent: the defaults).
pub fn validate(raw: Option<RawServe>, file: &Path) -> Result<ServeSettings, ConfigError> {
    let defaults = ServeSettings::default();
    let Some(raw) = raw else {
        return Ok(defaults);
    };
    let error = |key: &str, message: String| ConfigError {
        file: file.to_owned(),
        at: None,
        key: Some(format!("serve.{key}")),
        message,
    };
    let listen = match raw.listen {
        None => defaults.listen,
        Some(text) => text.parse().map_err(|_| {
            error(
                "listen",
                format!("{text:?} is not an address and port (e.g. 127.0.0.1:8080)"),
            )
        })?,
    };
    let duration = |value: Option<String>, key: &str, default: Duration| match value {
        None => Ok(default),
        Some(text) => parse_duration(&text).map_err(|m| error(key, m)),
    };
    let jitter_permille = match raw.jitter {
        None => defaults.jitter_permille,
        Some(jitter) if (0.0..=0.5).contains(&jitter) => (jitter * 1000.0).round() as u32,
        Some(jitter) => {
            return Err(error(
                "jitter",
                format!("{jitter} is out of range (0 to 0.5)"),
            ));
        }
    };
    let workers = match raw.workers {
        None => defaults.workers,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=64).contains(n))
            .ok_or_else(|| error("workers", format!("{n} is out of range (1 to 64)")))?,
    };
    let update = match raw.update.as_deref() {
        None | Some("off") => UpdateMode::Off,
        Some("commit") => UpdateMode::Commit,
        Some("push") => UpdateMode::Push,
        Some("pr") => UpdateMode::PullRequest,
        Some(other) => {
            return Err(error(
                "update",
                format!("{other:?}: expected \"off\", \"commit\", \"push\" or \"pr\""),
            ));
        }
    };
    let forge = match raw.forge.as_deref() {
        None => None,
        Some("github") => Some(ForgeKind::GitHub),
        Some("gitlab") => Some(ForgeKind::GitLab),
        Some("gitea") => Some(ForgeKind::Gitea),
        Some(other) => {
            return Err(error(
                "forge",
                format!("{other:?}: expected \"github\", \"gitlab\" or \"gitea\""),
            ));
        }
    };
    if update == UpdateMode::PullRequest && forge.is_none() {
        return Err(error("forge", "update = \"pr\" needs the forge".to_owned()));
    }
    let max_body = match raw.max_body {
        None => defaults.max_body,
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1024..=64 * 1024 * 1024).contains(n))
            .ok_or_else(|| error("max_body", format!("{n} is out of range (1 KiB to 64 MiB)")))?,
    };
    let secret = |value: Option<String>, key: &str| match value {
        Some(name) if name.trim().is_empty() || name.contains(['=', ' ']) => Err(error(
            &format!("secrets.{key}"),
            format!("{name:?} is not an environment variable name"),
        )),
        other => Ok(other),
    };
    let raw_secrets = raw.secrets;
    Ok(ServeSettings {
        listen,
        interval: duration(raw.interval, "interval", defaults.interval)?,
        jitter_permille,
        workers,
        lease: duration(raw.lease, "lease", defaults.lease)?,
        update,
        forge,
        webhook_registries: raw
            .webhook_registries
            .into_iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
        secrets: Secrets {
            registry: secret(raw_secrets.registry, "registry")?,
            dockerhub: secret(raw_secrets.dockerhub, "dockerhub")?,
            github: secret(raw_secrets.github, "github")?,
            gitlab: secret(raw_secrets.gitlab, "gitlab")?,
            gitea: secret(raw_secrets.gitea, "gitea")?,
            admin: secret(raw_secrets.admin, "admin")?,
        },
        max_body,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::PathBuf;

    use crate::config::parse;

    use super::*;

    fn serve(text: &str) -> Result<ServeSettings, String> {
        parse(text, &PathBuf::from("/ws/strata.toml"))
            .map(|c| c.serve)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_every_key() {
        assert_eq!(serve("").unwrap(), ServeSettings::default());
        let s = serve(
            "[serve]\nlisten = \"0.0.0.0:9000\"\ninterval = \"30s\"\njitter = 0.2\nworkers = 2\n\
             lease = \"1m\"\nupdate = \"pr\"\nforge = \"gitlab\"\n\
             webhook_registries = [\"Registry.Example.com\"]\nmax_body = 2048\n\
             [serve.secrets]\ngithub = \"GH_HOOK\"\nadmin = \"ADMIN\"\n",
        )
        .unwrap();
        assert_eq!(s.listen.port(), 9000);
        assert_eq!(s.interval, Duration::from_secs(30));
        assert_eq!(s.jitter_permille, 200);
        assert_eq!((s.workers, s.update), (2, UpdateMode::PullRequest));
        assert_eq!(s.forge, Some(ForgeKind::GitLab));
        assert_eq!(s.webhook_registries, ["registry.example.com"]);
        assert_eq!(s.secrets.github.as_deref(), Some("GH_HOOK"));
        assert_eq!(s.max_body, 2048);
    }

    #[test]
    fn mistakes_name_the_key() {
        let cases = [
            ("[serve]\nlisten = \"localhost\"\n", "serve.listen:"),
            (
                "[serve]\njitter = 0.9\n",
                "serve.jitter: 0.9 is out of range",
            ),
            ("[serve]\nworkers = 0\n", "serve.workers: 0 is out of range"),
            (
                "[serve]\nupdate = \"pr\"\n",
                "serve.forge: update = \"pr\" needs the forge",
            ),
            (
                "[serve]\nupdate = \"yes\"\n",
                "serve.update: \"yes\": expected",
            ),
            ("[serve]\ninterval = \"often\"\n", "serve.interval:"),
            (
                "[serve.secrets]\ngithub = \"A B\"\n",
                "serve.secrets.github:",
            ),
            ("[serve]\nlistenn = \"x\"\n", "unknown field"),
        ];
        for (text, expected) in cases {
            let err = serve(text).unwrap_err();
            assert!(err.contains(expected), "{text}\n{err}");
        }
    }
}
