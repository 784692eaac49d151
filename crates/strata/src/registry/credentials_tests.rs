//! Tests for credential sources, including a fake `docker-credential-test` helper.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn basic(username: &str, password: &str) -> Option<Credential> {
    Some(Credential::Basic {
        username: username.into(),
        password: password.into(),
    })
}

fn lookup(credentials: &Credentials, registry: &str) -> Option<Credential> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(credentials.lookup(registry)).unwrap()
}

#[test]
fn config_auths_in_every_form() {
    // "user:pass" and "hub:secret" base64-encoded.
    let json = r#"{"auths": {
        "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
        "registry.lan:5000": {"auth": "dXNlcjpwYXNz"},
        "https://plain.example/": {"username": "u", "password": "p:w"},
        "token.example": {"auth": "", "identitytoken": "refresh-me"},
        "placeholder.example": {}
    }}"#;
    let credentials = Credentials::none().with_docker_config_json(json).unwrap();
    assert_eq!(lookup(&credentials, "docker.io"), basic("hub", "secret"));
    assert_eq!(
        lookup(&credentials, "index.docker.io"),
        basic("hub", "secret")
    );
    assert_eq!(
        lookup(&credentials, "registry.lan:5000"),
        basic("user", "pass")
    );
    assert_eq!(lookup(&credentials, "registry.lan"), None);
    assert_eq!(lookup(&credentials, "plain.example"), basic("u", "p:w"));
    assert_eq!(
        lookup(&credentials, "token.example"),
        Some(Credential::IdentityToken {
            token: "refresh-me".into()
        })
    );
    assert_eq!(lookup(&credentials, "placeholder.example"), None);
    assert_eq!(lookup(&credentials, "ghcr.io"), None);
}

