//! The registry client against the real reference registry behind the fault-injecting
//! proxy: rate limits, server errors, dropped connections, lying digests and altered
//! bodies, and a registry that rejects a cached token.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use strata::registry::{RateLimit, RegistryClient, RegistryConfig, RegistryError};
use strata_core::reference::{Digest, Reference};
use strata_testkit::{
    Fault, FaultKind, FaultProxy, Format, Image, Index, TestRegistry, TokenOptions,
};

fn config() -> RegistryConfig {
    RegistryConfig {
        retry_base: Duration::from_millis(10),
        max_wait: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..RegistryConfig::default()
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(config()).unwrap()
}

fn reference(proxy: &FaultProxy, name: &str) -> Reference {
    Reference::parse_normalized(&format!("{}/{name}", proxy.host())).unwrap()
}

/// A registry holding `app:1`, behind a fresh proxy; returns the pushed digest too.
async fn setup() -> (TestRegistry, FaultProxy, String) {
    let registry = TestRegistry::start().await.unwrap();
    let pushed = registry
        .seeder()
        .push_image("app", "1", &Image::new("faults"))
        .await
        .unwrap();
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    (registry, proxy, pushed)
}

fn manifest_requests(proxy: &FaultProxy, method: &str) -> usize {
    proxy
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path.contains("/manifests/"))
        .count()
}

#[tokio::test]
async fn a_429_waits_as_retry_after_says_then_succeeds() {
    let (_registry, proxy, pushed) = setup().await;
    proxy.inject(Fault::too_many_requests(1).on_path("/manifests/").times(1));
    let client = client();
    let started = Instant::now();
    let resolved = client.resolve(&reference(&proxy, "app:1")).await.unwrap();
    assert_eq!(resolved.digest.to_string(), pushed);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(manifest_requests(&proxy, "HEAD"), 2);
    assert_eq!(client.stats().registry(&proxy.host()).retries, 1);
}

