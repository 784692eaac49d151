//! act stage, pure part: which forge repository a git remote URL names, in the form the
//! forge clients take (`owner/name` on GitHub and Gitea, the full project path on
//! GitLab), and which forge its host looks like. Parses text only; never runs git or
//! talks to a forge.

use crate::forge::ForgeKind;

/// The repository `url` names on `forge`, or `None` when it names none (a local path,
/// a `file://` URL, a URL without an owner).
///
/// Accepted forms: `https://host[:port]/owner/name[.git][/]` (credentials in the URL
/// are ignored), `ssh://[user@]host[:port]/owner/name[.git]` and the scp-like
/// `[user@]host:owner/name[.git]`. GitHub and Gitea take the last two path segments
/// (a Gitea served under a sub-path still works), GitLab the whole path (subgroups).
pub fn repository_slug(url: &str, forge: ForgeKind) -> Option<String> {
    let path = remote_path(url.trim())?;
    let path = path.trim_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() < 2 {
        return None;
    }
    let slug = match forge {
        ForgeKind::GitLab => segments.join("/"),
        ForgeKind::GitHub | ForgeKind::Gitea => segments[segments.len() - 2..].join("/"),
    };
    Some(slug)
}

/// The forge a remote URL's host names: one containing `github`, `gitlab`, or `gitea`,
/// `forgejo` or `codeberg` (case-insensitive). `None` for other hosts and local remotes:
/// a forge on a host of another name must be named.
pub fn forge_of(url: &str) -> Option<ForgeKind> {
    let url = url.trim();
    let authority = match url.split_once("://") {
        Some((_, rest)) => {
            remote_path(url)?;
            rest.split('/').next()?
        }
        None => {
            let path = remote_path(url)?;
            &url[..url.len() - path.len() - 1]
        }
    };
    let host = authority.rsplit('@').next()?.to_ascii_lowercase();
    let host = host.split(':').next()?;
    if host.contains("github") {
        Some(ForgeKind::GitHub)
    } else if host.contains("gitlab") {
        Some(ForgeKind::GitLab)
    } else if ["gitea", "forgejo", "codeberg"]
        .iter()
        .any(|n| host.contains(n))
    {
        Some(ForgeKind::Gitea)
    } else {
        None
    }
}

/// The path part of a network remote URL; `None` for local ones.
fn remote_path(url: &str) -> Option<&str> {
    if let Some((scheme, rest)) = url.split_once("://") {
        if !matches!(
            scheme,
            "https" | "http" | "ssh" | "git" | "git+ssh" | "ssh+git"
        ) {
            return None;
        }
        let (_authority, path) = rest.split_once('/')?;
        return Some(path);
    }
    // scp-like `[user@]host:path`: a colon before any slash, and not a Windows drive.
    let colon = url.find(':')?;
    let slash = url.find('/').unwrap_or(url.len());
    if colon < slash && colon > 1 {
        return Some(&url[colon + 1..]);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_and_ssh_forms_name_the_same_repository() {
        let github = [
            "https://github.com/acme/app.git",
            "https://github.com/acme/app",
            "https://github.com/acme/app/",
            "https://x-access-token:secret@github.com/acme/app.git",
            "git@github.com:acme/app.git",
            "github.com:acme/app",
            "ssh://git@github.com/acme/app.git",
            "ssh://git@github.com:22/acme/app",
        ];
        for url in github {
            assert_eq!(
                repository_slug(url, ForgeKind::GitHub).as_deref(),
                Some("acme/app"),
                "{url}"
            );
        }
        let gitea = "https://git.example.com/gitea/acme/app.git";
        assert_eq!(
            repository_slug(gitea, ForgeKind::Gitea).as_deref(),
            Some("acme/app")
        );
    }

    #[test]
    fn gitlab_keeps_subgroups() {
        for url in [
            "https://gitlab.com/group/sub/project.git",
            "git@gitlab.example.com:group/sub/project.git",
            "ssh://git@gitlab.example.com:2222/group/sub/project",
        ] {
            assert_eq!(
                repository_slug(url, ForgeKind::GitLab).as_deref(),
                Some("group/sub/project"),
                "{url}"
            );
        }
    }

    #[test]
    fn forges_are_told_from_well_known_host_names() {
        let cases = [
            ("https://github.com/acme/app.git", Some(ForgeKind::GitHub)),
            (
                "git@github.example.com:acme/app.git",
                Some(ForgeKind::GitHub),
            ),
            (
                "ssh://git@GitLab.example.com:2222/g/p",
                Some(ForgeKind::GitLab),
            ),
            ("https://codeberg.org/acme/app", Some(ForgeKind::Gitea)),
            ("https://user:gitlab@git.example.com/acme/app", None),
            ("https://git.example.com/acme/app", None),
            ("/srv/git/github/app.git", None),
            ("file:///srv/github/app.git", None),
        ];
        for (url, kind) in cases {
            assert_eq!(forge_of(url), kind, "{url}");
        }
    }

    #[test]
    fn local_and_ownerless_remotes_name_nothing() {
        for url in [
            "/srv/git/app.git",
            "../app",
            "file:///srv/git/app.git",
            "C:/repos/app",
            "https://github.com/app",
            "https://github.com",
            "",
        ] {
            assert_eq!(repository_slug(url, ForgeKind::GitHub), None, "{url}");
        }
    }
}
