//! resolve stage: the registry client. Turns image tags into the digests registries
//! serve today (OCI distribution API over HTTP), fetches manifests and image configs by
//! digest, and verifies every byte it reads. It never decides what to do with a digest
//! and never caches a tag lookup across runs.
//!
//! One [`RegistryClient`] (cheap to clone) serves every registry:
//! - [`RegistryClient::resolve`] / [`RegistryClient::resolve_all`]: tag -> top-level
//!   digest with one `HEAD` per unique tag (a `GET` plus sha256 when the registry sends
//!   no `Docker-Content-Digest`);
//! - [`RegistryClient::manifest`], [`RegistryClient::platforms`],
//!   [`RegistryClient::config`]: content by digest, verified, optionally cached on disk;
//! - [`RegistryClient::blob_file`]: layer blobs streamed to an on-disk store by digest,
//!   verified while they stream, fetched once;
//! - [`RegistryClient::stats`]: requests sent per registry and the lowest rate-limit
//!   budget seen.
//!
//! Authentication follows Docker: one `GET /v2/` per registry learns the challenge;
//! Bearer tokens come from the challenge's realm (anonymously, with a password, or with
//! an identity token through the OAuth2 refresh grant) and are cached per (registry,
//! scope); Basic challenges get the configured password. See [`Credentials`] for where
//! secrets come from. Call [`install_crypto_provider`] once at start-up (the client also
//! does, idempotently).

mod auth;
mod blob;
mod blob_store;
mod cache;
mod challenge;
mod client;
mod content;
mod credentials;
mod endpoint;
mod error;
mod helper;
mod manifest;
mod realm;
mod retry;
mod stats;
mod token;
mod transport;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use blob::BlobFile;
pub use client::{RegistryClient, Resolved, TagKey};
pub use credentials::{Credential, Credentials};
pub use error::RegistryError;
pub use manifest::{
    DOCKER_LIST, DOCKER_MANIFEST, Descriptor, ImageConfig, Manifest, ManifestKind, OCI_INDEX,
    OCI_MANIFEST, Platform, PlatformDigest,
};
pub use retry::RateLimit;
pub use stats::{RegistryStats, Stats};

/// Installs aws-lc-rs as the process-wide rustls crypto provider (the only one built in).
/// Idempotent: later calls, or a provider installed by someone else first, are fine.
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// How the client behaves. `Default` gives production settings with no credentials;
/// the binary fills `credentials` from [`Credentials::from_environment`].
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Registries (`host` or `host:port`) spoken to over plain HTTP. Loopback registries
    /// (`localhost`, `127.0.0.0/8`, `::1`) always are.
    pub insecure: Vec<String>,
    /// An extra CA certificate bundle (PEM) trusted in addition to the system roots.
    pub ca_file: Option<PathBuf>,
    /// Registries served from a mirror: registry as written in normalised references
    /// (`docker.io`) -> the `host[:port]` asked instead, as Docker's `registry-mirrors`
    /// (or `scheme://host[:port]`, when the scheme is to decide TLS).
    /// References and the digests written are unchanged; the mirror's own credentials
    /// are used, never the origin's, and there is no fallback to the origin.
    pub mirrors: BTreeMap<String, String>,
    /// Requests in flight at once per registry (default 16).
    pub max_in_flight: usize,
    /// Retries after connection failures and 5xx answers (default 3).
    pub max_retries: u32,
    /// The first retry's backoff; it doubles each retry, plus jitter (default 250 ms).
    pub retry_base: Duration,
    /// The longest one request may spend waiting as 429 `Retry-After`s ask (default 60 s);
    /// a registry asking for more gets a [`RegistryError::RateLimited`].
    pub max_wait: Duration,
    /// Connection set-up timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Whole-request timeout, body included (default 30 s).
    pub request_timeout: Duration,
    /// Where manifests and blobs fetched by digest are kept across runs (never tags).
    pub cache_dir: Option<PathBuf>,
    /// Where credentials come from.
    pub credentials: Credentials,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            insecure: Vec::new(),
            ca_file: None,
            mirrors: BTreeMap::new(),
            max_in_flight: 16,
            max_retries: 3,
            retry_base: Duration::from_millis(250),
            max_wait: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            cache_dir: None,
            credentials: Credentials::none(),
            user_agent: concat!("strata/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}
