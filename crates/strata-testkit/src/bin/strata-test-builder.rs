//! `strata-test-builder`: the rebuild trigger of strata's cascade tests. "Builds" the
//! image named by `STRATA_IMAGE` by pushing a new manifest on top of the *current*
//! image of its base tag (`STRATA_BASE_IMAGE`) with updated base annotations, on the
//! loopback registry the names point at. Test knobs:
//! - `STRATA_TEST_LOG`: a file to append one JSON line to at start and at the end;
//! - `STRATA_TEST_FAIL`: comma-separated patterns (`*` or substrings of the image) that
//!   exit 1 without pushing;
//! - `STRATA_TEST_SLEEP`: `pattern=ms,...`, a pause before building;
//! - `STRATA_TEST_MIRRORS`: `registry=host,...`: images named on `registry`
//!   (`docker.io/acme/app:1`, or `acme/app:1` as Docker reads it) are read and pushed on
//!   the loopback `host` instead; the base annotation keeps the registry's name.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;
use strata_testkit::Seeder;
use strata_testkit::hierarchy::{
    Target, now_ms, qualified, rebuild_on_current_as, selected, sleep_for, through_mirror,
};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

fn log(event: serde_json::Value) {
    let path = var("STRATA_TEST_LOG");
    if path.is_empty() {
        return;
    }
    let mut line = event.to_string();
    line.push('\n');
    // One write per line on an append-mode file: lines of parallel builders never mix.
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

async fn build() -> Result<()> {
    let image = var("STRATA_IMAGE");
    let base = var("STRATA_BASE_IMAGE");
    let asked = var("STRATA_BASE_DIGEST");
    let common = json!({
        "image": image, "base_image": base, "base_digest": asked,
        "level": var("STRATA_LEVEL"), "cascade": var("STRATA_CASCADE_ID"),
        "pid": std::process::id(),
    });
    let mut start = common.clone();
    start["event"] = json!("start");
    start["at_ms"] = json!(now_ms());
    log(start);
    if let Some(pause) = sleep_for(&var("STRATA_TEST_SLEEP"), &image) {
        tokio::time::sleep(pause).await;
    }
    if selected(&var("STRATA_TEST_FAIL"), &image) {
        let mut failed = common;
        failed["event"] = json!("failed");
        failed["at_ms"] = json!(now_ms());
        log(failed);
        anyhow::bail!("build of {image} failed on purpose");
    }
    let mirrors = var("STRATA_TEST_MIRRORS");
    let child = Target::parse(&through_mirror(&image, &mirrors)).context("STRATA_IMAGE")?;
    let parent = Target::parse(&through_mirror(&base, &mirrors)).context("STRATA_BASE_IMAGE")?;
    let seeder = Seeder::new(&child.base_url())?;
    let seed = format!("{image} on {asked}");
    // The annotation names the base as the workspace knows it (mirror or not).
    let base_name = if mirrors.is_empty() {
        format!("{}/{}:{}", parent.host, parent.repo, parent.tag)
    } else {
        qualified(base.split('@').next().unwrap_or(&base))
    };
    let rebuilt = rebuild_on_current_as(&seeder, &child, &parent, &base_name, &seed).await?;
    let mut done = common;
    done["event"] = json!("published");
    done["at_ms"] = json!(now_ms());
    done["built_on"] = json!(rebuilt.base_digest);
    done["digest"] = json!(rebuilt.digest);
    log(done);
    Ok(())
}

fn main() -> ExitCode {
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
    match runtime.block_on(build()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata-test-builder: {e:#}");
            ExitCode::from(1)
        }
    }
}
