//! package stage (knowledge): the version orderings of OS package managers — dpkg's for
//! Debian and Ubuntu, apk-tools' for Alpine (and the apk-based Wolfi and Chainguard).
//! Pure comparisons of version text; never fails, never panics: text a package manager
//! would reject still gets a total order (the one the reference implementations use).

mod apk;
mod dpkg;

use std::cmp::Ordering;

pub use apk::compare as compare_apk;
pub use dpkg::compare as compare_dpkg;

/// Which package manager's rules order a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// `dpkg --compare-versions`: epoch, upstream, revision.
    Dpkg,
    /// `apk version -t`: numbers, letter, suffixes, `-r` release.
    Apk,
}

impl Scheme {
    /// Compares `a` with `b` under this scheme.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            Scheme::Dpkg => compare_dpkg(a, b),
            Scheme::Apk => compare_apk(a, b),
        }
    }
}

/// Compares two runs of ASCII digits as unbounded numbers (leading zeros ignored).
pub(crate) fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let strip = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b'0').count() };
    let (a, b) = (&a[strip(a)..], &b[strip(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}
