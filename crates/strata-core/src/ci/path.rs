//! ci stage: repository-relative paths as CI steps write them (`./images/base/`,
//! `../x`, `$CI_PROJECT_DIR/docker`), joined and normalised lexically. Pure.

use super::text::Text;

/// `relative` read from the directory `cwd` (both repository-relative, `.` the root),
/// with `.` and `..` resolved; `None` when it leaves the repository or is absolute.
pub(crate) fn join(cwd: &str, relative: &Text) -> Option<Text> {
    let Some(known) = relative.value() else {
        // An unknown piece: keep it as written, under the directory.
        let mut out = if cwd == "." || cwd.is_empty() {
            Text::default()
        } else {
            Text::known(&format!("{cwd}/"))
        };
        out.push(relative);
        return Some(out);
    };
    if known.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = cwd
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    for part in known.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(Text::known(&if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }))
}

/// A known repository-relative path, or `.`, joined with a file name.
pub(crate) fn child(dir: &Text, name: &str) -> Text {
    match dir.value() {
        Some(".") | Some("") => Text::known(name),
        _ => {
            let mut out = dir.clone();
            out.push_str("/");
            out.push_str(name);
            out
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_kept_inside() {
        let cases = [
            (".", "images/base/./", Some("images/base")),
            (".", "./", Some(".")),
            ("docker", "../Dockerfile", Some("Dockerfile")),
            ("a/b", "../../c", Some("c")),
            (".", "../x", None),
            (".", "/abs/x", None),
        ];
        for (cwd, rel, want) in cases {
            let got = join(cwd, &Text::known(rel)).map(|t| t.display());
            assert_eq!(got.as_deref(), want, "{cwd} {rel}");
        }
        assert_eq!(
            child(&Text::known("."), "Dockerfile").display(),
            "Dockerfile"
        );
        assert_eq!(
            child(&Text::known("a"), "Dockerfile").display(),
            "a/Dockerfile"
        );
    }
}
