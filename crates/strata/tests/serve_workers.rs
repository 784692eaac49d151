//! Several `strata serve` processes sharing one PostgreSQL database
//! (`strata_testkit::TestPostgres`) on a pinned organisation (`pinned_support`): a root
//! move is recorded once however many workers see it, handled once, and its cascade
//! triggers every image exactly once (the builder logs a `start` per build) with every
//! image ending on the new chain — with two and with four workers; a worker killed with
//! SIGKILL mid-cascade has its job taken over by another once its lease runs out, and
//! the cascade finishes with no image built twice; a registry killed while its
//! notification of the move is in flight loses it, and the poll still catches the move.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pinned_support;
mod serve_support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use pinned_support::{Mode, Org};
use serve_support::{HOOK_TOKEN, cascaded, free_port, log_text, move_of, ready, serve, until};
use strata::registry::TagKey;
use strata::state::{JobKind, JobState, RunStatus, State};
use strata_testkit::{Fault, FaultProxy, RegistryOptions, TestPostgres};

/// An organisation whose registry notifies `notify`, with a `[serve]` table: the first
/// worker listens on `port`, tags are polled every `interval`, leases last `lease`.
async fn org(notify: &str, port: u16, interval: &str, lease: &str) -> Org {
    let options = RegistryOptions::default()
        .notifications(notify)
        .notification_header("Authorization", &format!("Bearer {HOOK_TOKEN}"));
    let org = Org::with_registry(Mode::InPlace, None, options).await;
    let path = org.workspace().join("strata.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[serve]\nlisten = \"127.0.0.1:{port}\"\ninterval = \"{interval}\"\nlease = \"{lease}\"\n\
         [serve.secrets]\nregistry = \"STRATA_TEST_HOOK_TOKEN\"\nadmin = \"STRATA_TEST_ADMIN\"\n"
    ));
    std::fs::write(path, text).unwrap();
    org
}

/// One `strata serve` per port, all on the database at `url`, named `w0`, `w1`, ….
fn workers(
    org: &Org,
    url: &str,
    ports: &[u16],
    env: &[(&str, String)],
) -> Vec<tokio::process::Child> {
    ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let name = format!("w{i}");
            let listen = format!("127.0.0.1:{port}");
            let args = ["--database", url, "--worker", &name, "--listen", &listen];
            serve(org, &args, env)
        })
        .collect()
}

fn root_key(org: &Org) -> TagKey {
    TagKey {
        registry: org.host.clone(),
        repository: "base/debian".into(),
        tag: "bookworm".into(),
    }
}

/// Builds started per image since the log had `mark` lines.
fn starts_since(org: &Org, mark: usize) -> BTreeMap<String, usize> {
    let mut starts = BTreeMap::new();
    for event in org.builds().iter().skip(mark) {
        if event["event"] == "start" {
            let image = event["image"].as_str().unwrap().to_owned();
            *starts.entry(image).or_default() += 1;
        }
    }
    starts
}

/// Every managed image was built exactly once since `mark`.
fn assert_each_built_once(org: &Org, mark: usize) {
    let starts = starts_since(org, mark);
    let twice: Vec<_> = starts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "built more than once: {twice:?}");
    let missing: Vec<&str> = org
        .members
        .iter()
        .map(|m| m.name.as_str())
        .filter(|name| !starts.contains_key(*name))
        .collect();
    assert!(missing.is_empty(), "never built: {missing:?}");
    assert_eq!(starts.len(), org.members.len(), "{starts:?}");
}

/// What the database says of the root's move: one move, its steps, one cascade.
async fn assert_one_move_one_cascade(org: &Org, url: &str) -> Vec<String> {
    let state = State::connect(url).await.unwrap();
    let moves = state.history(&root_key(org)).await.unwrap();
    assert_eq!(moves.len(), 1, "the root move recorded once: {moves:?}");
    let steps: Vec<String> = state
        .move_steps(moves[0].id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.step)
        .collect();
    let runs: Vec<_> = state
        .recent_cascades(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|run| run.root_image == org.root)
        .collect();
    assert_eq!(runs.len(), 1, "one cascade of the root: {runs:?}");
    assert_eq!(runs[0].status, RunStatus::Succeeded);
    state.close().await;
    steps
}

