//! resolve stage: layer blobs by digest, streamed from the registry to the on-disk blob
//! store while being hashed — verified against the digest and the size the manifest
//! states before they are kept, never held whole in memory. A blob already in the store
//! is not fetched again (readers re-verify it as they stream it). Authentication is the
//! client's; a dropped connection is retried from the start within the retry budget.

use std::io::Write as _;
use std::path::PathBuf;

use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use sha2::{Digest as _, Sha256};
use strata_core::reference::{Digest, Reference};

use super::RegistryError;
use super::auth::RegistryState;
use super::blob_store::BlobStore;
use super::client::RegistryClient;
use super::content::protocol;
use super::error::chain;
use super::retry::{backoff, is_retryable};
use super::stats::Kind;

/// A layer blob on disk: where, and whether it had to be fetched.
#[derive(Debug, Clone)]
pub struct BlobFile {
    pub path: PathBuf,
    /// Fetched from the registry in this call (else found in the store).
    pub fetched: bool,
}

impl RegistryClient {
    /// The blob `digest` of `reference`'s repository as a file in the blob store
    /// (`<cache>/layers`, else a per-process temp directory), fetched when missing.
    /// `size`: what the manifest states; a blob of another size is refused.
    pub async fn blob_file(
        &self,
        reference: &Reference,
        digest: &Digest,
        size: u64,
    ) -> Result<BlobFile, RegistryError> {
        let store = self.inner.blob_store();
        let registry = self.inner.registry(reference.domain());
        if let Some(path) = store.get(digest, Some(size)) {
            self.inner.stats.cache_hit(&registry.domain);
            return Ok(BlobFile {
                path,
                fetched: false,
            });
        }
        let repository = reference.path();
        let mut attempt = 0u32;
        loop {
            match self
                .inner
                .stream_blob(&registry, repository, digest, size, store, attempt > 0)
                .await
            {
                Ok(path) => {
                    return Ok(BlobFile {
                        path,
                        fetched: true,
                    });
                }
                // A dropped connection or a 5xx: the whole blob again (the store never
                // keeps a partial one), within the retry budget.
                Err(Retry::Again(_)) if attempt < self.inner.config.max_retries => {
                    tokio::time::sleep(backoff(attempt, self.inner.config.retry_base)).await;
                    attempt += 1;
                }
                Err(Retry::Again(message)) => {
                    return Err(RegistryError::Transport {
                        registry: registry.shown.clone(),
                        url: format!("{}/v2/{repository}/blobs/{digest}", registry.base),
                        message: format!("{message} (after {} attempts)", attempt + 1),
                    });
                }
                Err(Retry::Fail(err)) => return Err(err),
            }
        }
    }

    /// Removes a stored blob that failed its read-time verification.
    pub fn forget_blob(&self, digest: &Digest) {
        self.inner.blob_store().remove(digest);
    }
}

enum Retry {
    /// A transport failure or 5xx: worth another try.
    Again(String),
    Fail(RegistryError),
}

impl From<RegistryError> for Retry {
    fn from(err: RegistryError) -> Retry {
        Retry::Fail(err)
    }
}

impl super::client::Inner {
    pub(crate) fn blob_store(&self) -> &BlobStore {
        self.blobs.get_or_init(|| {
            let root = match &self.config.cache_dir {
                Some(dir) => dir.join("layers"),
                None => std::env::temp_dir().join(format!("strata-layers-{}", std::process::id())),
            };
            BlobStore::new(root)
        })
    }

    async fn stream_blob(
        &self,
        registry: &RegistryState,
        repository: &str,
        digest: &Digest,
        size: u64,
        store: &BlobStore,
        repeat: bool,
    ) -> Result<PathBuf, Retry> {
        let target = format!("{repository}@{digest}");
        let url = format!("{}/v2/{repository}/blobs/{digest}", registry.base);
        let mut auth = self.pull_authorization(registry, repository).await?;
        let _permit = self.permit(registry, &target).await?;
        let mut refreshed = false;
        let mut response = loop {
            self.stats.sent(
                &registry.domain,
                registry.mirror.as_deref(),
                Kind::BlobGet,
                repeat || refreshed,
            );
            let mut request = self.transport.http.get(&url);
            // A blob may be far larger than the whole-request timeout allows for small
            // answers: the connect timeout still applies, and a stalled body is caught
            // by the read timeout below.
            request = request.timeout(std::time::Duration::from_secs(3600));
            if let Some((header, _)) = &auth {
                request = request.header(AUTHORIZATION, header.clone());
            }
            let response = request
                .send()
                .await
                .map_err(|err| Retry::Again(chain(&err.without_url())))?;
            if response.status() == StatusCode::UNAUTHORIZED && !refreshed {
                if let Some((_, Some(token))) = &auth {
                    self.reject_pull_token(registry, repository, token).await;
                }
                auth = self.pull_authorization(registry, repository).await?;
                refreshed = true;
                continue;
            }
            break response;
        };
        let status = response.status();
        if is_retryable(status) {
            return Err(Retry::Again(format!("HTTP {status}")));
        }
        if status == StatusCode::NOT_FOUND {
            return Err(Retry::Fail(RegistryError::NotFound {
                registry: registry.shown.clone(),
                reference: target,
            }));
        }
        if !status.is_success() {
            let detail = format!("HTTP {status} for a layer blob");
            return Err(Retry::Fail(protocol(
                registry,
                &target,
                Some(status.as_u16()),
                detail,
            )));
        }
        let temp = store.temp(digest).map_err(|err| {
            Retry::Fail(protocol(
                registry,
                &target,
                None,
                format!("cannot write the blob store: {err}"),
            ))
        })?;
        let written = async {
            let mut file = std::fs::File::create(&temp).map_err(|err| {
                Retry::Fail(protocol(
                    registry,
                    &target,
                    None,
                    format!("cannot write {}: {err}", temp.display()),
                ))
            })?;
            let mut hasher = Sha256::new();
            let mut received = 0u64;
            loop {
                let chunk = tokio::time::timeout(self.config.request_timeout, response.chunk())
                    .await
                    .map_err(|_| Retry::Again("the blob stopped arriving".to_owned()))?
                    .map_err(|err| Retry::Again(chain(&err.without_url())))?;
                let Some(chunk) = chunk else { break };
                received += chunk.len() as u64;
                if received > size {
                    let detail =
                        format!("blob is larger than the {size} bytes the manifest states");
                    return Err(Retry::Fail(protocol(registry, &target, None, detail)));
                }
                hasher.update(&chunk);
                file.write_all(&chunk).map_err(|err| {
                    Retry::Fail(protocol(
                        registry,
                        &target,
                        None,
                        format!("cannot write {}: {err}", temp.display()),
                    ))
                })?;
            }
            if received < size {
                return Err(Retry::Again(format!(
                    "blob ended after {received} of the {size} bytes the manifest states"
                )));
            }
            let actual: Digest = format!("sha256:{}", hex::encode(hasher.finalize()))
                .parse()
                .map_err(|_| {
                    Retry::Fail(protocol(
                        registry,
                        &target,
                        None,
                        "unusable digest".to_owned(),
                    ))
                })?;
            if actual != *digest {
                return Err(Retry::Fail(RegistryError::DigestMismatch {
                    registry: registry.shown.clone(),
                    target: target.clone(),
                    expected: digest.clone(),
                    actual,
                }));
            }
            Ok(())
        }
        .await;
        if let Err(err) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(err);
        }
        store.commit(&temp, digest).map_err(|err| {
            Retry::Fail(protocol(
                registry,
                &target,
                None,
                format!("cannot store the blob: {err}"),
            ))
        })
    }
}
