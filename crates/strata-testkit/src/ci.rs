//! Test support, a CI that builds on push: a bare git repository on disk plays a
//! repository's `origin`, and its `post-receive` hook plays the CI job a push to the
//! build branch starts — it builds every image the repository's pipeline lists from the
//! pushed commit (each Dockerfile read at that commit, with its build arguments) with
//! [`crate::build`], and publishes to the loopback registry.
//!
//! What it keeps of a real CI: it builds the commit that was pushed, never a working tree
//! or the base a cascade wishes for; it runs after the push has been accepted, on its
//! own, so the pusher learns of the result only from the registry; jobs of one
//! repository run one at a time, in push order (a concurrency group without
//! cancellation); pushes to other branches build nothing. What it leaves out: a real
//! runner's checkout and build steps (the build is [`crate::build`]'s stand-in).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// What a repository's CI builds, and where it reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pipeline {
    /// Pushes to `refs/heads/<branch>` build; others do not.
    pub branch: String,
    /// The images its workflow builds, in order.
    pub images: Vec<Job>,
    /// `registry=host,…`: registries served by loopback ones.
    #[serde(default)]
    pub mirrors: String,
    /// A file the jobs append one JSON line per event to.
    pub log: Option<PathBuf>,
    /// Patterns of images whose build fails (`*`, or substrings).
    #[serde(default)]
    pub fail: String,
    /// `pattern=ms,…`: a pause before building matching images.
    #[serde(default)]
    pub sleep: String,
}

/// One image a pipeline builds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Job {
    pub image: String,
    /// The Dockerfile, relative to the repository's top level.
    pub dockerfile: String,
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
}

/// The pipeline's file inside the bare repository.
pub const PIPELINE_FILE: &str = "strata-ci.json";

/// Makes `bare` (a bare repository) build on push: writes the pipeline next to it and a
/// `post-receive` hook that hands each push to `builder` (the `strata-test-builder`
/// program, whose `ci` mode starts the job in the background and returns).
pub fn install(bare: &Path, pipeline: &Pipeline, builder: &Path) -> Result<()> {
    let config = bare.join(PIPELINE_FILE);
    std::fs::write(&config, serde_json::to_vec_pretty(pipeline)?)
        .with_context(|| format!("writing {}", config.display()))?;
    let hook = bare.join("hooks").join("post-receive");
    std::fs::create_dir_all(hook.parent().context("hook path")?)?;
    let script = format!(
        "#!/bin/sh\nexec '{}' ci '{}'\n",
        builder.display(),
        config.display()
    );
    std::fs::write(&hook, script).with_context(|| format!("writing {}", hook.display()))?;
    make_executable(&hook)
}

/// Reads a pipeline file.
pub fn load(path: &Path) -> Result<Pipeline> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

/// The commits a `post-receive` input (`<old> <new> <ref>` lines) asks `pipeline` to
/// build: new tips of its branch (a deleted branch builds nothing).
pub fn pushed_commits(input: &str, pipeline: &Pipeline) -> Vec<String> {
    let wanted = format!("refs/heads/{}", pipeline.branch);
    input
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_old, new, name) = (fields.next()?, fields.next()?, fields.next()?);
            let deleted = new.chars().all(|c| c == '0');
            (name == wanted && !deleted).then(|| new.to_owned())
        })
        .collect()
}

fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_mode(0o755);
    std::fs::set_permissions(path, permissions)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_new_tips_of_the_build_branch_are_built() {
        let pipeline = Pipeline {
            branch: "main".into(),
            images: Vec::new(),
            mirrors: String::new(),
            log: None,
            fail: String::new(),
            sleep: String::new(),
        };
        let zero = "0".repeat(40);
        let input = format!(
            "{zero} {a} refs/heads/main\n{a} {b} refs/heads/strata/x\n{a} {zero} refs/heads/main\n\
             {a} {b} refs/heads/main\n",
            a = "a".repeat(40),
            b = "b".repeat(40)
        );
        assert_eq!(
            pushed_commits(&input, &pipeline),
            ["a".repeat(40), "b".repeat(40)]
        );
    }
}
