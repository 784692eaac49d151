//! The registry client against the real reference registry (anonymous): every manifest
//! format resolves to the digest pushed, tags are never cached, one HEAD per unique tag,
//! content by digest is verified and cacheable.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use strata::registry::{
    DOCKER_LIST, DOCKER_MANIFEST, ManifestKind, OCI_INDEX, OCI_MANIFEST, RegistryClient,
    RegistryConfig, RegistryError, TagKey,
};
use strata_core::reference::{Digest, Reference};
use strata_testkit::{Format, Image, Index, TestRegistry, skopeo_digest};

fn config() -> RegistryConfig {
    RegistryConfig {
        retry_base: Duration::from_millis(10),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        ..RegistryConfig::default()
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(config()).unwrap()
}

fn reference(registry: &TestRegistry, name: &str) -> Reference {
    Reference::parse_normalized(&format!("{}/{name}", registry.host())).unwrap()
}

fn digest(text: &str) -> Digest {
    text.parse().unwrap()
}

#[tokio::test]
async fn every_manifest_format_resolves_to_the_digest_pushed() {
    let registry = TestRegistry::start().await.unwrap();
    let seeder = registry.seeder();
    let cases = [
        (
            "formats/docker",
            seeder
                .push_image("formats/docker", "1", &Image::new("docker"))
                .await
                .unwrap(),
            DOCKER_MANIFEST,
        ),
        (
            "formats/list",
            seeder
                .push_index(
                    "formats/list",
                    "1",
                    &Index::multi_arch(Format::Docker, "list"),
                )
                .await
                .unwrap(),
            DOCKER_LIST,
        ),
        (
            "formats/oci",
            seeder
                .push_image("formats/oci", "1", &Image::oci("oci"))
                .await
                .unwrap(),
            OCI_MANIFEST,
        ),
        (
            "formats/index",
            seeder
                .push_index(
                    "formats/index",
                    "1",
                    &Index::multi_arch(Format::Oci, "index"),
                )
                .await
                .unwrap(),
            OCI_INDEX,
        ),
    ];
    let client = client();
    for (repo, pushed, media_type) in cases {
        let resolved = client
            .resolve(&reference(&registry, &format!("{repo}:1")))
            .await
            .unwrap();
        assert_eq!(resolved.digest.to_string(), pushed, "{repo}");
        assert_eq!(resolved.media_type.as_deref(), Some(media_type), "{repo}");
        let skopeo = skopeo_digest(&registry, repo, "1").await.unwrap();
        assert_eq!(
            resolved.digest.to_string(),
            skopeo,
            "{repo}: skopeo disagrees"
        );
    }
}

#[tokio::test]
async fn a_moved_tag_is_seen_on_the_next_resolve_even_with_a_cache() {
    let registry = TestRegistry::start().await.unwrap();
    let cache = tempfile::tempdir().unwrap();
    let cached_client = || {
        RegistryClient::new(RegistryConfig {
            cache_dir: Some(cache.path().to_owned()),
            ..config()
        })
        .unwrap()
    };
    let seeder = registry.seeder();
    let image = reference(&registry, "moving/app:stable");
    let first = seeder
        .push_image("moving/app", "stable", &Image::new("one"))
        .await
        .unwrap();
    let client = cached_client();
    let resolved = client.resolve(&image).await.unwrap();
    assert_eq!(resolved.digest.to_string(), first);
    // Fetching the manifest fills the on-disk cache; it must not pin the tag.
    client.manifest(&image, &resolved.digest).await.unwrap();

    let second = seeder
        .push_image("moving/app", "stable", &Image::new("two"))
        .await
        .unwrap();
    assert_ne!(first, second);
    assert_eq!(
        client.resolve(&image).await.unwrap().digest.to_string(),
        second
    );
    let next_run = cached_client();
    assert_eq!(
        next_run.resolve(&image).await.unwrap().digest.to_string(),
        second
    );
}

#[tokio::test]
async fn resolve_all_sends_one_head_per_unique_tag_and_one_ping() {
    let registry = TestRegistry::start().await.unwrap();
    let seeder = registry.seeder();
    let mut expected = Vec::new();
    for n in 0..12 {
        let tag = format!("t{n}");
        let pushed = seeder
            .push_image("batch/app", &tag, &Image::new(&tag))
            .await
            .unwrap();
        expected.push((tag, pushed));
    }
    registry.reset_requests().await;

    // Each tag three times, spelled differently; plus a tag that does not exist and a
    // digest-only reference (nothing to resolve).
    let mut refs = Vec::new();
    for (tag, pushed) in &expected {
        refs.push(reference(&registry, &format!("batch/app:{tag}")));
        refs.push(reference(&registry, &format!("batch/app:{tag}@{pushed}")));
        refs.push(reference(&registry, &format!("batch/app:{tag}")));
    }
    refs.push(reference(&registry, "batch/app:missing"));
    refs.push(reference(
        &registry,
        &format!("batch/app@{}", expected[0].1),
    ));

    let client = RegistryClient::new(RegistryConfig {
        max_in_flight: 4,
        ..config()
    })
    .unwrap();
    let results = client.resolve_all(refs).await;
    assert_eq!(results.len(), expected.len() + 1);
    for (tag, pushed) in &expected {
        let key = TagKey {
            registry: registry.host(),
            repository: "batch/app".into(),
            tag: tag.clone(),
        };
        let resolved = results[&key].as_ref().unwrap();
        assert_eq!(resolved.digest.to_string(), *pushed, "{tag}");
    }
    let missing = TagKey::of(&reference(&registry, "batch/app:missing")).unwrap();
    let err = results[&missing].as_ref().unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("batch/app:missing"), "{err}");
    assert!(err.to_string().contains(&registry.host()), "{err}");

    let stats = client.stats().registry(&registry.host());
    assert_eq!(stats.pings, 1);
    assert_eq!(stats.manifest_heads, 13);
    assert_eq!(stats.requests, 14);
    assert_eq!(stats.manifest_gets + stats.retries, 0);

    // The registry agrees: one ping, one HEAD per unique tag, nothing else.
    let served = registry.requests().await;
    let pings = served.iter().filter(|r| r.path == "/v2/").count();
    let heads = served
        .iter()
        .filter(|r| r.method == "HEAD" && r.is_manifest())
        .count();
    assert_eq!((pings, heads, served.len()), (1, 13, 14), "{served:#?}");
}

