//! package stage: apk-tools' version ordering (`apk version -t`; the grammar in
//! apk-tools doc/apk-package.5: `number{.number}...{letter}{_suffix{number}}...
//! {~hash}{-r#}`). Numbers compare numerically, except that a later component starting
//! with `0` compares as text (apk's fractional rule); then the letter; then the
//! suffixes (`_alpha` < `_beta` < `_pre` < `_rc` < none < `_cvs` < `_svn` < `_git` <
//! `_hg` < `_p`); then the `-r` release. Text outside the grammar orders as the
//! reference implementation does: two invalid versions by plain text, otherwise by
//! the parts that could be read, and a tail that could not be read sorts lower.

use std::cmp::Ordering;

use super::compare_digits;

/// Compares two apk versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (va, vb) = (Version::parse(a), Version::parse(b));
    if va.invalid && vb.invalid {
        return a.cmp(b);
    }
    compare_numbers(&va, &vb)
        .then_with(|| compare_letters(va.letter, vb.letter))
        .then_with(|| compare_suffixes(&va.suffixes, &vb.suffixes))
        .then_with(|| compare_digits(va.release, vb.release))
        .then_with(|| match (va.rest.is_empty(), vb.rest.is_empty()) {
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => Ordering::Equal,
        })
}

/// Suffix names in ascending order; "no suffix" sits between `_rc` and `_cvs`.
const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
/// The weight of "no suffix here".
const NO_SUFFIX: u8 = 4;

#[derive(Debug, Default)]
struct Version<'a> {
    numbers: Vec<&'a [u8]>,
    letter: Option<u8>,
    /// (weight, number).
    suffixes: Vec<(u8, &'a [u8])>,
    release: &'a [u8],
    rest: &'a [u8],
    invalid: bool,
}

impl<'a> Version<'a> {
    fn parse(text: &'a str) -> Version<'a> {
        let s = text.as_bytes();
        let mut v = Version::default();
        let mut i = 0;
        // Numbers: digits, each optionally followed by one dot.
        let mut numbers_end = 0;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            let start = i;
            while s.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            v.numbers.push(&s[start..i]);
            numbers_end = i;
            if s.get(i) == Some(&b'.') {
                i += 1;
                numbers_end = i;
            }
        }
        if numbers_end > 0 && s.get(numbers_end - 1) == Some(&b'.') {
            // A trailing dot leaves an empty last component, as a split on '.' would.
            v.numbers.push(&[]);
        }
        i = numbers_end;
        if let Some(&c) = s.get(i)
            && c.is_ascii_lowercase()
        {
            v.letter = Some(c);
            i += 1;
        }
        // Suffixes: `_name[digits]`, one after another.
        while s.get(i) == Some(&b'_') {
            let Some((weight, len)) = suffix_at(&s[i + 1..]) else {
                break;
            };
            let start = i + 1 + len;
            let mut end = start;
            while s.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
            v.suffixes.push((weight, &s[start..end]));
            i = end;
        }
        // A commit hash, ignored for ordering.
        if s.get(i) == Some(&b'~') && s.get(i + 1).is_some_and(is_lower_hex) {
            i += 1;
            while s.get(i).is_some_and(is_lower_hex) {
                i += 1;
            }
        }
        let rest = &s[i..];
        if rest.is_empty() {
            return v;
        }
        if let Some(after) = rest.strip_prefix(b"-r") {
            let digits = after.iter().take_while(|c| c.is_ascii_digit()).count();
            v.release = &after[..digits];
            v.rest = &after[digits..];
        } else {
            v.invalid = true;
            v.rest = rest;
        }
        v
    }
}

fn is_lower_hex(c: &u8) -> bool {
    c.is_ascii_digit() || (b'a'..=b'f').contains(c)
}

/// The suffix name at the start of `s`: its weight and length.
fn suffix_at(s: &[u8]) -> Option<(u8, usize)> {
    // Longest names first is unnecessary: no name is a prefix of another but `p` of
    // `pre`, so `pre` is tried before `p` by the order of the list.
    SUFFIXES.iter().enumerate().find_map(|(i, name)| {
        s.starts_with(name.as_bytes()).then(|| {
            let weight = if i < NO_SUFFIX as usize { i } else { i + 1 };
            (u8::try_from(weight).unwrap_or(u8::MAX), name.len())
        })
    })
}

fn compare_numbers(a: &Version<'_>, b: &Version<'_>) -> Ordering {
    let n = a.numbers.len().max(b.numbers.len());
    for index in 0..n {
        let x = a.numbers.get(index).copied();
        let y = b.numbers.get(index).copied();
        let order = match (x, y) {
            // A missing component reads as a plain 0.
            (Some(x), Some(y))
                if index > 0 && (x.first() == Some(&b'0') || y.first() == Some(&b'0')) =>
            {
                x.cmp(y)
            }
            (x, y) => compare_digits(x.unwrap_or(b"0"), y.unwrap_or(b"0")),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

fn compare_letters(a: Option<u8>, b: Option<u8>) -> Ordering {
    // `None < Some(_)`, and letters by their byte: Option's order is exactly that.
    a.cmp(&b)
}

fn compare_suffixes(a: &[(u8, &[u8])], b: &[(u8, &[u8])]) -> Ordering {
    let none: (u8, &[u8]) = (NO_SUFFIX, b"0");
    let n = a.len().max(b.len());
    for index in 0..n {
        let x = a.get(index).copied().unwrap_or(none);
        let y = b.get(index).copied().unwrap_or(none);
        let order = x.0.cmp(&y.0).then_with(|| compare_digits(x.1, y.1));
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_as_apk_version_t() {
        // apk-tools doc/apk-package.5 and tests/version.data.
        let cases = [
            ("1.2.3-r0", "1.2.3-r1", Ordering::Less),
            ("1.2.3", "1.2.3-r0", Ordering::Equal),
            ("1.0_alpha", "1.0_beta", Ordering::Less),
            ("1.0_rc1", "1.0", Ordering::Less),
            ("1.0", "1.0_p1", Ordering::Less),
            ("1.0a", "1.0b", Ordering::Less),
            ("1.10", "1.9", Ordering::Greater),
            ("1.02", "1.1", Ordering::Less),
            ("3.3.1-r0", "3.3.0_p2-r3", Ordering::Greater),
            ("1.2~abc123-r1", "1.2-r1", Ordering::Equal),
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
            ".",
            "_",
            "-r",
            "~",
            "1._p",
            "1_",
            "💥",
            "1.2.3_pre_p_alpha-r-1",
        ] {
            let _ = compare(text, "1.0");
        }
    }
}
