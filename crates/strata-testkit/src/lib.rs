//! Test support for strata (never shipped): starts the real reference registry
//! (Debian's `docker-registry`, the CNCF distribution registry 2.8) on a loopback port,
//! seeds it through the registry HTTP API, and provides the fakes for faults a real
//! registry will not produce on demand. Everything binds and talks to 127.0.0.1 only.
//!
//! # Pieces
//! - [`TestRegistry`]: the registry binary ([`REGISTRY_BINARY`]) as a child process with
//!   its own port, config, tmpfs storage and logs; killed on drop. Auth none, htpasswd
//!   Basic ([`RegistryOptions::basic_auth`]) or Bearer tokens
//!   ([`RegistryOptions::token_auth`]); optional notifications endpoint.
//!   [`TestRegistry::requests`] parses its access log (method, path, status).
//! - [`Seeder`] ([`TestRegistry::seeder`]): pushes blobs and manifests through the API,
//!   checks every returned `Docker-Content-Digest`, mounts blobs across repositories,
//!   moves and deletes tags; [`Seeder::seed_bulk`] with a [`BulkSeed`] plan writes
//!   thousands of tags in seconds.
//! - [`Image`], [`Index`], [`Layer`]: small deterministic images (Docker schema 2 or
//!   OCI, config labels, annotations, amd64/arm64 indexes, [`Image::on_top_of`] a
//!   parent); their digests are known before pushing.
//! - [`manifest_digest`] and [`skopeo_digest`]: independent reads of what a tag
//!   resolves to (all four manifest `Accept` types; skopeo, which the tests require).
//! - [`TokenIssuer`]: the Docker token protocol (`GET /token`, OAuth2 `POST /token`
//!   with the password and refresh-token grants), ES256 JWTs the registry trusts,
//!   request counting, adjustable `expires_in`. The registry allows 60 s of clock skew
//!   past `exp`: to have it reject an expired token use [`TokenIssuer::mint_at`] with
//!   an `issued_at` minutes in the past.
//! - [`FaultProxy`]: forwards to a registry (or answers alone) and injects [`Fault`]s
//!   per method and path: 429 with `Retry-After`, 5xx, wrong or missing
//!   `Docker-Content-Digest`, corrupted bodies, dropped connections, 401 challenges,
//!   delays, canned answers; counts what it saw.
//! - [`TestPostgres`]: a throwaway PostgreSQL server from Debian's `postgresql` package
//!   (`initdb` in a temporary directory, `pg_ctl start` on a loopback port, as the
//!   `postgres` user when running as root), fresh databases on demand
//!   ([`TestPostgres::create_database`]), one shared per test binary
//!   ([`TestPostgres::shared`]); stopped on drop or when the process ends.
//!
//! The token issuer and the proxy run on the tokio runtime that starts them (use
//! `#[tokio::test]`); the registry process does not depend on a runtime. Failures are
//! `anyhow` errors carrying the registry's answer or its log tail. If the registry
//! binary is missing, install Debian's `docker-registry` package (the project's test
//! script does).
//!
//! # Example
//! ```no_run
//! use strata_testkit::{Fault, FaultProxy, Format, Image, Index, TestRegistry};
//!
//! # async fn example() -> anyhow::Result<()> {
//! let registry = TestRegistry::start().await?;
//! let seed = registry.seeder();
//! let base = Image::new("base").source("https://example.com/base");
//! let base_digest = seed.push_image("lib/base", "1.0", &base).await?;
//! let app = Image::on_top_of(&base, "app").base("lib/base:1.0", &base_digest);
//! seed.push_image("team/app", "latest", &app).await?;
//! let multi = seed.push_index("lib/multi", "2", &Index::multi_arch(Format::Oci, "m")).await?;
//! assert_eq!(strata_testkit::manifest_digest(&registry, "lib/multi", "2").await?, multi);
//!
//! // Move a tag, then count what the registry served.
//! seed.push_image("lib/base", "1.0", &Image::new("base-fixed")).await?;
//! let manifest_requests = registry.requests().await.iter().filter(|r| r.is_manifest()).count();
//! # let _ = manifest_requests;
//!
//! // Two rate-limited answers before the registry is reached.
//! let proxy = FaultProxy::start(&registry.url()).await?;
//! proxy.inject(Fault::too_many_requests(1).on_path("/manifests/").times(2));
//! // ... point the code under test at proxy.url() ...
//! # Ok(())
//! # }
//! ```

mod access_log;
pub mod browser;
pub mod build;
mod bulk;
mod check;
pub mod ci;
mod config;
pub mod hierarchy;
mod image;
mod index;
mod jwt;
pub mod packages;
pub mod postgres;
mod proxy;
mod registry;
mod seed;
mod server;
mod tls;
mod token;

pub use access_log::LoggedRequest;
pub use bulk::{BulkSeed, SeededTag};
pub use check::{SKOPEO_BINARY, manifest_digest, skopeo_available, skopeo_digest};
pub use image::{Format, Image, Layer, media_type, sha256_digest};
pub use index::Index;
pub use postgres::TestPostgres;
pub use proxy::{Fault, FaultKind, FaultProxy, ProxiedRequest};
pub use registry::{Auth, REGISTRY_BINARY, RegistryOptions, TestRegistry};
pub use seed::{ClientAuth, Seeder};
pub use tls::TestCa;
pub use token::{Access, TokenIssuer, TokenOptions, TokenRequest};
