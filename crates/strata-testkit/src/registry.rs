//! Test support, process stage: runs the real reference registry as a child process on
//! a loopback port with its own config and storage; it never talks to anything but
//! 127.0.0.1 and never reads the caller's `REGISTRY_*` environment.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::access_log::{self, LoggedRequest};
use crate::config::{self, AuthConfig};
use crate::seed::{ClientAuth, Seeder};
use crate::tls::TestCa;
use crate::token::{TokenIssuer, TokenOptions};

/// Where Debian's `docker-registry` package installs the distribution registry.
pub const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";

/// How long [`TestRegistry`] waits for `GET /v2/` to answer after spawning.
const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// How authentication is set up on a [`TestRegistry`].
#[derive(Debug, Clone, Default)]
pub enum Auth {
    /// Anonymous access to everything.
    #[default]
    None,
    /// `auth: htpasswd`: HTTP Basic with these `(user, password)` pairs.
    Basic(Vec<(String, String)>),
    /// `auth: token`: Bearer tokens from a [`TokenIssuer`] started alongside.
    Token(TokenOptions),
}

/// Options for [`TestRegistry::start_with`]; build with [`TestRegistry::options`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct RegistryOptions {
    auth: Auth,
    notifications: Option<String>,
    /// Headers sent with every notification (`Authorization: Bearer …`).
    notification_headers: Vec<(String, String)>,
    tls: bool,
}

impl RegistryOptions {
    /// Require HTTP Basic authentication for one user (add more with repeated calls).
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        let pair = (user.to_owned(), password.to_owned());
        match &mut self.auth {
            Auth::Basic(users) => users.push(pair),
            other => *other = Auth::Basic(vec![pair]),
        }
        self
    }

    /// Require Bearer tokens issued by a [`TokenIssuer`] configured by `options`.
    pub fn token_auth(mut self, options: TokenOptions) -> Self {
        self.auth = Auth::Token(options);
        self
    }

    /// Send this header with every notification.
    pub fn notification_header(mut self, name: &str, value: &str) -> Self {
        self.notification_headers
            .push((name.to_owned(), value.to_owned()));
        self
    }

    /// Send registry notifications (JSON event envelopes) to this URL.
    pub fn notifications(mut self, url: &str) -> Self {
        self.notifications = Some(url.to_owned());
        self
    }

    /// Serve HTTPS with a certificate from a CA made for this registry
    /// ([`TestRegistry::ca_pem`]), which no client trusts unless given it.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Start the registry with these options.
    pub async fn start(self) -> Result<TestRegistry> {
        TestRegistry::start_with(self).await
    }
}

/// A running reference registry on `127.0.0.1:<port>`, killed on drop.
#[derive(Debug)]
pub struct TestRegistry {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    credentials: Option<(String, String)>,
    issuer: Option<TokenIssuer>,
    log_mark: Mutex<u64>,
    seeder: Seeder,
    ca: Option<TestCa>,
}

impl TestRegistry {
    /// Start a registry with anonymous access.
    pub async fn start() -> Result<TestRegistry> {
        Self::start_with(RegistryOptions::default()).await
    }

    /// Options builder: `TestRegistry::options().basic_auth("u", "p").start().await`.
    pub fn options() -> RegistryOptions {
        RegistryOptions::default()
    }

