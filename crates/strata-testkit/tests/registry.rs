//! The real registry starts, serves seeded images of every manifest kind, and logs requests.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use strata_testkit::{Format, Image, Index, TestRegistry, media_type};

#[tokio::test]
async fn starts_and_answers_v2() {
    let registry = TestRegistry::start().await.unwrap();
    let resp = reqwest::get(format!("{}/v2/", registry.url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let requests = registry.requests().await;
    assert!(
        requests
            .iter()
            .any(|r| r.method == "GET" && r.path == "/v2/" && r.status == 200)
    );
}

#[tokio::test]
async fn docker_and_oci_images_resolve_to_pushed_digests() {
    let registry = TestRegistry::start().await.unwrap();
    let seed = registry.seeder();
    let docker = Image::new("d")
        .source("https://example.com/app")
        .revision("abc123");
    let oci = Image::oci("o").annotation("org.opencontainers.image.version", "1.0");
    let d = seed.push_image("app/docker", "1.0", &docker).await.unwrap();
    let o = seed.push_image("app/oci", "1.0", &oci).await.unwrap();
    assert_eq!(d, docker.digest());
    assert_eq!(o, oci.digest());
    assert_eq!(seed.manifest_digest("app/docker", "1.0").await.unwrap(), d);
    assert_eq!(seed.manifest_digest("app/oci", "1.0").await.unwrap(), o);
    let (content_type, _) = seed.get_manifest("app/oci", "1.0").await.unwrap();
    assert_eq!(content_type, media_type::OCI_MANIFEST);
}

#[tokio::test]
async fn indexes_resolve_to_the_top_level_digest() {
    let registry = TestRegistry::start().await.unwrap();
    let seed = registry.seeder();
    for format in [Format::Docker, Format::Oci] {
        let index = Index::multi_arch(format, "multi");
        let repo = format!("multi/{format:?}").to_lowercase();
        let digest = seed.push_index(&repo, "latest", &index).await.unwrap();
        assert_eq!(digest, index.digest());
        assert_eq!(seed.manifest_digest(&repo, "latest").await.unwrap(), digest);
        let child = index.images()[1].digest();
        assert_eq!(seed.manifest_digest(&repo, &child).await.unwrap(), child);
    }
}

#[tokio::test]
async fn moving_and_deleting_tags() {
    let registry = TestRegistry::start().await.unwrap();
    let seed = registry.seeder();
    let base = Image::new("base");
    let first = seed.push_image("lib/base", "1", &base).await.unwrap();
    let child = Image::on_top_of(&base, "fix").base("lib/base:1", &first);
    let second = seed.push_image("lib/base", "1", &child).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(seed.manifest_digest("lib/base", "1").await.unwrap(), second);
    seed.delete_manifest("lib/base", &second).await.unwrap();
    assert!(seed.manifest_digest("lib/base", "1").await.is_err());
    assert_eq!(seed.tags("lib/base").await.unwrap(), Vec::<String>::new());
}

#[tokio::test]
async fn bulk_seeding_is_fast_and_resolvable() {
    let registry = TestRegistry::start().await.unwrap();
    let seed = registry.seeder();
    let started = std::time::Instant::now();
    let plan = strata_testkit::BulkSeed::new(200, 5).concurrency(16);
    let tags = seed.seed_bulk(&plan).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(tags.len(), 1000);
    assert_eq!(tags[7].repo, "bulk/app0001");
    assert_eq!(tags[7].tag, "v3");
    assert_ne!(tags[0].digest, tags[1].digest);
    assert_eq!(
        seed.manifest_digest("bulk/app0199", "v5").await.unwrap(),
        tags[999].digest
    );
    assert!(elapsed.as_secs() < 30, "bulk seeding took {elapsed:?}");
    eprintln!("seeded 1000 tags in {elapsed:?}");
    let requests = registry.requests().await;
    eprintln!("{} requests", requests.len());
}

#[tokio::test]
async fn independent_digest_checks_agree() {
    let registry = TestRegistry::start().await.unwrap();
    let index = Index::multi_arch(Format::Docker, "x");
    let digest = registry
        .seeder()
        .push_index("x/y", "2", &index)
        .await
        .unwrap();
    let ours = strata_testkit::manifest_digest(&registry, "x/y", "2")
        .await
        .unwrap();
    assert_eq!(ours, digest);
    let skopeo = strata_testkit::skopeo_digest(&registry, "x/y", "2")
        .await
        .unwrap();
    assert_eq!(skopeo, digest);
}

#[tokio::test]
async fn skopeo_cross_check_with_basic_and_token_auth() {
    use strata_testkit::TokenOptions;
    let basic = TestRegistry::options().basic_auth("u", "p").start();
    let token = TestRegistry::options()
        .token_auth(TokenOptions::default().user("u", "p"))
        .start();
    for registry in [basic.await.unwrap(), token.await.unwrap()] {
        let index = Index::multi_arch(Format::Oci, "sk");
        let digest = registry
            .seeder()
            .push_index("s/k", "1", &index)
            .await
            .unwrap();
        let skopeo = strata_testkit::skopeo_digest(&registry, "s/k", "1")
            .await
            .unwrap();
        assert_eq!(skopeo, digest);
    }
}

#[tokio::test]
async fn notifications_reach_the_configured_endpoint() {
    use strata_testkit::{Fault, FaultProxy};
    let receiver = FaultProxy::standalone().await.unwrap();
    receiver.inject(Fault::respond(200, &[], "").on_path("/events"));
    let url = format!("{}/events", receiver.url());
    let registry = TestRegistry::options()
        .notifications(&url)
        .start()
        .await
        .unwrap();
    registry
        .seeder()
        .push_image("n/app", "1", &Image::new("n"))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !receiver
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.status == Some(200))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no notification arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn many_registries_start_in_parallel() {
    let starts = (0..6).map(|_| TestRegistry::start());
    let registries: Vec<TestRegistry> = futures_join(starts).await;
    let mut ports: Vec<u16> = registries.iter().map(TestRegistry::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 6);
    for (i, registry) in registries.iter().enumerate() {
        let image = Image::new(&format!("p{i}"));
        assert_eq!(
            registry
                .seeder()
                .push_image("r", "t", &image)
                .await
                .unwrap(),
            image.digest()
        );
    }
}

#[tokio::test]
async fn request_log_counts_and_resets() {
    let registry = TestRegistry::start().await.unwrap();
    registry
        .seeder()
        .push_image("c/app", "1", &Image::new("c"))
        .await
        .unwrap();
    registry.reset_requests().await;
    for _ in 0..3 {
        registry
            .seeder()
            .manifest_digest("c/app", "1")
            .await
            .unwrap();
    }
    let requests = registry.requests().await;
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.is_manifest() && r.status == 200)
    );
    assert_eq!(requests[0].path, "/v2/c/app/manifests/1");
}

/// Await every future concurrently on the current task.
async fn futures_join<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap().unwrap());
    }
    out
}
