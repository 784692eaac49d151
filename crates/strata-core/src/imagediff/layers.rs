//! diff stage: the layers of two images of one platform: how many base layers they
//! share (the common prefix, by uncompressed diff ID when known, else by blob digest,
//! so a recompressed copy still counts as shared), which were added and removed, and
//! the size deltas. Pure.

use serde::Serialize;

/// One layer of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerInfo {
    /// The blob digest (compressed).
    pub digest: String,
    /// The config's diff ID for it (uncompressed), when the config lists one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<String>,
    /// The compressed size the manifest states.
    pub size: u64,
    /// The uncompressed size, when the layer was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncompressed: Option<u64>,
}

impl LayerInfo {
    fn identity(&self) -> &str {
        self.diff_id.as_deref().unwrap_or(&self.digest)
    }
}

/// The layer comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LayerDiff {
    /// Leading layers both images have, in the same order (the shared base).
    pub shared: usize,
    /// Layers of the new image the old one lacks.
    pub added: Vec<LayerInfo>,
    /// Layers of the old image the new one lacks.
    pub removed: Vec<LayerInfo>,
    pub old_size: u64,
    pub new_size: u64,
    /// Uncompressed totals, when every layer of that side was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_uncompressed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_uncompressed: Option<u64>,
}

impl LayerDiff {
    /// New minus old compressed size.
    pub fn size_delta(&self) -> i128 {
        i128::from(self.new_size) - i128::from(self.old_size)
    }

    /// New minus old uncompressed size, when both are known.
    pub fn uncompressed_delta(&self) -> Option<i128> {
        Some(i128::from(self.new_uncompressed?) - i128::from(self.old_uncompressed?))
    }
}

/// Compares two layer lists, base first.
pub fn diff_layers(old: &[LayerInfo], new: &[LayerInfo]) -> LayerDiff {
    let shared = old
        .iter()
        .zip(new)
        .take_while(|(a, b)| a.identity() == b.identity())
        .count();
    let has = |list: &[LayerInfo], layer: &LayerInfo| {
        list.iter().any(|l| l.identity() == layer.identity())
    };
    let total = |list: &[LayerInfo]| list.iter().map(|l| l.size).sum();
    let uncompressed =
        |list: &[LayerInfo]| list.iter().map(|l| l.uncompressed).sum::<Option<u64>>();
    LayerDiff {
        shared,
        added: new.iter().filter(|l| !has(old, l)).cloned().collect(),
        removed: old.iter().filter(|l| !has(new, l)).cloned().collect(),
        old_size: total(old),
        new_size: total(new),
        old_uncompressed: uncompressed(old),
        new_uncompressed: uncompressed(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(id: &str, size: u64) -> LayerInfo {
        LayerInfo {
            digest: format!("sha256:gz-{id}"),
            diff_id: Some(format!("sha256:{id}")),
            size,
            uncompressed: Some(size * 3),
        }
    }

    #[test]
    fn shared_prefix_added_removed_and_sizes() {
        let old = [layer("base", 100), layer("py", 50), layer("app", 10)];
        let mut recompressed = layer("base", 90);
        recompressed.digest = "sha256:zstd-base".into();
        let new = [recompressed, layer("py2", 60), layer("app", 10)];
        let d = diff_layers(&old, &new);
        assert_eq!(d.shared, 1);
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.size_delta(), 0);
        assert_eq!(d.uncompressed_delta(), Some(0));
    }
}
