//! package stage: dpkg's database (`var/lib/dpkg/status`, deb822 paragraphs as dpkg
//! writes them, see deb-status(5) and lib/dpkg/parse.c) and the distroless
//! `var/lib/dpkg/status.d/<name>` files (one or more paragraphs, no `Status:` field).
//! Only packages whose files are on disk count: dpkg's states from `unpacked` on;
//! `not-installed` and `config-files` entries are left out. Pure.

use super::{Manager, Package, Parsed, Problem, paragraphs};

/// The package states (third word of `Status:`) under which a package's files exist.
const ON_DISK: [&str; 6] = [
    "installed",
    "unpacked",
    "half-configured",
    "half-installed",
    "triggers-awaited",
    "triggers-pending",
];

/// Parses a `status` file; `file` names it in problems.
pub fn parse(text: &str, file: &str) -> Parsed {
    parse_with(text, file, true)
}

/// Parses one distroless `status.d/` file (no `Status:` field: every entry counts).
pub fn parse_status_d(text: &str, file: &str) -> Parsed {
    parse_with(text, file, false)
}

fn parse_with(text: &str, file: &str, needs_status: bool) -> Parsed {
    let mut parsed = Parsed::default();
    let problem = |line: usize, message: String| Problem {
        file: file.to_owned(),
        line: Some(line),
        message,
    };
    for paragraph in paragraphs(text) {
        let first = paragraph.first().map_or(0, |(n, _)| *n);
        let mut fields = Fields::default();
        for &(n, line) in &paragraph {
            if line.starts_with([' ', '\t']) {
                continue; // a continuation line of a multi-line field (Description, Conffiles)
            }
            let Some((name, value)) = line.split_once(':') else {
                parsed
                    .problems
                    .push(problem(n, format!("not a field: {:?}", clip(line))));
                continue;
            };
            let value = value.trim();
            match name.trim() {
                "Package" => fields.package = Some(value),
                "Status" => fields.status = Some(value),
                "Version" => fields.version = Some(value),
                "Architecture" => fields.architecture = Some(value),
                "Source" => fields.source = Some(value),
                _ => {}
            }
        }
        if needs_status {
            match fields.status {
                Some(status) if on_disk(status) => {}
                Some(_) => continue,
                None => {
                    parsed
                        .problems
                        .push(problem(first, "entry without a Status field".to_owned()));
                    continue;
                }
            }
        }
        let (Some(name), Some(version)) = (fields.package, fields.version) else {
            let what = if fields.package.is_none() {
                "Package"
            } else {
                "Version"
            };
            parsed
                .problems
                .push(problem(first, format!("entry without a {what} field")));
            continue;
        };
        if name.is_empty() || version.is_empty() {
            parsed.problems.push(problem(
                first,
                "entry with an empty name or version".to_owned(),
            ));
            continue;
        }
        let (source, source_version) = source_of(fields.source, name, version);
        parsed.packages.push(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            architecture: fields.architecture.map(str::to_owned),
            source,
            source_version,
            manager: Manager::Dpkg,
        });
    }
    parsed
}

#[derive(Default)]
struct Fields<'a> {
    package: Option<&'a str>,
    status: Option<&'a str>,
    version: Option<&'a str>,
    architecture: Option<&'a str>,
    source: Option<&'a str>,
}

/// `Status: want flag state`: whether the state leaves the package's files on disk.
fn on_disk(status: &str) -> bool {
    status
        .split_whitespace()
        .nth(2)
        .is_some_and(|state| ON_DISK.contains(&state))
}

/// `Source: name` or `Source: name (version)` (deb-src-control(5)); the binary
/// package's own name and version when absent.
fn source_of(source: Option<&str>, name: &str, version: &str) -> (String, String) {
    let Some(source) = source.map(str::trim).filter(|s| !s.is_empty()) else {
        return (name.to_owned(), version.to_owned());
    };
    match source.split_once('(') {
        Some((source_name, rest)) => {
            let source_version = rest.trim_end().trim_end_matches(')').trim();
            let source_version = if source_version.is_empty() {
                version
            } else {
                source_version
            };
            (source_name.trim().to_owned(), source_version.to_owned())
        }
        None => (source.to_owned(), version.to_owned()),
    }
}

/// At most 80 characters of a line, for messages.
pub(crate) fn clip(line: &str) -> &str {
    match line.char_indices().nth(80) {
        Some((at, _)) => &line[..at],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libc6\nStatus: install ok installed\nPriority: optional\n\
Architecture: amd64\nMulti-Arch: same\nSource: glibc\nVersion: 2.36-9+deb12u4\n\
Description: GNU C Library\n shared libraries\n .\n more\n\n\
Package: tar\nStatus: install ok installed\nArchitecture: amd64\nSource: tar (1.34+dfsg-1.2)\n\
Version: 1.34+dfsg-1.2+deb12u1\n\n\
Package: oldpkg\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
Package: gone\nStatus: purge ok not-installed\n\n\
Package: half\nStatus: install reinstreq half-installed\nVersion: 2\nArchitecture: all\n";

    #[test]
    fn reads_installed_packages_with_their_source() {
        let parsed = parse(STATUS, "var/lib/dpkg/status");
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        let got: Vec<(&str, &str, &str, &str)> = parsed
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.source.as_str(),
                    p.source_version.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("libc6", "2.36-9+deb12u4", "glibc", "2.36-9+deb12u4"),
                ("tar", "1.34+dfsg-1.2+deb12u1", "tar", "1.34+dfsg-1.2"),
                ("half", "2", "half", "2"),
            ]
        );
    }

    #[test]
    fn garbage_lines_are_problems_and_the_rest_is_read() {
        let text = "Package: a\nStatus: install ok installed\nthis is garbage\nVersion: 1\n\n\
                    \u{0}\u{1}binary\n\nPackage: b\nStatus: install ok installed\nVersion: 2\n";
        let parsed = parse(text, "status");
        assert_eq!(parsed.packages.len(), 2);
        assert_eq!(parsed.problems.len(), 3, "{:?}", parsed.problems);
        assert_eq!(parsed.problems[0].line, Some(3));
    }

    #[test]
    fn status_d_entries_need_no_status() {
        let parsed = parse_status_d(
            "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
            "var/lib/dpkg/status.d/base",
        );
        assert_eq!(parsed.packages.len(), 1);
        assert_eq!(parsed.packages[0].source, "base-files");
    }
}
