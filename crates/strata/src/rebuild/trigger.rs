//! act stage, rebuild triggers: starts one image's rebuild the way its config says — a
//! local command (argument vector, `STRATA_*` variables), a signed webhook, a GitHub
//! `workflow_dispatch` or `repository_dispatch`, or a GitLab pipeline trigger. The `pr`
//! and `push` kinds start nothing here: the pull request or the push that carried the new
//! pins (`deliver`) was their start. It only starts builds: whether the image got
//! published is `wait`'s question.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::AsyncReadExt;
use url::Url;

pub use super::request::Request;
use crate::config::workspace::Trigger;

/// The header carrying the webhook body's HMAC-SHA256.
pub const SIGNATURE_HEADER: &str = "X-Strata-Signature-256";

/// Lines of a failed command's output kept for the error message.
const TAIL_LINES: usize = 20;

/// Where and how triggers reach out.
#[derive(Debug, Clone)]
pub struct Context {
    pub http: reqwest::Client,
    /// Reads an environment variable (tests pass their own).
    pub env: fn(&str) -> Option<String>,
}

impl Context {
    /// Real environment; a client with the request timeouts triggers need.
    pub fn new() -> Result<Context, String> {
        crate::registry::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("building the HTTP client: {e}"))?;
        Ok(Context {
            http,
            env: |name| std::env::var(name).ok().filter(|v| !v.is_empty()),
        })
    }
}

/// Starts the rebuild. A command runs to completion (its exit status is the answer);
/// remote triggers return once the service accepted the request; `pr` and `push` have
/// nothing left to start.
pub async fn fire(
    trigger: &Trigger,
    request: &Request,
    dir: &Path,
    cx: &Context,
) -> Result<(), String> {
    // A commit of the new pins is built from the branch it was pushed to.
    let pushed = request
        .git_ref
        .as_deref()
        .and_then(|r| r.strip_prefix("refs/heads/"));
    match trigger {
        Trigger::Command { argv, env } => command(argv, env, request, dir).await,
        Trigger::Webhook { url, secret_env } => {
            webhook(url, secret_env.as_deref(), request, cx).await
        }
        Trigger::GitHubWorkflow {
            repository,
            workflow,
            git_ref,
            inputs,
            api_url,
            token_env,
        } => {
            let mut body = json!({ "ref": pushed.unwrap_or(git_ref) });
            if let Some(values) = request.inputs(inputs) {
                body["inputs"] = values;
            }
            let path = format!("repos/{repository}/actions/workflows/{workflow}/dispatches");
            github(api_url.as_ref(), token_env.as_deref(), &path, &body, cx).await
        }
        Trigger::GitHubDispatch {
            repository,
            event_type,
            api_url,
            token_env,
        } => {
            let body = json!({ "event_type": event_type, "client_payload": request.payload() });
            let path = format!("repos/{repository}/dispatches");
            github(api_url.as_ref(), token_env.as_deref(), &path, &body, cx).await
        }
        Trigger::GitLabPipeline {
            project,
            git_ref,
            token_env,
            api_url,
        } => {
            let git_ref = pushed.unwrap_or(git_ref);
            gitlab(project, git_ref, token_env, api_url.as_ref(), request, cx).await
        }
        Trigger::PullRequest { .. } | Trigger::Push => Ok(()),
    }
}

async fn command(
    argv: &[String],
    env: &std::collections::BTreeMap<String, String>,
    request: &Request,
    dir: &Path,
) -> Result<(), String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("empty command".to_owned());
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .envs(env)
        .envs(request.variables())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so stopping it stops what it started (make, docker…).
        .process_group(0)
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    // An abandoned rebuild (timed out, interrupted) is stopped with everything it started.
    let mut group = Group(child.id());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let read_out = async {
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut out).await;
        }
    };
    let read_err = async {
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut err).await;
        }
    };
    let ((), (), status) = tokio::join!(read_out, read_err, child.wait());
    group.0 = None;
    let status = status.map_err(|e| format!("waiting for {program}: {e}"))?;
    if status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&err).into_owned();
    if text.trim().is_empty() {
        text = String::from_utf8_lossy(&out).into_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
    Err(format!(
        "{program} failed ({status}){}{tail}",
        if tail.is_empty() { "" } else { ": " }
    ))
}

