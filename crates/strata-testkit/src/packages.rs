//! Test support, fixture stage: real tar layers for image comparisons — files, directories,
//! symlinks, OCI whiteouts and opaque markers, gzip or zstd compressed — and package
//! databases to put in them: this machine's own `/var/lib/dpkg/status` and a copy with
//! planted upgrades, removals and additions, apk `installed` files written from Alpine's
//! documented format, distroless `status.d/` entries. Pure data once the status file is
//! read.

use std::io::Write as _;

use crate::image::{Layer, sha256_digest};

/// One tar entry to write.
#[derive(Debug, Clone)]
enum Item {
    File(String, Vec<u8>),
    Dir(String),
    Symlink(String, String),
    /// A file whose name is written as is (even `../x`), for hostile layers.
    RawName(String, Vec<u8>),
}

/// Builds a tar archive entry by entry (mode 0644/0755, uid 0, mtime 0).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct TarLayer {
    items: Vec<Item>,
}

impl TarLayer {
    pub fn new() -> TarLayer {
        TarLayer::default()
    }

    /// A regular file.
    pub fn file(mut self, path: &str, content: impl AsRef<[u8]>) -> Self {
        self.items
            .push(Item::File(path.into(), content.as_ref().to_vec()));
        self
    }

    /// A directory.
    pub fn dir(mut self, path: &str) -> Self {
        self.items.push(Item::Dir(path.into()));
        self
    }

    /// A symbolic link.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Symlink(path.into(), target.into()));
        self
    }

    /// An OCI whiteout deleting `path` from the layers beneath (`dir/.wh.name`).
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let marker = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&marker, b"")
    }

    /// An OCI opaque marker: `dir` loses what the layers beneath put in it.
    pub fn opaque(self, dir: &str) -> Self {
        self.dir(dir).file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// A file whose tar name is written unchecked (`../../etc/x`).
    pub fn raw_name(mut self, name: &str, content: impl AsRef<[u8]>) -> Self {
        self.items
            .push(Item::RawName(name.into(), content.as_ref().to_vec()));
        self
    }

    /// The uncompressed tar.
    pub fn tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for item in &self.items {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            // Appending to a Vec cannot fail for well-formed names; test data only.
            let _ = match item {
                Item::File(path, content) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(0o644);
                    header.set_size(content.len() as u64);
                    builder.append_data(&mut header, path, content.as_slice())
                }
                Item::Dir(path) => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    builder.append_data(&mut header, path, std::io::empty())
                }
                Item::Symlink(path, target) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_mode(0o777);
                    header.set_size(0);
                    builder.append_link(&mut header, path, target)
                }
                Item::RawName(name, content) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(0o644);
                    header.set_size(content.len() as u64);
                    let bytes = name.as_bytes();
                    let field = &mut header.as_old_mut().name;
                    let n = bytes.len().min(field.len());
                    field[..n].copy_from_slice(&bytes[..n]);
                    header.set_cksum();
                    builder.append(&header, content.as_slice())
                }
            };
        }
        builder.into_inner().unwrap_or_default()
    }

    /// Gzip-compressed.
    pub fn gzip(&self) -> Layer {
        layer(&self.tar(), gzip(&self.tar()))
    }

    /// Zstandard-compressed.
    pub fn zstd(&self) -> Layer {
        let tar = self.tar();
        layer(
            &tar,
            zstd::encode_all(tar.as_slice(), 3).unwrap_or_default(),
        )
    }
}

/// A layer from its uncompressed tar and the compressed bytes pushed.
pub fn layer(tar: &[u8], compressed: Vec<u8>) -> Layer {
    Layer {
        digest: sha256_digest(&compressed),
        diff_id: sha256_digest(tar),
        bytes: compressed,
    }
}

/// `bytes` gzip-compressed (fast level).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}

/// What a modified copy of a dpkg status file changed, for assertions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Planted {
    /// `(package, old version, new version, source)`.
    pub upgraded: Vec<(String, String, String, String)>,
    /// `(package, version)`.
    pub removed: Vec<(String, String)>,
    /// `(package, version)`.
    pub added: Vec<(String, String)>,
}

/// This machine's own dpkg database.
pub fn host_dpkg_status() -> std::io::Result<String> {
    std::fs::read_to_string("/var/lib/dpkg/status")
}

