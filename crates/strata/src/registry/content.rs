//! resolve stage: content by digest (manifests, platform lists, image configs) and the
//! checks on everything a registry serves: bytes must hash to the digest claimed and to
//! the digest asked for, or they are refused. Immutable content may come from the disk
//! cache; nothing fetched by tag is ever stored there.

use std::str::FromStr;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap};
use strata_core::reference::{Digest, Reference};

use super::RegistryError;
use super::auth::RegistryState;
use super::cache::Bucket;
use super::client::{Inner, RegistryClient};
use super::manifest::{self, ImageConfig, Manifest, ManifestKind, PlatformDigest, sha256};
use super::retry::is_retryable;
use super::stats::Kind;
use super::transport::Reply;

impl RegistryClient {
    /// The manifest `digest` in `reference`'s repository, verified to hash to `digest`
    /// (and to the digest the registry claims). Served from the disk cache when present.
    pub async fn manifest(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<Manifest, RegistryError> {
        self.manifest_by_digest(reference, digest, Source::CacheFirst)
            .await
    }

    /// Like [`manifest`](Self::manifest), but always asked of the registry: the disk
    /// cache is written, never read. This is how a tag's digest is verified: a cached
    /// entry proves its bytes are that content, not that this registry serves that digest
    /// in this repository (the cache is shared by every repository and registry).
    pub async fn manifest_from_registry(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<Manifest, RegistryError> {
        self.manifest_by_digest(reference, digest, Source::Registry)
            .await
    }

    async fn manifest_by_digest(
        &self,
        reference: &Reference,
        digest: &Digest,
        source: Source,
    ) -> Result<Manifest, RegistryError> {
        let registry = self.inner.registry(reference.domain());
        let repository = reference.path();
        let target = format!("{repository}@{digest}");
        let path = format!("/v2/{repository}/manifests/{digest}");
        let (bytes, served_type) = self
            .inner
            .by_digest(
                &registry,
                repository,
                digest,
                Kind::ManifestGet,
                &path,
                source,
            )
            .await?;
        let (media_type, kind) = manifest::parse_manifest(&bytes, served_type.as_deref())
            .map_err(|detail| protocol(&registry, &target, None, detail))?;
        Ok(Manifest {
            digest: digest.clone(),
            media_type,
            bytes,
            kind,
        })
    }

    /// Whether the registry still serves manifest `digest` in `reference`'s repository:
    /// one `HEAD` by digest, never answered from the disk cache (the registry may have
    /// deleted what the cache keeps). `Ok(false)` on 404.
    pub async fn manifest_exists(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let registry = self.inner.registry(reference.domain());
        let repository = reference.path();
        let target = format!("{repository}@{digest}");
        let path = format!("/v2/{repository}/manifests/{digest}");
        let reply = self
            .inner
            .fetch(&registry, repository, &target, Kind::ManifestHead, &path)
            .await?;
        match self.inner.check(reply, &registry, repository, &target) {
            Ok(_) => Ok(true),
            Err(RegistryError::NotFound { .. }) => Ok(false),
            Err(err) => Err(err),
        }
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
            let target = format!("{repository}@{}", manifest.digest);
            let detail = "an index has no image config; pick a platform manifest first";
            return Err(protocol(&registry, &target, None, detail.to_owned()));
        };
        let digest = &config.digest;
        let path = format!("/v2/{repository}/blobs/{digest}");
        let (bytes, _) = self
            .inner
            .by_digest(
                &registry,
                repository,
                digest,
                Kind::BlobGet,
                &path,
                Source::CacheFirst,
            )
            .await?;
        manifest::parse_config(digest.clone(), bytes)
            .map_err(|detail| protocol(&registry, &format!("{repository}@{digest}"), None, detail))
    }
}

/// Where content by digest may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The disk cache when it holds the digest (re-hashed on read), else the registry.
    CacheFirst,
    /// The registry, always (the answer is still cached).
    Registry,
}

impl Inner {
    /// Content `digest` from the disk cache (if `source` allows), else fetched, verified
    /// and cached: the bytes and the media type they were served with.
    async fn by_digest(
        &self,
        registry: &RegistryState,
        repository: &str,
        digest: &Digest,
        kind: Kind,
        path: &str,
        source: Source,
    ) -> Result<(Vec<u8>, Option<String>), RegistryError> {
        let bucket = match kind {
            Kind::BlobGet => Bucket::Blobs,
            _ => Bucket::Manifests,
        };
        if source == Source::CacheFirst
            && let Some(cache) = &self.cache
            && let Some(entry) = cache.get(bucket, digest).await
        {
            self.stats.cache_hit(&registry.domain);
            return Ok((entry.bytes, entry.media_type));
        }
        let target = format!("{repository}@{digest}");
        let reply = self
            .fetch(registry, repository, &target, kind, path)
            .await?;
        let reply = self.check(reply, registry, repository, &target)?;
        verify(&reply, Some(digest), registry, &target)?;
        let served_type = content_type(&reply.headers);
        self.keep(bucket, digest, &reply.body, served_type.as_deref())
            .await;
        Ok((reply.body, served_type))
    }

