//! The fault proxy forwards to the real registry and injects each programmed fault.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use strata_testkit::{
    Fault, FaultKind, FaultProxy, Image, Seeder, TestRegistry, media_type, sha256_digest,
};

async fn setup() -> (TestRegistry, FaultProxy, String) {
    let registry = TestRegistry::start().await.unwrap();
    let digest = registry
        .seeder()
        .push_image("lib/app", "1", &Image::new("p"))
        .await
        .unwrap();
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    (registry, proxy, digest)
}

fn manifest_url(proxy: &FaultProxy) -> String {
    format!("{}/v2/lib/app/manifests/1", proxy.url())
}

async fn head(client: &reqwest::Client, url: &str) -> reqwest::Response {
    client
        .head(url)
        .header("Accept", media_type::ACCEPT_ALL)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn forwards_unchanged_without_faults() {
    let (registry, proxy, digest) = setup().await;
    let client = reqwest::Client::new();
    let resp = head(&client, &manifest_url(&proxy)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );
    let len: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(len, Image::new("p").manifest_bytes().len());
    let got = client
        .get(manifest_url(&proxy))
        .header("Accept", media_type::ACCEPT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(sha256_digest(&got.bytes().await.unwrap()), digest);
    assert_eq!(proxy.request_count(), 2);
    assert_eq!(proxy.requests()[0].status, Some(200));
    assert!(registry.requests().await.iter().any(|r| r.method == "HEAD"));
}

#[tokio::test]
async fn pushes_through_the_proxy_stay_on_the_proxy() {
    let (_registry, proxy, _) = setup().await;
    let seeder = Seeder::new(&proxy.url()).unwrap();
    let image = Image::oci("via-proxy");
    assert_eq!(
        seeder.push_image("lib/other", "x", &image).await.unwrap(),
        image.digest()
    );
    // The upload Location points back at the proxy, so the PUT went through it.
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.path.contains("/blobs/uploads/"))
    );
}

#[tokio::test]
async fn too_many_requests_then_recovers() {
    let (_registry, proxy, _) = setup().await;
    proxy.inject(Fault::too_many_requests(7).on_path("/manifests/").times(2));
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let resp = head(&client, &manifest_url(&proxy)).await;
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()["retry-after"], "7");
    }
    assert_eq!(head(&client, &manifest_url(&proxy)).await.status(), 200);
    let statuses: Vec<_> = proxy.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![Some(429), Some(429), Some(200)]);
}

#[tokio::test]
async fn server_errors_by_method_and_path() {
    let (_registry, proxy, _) = setup().await;
    proxy.inject(Fault::status(503).on_method("GET").times(1));
    proxy.inject(Fault::status(500).on_path("/tags/list"));
    let client = reqwest::Client::new();
    assert_eq!(head(&client, &manifest_url(&proxy)).await.status(), 200);
    let get = client.get(manifest_url(&proxy)).send().await.unwrap();
    assert_eq!(get.status(), 503);
    let tags = format!("{}/v2/lib/app/tags/list", proxy.url());
    for _ in 0..3 {
        assert_eq!(client.get(&tags).send().await.unwrap().status(), 500);
    }
    proxy.clear_faults();
    assert_eq!(client.get(&tags).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn digest_header_faults() {
    let (_registry, proxy, digest) = setup().await;
    proxy.inject(Fault::wrong_digest().times(1));
    proxy.inject(Fault::missing_digest().on_method("HEAD").times(1));
    let client = reqwest::Client::new();
    let wrong = head(&client, &manifest_url(&proxy)).await;
    assert_eq!(
        wrong.headers()["docker-content-digest"],
        FaultKind::WRONG_DIGEST
    );
    let missing = head(&client, &manifest_url(&proxy)).await;
    assert_eq!(missing.status(), 200);
    assert!(missing.headers().get("docker-content-digest").is_none());
    let fine = head(&client, &manifest_url(&proxy)).await;
    assert_eq!(
        fine.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );
}

#[tokio::test]
async fn corrupted_body_no_longer_matches_its_digest() {
    let (_registry, proxy, digest) = setup().await;
    proxy.inject(Fault::corrupt_body().on_method("GET"));
    let client = reqwest::Client::new();
    let resp = client
        .get(manifest_url(&proxy))
        .header("Accept", media_type::ACCEPT_ALL)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["docker-content-digest"].to_str().unwrap(),
        digest
    );
    assert_ne!(sha256_digest(&resp.bytes().await.unwrap()), digest);
}

#[tokio::test]
async fn dropped_connection_gets_no_response() {
    let (_registry, proxy, _) = setup().await;
    proxy.inject(Fault::drop_connection().times(1));
    let client = reqwest::Client::new();
    let err = client.head(manifest_url(&proxy)).send().await.unwrap_err();
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(head(&client, &manifest_url(&proxy)).await.status(), 200);
    assert_eq!(proxy.requests()[0].status, None);
    assert_eq!(proxy.requests()[0].fault, Some(FaultKind::DropConnection));
}

#[tokio::test]
async fn expired_token_challenge() {
    let (_registry, proxy, _) = setup().await;
    proxy.inject(
        Fault::expired_token("http://127.0.0.1:1/token", "svc", "repository:lib/app:pull").times(1),
    );
    let resp = head(&reqwest::Client::new(), &manifest_url(&proxy)).await;
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer realm=\"http://127.0.0.1:1/token\""));
    assert!(challenge.contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn delay_and_standalone_answers() {
    let proxy = FaultProxy::standalone().await.unwrap();
    let client = reqwest::Client::new();
    assert_eq!(
        client
            .get(format!("{}/v2/", proxy.url()))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(head(&client, &manifest_url(&proxy)).await.status(), 404);
    proxy.inject(
        Fault::respond(200, &[("Docker-Content-Digest", "sha256:abc")], "{}")
            .on_path("/manifests/"),
    );
    assert_eq!(
        head(&client, &manifest_url(&proxy)).await.headers()["docker-content-digest"],
        "sha256:abc"
    );
    proxy.clear_faults();
    proxy.inject(Fault::delay(Duration::from_millis(300)));
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    assert!(
        quick
            .get(format!("{}/v2/", proxy.url()))
            .send()
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(proxy.request_count(), 4);
    assert_eq!(
        proxy.requests()[3].fault,
        Some(FaultKind::Delay(Duration::from_millis(300)))
    );
}
