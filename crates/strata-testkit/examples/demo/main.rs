//! `demo`: strata's whole job on one machine, offline. Starts the real reference
//! registry on loopback as a stand-in for Docker Hub, seeds a small image hierarchy
//! (`debian:bookworm` → `python:3.12-slim` → the team's `acme/*` images), writes a
//! workspace of three git repositories, and runs the real `strata` binary through the
//! story: scan, pin, check, a base fix upstream, check, update, graph, cascade, graph.
//! Run it with `scripts/demo`; it never talks to anything but 127.0.0.1.
//!
//! `--serve` adds the always-on step: `strata serve` on the same workspace (listening on
//! `--listen ADDR`, default 127.0.0.1:8080), the registry notifying it, one more upstream
//! release cascaded with nobody in the loop; the server then runs until Ctrl-C
//! (`--serve-once` stops it as soon as the cascade is done).
//!
//! Paths: the workspace is `target/strata-demo` (or `$STRATA_DEMO_DIR`), recreated each
//! run; `strata` and `strata-test-builder` are taken from beside this program's own
//! directory (`target/<profile>/`), or `$STRATA_BIN` and `$STRATA_TEST_BUILDER`.

mod registry;
mod serve;
mod terminal;
mod workspace;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use strata_testkit::TestRegistry;

use crate::registry::short;
use crate::terminal::{Shell, heading};
use crate::workspace::{REPOSITORIES, git};

/// Marks a directory this program made, so a rerun may delete it and nothing else.
const MARKER: &str = ".strata-demo";

