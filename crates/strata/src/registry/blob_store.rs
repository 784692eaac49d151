//! resolve stage: the on-disk store of layer blobs, addressed by digest
//! (`<root>/sha256/<hex>`). Blobs are written to a temp file beside their place while
//! they stream in and are hashed, and renamed into place only once their digest and size
//! check out, so a reader never sees half a blob. Readers verify again as they stream
//! (the digest is checked at the end of every read): a tampered entry fails its read and
//! is removed. Never holds a blob in memory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use strata_core::reference::Digest;

/// The store rooted at one directory.
#[derive(Debug)]
pub(crate) struct BlobStore {
    root: PathBuf,
    counter: AtomicU64,
}

impl BlobStore {
    pub(crate) fn new(root: PathBuf) -> BlobStore {
        BlobStore {
            root,
            counter: AtomicU64::new(0),
        }
    }

    /// Where `digest` lives (whether or not it is there).
    pub(crate) fn path(&self, digest: &Digest) -> Option<PathBuf> {
        let (algorithm, hex) = (digest.algorithm(), digest.hex());
        let safe = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
        (safe(algorithm) && safe(hex)).then(|| self.root.join(algorithm).join(hex))
    }

    /// The stored file of `digest`, when present with the expected size.
    pub(crate) fn get(&self, digest: &Digest, size: Option<u64>) -> Option<PathBuf> {
        let path = self.path(digest)?;
        let meta = std::fs::metadata(&path).ok()?;
        let fits = size.is_none_or(|size| meta.len() == size);
        (meta.is_file() && fits).then_some(path)
    }

    /// A fresh temp path beside `digest`'s place (its directory created).
    pub(crate) fn temp(&self, digest: &Digest) -> std::io::Result<PathBuf> {
        let path = self
            .path(digest)
            .ok_or_else(|| std::io::Error::other("unusable digest"))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut temp = path.into_os_string();
        temp.push(format!(".tmp-{}-{n}", std::process::id()));
        Ok(PathBuf::from(temp))
    }

    /// Moves a verified temp file into place.
    pub(crate) fn commit(&self, temp: &Path, digest: &Digest) -> std::io::Result<PathBuf> {
        let path = self
            .path(digest)
            .ok_or_else(|| std::io::Error::other("unusable digest"))?;
        std::fs::rename(temp, &path)?;
        Ok(path)
    }

    /// Drops an entry that failed verification.
    pub(crate) fn remove(&self, digest: &Digest) {
        if let Some(path) = self.path(digest) {
            let _ = std::fs::remove_file(path);
        }
    }
}
