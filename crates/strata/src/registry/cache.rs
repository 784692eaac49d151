//! resolve stage: an on-disk cache of content addressed by digest (manifests and config
//! blobs), kept forever because such content never changes. Tag lookups must never be
//! stored here: a tag can move between runs. Entries are re-verified when read, and
//! every cache failure is a miss, never an error: the registry is the source of truth.
//! Entries are keyed by digest alone, so a hit proves content, not that a registry
//! serves it: verifying a tag's digest never reads the cache.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use strata_core::reference::Digest;

use super::manifest::sha256;

/// What kind of content an entry holds (its subdirectory).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Bucket {
    Manifests,
    Blobs,
}

impl Bucket {
    fn dir(self) -> &'static str {
        match self {
            Bucket::Manifests => "manifests",
            Bucket::Blobs => "blobs",
        }
    }
}

/// One cached entry: the exact bytes and the media type they were served with.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) bytes: Vec<u8>,
    pub(crate) media_type: Option<String>,
}

/// The cache rooted at one directory (`<root>/<bucket>/sha256/<hex>`, with the media type
/// beside it in `<hex>.type`).
#[derive(Debug)]
pub(crate) struct ContentCache {
    root: PathBuf,
    /// Distinguishes temp files written concurrently by this process.
    counter: AtomicU64,
}

impl ContentCache {
    pub(crate) fn new(root: PathBuf) -> ContentCache {
        ContentCache {
            root,
            counter: AtomicU64::new(0),
        }
    }

    fn path(&self, bucket: Bucket, digest: &Digest) -> Option<PathBuf> {
        let (algorithm, hex) = (digest.algorithm(), digest.hex());
        // Digests are validated, but a path built from data is checked anyway.
        let safe = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
        (safe(algorithm) && safe(hex))
            .then(|| self.root.join(bucket.dir()).join(algorithm).join(hex))
    }

    /// The entry for `digest`, if present and its bytes still hash to `digest`.
    pub(crate) async fn get(&self, bucket: Bucket, digest: &Digest) -> Option<Entry> {
        let path = self.path(bucket, digest)?;
        let bytes = tokio::fs::read(&path).await.ok()?;
        if sha256(&bytes) != *digest {
            // A torn or tampered entry: drop it so the next fetch rewrites it.
            let _ = tokio::fs::remove_file(&path).await;
            return None;
        }
        let media_type = tokio::fs::read_to_string(type_path(&path))
            .await
            .ok()
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty());
        Some(Entry { bytes, media_type })
    }

    /// Stores verified `bytes` under `digest`. Best effort: a read-only or full disk
    /// only costs a refetch next time.
    pub(crate) async fn put(
        &self,
        bucket: Bucket,
        digest: &Digest,
        bytes: &[u8],
        media_type: Option<&str>,
    ) {
        let Some(path) = self.path(bucket, digest) else {
            return;
        };
        let Some(dir) = path.parent() else { return };
        if tokio::fs::create_dir_all(dir).await.is_err() {
            return;
        }
        if let Some(media_type) = media_type {
            let _ = self
                .write_atomically(&type_path(&path), media_type.as_bytes())
                .await;
        }
        // The content goes last: its presence is what makes an entry visible.
        let _ = self.write_atomically(&path, bytes).await;
    }

    /// Writes to a temp file beside `path` and renames it into place, so readers (other
    /// strata processes sharing the cache) never see half an entry.
    async fn write_atomically(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut temp = path.as_os_str().to_owned();
        temp.push(format!(".tmp-{}-{n}", std::process::id()));
        let temp = PathBuf::from(temp);
        tokio::fs::write(&temp, bytes).await?;
        let renamed = tokio::fs::rename(&temp, path).await;
        if renamed.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        renamed
    }
}

fn type_path(path: &Path) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(".type");
    PathBuf::from(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_and_verifies_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ContentCache::new(dir.path().join("cache"));
        let bytes = br#"{"schemaVersion":2}"#;
        let digest = sha256(bytes);
        assert!(cache.get(Bucket::Manifests, &digest).await.is_none());
        cache
            .put(
                Bucket::Manifests,
                &digest,
                bytes,
                Some("application/x-test"),
            )
            .await;
        let entry = cache.get(Bucket::Manifests, &digest).await.unwrap();
        assert_eq!(entry.bytes, bytes);
        assert_eq!(entry.media_type.as_deref(), Some("application/x-test"));
        // Buckets are separate.
        assert!(cache.get(Bucket::Blobs, &digest).await.is_none());

        // A corrupted entry is a miss, and is removed.
        let path = cache.path(Bucket::Manifests, &digest).unwrap();
        std::fs::write(&path, b"tampered").unwrap();
        assert!(cache.get(Bucket::Manifests, &digest).await.is_none());
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn unwritable_cache_is_silently_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"").unwrap();
        let cache = ContentCache::new(file);
        let digest = sha256(b"x");
        cache.put(Bucket::Blobs, &digest, b"x", None).await;
        assert!(cache.get(Bucket::Blobs, &digest).await.is_none());
    }
}