#[tokio::test]
async fn a_429_asking_for_more_than_the_limit_gives_up_with_a_clear_message() {
    let (_registry, proxy, _) = setup().await;
    proxy.inject(Fault::too_many_requests(120).on_path("/manifests/"));
    let started = Instant::now();
    let err = client()
        .resolve(&reference(&proxy, "app:1"))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it must not wait"
    );
    let RegistryError::RateLimited { retry_after, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(120)));
    let text = err.to_string();
    for part in [proxy.host().as_str(), "app:1", "429", "wait 120s", "5s"] {
        assert!(text.contains(part), "{part:?} missing from: {text}");
    }

    // Repeated short waits add up: the budget is for the whole request.
    proxy.clear_faults();
    proxy.inject(Fault::too_many_requests(1).on_path("/manifests/"));
    let client = RegistryClient::new(RegistryConfig {
        max_wait: Duration::from_millis(1500),
        ..config()
    })
    .unwrap();
    let err = client
        .resolve(&reference(&proxy, "app:1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::RateLimited { .. }), "{err:?}");
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let (_registry, proxy, pushed) = setup().await;
    proxy.inject(Fault::status(503).on_path("/manifests/").times(2));
    let client = client();
    let resolved = client.resolve(&reference(&proxy, "app:1")).await.unwrap();
    assert_eq!(resolved.digest.to_string(), pushed);
    assert_eq!(manifest_requests(&proxy, "HEAD"), 3);

    proxy.clear_faults();
    proxy.reset_requests();
    proxy.inject(Fault::status(500).on_path("/manifests/"));
    let err = client
        .resolve(&reference(&proxy, "app:1"))
        .await
        .unwrap_err();
    let RegistryError::Protocol { status, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*status, Some(500));
    assert!(err.to_string().contains("after 3 retries"), "{err}");
    assert_eq!(manifest_requests(&proxy, "HEAD"), 4, "1 try + 3 retries");
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let (_registry, proxy, pushed) = setup().await;
    proxy.inject(Fault::drop_connection().on_path("/manifests/").times(2));
    let client = client();
    let image = reference(&proxy, "app:1");
    let resolved = client.resolve(&image).await.unwrap();
    assert_eq!(resolved.digest.to_string(), pushed);
    // Also mid-fetch of content by digest.
    proxy.inject(Fault::drop_connection().on_method("GET").times(1));
    client.manifest(&image, &resolved.digest).await.unwrap();

    proxy.inject(Fault::drop_connection().on_path("/manifests/"));
    let err = client.resolve(&image).await.unwrap_err();
    assert!(matches!(err, RegistryError::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains(&proxy.host()), "{err}");
}

#[tokio::test]
async fn a_missing_digest_header_means_get_and_hash() {
    let registry = TestRegistry::start().await.unwrap();
    let index = Index::multi_arch(Format::Docker, "nodigest");
    let pushed = registry
        .seeder()
        .push_index("multi", "1", &index)
        .await
        .unwrap();
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    proxy.inject(Fault::missing_digest().on_method("HEAD"));
    let client = client();
    let resolved = client.resolve(&reference(&proxy, "multi:1")).await.unwrap();
    assert_eq!(
        resolved.digest.to_string(),
        pushed,
        "the list digest, not a platform's"
    );
    assert_eq!(
        (
            manifest_requests(&proxy, "HEAD"),
            manifest_requests(&proxy, "GET")
        ),
        (1, 1)
    );
    assert_eq!(client.stats().registry(&proxy.host()).manifest_gets, 1);

    // A registry that refuses HEAD on manifests is asked with GET instead.
    proxy.clear_faults();
    proxy.inject(Fault::status(405).on_method("HEAD"));
    let resolved = client.resolve(&reference(&proxy, "multi:1")).await.unwrap();
    assert_eq!(resolved.digest.to_string(), pushed);
}

#[tokio::test]
async fn a_wrong_digest_header_is_a_mismatch_and_never_returned() {
    let (_registry, proxy, pushed) = setup().await;
    let image = reference(&proxy, "app:1");
    let real: Digest = pushed.parse().unwrap();
    let wrong: Digest = FaultKind::WRONG_DIGEST.parse().unwrap();
    proxy.inject(Fault::wrong_digest().on_method("GET"));
    let client = client();
    let err = client.manifest(&image, &real).await.unwrap_err();
    let RegistryError::DigestMismatch {
        expected, actual, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!((expected, actual), (&wrong, &real));

    // Tag lookup that has to GET (no header on HEAD) gets a lying header on the GET.
    proxy.inject(Fault::missing_digest().on_method("HEAD"));
    let err = client.resolve(&image).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::DigestMismatch { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_altered_body_is_a_mismatch() {
    let (_registry, proxy, pushed) = setup().await;
    let image = reference(&proxy, "app:1");
    let real: Digest = pushed.parse().unwrap();
    proxy.inject(Fault::corrupt_body().on_method("GET"));
    let cache = tempfile::tempdir().unwrap();
    let client = RegistryClient::new(RegistryConfig {
        cache_dir: Some(cache.path().to_owned()),
        ..config()
    })
    .unwrap();
    let err = client.manifest(&image, &real).await.unwrap_err();
    let RegistryError::DigestMismatch {
        expected, actual, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(expected, &real);
    assert_ne!(actual, &real);
    assert!(err.to_string().contains(&format!("app@{real}")), "{err}");

    proxy.inject(Fault::missing_digest().on_method("HEAD"));
    let err = client.resolve(&image).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::DigestMismatch { .. }),
        "{err:?}"
    );

    // Nothing unverified reached the cache: a clean fetch still goes to the registry.
    proxy.clear_faults();
    proxy.reset_requests();
    client.manifest(&image, &real).await.unwrap();
    assert_eq!(manifest_requests(&proxy, "GET"), 1);
}

#[tokio::test]
async fn a_rejected_cached_token_is_dropped_and_replaced_once() {
    let options = TokenOptions::default().anonymous_pull(true);
    let registry = TestRegistry::options()
        .token_auth(options)
        .start()
        .await
        .unwrap();
    let issuer = registry.token_issuer().unwrap().clone();
    let seeder = registry.seeder();
    seeder
        .push_image("tok", "1", &Image::new("t1"))
        .await
        .unwrap();
    seeder
        .push_image("tok", "2", &Image::new("t2"))
        .await
        .unwrap();
    issuer.reset_requests();
    let proxy = FaultProxy::start(&registry.url()).await.unwrap();
    let client = client();
    client.resolve(&reference(&proxy, "tok:1")).await.unwrap();
    assert_eq!(issuer.tokens_issued(), 1);

    // The registry now says the cached token is expired: one fresh token, one retry.
    let expired = Fault::expired_token(&issuer.realm(), issuer.service(), "repository:tok:pull");
    proxy.inject(expired.on_method("HEAD").times(1));
    client.resolve(&reference(&proxy, "tok:2")).await.unwrap();
    assert_eq!(issuer.tokens_issued(), 2);
    assert_eq!(manifest_requests(&proxy, "HEAD"), 3);

    // A registry that keeps refusing gets exactly one retry, then Unauthorized.
    proxy.inject(
        Fault::expired_token(&issuer.realm(), issuer.service(), "repository:tok:pull")
            .on_method("HEAD"),
    );
    proxy.reset_requests();
    let err = client
        .resolve(&reference(&proxy, "tok:1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err:?}");
    assert_eq!(manifest_requests(&proxy, "HEAD"), 2);
}

#[tokio::test]
async fn docker_hub_rate_limit_headers_are_reported() {
    let proxy = FaultProxy::standalone().await.unwrap();
    let digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    for remaining in ["76;w=21600", "75;w=21600", "90;w=21600"] {
        proxy.inject(
            Fault::respond(
                200,
                &[
                    ("Docker-Content-Digest", digest),
                    ("RateLimit-Limit", "100;w=21600"),
                    ("RateLimit-Remaining", remaining),
                ],
                "",
            )
            .on_method("HEAD")
            .times(1),
        );
    }
    let client = client();
    let refs = ["a:1", "a:2", "a:3"].map(|n| reference(&proxy, n));
    for image in &refs {
        assert_eq!(
            client.resolve(image).await.unwrap().digest.to_string(),
            digest
        );
    }
    let expected = RateLimit {
        limit: Some(100),
        remaining: 75,
        window_secs: Some(21600),
    };
    let host = proxy.host();
    assert_eq!(client.stats().registry(&host).rate_limit, Some(expected));
    assert_eq!(
        client.stats().lowest_rate_limit(),
        Some((host.as_str(), expected))
    );
}