#[tokio::test]
async fn platforms_manifests_and_configs_by_digest_are_verified_and_cached() {
    let registry = TestRegistry::start().await.unwrap();
    let index = Index::new(
        Format::Oci,
        vec![
            Image::oci("amd")
                .platform("linux", "amd64")
                .label("org.example.role", "base"),
            Image::oci("arm").platform("linux", "arm64"),
        ],
    );
    let pushed = registry
        .seeder()
        .push_index("multi/app", "1", &index)
        .await
        .unwrap();
    let image = reference(&registry, "multi/app:1");
    let cache = tempfile::tempdir().unwrap();
    let with_cache = || {
        RegistryClient::new(RegistryConfig {
            cache_dir: Some(cache.path().to_owned()),
            ..config()
        })
        .unwrap()
    };

    let client = with_cache();
    let top = client.resolve(&image).await.unwrap().digest;
    assert_eq!(top.to_string(), pushed);
    let platforms = client.platforms(&image, &top).await.unwrap();
    let listed: Vec<(String, String, Option<String>, String)> = platforms
        .iter()
        .map(|p| {
            (
                p.os.clone(),
                p.architecture.clone(),
                p.variant.clone(),
                p.digest.to_string(),
            )
        })
        .collect();
    let images = index.images();
    assert_eq!(
        listed,
        vec![
            ("linux".into(), "amd64".into(), None, images[0].digest()),
            (
                "linux".into(),
                "arm64".into(),
                Some("v8".into()),
                images[1].digest()
            ),
        ]
    );

    let amd = client.manifest(&image, &platforms[0].digest).await.unwrap();
    assert_eq!(amd.media_type, OCI_MANIFEST);
    assert_eq!(amd.bytes, images[0].manifest_bytes());
    assert!(matches!(amd.kind, ManifestKind::Image { .. }));
    assert!(
        client
            .platforms(&image, &amd.digest)
            .await
            .unwrap()
            .is_empty()
    );
    let config = client.config(&image, &amd).await.unwrap();
    assert_eq!(config.digest.to_string(), images[0].config_digest());
    assert_eq!(
        config.labels.get("org.example.role").map(String::as_str),
        Some("base")
    );
    assert_eq!(config.architecture.as_deref(), Some("amd64"));
    assert_eq!(config.diff_ids.len(), images[0].layers().len());

    // The next run reads content by digest from disk: no registry requests at all.
    registry.reset_requests().await;
    let next_run = with_cache();
    let again = next_run
        .manifest(&image, &platforms[0].digest)
        .await
        .unwrap();
    assert_eq!(again, amd);
    next_run.config(&image, &again).await.unwrap();
    next_run.platforms(&image, &top).await.unwrap();
    let stats = next_run.stats().registry(&registry.host());
    assert_eq!((stats.requests, stats.cache_hits), (0, 3));
    assert!(registry.requests().await.is_empty());
}

