//! act stage: how a forge client is configured: the API root, the token and the variable
//! it came from (named in error messages), timeouts, retries and the page bound. Reading
//! the environment happens only in [`ForgeConfig::from_environment`]; the rest is pure.

use std::fmt;
use std::time::Duration;

use url::Url;

use super::{ForgeError, ForgeKind};

/// A forge client's settings. Build with [`ForgeConfig::from_environment`] (what the CLI
/// does), [`ForgeConfig::from_variables`] (the same from any lookup) or
/// [`ForgeConfig::new`], then adjust the public fields.
#[derive(Clone)]
pub struct ForgeConfig {
    /// Which forge.
    pub kind: ForgeKind,
    /// The API root, ending in `/`: `https://api.github.com/`,
    /// `https://gitlab.com/api/v4/`, `https://gitea.example/api/v1/`.
    pub api_url: Url,
    /// The variable the token came from, named when the forge refuses it.
    pub token_variable: &'static str,
    /// The `User-Agent` header (GitHub refuses requests without one).
    pub user_agent: String,
    /// Connection set-up timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout (default 30 s).
    pub request_timeout: Duration,
    /// Retries of idempotent requests (GET, PUT, PATCH) after connection failures and
    /// 5xx answers (default 2). POSTs are never repeated.
    pub max_retries: u32,
    /// The first retry's backoff; it doubles each retry (default 500 ms).
    pub retry_base: Duration,
    /// The most pages one listing follows (default 50).
    pub max_pages: usize,
    token: String,
}

impl fmt::Debug for ForgeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the token.
        f.debug_struct("ForgeConfig")
            .field("kind", &self.kind)
            .field("api_url", &self.api_url.as_str())
            .field("token_variable", &self.token_variable)
            .field("user_agent", &self.user_agent)
            .field("max_retries", &self.max_retries)
            .field("max_pages", &self.max_pages)
            .finish_non_exhaustive()
    }
}

