//! resolve stage: talking to one registry with the right credentials: the single ping
//! that learns its challenge, Bearer tokens from the realm (cached, renewed on 401),
//! Basic auth, and the per-registry limit on requests in flight. Secrets only ever go
//! into `Authorization` headers marked sensitive, never into messages.

use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use tokio::sync::{Mutex, OnceCell, Semaphore};

use super::challenge::{self, Challenge};
use super::client::{Inner, manifest_headers};
use super::content::protocol;
use super::credentials::Credential;
use super::endpoint::base_url;
use super::stats::Kind;
use super::transport::{Call, Reply};
use super::{RegistryConfig, RegistryError};

/// Manifests larger than this are refused (the distribution spec's 4 MiB).
const MANIFEST_LIMIT: usize = 4 << 20;
/// Image config blobs larger than this are refused.
const CONFIG_LIMIT: usize = 16 << 20;
/// Pings, token answers and error pages are small.
pub(crate) const SMALL_LIMIT: usize = 1 << 20;
/// A failed ping is remembered this long, so a dead registry fails every lookup fast
/// but a long-running process tries again later.
const PING_FAILURE_TTL: Duration = Duration::from_secs(10);

/// How a registry wants to be authenticated, as learned from a challenge.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    /// No challenge: send requests bare.
    Open,
    /// Get a token from `realm`; `scope`, when the challenge named one, is asked for.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    /// Send the configured user name and password.
    Basic,
}

impl From<Challenge> for Access {
    fn from(challenge: Challenge) -> Access {
        match challenge {
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => Access::Bearer {
                realm,
                service,
                scope,
            },
            Challenge::Basic => Access::Basic,
        }
    }
}

/// Per-registry state shared by every lookup on that registry.
#[derive(Debug)]
pub(crate) struct RegistryState {
    /// The registry as written in references (`docker.io`).
    pub(crate) domain: String,
    /// How messages name it: the domain, or the host actually contacted when a mirror
    /// serves it (`127.0.0.1:5100 (mirror of docker.io)`).
    pub(crate) shown: String,
    /// The mirror host contacted instead of the domain, if any.
    pub(crate) mirror: Option<String>,
    /// Where it is served (`https://registry-1.docker.io`, or its mirror's URL).
    pub(crate) base: String,
    /// The name its credentials are looked up under: the domain, or the mirror's host.
    credential_host: String,
    /// The ping's outcome and when it was learned. The async lock is held during the
    /// ping, so lookups starting together share one.
    ping: Mutex<Option<(Instant, Result<Access, RegistryError>)>>,
    credential: OnceCell<Result<Option<Credential>, RegistryError>>,
    permits: Semaphore,
}

impl RegistryState {
    pub(crate) fn new(domain: &str, config: &RegistryConfig) -> RegistryState {
        let served = config.mirrors.get(domain).map_or(domain, String::as_str);
        let host = served
            .split_once("://")
            .map_or(served, |(_, host)| host.trim_end_matches('/'));
        let mirror = (served != domain).then(|| host.to_owned());
        RegistryState {
            domain: domain.to_owned(),
            shown: match &mirror {
                Some(host) => format!("{host} (mirror of {domain})"),
                None => domain.to_owned(),
            },
            mirror,
            base: base_url(served, &config.insecure),
            credential_host: host.to_owned(),
            ping: Mutex::new(None),
            credential: OnceCell::new(),
            permits: Semaphore::new(config.max_in_flight.max(1)),
        }
    }
}

/// The `Authorization` header sent, and the bearer token in it (to drop on a 401).
/// Deliberately not `Debug`: it holds a secret.
#[derive(Clone)]
struct Authorization {
    header: HeaderValue,
    token: Option<String>,
}

impl Inner {
    /// Sends `kind` of request for `path` in `repository`, authenticated as the registry
    /// asks. A 401 gets one retry with fresh authorization; other statuses are returned.
    pub(crate) async fn fetch(
        &self,
        registry: &RegistryState,
        repository: &str,
        target: &str,
        kind: Kind,
        path: &str,
    ) -> Result<Reply, RegistryError> {
        let access = self.ping(registry).await?;
        let scope = format!("repository:{repository}:pull");
        let first = self
            .authorize(registry, repository, &access, &scope)
            .await?;
        let _permit =
            registry.permits.acquire().await.map_err(|_| {
                protocol(registry, target, None, "client is shutting down".to_owned())
            })?;
        let reply = self
            .send(registry, target, kind, path, first.as_ref())
            .await?;
        if reply.status != StatusCode::UNAUTHORIZED {
            return Ok(reply);
        }
        if let Some(token) = first.as_ref().and_then(|auth| auth.token.as_deref()) {
            self.tokens.reject(&registry.domain, &scope, token).await;
        }
        let Some(challenge) = challenge_of(&reply) else {
            let detail = "HTTP 401 without a usable WWW-Authenticate challenge".to_owned();
            return Err(unauthorized(registry, repository, detail));
        };
        let retry_access = Access::from(challenge);
        let second = self
            .authorize(registry, repository, &retry_access, &scope)
            .await?;
        let same = match (&first, &second) {
            (Some(a), Some(b)) => a.header == b.header,
            (None, None) => true,
            _ => false,
        };
        if same {
            return Err(self.refused(registry, repository, &retry_access).await);
        }
        let reply = self
            .send(registry, target, kind, path, second.as_ref())
            .await?;
        if reply.status == StatusCode::UNAUTHORIZED {
            return Err(self.refused(registry, repository, &retry_access).await);
        }
        Ok(reply)
    }

