//! Test support, fixture stage: builds small deterministic images (gzip'd tar layers,
//! config blobs, Docker and OCI manifests) as bytes; pure data, no I/O.

use std::collections::BTreeMap;
use std::io::Write as _;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// Media types used by the builders (and the four a client should `Accept`).
pub mod media_type {
    /// Docker image manifest, schema 2.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list (multi-platform).
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Docker image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// Docker gzip'd layer.
    pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index (multi-platform).
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// OCI gzip'd layer.
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// The `Accept` header value naming all four manifest types.
    pub const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, \
        application/vnd.oci.image.manifest.v1+json, \
        application/vnd.docker.distribution.manifest.list.v2+json, \
        application/vnd.docker.distribution.manifest.v2+json";
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Docker (schema 2 / manifest list) or OCI (image manifest / index) media types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `application/vnd.docker.distribution.manifest.v2+json` and the manifest list.
    #[default]
    Docker,
    /// `application/vnd.oci.image.manifest.v1+json` and the OCI index.
    Oci,
}

/// A gzip'd tar layer: the compressed bytes pushed as a blob plus its `diff_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The gzip'd tar bytes, as pushed.
    pub bytes: Vec<u8>,
    /// `sha256:` of [`Self::bytes`].
    pub digest: String,
    /// `sha256:` of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: String,
}

impl Layer {
    /// One small file, `strata/<seed>.txt`, whose content derives from `seed`.
    pub fn from_seed(seed: &str) -> Layer {
        let name = format!("strata/{}.txt", seed.replace('/', "_"));
        let content = format!("strata test layer {seed}\n");
        Layer::with_files(&[(name.as_str(), content.as_bytes())])
    }

    /// A layer holding exactly these `(path, content)` files (regular, mode 0644, mtime 0).
    pub fn with_files(files: &[(&str, &[u8])]) -> Layer {
        let tar = tar_archive(files);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(&tar);
        let bytes = gz.finish().unwrap_or_default();
        Layer {
            digest: sha256_digest(&bytes),
            diff_id: sha256_digest(&tar),
            bytes,
        }
    }
}

/// A ustar archive; names longer than 100 bytes are truncated (test data only).
fn tar_archive(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content) in files {
        let mut header = [0u8; 512];
        let name = name.as_bytes();
        let n = name.len().min(100);
        header[..n].copy_from_slice(&name[..n]);
        put_octal(&mut header[100..108], 0o644);
        put_octal(&mut header[108..116], 0);
        put_octal(&mut header[116..124], 0);
        put_octal(&mut header[124..136], content.len() as u64);
        put_octal(&mut header[136..148], 0);
        header[156] = b'0';
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        // The checksum is computed with its own field read as spaces.
        header[148..156].copy_from_slice(b"        ");
        let sum: u64 = header.iter().map(|b| u64::from(*b)).sum();
        let field = format!("{sum:06o}\0 ");
        header[148..156].copy_from_slice(field.as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(content);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// Zero-padded octal, NUL-terminated, filling the field.
fn put_octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    field[..width].copy_from_slice(&text.as_bytes()[text.len() - width..]);
    field[width] = 0;
}

/// A single-platform image: layers, a config blob and a manifest, built on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Image {
    format: Format,
    architecture: String,
    os: String,
    variant: Option<String>,
    layers: Vec<Layer>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    /// Extra `config.Env` entries after `PATH`, and `config.Cmd`, when set.
    env: Vec<String>,
    cmd: Option<Vec<String>>,
}

impl Image {
    /// A Docker schema-2, `linux/amd64` image with one layer from `seed`.
    pub fn new(seed: &str) -> Image {
        Image {
            format: Format::Docker,
            architecture: "amd64".into(),
            os: "linux".into(),
            variant: None,
            layers: vec![Layer::from_seed(seed)],
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            env: Vec::new(),
            cmd: None,
        }
    }

    /// An image made of exactly these layers (no seed layer).
    pub fn from_layers(layers: Vec<Layer>) -> Image {
        Image {
            layers,
            ..Image::new("unused")
        }
    }

    /// Add a `config.Env` entry (`NAME=value`).
    pub fn env(mut self, entry: &str) -> Self {
        self.env.push(entry.into());
        self
    }

    /// Set `config.Cmd`.
    pub fn cmd(mut self, words: &[&str]) -> Self {
        self.cmd = Some(words.iter().map(|w| (*w).to_owned()).collect());
        self
    }

    /// Like [`Image::new`] but an OCI image manifest.
    pub fn oci(seed: &str) -> Image {
        Image::new(seed).with_format(Format::Oci)
    }

    /// The parent's layers plus one new layer from `seed`; format and platform are the
    /// parent's, labels and annotations start empty.
    pub fn on_top_of(parent: &Image, seed: &str) -> Image {
        let mut layers = parent.layers.clone();
        layers.push(Layer::from_seed(seed));
        Image {
            layers,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            ..parent.clone()
        }
    }

