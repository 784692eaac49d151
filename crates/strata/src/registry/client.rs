//! resolve stage: the public client and tag resolution: one `HEAD` per unique tag, in
//! parallel within per-registry limits, never cached across runs. It returns digests;
//! deciding what to do with them is not its job. Content by digest is in `content`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use strata_core::reference::{Digest, Reference};
use tokio::task::JoinSet;

use super::auth::RegistryState;
use super::cache::{Bucket, ContentCache};
use super::content::{claimed_digest, content_length, content_type, verify};
use super::manifest::MANIFEST_ACCEPT;
use super::stats::{Kind, Stats, StatsBook};
use super::token::TokenCache;
use super::transport::{RetryPolicy, Transport};
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
    pub(crate) cache: Option<ContentCache>,
    /// Layer blobs on disk, set up on first use.
    pub(crate) blobs: std::sync::OnceLock<super::blob_store::BlobStore>,
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
                blobs: std::sync::OnceLock::new(),
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
        // A registry that cannot answer HEAD on manifests gets the GET below instead.
        if !matches!(head.status.as_u16(), 400 | 405 | 406 | 501) {
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
        // The content (not the tag) is immutable: keep it for fetches by digest.
        self.inner
            .keep(Bucket::Manifests, &digest, &get.body, media_type.as_deref())
            .await;
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
}

/// Request headers for manifests: the full Accept list.
pub(crate) fn manifest_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
    headers
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn with_ca(path: std::path::PathBuf) -> Result<RegistryClient, RegistryError> {
        RegistryClient::new(RegistryConfig {
            ca_file: Some(path),
            ..RegistryConfig::default()
        })
    }

    #[test]
    fn unusable_ca_files_are_config_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = with_ca(missing).unwrap_err();
        assert!(matches!(err, RegistryError::Config { .. }), "{err:?}");
        assert!(err.to_string().contains("missing.pem"), "{err}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a certificate").unwrap();
        let err = with_ca(garbage).unwrap_err();
        assert!(err.to_string().contains("garbage.pem"), "{err}");
    }

    #[test]
    fn tag_keys_default_to_latest_and_refuse_digest_only_references() {
        let parse = |text: &str| Reference::parse_normalized(text).unwrap();
        let key = TagKey::of(&parse("python")).unwrap();
        assert_eq!(key.to_string(), "docker.io/library/python:latest");
        let key = TagKey::of(&parse("ghcr.io/o/app:1.2@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")).unwrap();
        assert_eq!(
            (key.registry.as_str(), key.tag.as_str()),
            ("ghcr.io", "1.2")
        );
        let digest_only =
            parse("app@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert!(matches!(
            TagKey::of(&digest_only),
            Err(RegistryError::NoTag { .. })
        ));
    }
}