    async fn send(
        &self,
        registry: &RegistryState,
        target: &str,
        kind: Kind,
        path: &str,
        authorization: Option<&Authorization>,
    ) -> Result<Reply, RegistryError> {
        let (method, body_limit, mut headers) = match kind {
            Kind::ManifestHead => (Method::HEAD, 0, manifest_headers()),
            Kind::ManifestGet => (Method::GET, MANIFEST_LIMIT, manifest_headers()),
            Kind::BlobGet => (Method::GET, CONFIG_LIMIT, HeaderMap::new()),
            Kind::Ping | Kind::Token => (Method::GET, SMALL_LIMIT, HeaderMap::new()),
        };
        if let Some(authorization) = authorization {
            headers.insert(AUTHORIZATION, authorization.header.clone());
        }
        let url = format!("{}{path}", registry.base);
        let call = Call {
            registry: &registry.domain,
            shown: &registry.shown,
            mirror: registry.mirror.as_deref(),
            target,
            kind,
            method,
            url: &url,
            headers,
            form: None,
            body_limit,
        };
        self.transport.send(&call).await
    }

    /// `GET /v2/` once per registry: learns whether and how it wants authentication.
    async fn ping(&self, registry: &RegistryState) -> Result<Access, RegistryError> {
        let mut state = registry.ping.lock().await;
        match &*state {
            Some((_, Ok(access))) => return Ok(access.clone()),
            Some((when, Err(err))) if when.elapsed() < PING_FAILURE_TTL => return Err(err.clone()),
            _ => {}
        }
        let outcome = match self.send(registry, "/v2/", Kind::Ping, "/v2/", None).await {
            Ok(reply) if reply.status == StatusCode::UNAUTHORIZED => {
                // The ping has no repository: a scope in its challenge is not ours.
                Ok(match challenge_of(&reply).map(Access::from) {
                    Some(Access::Bearer { realm, service, .. }) => Access::Bearer {
                        realm,
                        service,
                        scope: None,
                    },
                    Some(access) => access,
                    None => Access::Open,
                })
            }
            Ok(reply) if reply.status.is_server_error() => Err(protocol(
                registry,
                "/v2/",
                Some(reply.status.as_u16()),
                format!(
                    "HTTP {} (after {} retries)",
                    reply.status, self.config.max_retries
                ),
            )),
            // Anything else (200, or a registry that does not implement /v2/ itself):
            // proceed, and let a 401 on a real request supply the challenge.
            Ok(_) => Ok(Access::Open),
            Err(err) => Err(err),
        };
        *state = Some((Instant::now(), outcome.clone()));
        outcome
    }

    pub(crate) async fn credential(
        &self,
        registry: &RegistryState,
    ) -> Result<Option<Credential>, RegistryError> {
        registry
            .credential
            .get_or_init(|| self.config.credentials.lookup(&registry.credential_host))
            .await
            .clone()
    }

    /// The header to send under `access`, fetching (or reusing) a token when needed.
    async fn authorize(
        &self,
        registry: &RegistryState,
        repository: &str,
        access: &Access,
        scope: &str,
    ) -> Result<Option<Authorization>, RegistryError> {
        match access {
            Access::Open => Ok(None),
            Access::Basic => match self.credential(registry).await? {
                Some(Credential::Basic { username, password }) => Ok(Some(Authorization {
                    header: basic_header(&username, &password)
                        .ok_or_else(|| bad_secret(registry))?,
                    token: None,
                })),
                _ => Ok(None),
            },
            Access::Bearer {
                realm,
                service,
                scope: asked,
            } => {
                let fetch_scope = asked.as_deref().unwrap_or(scope);
                let token = self
                    .tokens
                    .get_or_fetch(&registry.domain, scope, Instant::now, || {
                        self.fetch_token(
                            registry,
                            repository,
                            realm,
                            service.as_deref(),
                            fetch_scope,
                        )
                    })
                    .await?;
                let mut header = HeaderValue::from_str(&format!("Bearer {}", token.value))
                    .map_err(|_| {
                        protocol(
                            registry,
                            realm,
                            None,
                            "token is not valid header text".to_owned(),
                        )
                    })?;
                header.set_sensitive(true);
                Ok(Some(Authorization {
                    header,
                    token: Some(token.value),
                }))
            }
        }
    }

