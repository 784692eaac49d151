//! Test support, process stage: renders the registry's YAML config; pure text, no I/O.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `auth:` section to render.
#[derive(Debug, Clone)]
pub(crate) enum AuthConfig {
    None,
    Htpasswd(PathBuf),
    Token {
        realm: String,
        service: String,
        issuer: String,
        bundle: PathBuf,
    },
}

/// Where a TLS registry's certificate and key are, under its directory.
pub(crate) fn tls_paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("tls-cert.pem"), dir.join("tls-key.pem"))
}

/// The whole config file for a registry under `dir` listening on `127.0.0.1:port` (over
/// TLS with the certificate and key at [`tls_paths`] when `tls`).
pub(crate) fn render(
    dir: &Path,
    port: u16,
    auth: &AuthConfig,
    notify: Option<(&str, &[(String, String)])>,
    tls: bool,
) -> String {
    let data = dir.join("data");
    let mut out = format!(
        "version: 0.1\n\
         log:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n\
         storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
         \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: strata-testkit-{port}\n",
        data = quote(&data.to_string_lossy()),
    );
    if tls {
        let (cert, key) = tls_paths(dir);
        let _ = write!(
            out,
            "  tls:\n    certificate: {}\n    key: {}\n",
            quote(&cert.to_string_lossy()),
            quote(&key.to_string_lossy())
        );
    }
    match auth {
        AuthConfig::None => {}
        AuthConfig::Htpasswd(path) => {
            let _ = write!(
                out,
                "auth:\n  htpasswd:\n    realm: strata-test\n    path: {}\n",
                quote(&path.to_string_lossy())
            );
        }
        AuthConfig::Token {
            realm,
            service,
            issuer,
            bundle,
        } => {
            let _ = write!(
                out,
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                quote(realm),
                quote(service),
                quote(issuer),
                quote(&bundle.to_string_lossy())
            );
        }
    }
    if let Some((url, headers)) = notify {
        let _ = write!(
            out,
            "notifications:\n  endpoints:\n    - name: strata-testkit\n      url: {}\n      \
             timeout: 1s\n      threshold: 3\n      backoff: 1s\n      \
             ignoredmediatypes:\n        - application/octet-stream\n",
            quote(url)
        );
        if !headers.is_empty() {
            out.push_str("      headers:\n");
            for (name, value) in headers {
                let _ = writeln!(out, "        {}: [{}]", quote(name), quote(value));
            }
        }
    }
    out
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_token_section_with_quoted_paths() {
        let auth = AuthConfig::Token {
            realm: "http://127.0.0.1:1/token".into(),
            service: "svc".into(),
            issuer: "iss".into(),
            bundle: PathBuf::from("/tmp/x/root.pem"),
        };
        let text = render(
            Path::new("/tmp/x"),
            5000,
            &auth,
            Some((
                "http://127.0.0.1:2/n",
                &[("Authorization".to_owned(), "Bearer t".to_owned())],
            )),
            true,
        );
        assert!(text.contains("addr: 127.0.0.1:5000"));
        assert!(text.contains("rootcertbundle: \"/tmp/x/root.pem\""));
        assert!(text.contains("url: \"http://127.0.0.1:2/n\""));
        assert!(
            text.contains("        \"Authorization\": [\"Bearer t\"]\n"),
            "{text}"
        );
        assert!(text.contains("  maintenance:\n"));
        assert!(text.contains("  tls:\n    certificate: \"/tmp/x/tls-cert.pem\"\n"));
    }
}