#[test]
fn config_errors_are_clear_and_keep_secrets_out() {
    let err = Credentials::none()
        .with_docker_config_json(r#"{"auths": {"x": {"auth": "bm9jb2xvbg=="}}}"#)
        .unwrap_err();
    assert!(err.to_string().contains("`auth` of x"), "{err}");
    let err = Credentials::none()
        .with_docker_config_json(r#"{"auths": [1]}"#)
        .unwrap_err();
    assert!(
        err.to_string().contains("not a valid Docker config"),
        "{err}"
    );
    // Unknown keys (Docker writes many) are fine.
    assert!(
        Credentials::none()
            .with_docker_config_json(r#"{"psFormat": "x", "currentContext": "y"}"#)
            .is_ok()
    );
}

#[test]
fn debug_output_redacts_secrets() {
    let credentials = Credentials::none()
        .with(
            "ghcr.io",
            Credential::Basic {
                username: "me".into(),
                password: "hunter2".into(),
            },
        )
        .with(
            "quay.io",
            Credential::IdentityToken {
                token: "refresh-secret".into(),
            },
        );
    let text = format!("{credentials:?}");
    assert!(text.contains("me"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains("refresh-secret"), "{text}");
}

#[test]
fn environment_variables_per_registry_and_global() {
    let vars = |pairs: &[(&str, &str)]| {
        Credentials::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    };
    let credentials = vars(&[
        ("STRATA_REGISTRY_GHCR_IO_USER", "gh"),
        ("STRATA_REGISTRY_GHCR_IO_PASSWORD", "ghp"),
        ("STRATA_REGISTRY_LOCALHOST_5000_USER", "lo"),
        ("STRATA_REGISTRY_LOCALHOST_5000_PASSWORD", "lop"),
        ("STRATA_REGISTRY_DOCKER_IO_USER", "only-user-no-password"),
    ]);
    assert_eq!(lookup(&credentials, "ghcr.io"), basic("gh", "ghp"));
    assert_eq!(lookup(&credentials, "localhost:5000"), basic("lo", "lop"));
    assert_eq!(lookup(&credentials, "docker.io"), None);

    let scoped = vars(&[
        ("STRATA_REGISTRY", "https://registry.lan"),
        ("STRATA_REGISTRY_USER", "ci"),
        ("STRATA_REGISTRY_PASSWORD", "cip"),
    ]);
    assert_eq!(lookup(&scoped, "registry.lan"), basic("ci", "cip"));
    assert_eq!(lookup(&scoped, "docker.io"), None);

    let global = vars(&[
        ("STRATA_REGISTRY_USER", "any"),
        ("STRATA_REGISTRY_PASSWORD", "anyp"),
    ])
    .with_docker_config_json(r#"{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}"#)
    .unwrap();
    // Docker's own entry wins over the unscoped pair; the pair covers the rest.
    assert_eq!(lookup(&global, "ghcr.io"), basic("user", "pass"));
    assert_eq!(lookup(&global, "quay.io"), basic("any", "anyp"));
}

/// A temp dir holding a fake `docker-credential-test` that answers for two servers and
/// records what it was asked.
fn fake_helper() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"#!/bin/sh
[ "$1" = get ] || exit 2
read -r server
echo "$server" >> "$(dirname "$0")/asked"
case "$server" in
  https://index.docker.io/v1/) echo '{"ServerURL":"x","Username":"hubuser","Secret":"hubpass"}' ;;
  ghcr.io) echo '{"ServerURL":"ghcr.io","Username":"<token>","Secret":"refresh"}' ;;
  broken.example) echo 'not json' ;;
  *) echo 'credentials not found in native keychain'; exit 1 ;;
esac
"#;
    let path = dir.path().join("docker-credential-test");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn with_helper(dir: &tempfile::TempDir, json: &str) -> Credentials {
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    Credentials::none()
        .with_docker_config_json(json)
        .unwrap()
        .with_helper_path(path)
}

#[test]
fn creds_store_helper_answers_with_server_url_on_stdin() {
    let dir = fake_helper();
    let credentials = with_helper(
        &dir,
        r#"{"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "test"}"#,
    );
    assert_eq!(
        lookup(&credentials, "docker.io"),
        basic("hubuser", "hubpass")
    );
    assert_eq!(
        lookup(&credentials, "ghcr.io"),
        Some(Credential::IdentityToken {
            token: "refresh".into()
        })
    );
    assert_eq!(lookup(&credentials, "quay.io"), None);
    let asked = std::fs::read_to_string(dir.path().join("asked")).unwrap();
    assert_eq!(asked, "https://index.docker.io/v1/\nghcr.io\nquay.io\n");
}

#[test]
fn cred_helpers_take_precedence_over_the_store() {
    let dir = fake_helper();
    let credentials = with_helper(
        &dir,
        r#"{"credsStore": "missing", "credHelpers": {"ghcr.io": "test"},
            "auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}"#,
    );
    assert_eq!(
        lookup(&credentials, "ghcr.io"),
        Some(Credential::IdentityToken {
            token: "refresh".into()
        })
    );
}

#[test]
fn broken_or_missing_helpers_are_credential_errors_without_secrets() {
    let dir = fake_helper();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let credentials = with_helper(&dir, r#"{"credsStore": "missing"}"#);
    let err = runtime.block_on(credentials.lookup("ghcr.io")).unwrap_err();
    assert!(matches!(err, RegistryError::Credentials { .. }), "{err:?}");
    assert!(
        err.to_string().contains("docker-credential-missing"),
        "{err}"
    );

    let credentials = with_helper(&dir, r#"{"credHelpers": {"broken.example": "test"}}"#);
    let err = runtime
        .block_on(credentials.lookup("broken.example"))
        .unwrap_err();
    assert!(err.to_string().contains("not credentials JSON"), "{err}");

    let credentials = with_helper(&dir, r#"{"credsStore": "../evil"}"#);
    assert!(runtime.block_on(credentials.lookup("x.example")).is_err());
}
