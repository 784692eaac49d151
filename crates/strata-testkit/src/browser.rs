//! Test support, a real browser: headless Chromium (Debian's `chromium`) driven through
//! `chromedriver` (Debian's `chromium-driver`) over the W3C WebDriver protocol — open a
//! page, run a script in it, read its DOM, take a screenshot. Both bind to 127.0.0.1 and
//! Chromium starts with background networking off, so nothing leaves the machine.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use serde_json::{Value, json};

/// Where Debian puts them.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A running chromedriver with one headless Chromium session; both stop when dropped.
#[derive(Debug)]
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and a headless Chromium session.
    pub async fn start() -> Result<Browser> {
        for program in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(program).exists() {
                bail!("{program} is missing: install Debian's chromium and chromium-driver");
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        use std::os::unix::process::CommandExt;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .context("starting chromedriver")?;
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()?;
        let profile = tempfile::tempdir()?;
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            http,
            _profile: profile,
        };
        browser.wait_ready().await?;
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1400,1000".to_owned(),
            format!("--user-data-dir={}", browser._profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let created = browser.call("POST", "/session", Some(capabilities)).await?;
        browser.session = created["sessionId"]
            .as_str()
            .context("no session id from chromedriver")?
            .to_owned();
        Ok(browser)
    }

    async fn wait_ready(&self) -> Result<()> {
        let started = Instant::now();
        loop {
            let status = self.http.get(format!("{}/status", self.base)).send().await;
            if status.is_ok() {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(30) {
                bail!("chromedriver did not start");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body.unwrap_or_else(|| json!({}))),
        };
        let answer: Value = request.send().await?.json().await?;
        if let Some(error) = answer["value"]["error"].as_str() {
            bail!("webdriver {path}: {error}: {}", answer["value"]["message"]);
        }
        Ok(answer["value"].clone())
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url` (waits for the page's load event).
    pub async fn open(&self, url: &str) -> Result<()> {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(json!({"url": url})),
        )
        .await
        .map(drop)
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub async fn run(&self, script: &str) -> Result<Value> {
        let body = json!({"script": script, "args": []});
        self.call("POST", &self.session_path("/execute/sync"), Some(body))
            .await
    }

    /// The visible text of the element `selector` selects (empty when none).
    pub async fn text(&self, selector: &str) -> Result<String> {
        let script = format!(
            "var e = document.querySelector({}); return e ? e.innerText : '';",
            serde_json::to_string(selector)?
        );
        Ok(self
            .run(&script)
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// A PNG screenshot of the window, written to `path`.
    pub async fn screenshot(&self, path: &Path) -> Result<PathBuf> {
        let encoded = self
            .call("GET", &self.session_path("/screenshot"), None)
            .await?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().context("no screenshot")?)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, png)?;
        Ok(path.to_path_buf())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and the Chromium it started share a process group: stop them all.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
