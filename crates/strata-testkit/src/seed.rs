//! Test support, seeding stage: pushes blobs and manifests through the registry HTTP
//! API (no docker, no skopeo) and reads manifests back; talks only to the base URL it
//! was given.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use reqwest::{Method, RequestBuilder, Response, StatusCode};

use crate::image::{Image, media_type, sha256_digest};
use crate::index::Index;
use crate::token::{Access, TokenIssuer};

/// How a [`Seeder`] authenticates.
#[derive(Debug, Clone, Default)]
pub enum ClientAuth {
    /// No `Authorization` header.
    #[default]
    None,
    /// HTTP Basic with `(user, password)`.
    Basic(String, String),
    /// Bearer tokens minted directly by this issuer (full access to the repositories used).
    Token(TokenIssuer),
}

/// A registry API client for seeding and checking; cheap to clone.
///
/// It remembers which repositories received which blobs, so pushing an image whose
/// layers went to another repository before becomes a cross-repository mount (one
/// request), and pushing them to the same repository again costs nothing.
#[derive(Debug, Clone)]
pub struct Seeder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base: String,
    client: reqwest::Client,
    auth: ClientAuth,
    /// digest -> repositories known to hold that blob.
    known: Mutex<HashMap<String, HashSet<String>>>,
}

impl Seeder {
    /// An anonymous seeder for `base_url` (e.g. `http://127.0.0.1:5000`).
    pub fn new(base_url: &str) -> Result<Seeder> {
        Self::with_auth(base_url, ClientAuth::None)
    }

    /// A seeder for `base_url` using `auth`.
    pub fn with_auth(base_url: &str, auth: ClientAuth) -> Result<Seeder> {
        Self::with_auth_and_ca(base_url, auth, None)
    }