/// A running command's process group, killed when dropped before it finished.
struct Group(Option<u32>);

impl Drop for Group {
    fn drop(&mut self) {
        let pid = self
            .0
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}

/// `sha256=<hex HMAC-SHA256 of body>`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length; the error case cannot happen.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn webhook(
    url: &Url,
    secret_env: Option<&str>,
    request: &Request,
    cx: &Context,
) -> Result<(), String> {
    let body = serde_json::to_vec(&request.payload()).map_err(|e| e.to_string())?;
    let mut builder = cx
        .http
        .post(url.clone())
        .header("Content-Type", "application/json")
        .header("X-Strata-Event", "cascade");
    if let Some(name) = secret_env {
        let secret =
            (cx.env)(name).ok_or_else(|| format!("webhook secret variable {name} is not set"))?;
        builder = builder.header(SIGNATURE_HEADER, signature(secret.as_bytes(), &body));
    }
    let reply = builder
        .body(body)
        .send()
        .await
        .map_err(|e| format!("webhook {url}: {e}"))?;
    expect_success(reply, &format!("webhook {url}")).await
}

async fn github(
    api: Option<&Url>,
    token_env: Option<&str>,
    path: &str,
    body: &Value,
    cx: &Context,
) -> Result<(), String> {
    let names: Vec<&str> = match token_env {
        Some(name) => vec![name],
        None => vec!["GITHUB_TOKEN", "GH_TOKEN"],
    };
    let token = names
        .iter()
        .find_map(|n| (cx.env)(n))
        .ok_or_else(|| format!("no GitHub token: set {}", names.join(" or ")))?;
    let root = match api {
        Some(url) => url.to_string(),
        None => (cx.env)("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".to_owned()),
    };
    let url = format!("{}/{path}", root.trim_end_matches('/'));
    let reply = cx
        .http
        .post(&url)
        .bearer_auth(token)
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .json(body)
        .send()
        .await
        .map_err(|e| format!("GitHub {url}: {e}"))?;
    expect_success(reply, &format!("GitHub POST {url}")).await
}

async fn gitlab(
    project: &str,
    git_ref: &str,
    token_env: &str,
    api: Option<&Url>,
    request: &Request,
    cx: &Context,
) -> Result<(), String> {
    let token = (cx.env)(token_env)
        .ok_or_else(|| format!("GitLab trigger token variable {token_env} is not set"))?;
    let root = api
        .map(Url::to_string)
        .or_else(|| (cx.env)("CI_API_V4_URL"))
        .or_else(|| (cx.env)("GITLAB_API_URL"))
        .unwrap_or_else(|| "https://gitlab.com/api/v4".to_owned());
    let id: String = url::form_urlencoded::byte_serialize(project.as_bytes()).collect();
    let url = format!(
        "{}/projects/{id}/trigger/pipeline",
        root.trim_end_matches('/')
    );
    let mut form = vec![
        ("token".to_owned(), token),
        ("ref".to_owned(), git_ref.to_owned()),
    ];
    for (name, value) in request.variables() {
        form.push((format!("variables[{name}]"), value));
    }
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let reply = cx
        .http
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("GitLab {url}: {e}"))?;
    expect_success(reply, &format!("GitLab POST {url}")).await
}

async fn expect_success(reply: reqwest::Response, what: &str) -> Result<(), String> {
    let status = reply.status();
    if status.is_success() {
        return Ok(());
    }
    let body = reply.text().await.unwrap_or_default();
    let body: String = body.chars().take(300).collect();
    Err(format!("{what} answered {status}: {}", body.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_github_style_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
