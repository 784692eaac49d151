//! `strata diff` end to end against the real registry: images whose layers hold real
//! package databases (this machine's own dpkg status and a copy with planted upgrades,
//! removals and additions; apk databases in Alpine's format; distroless `status.d/`
//! with a whiteout and an opaque directory), gzip and zstd layers, a multi-platform pair
//! where only arm64 changed, OSV advisories validated against the OSV schema. Every
//! planted change must come out, nothing else; a second diff fetches no blob.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod corpus;
mod diff_support;

use diff_support::{Env, advisory_ids, host_os_release, package_changes, platform};
use serde_json::{Value, json};
use strata_core::package::{self, OsRelease};
use strata_testkit::packages::{
    TarLayer, apk_installed, host_dpkg_status, modify_dpkg_status, status_d_entry,
};
use strata_testkit::{Format, Image, Index};

fn debian_base(status: &str) -> TarLayer {
    TarLayer::new()
        .dir("usr/lib")
        .file("usr/lib/os-release", host_os_release())
        .dir("etc")
        .symlink("etc/os-release", "../usr/lib/os-release")
        .dir("var/lib/dpkg")
        .file("var/lib/dpkg/status", status)
}

fn advisory(id: &str, ecosystem: &str, name: &str, events: Value) -> Value {
    json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2024-06-01T00:00:00Z",
        "summary": format!("test advisory for {name}"),
        "affected": [{
            "package": {"ecosystem": ecosystem, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": events}]
        }]
    })
}

