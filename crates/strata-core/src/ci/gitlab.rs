//! ci stage: a GitLab CI pipeline (`.gitlab-ci.yml` and its local `include:`s) read into
//! image builds. Pure: handed the files, it evaluates every job that runs in a pipeline
//! for a push to the default branch or a pushed tag (`rules`), with its variables and
//! `parallel: matrix:` combinations, and reads its `before_script` and `script` lines as
//! one shell session (`docker build`, `docker push`, kaniko, … through
//! [`crate::ci::command`]).
//!
//! Keywords follow GitLab's "CI/CD YAML syntax reference": top-level keywords
//! (`default`, `include`, `stages`, `variables`, `workflow`, `image`, `services`, `cache`,
//! `before_script`, `after_script`) are not jobs and names starting with `.` are hidden
//! jobs; `extends` merges hashes deeply and replaces everything else, later parents
//! winning and the job last; `!reference [job, key]` lines are looked up; `before_script`
//! comes from the job, else `default`, else the top level; variables are the top level's
//! then the job's, each value expanded with the ones before it. Predefined variables are
//! those of "Predefined CI/CD variables" that the files determine (`CI_PROJECT_PATH`,
//! `CI_REGISTRY_IMAGE` when the registry host is known, `CI_DEFAULT_BRANCH`,
//! `CI_COMMIT_BRANCH`, `CI_COMMIT_REF_NAME`, `CI_COMMIT_REF_SLUG`, …); the commit, the
//! pipeline and an unknown registry stay unknown.

mod pipeline;
mod rules;

use super::script::{self, Described, with_latest};
use super::shell::Env;
use super::text::Text;
use super::yaml_value::Yaml;
use super::{Build, File, Question, Reading, Repository, Run, Started, Tag, settle};
use crate::extract::yaml::{self, NodeId};

use pipeline::{Job, Pipeline};

/// The pipeline file GitLab reads.
pub const FILE: &str = ".gitlab-ci.yml";

/// Top-level keys that are not jobs.
const KEYWORDS: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
    "spec",
];

/// How many `extends` levels GitLab follows.
const MAX_EXTENDS: usize = 11;

/// Reads the pipeline of `files`, if there is one.
pub fn read(files: &[File], repository: &Repository) -> Reading {
    let mut out = Reading::default();
    let Some(main) = files.iter().find(|f| f.path == FILE) else {
        return out;
    };
    let mut sources: Vec<&File> = Vec::new();
    let main_stream = yaml::parse(&main.text);
    for error in &main_stream.errors {
        push(
            &mut out.questions,
            FILE,
            error.line,
            format!("not read: {}", error.message),
        );
    }
    // Local includes first: the main file's own keys win over them.
    if let Some(document) = pipeline_document(&main_stream, &main.text) {
        let view = Yaml {
            text: &main.text,
            doc: document,
        };
        if let Some(root) = view.root()
            && let Some(include) = view.get(root, "include")
        {
            includes(&view, include, files, &mut sources, &mut out.questions);
        }
    }
    sources.push(main);
    let streams: Vec<_> = sources.iter().map(|f| (*f, yaml::parse(&f.text))).collect();
    let mut pipeline = Pipeline { docs: Vec::new() };
    for (file, stream) in &streams {
        if let Some(document) = pipeline_document(stream, &file.text) {
            pipeline.docs.push((
                file.path.clone(),
                Yaml {
                    text: &file.text,
                    doc: document,
                },
            ));
        }
    }
    let mut builds = Vec::new();
    let mut pushes = Vec::new();
    for run in [Run::Branch(repository.default_branch.clone()), Run::GitTag] {
        let vars = predefined(repository, &run);
        let lookup = |name: &str| vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        if let Some((yaml, root)) = pipeline.top("workflow")
            && let Some(list) = yaml
                .get(root, "workflow")
                .and_then(|w| yaml.get(w, "rules"))
            && rules::rules(&rule_list(yaml, list), &lookup) == Some(false)
        {
            continue;
        }
        for (name, file) in pipeline.jobs() {
            let job = pipeline.resolve(&name, &mut out.questions);
            if !runs(&pipeline, &job, &run, &lookup) {
                continue;
            }
            let started = Started {
                push: matches!(run, Run::Branch(_)),
                git_tag: matches!(run, Run::GitTag),
                ..Started::default()
            };
            for combination in pipeline.matrix(&job) {
                let mut env = Env::new();
                for (n, v) in &vars {
                    if let Some(v) = v {
                        env.set(n, v.clone());
                    }
                }
                for (n, v) in pipeline
                    .variables(&job)
                    .into_iter()
                    .chain(combination.clone())
                {
                    let expanded = env.expand(v.as_marked());
                    env.set(&n, expanded);
                }
                let mut cwd = ".".to_owned();
                let mut read = script::Read::default();
                for (line, text) in pipeline.script_lines(&job) {
                    script::read(&text, &mut env, &mut cwd, line, &mut read);
                }
                let acted = !read.events.is_empty();
                let shown: Vec<(String, String)> = combination
                    .iter()
                    .map(|(k, v)| (k.clone(), v.display()))
                    .collect();
                let make = |d: Described| build(&file, &name, &run, &started, &shown, d);
                let mut job_builds = Vec::new();
                script::apply(
                    read.events,
                    &run,
                    &mut builds,
                    &mut job_builds,
                    &mut pushes,
                    &make,
                );
                if let Some((line, command)) = read.opaque
                    && !acted
                    && mentions_images(&pipeline, &job)
                {
                    push(
                        &mut out.questions,
                        &file,
                        line,
                        format!(
                            "job {name} runs `{command}`, which may build images in a way not read here"
                        ),
                    );
                }
            }
        }
    }
    out.builds = settle(builds, &pushes);
    out
}

