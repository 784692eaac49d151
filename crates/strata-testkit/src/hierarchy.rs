//! Test support, hierarchy stage: rebuilding an image "on top of its parent's current
//! layers" through the registry API, as a CI build would — the parent's manifest and
//! config read back, one new layer appended, the base annotations set — and the test
//! builder program's instructions from its environment. Talks only to the loopback
//! registry named in the image reference.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::{Value, json};

use crate::image::{Layer, media_type, sha256_digest};
use crate::seed::Seeder;

/// The annotation (and label) naming the base image.
pub const BASE_NAME: &str = "org.opencontainers.image.base.name";
/// The annotation (and label) holding the base's digest.
pub const BASE_DIGEST: &str = "org.opencontainers.image.base.digest";

/// `host:port/repo:tag` split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub repo: String,
    pub tag: String,
}

impl Target {
    /// Parses a loopback image reference (`127.0.0.1:5000/org/app:1`); anything that does
    /// not name a loopback registry is refused, so a test can never reach elsewhere.
    pub fn parse(text: &str) -> Result<Target> {
        let text = text.split('@').next().unwrap_or(text);
        let Some((host, rest)) = text.split_once('/') else {
            bail!("{text:?} names no registry host");
        };
        let loopback = ["127.0.0.1:", "localhost:", "[::1]:"]
            .iter()
            .any(|p| host.starts_with(p));
        if !loopback {
            bail!("{text:?} is not on a loopback registry");
        }
        let (repo, tag) = match rest.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, tag),
            _ => (rest, "latest"),
        };
        Ok(Target {
            host: host.to_owned(),
            repo: repo.to_owned(),
            tag: tag.to_owned(),
        })
    }

    /// `http://host`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.host)
    }
}

/// What one rebuild produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuilt {
    /// The parent's digest the new image sits on (what its tag pointed at).
    pub base_digest: String,
    /// The new image's manifest digest.
    pub digest: String,
}

/// `(registry host, rest)` of an image name, read as Docker does: `python:3.12` is
/// `docker.io` and `library/python:3.12`.
fn split_host(text: &str) -> (&str, String) {
    match text.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest.to_owned())
        }
        Some(_) => ("docker.io", text.to_owned()),
        None => ("docker.io", format!("library/{text}")),
    }
}

/// The fully qualified name: `python:3.12` -> `docker.io/library/python:3.12`.
pub fn qualified(text: &str) -> String {
    let (host, rest) = split_host(text);
    format!("{host}/{rest}")
}

/// `text` with its registry host replaced by the loopback mirror serving it, from
/// `mirrors` as `registry=host,...` (`docker.io=127.0.0.1:5000`); unchanged when the
/// host has no mirror. So a workspace whose images live on Docker Hub can be rebuilt on
/// the loopback registry that stands in for it.
pub fn through_mirror(text: &str, mirrors: &str) -> String {
    let (host, rest) = split_host(text);
    mirrors
        .split(',')
        .filter_map(|entry| entry.trim().split_once('='))
        .find(|(registry, _)| registry.trim() == host)
        .map_or_else(
            || text.to_owned(),
            |(_, mirror)| format!("{}/{rest}", mirror.trim()),
        )
}

/// Rebuilds `child` on `base`'s current image: the base tag is read now, its layers
/// become the new image's first layers, one layer derived from `seed` is added, and the
/// base annotations (manifest annotations for OCI, config labels always) name the base.
/// The child keeps its current manifest format (Docker when it has none yet).
pub async fn rebuild_on_current(
    seeder: &Seeder,
    child: &Target,
    base: &Target,
    seed: &str,
) -> Result<Rebuilt> {
    let base_name = format!("{}/{}:{}", base.host, base.repo, base.tag);
    rebuild_on_current_as(seeder, child, base, &base_name, seed).await
}

/// [`rebuild_on_current`], with the base annotation naming the base as `base_name` (the
/// name people use when `base` is read through a mirror).
pub async fn rebuild_on_current_as(
    seeder: &Seeder,
    child: &Target,
    base: &Target,
    base_name: &str,
    seed: &str,
) -> Result<Rebuilt> {
    rebuild_on(seeder, child, base, base_name, "linux/amd64", seed).await
}

