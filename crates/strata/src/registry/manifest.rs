//! resolve stage: manifest, index and image-config documents, and content verification
//! (sha256 of the exact bytes). Parsing and hashing only; fetching lives in the client.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use strata_core::reference::Digest;

/// OCI image index (multi-platform).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest (one platform).
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker manifest list (multi-platform).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest, schema 2 (one platform).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// The `Accept` header for manifests. All four types, always: the registry picks the
/// digest by what we accept, and only this list yields the real top-level digest.
pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// The sha256 digest of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> Digest {
    let hex = hex::encode(Sha256::digest(bytes));
    let text = format!("sha256:{hex}");
    // A sha256 of anything is a well-formed digest; the parse only builds the type.
    Digest::from_str(&text).unwrap_or_else(|_| unreachable_digest(text))
}

#[cold]
fn unreachable_digest(text: String) -> Digest {
    // Digest::from_str accepting every `sha256:<64 hex>` is part of its contract; if it
    // ever did not, hashing could not report anything meaningful.
    panic!("strata-core rejected a computed sha256 digest: {text}")
}

/// A reference to content: what the manifest points at.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// The media type of the referenced content.
    #[serde(default)]
    pub media_type: String,
    /// The content digest.
    pub digest: Digest,
    /// The content size in bytes.
    #[serde(default)]
    pub size: u64,
    /// The platform, for entries of an index.
    #[serde(default)]
    pub platform: Option<Platform>,
    /// Free-form annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// The platform an index entry is for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    /// e.g. `amd64`, `arm64`.
    pub architecture: String,
    /// e.g. `linux`, `windows`.
    pub os: String,
    /// e.g. `v7` for `arm/v7`.
    #[serde(default)]
    pub variant: Option<String>,
    /// e.g. a Windows build number.
    #[serde(default, rename = "os.version")]
    pub os_version: Option<String>,
}

/// What a manifest document is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestKind {
    /// An OCI index or Docker manifest list: one entry per platform.
    Index {
        /// The entries, in document order.
        manifests: Vec<Descriptor>,
    },
    /// An OCI or Docker image manifest: a config blob and layers.
    Image {
        /// The image configuration blob.
        config: Descriptor,
        /// The layers, base first.
        layers: Vec<Descriptor>,
    },
}

/// A manifest fetched by digest, verified: `bytes` hash to `digest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The verified digest of `bytes`.
    pub digest: Digest,
    /// The media type (from the document, else from the `Content-Type` answered).
    pub media_type: String,
    /// The exact bytes served.
    pub bytes: Vec<u8>,
    /// The parsed document.
    pub kind: ManifestKind,
}

impl Manifest {
    /// The runnable platforms when this is an index; empty for a single-platform image.
    pub fn platforms(&self) -> Vec<PlatformDigest> {
        platforms(&self.kind)
    }
}

/// One platform of a multi-platform image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformDigest {
    /// e.g. `linux`.
    pub os: String,
    /// e.g. `arm64`.
    pub architecture: String,
    /// e.g. `v8`.
    pub variant: Option<String>,
    /// The platform manifest's digest.
    pub digest: Digest,
    /// The platform manifest's media type.
    pub media_type: String,
}

/// The parts of an image configuration later stages use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// The verified digest of the config blob.
    pub digest: Digest,
    /// e.g. `amd64`.
    pub architecture: Option<String>,
    /// e.g. `linux`.
    pub os: Option<String>,
    /// e.g. `v8`.
    pub variant: Option<String>,
    /// When the image was built (RFC 3339 text as stored).
    pub created: Option<String>,
    /// `config.Labels` (OCI annotations such as `org.opencontainers.image.base.name`).
    pub labels: BTreeMap<String, String>,
    /// Uncompressed layer digests (`rootfs.diff_ids`), base first.
    pub diff_ids: Vec<Digest>,
    /// The exact bytes of the config blob.
    pub bytes: Vec<u8>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