    /// Start a registry with the given options.
    pub async fn start_with(options: RegistryOptions) -> Result<TestRegistry> {
        if !Path::new(REGISTRY_BINARY).exists() {
            bail!(
                "{REGISTRY_BINARY} is missing: install Debian's `docker-registry` package \
                 (run the project's test script, which installs it)"
            );
        }
        let dir = temp_dir()?;
        let (auth, credentials, issuer) = prepare_auth(&options.auth, dir.path()).await?;
        let ca = if options.tls {
            let ca = TestCa::generate()?;
            let (cert, key) = config::tls_paths(dir.path());
            fs::write(&cert, &ca.cert_pem).context("writing the TLS certificate")?;
            fs::write(&key, &ca.key_pem).context("writing the TLS key")?;
            fs::write(dir.path().join("ca.pem"), &ca.ca_pem).context("writing the CA")?;
            Some(ca)
        } else {
            None
        };
        let scheme = if ca.is_some() { "https" } else { "http" };
        let ca_pem = ca.as_ref().map(|ca| ca.ca_pem.as_str());
        // Picking a free port and handing it to the child races with other tests;
        // a lost race shows up as "address already in use", so try a few ports.
        let mut last_error = None;
        for _ in 0..5 {
            let port = free_port()?;
            let cfg = config::render(
                dir.path(),
                port,
                &auth,
                options
                    .notifications
                    .as_deref()
                    .map(|url| (url, options.notification_headers.as_slice())),
                ca.is_some(),
            );
            let config_path = dir.path().join("config.yml");
            fs::write(&config_path, cfg).context("writing the registry config")?;
            let child = spawn(&config_path, dir.path(), false)?;
            match wait_ready(child, port, dir.path(), ca_pem).await {
                Ok(child) => {
                    let base = format!("{scheme}://127.0.0.1:{port}");
                    let client_auth = match (&issuer, &credentials) {
                        (Some(issuer), _) => ClientAuth::Token(issuer.clone()),
                        (None, Some((u, p))) => ClientAuth::Basic(u.clone(), p.clone()),
                        (None, None) => ClientAuth::None,
                    };
                    let seeder = Seeder::with_auth_and_ca(&base, client_auth, ca_pem)?;
                    return Ok(TestRegistry {
                        child,
                        dir,
                        port,
                        credentials,
                        issuer,
                        log_mark: Mutex::new(0),
                        seeder,
                        ca,
                    });
                }
                Err(StartError::PortTaken(e)) => last_error = Some(e),
                Err(StartError::Failed(e)) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("registry did not start")))
    }

    /// Base URL, e.g. `http://127.0.0.1:40123` (`https://` with TLS; no trailing slash).
    pub fn url(&self) -> String {
        let scheme = if self.ca.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The PEM of the CA that signed the registry's certificate (TLS registries only).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|ca| ca.ca_pem.as_str())
    }

    /// `127.0.0.1:<port>`, the registry part of an image reference.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The TCP port the registry listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The first configured `(user, password)` for Basic or token auth, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// The token issuer, when started with [`RegistryOptions::token_auth`].
    pub fn token_issuer(&self) -> Option<&TokenIssuer> {
        self.issuer.as_ref()
    }

    /// A seeding client for this registry, authenticated with full access.
    pub fn seeder(&self) -> &Seeder {
        &self.seeder
    }

