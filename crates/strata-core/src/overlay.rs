//! package stage (layers): the files of an image's final filesystem that strata reads
//! (package databases and `os-release`), computed from its layers' tar entries in order
//! with the OCI layer rules: a `.wh.<name>` whiteout deletes `<name>` (and everything
//! below it) from the layers beneath, an opaque marker `.wh..wh..opq` empties its
//! directory of what the layers beneath put there, and whiteouts never touch entries of
//! their own layer (image-spec layer.md, "Whiteouts"). A non-directory entry replaces a
//! directory of the same path. Symlinks (`etc/os-release -> ../usr/lib/os-release`) are
//! followed when the files are read. Pure: the caller streams the tar and hands in the
//! entries and the wanted files' contents; nothing here reads a layer.

use std::collections::BTreeMap;

/// The files strata reads from an image, by normalised path (no leading `/`).
pub const DPKG_STATUS: &str = "var/lib/dpkg/status";
/// The distroless per-package status directory.
pub const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d";
/// apk's installed database (and its `usr/` location in newer apk-tools).
pub const APK_INSTALLED: [&str; 2] = ["lib/apk/db/installed", "usr/lib/apk/db/installed"];
/// `os-release`, in the order os-release(5) says to read them.
pub const OS_RELEASE: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

/// The OCI whiteout prefix and opaque marker.
const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Whether strata wants the content of the file at `path` (normalised).
pub fn wanted(path: &str) -> bool {
    path == DPKG_STATUS
        || APK_INSTALLED.contains(&path)
        || OS_RELEASE.contains(&path)
        || path
            .strip_prefix(DPKG_STATUS_D)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|name| {
                !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums")
            })
}

/// Whether a tar entry (normalised path) can change what [`wanted`] files the final
/// filesystem holds: a wanted file itself, a directory on the way to one (a file or
/// whiteout there replaces or deletes it), or a whiteout or opaque marker for either.
/// Readers keep only these entries of a layer.
pub fn relevant(path: &str) -> bool {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    let target = if name == OPAQUE {
        dir.to_owned()
    } else if let Some(hidden) = name.strip_prefix(WHITEOUT) {
        if dir.is_empty() {
            hidden.to_owned()
        } else {
            format!("{dir}/{hidden}")
        }
    } else {
        path.to_owned()
    };
    let ancestor = |place: &str| {
        place == target
            || place
                .strip_prefix(target.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    };
    wanted(&target)
        || target.starts_with("var/lib/dpkg/status.d/")
        || [DPKG_STATUS, DPKG_STATUS_D]
            .iter()
            .chain(&APK_INSTALLED)
            .chain(&OS_RELEASE)
            .any(|place| ancestor(place))
}

/// A tar entry's path normalised against the image root: no leading `/` or `./`, no
/// `.` components, `..` resolved. `Err` when it climbs above the root.
pub fn normalise(path: &str) -> Result<String, OverlayError> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(OverlayError::Escapes {
                        path: path.to_owned(),
                    });
                }
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Why an entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverlayError {
    /// The entry's path leaves the image root (`../../etc/passwd`).
    #[error("entry path {path:?} escapes the image root")]
    Escapes { path: String },
}

/// What a tar entry is, as far as the overlay cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file; `Some` content when it is wanted (else `None`: only its
    /// existence matters).
    File(Option<Vec<u8>>),
    Dir,
    /// A symbolic link to this target (as written in the tar).
    Symlink(String),
    /// A hard link to another entry of the same archive (normalised path).
    Hardlink(String),
    /// Devices, FIFOs and the like.
    Other,
}

/// A node kept for a wanted path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    File(Vec<u8>),
    Symlink(String),
}

/// The overlay of the layers applied so far, plus the layer being read.
#[derive(Debug, Default)]
pub struct Overlay {
    lower: BTreeMap<String, Node>,
    layer: Layer,
    problems: Vec<String>,
}

/// One layer's changes, applied to the lower layers when it ends.
#[derive(Debug, Default)]
struct Layer {
    /// Paths whose lower contents go away: whiteouts (the path and below).
    whiteouts: Vec<String>,
    /// Directories emptied of lower contents (opaque markers).
    opaque: Vec<String>,
    /// Non-directory entries: they replace any lower directory of that path.
    replaced: Vec<String>,
    added: BTreeMap<String, Node>,
}

impl Overlay {
    pub fn new() -> Overlay {
        Overlay::default()
    }

