//! diff stage, per platform: both sides' configs, layers, packages and advisory
//! matches compared into the core's `PlatformReport`. No I/O.

use strata_core::imagediff::{self, Inventory, LayerInfo, PlatformReport};
use strata_core::osv::{AdvisoryIndex, delta};
use strata_core::package::{self, Package};

use super::PlatformImage;
use super::inventory::SideInventory;

pub(crate) fn compare(
    a: &PlatformImage,
    b: &PlatformImage,
    old: SideInventory,
    new: SideInventory,
    advisories: Option<&AdvisoryIndex>,
    notes_all: &[String],
) -> PlatformReport {
    let infos = |image: &PlatformImage, uncompressed: &[Option<u64>]| -> Vec<LayerInfo> {
        image
            .layers
            .iter()
            .enumerate()
            .map(|(i, (digest, size))| LayerInfo {
                digest: digest.to_string(),
                diff_id: image.config.diff_ids.get(i).cloned(),
                size: *size,
                uncompressed: uncompressed.get(i).copied().flatten(),
            })
            .collect()
    };
    let layers = imagediff::diff_layers(&infos(a, &old.uncompressed), &infos(b, &new.uncompressed));
    let mut notes: Vec<String> = notes_all.to_vec();
    let mut partial = Vec::new();
    partial.extend(old.partial.iter().map(|p| format!("old: {p}")));
    partial.extend(new.partial.iter().map(|p| format!("new: {p}")));
    let packages = match (&old.packages, &new.packages) {
        // No database on either side is not "no package changed": say so instead.
        (Some(_), Some(_)) if !old.has_database && !new.has_database => {
            notes.push(
                "packages not compared: neither image has a dpkg or apk database \
                 (other package managers are not read)"
                    .to_owned(),
            );
            None
        }
        (Some(x), Some(y)) => Some(package::diff(x, y)),
        _ => {
            notes.push("packages not compared: a layer could not be read".to_owned());
            None
        }
    };
    if old.os.is_none() && new.os.is_none() {
        notes.push("no os-release in either image".to_owned());
    }
    let advisory_delta = match (
        advisories,
        &old.release,
        &new.release,
        &old.packages,
        &new.packages,
    ) {
        (Some(index), Some(r1), Some(r2), Some(p1), Some(p2)) => {
            let (f1, f2) = (index.matches(r1, p1), index.matches(r2, p2));
            let mut d = delta(&f1, &f2);
            // A fixed advisory's source still has a version in the new image (the fix),
            // an introduced one's had one in the old image: show both sides.
            let version = |packages: &[Package], source: &str| {
                packages
                    .iter()
                    .find(|p| p.source == source)
                    .map(|p| p.source_version.clone())
            };
            for e in &mut d.fixed {
                e.new_version = version(p2, &e.source);
            }
            for e in &mut d.introduced {
                e.old_version = version(p1, &e.source);
            }
            Some((d, f1.len(), f2.len()))
        }
        (Some(_), _, _, _, _) => {
            notes.push(
                "advisories not matched: no OS release strata can match, or packages unknown"
                    .to_owned(),
            );
            None
        }
        _ => None,
    };
    let inventory = |side: &SideInventory, count: Option<usize>| Inventory {
        os: side.os.clone(),
        ecosystem: side.release.as_ref().map(|r| r.ecosystem.clone()),
        packages: side.packages.as_ref().map_or(0, Vec::len),
        advisories: count,
    };
    PlatformReport {
        platform: a.name.clone(),
        old_digest: a.manifest.digest.to_string(),
        new_digest: b.manifest.digest.to_string(),
        config: imagediff::diff_config(&a.config, &b.config),
        layers,
        old: Some(inventory(&old, advisory_delta.as_ref().map(|d| d.1))),
        new: Some(inventory(&new, advisory_delta.as_ref().map(|d| d.2))),
        packages,
        advisories: advisory_delta.map(|d| d.0),
        notes,
        partial,
    }
}
