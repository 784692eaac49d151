//! `strata-test-builder`: the build program of strata's cascade tests, benchmark and
//! demo. It builds like `docker build` ([`strata_testkit::build`]): on exactly what the
//! Dockerfile it reads pins, never on what a cascade says the base should be.
//!
//! Modes:
//! - no arguments: a `command` trigger. Builds `STRATA_IMAGE` from `STRATA_DOCKERFILE`
//!   (relative to the working directory, the repository's checkout; read at
//!   `STRATA_COMMIT` when that is set) with `STRATA_BUILD_ARGS` (`NAME=value` lines),
//!   `STRATA_TARGET` and `STRATA_PLATFORM`. An image with no Dockerfile in reach
//!   (`STRATA_DOCKERFILE` empty) is built on the current image of `STRATA_BASE_IMAGE`,
//!   as a build whose hidden Dockerfile names that base unpinned would be.
//! - `ci <pipeline.json>`: a `post-receive` hook ([`strata_testkit::ci`]); starts one
//!   background job per pushed tip of the pipeline's branch and returns at once.
//! - `ci-job <pipeline.json> <commit>`: that job: builds every image of the pipeline
//!   from the commit, one repository's jobs at a time.
//!
//! Test knobs (command mode; the pipeline file has its own): `STRATA_TEST_LOG`, a file
//! to append one JSON line to per event (`start`, `published`, `failed`);
//! `STRATA_TEST_FAIL`, comma-separated patterns (`*` or substrings of the image) that
//! fail without pushing; `STRATA_TEST_SLEEP`, `pattern=ms,...`, a pause before building;
//! `STRATA_TEST_MIRRORS`, `registry=host,...`: images named on `registry` are read and
//! pushed on the loopback `host` instead.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use strata_testkit::build::{Recipe, build};
use strata_testkit::ci::{self, Pipeline};
use strata_testkit::hierarchy::{
    Target, now_ms, qualified, rebuild_on_current_as, selected, sleep_for, through_mirror,
};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// Appends `event` to `path` (one write per line on an append-mode file: lines of
/// parallel builders never mix).
fn log(path: Option<&Path>, event: &Value) {
    let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
        return;
    };
    let mut line = event.to_string();
    line.push('\n');
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

/// What one build is told, however it was started.
struct Order {
    recipe: Recipe,
    /// The base named by the cascade (for images with no Dockerfile, and the log).
    base: String,
    mirrors: String,
    fail: String,
    sleep: String,
    log: Option<PathBuf>,
    /// Log fields identifying the build.
    fields: Value,
}

async fn run(order: Order) -> Result<()> {
    let event = |kind: &str, extra: Value| {
        let mut event = order.fields.clone();
        event["event"] = json!(kind);
        event["at_ms"] = json!(now_ms());
        event["pid"] = json!(std::process::id());
        if let (Some(map), Value::Object(extra)) = (event.as_object_mut(), extra) {
            map.extend(extra);
        }
        log(order.log.as_deref(), &event);
    };
    event("start", json!({}));
    let image = &order.recipe.image;
    if let Some(pause) = sleep_for(&order.sleep, image) {
        tokio::time::sleep(pause).await;
    }
    if selected(&order.fail, image) {
        event("failed", json!({}));
        bail!("build of {image} failed on purpose");
    }
    let result = if order.recipe.dockerfile.is_empty() {
        build_without_dockerfile(&order).await
    } else {
        build(&order.recipe, &order.mirrors)
            .await
            .map(|b| (b.from, b.base_digest, b.digest))
    };
    match result {
        Ok((from, built_on, digest)) => {
            event(
                "published",
                json!({"from": from, "built_on": built_on, "digest": digest}),
            );
            Ok(())
        }
        Err(e) => {
            event("failed", json!({"error": format!("{e:#}")}));
            Err(e)
        }
    }
}

/// An image whose Dockerfile is not in reach: built on its base tag's current image.
async fn build_without_dockerfile(order: &Order) -> Result<(String, String, String)> {
    let mirrors = &order.mirrors;
    let child = Target::parse(&through_mirror(&order.recipe.image, mirrors)).context("image")?;
    let parent = Target::parse(&through_mirror(&order.base, mirrors)).context("base image")?;
    let seeder = strata_testkit::Seeder::new(&child.base_url())?;
    let base_name = if mirrors.is_empty() {
        format!("{}/{}:{}", parent.host, parent.repo, parent.tag)
    } else {
        qualified(order.base.split('@').next().unwrap_or(&order.base))
    };
    let seed = format!("{} on {}", order.recipe.image, order.base);
    let rebuilt = rebuild_on_current_as(&seeder, &child, &parent, &base_name, &seed).await?;
    Ok((base_name, rebuilt.base_digest, rebuilt.digest))
}