/// Records a question; one per place (a template read for many jobs asks once).
fn push(questions: &mut Vec<Question>, file: &str, line: usize, text: String) {
    if questions.iter().any(|q| q.file == file && q.line == line) {
        return;
    }
    questions.push(Question {
        file: file.to_owned(),
        line,
        text,
    });
}

/// The pipeline's document: the second one when the first is a `spec:` header.
fn pipeline_document<'s, 't>(
    stream: &'s yaml::Stream<'t>,
    text: &str,
) -> Option<&'s yaml::Document<'t>> {
    let first = stream.documents.first()?;
    let view = Yaml { text, doc: first };
    let only_spec = view
        .root()
        .is_some_and(|root| view.entries(root).iter().all(|(k, _)| k == "spec"));
    if only_spec {
        stream.documents.get(1)
    } else {
        Some(first)
    }
}

fn build(
    file: &str,
    job: &str,
    run: &Run,
    started: &Started,
    combination: &[(String, String)],
    described: Described,
) -> Build {
    let dockerfile = described
        .dockerfile
        .unwrap_or_else(|| super::path::child(&described.context, "Dockerfile"));
    Build {
        file: file.to_owned(),
        line: described.line,
        job: job.to_owned(),
        tool: described.tool,
        context: described.context,
        dockerfile,
        target: described.target,
        platforms: described.platforms,
        build_args: described.build_args,
        tags: described
            .tags
            .iter()
            .map(|t| Tag {
                image: with_latest(t),
                run: run.clone(),
            })
            .collect(),
        pushed: described.pushed,
        combination: combination.to_vec(),
        started: started.clone(),
        questions: described.questions,
    }
}

/// Local includes (`include: path`, `- local: path`); other kinds are questions.
fn includes<'f>(
    yaml: &Yaml<'_, '_>,
    include: NodeId,
    files: &'f [File],
    out: &mut Vec<&'f File>,
    questions: &mut Vec<Question>,
) {
    let items = if yaml.is_mapping(include) || yaml.string(include).is_some() {
        vec![include]
    } else {
        yaml.items(include)
    };
    for item in items {
        let (local, line) = match yaml.string(item) {
            Some(path) if !path.contains("://") => (Some(path), yaml.line(item)),
            Some(_) => (None, yaml.line(item)),
            None => (yaml.str_at(item, "local"), yaml.line(item)),
        };
        match local {
            Some(path) => {
                let path = path.trim_start_matches('/');
                match files.iter().find(|f| f.path == path) {
                    Some(file) if !out.iter().any(|f| f.path == file.path) => out.push(file),
                    Some(_) => {}
                    None => push(
                        questions,
                        FILE,
                        line,
                        format!("include {path}: not in the repository"),
                    ),
                }
            }
            None => push(
                questions,
                FILE,
                line,
                "an include from outside the repository (template, project or remote): not read"
                    .to_owned(),
            ),
        }
    }
}