    /// A seeder for `base_url` using `auth`, trusting `ca_pem` (for a TLS registry).
    pub fn with_auth_and_ca(
        base_url: &str,
        auth: ClientAuth,
        ca_pem: Option<&str>,
    ) -> Result<Seeder> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .timeout(std::time::Duration::from_secs(60));
        if let Some(pem) = ca_pem {
            let ca = reqwest::Certificate::from_pem(pem.as_bytes()).context("reading the CA")?;
            builder = builder.add_root_certificate(ca);
        }
        let client = builder
            .build()
            .context("building the seeding HTTP client")?;
        Ok(Seeder {
            inner: Arc::new(Inner {
                base: base_url.trim_end_matches('/').to_owned(),
                client,
                auth,
                known: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The base URL this seeder talks to.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// A request to `url` (absolute, or a path under the base URL) authorised for `repos`.
    pub fn request(&self, method: Method, url: &str, repos: &[&str]) -> RequestBuilder {
        let url = if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!("{}{url}", self.inner.base)
        };
        let builder = self.inner.client.request(method, url);
        match &self.inner.auth {
            ClientAuth::None => builder,
            ClientAuth::Basic(user, password) => builder.basic_auth(user, Some(password)),
            ClientAuth::Token(issuer) => {
                let access: Vec<Access> = repos
                    .iter()
                    .map(|r| Access::repository(r, &["pull", "push", "delete"]))
                    .collect();
                builder.bearer_auth(issuer.mint("strata-testkit-seeder", &access))
            }
        }
    }

    /// Push a blob unless `repo` already has it; returns its digest.
    pub async fn push_blob(&self, repo: &str, bytes: &[u8]) -> Result<String> {
        let digest = sha256_digest(bytes);
        let elsewhere = {
            let known = self.known();
            match known.get(&digest) {
                Some(repos) if repos.contains(repo) => return Ok(digest),
                Some(repos) => repos.iter().next().cloned(),
                None => None,
            }
        };
        let location = match elsewhere {
            Some(from) => match self.mount_blob(repo, &digest, &from).await? {
                Mount::Mounted => return Ok(digest),
                Mount::Upload(location) => location,
            },
            None => {
                let head = self
                    .request(Method::HEAD, &format!("/v2/{repo}/blobs/{digest}"), &[repo])
                    .send()
                    .await?;
                if head.status() == StatusCode::OK {
                    self.remember(repo, &digest);
                    return Ok(digest);
                }
                self.start_upload(repo).await?
            }
        };
        self.finish_upload(repo, &location, &digest, bytes).await?;
        Ok(digest)
    }

    /// `POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<from>`.
    async fn mount_blob(&self, repo: &str, digest: &str, from: &str) -> Result<Mount> {
        let url = format!("/v2/{repo}/blobs/uploads/?mount={digest}&from={from}");
        let resp = self
            .request(Method::POST, &url, &[repo, from])
            .send()
            .await?;
        match resp.status() {
            StatusCode::CREATED => {
                self.remember(repo, digest);
                Ok(Mount::Mounted)
            }
            StatusCode::ACCEPTED => Ok(Mount::Upload(location(&resp)?)),
            _ => Err(failure("mounting a blob", resp).await),
        }
    }

    async fn start_upload(&self, repo: &str) -> Result<String> {
        let url = format!("/v2/{repo}/blobs/uploads/");
        let resp = self.request(Method::POST, &url, &[repo]).send().await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(failure("starting a blob upload", resp).await);
        }
        location(&resp)
    }

    async fn finish_upload(
        &self,
        repo: &str,
        location: &str,
        digest: &str,
        bytes: &[u8],
    ) -> Result<()> {
        let sep = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{sep}digest={digest}");
        let resp = self
            .request(Method::PUT, &url, &[repo])
            .header("Content-Type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .await?;
        if resp.status() != StatusCode::CREATED {
            return Err(failure("finishing a blob upload", resp).await);
        }
        check_digest_header(&resp, digest)?;
        self.remember(repo, digest);
        Ok(())
    }

    /// `PUT /v2/<repo>/manifests/<reference>` (a tag or a digest); returns the digest,
    /// checked against the registry's `Docker-Content-Digest`.
    pub async fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String> {
        let digest = sha256_digest(bytes);
        let resp = self
            .request(
                Method::PUT,
                &format!("/v2/{repo}/manifests/{reference}"),
                &[repo],
            )
            .header("Content-Type", media_type)
            .body(bytes.to_vec())
            .send()
            .await?;
        if resp.status() != StatusCode::CREATED {
            let what = format!("pushing manifest {repo}:{reference}");
            return Err(failure(&what, resp).await);
        }
        check_digest_header(&resp, &digest)?;
        Ok(digest)
    }

    /// Push an image's layers and config (skipping what `repo` has) and its manifest
    /// under `tag`; pushing to an existing tag moves it. Returns the manifest digest.
    pub async fn push_image(&self, repo: &str, tag: &str, image: &Image) -> Result<String> {
        self.push_image_blobs(repo, image).await?;
        self.push_manifest(repo, tag, image.media_type(), &image.manifest_bytes())
            .await
    }

    /// Push an image by digest only (no tag); returns the digest.
    pub async fn push_image_untagged(&self, repo: &str, image: &Image) -> Result<String> {
        self.push_image_blobs(repo, image).await?;
        let bytes = image.manifest_bytes();
        let digest = sha256_digest(&bytes);
        self.push_manifest(repo, &digest, image.media_type(), &bytes)
            .await
    }

    async fn push_image_blobs(&self, repo: &str, image: &Image) -> Result<()> {
        for layer in image.layers() {
            self.push_blob(repo, &layer.bytes).await?;
        }
        self.push_blob(repo, &image.config_bytes()).await?;
        Ok(())
    }

    /// Push every platform image by digest, then the manifest list / index under `tag`.
    /// Returns the index digest.
    pub async fn push_index(&self, repo: &str, tag: &str, index: &Index) -> Result<String> {
        for image in index.images() {
            self.push_image_untagged(repo, image).await?;
        }
        self.push_manifest(repo, tag, index.media_type(), &index.manifest_bytes())
            .await
    }

    /// `DELETE /v2/<repo>/manifests/<digest>`: removes the manifest and every tag on it.
    pub async fn delete_manifest(&self, repo: &str, digest: &str) -> Result<()> {
        let url = format!("/v2/{repo}/manifests/{digest}");
        let resp = self.request(Method::DELETE, &url, &[repo]).send().await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(failure("deleting a manifest", resp).await);
        }
        Ok(())
    }

    /// GET the raw manifest with all four `Accept` types: `(content type, bytes)`.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> Result<(String, Vec<u8>)> {
        let resp = self
            .request(
                Method::GET,
                &format!("/v2/{repo}/manifests/{reference}"),
                &[repo],
            )
            .header("Accept", media_type::ACCEPT_ALL)
            .send()
            .await?;
        if resp.status() != StatusCode::OK {
            let what = format!("getting manifest {repo}:{reference}");
            return Err(failure(&what, resp).await);
        }
        let content_type = header(&resp, "content-type").unwrap_or_default();
        Ok((content_type, resp.bytes().await?.to_vec()))
    }

    /// sha256 of the raw manifest bytes served for `repo:reference` (all four `Accept`
    /// types), computed here rather than read from `Docker-Content-Digest`.
    pub async fn manifest_digest(&self, repo: &str, reference: &str) -> Result<String> {
        let (_, bytes) = self.get_manifest(repo, reference).await?;
        Ok(sha256_digest(&bytes))
    }

    /// `GET /v2/<repo>/tags/list` (first page of up to 10,000 tags).
    pub async fn tags(&self, repo: &str) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct TagList {
            tags: Option<Vec<String>>,
        }
        let url = format!("/v2/{repo}/tags/list?n=10000");
        let resp = self.request(Method::GET, &url, &[repo]).send().await?;
        if resp.status() != StatusCode::OK {
            return Err(failure("listing tags", resp).await);
        }
        let list: TagList = resp.json().await?;
        Ok(list.tags.unwrap_or_default())
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<String>>> {
        self.inner.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, repo: &str, digest: &str) {
        self.known()
            .entry(digest.to_owned())
            .or_default()
            .insert(repo.to_owned());
    }
}

enum Mount {
    Mounted,
    Upload(String),
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn location(resp: &Response) -> Result<String> {
    header(resp, "location").context("upload response without a Location header")
}

fn check_digest_header(resp: &Response, expected: &str) -> Result<()> {
    match header(resp, "docker-content-digest") {
        Some(got) if got == expected => Ok(()),
        Some(got) => {
            bail!("registry computed digest {got}, but the pushed bytes hash to {expected}")
        }
        None => bail!("registry answered without a Docker-Content-Digest header"),
    }
}

async fn failure(what: &str, resp: Response) -> anyhow::Error {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    anyhow::anyhow!("{what}: registry answered {status}: {body}")
}