#[tokio::test]
async fn a_debian_update_shows_exactly_the_planted_changes_and_why() {
    let env = Env::start().await;
    let status = host_dpkg_status().unwrap();
    let (modified, planted) = modify_dpkg_status(&status, 5, 2);
    let old_packages = package::parse_dpkg_status(&status, "status").packages;
    let release = OsRelease::parse(&host_os_release())
        .unwrap()
        .release()
        .unwrap();

    // The base moves (its status upgraded); the app is rebuilt on it with a new revision.
    let base_old = Image::from_layers(vec![debian_base(&status).gzip()]);
    let base_new = Image::from_layers(vec![debian_base(&modified).gzip()]);
    let base_old_digest = env.push("library/debian", "12", &base_old).await;
    let base_new_digest = env.push("library/debian", "12-new", &base_new).await;
    let app_layer = TarLayer::new()
        .dir("app")
        .file("app/main.py", "print('hi')\n")
        .zstd();
    let base_name = env.name("library/debian", "12");
    let app = |base: &Image, digest: &str, revision: &str, greeting: &str, cmd: &[&str]| {
        Image::from_layers(vec![base.layers()[0].clone(), app_layer.clone()])
            .with_format(Format::Oci)
            .base(&base_name, digest)
            .source("https://github.com/acme/app")
            .revision(revision)
            .env(&format!("GREETING={greeting}"))
            .cmd(cmd)
    };
    let old = app(
        &base_old,
        &base_old_digest,
        "1111111",
        "hello",
        &["python3"],
    );
    let new = app(
        &base_new,
        &base_new_digest,
        "2222222",
        "hi",
        &["python3", "-m", "app"],
    );
    env.push("acme/app", "1", &old).await;
    let new_digest = env.push("acme/app", "2", &new).await;

    // Advisories: one the upgrade fixes (a source with a single binary package, so
    // nothing else keeps it affected), one the added package brings, one that stays,
    // one withdrawn, one for another release.
    let single = |source: &str| old_packages.iter().filter(|p| p.source == source).count() == 1;
    let (fixed_pkg, _, fixed_version, fixed_source) = planted
        .upgraded
        .iter()
        .find(|(_, _, _, source)| single(source))
        .expect("an upgraded package with its own source")
        .clone();
    let untouched = old_packages
        .iter()
        .rev()
        .find(|p| {
            !planted.upgraded.iter().any(|u| u.3 == p.source)
                && !planted.removed.iter().any(|r| r.0 == p.name)
        })
        .unwrap();
    let eco = release.ecosystem.as_str();
    env.write_advisories(&[
        advisory(
            "DEBIAN-TEST-FIXED",
            eco,
            &fixed_source,
            json!([{"introduced": "0"}, {"fixed": fixed_version}]),
        ),
        advisory(
            "DEBIAN-TEST-INTRODUCED",
            eco,
            "strata-added-a",
            json!([{"introduced": "0"}]),
        ),
        advisory(
            "DEBIAN-TEST-REMAINS",
            "Debian",
            &untouched.source,
            json!([{"introduced": "0"}]),
        ),
        {
            let mut gone = advisory(
                "DEBIAN-TEST-WITHDRAWN",
                eco,
                &fixed_source,
                json!([{"introduced": "0"}]),
            );
            gone["withdrawn"] = json!("2024-07-01T00:00:00Z");
            gone
        },
        advisory(
            "DEBIAN-TEST-OTHER-RELEASE",
            "Debian:9",
            &untouched.source,
            json!([{"introduced": "0"}]),
        ),
    ]);

    let old_name = env.name("acme/app", "1");
    let run = env.diff(&old_name, &format!("@{new_digest}"), &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["platforms"].as_array().unwrap().len(), 1);
    let p = platform(&report, "linux/amd64");
    assert!(p.get("partial").is_none(), "{p:#}");

    // Packages: exactly the planted ones.
    let mut want: Vec<(String, String, String, String)> = Vec::new();
    for (name, old_v, new_v, _) in &planted.upgraded {
        want.push((
            name.clone(),
            "upgraded".into(),
            old_v.clone(),
            new_v.clone(),
        ));
    }
    for (name, v) in &planted.removed {
        want.push((name.clone(), "removed".into(), v.clone(), "-".into()));
    }
    for (name, v) in &planted.added {
        want.push((name.clone(), "added".into(), "-".into(), v.clone()));
    }
    want.sort();
    assert_eq!(package_changes(p), want);
    assert_eq!(
        planted.upgraded.len() + planted.removed.len() + planted.added.len(),
        9
    );

    // Advisories.
    assert_eq!(
        advisory_ids(p, "fixed"),
        ["DEBIAN-TEST-FIXED"],
        "{fixed_pkg}"
    );
    assert_eq!(advisory_ids(p, "introduced"), ["DEBIAN-TEST-INTRODUCED"]);
    assert_eq!(advisory_ids(p, "remaining"), ["DEBIAN-TEST-REMAINS"]);
    assert_eq!(p["old"]["ecosystem"], release.ecosystem);

    // Config: the planted fields only, in order.
    let fields: Vec<&str> = p["config"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "cmd",
            "env GREETING",
            "label org.opencontainers.image.base.digest",
            "label org.opencontainers.image.revision"
        ]
    );

    // Layers: the base layer replaced, the app layer kept (not shared: its base moved).
    let layers = &p["layers"];
    assert_eq!(layers["shared"], 0);
    assert_eq!(layers["added"][0]["digest"], base_new.layers()[0].digest);
    assert_eq!(layers["removed"][0]["digest"], base_old.layers()[0].digest);
    assert_eq!(layers["added"].as_array().unwrap().len(), 1);
    assert!(layers["new_uncompressed"].as_u64().unwrap() > status.len() as u64);

    // Why: the base moved (annotations), and the source changed with a compare link.
    let why = report["why"].as_array().unwrap();
    assert_eq!(why[0]["kind"], "base", "{why:#?}");
    assert_eq!(why[0]["new_digest"], base_new_digest);
    assert_eq!(why[0]["old_digest"], base_old_digest);
    assert_eq!(why[1]["kind"], "source");
    assert_eq!(
        why[1]["compare"],
        "https://github.com/acme/app/compare/1111111...2222222"
    );

    // The summary counts each thing once.
    let s = &report["summary"];
    assert_eq!(
        (
            s["advisories_fixed"].as_u64(),
            s["advisories_introduced"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        (
            s["packages_upgraded"].as_u64(),
            s["packages_added"].as_u64()
        ),
        (Some(5), Some(2))
    );

    // A second diff of the same images fetches no blob: everything is in the cache.
    let before = env.blob_gets().await;
    assert!(before >= 4, "{before}");
    let again = env.diff(&old_name, &format!("@{new_digest}"), &[]).await;
    assert_eq!(again.json()["platforms"], report["platforms"]);
    assert_eq!(env.blob_gets().await, before);

    // Markdown and table render the same facts.
    let md = env
        .strata(&[
            "diff",
            &old_name,
            &format!("@{new_digest}"),
            "--format",
            "markdown",
            "--advisories",
            env.advisories().to_str().unwrap(),
        ])
        .await;
    assert!(
        md.stdout.contains("DEBIAN-TEST-FIXED") && md.stdout.contains("<details>"),
        "{}",
        md.stdout
    );
    let table = env
        .strata(&[
            "diff",
            &old_name,
            &format!("@{new_digest}"),
            "--advisories",
            env.advisories().to_str().unwrap(),
        ])
        .await;
    assert!(table.stdout.contains(&fixed_pkg), "{}", table.stdout);
    // docs/diff.md shows these outputs: `STRATA_DIFF_EXAMPLE=dir` writes them there.
    if let Some(dir) = std::env::var_os("STRATA_DIFF_EXAMPLE") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::write(dir.join("table.txt"), &table.stdout).unwrap();
        std::fs::write(dir.join("markdown.md"), &md.stdout).unwrap();
        std::fs::write(dir.join("report.json"), &run.stdout).unwrap();
    }
}

