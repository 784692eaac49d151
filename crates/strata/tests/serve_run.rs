//! `strata serve` on a pinned organisation: a push to the registry reaches the server as
//! a notification, is confirmed against the registry, recorded as a move and cascaded
//! through every image with nobody in the loop — visible in the API, the metrics and the
//! dashboard. Without webhooks the poll catches the move on its own. Webhooks with a bad
//! token, too large or malformed are refused and change nothing; SIGTERM stops cleanly.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pinned_support;
mod serve_support;

use pinned_support::Mode;
use serde_json::json;
use serve_support::{
    ADMIN_TOKEN, HOOK_TOKEN, cascaded, free_port, get_json, http, move_of, ready, serve, terminate,
    until,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notified_push_is_confirmed_recorded_and_cascaded_with_nobody_in_the_loop() {
    let port = free_port();
    // An interval far beyond the test: only the webhook can make it in time.
    let org = serve_support::org(Mode::InPlace, port, "1h", "").await;
    let server = serve(&org, &[], &[]);
    ready(port).await;
    let images = get_json(port, "/api/images").await;
    assert!(
        images
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["tag"] == org.root.as_str()),
        "{images:#}"
    );

    let moved_to = org.move_root().await;
    let moves = until(&org, port, "/api/moves", "the cascade", |m| {
        cascaded(m, &org.root)
    })
    .await;
    let root_move = move_of(&moves, &org.root).unwrap();
    assert_eq!(root_move["to"], moved_to.as_str());
    let steps = serve_support::step_names(root_move);
    assert_eq!(steps, ["pushed", "detected", "cascade"], "{moves:#}");
    assert_eq!(root_move["levels"].as_array().unwrap().len(), 5);
    org.assert_on_new_chain().await;

    let client = http();
    let base = format!("http://127.0.0.1:{port}");
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The root's move, and the cascade's own pushes as the registry notified them.
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in\n{metrics}"))
    };
    let detected = value("strata_moves_detected_total");
    assert!(detected >= 1.0, "{metrics}");
    // A latency for each move a notification told of (not one the poll found first).
    let timed = value("strata_detection_latency_seconds_count");
    assert!(timed >= 1.0 && timed <= detected, "{metrics}");
    assert!(
        value("strata_webhooks_total{source=\"registry\",outcome=\"accepted\"}") >= 1.0,
        "{metrics}"
    );
    let page = client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("succeeded") && page.contains("org/vumi:latest"),
        "{page}"
    );

    // Refused webhooks change nothing: none of their bodies is stored.
    let post = |token: &str, body: Vec<u8>| {
        client
            .post(format!("{base}/hooks/registry"))
            .header("Authorization", format!("Bearer {token}"))
            .body(body)
            .send()
    };
    let envelope = |marker: &str| {
        json!({"events": [], "marker": marker})
            .to_string()
            .into_bytes()
    };
    assert_eq!(
        post("wrong", envelope("refused-token"))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        post(HOOK_TOKEN, b"{\"marker\": \"refused-json\"".to_vec())
            .await
            .unwrap()
            .status(),
        400
    );
    let mut huge = envelope("refused-size");
    huge.resize(2 * 1024 * 1024, b' ');
    assert_eq!(post(HOOK_TOKEN, huge).await.unwrap().status(), 413);
    assert_eq!(
        post(HOOK_TOKEN, envelope("accepted"))
            .await
            .unwrap()
            .status(),
        202
    );
    let state = strata::state::State::open(&org.state()).await.unwrap();
    let stored: Vec<String> = state
        .events(false, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.body)
        .collect();
    state.close().await;
    assert!(stored.iter().any(|b| b.contains("\"accepted\"")));
    assert!(
        !stored.iter().any(|b| b.contains("refused")),
        "a refused body was stored"
    );
    // Actions need the admin token.
    let check = client
        .post(format!("{base}/api/check"))
        .json(&json!({"tag": org.root}))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 401);
    let check = client
        .post(format!("{base}/api/check"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"tag": org.root}))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200);

    let (code, stderr) = terminate(&org, server).await;
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_webhooks_the_poll_catches_the_move() {
    let port = free_port();
    let org = serve_support::org(Mode::InPlace, port, "2s", "jitter = 0.0").await;
    // No token: the registry's notifications are refused (404), so only the poll is left.
    let server = serve(&org, &[], &[("STRATA_TEST_HOOK_TOKEN", String::new())]);
    ready(port).await;
    org.move_root().await;
    let moves = until(&org, port, "/api/moves", "the cascade", |m| {
        cascaded(m, &org.root)
    })
    .await;
    let steps = serve_support::step_names(move_of(&moves, &org.root).unwrap());
    assert_eq!(steps, ["detected", "cascade"], "{moves:#}");
    org.assert_on_new_chain().await;
    let (code, stderr) = terminate(&org, server).await;
    assert_eq!(code, Some(0), "{stderr}");
}
