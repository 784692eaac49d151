//! The registry client against the real reference registry with authentication: Basic
//! (htpasswd) and Bearer tokens from the token issuer (anonymous, password, identity
//! token), token caching and renewal, credentials from config.json and helpers.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use strata::registry::{Credential, Credentials, RegistryClient, RegistryConfig, RegistryError};
use strata_core::reference::Reference;
use strata_testkit::{Image, TestRegistry, TokenOptions};

fn client(credentials: Credentials) -> RegistryClient {
    RegistryClient::new(RegistryConfig {
        retry_base: Duration::from_millis(10),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        credentials,
        ..RegistryConfig::default()
    })
    .unwrap()
}

fn reference(registry: &TestRegistry, name: &str) -> Reference {
    Reference::parse_normalized(&format!("{}/{name}", registry.host())).unwrap()
}

fn basic(user: &str, password: &str) -> Credential {
    Credential::Basic {
        username: user.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn basic_auth_with_config_json_credentials() {
    let registry = TestRegistry::options()
        .basic_auth("alice", "s3cret")
        .start()
        .await
        .unwrap();
    let pushed = registry
        .seeder()
        .push_image("private/app", "1", &Image::new("b"))
        .await
        .unwrap();
    let image = reference(&registry, "private/app:1");

    // "alice:s3cret", keyed the way `docker login` writes it.
    let json = format!(
        r#"{{"auths": {{"http://{}": {{"auth": "YWxpY2U6czNjcmV0"}}}}}}"#,
        registry.host()
    );
    let with_login = client(Credentials::none().with_docker_config_json(&json).unwrap());
    assert_eq!(
        with_login.resolve(&image).await.unwrap().digest.to_string(),
        pushed
    );
    // The ping learned the challenge, so the HEAD carried credentials the first time.
    let stats = with_login.stats().registry(&registry.host());
    assert_eq!(
        (stats.pings, stats.manifest_heads, stats.requests),
        (1, 1, 2)
    );

    let anonymous = client(Credentials::none());
    let err = anonymous.resolve(&image).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&registry.host()) && text.contains("private/app"),
        "{text}"
    );
    assert!(text.contains("none are configured"), "{text}");

    let wrong = client(Credentials::none().with(&registry.host(), basic("alice", "nope")));
    let err = wrong.resolve(&image).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains(r#"user "alice""#), "{err}");
    assert!(
        !err.to_string().contains("nope"),
        "secret in message: {err}"
    );
}

#[tokio::test]
async fn credential_helper_supplies_the_password() {
    let registry = TestRegistry::options()
        .basic_auth("helped", "pw")
        .start()
        .await
        .unwrap();
    let pushed = registry
        .seeder()
        .push_image("helped/app", "1", &Image::new("h"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let helper = dir.path().join("docker-credential-test");
    std::fs::write(
        &helper,
        "#!/bin/sh\nread -r server\necho \"{\\\"ServerURL\\\":\\\"$server\\\",\\\"Username\\\":\\\"helped\\\",\\\"Secret\\\":\\\"pw\\\"}\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let json = format!(r#"{{"credHelpers": {{"{}": "test"}}}}"#, registry.host());
    let credentials = Credentials::none()
        .with_docker_config_json(&json)
        .unwrap()
        .with_helper_path(format!("{}:/usr/bin:/bin", dir.path().display()));
    let client = client(credentials);
    let resolved = client
        .resolve(&reference(&registry, "helped/app:1"))
        .await
        .unwrap();
    assert_eq!(resolved.digest.to_string(), pushed);
}

#[tokio::test]
async fn token_auth_caches_one_token_per_repository() {
    let options = TokenOptions::default().user("bob", "pw");
    let registry = TestRegistry::options()
        .token_auth(options)
        .start()
        .await
        .unwrap();
    let issuer = registry.token_issuer().unwrap().clone();
    let seeder = registry.seeder();
    for tag in ["1", "2", "3"] {
        seeder
            .push_image("team/a", tag, &Image::new(tag))
            .await
            .unwrap();
    }
    seeder
        .push_image("team/b", "1", &Image::new("b"))
        .await
        .unwrap();
    issuer.reset_requests();
    registry.reset_requests().await;

    let client = client(Credentials::none().with(&registry.host(), basic("bob", "pw")));
    let refs = ["team/a:1", "team/a:2", "team/a:3", "team/b:1"].map(|n| reference(&registry, n));
    let results = client.resolve_all(refs).await;
    assert!(results.values().all(Result::is_ok), "{results:#?}");

    let requests = issuer.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let mut scopes: Vec<String> = requests.iter().flat_map(|r| r.scopes.clone()).collect();
    scopes.sort();
    assert_eq!(scopes, ["repository:team/a:pull", "repository:team/b:pull"]);
    assert!(
        requests
            .iter()
            .all(|r| r.user.as_deref() == Some("bob") && r.method == "GET")
    );
    assert!(
        requests
            .iter()
            .all(|r| r.service.as_deref() == Some(issuer.service()))
    );

    // One ping (answered 401 with the challenge), then every HEAD carried a token.
    let stats = client.stats().registry(&registry.host());
    assert_eq!(
        (stats.pings, stats.manifest_heads, stats.token_requests),
        (1, 4, 2)
    );
    let served = registry.requests().await;
    assert_eq!(
        served.iter().filter(|r| r.status == 401).count(),
        1,
        "{served:#?}"
    );
    assert_eq!(served.len(), 5, "{served:#?}");
}

#[tokio::test]
async fn expired_tokens_are_renewed() {
    let options = TokenOptions::default().anonymous_pull(true).expires_in(2);
    let registry = TestRegistry::options()
        .token_auth(options)
        .start()
        .await
        .unwrap();
    let issuer = registry.token_issuer().unwrap().clone();
    registry
        .seeder()
        .push_image("short/app", "1", &Image::new("s"))
        .await
        .unwrap();
    issuer.reset_requests();

    let client = client(Credentials::none());
    let image = reference(&registry, "short/app:1");
    client.resolve(&image).await.unwrap();
    client.resolve(&image).await.unwrap();
    assert_eq!(issuer.tokens_issued(), 1, "a fresh token is reused");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    client.resolve(&image).await.unwrap();
    assert_eq!(issuer.tokens_issued(), 2, "an expired token is replaced");
    // Anonymous: no user on either request.
    assert!(issuer.requests().iter().all(|r| r.user.is_none()));
}

#[tokio::test]
async fn identity_tokens_use_the_oauth2_refresh_grant() {
    let options = TokenOptions::default()
        .user("carol", "pw")
        .refresh_token("refresh-abc", "carol");
    let registry = TestRegistry::options()
        .token_auth(options)
        .start()
        .await
        .unwrap();
    let issuer = registry.token_issuer().unwrap().clone();
    let pushed = registry
        .seeder()
        .push_image("idt/app", "1", &Image::new("i"))
        .await
        .unwrap();
    issuer.reset_requests();

    let identity = Credential::IdentityToken {
        token: "refresh-abc".into(),
    };
    let client = client(Credentials::none().with(&registry.host(), identity));
    let resolved = client
        .resolve(&reference(&registry, "idt/app:1"))
        .await
        .unwrap();
    assert_eq!(resolved.digest.to_string(), pushed);
    let requests = issuer.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].grant_type.as_deref(), Some("refresh_token"));
    assert_eq!(requests[0].user.as_deref(), Some("carol"));
    assert_eq!(requests[0].scopes, ["repository:idt/app:pull"]);
}

#[tokio::test]
async fn refused_token_requests_are_unauthorized_errors() {
    let options = TokenOptions::default().user("dave", "pw");
    let registry = TestRegistry::options()
        .token_auth(options)
        .start()
        .await
        .unwrap();
    registry
        .seeder()
        .push_image("locked/app", "1", &Image::new("l"))
        .await
        .unwrap();
    let image = reference(&registry, "locked/app:1");

    let anonymous = client(Credentials::none());
    let err = anonymous.resolve(&image).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("anonymous access"), "{err}");

    let wrong = client(Credentials::none().with(&registry.host(), basic("dave", "bad")));
    let err = wrong.resolve(&image).await.unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains(r#"user "dave""#), "{err}");
    assert!(err.to_string().contains("token service"), "{err}");
}

#[tokio::test]
async fn an_extra_ca_file_is_added_to_the_trust_roots() {
    let issuer = strata_testkit::TokenIssuer::start(TokenOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("extra-ca.pem");
    std::fs::write(&ca, issuer.root_cert_pem()).unwrap();
    let built = RegistryClient::new(RegistryConfig {
        ca_file: Some(ca),
        ..RegistryConfig::default()
    });
    assert!(built.is_ok(), "{built:?}");
}