#[tokio::test]
async fn a_multi_platform_pair_where_only_arm64_changed() {
    let env = Env::start().await;
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv/alpine");
    assert_eq!(env.copy_fixture_advisories(&fixtures), 3);
    let alpine = |packages: &[(&str, &str, &str)]| {
        TarLayer::new()
            .file(
                "etc/os-release",
                "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.2\n",
            )
            .file("lib/apk/db/installed", apk_installed(packages))
    };
    let amd64 = Image::from_layers(vec![alpine(&[("musl", "1.2.5-r0", "musl")]).gzip()])
        .with_format(Format::Oci);
    let old_pkgs = [
        ("libcrypto3", "3.3.1-r3", "openssl"),
        ("libssl3", "3.3.1-r3", "openssl"),
        ("busybox", "1.36.1-r29", "busybox"),
        ("libexpat", "2.6.2-r0", "expat"),
    ];
    let new_pkgs = [
        ("libcrypto3", "3.3.2-r0", "openssl"),
        ("libssl3", "3.3.2-r0", "openssl"),
        ("busybox", "1.36.1-r29", "busybox"),
        ("libexpat", "2.6.3-r0", "expat"),
    ];
    let arm = |pkgs: &[(&str, &str, &str)]| {
        Image::from_layers(vec![alpine(pkgs).zstd()])
            .with_format(Format::Oci)
            .platform("linux", "arm64")
    };
    let old = Index::new(Format::Oci, vec![amd64.clone(), arm(&old_pkgs)]);
    let s390x = Image::from_layers(vec![alpine(&new_pkgs).gzip()])
        .with_format(Format::Oci)
        .platform("linux", "s390x");
    let new = Index::new(Format::Oci, vec![amd64, arm(&new_pkgs), s390x]);
    env.push_index("library/alpine", "3.20", &old).await;
    env.push_index("library/alpine", "3.20-new", &new).await;
    let run = env
        .diff(
            &env.name("library/alpine", "3.20"),
            &env.name("library/alpine", "3.20-new"),
            &[],
        )
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let amd = platform(&report, "linux/amd64");
    assert_eq!(amd["old_digest"], amd["new_digest"]);
    assert!(package_changes(amd).is_empty());
    let arm64 = platform(&report, "linux/arm64/v8");
    assert_eq!(
        package_changes(arm64),
        [
            (
                "libcrypto3".into(),
                "upgraded".into(),
                "3.3.1-r3".into(),
                "3.3.2-r0".into()
            ),
            (
                "libexpat".into(),
                "upgraded".into(),
                "2.6.2-r0".into(),
                "2.6.3-r0".into()
            ),
            (
                "libssl3".into(),
                "upgraded".into(),
                "3.3.1-r3".into(),
                "3.3.2-r0".into()
            ),
        ]
    );
    assert_eq!(
        advisory_ids(arm64, "fixed"),
        ["ALPINE-TEST-0001", "ALPINE-TEST-0002"]
    );
    assert_eq!(advisory_ids(arm64, "remaining"), ["ALPINE-TEST-0003"]);
    assert_eq!(arm64["advisories"]["fixed"][0]["severity"], "high");
    assert_eq!(report["summary"]["platforms_changed"], 1);
    assert_eq!(report["platforms_added"], json!(["linux/s390x"]));
    assert!(report.get("platforms_removed").is_none());

    // The same advisories as osv.dev ships them: one zip, read packed.
    let zip_path = env.dir.path().join("Alpine-all.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        for entry in std::fs::read_dir(&fixtures).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut zip, &std::fs::read(&path).unwrap()).unwrap();
        }
        zip.finish().unwrap();
    }
    let zipped = env
        .strata(&[
            "diff",
            &env.name("library/alpine", "3.20"),
            &env.name("library/alpine", "3.20-new"),
            "--format",
            "json",
            "--advisories",
            zip_path.to_str().unwrap(),
        ])
        .await
        .json();
    assert_eq!(zipped["platforms"], report["platforms"]);

    // One platform only.
    let only = env
        .diff(
            &env.name("library/alpine", "3.20"),
            &env.name("library/alpine", "3.20-new"),
            &["--platform", "linux/amd64"],
        )
        .await;
    assert_eq!(only.code, 0, "{}", only.stderr);
    assert_eq!(only.json()["platforms"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn distroless_status_d_with_a_whiteout_and_an_opaque_directory() {
    let env = Env::start().await;
    let base = TarLayer::new()
        .file(
            "etc/os-release",
            "PRETTY_NAME=\"Distroless\"\nID=debian\nVERSION_ID=\"12\"\n",
        )
        .dir("var/lib/dpkg/status.d")
        .file(
            "var/lib/dpkg/status.d/base-files",
            status_d_entry("base-files", "12.4+deb12u5", None),
        )
        .file(
            "var/lib/dpkg/status.d/libc6",
            status_d_entry("libc6", "2.36-9+deb12u7", Some("glibc")),
        )
        .file(
            "var/lib/dpkg/status.d/libc6.md5sums",
            "d41d8cd98f00b204e9800998ecf8427e  lib/x\n",
        )
        .file(
            "var/lib/dpkg/status.d/tzdata",
            status_d_entry("tzdata", "2024a-0+deb12u1", None),
        )
        .gzip();
    let whiteout = TarLayer::new()
        .whiteout("var/lib/dpkg/status.d/tzdata")
        .file(
            "var/lib/dpkg/status.d/libssl3",
            status_d_entry("libssl3", "3.0.14-1~deb12u2", Some("openssl")),
        )
        .zstd();
    let opaque = TarLayer::new()
        .opaque("var/lib/dpkg/status.d")
        .file(
            "var/lib/dpkg/status.d/base-files",
            status_d_entry("base-files", "12.4+deb12u6", None),
        )
        .gzip();
    let old = Image::from_layers(vec![base.clone()]);
    env.push("distroless/base", "old", &old).await;
    env.push(
        "distroless/base",
        "wh",
        &Image::from_layers(vec![base.clone(), whiteout]),
    )
    .await;
    env.push(
        "distroless/base",
        "opq",
        &Image::from_layers(vec![base, opaque]),
    )
    .await;
    let old_name = env.name("distroless/base", "old");

    let wh = env
        .diff(&old_name, &env.name("distroless/base", "wh"), &[])
        .await
        .json();
    assert_eq!(
        package_changes(platform(&wh, "linux/amd64")),
        [
            (
                "libssl3".into(),
                "added".into(),
                "-".into(),
                "3.0.14-1~deb12u2".into()
            ),
            (
                "tzdata".into(),
                "removed".into(),
                "2024a-0+deb12u1".into(),
                "-".into()
            ),
        ]
    );
    let opq = env
        .diff(&old_name, &env.name("distroless/base", "opq"), &[])
        .await
        .json();
    let p = platform(&opq, "linux/amd64");
    assert_eq!(
        package_changes(p),
        [
            (
                "base-files".into(),
                "upgraded".into(),
                "12.4+deb12u5".into(),
                "12.4+deb12u6".into()
            ),
            (
                "libc6".into(),
                "removed".into(),
                "2.36-9+deb12u7".into(),
                "-".into()
            ),
            (
                "tzdata".into(),
                "removed".into(),
                "2024a-0+deb12u1".into(),
                "-".into()
            ),
        ]
    );
    assert_eq!(p["layers"]["shared"], 1);
}

/// debian moves, python is rebuilt on it, then the app: the app's comparison names the
/// chain from its base annotations, deepest first, with what the bottom move fixes.
#[tokio::test]
async fn a_cascaded_image_names_the_chain_below_it() {
    let env = Env::start().await;
    let os = "ID=alpine\nVERSION_ID=3.20.2\n";
    let db = |v: &str| {
        TarLayer::new()
            .file("etc/os-release", os)
            .file(
                "lib/apk/db/installed",
                apk_installed(&[("libssl3", v, "openssl")]),
            )
            .gzip()
    };
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv/alpine");
    env.copy_fixture_advisories(&fixtures);
    let mut names = Vec::new();
    for (tag, version) in [("old", "3.3.1-r3"), ("new", "3.3.2-r0")] {
        let alpine = Image::from_layers(vec![db(version)]);
        let alpine_digest = env.push("library/alpine", tag, &alpine).await;
        let python = Image::on_top_of(&alpine, "python")
            .base(&env.name("library/alpine", "3.20"), &alpine_digest);
        let python_digest = env.push("library/python", tag, &python).await;
        let app = Image::on_top_of(&python, "app")
            .base(&env.name("library/python", "3.12"), &python_digest);
        env.push("acme/app", tag, &app).await;
        names.push(env.name("acme/app", tag));
    }
    let run = env.diff(&names[0], &names[1], &[]).await;
    let why = &run.json()["why"][0];
    assert_eq!(why["kind"], "base");
    assert_eq!(why["image"], env.name("library/python", "3.12"));
    assert_eq!(why["below"], json!([env.name("library/alpine", "3.20")]));
    let md = env
        .strata(&[
            "diff",
            &names[0],
            &names[1],
            "--format",
            "markdown",
            "--advisories",
            env.advisories().to_str().unwrap(),
        ])
        .await;
    let chain = format!(
        "**Chain:** `{}` moved (fixes CVE-2024-6119) → `{}` rebuilt → `{}`",
        env.name("library/alpine", "3.20"),
        env.name("library/python", "3.12"),
        names[1]
    );
    assert!(md.stdout.contains(&chain), "{}", md.stdout);
}

/// `strata advisories fetch` downloads an ecosystem's OSV export (here served by the
/// registry as a blob, standing in for osv.dev), keeps the previous copy when a download
/// fails, and `strata diff` then reads it from the cache directory, offline.
#[tokio::test]
async fn advisories_are_refreshed_from_an_osv_export_and_read_offline() {
    let env = Env::start().await;
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/osv/alpine");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        zip.start_file(
            path.file_name().unwrap().to_str().unwrap(),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(&path).unwrap()).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    let digest = env
        .registry
        .seeder()
        .push_blob("osv/exports", &bytes)
        .await
        .unwrap();
    let url = format!(
        "http://{}/v2/osv/exports/blobs/{digest}",
        env.registry.host()
    );
    let fetched = env
        .strata(&["advisories", "fetch", "Alpine", "--url", &url])
        .await;
    assert_eq!(fetched.code, 0, "{}", fetched.stderr);
    assert!(
        fetched.stdout.starts_with("Alpine: 3 records"),
        "{}",
        fetched.stdout
    );
    let stored = env.cache().join("advisories/Alpine-all.zip");
    assert_eq!(std::fs::read(&stored).unwrap(), bytes);

    // A failed download keeps what was there.
    let missing = format!(
        "http://{}/v2/osv/exports/blobs/sha256:{}",
        env.registry.host(),
        "0".repeat(64)
    );
    let failed = env
        .strata(&["advisories", "fetch", "Alpine", "--url", &missing])
        .await;
    assert_eq!(failed.code, 2);
    assert!(failed.stderr.contains("HTTP 404"), "{}", failed.stderr);
    assert_eq!(std::fs::read(&stored).unwrap(), bytes);

    let image = |v: &str| {
        Image::from_layers(vec![
            TarLayer::new()
                .file("etc/os-release", "ID=alpine\nVERSION_ID=3.20.3\n")
                .file(
                    "lib/apk/db/installed",
                    apk_installed(&[("libssl3", v, "openssl")]),
                )
                .gzip(),
        ])
    };
    env.push("library/alpine", "a", &image("3.3.1-r3")).await;
    env.push("library/alpine", "b", &image("3.3.2-r0")).await;
    let run = env
        .strata(&[
            "diff",
            &env.name("library/alpine", "a"),
            &env.name("library/alpine", "b"),
            "--format",
            "json",
        ])
        .await;
    let report = run.json();
    assert_eq!(report["advisories_loaded"], 3);
    assert_eq!(
        advisory_ids(platform(&report, "linux/amd64"), "fixed"),
        ["ALPINE-TEST-0001"]
    );
}
