//! The dashboard of `strata serve` in a real browser (headless Chromium through
//! chromedriver): the hierarchy, the watched tags, and — live, without reloading — a
//! cascade's progress after a push. A screenshot is kept as a test artefact in
//! `target/test-artifacts/dashboard.png`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pinned_support;
mod serve_support;

use std::time::{Duration, Instant};

use pinned_support::Mode;
use serve_support::{free_port, ready, serve, terminate};
use strata_testkit::browser::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_hierarchy_and_follows_a_cascade_live() {
    let port = free_port();
    let org = serve_support::org(Mode::InPlace, port, "1h", "").await;
    let server = serve(&org, &[], &[]);
    ready(port).await;
    let browser = Browser::start().await.unwrap();
    browser
        .open(&format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    // The hierarchy is drawn once the watch list is read.
    let started = Instant::now();
    loop {
        let tree = browser.text("#hierarchy").await.unwrap();
        if tree.contains("org/python-base:3.12") {
            assert!(tree.contains("(external)"), "{tree}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{tree}");
        browser
            .open(&format!("http://127.0.0.1:{port}/"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let tags = browser.text("#tags").await.unwrap();
    assert!(tags.contains("base/debian:bookworm"), "{tags}");
    let title = browser.run("return document.title").await.unwrap();
    assert!(title.as_str().unwrap().contains("tags watched"), "{title}");

    // A push: the open page follows the cascade by itself (server-sent events).
    browser
        .run("window.__kept = 'same page'; return 1")
        .await
        .unwrap();
    org.move_root().await;
    let started = Instant::now();
    loop {
        let cascades = browser.text("#cascades").await.unwrap();
        if cascades.contains("succeeded") {
            assert!(cascades.contains("org/vumi:latest"), "{cascades}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the page never showed the cascade: {cascades}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let kept = browser.run("return window.__kept").await.unwrap();
    assert_eq!(kept, "same page", "updated live, not reloaded");
    // Every move gets its timeline: the root's detection and cascade, and for each
    // image the cascade published, a note that the cascade carries it.
    let started = Instant::now();
    loop {
        let moves = browser.text("#moves").await.unwrap();
        if moves.contains("detected") && moves.contains("rebuilt by cascade") {
            assert!(moves.contains("published"), "{moves}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{moves}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let shot =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../test-artifacts/dashboard.png");
    let saved = browser.screenshot(&shot).await.unwrap();
    let png = std::fs::read(&saved).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        png.len()
    );
    drop(browser);
    let (code, log) = terminate(&org, server).await;
    assert_eq!(code, Some(0), "{log}");
}