    /// Stores verified content in the disk cache, if there is one.
    pub(crate) async fn keep(
        &self,
        bucket: Bucket,
        digest: &Digest,
        bytes: &[u8],
        media_type: Option<&str>,
    ) {
        if let Some(cache) = &self.cache {
            cache.put(bucket, digest, bytes, media_type).await;
        }
    }

    /// Maps error statuses of an authorized reply to errors (401 was handled already).
    pub(crate) fn check(
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
                registry: registry.shown.clone(),
                reference: target.to_owned(),
            },
            403 => RegistryError::Denied {
                registry: registry.shown.clone(),
                repository: repository.to_owned(),
            },
            code => {
                let retried = if is_retryable(status) {
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

/// The `Docker-Content-Digest` the registry claims, if any; a malformed one is an error.
pub(crate) fn claimed_digest(
    reply: &Reply,
    registry: &RegistryState,
    target: &str,
) -> Result<Option<Digest>, RegistryError> {
    let Some(value) = reply.headers.get("docker-content-digest") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    Digest::from_str(text).map(Some).map_err(|err| {
        let detail = format!("invalid Docker-Content-Digest {text:?}: {err}");
        protocol(registry, target, None, detail)
    })
}

/// Checks the body against the claimed digest and the digest asked for; returns the
/// verified digest. A mismatch is an error: that digest is never returned.
pub(crate) fn verify(
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
                registry: registry.shown.clone(),
                target: target.to_owned(),
                expected: expected.clone(),
                actual,
            });
        }
    }
    Ok(actual)
}

/// The media type of a reply, without parameters.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let media_type = text.split(';').next().unwrap_or(text).trim();
    (!media_type.is_empty()).then(|| media_type.to_owned())
}

pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
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
    serde_json::from_slice::<Errors>(body)
        .ok()
        .and_then(|parsed| parsed.errors.into_iter().next())
        .map(|e| format!(": {} {}", e.code, e.message).trim_end().to_owned())
        .unwrap_or_default()
}

pub(crate) fn protocol(
    registry: &RegistryState,
    target: &str,
    status: Option<u16>,
    detail: String,
) -> RegistryError {
    RegistryError::Protocol {
        registry: registry.shown.clone(),
        target: target.to_owned(),
        status,
        detail,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use reqwest::StatusCode;
    use reqwest::header::HeaderValue;

    use super::*;
    use crate::registry::RegistryConfig;

    fn reply(body: &[u8], claimed: Option<&str>) -> Reply {
        let mut headers = HeaderMap::new();
        if let Some(claimed) = claimed {
            headers.insert(
                "docker-content-digest",
                HeaderValue::from_str(claimed).unwrap(),
            );
        }
        Reply {
            status: StatusCode::OK,
            headers,
            body: body.to_vec(),
        }
    }

    fn registry() -> RegistryState {
        RegistryState::new("registry.test", &RegistryConfig::default())
    }

    #[test]
    fn body_matching_claim_and_request_is_verified() {
        let body = br#"{"schemaVersion":2}"#;
        let digest = sha256(body);
        let ok = verify(
            &reply(body, Some(digest.as_str())),
            Some(&digest),
            &registry(),
            "a@d",
        );
        assert_eq!(ok.unwrap(), digest);
        // No header: the bytes' own hash, checked against the request only.
        assert_eq!(
            verify(&reply(body, None), None, &registry(), "a:1").unwrap(),
            digest
        );
    }

    #[test]
    fn a_wrong_claim_or_altered_body_is_a_mismatch_never_a_digest() {
        let body = br#"{"schemaVersion":2}"#;
        let real = sha256(body);
        let other = sha256(b"other");
        let err = verify(&reply(body, Some(other.as_str())), None, &registry(), "a:1").unwrap_err();
        let RegistryError::DigestMismatch {
            expected, actual, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!((expected, actual), (&other, &real));
        assert!(err.to_string().contains("registry.test"), "{err}");

        // The registry claims what we asked for, but the bytes differ (altered body).
        let err = verify(
            &reply(b"altered", Some(real.as_str())),
            Some(&real),
            &registry(),
            "a@d",
        )
        .unwrap_err();
        assert!(
            matches!(err, RegistryError::DigestMismatch { .. }),
            "{err:?}"
        );

        // Honest header, but not the digest requested.
        let err = verify(
            &reply(body, Some(real.as_str())),
            Some(&other),
            &registry(),
            "a@d",
        )
        .unwrap_err();
        let RegistryError::DigestMismatch { expected, .. } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(expected, &other);
    }

    #[test]
    fn malformed_digest_header_is_a_protocol_error() {
        let err = verify(&reply(b"x", Some("md5:abc")), None, &registry(), "a:1").unwrap_err();
        assert!(matches!(err, RegistryError::Protocol { .. }), "{err:?}");
    }

    #[test]
    fn error_bodies_and_content_types_are_read() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#;
        assert_eq!(error_text(body), ": MANIFEST_UNKNOWN manifest unknown");
        assert_eq!(error_text(b"<html>"), "");
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert_eq!(content_type(&headers).as_deref(), Some("application/json"));
    }
}