    /// Adds one entry of the current layer; `path` as written in the tar.
    pub fn entry(&mut self, path: &str, entry: Entry) -> Result<(), OverlayError> {
        let path = normalise(path)?;
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (dir, name),
            None => ("", path.as_str()),
        };
        if name == OPAQUE {
            self.layer.opaque.push(dir.to_owned());
            return Ok(());
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT) {
            if hidden.starts_with(WHITEOUT) {
                return Ok(()); // other `.wh..wh.` names are the writer's bookkeeping
            }
            let target = if dir.is_empty() {
                hidden.to_owned()
            } else {
                format!("{dir}/{hidden}")
            };
            self.layer.whiteouts.push(target);
            return Ok(());
        }
        if !matches!(entry, Entry::Dir) {
            self.layer.replaced.push(path.clone());
        }
        let node = match entry {
            Entry::File(Some(bytes)) if wanted(&path) => Some(Node::File(bytes)),
            Entry::Symlink(target) if wanted(&path) => Some(Node::Symlink(target)),
            Entry::Hardlink(target) if wanted(&path) => {
                let target = normalise(&target)?;
                let found = self
                    .layer
                    .added
                    .get(&target)
                    .or_else(|| self.lower.get(&target))
                    .cloned();
                if found.is_none() {
                    self.problems.push(format!(
                        "{path} is a hard link to {target}, whose content was not kept"
                    ));
                }
                found
            }
            _ => None,
        };
        match node {
            Some(node) => {
                self.layer.added.insert(path, node);
            }
            None => {
                // A wanted path replaced by something unreadable: it no longer holds
                // the lower content.
                self.layer.added.remove(&path);
            }
        }
        Ok(())
    }

    /// Ends the current layer: its whiteouts and replacements apply to the layers
    /// beneath, then its entries go on top.
    pub fn end_layer(&mut self) {
        let layer = std::mem::take(&mut self.layer);
        let under = |path: &str, dir: &str| {
            dir.is_empty()
                || path == dir
                || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
        };
        self.lower.retain(|path, _| {
            let opaque = layer
                .opaque
                .iter()
                .any(|dir| under(path, dir) && path != dir);
            let whited = layer.whiteouts.iter().any(|w| under(path, w));
            let replaced = layer.replaced.iter().any(|r| path == r || under(path, r));
            !(opaque || whited || replaced)
        });
        self.lower.extend(layer.added);
    }

    /// Notes something that makes the result partial (a skipped entry, say).
    pub fn note(&mut self, problem: String) {
        self.problems.push(problem);
    }

    /// The final filesystem's wanted files (call after the last [`end_layer`]).
    ///
    /// [`end_layer`]: Overlay::end_layer
    pub fn finish(mut self) -> Files {
        if !self.layer.added.is_empty() || !self.layer.whiteouts.is_empty() {
            self.end_layer();
        }
        let mut files = Files {
            problems: self.problems,
            ..Files::default()
        };
        let read = |path: &str| resolve(&self.lower, path);
        files.dpkg_status = read(DPKG_STATUS);
        files.apk_installed = APK_INSTALLED.iter().find_map(|p| read(p));
        files.os_release = OS_RELEASE.iter().find_map(|p| read(p));
        let prefix = format!("{DPKG_STATUS_D}/");
        for path in self.lower.keys().filter(|p| p.starts_with(&prefix)) {
            if let Some(bytes) = read(path) {
                files.dpkg_status_d.push((path.clone(), bytes));
            }
        }
        files
    }
}

/// The content at `path`, following symlinks among the kept nodes (at most 16 hops).
fn resolve(nodes: &BTreeMap<String, Node>, path: &str) -> Option<Vec<u8>> {
    let mut path = path.to_owned();
    for _ in 0..16 {
        match nodes.get(&path)? {
            Node::File(bytes) => return Some(bytes.clone()),
            Node::Symlink(target) => {
                let joined = if target.starts_with('/') {
                    target.clone()
                } else {
                    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
                    format!("{dir}/{target}")
                };
                path = normalise(&joined).ok()?;
            }
        }
    }
    None
}

/// The wanted files of a final filesystem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Files {
    pub dpkg_status: Option<Vec<u8>>,
    /// `(path, content)` of each distroless status file, sorted by path.
    pub dpkg_status_d: Vec<(String, Vec<u8>)>,
    pub apk_installed: Option<Vec<u8>>,
    pub os_release: Option<Vec<u8>>,
    /// What made the result partial.
    pub problems: Vec<String>,
}

#[cfg(test)]
mod tests;
