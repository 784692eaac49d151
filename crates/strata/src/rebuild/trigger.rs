//! act stage, rebuild triggers: starts one image's rebuild the way its config says — a
//! local command (argument vector, `STRATA_*` variables), a signed webhook, a GitHub
//! `workflow_dispatch` or `repository_dispatch`, a GitLab pipeline trigger, or the update
//! pull request in the image's repository (`pull_request`). It only starts builds:
//! whether the image got published is `wait`'s question.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::AsyncReadExt;
use url::Url;

use super::pull_request;
use crate::config::workspace::Trigger;
use crate::registry::RegistryClient;
use crate::state::State;

/// The header carrying the webhook body's HMAC-SHA256.
pub const SIGNATURE_HEADER: &str = "X-Strata-Signature-256";

/// Lines of a failed command's output kept for the error message.
const TAIL_LINES: usize = 20;

/// What a rebuild is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The image to rebuild (familiar form, as Docker takes it).
    pub image: String,
    /// Its final-stage base in the cascade, and the base's new digest.
    pub base_image: String,
    pub base_digest: String,
    /// 1-based level below the cascade's root.
    pub level: usize,
    /// The cascade run's id.
    pub cascade_id: i64,
}

impl Request {
    /// The `STRATA_*` variables (also the webhook/dispatch payload, lower-cased).
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("STRATA_IMAGE", self.image.clone()),
            ("STRATA_BASE_IMAGE", self.base_image.clone()),
            ("STRATA_BASE_DIGEST", self.base_digest.clone()),
            ("STRATA_LEVEL", self.level.to_string()),
            ("STRATA_CASCADE_ID", self.cascade_id.to_string()),
        ]
    }

    /// `{"image": …, "base_image": …, "base_digest": …, "level": …, "cascade_id": …}`.
    pub fn payload(&self) -> Value {
        json!({
            "image": self.image,
            "base_image": self.base_image,
            "base_digest": self.base_digest,
            "level": self.level,
            "cascade_id": self.cascade_id,
        })
    }
}

/// Where and how triggers reach out.
#[derive(Debug, Clone)]
pub struct Context {
    pub http: reqwest::Client,
    /// Reads an environment variable (tests pass their own).
    pub env: fn(&str) -> Option<String>,
    /// Where `pr` triggers record their proposals.
    pub state: State,
    /// What `pr` triggers read image details with (for the pull request body).
    pub registry: RegistryClient,
    /// The workspace platform, for reading Dockerfiles as the hierarchy does.
    pub platform: String,
    /// Held while a `pr` trigger works on git and the forge.
    pub proposing: Arc<tokio::sync::Mutex<()>>,
}

impl Context {
    /// Real environment; a client with the request timeouts triggers need.
    pub fn new(
        state: State,
        registry: RegistryClient,
        platform: String,
    ) -> Result<Context, String> {
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
            state,
            registry,
            platform,
            proposing: Arc::default(),
        })
    }
}

/// Starts the rebuild. A command runs to completion (its exit status is the answer);
/// remote triggers return once the service accepted the request; `pr` once the pull
/// request is open. `Some` line: what was done, worth telling (the pull request).
pub async fn fire(
    trigger: &Trigger,
    request: &Request,
    dir: &Path,
    cx: &Context,
) -> Result<Option<String>, String> {
    let started = match trigger {
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
            let mut body = json!({ "ref": git_ref });
            if *inputs {
                body["inputs"] = stringified(request.payload());
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
        } => gitlab(project, git_ref, token_env, api_url.as_ref(), request, cx).await,
        Trigger::PullRequest {
            forge,
            repository,
            labels,
        } => {
            let settings = pull_request::Settings {
                forge: *forge,
                repository: repository.as_deref(),
                labels,
            };
            return pull_request::open(settings, request, dir, cx)
                .await
                .map(Some);
        }
    };
    started.map(|()| None)
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
        // A timed-out rebuild is abandoned; its process goes with it.
        .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
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

/// Workflow inputs are strings.
fn stringified(payload: Value) -> Value {
    match payload {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, Value::String(s)),
                    other => (k, Value::String(other.to_string())),
                })
                .collect(),
        ),
        other => other,
    }
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

    #[test]
    fn variables_and_payload_agree() {
        let request = Request {
            image: "org/app:1".into(),
            base_image: "org/base:1".into(),
            base_digest: "sha256:00".into(),
            level: 2,
            cascade_id: 7,
        };
        let vars = request.variables();
        assert_eq!(vars[0], ("STRATA_IMAGE", "org/app:1".to_owned()));
        assert_eq!(vars[3], ("STRATA_LEVEL", "2".to_owned()));
        let payload = request.payload();
        assert_eq!(payload["level"], 2);
        assert_eq!(stringified(payload)["level"], "2");
    }
}
