//! package stage: dpkg's version ordering, as `dpkg --compare-versions` (lib/dpkg/
//! version.c `dpkg_version_compare` and `verrevcmp`): epoch numerically, then upstream
//! version and Debian revision each by alternating non-digit runs (`~` before
//! everything, even the end; letters before other characters) and digit runs
//! (numerically). Pure; never panics.

use std::cmp::Ordering;

use super::compare_digits;

/// Compares two dpkg versions (`[epoch:]upstream[-revision]`).
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (split(a), split(b));
    compare_digits(a.epoch.as_bytes(), b.epoch.as_bytes())
        .then_with(|| verrevcmp(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| verrevcmp(a.revision.as_bytes(), b.revision.as_bytes()))
}

#[derive(Debug)]
struct Parts<'a> {
    epoch: &'a str,
    upstream: &'a str,
    revision: &'a str,
}

/// dpkg's `parseversion`: the epoch is what precedes the first `:` (only digits count;
/// anything else reads as 0, as `strtol` would stop), the revision follows the last `-`.
fn split(version: &str) -> Parts<'_> {
    let version = version.trim();
    let (epoch, rest) = match version.split_once(':') {
        Some((epoch, rest)) => {
            let digits = epoch.bytes().take_while(u8::is_ascii_digit).count();
            (&epoch[..digits], rest)
        }
        None => ("", version),
    };
    let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
    Parts {
        epoch,
        upstream,
        revision,
    }
}

/// The weight of one character in a non-digit run; the end of the string weighs 0.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        // The non-digit run, character by character.
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        // The digit run, as a number.
        let start_a = i;
        while digit(a, i) {
            i += 1;
        }
        let start_b = j;
        while digit(b, j) {
            j += 1;
        }
        let by_number = compare_digits(&a[start_a..i], &b[start_b..j]);
        if by_number != Ordering::Equal {
            return by_number;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_as_dpkg_compare_versions() {
        // Rules from dpkg's lib/dpkg/version.c and deb-version(7).
        let cases = [
            ("1.0", "1.0", Ordering::Equal),
            ("1.0~rc1", "1.0", Ordering::Less),
            ("1.0~~", "1.0~", Ordering::Less),
            ("1.0", "1.0+b1", Ordering::Less),
            ("1.0a", "1.0+", Ordering::Less),
            ("1:0.1", "2.0", Ordering::Greater),
            ("1.10", "1.9", Ordering::Greater),
            ("1.0-1", "1.0-1.1", Ordering::Less),
            ("1.0", "1.0-0", Ordering::Equal),
            ("001", "1", Ordering::Equal),
            ("1.2.3-1~deb12u1", "1.2.3-1", Ordering::Less),
            ("2.36-9+deb12u4", "2.36-9+deb12u10", Ordering::Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn odd_text_never_panics() {
        for text in [
            "",
            ":",
            "-",
            "a:b-c",
            "~",
            "1:",
            ":1",
            "1.0-",
            "💥",
            "99999999999999999999999:1",
        ] {
            let _ = compare(text, "1.0");
        }
    }
}
