//! resolve stage: the public client: tag resolution (one `HEAD` per unique tag, in
//! parallel within per-registry limits) and content by digest, verified against the
//! digest claimed and the digest asked for. It returns digests; deciding is not its job.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use strata_core::reference::{Digest, Reference};
use tokio::task::JoinSet;

use super::auth::RegistryState;
use super::cache::{Bucket, ContentCache};
use super::manifest::{
    self, ImageConfig, MANIFEST_ACCEPT, Manifest, ManifestKind, PlatformDigest, sha256,
};
use super::stats::{Kind, Stats, StatsBook};
use super::token::TokenCache;
use super::transport::{Reply, RetryPolicy, Transport};
use super::{RegistryConfig, RegistryError, install_crypto_provider};

/// One tag to resolve: the unit `resolve_all` deduplicates on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagKey {
    /// The registry as written in the normalised reference (`docker.io`).
    pub registry: String,
    /// The repository path (`library/python`).
    pub repository: String,
    /// The tag (`latest` when the reference names neither tag nor digest).
    pub tag: String,
}

impl TagKey {
    /// The tag `reference` asks for; `NoTag` for digest-only references.
    pub fn of(reference: &Reference) -> Result<TagKey, RegistryError> {
        let tag = match (reference.tag(), reference.digest()) {
            (Some(tag), _) => tag,
            (None, None) => "latest",
            (None, Some(_)) => {
                return Err(RegistryError::NoTag {
                    reference: reference.to_string(),
                });
            }
        };
        Ok(TagKey {
            registry: reference.domain().to_owned(),
            repository: reference.path().to_owned(),
            tag: tag.to_owned(),
        })
    }
}

impl fmt::Display for TagKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

/// What a tag points at right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The tag looked up.
    pub key: TagKey,
    /// The top-level digest (the index or list digest for multi-platform images).
    pub digest: Digest,
    /// The manifest media type the registry served, when it said.
    pub media_type: Option<String>,
    /// The manifest size in bytes, when known.
    pub size: Option<u64>,
}

/// The client; clones share connections, tokens, limits and counters.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    pub(crate) inner: Arc<Inner>,
}

/// Everything clones share.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) config: RegistryConfig,
    pub(crate) transport: Transport,
    pub(crate) registries: Mutex<HashMap<String, Arc<RegistryState>>>,
    pub(crate) tokens: TokenCache,
    pub(crate) stats: Arc<StatsBook>,
    cache: Option<ContentCache>,
}