    /// The `Authorization` header for pulling from `repository`, and the bearer token in
    /// it, for requests sent outside the transport (streamed blobs). `None`: anonymous.
    pub(crate) async fn pull_authorization(
        &self,
        registry: &RegistryState,
        repository: &str,
    ) -> Result<Option<(HeaderValue, Option<String>)>, RegistryError> {
        let access = self.ping(registry).await?;
        let scope = format!("repository:{repository}:pull");
        let auth = self
            .authorize(registry, repository, &access, &scope)
            .await?;
        Ok(auth.map(|a| (a.header, a.token)))
    }

    /// Forgets a bearer token a registry refused (401), so the next call gets a new one.
    pub(crate) async fn reject_pull_token(
        &self,
        registry: &RegistryState,
        repository: &str,
        token: &str,
    ) {
        let scope = format!("repository:{repository}:pull");
        self.tokens.reject(&registry.domain, &scope, token).await;
    }

    /// Waits for one of the registry's request permits (the per-registry limit).
    pub(crate) async fn permit<'r>(
        &self,
        registry: &'r RegistryState,
        target: &str,
    ) -> Result<tokio::sync::SemaphorePermit<'r>, RegistryError> {
        registry
            .permits
            .acquire()
            .await
            .map_err(|_| protocol(registry, target, None, "client is shutting down".to_owned()))
    }

    /// The Unauthorized error for a request still refused after fresh authorization.
    async fn refused(
        &self,
        registry: &RegistryState,
        repository: &str,
        access: &Access,
    ) -> RegistryError {
        let credential = self.credential(registry).await.ok().flatten();
        let detail = match (&credential, access) {
            (None, _) => format!(
                "it requires credentials and none are configured for {0} \
                 (run `docker login {0}`, or set STRATA_REGISTRY_USER and \
                 STRATA_REGISTRY_PASSWORD with STRATA_REGISTRY={0})",
                registry.domain
            ),
            (Some(_), Access::Bearer { .. }) => {
                format!("it refused the token issued for {}", who(&credential))
            }
            (Some(_), _) => format!("it refused {}", who(&credential)),
        };
        unauthorized(registry, repository, detail)
    }
}

fn challenge_of(reply: &Reply) -> Option<Challenge> {
    challenge::preferred(
        reply
            .headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok()),
    )
}

pub(crate) fn basic_header(username: &str, password: &str) -> Option<HeaderValue> {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut header = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    header.set_sensitive(true);
    Some(header)
}

/// Describes the identity used, without the secret.
pub(crate) fn who(credential: &Option<Credential>) -> String {
    match credential {
        Some(Credential::Basic { username, .. }) => format!("the credentials of user {username:?}"),
        Some(Credential::IdentityToken { .. }) => "the identity token".to_owned(),
        None => "anonymous access".to_owned(),
    }
}

pub(crate) fn unauthorized(
    registry: &RegistryState,
    repository: &str,
    detail: String,
) -> RegistryError {
    RegistryError::Unauthorized {
        registry: registry.shown.clone(),
        repository: repository.to_owned(),
        detail,
    }
}

pub(crate) fn bad_secret(registry: &RegistryState) -> RegistryError {
    RegistryError::Credentials {
        registry: registry.shown.clone(),
        detail: "the configured credentials cannot be sent in an HTTP header".to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_mirrored_registry_is_served_and_authenticated_by_its_mirror() {
        let config = RegistryConfig {
            mirrors: [("docker.io".to_owned(), "127.0.0.1:5000".to_owned())].into(),
            ..RegistryConfig::default()
        };
        let hub = RegistryState::new("docker.io", &config);
        assert_eq!(hub.domain, "docker.io");
        assert_eq!(hub.base, "http://127.0.0.1:5000");
        assert_eq!(hub.credential_host, "127.0.0.1:5000");
        let other = RegistryState::new("ghcr.io", &config);
        assert_eq!(other.base, "https://ghcr.io");
        assert_eq!(other.credential_host, "ghcr.io");
        let config = RegistryConfig {
            mirrors: [("docker.io".to_owned(), "https://127.0.0.1:5443".to_owned())].into(),
            ..RegistryConfig::default()
        };
        let tls = RegistryState::new("docker.io", &config);
        assert_eq!(tls.base, "https://127.0.0.1:5443");
        assert_eq!(tls.credential_host, "127.0.0.1:5443");
    }

    #[test]
    fn basic_header_is_base64_and_sensitive() {
        let header = basic_header("user", "pa:ss").unwrap();
        assert_eq!(header.to_str().unwrap(), "Basic dXNlcjpwYTpzcw==");
        assert!(header.is_sensitive());
    }

    #[test]
    fn descriptions_never_include_secrets() {
        let basic = Some(Credential::Basic {
            username: "me".into(),
            password: "hunter2".into(),
        });
        assert!(!who(&basic).contains("hunter2"));
        let token = Some(Credential::IdentityToken {
            token: "refresh-secret".into(),
        });
        assert!(!who(&token).contains("refresh-secret"));
    }
}
