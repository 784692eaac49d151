//! Demo, presentation stage: headings, and commands run as a person would type them —
//! the command line printed as `$ strata scan .`, then its output (stdout and stderr in
//! the order written), then its exit status when that is not 0. Every command runs in
//! the workspace with a clean environment: its own home, cache and state, and a proxy
//! that does not exist for anything that is not on loopback, so nothing can leave the
//! machine even if a name escaped the mirror.

use std::ffi::OsString;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Where commands run and what they see.
#[derive(Debug)]
pub(crate) struct Shell {
    /// The workspace: commands' working directory.
    dir: PathBuf,
    strata: PathBuf,
    env: Vec<(&'static str, OsString)>,
    /// How many commands ran, and how long they took together.
    pub(crate) commands: usize,
    pub(crate) busy: Duration,
}

impl Shell {
    /// `scratch` holds the home, cache, state and builder log (outside the workspace:
    /// strata refuses a state database inside it).
    pub(crate) fn new(dir: &Path, scratch: &Path, strata: &Path) -> Shell {
        let path = std::env::var_os("PATH").unwrap_or_default();
        // Port 9 (discard) on loopback: a request that bypassed the mirror fails at once.
        let nowhere = OsString::from("http://127.0.0.1:9");
        let env = vec![
            ("PATH", path),
            ("HOME", scratch.join("home").into()),
            ("STRATA_CACHE_DIR", scratch.join("cache").into()),
            ("STRATA_STATE", scratch.join("state.db").into()),
            ("STRATA_TEST_LOG", scratch.join("builds.jsonl").into()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("HTTPS_PROXY", nowhere.clone()),
            ("HTTP_PROXY", nowhere.clone()),
            ("ALL_PROXY", nowhere),
            ("NO_PROXY", "127.0.0.1,localhost,::1".into()),
        ];
        Shell {
            dir: dir.to_owned(),
            strata: strata.to_owned(),
            env,
            commands: 0,
            busy: Duration::ZERO,
        }
    }

    /// Prints a workspace file as `cat` would, under its command line.
    pub(crate) fn show(&mut self, path: &str) -> Result<()> {
        println!("\n$ cat {path}");
        let text = std::fs::read_to_string(self.dir.join(path))
            .with_context(|| format!("reading {path}"))?;
        print!("{text}");
        Ok(())
    }

    /// `strata ARGS`, which must exit with one of `expected`; returns its exit code.
    pub(crate) fn strata(&mut self, args: &[&str], expected: &[i32]) -> Result<i32> {
        let strata = self.strata.clone();
        self.run("strata", &strata, args, expected)
    }

    /// `git -C REPO ARGS`, shown and run like strata's commands; must exit 0.
    pub(crate) fn git(&mut self, repo: &str, args: &[&str]) -> Result<()> {
        let mut full = vec!["-C", repo];
        full.extend_from_slice(args);
        self.run("git", Path::new("git"), &full, &[0]).map(|_| ())
    }

    /// `strata ARGS &`: started in the background with the same environment plus
    /// `extra`, its output going to `log`; the caller stops it.
    pub(crate) fn spawn(
        &mut self,
        args: &[&str],
        extra: &[(&'static str, String)],
        log: &Path,
    ) -> Result<std::process::Child> {
        println!("\n$ strata {} &", quoted(args));
        let log =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        self.commands += 1;
        Command::new(&self.strata)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .envs(extra.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("starting strata serve")
    }

    fn run(&mut self, shown: &str, program: &Path, args: &[&str], expected: &[i32]) -> Result<i32> {
        println!("\n$ {shown} {}", quoted(args));
        let mut stdout = io::stdout();
        stdout.flush()?;
        let started = Instant::now();
        let status = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            // Both streams into ours, so the transcript reads in the order things happened.
            .stdout(Stdio::from(io::stdout()))
            .stderr(Stdio::from(io::stdout()))
            .status()
            .with_context(|| format!("starting {}", program.display()))?;
        self.busy += started.elapsed();
        self.commands += 1;
        let code = status.code().unwrap_or(-1);
        if code != 0 {
            println!("[exit {code}{}]", meaning(shown, code));
        }
        if !expected.contains(&code) {
            bail!(
                "`{shown} {}` exited with {code}, expected {}",
                quoted(args),
                expected
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(" or ")
            );
        }
        Ok(code)
    }
}

/// The arguments as a shell would need them typed.
fn quoted(args: &[&str]) -> String {
    let plain = |a: &str| {
        !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    };
    args.iter()
        .map(|a| {
            if plain(a) {
                (*a).to_owned()
            } else {
                format!("'{a}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// What strata's exit codes mean, for the line after a non-zero exit.
fn meaning(program: &str, code: i32) -> &'static str {
    match (program, code) {
        ("strata", 1) => ": findings, or changes pending",
        ("strata", 2) => ": an error",
        _ => "",
    }
}

/// A step's heading: its number, a title and one line saying what to look at.
pub(crate) fn heading(step: usize, title: &str, why: &str) {
    let head = format!("── {step}. {title} ");
    let rule = "─".repeat(78_usize.saturating_sub(head.chars().count()));
    println!("\n\n{head}{rule}");
    for line in why.lines() {
        println!("   {line}");
    }
}
