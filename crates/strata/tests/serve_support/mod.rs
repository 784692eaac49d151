//! Shared by the `serve_*` tests: a `strata serve` process on a free loopback port in a
//! pinned organisation's workspace (`pinned_support`), the registry's notifications
//! pointed at it, and small HTTP helpers bounded in time.

#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::pinned_support::{Mode, Org};

/// The registry's notification token and the admin token the servers are given.
pub const HOOK_TOKEN: &str = "hook-token";
pub const ADMIN_TOKEN: &str = "admin-token";

/// A free port on 127.0.0.1 (bound and released: a race is unlikely and shows as a clear
/// bind error).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// An organisation whose registry notifies `port`'s `/hooks/registry`, with a
/// `[serve]` table for that port added to its `strata.toml`.
pub async fn org(mode: Mode, port: u16, interval: &str, extra: &str) -> Org {
    let url = format!("http://127.0.0.1:{port}/hooks/registry");
    org_notifying(mode, port, &url, interval, extra).await
}

/// [`org`] with the registry's notifications sent to `url` instead.
pub async fn org_notifying(mode: Mode, port: u16, url: &str, interval: &str, extra: &str) -> Org {
    let options = strata_testkit::RegistryOptions::default()
        .notifications(url)
        .notification_header("Authorization", &format!("Bearer {HOOK_TOKEN}"));
    let org = Org::with_registry(mode, None, options).await;
    let path = org.workspace().join("strata.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[serve]\nlisten = \"127.0.0.1:{port}\"\ninterval = \"{interval}\"\nlease = \"5s\"\n{extra}\n\
         [serve.secrets]\nregistry = \"STRATA_TEST_HOOK_TOKEN\"\nadmin = \"STRATA_TEST_ADMIN\"\n"
    ));
    std::fs::write(path, text).unwrap();
    org
}

/// Starts `strata serve` in the organisation's workspace (killed when dropped).
pub fn serve(
    org: &Org,
    extra_args: &[&str],
    extra_env: &[(&str, String)],
) -> tokio::process::Child {
    let mut args = vec!["serve"];
    args.extend_from_slice(extra_args);
    let mut env = vec![
        ("STRATA_TEST_HOOK_TOKEN", HOOK_TOKEN.to_owned()),
        ("STRATA_TEST_ADMIN", ADMIN_TOKEN.to_owned()),
    ];
    env.extend(extra_env.iter().map(|(k, v)| (*k, v.clone())));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(server_log(org))
        .unwrap();
    org.command(&args, &env)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Where the servers' stderr goes.
pub fn server_log(org: &Org) -> std::path::PathBuf {
    org.dir.path().join("serve.log")
}

/// The servers' stderr so far.
pub fn log_text(org: &Org) -> String {
    std::fs::read_to_string(server_log(org)).unwrap_or_default()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .unwrap()
}

/// Waits (bounded) until `GET /readyz` answers 200.
pub async fn ready(port: u16) {
    let client = http();
    let started = Instant::now();
    loop {
        let answer = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await;
        if answer.is_ok_and(|a| a.status() == 200) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "never ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn get_json(port: u16, path: &str) -> Value {
    http()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `path` (bounded) until `done` holds for its JSON; returns it.
pub async fn until(
    org: &Org,
    port: u16,
    path: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let value = get_json(port, path).await;
        if done(&value) {
            return value;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{what} never happened: {value:#}\nserver log:\n{}",
            log_text(org)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The newest move of `tag` in a `/api/moves` answer.
pub fn move_of<'v>(moves: &'v Value, tag: &str) -> Option<&'v Value> {
    moves.as_array()?.iter().find(|m| m["tag"] == tag)
}

/// The names of a move's steps, in order.
pub fn step_names(a_move: &Value) -> Vec<&str> {
    a_move["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect()
}

/// Whether `tag`'s newest move was handled and its cascade succeeded.
pub fn cascaded(moves: &Value, tag: &str) -> bool {
    move_of(moves, tag)
        .is_some_and(|m| m["handled_at"].is_string() && m["cascade"]["status"] == "succeeded")
}

/// Sends SIGTERM and waits (bounded) for the exit status; the log with it.
pub async fn terminate(org: &Org, mut child: tokio::process::Child) -> (Option<i32>, String) {
    let pid = child.id().unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    (status.code(), log_text(org))
}