    /// Switch between Docker and OCI media types.
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Set the platform (`arm64` gets variant `v8`).
    pub fn platform(mut self, os: &str, architecture: &str) -> Self {
        self.os = os.into();
        self.architecture = architecture.into();
        self.variant = (architecture == "arm64").then(|| "v8".to_owned());
        self
    }

    /// Append a layer.
    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    /// Set a `config.Labels` entry.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Label `org.opencontainers.image.source`.
    pub fn source(self, url: &str) -> Self {
        self.label("org.opencontainers.image.source", url)
    }

    /// Label `org.opencontainers.image.revision`.
    pub fn revision(self, revision: &str) -> Self {
        self.label("org.opencontainers.image.revision", revision)
    }

    /// Labels `org.opencontainers.image.base.name` and `.base.digest`.
    pub fn base(self, name: &str, digest: &str) -> Self {
        self.label("org.opencontainers.image.base.name", name)
            .label("org.opencontainers.image.base.digest", digest)
    }

    /// Set a manifest annotation (OCI only; ignored for Docker manifests).
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The layers, base first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// `(os, architecture, variant)`.
    pub fn os_arch(&self) -> (&str, &str, Option<&str>) {
        (&self.os, &self.architecture, self.variant.as_deref())
    }

    /// Docker or OCI.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The config blob's bytes.
    pub fn config_bytes(&self) -> Vec<u8> {
        let diff_ids: Vec<&str> = self.layers.iter().map(|l| l.diff_id.as_str()).collect();
        let history: Vec<Value> = self
            .layers
            .iter()
            .map(|l| json!({"created": "2024-01-01T00:00:00Z", "created_by": format!("ADD {}", l.digest)}))
            .collect();
        let mut env = vec!["PATH=/usr/bin:/bin".to_owned()];
        env.extend(self.env.iter().cloned());
        let mut run = json!({"Labels": self.labels, "Env": env});
        if let (Some(cmd), Some(map)) = (&self.cmd, run.as_object_mut()) {
            map.insert("Cmd".into(), json!(cmd));
        }
        let mut config = json!({
            "architecture": self.architecture,
            "os": self.os,
            "created": "2024-01-01T00:00:00Z",
            "config": run,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let (Some(variant), Some(map)) = (&self.variant, config.as_object_mut()) {
            map.insert("variant".into(), Value::String(variant.clone()));
        }
        serde_json::to_vec(&config).unwrap_or_default()
    }

    /// `sha256:` of the config blob.
    pub fn config_digest(&self) -> String {
        sha256_digest(&self.config_bytes())
    }

    /// The manifest's media type.
    pub fn media_type(&self) -> &'static str {
        match self.format {
            Format::Docker => media_type::DOCKER_MANIFEST,
            Format::Oci => media_type::OCI_MANIFEST,
        }
    }

    /// The manifest bytes exactly as pushed.
    pub fn manifest_bytes(&self) -> Vec<u8> {
        let (config_type, layer_type) = match self.format {
            Format::Docker => (media_type::DOCKER_CONFIG, media_type::DOCKER_LAYER),
            Format::Oci => (media_type::OCI_CONFIG, media_type::OCI_LAYER),
        };
        let config = self.config_bytes();
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| json!({"mediaType": layer_type, "size": l.bytes.len(), "digest": l.digest}))
            .collect();
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": self.media_type(),
            "config": {"mediaType": config_type, "size": config.len(), "digest": sha256_digest(&config)},
            "layers": layers,
        });
        if self.format == Format::Oci
            && !self.annotations.is_empty()
            && let Some(map) = manifest.as_object_mut()
        {
            map.insert("annotations".into(), json!(self.annotations));
        }
        serde_json::to_vec(&manifest).unwrap_or_default()
    }

    /// `sha256:` of [`Self::manifest_bytes`]: the digest a tag of this image resolves to.
    pub fn digest(&self) -> String {
        sha256_digest(&self.manifest_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_deterministic_and_distinct_per_seed() {
        assert_eq!(Layer::from_seed("a"), Layer::from_seed("a"));
        assert_ne!(Layer::from_seed("a").digest, Layer::from_seed("b").digest);
    }

    #[test]
    fn tar_header_checksum_and_padding() {
        let tar = tar_archive(&[("x.txt", b"hello")]);
        assert_eq!(tar.len(), 512 + 512 + 1024);
        let sum: u64 = tar[..512]
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(*b)
                }
            })
            .sum();
        let field = std::str::from_utf8(&tar[148..154]).unwrap();
        assert_eq!(u64::from_str_radix(field, 8).unwrap(), sum);
    }

    #[test]
    fn child_image_reuses_parent_layers() {
        let parent = Image::new("base");
        let child = Image::on_top_of(&parent, "app");
        assert_eq!(child.layers()[0], parent.layers()[0]);
        assert_eq!(child.layers().len(), 2);
    }
}
