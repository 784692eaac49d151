//! `strata diff` on bad input: a truncated layer, corrupt gzip and zstd streams, a tar
//! entry escaping the root, a package database with garbage lines, a 10,000-package
//! database, and a layer far larger uncompressed than compressed. Each gives a clear
//! error or a result marked partial — never a panic, never a wrong "no changes" — in
//! bounded memory.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod corpus;
mod diff_support;

use diff_support::{Env, package_changes, platform};
use strata_testkit::Image;
use strata_testkit::packages::{TarLayer, gzip, layer, synthetic_dpkg_status};

const OS: &str = "ID=debian\nVERSION_ID=\"12\"\n";

fn status_layer(status: &str) -> TarLayer {
    TarLayer::new()
        .file("etc/os-release", OS)
        .file("var/lib/dpkg/status", status)
}

/// Pushes `old` and `new` as `bad/img:old` / `:new` and diffs them.
async fn diff(env: &Env, old: Image, new: Image) -> diff_support::Run {
    env.push("bad/img", "old", &old).await;
    env.push("bad/img", "new", &new).await;
    env.diff(
        &env.name("bad/img", "old"),
        &env.name("bad/img", "new"),
        &[],
    )
    .await
}

fn good() -> Image {
    Image::from_layers(vec![status_layer(&synthetic_dpkg_status(3, "1.0")).gzip()])
}

#[tokio::test]
async fn damaged_layers_make_a_partial_result_never_no_changes() {
    let env = Env::start().await;
    let tar = status_layer(&synthetic_dpkg_status(3, "2.0")).tar();
    let gz = gzip(&tar);
    let zst = zstd::encode_all(tar.as_slice(), 3).unwrap();
    let mut corrupt_zstd = zst.clone();
    let middle = corrupt_zstd.len() / 2;
    for b in &mut corrupt_zstd[middle..middle + 8] {
        *b ^= 0xff;
    }
    let mut corrupt_gzip = gz.clone();
    let middle = corrupt_gzip.len() / 2;
    for b in &mut corrupt_gzip[middle..middle + 8] {
        *b ^= 0xff;
    }
    let cases = [
        ("truncated gzip", gz[..gz.len() / 2].to_vec(), "gzip"),
        ("corrupt gzip", corrupt_gzip, "gzip"),
        ("corrupt zstd", corrupt_zstd, "zstd"),
        ("truncated zstd", zst[..zst.len() - 9].to_vec(), "zstd"),
    ];
    let mut ran = 0;
    for (what, bytes, compression) in cases {
        let new = Image::from_layers(vec![layer(&tar, bytes)]);
        let run = diff(&env, good(), new).await;
        assert_eq!(run.code, 1, "{what}: {}", run.stderr);
        let report = run.json();
        let p = platform(&report, "linux/amd64");
        assert!(
            p["packages"].is_null(),
            "{what}: packages must be unknown, not unchanged: {p:#}"
        );
        let partial = p["partial"].to_string();
        assert!(
            partial.contains("damaged") && partial.contains(compression),
            "{what}: {partial}"
        );
        assert_eq!(report["summary"]["partial"], true);
        ran += 1;
    }
    assert_eq!(ran, 4);
}

#[tokio::test]
async fn an_entry_escaping_the_root_is_skipped_and_reported() {
    let env = Env::start().await;
    let hostile = TarLayer::new()
        .raw_name(
            "../../var/lib/dpkg/status",
            "Package: evil\nStatus: install ok installed\nVersion: 9\n",
        )
        .file("var/lib/dpkg/status", synthetic_dpkg_status(4, "1.0"))
        .file("etc/os-release", OS)
        .gzip();
    let run = diff(&env, good(), Image::from_layers(vec![hostile])).await;
    let report = run.json();
    let p = platform(&report, "linux/amd64");
    assert!(
        p["partial"].to_string().contains("escapes the image root"),
        "{p:#}"
    );
    // The rest of the layer still counts: one package added, nothing from the escapee.
    assert_eq!(
        package_changes(p),
        [("pkg-00003".into(), "added".into(), "-".into(), "1.0".into())]
    );
}

#[tokio::test]
async fn garbage_lines_are_reported_and_the_rest_is_read() {
    let env = Env::start().await;
    let mut status = synthetic_dpkg_status(3, "1.0");
    status.push_str("this line is garbage\n\u{1}\u{2}\u{3}\nPackage: late\nStatus: install ok installed\nVersion: 1\n");
    let run = diff(
        &env,
        good(),
        Image::from_layers(vec![status_layer(&status).gzip()]),
    )
    .await;
    let report = run.json();
    let p = platform(&report, "linux/amd64");
    assert!(p["partial"].to_string().contains("not a field"), "{p:#}");
    assert_eq!(
        package_changes(p),
        [("late".into(), "added".into(), "-".into(), "1".into())]
    );
}

