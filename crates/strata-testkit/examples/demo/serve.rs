//! Demo, always-on stage (`scripts/demo --serve`): the same workspace watched by
//! `strata serve`. The registry's notifications already point at the server's address;
//! a `[serve]` table is added to `strata.toml`, the server started, and one more upstream
//! release pushed: the notification reaches the server, the registry confirms it, and
//! the cascade runs with nobody typing anything. The move's timeline is read back from
//! the server's API; then the server keeps watching (dashboard in a browser) until
//! Ctrl-C, or stops at once with `--serve-once`.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use strata_testkit::TestRegistry;

use crate::registry::{Hub, short};
use crate::terminal::{Shell, heading};

/// The bearer token the registry's notifications carry (a demo value; a real one lives in
/// a secret store and reaches strata through the environment variable named below).
pub(crate) const HOOK_TOKEN: &str = "demo-notification-token";

/// How the demo's always-on step runs.
#[derive(Debug, Clone)]
pub(crate) struct Always {
    /// Where the server listens (`127.0.0.1:8080`).
    pub(crate) listen: String,
    /// Stop once the cascade is done instead of waiting for Ctrl-C.
    pub(crate) once: bool,
}

impl Always {
    /// The URL the registry notifies.
    pub(crate) fn hook_url(&self) -> String {
        format!("http://{}/hooks/registry", self.listen)
    }
}

/// Step 11: serve, push, watch the move go through.
pub(crate) async fn run(
    sh: &mut Shell,
    always: &Always,
    registry: &TestRegistry,
    hub: &mut Hub,
    ws: &Path,
    scratch: &Path,
) -> Result<()> {
    heading(
        11,
        "Always on",
        "`strata serve` watches every tag the workspace references (one lookup per tag per\n\
         interval), takes the registry's notifications as hints, and runs the update and the\n\
         cascade by itself when a tag moves.",
    );
    let config = ws.join("strata.toml");
    let mut text = std::fs::read_to_string(&config).context("reading strata.toml")?;
    let _ = write!(
        text,
        "\n# Always on: `strata serve`. The registry notifies {hook}.\n\
         [serve]\nlisten = \"{listen}\"\ninterval = \"1m\"\n\n\
         [serve.secrets]\nregistry = \"STRATA_REGISTRY_HOOK_TOKEN\"\n",
        hook = always.hook_url(),
        listen = always.listen,
    );
    std::fs::write(&config, text).context("writing strata.toml")?;
    println!("\n$ tail -7 strata.toml");
    let written = std::fs::read_to_string(&config)?;
    let lines: Vec<&str> = written.lines().collect();
    for line in &lines[lines.len().saturating_sub(7)..] {
        println!("{line}");
    }

    let log = scratch.join("serve.log");
    let child = sh.spawn(
        &["serve"],
        &[("STRATA_REGISTRY_HOOK_TOKEN", HOOK_TOKEN.to_owned())],
        &log,
    )?;
    let mut server = Server { child: Some(child) };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()?;
    let base = format!("http://{}", always.listen);
    wait_ready(&client, &base, &log).await?;
    println!("\n  serving: dashboard {base}/   API {base}/api/moves   metrics {base}/metrics");

    let moved = hub.push_python_patch(registry).await?;
    let pushed = Instant::now();
    println!(
        "\n  upstream pushes {}: {}  ->  {}",
        moved.name,
        short(&moved.from),
        short(&moved.to)
    );
    let done = wait_cascade(&client, &base, &moved.to, &log).await?;
    let took = pushed.elapsed();
    // The poll may find the move before the push's own notification arrives (the registry
    // delivers its notifications in order, older ones first); the push joins the
    // timeline when it does.
    let done = wait_pushed(&client, &base, done).await?;
    println!(
        "\n  {:.1} s from the push to the last image published, nobody typing anything:",
        took.as_secs_f64()
    );
    print_timeline(&done);

    if !always.once {
        println!("\n  strata serve keeps watching: open {base}/ in a browser. Ctrl-C stops it.");
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
    }
    server.stop()
}

/// The background server, stopped with SIGTERM (and killed if it will not go).
struct Server {
    child: Option<Child>,
}

impl Server {
    fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let pid = child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = child.try_wait()? {
                println!("\n  strata serve stopped ({status}).");
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        bail!("strata serve did not stop within 30 s of SIGTERM")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

async fn wait_ready(client: &reqwest::Client, base: &str, log: &Path) -> Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let answer = client.get(format!("{base}/readyz")).send().await;
        if answer.is_ok_and(|a| a.status() == 200) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "strata serve was not ready within 60 s (is {base} taken? pass --listen); its log:\n{}",
        log_tail(log)
    )
}

/// Waits (bounded) for the move to `digest` to be handled with its cascade succeeded.
async fn wait_cascade(
    client: &reqwest::Client,
    base: &str,
    digest: &str,
    log: &Path,
) -> Result<Value> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        let moves: Value = client
            .get(format!("{base}/api/moves"))
            .send()
            .await?
            .json()
            .await?;
        let found = moves
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["to"] == digest);
        if let Some(m) = found {
            match m["cascade"]["status"].as_str() {
                Some("succeeded") if m["handled_at"].is_string() => return Ok(m.clone()),
                Some("failed" | "cancelled") => {
                    bail!("the cascade ended {}: {m:#}", m["cascade"]["status"])
                }
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "the move to {digest} was not cascaded within 120 s; the server's log:\n{}",
        log_tail(log)
    )
}

/// `found` again once its timeline has the push's own notification (a few seconds at
/// most), or as it is.
async fn wait_pushed(client: &reqwest::Client, base: &str, found: Value) -> Result<Value> {
    let has_push = |m: &Value| {
        m["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["step"] == "pushed")
    };
    let started = Instant::now();
    let mut latest = found;
    while !has_push(&latest) && started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let moves: Value = client
            .get(format!("{base}/api/moves"))
            .send()
            .await?
            .json()
            .await?;
        if let Some(m) = moves
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["id"] == latest["id"])
        {
            latest = m.clone();
        }
    }
    Ok(latest)
}

/// The move's steps and levels as the API reports them.
fn print_timeline(found: &Value) {
    let at = |v: &Value| v.as_str().unwrap_or("").to_owned();
    for step in found["steps"].as_array().into_iter().flatten() {
        println!(
            "    {}  {:<9} {}",
            at(&step["at"]),
            step["step"].as_str().unwrap_or(""),
            shortened(step["detail"].as_str().unwrap_or(""))
        );
    }
    for level in found["levels"].as_array().into_iter().flatten() {
        println!(
            "    {}  level {}: {} image(s) published",
            at(&level["finished_at"]),
            level["level"],
            level["images"]
        );
    }
}

/// `text` with every `sha256:<64 hex>` cut to its first 12 hex digits.
fn shortened(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("sha256:") {
        let (before, digest) = rest.split_at(at);
        out.push_str(before);
        let hex_len = digest[7..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        if hex_len == 64 {
            out.push_str(&short(&digest[..71]));
            rest = &digest[71..];
        } else {
            out.push_str("sha256:");
            rest = &digest[7..];
        }
    }
    out.push_str(rest);
    out
}