impl RegistryClient {
    /// Builds the client (one connection pool for all registries). Fails only on an
    /// unusable configuration, such as an unreadable CA file.
    pub fn new(config: RegistryConfig) -> Result<RegistryClient, RegistryError> {
        install_crypto_provider();
        let invalid = |detail: String| RegistryError::Config { detail };
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_max_idle_per_host(config.max_in_flight.max(1));
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|err| invalid(format!("cannot read CA file {}: {err}", path.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| {
                invalid(format!(
                    "CA file {} is not PEM certificates: {err}",
                    path.display()
                ))
            })?;
            if certs.is_empty() {
                return Err(invalid(format!(
                    "CA file {} holds no certificate",
                    path.display()
                )));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|err| invalid(format!("cannot build the HTTP client: {err}")))?;
        let stats = Arc::new(StatsBook::default());
        let transport = Transport {
            http,
            policy: RetryPolicy {
                max_retries: config.max_retries,
                base: config.retry_base,
                max_wait: config.max_wait,
            },
            stats: stats.clone(),
        };
        let cache = config.cache_dir.clone().map(ContentCache::new);
        Ok(RegistryClient {
            inner: Arc::new(Inner {
                config,
                transport,
                registries: Mutex::default(),
                tokens: TokenCache::default(),
                stats,
                cache,
            }),
        })
    }

    /// The digest `reference`'s tag points at now (a digest in the reference is ignored:
    /// the point is to learn the current one). Never cached across runs.
    pub async fn resolve(&self, reference: &Reference) -> Result<Resolved, RegistryError> {
        let key = TagKey::of(reference)?;
        let registry = self.inner.registry(&key.registry);
        let target = format!("{}:{}", key.repository, key.tag);
        let path = format!("/v2/{}/manifests/{}", key.repository, key.tag);
        let head = self
            .inner
            .fetch(
                &registry,
                &key.repository,
                &target,
                Kind::ManifestHead,
                &path,
            )
            .await?;
        let head = self
            .inner
            .check(head, &registry, &key.repository, &target)?;
        if let Some(digest) = claimed_digest(&head, &registry, &target)? {
            return Ok(Resolved {
                key,
                digest,
                media_type: content_type(&head.headers),
                size: content_length(&head.headers),
            });
        }
        // No digest header: fetch the manifest and hash exactly what was served.
        let get = self
            .inner
            .fetch(
                &registry,
                &key.repository,
                &target,
                Kind::ManifestGet,
                &path,
            )
            .await?;
        let get = self.inner.check(get, &registry, &key.repository, &target)?;
        let digest = verify(&get, None, &registry, &target)?;
        let media_type = content_type(&get.headers);
        if let Some(cache) = &self.inner.cache {
            cache
                .put(Bucket::Manifests, &digest, &get.body, media_type.as_deref())
                .await;
        }
        Ok(Resolved {
            key,
            digest,
            media_type,
            size: Some(get.body.len() as u64),
        })
    }

    /// Resolves every unique tag among `refs` once, concurrently (bounded per registry).
    /// Digest-only references have no tag and are left out. One failure never stops the
    /// others: each tag gets its own result.
    pub async fn resolve_all(
        &self,
        refs: impl IntoIterator<Item = Reference>,
    ) -> HashMap<TagKey, Result<Resolved, RegistryError>> {
        let mut unique: HashMap<TagKey, Reference> = HashMap::new();
        for reference in refs {
            if let Ok(key) = TagKey::of(&reference) {
                unique.entry(key).or_insert(reference);
            }
        }
        let mut tasks = JoinSet::new();
        let mut keys = HashMap::new();
        for (key, reference) in unique {
            let client = self.clone();
            let handle = tasks.spawn(async move { client.resolve(&reference).await });
            keys.insert(handle.id(), key);
        }
        let mut results = HashMap::with_capacity(keys.len());
        while let Some(joined) = tasks.join_next_with_id().await {
            let (id, outcome) = match joined {
                Ok((id, result)) => (id, Ok(result)),
                Err(err) => (err.id(), Err(err.to_string())),
            };
            let Some(key) = keys.remove(&id) else {
                continue;
            };
            let result = outcome.unwrap_or_else(|detail| {
                Err(RegistryError::Protocol {
                    registry: key.registry.clone(),
                    target: format!("{}:{}", key.repository, key.tag),
                    status: None,
                    detail: format!("lookup task failed: {detail}"),
                })
            });
            results.insert(key, result);
        }
        results
    }

    /// The manifest `digest` in `reference`'s repository, verified to hash to `digest`
    /// (and to the digest the registry claims). Served from the disk cache when present.
    pub async fn manifest(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<Manifest, RegistryError> {
        let registry = self.inner.registry(reference.domain());
        let repository = reference.path();
        let target = format!("{repository}@{digest}");
        let (bytes, served_type) = match self
            .inner
            .cached(Bucket::Manifests, digest, &registry)
            .await
        {
            Some(entry) => (entry.bytes, entry.media_type),
            None => {
                let path = format!("/v2/{repository}/manifests/{digest}");
                let reply = self
                    .inner
                    .fetch(&registry, repository, &target, Kind::ManifestGet, &path)
                    .await?;
                let reply = self.inner.check(reply, &registry, repository, &target)?;
                verify(&reply, Some(digest), &registry, &target)?;
                let served_type = content_type(&reply.headers);
                if let Some(cache) = &self.inner.cache {
                    cache
                        .put(
                            Bucket::Manifests,
                            digest,
                            &reply.body,
                            served_type.as_deref(),
                        )
                        .await;
                }
                (reply.body, served_type)
            }
        };
        let (media_type, kind) = manifest::parse_manifest(&bytes, served_type.as_deref())
            .map_err(|detail| protocol(&registry, &target, None, detail))?;
        Ok(Manifest {
            digest: digest.clone(),
            media_type,
            bytes,
            kind,
        })
    }

    /// The platforms of the index `digest` (os/architecture/variant -> digest); empty for
    /// a single-platform manifest.
    pub async fn platforms(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<Vec<PlatformDigest>, RegistryError> {
        let manifest = self.manifest(reference, digest).await?;
        Ok(manifest::platforms(&manifest.kind))
    }

    /// The image configuration (labels, platform, layer diff IDs) of a single-platform
    /// `manifest` from `reference`'s repository, verified and cacheable.
    pub async fn config(
        &self,
        reference: &Reference,
        manifest: &Manifest,
    ) -> Result<ImageConfig, RegistryError> {
        let registry = self.inner.registry(reference.domain());
        let repository = reference.path();
        let ManifestKind::Image { config, .. } = &manifest.kind else {
            return Err(protocol(
                &registry,
                &format!("{repository}@{}", manifest.digest),
                None,
                "an index has no image config; pick a platform manifest first".to_owned(),
            ));
        };
        let digest = &config.digest;
        let target = format!("{repository}@{digest}");
        if let Some(entry) = self.inner.cached(Bucket::Blobs, digest, &registry).await {
            return manifest::parse_config(digest.clone(), entry.bytes)
                .map_err(|detail| protocol(&registry, &target, None, detail));
        }
        let path = format!("/v2/{repository}/blobs/{digest}");
        let reply = self
            .inner
            .fetch(&registry, repository, &target, Kind::BlobGet, &path)
            .await?;
        let reply = self.inner.check(reply, &registry, repository, &target)?;
        verify(&reply, Some(digest), &registry, &target)?;
        if let Some(cache) = &self.inner.cache {
            cache.put(Bucket::Blobs, digest, &reply.body, None).await;
        }
        manifest::parse_config(digest.clone(), reply.body)
            .map_err(|detail| protocol(&registry, &target, None, detail))
    }

    /// Requests sent per registry so far, and the lowest rate-limit budget seen.
    pub fn stats(&self) -> Stats {
        self.inner.stats.snapshot()
    }
}

impl Inner {
    /// The shared state for `domain`, created on first use.
    pub(crate) fn registry(&self, domain: &str) -> Arc<RegistryState> {
        let mut registries = self
            .registries
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        registries
            .entry(domain.to_owned())
            .or_insert_with(|| Arc::new(RegistryState::new(domain, &self.config)))
            .clone()
    }

    async fn cached(
        &self,
        bucket: Bucket,
        digest: &Digest,
        registry: &RegistryState,
    ) -> Option<super::cache::Entry> {
        let entry = self.cache.as_ref()?.get(bucket, digest).await?;
        self.stats.cache_hit(&registry.domain);
        Some(entry)
    }

    /// Maps error statuses of an authorized reply to errors (401 was handled already).
    fn check(
        &self,
        reply: Reply,
        registry: &RegistryState,
        repository: &str,
        target: &str,
    ) -> Result<Reply, RegistryError> {
        let status = reply.status;
        if status.is_success() {
            return Ok(reply);
        }
        Err(match status.as_u16() {
            404 => RegistryError::NotFound {
                registry: registry.domain.clone(),
                reference: target.to_owned(),
            },
            403 => RegistryError::Denied {
                registry: registry.domain.clone(),
                repository: repository.to_owned(),
            },
            code => {
                let retried = if super::retry::is_retryable(status) {
                    format!(" (after {} retries)", self.config.max_retries)
                } else {
                    String::new()
                };
                let detail = format!("HTTP {status}{retried}{}", error_text(&reply.body));
                protocol(registry, target, Some(code), detail)
            }
        })
    }
}

/// Request headers for manifests: the full Accept list.
pub(crate) fn manifest_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
    headers
}

/// The `Docker-Content-Digest` the registry claims, if any; a malformed one is an error.
fn claimed_digest(
    reply: &Reply,
    registry: &RegistryState,
    target: &str,
) -> Result<Option<Digest>, RegistryError> {
    let Some(value) = reply.headers.get("docker-content-digest") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    Digest::from_str(text).map(Some).map_err(|err| {
        protocol(
            registry,
            target,
            None,
            format!("invalid Docker-Content-Digest {text:?}: {err}"),
        )
    })
}

/// Checks the body against the claimed digest and the digest asked for; returns the
/// verified digest. A mismatch is never returned as a digest.
fn verify(
    reply: &Reply,
    asked: Option<&Digest>,
    registry: &RegistryState,
    target: &str,
) -> Result<Digest, RegistryError> {
    let actual = sha256(&reply.body);
    let claimed = claimed_digest(reply, registry, target)?;
    for expected in [claimed.as_ref(), asked].into_iter().flatten() {
        if *expected != actual {
            return Err(RegistryError::DigestMismatch {
                registry: registry.domain.clone(),
                target: target.to_owned(),
                expected: expected.clone(),
                actual,
            });
        }
    }
    Ok(actual)
}

fn content_type(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let media_type = text.split(';').next().unwrap_or(text).trim();
    (!media_type.is_empty()).then(|| media_type.to_owned())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// The registry's own explanation from an error body (`{"errors":[{"message":..}]}`).
fn error_text(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(parsed) => parsed
            .errors
            .first()
            .map(|e| format!(": {} {}", e.code, e.message).trim_end().to_owned())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

pub(crate) fn protocol(
    registry: &RegistryState,
    target: &str,
    status: Option<u16>,
    detail: String,
) -> RegistryError {
    RegistryError::Protocol {
        registry: registry.domain.clone(),
        target: target.to_owned(),
        status,
        detail,
    }
}