#[tokio::test]
async fn ten_thousand_packages_all_upgraded() {
    let env = Env::start().await;
    let old = Image::from_layers(vec![
        status_layer(&synthetic_dpkg_status(10_000, "1.0-1")).gzip(),
    ]);
    let new = Image::from_layers(vec![
        status_layer(&synthetic_dpkg_status(10_000, "1.0-1+deb12u1")).zstd(),
    ]);
    let started = std::time::Instant::now();
    let run = diff(&env, old, new).await;
    let report = run.json();
    let changes = package_changes(platform(&report, "linux/amd64"));
    assert_eq!(changes.len(), 10_000);
    assert!(changes.iter().all(|c| c.1 == "upgraded"));
    assert_eq!(report["summary"]["packages_upgraded"], 10_000);
    eprintln!("10,000-package diff: {:?}", started.elapsed());
}

/// A 1 GiB file in a layer of about 1 MB (zeros compress well), once as an ordinary
/// file and once posing as the dpkg database: streamed through in bounded memory, the
/// oversized database skipped and reported.
#[tokio::test]
async fn a_layer_a_thousand_times_larger_uncompressed_stays_in_bounded_memory() {
    let env = Env::start().await;
    const GIB: u64 = 1 << 30;
    for path in ["opt/blob.bin", "var/lib/dpkg/status"] {
        let (compressed, diff_id) = streamed_zero_layer(path, GIB);
        assert!(compressed.len() < 2 << 20, "{}", compressed.len());
        let big_layer = strata_testkit::Layer {
            digest: strata_testkit::sha256_digest(&compressed),
            diff_id,
            bytes: compressed,
        };
        let new = Image::from_layers(vec![good().layers()[0].clone(), big_layer]);
        let started = std::time::Instant::now();
        let run = timed(&env, good(), new).await;
        let report = run.0.json();
        let p = platform(&report, "linux/amd64");
        if path == "opt/blob.bin" {
            assert!(package_changes(p).is_empty(), "{p:#}");
            assert!(p["layers"]["new_uncompressed"].as_u64().unwrap() > GIB);
        } else {
            assert!(p["partial"].to_string().contains("more than the"), "{p:#}");
        }
        if let Some(kib) = run.1 {
            assert!(kib < 150 * 1024, "peak memory {kib} KiB for {path}");
        }
        eprintln!("{path}: {:?}, peak {:?} KiB", started.elapsed(), run.1);
    }
}

/// A zstd layer holding one file of `size` zero bytes at `path`, compressed as it is
/// produced: `(compressed bytes, diff ID)`.
fn streamed_zero_layer(path: &str, size: u64) -> (Vec<u8>, String) {
    use sha2::{Digest as _, Sha256};
    use std::io::Write as _;
    struct Tee<W: std::io::Write> {
        inner: W,
        hash: Sha256,
    }
    impl<W: std::io::Write> std::io::Write for Tee<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.hash.update(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let encoder = zstd::Encoder::new(Vec::new(), 1).unwrap();
    let mut tee = Tee {
        inner: encoder,
        hash: Sha256::new(),
    };
    {
        let mut builder = tar::Builder::new(&mut tee);
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        use std::io::Read as _;
        builder
            .append_data(&mut header, path, std::io::repeat(0).take(size))
            .unwrap();
        builder.finish().unwrap();
    }
    tee.flush().unwrap();
    let diff_id = format!("sha256:{}", hex::encode(tee.hash.finalize()));
    (tee.inner.finish().unwrap(), diff_id)
}

/// The diff run under `/usr/bin/time` when present: the run and its peak RSS (KiB).
async fn timed(env: &Env, old: Image, new: Image) -> (diff_support::Run, Option<u64>) {
    env.push("bad/img", "old", &old).await;
    env.push("bad/img", "new", &new).await;
    let run = env
        .diff(
            &env.name("bad/img", "old"),
            &env.name("bad/img", "new"),
            &[],
        )
        .await;
    let peak = if std::path::Path::new("/usr/bin/time").exists() {
        let rss = tempfile::NamedTempFile::new().unwrap();
        let exe = env.exe();
        let advisories = env.advisories();
        let output = tokio::process::Command::new("/usr/bin/time")
            .args(["-f", "%M", "-o"])
            .arg(rss.path())
            .arg(&exe)
            .args([
                "diff",
                &env.name("bad/img", "old"),
                &env.name("bad/img", "new"),
                "--format",
                "json",
                "--advisories",
            ])
            .arg(&advisories)
            .env("STRATA_CACHE_DIR", env.cache())
            .env("HOME", env.dir.path().join("home"))
            .output()
            .await
            .unwrap();
        let _ = output;
        std::fs::read_to_string(rss.path())
            .ok()
            .and_then(|t| t.trim().lines().last()?.parse().ok())
    } else {
        None
    };
    (run, peak)
}

/// Images without a dpkg or apk database (scratch-based, or another package manager):
/// the packages are "not compared", never "no package changed".
#[tokio::test]
async fn images_without_a_package_database_are_not_called_unchanged() {
    let env = Env::start().await;
    let run = diff(&env, Image::new("static-a"), Image::new("static-b")).await;
    let report = run.json();
    let p = platform(&report, "linux/amd64");
    assert!(p["packages"].is_null(), "{p:#}");
    assert!(
        p["notes"]
            .to_string()
            .contains("neither image has a dpkg or apk database"),
        "{p:#}"
    );
    let table = env
        .strata(&[
            "diff",
            &env.name("bad/img", "old"),
            &env.name("bad/img", "new"),
        ])
        .await;
    assert!(
        table.stdout.contains("packages    not compared"),
        "{}",
        table.stdout
    );
}
