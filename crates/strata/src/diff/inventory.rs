//! diff stage, per side: one platform image's OS and packages as its final filesystem
//! has them — the layer reads applied in order through the core's overlay, then the
//! package databases and `os-release` parsed. A layer that could not be read leaves the
//! packages unknown (never a guess). No I/O: the layers were read already.

use strata_core::overlay::{Files, Overlay};
use strata_core::package::{self, OsRelease, Package, Problem};

use super::{PlatformImage, Reads, short};

/// One side's OS and packages, as its final filesystem has them.
pub(crate) struct SideInventory {
    pub(crate) release: Option<package::Release>,
    pub(crate) os: Option<OsRelease>,
    pub(crate) packages: Option<Vec<Package>>,
    pub(crate) uncompressed: Vec<Option<u64>>,
    pub(crate) partial: Vec<String>,
    /// Whether the final filesystem has a dpkg or apk database at all.
    pub(crate) has_database: bool,
}

pub(crate) fn inventory(image: &PlatformImage, reads: &Reads) -> SideInventory {
    let mut overlay = Overlay::new();
    let mut partial = Vec::new();
    let mut uncompressed = Vec::new();
    let mut complete = true;
    for (i, (digest, _)) in image.layers.iter().enumerate() {
        match reads.get(digest) {
            Some(Ok(read)) => {
                uncompressed.push(Some(read.uncompressed));
                for problem in &read.problems {
                    partial.push(format!("layer {} ({}): {problem}", i + 1, short(digest)));
                }
                for (path, entry) in &read.entries {
                    if let Err(err) = overlay.entry(path, entry.clone()) {
                        partial.push(format!("layer {} ({}): {err}", i + 1, short(digest)));
                    }
                }
            }
            Some(Err(err)) => {
                complete = false;
                uncompressed.push(None);
                partial.push(format!("layer {} could not be read: {err}", i + 1));
            }
            None => {
                complete = false;
                uncompressed.push(None);
                partial.push(format!("layer {} ({}) was not read", i + 1, short(digest)));
            }
        }
        overlay.end_layer();
    }
    let files = overlay.finish();
    partial.extend(files.problems.iter().cloned());
    let os = files
        .os_release
        .as_deref()
        .and_then(|b| OsRelease::parse(&String::from_utf8_lossy(b)));
    let release = os.as_ref().and_then(OsRelease::release);
    // Without every layer, "these are the packages" would be a guess: none rather than
    // a wrong answer.
    let has_database = files.dpkg_status.is_some()
        || !files.dpkg_status_d.is_empty()
        || files.apk_installed.is_some();
    let packages = complete.then(|| {
        let (packages, problems) = packages_of(&files);
        partial.extend(problems.iter().map(|p| match p.line {
            Some(line) => format!("{}:{line}: {}", p.file, p.message),
            None => format!("{}: {}", p.file, p.message),
        }));
        packages
    });
    SideInventory {
        release,
        os,
        packages,
        uncompressed,
        partial,
        has_database,
    }
}

fn packages_of(files: &Files) -> (Vec<Package>, Vec<Problem>) {
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    if let Some(status) = &files.dpkg_status {
        let parsed = package::parse_dpkg_status(&text(status), strata_core::overlay::DPKG_STATUS);
        packages.extend(parsed.packages);
        problems.extend(parsed.problems);
    }
    for (path, bytes) in &files.dpkg_status_d {
        let parsed = package::parse_status_d(&text(bytes), path);
        packages.extend(parsed.packages);
        problems.extend(parsed.problems);
    }
    if let Some(installed) = &files.apk_installed {
        let parsed =
            package::parse_apk_installed(&text(installed), strata_core::overlay::APK_INSTALLED[0]);
        packages.extend(parsed.packages);
        problems.extend(parsed.problems);
    }
    // A problem list of a 10,000-line garbage file stays readable.
    problems.truncate(50);
    (packages, problems)
}
