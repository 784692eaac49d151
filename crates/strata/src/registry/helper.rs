//! resolve stage: asking a Docker credential helper (`docker-credential-<name> get`) for
//! a registry's secret. Runs the helper as a child process with the server URL on stdin;
//! never logs or returns the helper's output in errors, since it may hold the secret.

use std::ffi::OsStr;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::credentials::Credential;

/// Helpers may unlock a keychain; give them time, but never hang a whole run.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// The user name helpers return when the secret is an identity (refresh) token.
const TOKEN_USERNAME: &str = "<token>";

#[derive(Deserialize)]
struct HelperReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Runs `docker-credential-<helper> get` for `server_url`. `Ok(None)` when the helper
/// has no credentials for it; `Err` (a message without secrets) when it cannot run.
pub(crate) async fn get(
    helper: &str,
    server_url: &str,
    path: Option<&OsStr>,
) -> Result<Option<Credential>, String> {
    if helper.is_empty() || helper.contains(['/', '\\']) {
        return Err(format!("invalid credential helper name {helper:?}"));
    }
    let program = format!("docker-credential-{helper}");
    let mut command = Command::new(&program);
    command
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(path) = path {
        // Setting PATH on the command also makes the program be searched there.
        command.env("PATH", path);
    }
    let mut child = command
        .spawn()
        .map_err(|err| format!("cannot run {program}: {err}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server_url.as_bytes())
            .await
            .map_err(|err| format!("cannot talk to {program}: {err}"))?;
        // Dropping stdin closes it: the helper reads to end of input.
    }
    let output = tokio::time::timeout(HELPER_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| format!("{program} did not answer within {HELPER_TIMEOUT:?}"))?
        .map_err(|err| format!("{program} failed: {err}"))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stdout);
        if said.contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("{program} get exited with {}", output.status));
    }
    let reply: HelperReply = serde_json::from_slice(&output.stdout)
        .map_err(|_| format!("{program} get printed something that is not credentials JSON"))?;
    if reply.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if reply.username == TOKEN_USERNAME {
        Credential::IdentityToken {
            token: reply.secret,
        }
    } else {
        Credential::Basic {
            username: reply.username,
            password: reply.secret,
        }
    }))
}
