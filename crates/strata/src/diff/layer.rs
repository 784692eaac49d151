//! diff stage, layers: reads one layer blob from the blob store as a stream — the
//! compression told by its magic bytes (gzip `1f 8b`, zstd `28 b5 2f fd`, else a plain
//! tar), never by the media type — and keeps only the tar entries that can change the
//! package databases or `os-release` (`strata_core::overlay::relevant`), with the wanted
//! files' contents up to a size cap. The compressed bytes are hashed as they are read
//! and checked against the digest at the end, so a blob altered on disk is an error.
//! Memory stays bounded whatever the layer's size. Blocking: run it off the runtime.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use sha2::{Digest as _, Sha256};
use strata_core::overlay::{self, Entry};
use strata_core::reference::Digest;

/// The largest package database or os-release file kept (a full Debian status file is
/// a few MB); a larger one is skipped and the result marked partial.
pub const MAX_FILE: u64 = 64 << 20;

/// What one layer holds that matters, and what reading it found.
#[derive(Debug, Default)]
pub struct LayerRead {
    /// Relevant entries, in archive order, paths as written.
    pub entries: Vec<(String, Entry)>,
    /// Uncompressed bytes (the tar stream's length).
    pub uncompressed: u64,
    /// Entries skipped (paths escaping the root, oversized files): the result is partial.
    pub problems: Vec<String>,
}

/// Why a layer could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("cannot open the layer blob {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error("layer {digest} is damaged ({compression}): {detail}")]
    Damaged {
        digest: String,
        compression: &'static str,
        detail: String,
    },
    #[error("layer {digest} on disk hashes to {actual}: the stored blob is corrupt")]
    Mismatch { digest: String, actual: String },
}

/// The compressions told by magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::None => "tar",
        }
    }
}

/// Reads the layer at `path`, which must hash to `digest`.
pub fn read(path: &Path, digest: &Digest) -> Result<LayerRead, LayerError> {
    let file = File::open(path).map_err(|source| LayerError::Open {
        path: path.display().to_string(),
        source,
    })?;
    let mut hashing = Hashing {
        inner: file,
        hasher: Sha256::new(),
    };
    let mut buffered = BufReader::with_capacity(256 << 10, &mut hashing);
    let head = buffered
        .fill_buf()
        .map_err(|e| damaged(digest, Compression::None, &e))?;
    let compression = Compression::sniff(head);
    let result = match compression {
        Compression::Gzip => entries(flate2::bufread::MultiGzDecoder::new(&mut buffered)),
        Compression::Zstd => match zstd::stream::read::Decoder::with_buffer(&mut buffered) {
            Ok(decoder) => entries(decoder),
            Err(e) => Err(e),
        },
        Compression::None => entries(&mut buffered),
    };
    let read = result.map_err(|e| damaged(digest, compression, &e))?;
    // Whatever the decoder left unread still counts towards the digest.
    io::copy(&mut buffered, &mut io::sink()).map_err(|e| damaged(digest, compression, &e))?;
    drop(buffered);
    let actual = format!("sha256:{}", hex::encode(hashing.hasher.finalize()));
    if actual != digest.as_str() {
        return Err(LayerError::Mismatch {
            digest: digest.to_string(),
            actual,
        });
    }
    Ok(read)
}

fn damaged(digest: &Digest, compression: Compression, err: &io::Error) -> LayerError {
    LayerError::Damaged {
        digest: digest.to_string(),
        compression: compression.name(),
        detail: err.to_string(),
    }
}

/// Walks the tar stream; the decoder is read to its end (trailing padding included).
fn entries<R: Read>(stream: R) -> io::Result<LayerRead> {
    let mut counted = Counting {
        inner: stream,
        n: 0,
    };
    let mut out = LayerRead::default();
    {
        let mut archive = tar::Archive::new(&mut counted);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = match overlay::normalise(&raw) {
                Ok(path) => path,
                Err(err) => {
                    out.problems.push(err.to_string());
                    continue;
                }
            };
            if !overlay::relevant(&path) {
                continue;
            }
            let kind = entry.header().entry_type();
            let link = || {
                entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default()
            };
            let item = if kind.is_dir() {
                Entry::Dir
            } else if kind.is_symlink() {
                Entry::Symlink(link())
            } else if kind.is_hard_link() {
                Entry::Hardlink(link())
            } else if kind.is_file() {
                if overlay::wanted(&path) {
                    let size = entry.size();
                    if size > MAX_FILE {
                        out.problems.push(format!(
                            "{path} is {size} bytes, more than the {MAX_FILE} read; skipped"
                        ));
                        Entry::File(None)
                    } else {
                        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                        (&mut entry).take(MAX_FILE).read_to_end(&mut bytes)?;
                        Entry::File(Some(bytes))
                    }
                } else {
                    Entry::File(None)
                }
            } else {
                Entry::Other
            };
            out.entries.push((raw, item));
        }
    }
    io::copy(&mut counted, &mut io::sink())?;
    out.uncompressed = counted.n;
    Ok(out)
}

struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

struct Counting<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}