impl ForgeConfig {
    /// Settings for `kind` at `api_url` with `token` (read from `token_variable`).
    /// `api_url` may be a GitLab or Gitea server's root: `/api/v4` or `/api/v1` is added.
    pub fn new(
        kind: ForgeKind,
        api_url: &str,
        token: impl Into<String>,
        token_variable: &'static str,
    ) -> Result<ForgeConfig, ForgeError> {
        let token = token.into();
        if token.trim().is_empty() {
            return Err(ForgeError::MissingToken {
                forge: kind,
                variables: token_variable,
            });
        }
        Ok(ForgeConfig {
            kind,
            api_url: api_root(kind, api_url)?,
            token_variable,
            user_agent: concat!("strata/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 2,
            retry_base: Duration::from_millis(500),
            max_pages: 50,
            token,
        })
    }

    /// Settings from the process environment; see [`ForgeConfig::from_variables`].
    pub fn from_environment(kind: ForgeKind) -> Result<ForgeConfig, ForgeError> {
        ForgeConfig::from_variables(kind, |name| std::env::var(name).ok())
    }

    /// Settings from `lookup` (an environment); empty values count as unset.
    /// - GitHub: token `GITHUB_TOKEN`, else `GH_TOKEN`; API `GITHUB_API_URL`, default
    ///   `https://api.github.com`.
    /// - GitLab: token `GITLAB_TOKEN` (sent as `PRIVATE-TOKEN`); API `CI_API_V4_URL`, else
    ///   `GITLAB_API_URL`, default `https://gitlab.com/api/v4`.
    /// - Gitea: token `GITEA_TOKEN`; server `GITEA_URL` (required, e.g.
    ///   `https://gitea.example.com`).
    pub fn from_variables(
        kind: ForgeKind,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ForgeConfig, ForgeError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let (token_names, token_list, api_names, default_api): (&[&'static str], _, &[&str], _) =
            match kind {
                ForgeKind::GitHub => (
                    &["GITHUB_TOKEN", "GH_TOKEN"],
                    "GITHUB_TOKEN or GH_TOKEN",
                    &["GITHUB_API_URL"],
                    Some("https://api.github.com"),
                ),
                ForgeKind::GitLab => (
                    &["GITLAB_TOKEN"],
                    "GITLAB_TOKEN",
                    &["CI_API_V4_URL", "GITLAB_API_URL"],
                    Some("https://gitlab.com/api/v4"),
                ),
                ForgeKind::Gitea => (&["GITEA_TOKEN"], "GITEA_TOKEN", &["GITEA_URL"], None),
            };
        let (token_variable, token) = token_names
            .iter()
            .find_map(|name| get(name).map(|token| (*name, token)))
            .ok_or(ForgeError::MissingToken {
                forge: kind,
                variables: token_list,
            })?;
        let api_url = api_names
            .iter()
            .find_map(|name| get(name))
            .or(default_api.map(str::to_owned))
            .ok_or_else(|| ForgeError::Config {
                forge: kind,
                detail: "GITEA_URL is not set: set it to the Gitea server's address \
                         (e.g. https://gitea.example.com)"
                    .to_owned(),
            })?;
        ForgeConfig::new(kind, &api_url, token, token_variable)
    }

    /// The token, for the request headers only.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

/// Normalises an API address: http(s) only, path ending in `/`, and GitLab's `api/v4` or
/// Gitea's `api/v1` added to a bare server address.
fn api_root(kind: ForgeKind, raw: &str) -> Result<Url, ForgeError> {
    let invalid = |detail: String| ForgeError::Config {
        forge: kind,
        detail,
    };
    let mut url = Url::parse(raw.trim())
        .map_err(|err| invalid(format!("API address {raw:?} is not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(invalid(format!(
            "API address {raw:?} must be an http(s) URL"
        )));
    }
    url.set_query(None);
    url.set_fragment(None);
    let mut path = url.path().trim_end_matches('/').to_owned();
    match kind {
        ForgeKind::GitLab if path.is_empty() => path.push_str("/api/v4"),
        ForgeKind::Gitea if !path.ends_with("/api/v1") => path.push_str("/api/v1"),
        _ => {}
    }
    path.push('/');
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn github_prefers_github_token_and_falls_back_to_gh_token() {
        let both = vars(&[("GITHUB_TOKEN", "a"), ("GH_TOKEN", "b")]);
        let config = ForgeConfig::from_variables(ForgeKind::GitHub, both).unwrap();
        assert_eq!(
            (config.token(), config.token_variable),
            ("a", "GITHUB_TOKEN")
        );
        let gh = vars(&[("GITHUB_TOKEN", ""), ("GH_TOKEN", "b")]);
        let config = ForgeConfig::from_variables(ForgeKind::GitHub, gh).unwrap();
        assert_eq!((config.token(), config.token_variable), ("b", "GH_TOKEN"));
        assert_eq!(config.api_url.as_str(), "https://api.github.com/");
    }

    #[test]
    fn missing_token_names_the_variables() {
        let err = ForgeConfig::from_variables(ForgeKind::GitHub, vars(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no GitHub token: set GITHUB_TOKEN or GH_TOKEN"
        );
    }

    #[test]
    fn gitlab_prefers_ci_api_url_and_adds_api_v4_to_a_server_root() {
        let ci = vars(&[
            ("GITLAB_TOKEN", "t"),
            ("CI_API_V4_URL", "https://gl.example/api/v4"),
            ("GITLAB_API_URL", "https://other.example"),
        ]);
        let config = ForgeConfig::from_variables(ForgeKind::GitLab, ci).unwrap();
        assert_eq!(config.api_url.as_str(), "https://gl.example/api/v4/");
        let root = vars(&[
            ("GITLAB_TOKEN", "t"),
            ("GITLAB_API_URL", "https://gl.example"),
        ]);
        let config = ForgeConfig::from_variables(ForgeKind::GitLab, root).unwrap();
        assert_eq!(config.api_url.as_str(), "https://gl.example/api/v4/");
    }

    #[test]
    fn gitea_needs_its_url_and_gets_api_v1() {
        let err = ForgeConfig::from_variables(ForgeKind::Gitea, vars(&[("GITEA_TOKEN", "t")]))
            .unwrap_err();
        assert!(err.to_string().contains("GITEA_URL"), "{err}");
        let set = vars(&[
            ("GITEA_TOKEN", "t"),
            ("GITEA_URL", "http://127.0.0.1:3000/git/"),
        ]);
        let config = ForgeConfig::from_variables(ForgeKind::Gitea, set).unwrap();
        assert_eq!(config.api_url.as_str(), "http://127.0.0.1:3000/git/api/v1/");
    }

    #[test]
    fn non_http_addresses_are_refused_and_debug_hides_the_token() {
        let err = ForgeConfig::new(ForgeKind::GitHub, "ftp://x", "t", "GITHUB_TOKEN").unwrap_err();
        assert!(err.to_string().contains("http(s)"), "{err}");
        let config = ForgeConfig::new(
            ForgeKind::GitHub,
            "https://x",
            "secret-token",
            "GITHUB_TOKEN",
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("secret-token"));
    }
}
