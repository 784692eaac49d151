//! Test support, checking stage: independent ways to read the digest a tag resolves
//! to (our own GET with all four `Accept` types, and skopeo); reads only. The test command
//! (`scripts/test`, through `scripts/install-test-deps`) installs skopeo, so a missing
//! skopeo is a failure of the test that needs it, never a silent skip.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::image::sha256_digest;
use crate::registry::TestRegistry;

/// Where Debian's `skopeo` package installs skopeo.
pub const SKOPEO_BINARY: &str = "/usr/bin/skopeo";

/// sha256 of the raw manifest bytes `registry` serves for `repo:reference`, fetched with
/// all four manifest `Accept` types (authenticated as the registry's seeder).
pub async fn manifest_digest(
    registry: &TestRegistry,
    repo: &str,
    reference: &str,
) -> Result<String> {
    registry.seeder().manifest_digest(repo, reference).await
}

/// True when skopeo is installed.
pub fn skopeo_available() -> bool {
    Path::new(SKOPEO_BINARY).exists()
}

/// The digest `skopeo inspect --raw` sees for `repo:reference`. An error when skopeo is not
/// installed: the tests that cross-check with it must not pass without it.
pub async fn skopeo_digest(registry: &TestRegistry, repo: &str, reference: &str) -> Result<String> {
    if !skopeo_available() {
        bail!(
            "skopeo is not installed at {SKOPEO_BINARY}: run scripts/install-test-deps (scripts/test does)"
        );
    }
    let sep = if reference.starts_with("sha256:") {
        '@'
    } else {
        ':'
    };
    let image = format!("docker://{}/{repo}{sep}{reference}", registry.host());
    let mut cmd = tokio::process::Command::new(SKOPEO_BINARY);
    cmd.args(["inspect", "--raw", "--tls-verify=false"]);
    match registry.credentials() {
        Some((user, password)) => cmd.arg(format!("--creds={user}:{password}")),
        None => cmd.arg("--no-creds"),
    };
    // skopeo reads its own REGISTRY_AUTH_FILE; keep the caller's out.
    cmd.arg(&image)
        .env_remove("REGISTRY_AUTH_FILE")
        .kill_on_drop(true);
    let output = cmd.output().await.context("running skopeo")?;
    if !output.status.success() {
        bail!(
            "skopeo inspect {image} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(sha256_digest(&output.stdout))
}