/// The predefined variables a run determines; `None`: not set in this run.
fn predefined(repository: &Repository, run: &Run) -> Vec<(String, Option<Text>)> {
    let known = |s: &str| Some(Text::known(s));
    let mut vars = vec![
        ("CI".to_owned(), known("true")),
        ("GITLAB_CI".to_owned(), known("true")),
        ("CI_PROJECT_DIR".to_owned(), known(".")),
        (
            "CI_DEFAULT_BRANCH".to_owned(),
            known(&repository.default_branch),
        ),
        ("CI_MERGE_REQUEST_IID".to_owned(), None),
        ("CI_MERGE_REQUEST_ID".to_owned(), None),
        ("CI_EXTERNAL_PULL_REQUEST_IID".to_owned(), None),
    ];
    match run {
        Run::Branch(b) | Run::Schedule(b) | Run::Dispatch(b) => {
            vars.push(("CI_COMMIT_BRANCH".to_owned(), known(b)));
            vars.push(("CI_COMMIT_REF_NAME".to_owned(), known(b)));
            vars.push(("CI_COMMIT_REF_SLUG".to_owned(), known(&slug(b))));
            vars.push(("CI_COMMIT_TAG".to_owned(), None));
            let source = match run {
                Run::Schedule(_) => "schedule",
                Run::Dispatch(_) => "web",
                _ => "push",
            };
            vars.push(("CI_PIPELINE_SOURCE".to_owned(), known(source)));
        }
        Run::GitTag => {
            vars.push(("CI_COMMIT_BRANCH".to_owned(), None));
            vars.push(("CI_PIPELINE_SOURCE".to_owned(), known("push")));
        }
    }
    if let Some(path) = &repository.slug {
        vars.push(("CI_PROJECT_PATH".to_owned(), known(path)));
        let (namespace, name) = path.rsplit_once('/').unwrap_or(("", path));
        vars.push(("CI_PROJECT_NAME".to_owned(), known(name)));
        vars.push(("CI_PROJECT_NAMESPACE".to_owned(), known(namespace)));
        vars.push(("CI_PROJECT_PATH_SLUG".to_owned(), known(&slug(path))));
        if let Some(registry) = &repository.gitlab_registry {
            vars.push(("CI_REGISTRY".to_owned(), known(registry)));
            vars.push((
                "CI_REGISTRY_IMAGE".to_owned(),
                known(&format!("{registry}/{}", path.to_ascii_lowercase())),
            ));
        }
    }
    vars
}

/// `CI_COMMIT_REF_SLUG`: lower-cased, every character but `0-9a-z` replaced by `-`, at
/// most 63 bytes, no leading or trailing `-`.
fn slug(name: &str) -> String {
    let replaced: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let cut: String = replaced.chars().take(63).collect();
    cut.trim_matches('-').to_owned()
}

fn rule_list(yaml: &Yaml<'_, '_>, list: NodeId) -> Vec<(Option<String>, Option<String>)> {
    yaml.items(list)
        .into_iter()
        .map(|rule| (yaml.str_at(rule, "if"), yaml.str_at(rule, "when")))
        .collect()
}

/// Whether the job runs in `run` (a maybe counts: its builds are read).
fn runs(pipeline: &Pipeline<'_, '_>, job: &Job, run: &Run, vars: &rules::Vars<'_>) -> bool {
    if let Some((doc, node)) = job.get("rules") {
        let yaml = &pipeline.docs[doc].1;
        return rules::rules(&rule_list(yaml, node), vars) != Some(false);
    }
    let (branch, source) = match run {
        Run::Branch(b) => (Some(b.as_str()), "push"),
        Run::Schedule(b) => (Some(b.as_str()), "schedule"),
        Run::Dispatch(b) => (Some(b.as_str()), "web"),
        Run::GitTag => (None, "push"),
    };
    let refs = |key: &str| -> Option<Vec<String>> {
        let (doc, node) = job.get(key)?;
        let yaml = &pipeline.docs[doc].1;
        if yaml.is_mapping(node) {
            yaml.get(node, "refs").map(|r| yaml.strings(r))
        } else {
            Some(yaml.strings(node))
        }
    };
    let only = refs("only").unwrap_or_else(|| vec!["branches".to_owned(), "tags".to_owned()]);
    if rules::refs_match(&only, branch, source) == Some(false) {
        return false;
    }
    match refs("except") {
        Some(except) => rules::refs_match(&except, branch, source) != Some(true),
        None => true,
    }
}

fn mentions_images(pipeline: &Pipeline<'_, '_>, job: &Job) -> bool {
    pipeline.script_lines(job).iter().any(|(_, line)| {
        ["docker", "image", "kaniko", "buildah", "podman", "registry"]
            .iter()
            .any(|w| line.contains(w))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
