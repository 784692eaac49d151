//! `strata serve` loses nothing and repeats nothing across crashes: killed with SIGKILL
//! in the middle of a cascade and started again, it takes its own job back when the
//! lease runs out and finishes the cascade with no second commit, push or CI build for
//! any image; and a registry killed while its notification is in flight (the registry
//! keeps its queue in memory only) loses the webhook but not the move: the poll catches
//! it once the registry is back.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pinned_support;
mod serve_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pinned_support::{Mode, REPOS};
use serve_support::{cascaded, free_port, move_of, ready, serve, terminate, until};
use tokio::io::AsyncReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_cascade_finishes_it_after_a_restart_without_repeating_a_push() {
    let port = free_port();
    let org = serve_support::org(Mode::Commit, port, "1h", "").await;
    // Level 3's CI jobs take a while: the server is killed while it waits on them.
    for repo in ["vumi", "celery"] {
        org.tune_ci(repo, |p| {
            p.sleep = "org/vumi:latest=2000,org/celery-base:5=2000".into()
        });
    }
    let mut first = serve(&org, &[], &[]);
    ready(port).await;
    org.move_root().await;
    let h = org.host.clone();
    let started = Instant::now();
    loop {
        let starts = org.count_builds("start");
        if starts.contains_key(&format!("{h}/org/vumi:latest"))
            && starts.contains_key(&format!("{h}/org/celery-base:5"))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "level 3 never started: {starts:?}\n{}",
            serve_support::log_text(&org)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().await.unwrap();
    let _ = first.wait().await;

    // The new process finds the job leased by the dead one and takes it when the lease
    // (five seconds here) runs out; the cascade resumes where it stopped.
    let second = serve(&org, &[], &[]);
    ready(port).await;
    let moves = until(&org, port, "/api/moves", "the resumed cascade", |m| {
        cascaded(m, &org.root)
    })
    .await;
    let root_move = move_of(&moves, &org.root).unwrap();
    assert_eq!(root_move["cascade"]["run"], 1, "{root_move:#}");
    org.settle_ci().await;
    org.assert_on_new_chain().await;
    // Each push starts one CI job, which builds every image of its repository: no commit
    // pushed twice, and no commit's job started twice, means nothing was triggered twice.
    let mut jobs = BTreeMap::new();
    for event in org.builds().iter().filter(|e| e["event"] == "start") {
        let key = (event["commit"].to_string(), event["image"].to_string());
        *jobs.entry(key).or_insert(0) += 1;
    }
    assert!(jobs.values().all(|n| *n == 1), "{jobs:#?}");
    for repo in REPOS {
        let mut seen = BTreeMap::new();
        for message in org.origin_messages(repo) {
            let trailers: Vec<String> = message
                .lines()
                .filter(|l| l.starts_with("Strata-Rebuild-On:"))
                .map(str::to_owned)
                .collect();
            if !trailers.is_empty() {
                *seen.entry(trailers).or_insert(0) += 1;
            }
        }
        assert!(!seen.is_empty(), "{repo}: nothing pushed");
        assert!(seen.values().all(|n| *n == 1), "{repo}: {seen:#?}");
    }
    let (code, log) = terminate(&org, second).await;
    assert_eq!(code, Some(0), "{log}");
}

/// A notification endpoint that reads each request and never answers: the registry's
/// delivery hangs in flight until the registry dies. Reports each request it read.
async fn stalling_endpoint() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/registry", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut held = Vec::new();
        // Bounded: the registry retries a handful of times within the test.
        for _ in 0..64 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 64 * 1024];
            let n = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut buf))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            held.push(socket);
        }
    });
    (url, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_killed_mid_notification_loses_the_webhook_but_the_poll_catches_the_move() {
    let port = free_port();
    let (hook, mut delivered) = stalling_endpoint().await;
    let mut org =
        serve_support::org_notifying(Mode::InPlace, port, &hook, "2s", "jitter = 0.0").await;
    let server = serve(&org, &[], &[]);
    ready(port).await;
    let moved_to = org.move_root().await;
    // The registry has sent the push's notification and waits for an answer...
    let (repo, _) = pinned_support::split(&org.root);
    let started = Instant::now();
    loop {
        let request = tokio::time::timeout(Duration::from_secs(30), delivered.recv())
            .await
            .expect("the registry never notified")
            .unwrap();
        if request.contains(&repo) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30));
    }
    // ...and dies with it in memory. The poll meets a registry that is down.
    org.registry.kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    org.registry.restart().await.unwrap();

    let moves = until(&org, port, "/api/moves", "the cascade", |m| {
        cascaded(m, &org.root)
    })
    .await;
    let root_move = move_of(&moves, &org.root).unwrap();
    assert_eq!(root_move["to"], moved_to.as_str());
    let steps = serve_support::step_names(root_move);
    assert_eq!(steps, ["detected", "cascade"], "{moves:#}");
    org.assert_on_new_chain().await;
    let (code, log) = terminate(&org, server).await;
    assert_eq!(code, Some(0), "{log}");
}