/// Rebuilds `child` on the image `base` names: its `tag` is a tag or a digest
/// (`sha256:…`), read as the registry has it now. For a multi-platform base, the
/// manifest of `platform` (`os/arch[/variant]`) is built on; the base digest recorded is
/// what `base` resolved to.
pub async fn rebuild_on(
    seeder: &Seeder,
    child: &Target,
    base: &Target,
    base_name: &str,
    platform: &str,
    seed: &str,
) -> Result<Rebuilt> {
    let (mut base_type, mut base_bytes) = seeder
        .get_manifest(&base.repo, &base.tag)
        .await
        .with_context(|| format!("reading the base {}:{}", base.repo, base.tag))?;
    let base_digest = sha256_digest(&base_bytes);
    let mut base_manifest: Value = serde_json::from_slice(&base_bytes).context("base manifest")?;
    if let Some(entries) = base_manifest.get("manifests").and_then(Value::as_array) {
        let wanted: Vec<&str> = platform.split('/').collect();
        let chosen = entries
            .iter()
            .find(|m| {
                let p = &m["platform"];
                p["os"] == wanted[0]
                    && wanted.get(1).is_none_or(|a| p["architecture"] == *a)
                    && wanted.get(2).is_none_or(|v| p["variant"] == *v)
            })
            .and_then(|m| m["digest"].as_str())
            .with_context(|| format!("{}:{} has no {platform} image", base.repo, base.tag))?
            .to_owned();
        (base_type, base_bytes) = seeder.get_manifest(&base.repo, &chosen).await?;
        base_manifest = serde_json::from_slice(&base_bytes).context("base manifest")?;
    }
    if !base_type.contains("manifest") || base_manifest.get("config").is_none() {
        bail!(
            "{}:{} is not an image manifest ({base_type})",
            base.repo,
            base.tag
        );
    }
    let config_digest = base_manifest["config"]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let config_bytes = fetch_blob(seeder, &base.repo, &config_digest).await?;
    let mut config: Value = serde_json::from_slice(&config_bytes).context("base config")?;
    let oci = match seeder.get_manifest(&child.repo, &child.tag).await {
        Ok((kind, _)) => kind.starts_with(media_type::OCI_MANIFEST),
        Err(_) => false,
    };
    let base_name = base_name.to_owned();
    let layer = Layer::from_seed(seed);
    // The child's config: the parent's, plus one diff ID and the base labels.
    if let Some(ids) = config["rootfs"]["diff_ids"].as_array_mut() {
        ids.push(Value::String(layer.diff_id.clone()));
    }
    let labels = &mut config["config"]["Labels"];
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[BASE_NAME] = Value::String(base_name.clone());
    labels[BASE_DIGEST] = Value::String(base_digest.clone());
    let config_bytes = serde_json::to_vec(&config)?;
    // Parent layers are mounted from the parent's repository: no bytes move.
    let mut layers: Vec<Value> = base_manifest["layers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for parent_layer in &layers {
        let digest = parent_layer["digest"].as_str().unwrap_or_default();
        mount(seeder, &child.repo, digest, &base.repo).await?;
    }
    seeder.push_blob(&child.repo, &layer.bytes).await?;
    seeder.push_blob(&child.repo, &config_bytes).await?;
    let (manifest_type, config_type, layer_type) = if oci {
        (
            media_type::OCI_MANIFEST,
            media_type::OCI_CONFIG,
            media_type::OCI_LAYER,
        )
    } else {
        (
            media_type::DOCKER_MANIFEST,
            media_type::DOCKER_CONFIG,
            media_type::DOCKER_LAYER,
        )
    };
    for parent_layer in &mut layers {
        parent_layer["mediaType"] = Value::String(layer_type.to_owned());
    }
    layers
        .push(json!({"mediaType": layer_type, "size": layer.bytes.len(), "digest": layer.digest}));
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {"mediaType": config_type, "size": config_bytes.len(), "digest": sha256_digest(&config_bytes)},
        "layers": layers,
    });
    if oci {
        let annotations: BTreeMap<&str, &str> = [
            (BASE_NAME, base_name.as_str()),
            (BASE_DIGEST, base_digest.as_str()),
        ]
        .into();
        manifest["annotations"] = json!(annotations);
    }
    let bytes = serde_json::to_vec(&manifest)?;
    let digest = seeder
        .push_manifest(&child.repo, &child.tag, manifest_type, &bytes)
        .await?;
    Ok(Rebuilt {
        base_digest,
        digest,
    })
}

