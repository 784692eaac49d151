//! Remote rebuild triggers against a fake CI on 127.0.0.1 that really rebuilds the image
//! it is asked for (as the test builder does): a signed webhook, GitHub
//! `repository_dispatch` and `workflow_dispatch`, a GitLab pipeline trigger — each
//! request checked against the documented shape — and a `pr` trigger outside any git
//! repository failing with a message saying so (`cascade_pr` covers the real thing).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[path = "forge_support/server.rs"]
#[allow(dead_code, unreachable_pub)]
mod server;

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde_json::Value;
use server::{Answer, FakeServer, Recorded};
use sha2::Sha256;
use strata_testkit::hierarchy::{Target, rebuild_on_current};
use strata_testkit::{Image, Seeder, TestRegistry};

const SECRET: &str = "hook-secret";

/// The image and base a trigger request names, whatever its shape.
fn asked(req: &Recorded) -> Option<(String, String)> {
    let json = req.json();
    let from_json = |v: &Value| {
        Some((
            v["image"].as_str()?.to_owned(),
            v["base_image"].as_str()?.to_owned(),
        ))
    };
    from_json(&json)
        .or_else(|| from_json(&json["client_payload"]))
        .or_else(|| from_json(&json["inputs"]))
        .or_else(|| {
            let form: BTreeMap<String, String> = url::form_urlencoded::parse(&req.body)
                .into_owned()
                .collect();
            Some((
                form.get("variables[STRATA_IMAGE]")?.clone(),
                form.get("variables[STRATA_BASE_IMAGE]")?.clone(),
            ))
        })
}

/// A fake CI: answers like the service and rebuilds the image in the background.
fn ci(req: &Recorded) -> Answer {
    if let Some((image, base)) = asked(req) {
        tokio::spawn(async move {
            let child = Target::parse(&image).unwrap();
            let parent = Target::parse(&base).unwrap();
            let seeder = Seeder::new(&child.base_url()).unwrap();
            rebuild_on_current(&seeder, &child, &parent, &image)
                .await
                .unwrap();
        });
    }
    match req.path.as_str() {
        p if p.contains("/trigger/pipeline") => Answer::json(201, serde_json::json!({"id": 1})),
        p if p.starts_with("/repos/") => Answer::text(204, ""),
        _ => Answer::text(200, "ok"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_triggers_send_documented_requests_and_the_cascade_waits_for_them() {
    let registry = TestRegistry::start().await.unwrap();
    let h = registry.host();
    let seeder = registry.seeder();
    let root = Image::new("root");
    let root_digest = seeder.push_image("t/root", "1", &root).await.unwrap();
    let children = ["hook", "dispatch", "workflow", "gitlab", "pr"];
    for name in children {
        let image = Image::on_top_of(&root, name).base(&format!("{h}/t/root:1"), &root_digest);
        seeder
            .push_image(&format!("t/{name}"), "1", &image)
            .await
            .unwrap();
    }
    let fake = FakeServer::start(ci).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    for name in children {
        let file = ws.join(format!("images/{name}/Dockerfile"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(
            file,
            format!("# strata: produces {h}/t/{name}:1\nFROM {h}/t/root:1\n"),
        )
        .unwrap();
    }
    let api = fake.url();
    let config = format!(
        r#"[workspace.cascade]
poll_interval = "10ms"
poll_max = "100ms"
timeout = "20s"

[[workspace.repository]]
path = "images"

[[workspace.image]]
name = "{h}/t/hook:1"
trigger = {{ kind = "webhook", url = "{api}/hooks/build", secret_env = "HOOK_SECRET" }}

[[workspace.image]]
name = "{h}/t/dispatch:1"
trigger = {{ kind = "github-dispatch", repository = "org/dispatch", api_url = "{api}" }}

[[workspace.image]]
name = "{h}/t/workflow:1"
trigger = {{ kind = "github-workflow", repository = "org/wf", workflow = "build.yml", ref = "release", inputs = true, api_url = "{api}" }}

[[workspace.image]]
name = "{h}/t/gitlab:1"
trigger = {{ kind = "gitlab-pipeline", project = "group/proj", ref = "main", token_env = "GL_TRIGGER", api_url = "{api}/api/v4" }}

[[workspace.image]]
name = "{h}/t/pr:1"
trigger = {{ kind = "pr" }}
"#
    );
    std::fs::write(ws.join("strata.toml"), config).unwrap();
    seeder
        .push_image("t/root", "1", &Image::new("root-fixed"))
        .await
        .unwrap();

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["cascade", &format!("{h}/t/root:1"), "--format", "json"])
        .current_dir(&ws)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path().join("home"))
        .env("STRATA_CACHE_DIR", dir.path().join("cache"))
        .env("STRATA_STATE", dir.path().join("state.db"))
        .env("GITHUB_TOKEN", "gh-token")
        .env("HOOK_SECRET", SECRET)
        .env("GL_TRIGGER", "glptt-trigger")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "pr fails\n{stdout}\n{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let status: BTreeMap<String, (String, String)> = report[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let name = n["image"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            let message = n["message"].as_str().unwrap_or_default().to_owned();
            (name, (n["status"].as_str().unwrap().to_owned(), message))
        })
        .collect();
    for name in ["hook", "dispatch", "workflow", "gitlab"] {
        assert_eq!(
            status[&format!("{name}:1")].0,
            "published",
            "{name}: {status:?}"
        );
    }
    let (pr_status, pr_message) = &status["pr:1"];
    assert_eq!(pr_status, "failed");
    // Its directory is in no git repository: no pull request can be opened there.
    assert!(
        pr_message.starts_with("pr trigger: ")
            && pr_message.contains("is not inside a git repository"),
        "{pr_message}"
    );

    let requests = fake.requests();
    let find = |path: &str| {
        requests
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("no {path}: {requests:?}"))
    };

    let hook = find("/hooks/build");
    assert_eq!(hook.method, "POST");
    assert_eq!(hook.header("content-type"), Some("application/json"));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&hook.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        hook.header("x-strata-signature-256"),
        Some(expected.as_str())
    );
    let body = hook.json();
    assert_eq!(body["image"], format!("{h}/t/hook:1"));
    assert_eq!(body["base_image"], format!("{h}/t/root:1"));
    assert_eq!(body["level"], 1);
    assert!(body["base_digest"].as_str().unwrap().starts_with("sha256:"));

    let dispatch = find("/repos/org/dispatch/dispatches");
    assert_eq!(dispatch.header("authorization"), Some("Bearer gh-token"));
    assert_eq!(
        dispatch.header("accept"),
        Some("application/vnd.github+json")
    );
    assert_eq!(dispatch.json()["event_type"], "strata-cascade");
    assert_eq!(
        dispatch.json()["client_payload"]["image"],
        format!("{h}/t/dispatch:1")
    );

    let workflow = find("/repos/org/wf/actions/workflows/build.yml/dispatches");
    assert_eq!(workflow.json()["ref"], "release");
    assert_eq!(
        workflow.json()["inputs"]["level"],
        "1",
        "workflow inputs are strings"
    );

    let gitlab = find("/api/v4/projects/group%2Fproj/trigger/pipeline");
    let form: BTreeMap<String, String> = url::form_urlencoded::parse(&gitlab.body)
        .into_owned()
        .collect();
    assert_eq!(form["token"], "glptt-trigger");
    assert_eq!(form["ref"], "main");
    assert_eq!(form["variables[STRATA_IMAGE]"], format!("{h}/t/gitlab:1"));
    assert_eq!(form["variables[STRATA_LEVEL]"], "1");
    assert_eq!(requests.len(), 4, "one request per remote trigger");
}
