//! library stage (knowledge): release names that official image tags use as variants
//! (Debian and Ubuntu codenames, Node.js LTS names, Windows Server releases), each with a
//! number that orders it among its family. Static tables; no I/O.

/// A family of release names whose members can be ordered oldest to newest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Family {
    Debian,
    Ubuntu,
    /// Node.js LTS lines (`iron` is 20).
    Node,
    /// Windows Server releases after `windowsservercore-` / `nanoserver-`.
    Windows,
}

/// Codenames sorted by name, for binary search: Debian (major version; `sid` is no
/// release), Ubuntu (`yymm`, 2204 for 22.04) and Node.js LTS lines (major version).
const CODENAMES: &[(&str, Family, u64)] = &[
    ("argon", Family::Node, 4),
    ("artful", Family::Ubuntu, 1710),
    ("bionic", Family::Ubuntu, 1804),
    ("bookworm", Family::Debian, 12),
    ("boron", Family::Node, 6),
    ("breezy", Family::Ubuntu, 510),
    ("bullseye", Family::Debian, 11),
    ("buster", Family::Debian, 10),
    ("carbon", Family::Node, 8),
    ("cosmic", Family::Ubuntu, 1810),
    ("dapper", Family::Ubuntu, 606),
    ("disco", Family::Ubuntu, 1904),
    ("dubnium", Family::Node, 10),
    ("duke", Family::Debian, 15),
    ("edgy", Family::Ubuntu, 610),
    ("eoan", Family::Ubuntu, 1910),
    ("erbium", Family::Node, 12),
    ("etch", Family::Debian, 4),
    ("feisty", Family::Ubuntu, 704),
    ("fermium", Family::Node, 14),
    ("focal", Family::Ubuntu, 2004),
    ("forky", Family::Debian, 14),
    ("gallium", Family::Node, 16),
    ("groovy", Family::Ubuntu, 2010),
    ("gutsy", Family::Ubuntu, 710),
    ("hamm", Family::Debian, 2),
    ("hardy", Family::Ubuntu, 804),
    ("hirsute", Family::Ubuntu, 2104),
    ("hoary", Family::Ubuntu, 504),
    ("hydrogen", Family::Node, 18),
    ("impish", Family::Ubuntu, 2110),
    ("intrepid", Family::Ubuntu, 810),
    ("iron", Family::Node, 20),
    ("jammy", Family::Ubuntu, 2204),
    ("jaunty", Family::Ubuntu, 904),
    ("jessie", Family::Debian, 8),
    ("jod", Family::Node, 22),
    ("karmic", Family::Ubuntu, 910),
    ("kinetic", Family::Ubuntu, 2210),
    ("krypton", Family::Node, 24),
    ("lenny", Family::Debian, 5),
    ("lucid", Family::Ubuntu, 1004),
    ("lunar", Family::Ubuntu, 2304),
    ("mantic", Family::Ubuntu, 2310),
    ("maverick", Family::Ubuntu, 1010),
    ("natty", Family::Ubuntu, 1104),
    ("noble", Family::Ubuntu, 2404),
    ("oneiric", Family::Ubuntu, 1110),
    ("oracular", Family::Ubuntu, 2410),
    ("plucky", Family::Ubuntu, 2504),
    ("potato", Family::Debian, 2),
    ("precise", Family::Ubuntu, 1204),
    ("quantal", Family::Ubuntu, 1210),
    ("questing", Family::Ubuntu, 2510),
    ("raring", Family::Ubuntu, 1304),
    ("resolute", Family::Ubuntu, 2604),
    ("sarge", Family::Debian, 3),
    ("saucy", Family::Ubuntu, 1310),
    ("slink", Family::Debian, 2),
    ("squeeze", Family::Debian, 6),
    ("stretch", Family::Debian, 9),
    ("trixie", Family::Debian, 13),
    ("trusty", Family::Ubuntu, 1404),
    ("utopic", Family::Ubuntu, 1410),
    ("vivid", Family::Ubuntu, 1504),
    ("warty", Family::Ubuntu, 410),
    ("wheezy", Family::Debian, 7),
    ("wily", Family::Ubuntu, 1510),
    ("woody", Family::Debian, 3),
    ("xenial", Family::Ubuntu, 1604),
    ("yakkety", Family::Ubuntu, 1610),
    ("zesty", Family::Ubuntu, 1704),
];

/// Named Windows Server releases as `yymm`-like ordinals comparable with `1809` etc.
const WINDOWS: &[(&str, u64)] = &[
    ("ltsc2016", 1607),
    ("ltsc2019", 1809),
    ("ltsc2022", 2108),
    ("ltsc2025", 2410),
];

/// The family and rank of a codename token, if it is one.
pub(crate) fn codename(token: &str) -> Option<(Family, u64)> {
    let found = CODENAMES.binary_search_by(|(name, _, _)| (*name).cmp(token));
    found.ok().map(|at| (CODENAMES[at].1, CODENAMES[at].2))
}

/// The rank of a Windows release token (`ltsc2022`, `1809`, `20H2`), if it is one.
pub(crate) fn windows_release(token: &str) -> Option<u64> {
    if let Some((_, rank)) = WINDOWS.iter().find(|(name, _)| *name == token) {
        return Some(*rank);
    }
    let bytes = token.as_bytes();
    match bytes {
        [a, b, c, d] if bytes.iter().all(u8::is_ascii_digit) => Some(
            [a, b, c, d]
                .iter()
                .fold(0, |n, x| n * 10 + u64::from(**x - b'0')),
        ),
        // Semi-annual channel names: `20H2` is the second half of 2020.
        [a, b, b'H', half @ (b'1' | b'2')] if a.is_ascii_digit() && b.is_ascii_digit() => {
            let year = u64::from(a - b'0') * 10 + u64::from(b - b'0');
            Some(year * 100 + if *half == b'1' { 4 } else { 10 })
        }
        _ => None,
    }
}

/// Whether a token names a Windows base image, after which a release token follows.
pub(crate) fn is_windows_base(token: &str) -> bool {
    matches!(token, "windowsservercore" | "nanoserver")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codenames_are_sorted_for_binary_search() {
        assert!(CODENAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(codename("bookworm"), Some((Family::Debian, 12)));
        assert_eq!(codename("jammy"), Some((Family::Ubuntu, 2204)));
        assert_eq!(codename("iron"), Some((Family::Node, 20)));
        assert_eq!(codename("sid"), None);
    }

    #[test]
    fn windows_releases_order_by_date() {
        let order = [
            "ltsc2016", "1709", "1803", "1809", "ltsc2019", "1909", "20H2", "ltsc2022", "ltsc2025",
        ];
        let ranks: Vec<u64> = order
            .iter()
            .map(|t| windows_release(t).unwrap_or(0))
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    }
}