/// The base digest an image records (its manifest's base annotation, else its config's
/// label): what it was built on. `None` when it records none.
pub async fn recorded_base(seeder: &Seeder, repo: &str, reference: &str) -> Result<Option<String>> {
    let (_, bytes) = seeder.get_manifest(repo, reference).await?;
    let manifest: Value = serde_json::from_slice(&bytes).context("manifest")?;
    if let Some(digest) = manifest["annotations"][BASE_DIGEST].as_str() {
        return Ok(Some(digest.to_owned()));
    }
    let Some(config) = manifest["config"]["digest"].as_str() else {
        return Ok(None);
    };
    let config: Value = serde_json::from_slice(&fetch_blob(seeder, repo, config).await?)?;
    Ok(config["config"]["Labels"][BASE_DIGEST]
        .as_str()
        .map(str::to_owned))
}

async fn fetch_blob(seeder: &Seeder, repo: &str, digest: &str) -> Result<Vec<u8>> {
    let url = format!("/v2/{repo}/blobs/{digest}");
    let resp = seeder.request(Method::GET, &url, &[repo]).send().await?;
    if !resp.status().is_success() {
        bail!("getting blob {repo}@{digest}: {}", resp.status());
    }
    Ok(resp.bytes().await?.to_vec())
}

async fn mount(seeder: &Seeder, repo: &str, digest: &str, from: &str) -> Result<()> {
    let url = format!("/v2/{repo}/blobs/uploads/?mount={digest}&from={from}");
    let resp = seeder
        .request(Method::POST, &url, &[repo, from])
        .send()
        .await?;
    if resp.status() != reqwest::StatusCode::CREATED {
        bail!(
            "mounting {digest} from {from} into {repo}: {}",
            resp.status()
        );
    }
    Ok(())
}

/// Milliseconds since the epoch (the builder log's clock).
pub fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
}

/// Whether `image` (a full reference) matches one of the comma-separated `patterns`:
/// `*`, or a substring of the reference (`org/vumi`, `junebug:`).
pub fn selected(patterns: &str, image: &str) -> bool {
    patterns
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .any(|p| p == "*" || image.contains(p))
}

/// The sleep asked for `image` by `pattern=ms,...` (first match wins).
pub fn sleep_for(spec: &str, image: &str) -> Option<Duration> {
    spec.split(',').find_map(|entry| {
        let (pattern, ms) = entry.trim().rsplit_once('=')?;
        let ms: u64 = ms.trim().parse().ok()?;
        selected(pattern, image).then(|| Duration::from_millis(ms))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_loopback_only() {
        let t = Target::parse("127.0.0.1:5000/org/app:1").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.repo.as_str(), t.tag.as_str()), ("org/app", "1"));
        assert_eq!(t.base_url(), "http://127.0.0.1:5000");
        let t = Target::parse("localhost:80/app").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.tag, "latest");
        assert!(Target::parse("docker.io/library/debian:12").is_err());
        assert!(Target::parse("debian").is_err());
    }

    #[test]
    fn mirrored_hosts_are_replaced() {
        let mirrors = "docker.io=127.0.0.1:5000, ghcr.io=127.0.0.1:6000";
        assert_eq!(
            through_mirror("docker.io/library/python:3.12-slim", mirrors),
            "127.0.0.1:5000/library/python:3.12-slim"
        );
        assert_eq!(
            through_mirror("ghcr.io/acme/app:1", mirrors),
            "127.0.0.1:6000/acme/app:1"
        );
        assert_eq!(
            through_mirror("quay.io/acme/app:1", mirrors),
            "quay.io/acme/app:1"
        );
        assert_eq!(
            through_mirror("acme/app:1", mirrors),
            "127.0.0.1:5000/acme/app:1"
        );
        assert_eq!(
            through_mirror("debian:12", mirrors),
            "127.0.0.1:5000/library/debian:12"
        );
        assert_eq!(through_mirror("debian:12", "ghcr.io=h:1"), "debian:12");
        assert_eq!(qualified("debian:12"), "docker.io/library/debian:12");
        assert_eq!(qualified("acme/app:1"), "docker.io/acme/app:1");
        assert_eq!(qualified("localhost:5000/app:1"), "localhost:5000/app:1");
        assert_eq!(through_mirror("docker.io/x:1", ""), "docker.io/x:1");
    }

    #[test]
    fn selection_and_sleeps() {
        assert!(selected("*", "x"));
        assert!(selected("a, org/vumi", "127.0.0.1:1/org/vumi:1"));
        assert!(!selected("", "x"));
        assert_eq!(
            sleep_for("vumi=50,*=5", "h/org/vumi:1"),
            Some(Duration::from_millis(50))
        );
        assert_eq!(
            sleep_for("vumi=50,*=5", "h/other:1"),
            Some(Duration::from_millis(5))
        );
        assert_eq!(sleep_for("", "x"), None);
    }
}