fn main() -> ExitCode {
    let started = Instant::now();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::from(2);
        }
    };
    let always = match options() {
        Ok(always) => always,
        Err(e) => {
            eprintln!("demo: {e:#}");
            return ExitCode::from(2);
        }
    };
    // The registry is stopped when `run` returns, whatever happened.
    match runtime.block_on(run(started, always.as_ref())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            println!();
            eprintln!("demo failed: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The command line: nothing, or `--serve [--listen ADDR] [--serve-once]`.
fn options() -> Result<Option<serve::Always>> {
    let mut serve = false;
    let mut once = false;
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--serve" => serve = true,
            "--serve-once" => {
                serve = true;
                once = true;
            }
            "--listen" => listen = args.next().context("--listen needs an address")?,
            "-h" | "--help" => {
                println!("usage: demo [--serve [--listen 127.0.0.1:8080] | --serve-once]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    if !serve {
        return Ok(None);
    }
    let address: std::net::SocketAddr = listen
        .parse()
        .with_context(|| format!("--listen {listen:?} is not an address and port"))?;
    if !address.ip().is_loopback() {
        bail!("--listen {listen}: the demo serves on loopback only");
    }
    Ok(Some(serve::Always { listen, once }))
}

/// The programs the demo runs and the directory it works in.
#[derive(Debug)]
struct Paths {
    strata: PathBuf,
    builder: PathBuf,
    /// The demo directory: `workspace/` and the scratch files beside it.
    root: PathBuf,
}

impl Paths {
    fn find() -> Result<Paths> {
        let exe = std::env::current_exe().context("locating the demo program")?;
        // target/<profile>/examples/demo -> target/<profile>
        let profile = exe
            .parent()
            .and_then(Path::parent)
            .context("the demo program has no target directory")?;
        let pick = |var: &str, name: &str| {
            std::env::var_os(var).map_or_else(
                || profile.join(format!("{name}{}", std::env::consts::EXE_SUFFIX)),
                PathBuf::from,
            )
        };
        let strata = pick("STRATA_BIN", "strata");
        let builder = pick("STRATA_TEST_BUILDER", "strata-test-builder");
        for program in [&strata, &builder] {
            if !program.is_file() {
                bail!(
                    "{} is missing: build it first (`scripts/demo` does: cargo build \
                     --release -p strata -p strata-testkit --bins --examples)",
                    program.display()
                );
            }
        }
        let root = std::env::var_os("STRATA_DEMO_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/strata-demo"),
            PathBuf::from,
        );
        Ok(Paths {
            strata,
            builder,
            root,
        })
    }

    fn workspace(&self) -> PathBuf {
        self.root.join("workspace")
    }

    /// Deletes the last run's directory (only one this program made) and makes it anew.
    fn recreate(&self) -> Result<()> {
        if self.root.exists() {
            if !self.root.join(MARKER).exists() {
                bail!(
                    "{} exists and was not made by the demo: move it away or set \
                     STRATA_DEMO_DIR",
                    self.root.display()
                );
            }
            fs::remove_dir_all(&self.root)
                .with_context(|| format!("removing {}", self.root.display()))?;
        }
        fs::create_dir_all(self.workspace())?;
        fs::write(
            self.root.join(MARKER),
            "made by strata's demo; deleted on its next run\n",
        )?;
        Ok(())
    }
}

async fn run(started: Instant, always: Option<&serve::Always>) -> Result<()> {
    let paths = Paths::find()?;
    paths.recreate()?;
    let ws = paths.workspace();
    println!("strata demo: the whole job, offline, against a registry on 127.0.0.1");

    heading(
        0,
        "Setting the scene",
        "A local registry stands in for Docker Hub; the team's images are already built on it.",
    );
    let options = match always {
        // The registry tells the server of every push, as a real one is configured to.
        Some(always) => TestRegistry::options()
            .notifications(&always.hook_url())
            .notification_header("Authorization", &format!("Bearer {}", serve::HOOK_TOKEN)),
        None => TestRegistry::options(),
    };
    let registry = TestRegistry::start_with(options)
        .await
        .context("starting the local registry")?;
    let mut hub = registry::seed(&registry).await?;
    println!(
        "\n  registry: Debian's docker-registry (CNCF distribution) on {}, serving docker.io",
        registry.host()
    );
    println!("  images, each built on the one above it:\n");
    hub.print_tree();
    workspace::write(&ws, &registry.host(), &paths.builder)?;
    println!(
        "\n  workspace: {} (three git repositories)\n",
        shown_path(&ws)
    );
    for file in workspace::files() {
        println!("    {file}");
    }
    println!("    strata.toml");

    let mut sh = Shell::new(&ws, &paths.root, &paths.strata);
    sh.show("strata.toml")?;
    println!("\n  Every command below runs in {}.", shown_path(&ws));
    let facts = story(&mut sh, &registry, &mut hub, &ws).await?;
    summary(&sh, &facts, &paths.root, started.elapsed());
    if let Some(always) = always {
        serve::run(&mut sh, always, &registry, &mut hub, &ws, &paths.root).await?;
    }
    Ok(())
}

async fn story(
    sh: &mut Shell,
    registry: &TestRegistry,
    hub: &mut registry::Hub,
    ws: &Path,
) -> Result<Facts> {
    heading(
        1,
        "What do we pull?",
        "Every image reference, as BuildKit reads it: stages, ARG-built names, COPY --from,\n\
         the syntax frontend, compose and Kubernetes. alpine:3.20 sits inside a heredoc: not a FROM.",
    );
    sh.show("platform/python-base/Dockerfile")?;
    sh.strata(&["scan", "."], &[0])?;

    heading(
        2,
        "Pin every tag to the digest it points at now",
        "First the diff (exit 1: changes pending), then for real; the team commits the pins.",
    );
    sh.strata(&["pin", "--dry-run", "."], &[1])?;
    sh.strata(&["pin", "."], &[0])?;
    for repo in REPOSITORIES {
        sh.git(repo, &["commit", "--quiet", "-am", "Pin base images"])?;
    }
    let pinned = pins(ws)?;

    heading(
        3,
        "Check",
        "Everything pinned, every pin current: nothing to report (exit 0).",
    );
    sh.strata(&["check", "."], &[0])?;

    heading(
        4,
        "Upstream ships a fix",
        "Debian's maintainers push a new debian:bookworm; python:3.12-slim is rebuilt on it.\n\
         Same tags, new digests: nothing in the repositories changes by itself.",
    );
    let moves = hub.push_fix(registry).await?;
    println!();
    for m in &moves {
        println!("  {:<18} {}  ->  {}", m.name, short(&m.from), short(&m.to));
    }

    heading(
        5,
        "Check again",
        "The pins now lag behind their tags: moved-tag findings (exit 1).",
    );
    sh.strata(&["check", "."], &[1])?;

    heading(
        6,
        "Propose the update",
        "One branch per moved base, built with git plumbing: the working tree is not touched.\n\
         Run per repository (each is its own git repository) with the workspace's strata.toml.",
    );
    let mut branches: Vec<(&str, String)> = Vec::new();
    for repo in REPOSITORIES {
        // The cascade is the story's own step below; `update` alone could run it too.
        let args = [
            "update",
            "--commit",
            "--no-cascade",
            "--config",
            "strata.toml",
            repo,
        ];
        sh.strata(&args, &[0])?;
        let refs = git(
            &ws.join(repo),
            &[
                "for-each-ref",
                "--format=%(refname:short)",
                "refs/heads/strata/",
            ],
        )?;
        branches.extend(refs.lines().map(|b| (repo, b.to_owned())));
    }
    for (repo, branch) in &branches {
        sh.git(repo, &["log", "--oneline", &format!("main..{branch}")])?;
    }
    for (repo, branch) in &branches {
        sh.git(repo, &["--no-pager", "diff", "main", branch])?;
    }

    heading(
        7,
        "Which of our images are stale?",
        "Each image's base annotation names the digest it was built on; python:3.12-slim moved,\n\
         so everything the team builds on it lags (exit 1).",
    );
    sh.strata(&["graph", "--format", "tree"], &[1])?;

    heading(
        8,
        "Cascade the fix",
        "Rebuild everything below python:3.12-slim, level by level: each repository's pins of\n\
         the moved base are rewritten in place, then it is rebuilt (strata-test-builder builds\n\
         like `docker build`, on what the file pins), once its base's new image is published.",
    );
    sh.strata(&["cascade", "python:3.12-slim"], &[0])?;

    heading(
        9,
        "And now?",
        "Every image is built on its base's current digest (exit 0).",
    );
    sh.strata(&["graph", "--format", "tree"], &[0])?;
    Ok(Facts {
        pinned,
        moved: moves.len(),
        branches: branches.len(),
    })
}

/// What the story did, for the summary.
#[derive(Debug)]
struct Facts {
    /// `@sha256:` pins in the workspace's files after `pin`.
    pinned: usize,
    /// Base tags moved upstream.
    moved: usize,
    /// `strata/…` branches `update` made.
    branches: usize,
}

/// Counts the pins in every file of the workspace's repositories.
fn pins(ws: &Path) -> Result<usize> {
    let mut count = 0;
    for file in workspace::files() {
        count += fs::read_to_string(ws.join(file))?
            .matches("@sha256:")
            .count();
    }
    Ok(count)
}

fn summary(sh: &Shell, facts: &Facts, root: &Path, wall: Duration) {
    heading(10, "What happened", "");
    // The builder's log: one line per image it published, with the image's level.
    let log = fs::read_to_string(root.join("builds.jsonl")).unwrap_or_default();
    let published: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "published")
        .collect();
    let levels = published
        .iter()
        .filter_map(|v| v["level"].as_str()?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    let text = format!(
        "strata read every image reference in three repositories as BuildKit would (stages, an \
         ARG-built FROM, the syntax frontend, compose, Kubernetes; not the FROM inside a \
         heredoc), pinned {pinned} references to their digests, and had nothing to report while \
         the pins were current. When upstream moved {moved} base tags, `check` flagged the \
         stale pins, `update` committed each moved base on its own branch ({branches} \
         branches, working tree untouched), `graph` showed which of the team's images lagged \
         and by how many levels, and `cascade` rebuilt {rebuilt} images over {levels} levels, \
         each on its parent's new digest, until the whole graph was fresh again. Next, in real \
         life: `strata update --pr github` pushes those branches as pull requests.",
        pinned = facts.pinned,
        moved = facts.moved,
        branches = facts.branches,
        rebuilt = published.len(),
    );
    println!();
    for line in wrap(&text, 88) {
        println!("   {line}");
    }
    println!(
        "\n   {} commands ran in {:.1} s; the whole demo took {:.1} s (registry and seeding \
         included).",
        sh.commands,
        sh.busy.as_secs_f64(),
        wall.as_secs_f64()
    );
    println!(
        "   The workspace stays in {} for a closer look.",
        shown_path(&root.join("workspace"))
    );
}

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().map_or(0, |l| l.chars().count());
        if line > 0 && line + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(last) = lines.last_mut() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        }
    }
    lines
}

/// `path` relative to the current directory when it is below it.
fn shown_path(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(path)
        .display()
        .to_string()
}