/// Waits (bounded) until the workers are idle: every recorded move handled (the managed
/// images' own moves, caused by the cascade, included) and no job queued or running.
async fn settle(org: &Org, url: &str) {
    let state = State::connect(url).await.unwrap();
    let started = Instant::now();
    loop {
        let unhandled = state.moves(true, 100).await.unwrap();
        let queue = state.queue_stats().await.unwrap();
        if unhandled.is_empty() && queue.queued == 0 && queue.leased == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never idle: {unhandled:?} {queue:?}\n{}",
            log_text(org)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    state.close().await;
}

/// Stops every worker still running (SIGTERM) and checks each exits cleanly.
async fn stop_all(org: &Org, children: Vec<tokio::process::Child>) {
    for child in children {
        let (code, stderr) = serve_support::terminate(org, child).await;
        assert_eq!(code, Some(0), "{stderr}");
    }
}

/// N workers, one database: the move detected once (webhook and N pollers racing),
/// handled once, every image triggered once.
async fn workers_share_one_database(n: usize) {
    let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let notify = format!("http://127.0.0.1:{}/hooks/registry", ports[0]);
    // Polls every second on top of the webhook: every worker races to see the move.
    let org = org(&notify, ports[0], "1s", "10s").await;
    let url = TestPostgres::shared().create_database().unwrap();
    let children = workers(&org, &url, &ports, &[]);
    for port in &ports {
        ready(*port).await;
    }
    let mark = org.builds().len();
    org.move_root().await;
    // Any worker answers for all: the API reads the shared database.
    let last = *ports.last().unwrap();
    let moves = until(&org, last, "/api/moves", "the cascade", |m| {
        cascaded(m, &org.root)
    })
    .await;
    assert!(move_of(&moves, &org.root).is_some());
    org.assert_on_new_chain().await;
    // Builds of managed images moved their tags too: let the workers handle those
    // moves (each is left to the cascade) before counting.
    settle(&org, &url).await;
    assert_each_built_once(&org, mark);
    let steps = assert_one_move_one_cascade(&org, &url).await;
    let count = |name: &str| steps.iter().filter(|s| *s == name).count();
    assert_eq!(
        (count("detected"), count("cascade")),
        (1, 1),
        "{steps:?}\n{}",
        log_text(&org)
    );
    stop_all(&org, children).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgres_database_run_a_move_once() {
    workers_share_one_database(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_on_one_postgres_database_run_a_move_once() {
    workers_share_one_database(4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_cascade_is_taken_over_when_its_lease_runs_out() {
    let ports = [free_port(), free_port()];
    let notify = format!("http://127.0.0.1:{}/hooks/registry", ports[0]);
    let org = org(&notify, ports[0], "2s", "2s").await;
    let url = TestPostgres::shared().create_database().unwrap();
    // The first level's builds take a while: the kill lands while they run.
    let slow = [("STRATA_TEST_SLEEP", "base/python=2500".to_owned())];
    let mut children = workers(&org, &url, &ports, &slow);
    for port in ports {
        ready(port).await;
    }
    let mark = org.builds().len();
    org.move_root().await;
    let started = Instant::now();
    while starts_since(&org, mark).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the cascade never started:\n{}",
            log_text(&org)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Whoever holds the move's job runs the cascade: that one dies.
    let state = State::connect(&url).await.unwrap();
    let holder = state
        .jobs(100)
        .await
        .unwrap()
        .into_iter()
        .find(|job| job.kind == JobKind::Move && job.state == JobState::Leased)
        .and_then(|job| job.lease_owner)
        .unwrap();
    let index: usize = holder.trim_start_matches('w').parse().unwrap();
    let mut killed = children.remove(index);
    killed.start_kill().unwrap();
    killed.wait().await.unwrap();
    let survivor = ports[1 - index];

    let moves = until(&org, survivor, "/api/moves", "the cascade", |m| {
        cascaded(m, &org.root)
    })
    .await;
    assert!(move_of(&moves, &org.root).is_some());
    org.assert_on_new_chain().await;
    settle(&org, &url).await;
    assert_each_built_once(&org, mark);
    assert_one_move_one_cascade(&org, &url).await;
    // The root's move job: taken over once (a second attempt), then done.
    let root_move = state.history(&root_key(&org)).await.unwrap()[0].id;
    let job_key = format!("move:{}", root_move.0);
    let jobs: Vec<_> = state
        .jobs(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|job| job.key == job_key)
        .collect();
    assert!(!jobs.is_empty());
    let first = jobs.last().unwrap();
    assert_eq!(
        (first.state, first.attempts),
        (JobState::Done, 2),
        "{jobs:?}"
    );
    state.close().await;
    stop_all(&org, children).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_lost_with_the_registry_is_caught_by_the_poll() {
    let ports = [free_port(), free_port()];
    // The registry notifies the first worker through a proxy that can hold a request.
    let proxy = FaultProxy::start(&format!("http://127.0.0.1:{}", ports[0]))
        .await
        .unwrap();
    // While the organisation is seeded no worker runs: notifications are just accepted.
    proxy.inject(Fault::respond(202, &[], "").on_method("POST"));
    let notify = format!("{}/hooks/registry", proxy.url());
    let mut org = org(&notify, ports[0], "2s", "10s").await;
    let url = TestPostgres::shared().create_database().unwrap();
    let children = workers(&org, &url, &ports, &[]);
    for port in ports {
        ready(port).await;
    }
    // From now on a notification is held in flight, never delivered.
    proxy.clear_faults();
    proxy.inject(Fault::delay(Duration::from_secs(3600)).on_method("POST"));
    let before = proxy.request_count();
    let mark = org.builds().len();
    org.move_root().await;
    let started = Instant::now();
    while !proxy
        .requests()
        .iter()
        .skip(before)
        .any(|r| r.method == "POST" && r.status.is_none())
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the registry never notified"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The registry dies with the notification in flight; it comes back without it.
    org.registry.kill();
    org.registry.restart().await.unwrap();

    let moves = until(&org, ports[1], "/api/moves", "the cascade", |m| {
        cascaded(m, &org.root)
    })
    .await;
    assert!(move_of(&moves, &org.root).is_some());
    org.assert_on_new_chain().await;
    settle(&org, &url).await;
    assert_each_built_once(&org, mark);
    let steps = assert_one_move_one_cascade(&org, &url).await;
    // Seen by a poll, not pushed by a webhook.
    assert_eq!(steps, ["detected", "cascade"], "{}", log_text(&org));
    stop_all(&org, children).await;
}