/// Command-trigger mode.
async fn command() -> Result<()> {
    let dockerfile = var("STRATA_DOCKERFILE");
    let commit = var("STRATA_COMMIT");
    let text = if dockerfile.is_empty() {
        String::new()
    } else if commit.is_empty() {
        std::fs::read_to_string(&dockerfile)
            .with_context(|| format!("reading {dockerfile} in the checkout"))?
    } else {
        git_show(None, &commit, &format!("./{dockerfile}"))?
    };
    let build_args: BTreeMap<String, String> = var("STRATA_BUILD_ARGS")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let image = var("STRATA_IMAGE");
    let order = Order {
        recipe: Recipe {
            image: image.clone(),
            dockerfile: text,
            build_args,
            target: Some(var("STRATA_TARGET")).filter(|t| !t.is_empty()),
            platform: Some(var("STRATA_PLATFORM")).filter(|p| !p.is_empty()),
        },
        base: var("STRATA_BASE_IMAGE"),
        mirrors: var("STRATA_TEST_MIRRORS"),
        fail: var("STRATA_TEST_FAIL"),
        sleep: var("STRATA_TEST_SLEEP"),
        log: Some(PathBuf::from(var("STRATA_TEST_LOG"))),
        fields: json!({
            "image": image, "base_image": var("STRATA_BASE_IMAGE"),
            "base_digest": var("STRATA_BASE_DIGEST"), "level": var("STRATA_LEVEL"),
            "cascade": var("STRATA_CASCADE_ID"), "commit": commit,
        }),
    };
    run(order).await
}

/// Hook mode: one detached job per pushed tip of the pipeline's branch.
fn hook(config: &Path) -> Result<()> {
    let pipeline = ci::load(config)?;
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let me = std::env::current_exe().context("locating the builder")?;
    for commit in ci::pushed_commits(&input, &pipeline) {
        use std::os::unix::process::CommandExt;
        Command::new(&me)
            .arg("ci-job")
            .arg(config)
            .arg(&commit)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: it outlives the push, as a CI job does.
            .process_group(0)
            .spawn()
            .context("starting the CI job")?;
    }
    Ok(())
}

/// Job mode: every image of the pipeline from `commit`, one repository's jobs at a time.
async fn job(config: &Path, commit: &str) -> Result<()> {
    let pipeline: Pipeline = ci::load(config)?;
    let bare = config.parent().context("pipeline file")?.to_path_buf();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(bare.join("strata-ci.lock"))?;
    lock.lock()
        .context("waiting for the repository's previous CI job")?;
    let mut failed = Vec::new();
    for image in &pipeline.images {
        let text = git_show(Some(&bare), commit, &image.dockerfile)?;
        let order = Order {
            recipe: Recipe {
                image: image.image.clone(),
                dockerfile: text,
                build_args: image.build_args.clone(),
                target: image.target.clone(),
                platform: image.platform.clone(),
            },
            base: String::new(),
            mirrors: pipeline.mirrors.clone(),
            fail: pipeline.fail.clone(),
            sleep: pipeline.sleep.clone(),
            log: pipeline.log.clone(),
            fields: json!({"image": image.image, "commit": commit, "ci": true}),
        };
        if let Err(e) = run(order).await {
            failed.push(format!("{}: {e:#}", image.image));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("{}", failed.join("; "))
    }
}

/// A file at a commit (`git show <commit>:<path>`), in `git_dir` or the current repository.
fn git_show(git_dir: Option<&Path>, commit: &str, path: &str) -> Result<String> {
    let mut cmd = Command::new("git");
    if let Some(dir) = git_dir {
        cmd.arg("--git-dir").arg(dir);
    }
    let out = cmd
        .arg("show")
        .arg(format!("{commit}:{path}"))
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git show {commit}:{path}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).context("the Dockerfile is not UTF-8")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("strata-test-builder: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match args.as_slice() {
        [] => runtime.block_on(command()),
        [mode, config] if mode == "ci" => hook(Path::new(config)),
        [mode, config, commit] if mode == "ci-job" => {
            runtime.block_on(job(Path::new(config), commit))
        }
        _ => Err(anyhow::anyhow!(
            "usage: strata-test-builder [ci PIPELINE | ci-job PIPELINE COMMIT]"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata-test-builder: {e:#}");
            ExitCode::from(1)
        }
    }
}
