//! ci stage: the version patterns of metadata-action's `type=semver` and `type=pep440`
//! rules (`{{version}}`, `{{major}}.{{minor}}`, `{{raw}}`) applied to a known version.
//! Pure string work, no regular expressions.
//!
//! Semantic versions follow node-semver's strict `valid()` (`v` allowed in front, no
//! leading zeros, `-prerelease`, `+build`); a prerelease gets `{{version}}` whatever the
//! pattern unless the pattern is `{{raw}}`. PEP 440 versions follow the
//! `VERSION_PATTERN` of Python's packaging (as @renovate/pep440 does): epoch, release,
//! pre, post, dev and local parts, normalised by `clean`; pre, post and dev releases get
//! the clean version unless the pattern is `{{raw}}`. Only full releases make `latest`.

/// `pattern` applied to the semantic version `raw`: the value and whether it is a release
/// (not a prerelease). `None`: not a valid semantic version (no tag is made).
pub(crate) fn semver(raw: &str, pattern: &str) -> Option<(String, bool)> {
    let trimmed = raw.trim();
    let body = trimmed.strip_prefix('v').unwrap_or(trimmed);
    let (body, build) = match body.split_once('+') {
        Some((b, build)) => (b, Some(build)),
        None => (body, None),
    };
    let (core, pre) = match body.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (body, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let numeric = |n: &str| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    if numbers.len() != 3 || !numbers.iter().all(|n| numeric(n)) {
        return None;
    }
    let identifier_ok = |id: &str, numeric_rule: bool| {
        !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && (!numeric_rule || !id.bytes().all(|b| b.is_ascii_digit()) || numeric(id))
    };
    if let Some(pre) = pre
        && !pre.split('.').all(|id| identifier_ok(id, true))
    {
        return None;
    }
    if let Some(build) = build
        && !build.split('.').all(|id| identifier_ok(id, false))
    {
        return None;
    }
    let version = match pre {
        Some(p) => format!("{core}-{p}"),
        None => core.to_owned(),
    };
    let fields = |name: &str| -> Option<String> {
        Some(match name {
            "raw" => raw.to_owned(),
            "version" => version.clone(),
            "major" => numbers[0].to_owned(),
            "minor" => numbers[1].to_owned(),
            "patch" => numbers[2].to_owned(),
            "prerelease" => pre.unwrap_or("").replace('.', ","),
            "build" => build.unwrap_or("").replace('.', ","),
            _ => return None,
        })
    };
    if pre.is_some() {
        let pattern = if is_raw(pattern) {
            pattern
        } else {
            "{{version}}"
        };
        return Some((render(pattern, &fields)?, false));
    }
    Some((render(pattern, &fields)?, true))
}

/// `pattern` applied to the PEP 440 version `raw` (see [`semver`]).
pub(crate) fn pep440(raw: &str, pattern: &str) -> Option<(String, bool)> {
    let parsed = Pep440::parse(raw)?;
    let clean = parsed.clean();
    if parsed.pre.is_some() || parsed.post.is_some() || parsed.dev.is_some() {
        let value = if is_raw(pattern) {
            raw.to_owned()
        } else {
            clean
        };
        return Some((value, false));
    }
    let part = |i: usize| parsed.release.get(i).copied().unwrap_or(0).to_string();
    let fields = |name: &str| -> Option<String> {
        Some(match name {
            "raw" => raw.to_owned(),
            "version" => clean.clone(),
            "major" => part(0),
            "minor" => part(1),
            "patch" => part(2),
            _ => return None,
        })
    };
    Some((render(pattern, &fields)?, true))
}

/// Whether the pattern is exactly `{{raw}}` (`isRawStatement`).
fn is_raw(pattern: &str) -> bool {
    pattern
        .trim()
        .strip_prefix("{{")
        .and_then(|p| p.strip_suffix("}}"))
        .is_some_and(|p| p.trim() == "raw")
}

/// Fills `{{name}}` from `fields`; an unknown name fails the whole pattern.
fn render(pattern: &str, fields: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}")?;
        out.push_str(&fields(rest[start + 2..start + end].trim())?);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Pep440 {
    epoch: u64,
    release: Vec<u64>,
    pre: Option<(&'static str, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    local: Option<String>,
}

impl Pep440 {
    fn parse(raw: &str) -> Option<Pep440> {
        let lower = raw.trim().to_ascii_lowercase();
        let mut s = lower.strip_prefix('v').unwrap_or(&lower);
        let mut out = Pep440::default();
        if let Some((epoch, rest)) = s.split_once('!') {
            out.epoch = epoch.parse().ok()?;
            s = rest;
        }
        let (release, rest) = take_release(s)?;
        out.release = release;
        s = rest;
        // pre
        let after_sep = s.strip_prefix(['-', '_', '.']).unwrap_or(s);
        for (label, normal) in [
            ("alpha", "a"),
            ("beta", "b"),
            ("preview", "rc"),
            ("pre", "rc"),
            ("rc", "rc"),
            ("a", "a"),
            ("b", "b"),
            ("c", "rc"),
        ] {
            if let Some(rest) = after_sep.strip_prefix(label) {
                let rest = rest
                    .strip_prefix(['-', '_', '.'])
                    .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                    .unwrap_or(rest);
                let (n, rest) = take_number(rest);
                out.pre = Some((normal, n.unwrap_or(0)));
                s = rest;
                break;
            }
        }
        // post: `-N`, or [-_.]?(post|rev|r)[-_.]?N?
        if let Some(rest) = s.strip_prefix('-')
            && let (Some(n), rest) = take_number(rest)
        {
            out.post = Some(n);
            s = rest;
        } else {
            let after_sep = s.strip_prefix(['-', '_', '.']).unwrap_or(s);
            for label in ["post", "rev", "r"] {
                if let Some(rest) = after_sep.strip_prefix(label) {
                    let rest = rest
                        .strip_prefix(['-', '_', '.'])
                        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                        .unwrap_or(rest);
                    let (n, rest) = take_number(rest);
                    out.post = Some(n.unwrap_or(0));
                    s = rest;
                    break;
                }
            }
        }
        // dev
        let after_sep = s.strip_prefix(['-', '_', '.']).unwrap_or(s);
        if let Some(rest) = after_sep.strip_prefix("dev") {
            let rest = rest
                .strip_prefix(['-', '_', '.'])
                .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                .unwrap_or(rest);
            let (n, rest) = take_number(rest);
            out.dev = Some(n.unwrap_or(0));
            s = rest;
        }
        if let Some(local) = s.strip_prefix('+') {
            let parts: Vec<&str> = local.split(['-', '_', '.']).collect();
            if parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                return None;
            }
            out.local = Some(parts.join("."));
            s = "";
        }
        s.is_empty().then_some(out)
    }

    fn clean(&self) -> String {
        let mut out = String::new();
        if self.epoch != 0 {
            out.push_str(&format!("{}!", self.epoch));
        }
        let release: Vec<String> = self.release.iter().map(u64::to_string).collect();
        out.push_str(&release.join("."));
        if let Some((label, n)) = self.pre {
            out.push_str(&format!("{label}{n}"));
        }
        if let Some(n) = self.post {
            out.push_str(&format!(".post{n}"));
        }
        if let Some(n) = self.dev {
            out.push_str(&format!(".dev{n}"));
        }
        if let Some(local) = &self.local {
            out.push_str(&format!("+{local}"));
        }
        out
    }
}

/// `N(.N)*` at the start.
fn take_release(s: &str) -> Option<(Vec<u64>, &str)> {
    let mut release = Vec::new();
    let mut rest = s;
    loop {
        let (n, after) = take_number(rest);
        release.push(n?);
        match after.strip_prefix('.') {
            Some(next) if next.starts_with(|c: char| c.is_ascii_digit()) => rest = next,
            _ => return Some((release, after)),
        }
    }
}

fn take_number(s: &str) -> (Option<u64>, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return (None, s);
    }
    (s[..end].parse().ok(), &s[end..])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// (version, pattern, expected value and whether it is a release).
    type Case<'a> = (&'a str, &'a str, Option<(&'a str, bool)>);

    /// node-semver `valid()` cases from its test/fixtures (valid and invalid versions),
    /// with metadata-action's pattern use.
    #[test]
    fn semver_patterns_follow_node_semver() {
        let cases: &[Case<'_>] = &[
            ("1.2.3", "{{version}}", Some(("1.2.3", true))),
            ("v1.2.3", "{{major}}.{{minor}}", Some(("1.2", true))),
            ("1.2.3", "{{raw}}", Some(("1.2.3", true))),
            ("v1.2.3", "{{raw}}", Some(("v1.2.3", true))),
            ("1.2.3-rc.1", "{{major}}", Some(("1.2.3-rc.1", false))),
            ("1.2.3-rc.1", "{{raw}}", Some(("1.2.3-rc.1", false))),
            ("1.2.3+build.5", "{{version}}", Some(("1.2.3", true))),
            ("3.10", "{{version}}", None),
            ("01.2.3", "{{version}}", None),
            ("1.2.3-01", "{{version}}", None),
            ("1.2", "{{major}}", None),
            ("a.b.c", "{{version}}", None),
        ];
        for (raw, pattern, want) in cases {
            let got = semver(raw, pattern);
            let want = want.map(|(v, r)| (v.to_owned(), r));
            assert_eq!(got, want, "{raw} {pattern}");
        }
    }

    /// PEP 440 (packaging's VERSION_PATTERN and normalisation) as @renovate/pep440 reads
    /// it, with metadata-action's pattern use.
    #[test]
    fn pep440_patterns_follow_the_specification() {
        let cases: &[Case<'_>] = &[
            ("3.11.6", "{{version}}", Some(("3.11.6", true))),
            ("3.11.6", "{{major}}.{{minor}}", Some(("3.11", true))),
            ("3.10", "py{{major}}", Some(("py3", true))),
            ("2.7", "{{major}}-buster", Some(("2-buster", true))),
            ("3", "{{major}}.{{minor}}", Some(("3.0", true))),
            ("v1.0", "{{version}}", Some(("1.0", true))),
            ("1.0.01", "{{version}}", Some(("1.0.1", true))),
            ("1!2.0", "{{version}}", Some(("1!2.0", true))),
            ("1.0a1", "{{major}}", Some(("1.0a1", false))),
            ("1.0-alpha.1", "{{major}}", Some(("1.0a1", false))),
            ("1.0.post2", "{{major}}", Some(("1.0.post2", false))),
            ("1.0-2", "{{major}}", Some(("1.0.post2", false))),
            ("1.0.dev3", "{{raw}}", Some(("1.0.dev3", false))),
            ("1.0+ubuntu-1", "{{version}}", Some(("1.0+ubuntu.1", true))),
            ("bullseye", "{{version}}", None),
            ("1.0.", "{{version}}", None),
        ];
        for (raw, pattern, want) in cases {
            let got = pep440(raw, pattern);
            let want = want.map(|(v, r)| (v.to_owned(), r));
            assert_eq!(got, want, "{raw} {pattern}");
        }
    }
}
