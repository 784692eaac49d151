//! package stage: the difference between two images' package sets: added, removed,
//! upgraded and downgraded packages (by the package manager's own version ordering).
//! Pure.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::Package;

/// How a package changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Upgraded,
    Downgraded,
    /// Another version text that orders equal (`1.0` and `1.0-0`).
    Changed,
}

/// One package that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageChange {
    /// The package name (architecture-qualified for Multi-Arch duplicates).
    pub name: String,
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Package>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Package>,
}

impl PackageChange {
    /// The source package (of the new side when there is one).
    pub fn source(&self) -> &str {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .map_or("", |p| p.source.as_str())
    }
}

/// Every package that differs, sorted by name; `unchanged` counts the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackageDiff {
    pub changes: Vec<PackageChange>,
    pub unchanged: usize,
}

impl PackageDiff {
    /// How many changes are of `kind`.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }
}

/// Compares the package sets `old` and `new`.
pub fn diff(old: &[Package], new: &[Package]) -> PackageDiff {
    let (old, new) = (keyed(old), keyed(new));
    let mut out = PackageDiff::default();
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let change = match (old.get(name), new.get(name)) {
            (Some(a), Some(b)) if a.version == b.version => {
                out.unchanged += 1;
                continue;
            }
            (Some(a), Some(b)) => {
                let kind = match b.manager.scheme().compare(&b.version, &a.version) {
                    Ordering::Greater => ChangeKind::Upgraded,
                    Ordering::Less => ChangeKind::Downgraded,
                    Ordering::Equal => ChangeKind::Changed,
                };
                (kind, Some(a), Some(b))
            }
            (Some(a), None) => (ChangeKind::Removed, Some(a), None),
            (None, Some(b)) => (ChangeKind::Added, None, Some(b)),
            (None, None) => continue,
        };
        out.changes.push(PackageChange {
            name: name.clone(),
            kind: change.0,
            old: change.1.map(|p| (*p).clone()),
            new: change.2.map(|p| (*p).clone()),
        });
    }
    out
}

/// Packages by name; a name installed for several architectures is keyed per
/// architecture. A name listed twice for one architecture keeps the last entry.
fn keyed(packages: &[Package]) -> BTreeMap<String, &Package> {
    let mut arches: HashMap<&str, Vec<Option<&str>>> = HashMap::new();
    for p in packages {
        let list = arches.entry(p.name.as_str()).or_default();
        if !list.contains(&p.architecture.as_deref()) {
            list.push(p.architecture.as_deref());
        }
    }
    packages
        .iter()
        .map(|p| {
            let qualified = arches.get(p.name.as_str()).is_some_and(|a| a.len() > 1);
            (p.key(qualified), p)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Manager;

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            architecture: Some("amd64".into()),
            source: name.into(),
            source_version: version.into(),
            manager: Manager::Dpkg,
        }
    }

    #[test]
    fn classifies_by_dpkg_order() {
        let old = [
            pkg("a", "1.0"),
            pkg("b", "2.0"),
            pkg("c", "1.0~rc1"),
            pkg("d", "1"),
            pkg("e", "1.0"),
        ];
        let new = [
            pkg("a", "1.0"),
            pkg("b", "1.9"),
            pkg("c", "1.0"),
            pkg("f", "1"),
            pkg("e", "1.0-0"),
        ];
        let d = diff(&old, &new);
        let got: Vec<(&str, ChangeKind)> = d
            .changes
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        assert_eq!(
            got,
            [
                ("b", ChangeKind::Downgraded),
                ("c", ChangeKind::Upgraded),
                ("d", ChangeKind::Removed),
                ("e", ChangeKind::Changed),
                ("f", ChangeKind::Added),
            ]
        );
        assert_eq!(d.unchanged, 1);
    }

    #[test]
    fn multi_arch_duplicates_are_kept_apart() {
        let mut i386 = pkg("libc6", "2.36-9");
        i386.architecture = Some("i386".into());
        let old = [pkg("libc6", "2.36-9"), i386.clone()];
        let mut new_i386 = i386;
        new_i386.version = "2.36-10".into();
        let new = [pkg("libc6", "2.36-9"), new_i386];
        let d = diff(&old, &new);
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].name, "libc6:i386");
    }
}
