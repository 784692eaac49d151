//! Test support, process stage: a throwaway PostgreSQL server from Debian's packages — an
//! `initdb` in a temporary directory, `pg_ctl start` on a free 127.0.0.1 port with its
//! socket in that directory, fresh databases on demand, stopped when dropped. No system
//! service is used or touched; nothing listens beyond loopback.
//!
//! `initdb` refuses to run as root: as root, every server command runs as the `postgres`
//! user (Debian's package creates it) through `runuser`, in a directory handed to that
//! user. TCP connections need the password (SCRAM, as a real deployment would); the
//! socket in the temporary directory is trusted, for `createdb`. A watchdog process stops
//! the server when the test process goes away without dropping it (a `static` shared
//! server, a panic that aborts, `kill -9`): it waits for end-of-file on a pipe only this
//! process holds.

use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, bail};

use crate::tls::TestCa;

/// The superuser `initdb` creates, and its password.
pub const POSTGRES_USER: &str = "strata";
const PASSWORD: &str = "strata-test-password";

/// The system user the server runs as when the tests run as root.
const SYSTEM_USER: &str = "postgres";

/// A running PostgreSQL server on `127.0.0.1:<port>`, stopped (and its directory removed)
/// when dropped.
#[derive(Debug)]
pub struct TestPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// `Some("postgres")` when commands run through `runuser`.
    run_as: Option<&'static str>,
    /// Held open; the watchdog stops the server when it closes.
    _watchdog: ChildStdin,
    databases: AtomicU64,
}

impl TestPostgres {
    /// Creates a cluster in a new temporary directory and starts it.
    pub fn start() -> Result<TestPostgres> {
        TestPostgres::launch(false)
    }

    /// [`TestPostgres::start`], with TLS on: a certificate for `127.0.0.1` signed by a
    /// CA made for this server ([`TestPostgres::ca_file`]), which no client trusts unless
    /// given it. Plain connections are still accepted.
    pub fn start_with_tls() -> Result<TestPostgres> {
        TestPostgres::launch(true)
    }

    fn launch(tls: bool) -> Result<TestPostgres> {
        let bin = binaries()?;
        let run_as = is_root().then_some(SYSTEM_USER);
        let dir = tempfile::Builder::new()
            .prefix("strata-postgres-")
            .tempdir()
            .context("creating the PostgreSQL temp dir")?;
        if let Some(user) = run_as {
            // The server's user owns everything in here, and may enter it.
            run(Command::new("chown").args([user, &dir.path().to_string_lossy()]))?;
        }
        let pwfile = dir.path().join("password");
        fs::write(&pwfile, format!("{PASSWORD}\n")).context("writing the password file")?;
        if let Some(user) = run_as {
            run(Command::new("chown").args([user, &pwfile.to_string_lossy()]))?;
        }
        let data = dir.path().join("data");
        let initdb = bin.join("initdb");
        let mut init = as_user(run_as, &initdb);
        init.arg("--pgdata")
            .arg(&data)
            .args(["--username", POSTGRES_USER, "--pwfile"])
            .arg(&pwfile)
            .args([
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                // A test's data is thrown away: no fsync, here or in the server.
                "--no-sync",
                "--no-instructions",
            ]);
        run(&mut init).context("initdb")?;
        let _ = fs::remove_file(&pwfile);
        if tls {
            let ca = TestCa::generate()?;
            let (cert, key) = (data.join("server.crt"), data.join("server.key"));
            fs::write(&cert, &ca.cert_pem).context("writing the server certificate")?;
            fs::write(&key, &ca.key_pem).context("writing the server key")?;
            // The server refuses a key others can read.
            fs::set_permissions(&key, fs::Permissions::from_mode(0o600))
                .context("protecting the server key")?;
            fs::write(dir.path().join("ca.pem"), &ca.ca_pem).context("writing the CA")?;
            if let Some(user) = run_as {
                let (cert, key) = (cert.to_string_lossy(), key.to_string_lossy());
                run(Command::new("chown").args([user, &cert, &key]))?;
            }
            let conf = data.join("postgresql.auto.conf");
            let mut text = fs::read_to_string(&conf).unwrap_or_default();
            text.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
            fs::write(&conf, text).context("turning TLS on")?;
        }
        let watchdog = watchdog(run_as, &bin, dir.path())?;
        // Picking a free port and handing it to the server races with other tests; a
        // lost race shows in the log as a failed bind: try another port.
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            match start_server(run_as, &bin, dir.path(), port) {
                Ok(()) => {
                    return Ok(TestPostgres {
                        dir,
                        bin,
                        port,
                        run_as,
                        _watchdog: watchdog,
                        databases: AtomicU64::new(0),
                    });
                }
                Err(e) => {
                    let log = fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                    if !log.contains("could not bind") && !log.contains("in use") {
                        return Err(e.context(format!("server log:\n{log}")));
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("PostgreSQL did not start")))
    }

    /// One server for a whole test binary, started on first use (its databases keep the
    /// tests apart). It stops when the process ends, through the watchdog.
    pub fn shared() -> &'static TestPostgres {
        static SHARED: OnceLock<TestPostgres> = OnceLock::new();
        SHARED.get_or_init(|| {
            TestPostgres::start().unwrap_or_else(|e| panic!("starting PostgreSQL: {e:#}"))
        })
    }