/// Parses manifest `bytes`; `content_type` is the fallback when the document does not
/// name its media type (allowed for OCI). `Err` carries a readable reason.
pub(crate) fn parse_manifest(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<(String, ManifestKind), String> {
    let raw: RawManifest = serde_json::from_slice(bytes)
        .map_err(|err| format!("manifest is not valid JSON: {err}"))?;
    let media_type = raw
        .media_type
        .filter(|media_type| !media_type.is_empty())
        .or_else(|| content_type.map(|ct| ct.split(';').next().unwrap_or(ct).trim().to_owned()))
        .unwrap_or_default();
    let kind = match (raw.manifests, raw.config) {
        (Some(manifests), _) => ManifestKind::Index { manifests },
        (None, Some(config)) => ManifestKind::Image {
            config,
            layers: raw.layers.unwrap_or_default(),
        },
        (None, None) => {
            return Err(format!(
                "manifest ({media_type}) has neither `manifests` nor `config`; \
                 schema 1 manifests are not supported"
            ));
        }
    };
    Ok((media_type, kind))
}

/// The runnable platforms of an index; build attestations (which BuildKit stores as
/// `unknown/unknown` entries) are not platforms and are left out.
pub(crate) fn platforms(kind: &ManifestKind) -> Vec<PlatformDigest> {
    let ManifestKind::Index { manifests } = kind else {
        return Vec::new();
    };
    manifests
        .iter()
        .filter(|entry| {
            entry
                .annotations
                .get("vnd.docker.reference.type")
                .is_none_or(|kind| kind != "attestation-manifest")
        })
        .filter_map(|entry| {
            let platform = entry.platform.as_ref()?;
            Some(PlatformDigest {
                os: platform.os.clone(),
                architecture: platform.architecture.clone(),
                variant: platform.variant.clone(),
                digest: entry.digest.clone(),
                media_type: entry.media_type.clone(),
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    config: Option<RawRunConfig>,
    #[serde(default)]
    rootfs: Option<RawRootfs>,
}

#[derive(Deserialize)]
struct RawRunConfig {
    #[serde(default, rename = "Labels")]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawRootfs {
    #[serde(default)]
    diff_ids: Vec<Digest>,
}

/// Parses an image configuration blob already verified to hash to `digest`.
pub(crate) fn parse_config(digest: Digest, bytes: Vec<u8>) -> Result<ImageConfig, String> {
    let raw: RawConfig = serde_json::from_slice(&bytes)
        .map_err(|err| format!("image config is not valid JSON: {err}"))?;
    Ok(ImageConfig {
        digest,
        architecture: raw.architecture,
        os: raw.os,
        variant: raw.variant,
        created: raw.created,
        labels: raw.config.and_then(|c| c.labels).unwrap_or_default(),
        diff_ids: raw.rootfs.map(|r| r.diff_ids).unwrap_or_default(),
        bytes,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn sha256_of_known_bytes() {
        assert_eq!(
            sha256(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_ne!(sha256(b"{}"), sha256(b"{} "));
    }

    #[test]
    fn parses_docker_manifest_list_and_platforms() {
        let doc = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_LIST}","manifests":[
              {{"mediaType":"{DOCKER_MANIFEST}","digest":"{D1}","size":10,
                "platform":{{"architecture":"amd64","os":"linux"}}}},
              {{"mediaType":"{DOCKER_MANIFEST}","digest":"{D2}","size":10,
                "platform":{{"architecture":"arm","os":"linux","variant":"v7"}}}}]}}"#
        );
        let (media_type, kind) = parse_manifest(doc.as_bytes(), None).unwrap();
        assert_eq!(media_type, DOCKER_LIST);
        let platforms = platforms(&kind);
        assert_eq!(platforms.len(), 2);
        assert_eq!(platforms[1].architecture, "arm");
        assert_eq!(platforms[1].variant.as_deref(), Some("v7"));
        assert_eq!(platforms[1].digest.to_string(), D2);
    }

    #[test]
    fn attestations_are_not_platforms() {
        let doc = format!(
            r#"{{"schemaVersion":2,"manifests":[
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":1,
                "platform":{{"architecture":"amd64","os":"linux"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":1,
                "platform":{{"architecture":"unknown","os":"unknown"}},
                "annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}]}}"#
        );
        // No mediaType in the document: the Content-Type answered stands in.
        let (media_type, kind) =
            parse_manifest(doc.as_bytes(), Some(&format!("{OCI_INDEX}; charset=utf-8"))).unwrap();
        assert_eq!(media_type, OCI_INDEX);
        assert_eq!(platforms(&kind).len(), 1);
    }

    #[test]
    fn parses_image_manifest_and_has_no_platforms() {
        let doc = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}",
              "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{D1}","size":2}},
              "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{D2}","size":3}}]}}"#
        );
        let (_, kind) = parse_manifest(doc.as_bytes(), None).unwrap();
        let ManifestKind::Image { config, layers } = &kind else {
            panic!("not an image: {kind:?}");
        };
        assert_eq!(config.digest.to_string(), D1);
        assert_eq!(layers.len(), 1);
        assert!(platforms(&kind).is_empty());
    }

    #[test]
    fn rejects_schema1_and_garbage() {
        assert!(parse_manifest(br#"{"schemaVersion":1,"fsLayers":[]}"#, None).is_err());
        assert!(parse_manifest(b"not json", None).is_err());
        assert!(parse_manifest(br#"{"manifests":[{"digest":"md5:x"}]}"#, None).is_err());
    }

    #[test]
    fn parses_config_labels_and_diff_ids() {
        let doc = format!(
            r#"{{"architecture":"amd64","os":"linux","created":"2026-01-01T00:00:00Z",
              "config":{{"Labels":{{"org.opencontainers.image.base.name":"debian:12"}}}},
              "rootfs":{{"type":"layers","diff_ids":["{D1}"]}}}}"#
        );
        let config = parse_config(sha256(doc.as_bytes()), doc.clone().into_bytes()).unwrap();
        assert_eq!(config.architecture.as_deref(), Some("amd64"));
        assert_eq!(
            config
                .labels
                .get("org.opencontainers.image.base.name")
                .map(String::as_str),
            Some("debian:12")
        );
        assert_eq!(config.diff_ids.len(), 1);
        // Null labels (common in real configs) are just no labels.
        let bare = parse_config(sha256(b"x"), br#"{"config":{"Labels":null}}"#.to_vec()).unwrap();
        assert!(bare.labels.is_empty());
    }
}
