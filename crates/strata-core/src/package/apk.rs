//! package stage: apk's installed database (`lib/apk/db/installed`): one paragraph per
//! package of `X:value` lines, as apk-tools documents it (apk-package(5) and the
//! "Apk spec" page of the Alpine wiki: `P` name, `V` version, `A` architecture, `o`
//! origin, i.e. the source package). Pure.

use super::dpkg::clip;
use super::{Manager, Package, Parsed, Problem, paragraphs};

/// Parses an `installed` file; `file` names it in problems.
pub fn parse(text: &str, file: &str) -> Parsed {
    let mut parsed = Parsed::default();
    for paragraph in paragraphs(text) {
        let first = paragraph.first().map_or(0, |(n, _)| *n);
        let (mut name, mut version, mut arch, mut origin) = (None, None, None, None);
        for &(n, line) in &paragraph {
            let bytes = line.as_bytes();
            if bytes.len() < 2 || bytes[1] != b':' || !bytes[0].is_ascii_alphabetic() {
                parsed.problems.push(Problem {
                    file: file.to_owned(),
                    line: Some(n),
                    message: format!("not an `X:value` line: {:?}", clip(line)),
                });
                continue;
            }
            let value = line[2..].trim();
            match bytes[0] {
                b'P' => name = Some(value),
                b'V' => version = Some(value),
                b'A' => arch = Some(value),
                b'o' => origin = Some(value),
                _ => {}
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            parsed.problems.push(Problem {
                file: file.to_owned(),
                line: Some(first),
                message: "entry without a P: name or V: version".to_owned(),
            });
            continue;
        };
        if name.is_empty() || version.is_empty() {
            continue;
        }
        let source = origin.filter(|o| !o.is_empty()).unwrap_or(name);
        parsed.packages.push(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            architecture: arch.map(str::to_owned),
            source: source.to_owned(),
            source_version: version.to_owned(),
            manager: Manager::Apk,
        });
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_packages_and_origins() {
        let text = "C:Q1abc=\nP:libcrypto3\nV:3.3.2-r0\nA:x86_64\nS:1\nI:2\nT:Crypto\n\
                    o:openssl\nF:usr/lib\nR:libcrypto.so.3\n\nP:musl\nV:1.2.5-r0\nA:x86_64\n";
        let parsed = parse(text, "lib/apk/db/installed");
        assert!(parsed.problems.is_empty());
        assert_eq!(parsed.packages.len(), 2);
        assert_eq!(parsed.packages[0].source, "openssl");
        assert_eq!(parsed.packages[1].source, "musl");
    }

    #[test]
    fn garbage_is_a_problem_not_a_stop() {
        let parsed = parse("P:a\nV:1\n???\n\njunk\n\nP:b\nV:2\n", "installed");
        assert_eq!(parsed.packages.len(), 2);
        assert_eq!(parsed.problems.len(), 3, "{:?}", parsed.problems);
    }
}
