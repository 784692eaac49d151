//! extract stage, Dockerfile `--platform` values: whether containerd's `platforms.Parse`
//! (github.com/containerd/platforms v1.0.0-rc.4, what BuildKit vendors) accepts a
//! specifier, and its error when it does not. Pure string work; decides nothing about
//! which platform is built.

/// Go's `GOOS` names (`isKnownOS`).
const KNOWN_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "windows",
    "zos",
];

/// Go's `GOARCH` names (`isKnownArch`).
const KNOWN_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "armbe",
    "arm64",
    "arm64be",
    "ppc64",
    "ppc64le",
    "loong64",
    "mips",
    "mipsle",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "ppc",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

const OS_PATTERN: &str = r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$";
const SPECIFIER_PATTERN: &str = "^[A-Za-z0-9_.-]+$";

/// Checks `specifier` (`linux/arm64`, `windows(10.0.17763)/amd64`, `arm64`…) the way
/// `platforms.Parse` does; the error is containerd's message.
pub fn check(specifier: &str) -> Result<(), String> {
    let invalid = |what: String| Err(format!("{what}: invalid argument"));
    if specifier.contains('*') {
        return invalid(format!("{specifier:?}: wildcards not yet supported"));
    }
    let parts: Vec<&str> = specifier.splitn(4, '/').collect();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !os_component(part) {
                return invalid(format!(
                    "{part:?} is an invalid OS component of {specifier:?}: OSAndVersion specifier component must match {OS_PATTERN:?}"
                ));
            }
        } else if part.is_empty() || !part.chars().all(is_specifier_char) {
            return invalid(format!(
                "{part:?} is an invalid component of {specifier:?}: platform specifier component must match {SPECIFIER_PATTERN:?}"
            ));
        }
    }
    match parts.len() {
        1 => {
            let os = os_name(parts[0]).to_ascii_lowercase();
            let os = if os == "macos" {
                "darwin".to_owned()
            } else {
                os
            };
            if KNOWN_OS.contains(&os.as_str()) || KNOWN_ARCH.contains(&normal_arch(parts[0])) {
                Ok(())
            } else {
                invalid(format!(
                    "{specifier:?}: unknown operating system or architecture"
                ))
            }
        }
        2 | 3 => Ok(()),
        _ => invalid(format!("{specifier:?}: cannot parse platform specifier")),
    }
}

fn is_specifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// `<os>[(<version>[+<feature>]*)]`, with percent escapes in version and features valid.
fn os_component(part: &str) -> bool {
    let name = os_name(part);
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    {
        return false;
    }
    let rest = &part[name.len()..];
    if rest.is_empty() {
        return true;
    }
    let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) else {
        return false;
    };
    let option_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '%' | '-');
    let mut pieces = inner.split('+');
    let version = pieces.next().unwrap_or("");
    if !version.chars().all(option_char) || !percent_valid(version) {
        return false;
    }
    pieces.all(|feature| {
        !feature.is_empty() && feature.chars().all(option_char) && percent_valid(feature)
    })
}

fn os_name(part: &str) -> &str {
    part.split('(').next().unwrap_or(part)
}

/// `url.PathUnescape` accepts it: every `%` is followed by two hex digits.
fn percent_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

/// `normalizeArch` for the names it renames.
fn normal_arch(arch: &str) -> &'static str {
    match arch.to_ascii_lowercase().as_str() {
        "i386" => "386",
        "x86_64" | "x86-64" | "amd64" => "amd64",
        "aarch64" | "arm64" => "arm64",
        "armhf" | "armel" | "arm" => "arm",
        other => KNOWN_ARCH
            .iter()
            .find(|known| **known == other)
            .copied()
            .unwrap_or(""),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn specifiers_as_containerd_platforms_parse_reads_them() {
        // containerd/platforms platforms.go `Parse` and platforms_test.go.
        let cases = [
            ("linux/amd64", true),
            ("linux/arm64/v8", true),
            ("linux/arm/v7", true),
            ("windows(10.0.17763)/amd64", true),
            ("windows(10.0.17763+win32k)/amd64", true),
            ("linux", true),
            ("macos", true),
            ("arm64", true),
            ("aarch64", true),
            ("x86_64", true),
            ("Linux/AMD64", true),
            ("linux/riscv64/rva22u64", true),
            ("linux/*", false),
            ("", false),
            ("linux/", false),
            ("/amd64", false),
            ("linux/amd64/v8/extra", false),
            ("plan10", false),
            ("linux amd64", false),
            ("windows(10%zz)/amd64", false),
            ("windows(1+)/amd64", false),
            ("linux/amd64:v2", false),
        ];
        for (specifier, ok) in cases {
            assert_eq!(
                check(specifier).is_ok(),
                ok,
                "{specifier}: {:?}",
                check(specifier)
            );
        }
        assert_eq!(
            check("plan10").unwrap_err(),
            "\"plan10\": unknown operating system or architecture: invalid argument"
        );
    }
}