    /// The CA that signed the server's certificate (servers started with TLS only).
    pub fn ca_file(&self) -> Option<PathBuf> {
        let ca = self.dir.path().join("ca.pem");
        ca.is_file().then_some(ca)
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` on this server, with the superuser's password.
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://{POSTGRES_USER}:{PASSWORD}@127.0.0.1:{}/{name}",
            self.port
        )
    }

    /// Creates a new empty database and returns its URL.
    pub fn create_database(&self) -> Result<String> {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("test_{n}");
        let mut create = Command::new(self.bin.join("createdb"));
        create
            .args(["--host"])
            .arg(self.dir.path())
            .args([
                "--port",
                &self.port.to_string(),
                "--username",
                POSTGRES_USER,
            ])
            .arg(&name);
        run(&mut create).context("createdb")?;
        Ok(self.url(&name))
    }

    /// The server's log, for a failing test's message.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let mut stop = as_user(self.run_as, &self.bin.join("pg_ctl"));
        stop.arg("stop")
            .arg("--pgdata")
            .arg(self.dir.path().join("data"))
            .args(["--mode", "immediate", "--wait"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = stop.status();
    }
}

/// The newest PostgreSQL's binaries under `/usr/lib/postgresql/<version>/bin`.
fn binaries() -> Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => Ok(bin),
        None => bail!(
            "no PostgreSQL server under {}: install Debian's `postgresql` package (the \
             project's test script does)",
            root.display()
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// `program`, run as `user` through `runuser` when one is given.
fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(user) => {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", user, "--"]).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

fn start_server(user: Option<&str>, bin: &Path, dir: &Path, port: u16) -> Result<()> {
    let options = format!(
        "-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c shared_buffers=32MB -c max_connections=200",
        dir.display()
    );
    let mut start = as_user(user, &bin.join("pg_ctl"));
    start
        .arg("start")
        .arg("--pgdata")
        .arg(dir.join("data"))
        .arg("--log")
        .arg(dir.join("server.log"))
        .args(["--wait", "--timeout", "60", "--options", &options]);
    run(&mut start).context("pg_ctl start").map(drop)
}

/// A process that stops the server (and removes its directory) once its standard input
/// closes, which happens when this process exits, however it exits.
fn watchdog(user: Option<&str>, bin: &Path, dir: &Path) -> Result<ChildStdin> {
    let script = "read _ ; \"$1\" stop --pgdata \"$2/data\" --mode immediate --wait \
                  >/dev/null 2>&1 ; rm -rf \"$2\"";
    let mut cmd = as_user(user, Path::new("/bin/sh"));
    cmd.args(["-c", script, "watchdog"])
        .arg(bin.join("pg_ctl"))
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child: Child = cmd.spawn().context("starting the PostgreSQL watchdog")?;
    let mut stdin = child
        .stdin
        .take()
        .context("the watchdog's standard input")?;
    // Nothing is ever written; a flush checks that the pipe is there.
    stdin.flush().context("the watchdog's pipe")?;
    Ok(stdin)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

/// Runs `cmd`; its output, or an error with what it printed.
fn run(cmd: &mut Command) -> Result<Output> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} {:?} failed ({}): {}{}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out)
}