#[tokio::test]
async fn missing_things_are_not_found_errors_naming_what_and_where() {
    let registry = TestRegistry::start().await.unwrap();
    registry
        .seeder()
        .push_image("present/app", "1", &Image::new("p"))
        .await
        .unwrap();
    let client = client();
    for name in ["absent/app:1", "present/app:nope"] {
        let err = client
            .resolve(&reference(&registry, name))
            .await
            .unwrap_err();
        assert!(
            matches!(err, RegistryError::NotFound { .. }),
            "{name}: {err:?}"
        );
    }
    let unknown = digest("sha256:0000000000000000000000000000000000000000000000000000000000000000");
    let err = client
        .manifest(&reference(&registry, "present/app"), &unknown)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!("present/app@{unknown}")),
        "{err}"
    );

    let err = client
        .resolve(&reference(&registry, &format!("present/app@{unknown}")))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::NoTag { .. }), "{err:?}");
}

#[tokio::test]
async fn an_unreachable_registry_is_a_transport_error_and_the_others_still_resolve() {
    let registry = TestRegistry::start().await.unwrap();
    let pushed = registry
        .seeder()
        .push_image("ok/app", "1", &Image::new("ok"))
        .await
        .unwrap();
    // A port nothing listens on: bind, learn the port, close.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let refs = vec![
        reference(&registry, "ok/app:1"),
        Reference::parse_normalized(&format!("{dead}/gone/app:1")).unwrap(),
        Reference::parse_normalized(&format!("{dead}/gone/other:2")).unwrap(),
    ];
    let client = RegistryClient::new(RegistryConfig {
        max_retries: 1,
        ..config()
    })
    .unwrap();
    let results = client.resolve_all(refs).await;
    let ok = TagKey::of(&reference(&registry, "ok/app:1")).unwrap();
    assert_eq!(results[&ok].as_ref().unwrap().digest.to_string(), pushed);
    let failures: Vec<&RegistryError> = results.values().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failures.len(), 2);
    for err in failures {
        assert!(matches!(err, RegistryError::Transport { .. }), "{err:?}");
        assert!(err.to_string().contains(&dead.to_string()), "{err}");
    }
    // The dead registry was pinged once (plus its retry), not once per tag.
    assert_eq!(client.stats().registry(&dead.to_string()).pings, 2);
}