/// A copy of `status` with `upgrades` installed packages upgraded (`+strata1` appended
/// to the version), `removals` removed and two packages added (`strata-added-a`,
/// `strata-added-b`). Packages are picked deterministically: the first installed ones
/// in file order, upgrades first.
pub fn modify_dpkg_status(status: &str, upgrades: usize, removals: usize) -> (String, Planted) {
    let mut planted = Planted::default();
    let mut out = String::with_capacity(status.len() + 512);
    for paragraph in status.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let field = |name: &str| {
            paragraph
                .lines()
                .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
                .map(|v| v.trim().to_owned())
        };
        let installed = field("Status").is_some_and(|s| s.ends_with(" installed"));
        let (Some(name), Some(version)) = (field("Package"), field("Version")) else {
            out.push_str(paragraph);
            out.push_str("\n\n");
            continue;
        };
        if installed && planted.upgraded.len() < upgrades {
            let new_version = format!("{version}+strata1");
            let source = field("Source")
                .map(|s| s.split_whitespace().next().unwrap_or_default().to_owned())
                .unwrap_or_else(|| name.clone());
            // Keep the source's own version pinned when given, so advisories on the
            // source see the binary version move only when the source does: write it out.
            let text: Vec<String> = paragraph
                .lines()
                .map(|l| {
                    if l.starts_with("Version:") {
                        format!("Version: {new_version}")
                    } else if l.starts_with("Source:") {
                        format!("Source: {source} ({new_version})")
                    } else {
                        l.to_owned()
                    }
                })
                .collect();
            let mut text = text.join("\n");
            if field("Source").is_none() {
                text.push_str(&format!("\nSource: {source} ({new_version})"));
            }
            planted.upgraded.push((name, version, new_version, source));
            out.push_str(&text);
            out.push_str("\n\n");
            continue;
        }
        if installed && planted.removed.len() < removals {
            planted.removed.push((name, version));
            continue;
        }
        out.push_str(paragraph);
        out.push_str("\n\n");
    }
    for (name, version) in [
        ("strata-added-a", "1.0-1"),
        ("strata-added-b", "2:0.9~rc1-3"),
    ] {
        out.push_str(&format!(
            "Package: {name}\nStatus: install ok installed\nPriority: optional\nSection: misc\n\
             Architecture: all\nVersion: {version}\nDescription: planted by the test kit\n\n"
        ));
        planted.added.push((name.into(), version.into()));
    }
    (out, planted)
}

/// An apk `installed` database (Alpine's format: `P:`, `V:`, `A:`, `o:` and the rest),
/// one paragraph per `(name, version, origin)`.
pub fn apk_installed(packages: &[(&str, &str, &str)]) -> String {
    let mut out = String::new();
    for (name, version, origin) in packages {
        out.push_str(&format!(
            "C:Q1{}=\nP:{name}\nV:{version}\nA:x86_64\nS:1024\nI:4096\nT:{name} package\n\
             U:https://alpinelinux.org\nL:MIT\no:{origin}\nm:Test <test@example.org>\nt:1700000000\n\
             c:0000000000000000000000000000000000000000\nD:musl\nF:usr/lib\nR:lib{name}.so\n\
             a:0:0:755\nZ:Q1{}=\n\n",
            "a".repeat(27),
            "b".repeat(27)
        ));
    }
    out
}

/// A distroless `status.d/<name>` entry (no `Status:` field).
pub fn status_d_entry(name: &str, version: &str, source: Option<&str>) -> String {
    let source = source.map(|s| format!("Source: {s}\n")).unwrap_or_default();
    format!(
        "Package: {name}\nVersion: {version}\nArchitecture: amd64\nMaintainer: Test <t@example.org>\n\
         {source}Installed-Size: 10\nSection: libs\nPriority: optional\nDescription: {name}\n"
    )
}

/// A dpkg status file of `count` synthetic installed packages (`pkg-00001`…).
pub fn synthetic_dpkg_status(count: usize, version: &str) -> String {
    let mut out = String::with_capacity(count * 160);
    for i in 0..count {
        out.push_str(&format!(
            "Package: pkg-{i:05}\nStatus: install ok installed\nPriority: optional\n\
             Architecture: amd64\nSource: src-{:04}\nVersion: {version}\nDescription: synthetic\n\n",
            i / 4
        ));
    }
    out
}
