//! Layer blobs through a faulty network: a connection dropped mid-blob is fetched again
//! (the blob store never keeps a partial blob), and a body that does not hash to its
//! digest is refused and leaves that platform's packages unknown — never a wrong "no
//! changes". Faults come from the test kit's proxy in front of the real registry.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod corpus;
mod diff_support;

use diff_support::{Env, package_changes, platform};
use strata_testkit::packages::{TarLayer, synthetic_dpkg_status};
use strata_testkit::{Fault, FaultProxy, Image};

fn image(version: &str) -> Image {
    Image::from_layers(vec![
        TarLayer::new()
            .file("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
            .file("var/lib/dpkg/status", synthetic_dpkg_status(2, version))
            .gzip(),
    ])
}

#[tokio::test]
async fn a_dropped_blob_is_fetched_again_and_a_corrupt_one_refused() {
    let env = Env::start().await;
    let (old, new) = (image("1"), image("2"));
    env.push("faults/img", "old", &old).await;
    env.push("faults/img", "new", &new).await;
    let proxy = FaultProxy::start(&env.registry.url()).await.unwrap();
    let host = proxy.url().trim_start_matches("http://").to_owned();
    let (a, b) = (
        format!("{host}/faults/img:old"),
        format!("{host}/faults/img:new"),
    );
    let new_layer = new.layers()[0].digest.clone();

    proxy.inject(
        Fault::drop_connection()
            .on_path(&format!("/blobs/{new_layer}"))
            .times(1),
    );
    let run = env.diff(&a, &b, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        package_changes(platform(&report, "linux/amd64")).len(),
        2,
        "{report:#}"
    );
    let tries = proxy
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("/blobs/{new_layer}")))
        .count();
    assert_eq!(tries, 2, "one dropped, one whole");

    // Corrupt bytes for the old image's layer (not cached yet): refused, never read.
    let fresh = Env::start().await;
    fresh.push("faults/img", "old", &old).await;
    fresh.push("faults/img", "new", &new).await;
    let proxy = FaultProxy::start(&fresh.registry.url()).await.unwrap();
    let host = proxy.url().trim_start_matches("http://").to_owned();
    let old_layer = old.layers()[0].digest.clone();
    proxy.inject(Fault::corrupt_body().on_path(&format!("/blobs/{old_layer}")));
    let run = fresh
        .diff(
            &format!("{host}/faults/img:old"),
            &format!("{host}/faults/img:new"),
            &[],
        )
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let p = platform(&report, "linux/amd64");
    assert!(p["packages"].is_null(), "{p:#}");
    let partial = p["partial"].to_string();
    assert!(partial.contains("could not be read"), "{partial}");
    assert!(
        !fresh
            .cache()
            .join("registry/layers/sha256")
            .join(old_layer.trim_start_matches("sha256:"))
            .exists()
    );
}
