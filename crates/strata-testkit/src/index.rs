//! Test support, fixture stage: multi-platform images (Docker manifest lists and OCI
//! indexes) over [`Image`]s, as bytes; pure data, no I/O.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::image::{Format, Image, media_type, sha256_digest};

/// A multi-platform image: a Docker manifest list or an OCI index over [`Image`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Index {
    format: Format,
    images: Vec<Image>,
    annotations: BTreeMap<String, String>,
}

impl Index {
    /// An index over `images` (their format is forced to match the index's).
    pub fn new(format: Format, images: Vec<Image>) -> Index {
        let images = images.into_iter().map(|i| i.with_format(format)).collect();
        Index {
            format,
            images,
            annotations: BTreeMap::new(),
        }
    }

    /// `linux/amd64` and `linux/arm64` images with layers derived from `seed`.
    pub fn multi_arch(format: Format, seed: &str) -> Index {
        let amd64 = Image::new(&format!("{seed}-amd64")).platform("linux", "amd64");
        let arm64 = Image::new(&format!("{seed}-arm64")).platform("linux", "arm64");
        Index::new(format, vec![amd64, arm64])
    }

    /// Set an index annotation (OCI only).
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The platform images, in index order.
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    /// The index's media type.
    pub fn media_type(&self) -> &'static str {
        match self.format {
            Format::Docker => media_type::DOCKER_MANIFEST_LIST,
            Format::Oci => media_type::OCI_INDEX,
        }
    }

    /// The index bytes exactly as pushed.
    pub fn manifest_bytes(&self) -> Vec<u8> {
        let entries: Vec<Value> = self
            .images
            .iter()
            .map(|image| {
                let bytes = image.manifest_bytes();
                let (os, architecture, variant) = image.os_arch();
                let mut platform = json!({"architecture": architecture, "os": os});
                if let (Some(variant), Some(map)) = (variant, platform.as_object_mut()) {
                    map.insert("variant".into(), Value::String(variant.to_owned()));
                }
                json!({
                    "mediaType": image.media_type(),
                    "size": bytes.len(),
                    "digest": sha256_digest(&bytes),
                    "platform": platform,
                })
            })
            .collect();
        let mut index = json!({
            "schemaVersion": 2,
            "mediaType": self.media_type(),
            "manifests": entries,
        });
        if self.format == Format::Oci
            && !self.annotations.is_empty()
            && let Some(map) = index.as_object_mut()
        {
            map.insert("annotations".into(), json!(self.annotations));
        }
        serde_json::to_vec(&index).unwrap_or_default()
    }

    /// `sha256:` of [`Self::manifest_bytes`].
    pub fn digest(&self) -> String {
        sha256_digest(&self.manifest_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_forces_child_format_and_lists_platforms() {
        let index = Index::multi_arch(Format::Oci, "s");
        let v: Value = serde_json::from_slice(&index.manifest_bytes()).unwrap();
        assert_eq!(v["manifests"][1]["platform"]["architecture"], "arm64");
        assert_eq!(v["manifests"][0]["mediaType"], media_type::OCI_MANIFEST);
    }
}
