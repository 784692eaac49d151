//! package stage (knowledge): the OS packages an image's final filesystem holds, read
//! from the package managers' own databases — dpkg's `var/lib/dpkg/status` and the
//! distroless `status.d/` files, apk's `lib/apk/db/installed` — with each package's
//! source package (what advisories name), the OS release from `os-release`, and the
//! difference between two package sets. Pure: callers hand in file contents. Damaged
//! databases give what could be read plus [`Problem`]s, never an error or a panic.

mod apk;
mod diff;
mod dpkg;
mod os_release;

use serde::Serialize;

pub use apk::parse as parse_apk_installed;
pub use diff::{ChangeKind, PackageChange, PackageDiff, diff};
pub use dpkg::{parse as parse_dpkg_status, parse_status_d};
pub use os_release::{OsRelease, Release};

use crate::version::Scheme;

/// Which package manager installed a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Manager {
    Dpkg,
    Apk,
}

impl Manager {
    /// The version ordering of this manager's packages.
    pub fn scheme(self) -> Scheme {
        match self {
            Manager::Dpkg => Scheme::Dpkg,
            Manager::Apk => Scheme::Apk,
        }
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// The binary package name (`libc6`).
    pub name: String,
    pub version: String,
    /// e.g. `amd64`, `all`, `x86_64`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The source package (dpkg `Source:`, apk `o:`; the package itself when absent).
    pub source: String,
    /// The source package's version (dpkg `Source: name (version)`; else the version).
    pub source_version: String,
    pub manager: Manager,
}

impl Package {
    /// The name packages are matched on across images: the name, qualified with the
    /// architecture when the same name is installed for several (dpkg Multi-Arch).
    pub fn key(&self, qualified: bool) -> String {
        match (&self.architecture, qualified) {
            (Some(arch), true) => format!("{}:{arch}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// Something in a database that could not be read; the rest still was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The database file (`var/lib/dpkg/status`).
    pub file: String,
    /// 1-based line, when the problem has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub message: String,
}

/// What one database file yielded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub packages: Vec<Package>,
    pub problems: Vec<Problem>,
}

/// Splits deb822/apk-style text into paragraphs: each a list of `(line number, line)`,
/// separated by blank lines. `\r` line ends are tolerated.
pub(crate) fn paragraphs(text: &str) -> Vec<Vec<(usize, &str)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push((index + 1, line));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}
