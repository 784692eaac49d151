//! Basic and token authentication on the real registry: anonymous is refused,
//! credentials and issued tokens are accepted.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::{SystemTime, UNIX_EPOCH};

use strata_testkit::{Access, Image, TestRegistry, TokenOptions};

/// `a=b&c=d`, form-encoded.
fn encode(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.query().unwrap_or_default().to_owned()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn basic_auth_rejects_anonymous_and_accepts_credentials() {
    let registry = TestRegistry::options()
        .basic_auth("alice", "s3cret")
        .start()
        .await
        .unwrap();
    let digest = registry
        .seeder()
        .push_image("team/app", "1", &Image::new("b"))
        .await
        .unwrap();
    let url = format!("{}/v2/team/app/manifests/1", registry.url());
    let client = reqwest::Client::new();

    let anonymous = client.head(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Basic realm="), "{challenge}");

    let wrong = client
        .head(&url)
        .basic_auth("alice", Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let ok = client
        .head(&url)
        .basic_auth("alice", Some("s3cret"))
        .header("Accept", strata_testkit::media_type::ACCEPT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );
    assert_eq!(registry.credentials(), Some(("alice", "s3cret")));
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    token: String,
    access_token: String,
    expires_in: u64,
    issued_at: String,
    refresh_token: Option<String>,
}

#[tokio::test]
async fn token_auth_challenges_and_accepts_issued_tokens() {
    let options = TokenOptions::default()
        .user("bob", "pw")
        .anonymous_pull(true)
        .expires_in(120);
    let registry = TestRegistry::options()
        .token_auth(options)
        .start()
        .await
        .unwrap();
    let issuer = registry.token_issuer().unwrap().clone();
    let digest = registry
        .seeder()
        .push_image("lib/app", "1", &Image::new("t"))
        .await
        .unwrap();
    let url = format!("{}/v2/lib/app/manifests/1", registry.url());
    let client = reqwest::Client::new();

    let anonymous = client.head(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let challenge = anonymous.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(&format!("realm=\"{}\"", issuer.realm())),
        "{challenge}"
    );
    assert!(
        challenge.contains("scope=\"repository:lib/app:pull\""),
        "{challenge}"
    );

    // Anonymous pull token from the realm, as a client would after the challenge.
    let token: TokenResponse = client
        .get(format!(
            "{}?{}",
            issuer.realm(),
            encode(&[
                ("service", issuer.service()),
                ("scope", "repository:lib/app:pull")
            ])
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token.token, token.access_token);
    assert_eq!(token.expires_in, 120);
    assert!(token.issued_at.ends_with('Z'));
    let pulled = client
        .head(&url)
        .bearer_auth(&token.token)
        .header("Accept", strata_testkit::media_type::ACCEPT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(pulled.status(), 200);
    assert_eq!(
        pulled.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );

    // The anonymous token carries pull only: a push is refused.
    let push_url = format!("{}/v2/lib/app/blobs/uploads/", registry.url());
    let push = client
        .post(&push_url)
        .bearer_auth(&token.token)
        .send()
        .await
        .unwrap();
    assert_eq!(push.status(), 401);

    // With credentials, push is granted.
    let token: TokenResponse = client
        .get(format!(
            "{}?{}",
            issuer.realm(),
            encode(&[
                ("service", issuer.service()),
                ("scope", "repository:lib/app:pull,push")
            ])
        ))
        .basic_auth("bob", Some("pw"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let push = client
        .post(&push_url)
        .bearer_auth(&token.token)
        .send()
        .await
        .unwrap();
    assert_eq!(push.status(), 202);

    let bad = client
        .get(issuer.realm())
        .basic_auth("bob", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);

    let gets: Vec<_> = issuer
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    assert_eq!(gets.len(), 3);
    assert_eq!(gets[1].user.as_deref(), Some("bob"));
    assert_eq!(issuer.tokens_issued(), 2);
}

#[tokio::test]
async fn oauth2_password_and_refresh_grants() {
    let options = TokenOptions::default()
        .user("carol", "pw")
        .refresh_token("identity-1", "carol");
    let registry = TestRegistry::options()
        .token_auth(options)
        .start()
        .await
        .unwrap();
    let issuer = registry.token_issuer().unwrap();
    registry
        .seeder()
        .push_image("a/b", "1", &Image::new("r"))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let form = |pairs: &[(&str, &str)]| {
        client
            .post(issuer.realm())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(pairs))
    };

    let refreshed: TokenResponse = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", "identity-1"),
        ("service", issuer.service()),
        ("scope", "repository:a/b:pull"),
        ("client_id", "strata"),
    ])
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let url = format!("{}/v2/a/b/manifests/1", registry.url());
    let ok = client
        .head(&url)
        .bearer_auth(&refreshed.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);

    let password: TokenResponse = form(&[
        ("grant_type", "password"),
        ("username", "carol"),
        ("password", "pw"),
        ("service", issuer.service()),
        ("scope", "repository:a/b:pull"),
        ("access_type", "offline"),
    ])
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let refresh = password.refresh_token.unwrap();
    let again = form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);

    let refused = form(&[("grant_type", "refresh_token"), ("refresh_token", "bogus")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(issuer.requests().iter().all(|r| r.method == "POST"));
}

#[tokio::test]
async fn expired_and_foreign_tokens_are_rejected() {
    let registry = TestRegistry::options()
        .token_auth(TokenOptions::default())
        .start()
        .await
        .unwrap();
    let issuer = registry.token_issuer().unwrap();
    registry
        .seeder()
        .push_image("a/b", "1", &Image::new("e"))
        .await
        .unwrap();
    let url = format!("{}/v2/a/b/manifests/1", registry.url());
    let client = reqwest::Client::new();
    let access = [Access::repository("a/b", &["pull"])];

    let fresh = issuer.mint("x", &access);
    assert_eq!(
        client
            .head(&url)
            .bearer_auth(fresh)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let expired = issuer.mint_at("x", &access, now() - 600, 60);
    assert_eq!(
        client
            .head(&url)
            .bearer_auth(expired)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Distribution 2.8 allows 60 s of clock skew past `exp`: a token that expired
    // seconds ago is still accepted, so expiry tests on the registry mint older ones.
    let recent = issuer.mint_at("x", &access, now() - 10, 5);
    assert_eq!(
        client
            .head(&url)
            .bearer_auth(recent)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let other_repo = issuer.mint("x", &[Access::repository("c/d", &["pull"])]);
    assert_eq!(
        client
            .head(&url)
            .bearer_auth(other_repo)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // A token signed by another issuer's key is not trusted.
    let stranger = strata_testkit::TokenIssuer::start(TokenOptions::default())
        .await
        .unwrap();
    let forged = stranger.mint("x", &access);
    assert_eq!(
        client
            .head(&url)
            .bearer_auth(forged)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