    /// The registry's temp directory (config, logs, `data/` storage).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The registry's application log (stderr), for debugging failures.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Requests the registry served since start (or the last [`Self::reset_requests`]),
    /// parsed from its access log. The registry writes a line after the response is
    /// sent, so this waits briefly until the log stops growing.
    pub async fn requests(&self) -> Vec<LoggedRequest> {
        let path = self.access_log_path();
        let mut size = file_len(&path);
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(15)).await;
            let now = file_len(&path);
            if now == size {
                break;
            }
            size = now;
        }
        let mark = *self.log_mark.lock().unwrap_or_else(|e| e.into_inner());
        let text = fs::read(&path).unwrap_or_default();
        let start = usize::try_from(mark).unwrap_or(0).min(text.len());
        access_log::parse(&String::from_utf8_lossy(&text[start..]))
    }

    /// Forget the requests logged so far: later [`Self::requests`] calls only see newer ones.
    pub async fn reset_requests(&self) {
        // Settle first so in-flight log lines are counted as "before".
        let _ = self.requests().await;
        let len = file_len(&self.access_log_path());
        *self.log_mark.lock().unwrap_or_else(|e| e.into_inner()) = len;
    }

    /// Kills the registry with SIGKILL, as a crash would: whatever it held in memory
    /// (its notification queue, say) is gone; its storage stays.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the registry again on the same port, configuration and storage after
    /// [`Self::kill`]. Its access log goes on where it stopped.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill();
        let log = self.dir.path().join("registry.log");
        let kept = self.dir.path().join("registry.log.before-restart");
        fs::rename(&log, &kept).context("keeping the registry log")?;
        let config_path = self.dir.path().join("config.yml");
        let child = spawn(&config_path, self.dir.path(), true)?;
        match wait_ready(child, self.port, self.dir.path(), self.ca_pem()).await {
            Ok(child) => {
                self.child = child;
                Ok(())
            }
            Err(StartError::PortTaken(e) | StartError::Failed(e)) => {
                Err(e.context("restarting the registry on its port"))
            }
        }
    }

    fn access_log_path(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum StartError {
    PortTaken(anyhow::Error),
    Failed(anyhow::Error),
}

async fn prepare_auth(
    auth: &Auth,
    dir: &Path,
) -> Result<(AuthConfig, Option<(String, String)>, Option<TokenIssuer>)> {
    match auth {
        Auth::None => Ok((AuthConfig::None, None, None)),
        Auth::Basic(users) => {
            let path = dir.join("htpasswd");
            fs::write(&path, htpasswd(users)?).context("writing htpasswd")?;
            Ok((AuthConfig::Htpasswd(path), users.first().cloned(), None))
        }
        Auth::Token(options) => {
            let issuer = TokenIssuer::start(options.clone()).await?;
            let bundle = dir.join("root.pem");
            fs::write(&bundle, issuer.root_cert_pem()).context("writing rootcertbundle")?;
            let cfg = AuthConfig::Token {
                realm: issuer.realm(),
                service: issuer.service().to_owned(),
                issuer: issuer.issuer().to_owned(),
                bundle,
            };
            Ok((cfg, options.users().first().cloned(), Some(issuer)))
        }
    }
}

/// Lines of `user:bcrypt-hash`; the lowest bcrypt cost keeps each request cheap.
fn htpasswd(users: &[(String, String)]) -> Result<String> {
    let mut out = String::new();
    for (user, password) in users {
        let hash = bcrypt::hash(password, 4).context("hashing an htpasswd password")?;
        out.push_str(&format!("{user}:{hash}\n"));
    }
    Ok(out)
}

/// Storage on tmpfs when there is one: the registry writes several small files per
/// push, and removing thousands of them from a disk dominated bulk-seeding tests.
fn temp_dir() -> Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("strata-registry-");
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = builder.tempdir_in(shm)
    {
        return Ok(dir);
    }
    builder
        .tempdir()
        .context("creating the registry's temp dir")
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn spawn(config: &Path, dir: &Path, append: bool) -> Result<Child> {
    let stdout = fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(dir.join("access.log"))
        .context("creating access.log")?;
    let stderr = File::create(dir.join("registry.log")).context("creating registry.log")?;
    let mut cmd = Command::new(REGISTRY_BINARY);
    cmd.arg("serve")
        .arg(config)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    // Every REGISTRY_* variable overrides the config file: keep them all out.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("REGISTRY_") {
            cmd.env_remove(&key);
        }
    }
    cmd.spawn()
        .with_context(|| format!("spawning {REGISTRY_BINARY}"))
}

async fn wait_ready(
    mut child: Child,
    port: u16,
    dir: &Path,
    ca_pem: Option<&str>,
) -> Result<Child, StartError> {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(2));
    if let Some(pem) = ca_pem {
        let ca = reqwest::Certificate::from_pem(pem.as_bytes())
            .map_err(|e| StartError::Failed(e.into()))?;
        builder = builder.add_root_certificate(ca);
    }
    let client = builder.build().map_err(|e| StartError::Failed(e.into()))?;
    let scheme = if ca_pem.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://127.0.0.1:{port}/v2/");
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let tail = log_tail(dir);
            let err =
                anyhow::anyhow!("registry exited during start-up ({status}); log tail:\n{tail}");
            return Err(if tail.contains("address already in use") {
                StartError::PortTaken(err)
            } else {
                StartError::Failed(err)
            });
        }
        // Our own log line first: another test's registry may have grabbed this port, and
        // its answer must not be taken for ours. Then any HTTP answer (200, or 401 with
        // auth on) means it is serving.
        let listening = format!("listening on 127.0.0.1:{port}");
        let log = fs::read_to_string(dir.join("registry.log")).unwrap_or_default();
        if log.contains(&listening) && client.get(&url).send().await.is_ok() {
            return Ok(child);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartError::Failed(anyhow::anyhow!(
                "registry on port {port} did not answer GET /v2/ within {READY_TIMEOUT:?}; log tail:\n{}",
                log_tail(dir)
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn log_tail(dir: &Path) -> String {
    let text = fs::read_to_string(dir.join("registry.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
