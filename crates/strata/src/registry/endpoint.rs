//! resolve stage: where a registry named in a reference is actually served, and whether
//! it is spoken to over TLS. Pure string work; no lookups, no I/O.

use std::net::{IpAddr, Ipv6Addr};

/// Docker Hub's API host: `docker.io` is a name, not a server.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// The key Docker uses for Docker Hub in `config.json` and credential helpers.
pub(crate) const DOCKER_HUB_CREDENTIAL_KEY: &str = "https://index.docker.io/v1/";

/// True for the names references use for Docker Hub.
pub(crate) fn is_docker_hub(domain: &str) -> bool {
    matches!(
        domain,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

/// The `host[:port]` that serves the registry `domain` (as written in a reference).
pub(crate) fn api_host(domain: &str) -> &str {
    if is_docker_hub(domain) {
        DOCKER_HUB_API
    } else {
        domain
    }
}

/// The base URL (`scheme://host[:port]`) for `domain`: plain HTTP only for loopback
/// registries and those listed as insecure, as Docker does; TLS everywhere else. A mirror
/// written with a scheme (`https://localhost:5443`) is served as written.
pub(crate) fn base_url(domain: &str, insecure: &[String]) -> String {
    if domain.starts_with("http://") || domain.starts_with("https://") {
        return domain.trim_end_matches('/').to_owned();
    }
    let host = api_host(domain);
    let scheme = if is_loopback(host) || is_listed(domain, insecure) {
        "http"
    } else {
        "https"
    };
    format!("{scheme}://{host}")
}

/// Whether `domain` (`host[:port]`) is on an insecure list whose entries may name the
/// host with or without the port (and may carry a scheme, as users paste URLs).
fn is_listed(domain: &str, insecure: &[String]) -> bool {
    let (host, _) = split_port(domain);
    insecure.iter().any(|entry| {
        let entry = strip_scheme(entry.trim()).trim_end_matches('/');
        entry.eq_ignore_ascii_case(domain) || entry.eq_ignore_ascii_case(host)
    })
}

/// Whether `domain` names this machine: `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(domain: &str) -> bool {
    let (host, _) = split_port(domain);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => v6 == Ipv6Addr::LOCALHOST,
        Err(_) => false,
    }
}

/// `host[:port]` split at the port; bracketed IPv6 (`[::1]:5000`) is kept whole.
fn split_port(domain: &str) -> (&str, Option<&str>) {
    if domain.starts_with('[') {
        return match domain.find("]:") {
            Some(end) => (&domain[..=end], Some(&domain[end + 2..])),
            None => (domain, None),
        };
    }
    match domain.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (domain, None),
    }
}

/// `https://host/path` -> `host/path`.
fn strip_scheme(text: &str) -> &str {
    text.split_once("://").map_or(text, |(_, rest)| rest)
}

/// The registry host a `config.json` key or credential-helper key names: keys may be
/// bare hosts or URLs with a scheme and path (`https://index.docker.io/v1/`).
pub(crate) fn credential_host(key: &str) -> String {
    let rest = strip_scheme(key.trim());
    let host = rest.split('/').next().unwrap_or(rest);
    let host = host.to_ascii_lowercase();
    if is_docker_hub(&host) {
        "docker.io".to_owned()
    } else {
        host
    }
}

/// The server URL a credential helper is asked about for `domain`: Docker Hub's
/// historical key, or the host itself.
pub(crate) fn credential_server_url(domain: &str) -> String {
    if is_docker_hub(domain) {
        DOCKER_HUB_CREDENTIAL_KEY.to_owned()
    } else {
        domain.to_owned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_is_served_by_registry_1() {
        assert_eq!(base_url("docker.io", &[]), "https://registry-1.docker.io");
        assert_eq!(
            base_url("index.docker.io", &[]),
            "https://registry-1.docker.io"
        );
        assert_eq!(base_url("ghcr.io", &[]), "https://ghcr.io");
    }

    #[test]
    fn loopback_registries_use_plain_http() {
        for domain in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
            "[::1]",
        ] {
            assert!(is_loopback(domain), "{domain}");
            assert!(base_url(domain, &[]).starts_with("http://"), "{domain}");
        }
        for domain in [
            "localhost.example.com",
            "128.0.0.1",
            "10.0.0.1:5000",
            "[::2]:5000",
        ] {
            assert!(!is_loopback(domain), "{domain}");
        }
    }

    #[test]
    fn a_written_scheme_decides() {
        assert_eq!(
            base_url("https://127.0.0.1:5443", &[]),
            "https://127.0.0.1:5443"
        );
        assert_eq!(
            base_url("http://mirror.lan", &["x".to_owned()]),
            "http://mirror.lan"
        );
    }

    #[test]
    fn listed_insecure_registries_use_plain_http() {
        let insecure = vec!["registry.lan:5000".to_owned(), "http://other.lan/".into()];
        assert_eq!(
            base_url("registry.lan:5000", &insecure),
            "http://registry.lan:5000"
        );
        assert_eq!(base_url("other.lan:443", &insecure), "http://other.lan:443");
        assert_eq!(base_url("registry.lan", &insecure), "https://registry.lan");
    }

    #[test]
    fn credential_keys_normalise_to_hosts() {
        assert_eq!(credential_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(credential_host("registry-1.docker.io"), "docker.io");
        assert_eq!(credential_host("https://ghcr.io"), "ghcr.io");
        assert_eq!(credential_host("Registry.LAN:5000/"), "registry.lan:5000");
        assert_eq!(
            credential_server_url("docker.io"),
            "https://index.docker.io/v1/"
        );
        assert_eq!(credential_server_url("quay.io"), "quay.io");
    }
}
