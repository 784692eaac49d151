//! ci stage: GitHub Actions workflows (`.github/workflows/*.yml`) read into image builds.
//! Pure: handed the repository's workflow and local action files, it evaluates each
//! workflow for the runs that publish (a push to the default branch, a manual or
//! scheduled run on it, a pushed git tag), job by job and matrix combination by
//! combination, following local reusable workflows (`uses: ./.github/workflows/x.yml`)
//! and local composite actions (`uses: ./path`), and reads the steps that build: see
//! `steps`. A job or step whose `if:` is false for a run is skipped for it.
//!
//! Contexts are GitHub's "Contexts" reference as far as files tell them: `github`
//! (`repository`, `repository_owner`, `ref`, `ref_name`, `ref_type`, `event_name`,
//! `event.repository.default_branch`; everything else unknown), `env` (workflow, job and
//! step `env:` in that order), `matrix`, `inputs` (`workflow_dispatch` and
//! `workflow_call` defaults, a caller's `with:`), `steps.<id>.outputs` of
//! docker/metadata-action; `secrets`, `vars`, `needs`, `runner` are unknown.

mod actions;
mod events;
mod steps;

use super::expr::{self, Value};
use super::matrix::{self, Matrix};
use super::text::Text;
use super::yaml_value::Yaml;
use super::{Build, File, Question, Reading, Repository, Run, Started, settle};
use crate::extract::yaml::{self, NodeId};

use events::Events;

/// How deep reusable workflows and composite actions may call each other (GitHub allows
/// four levels of reusable workflows).
const MAX_CALL_DEPTH: usize = 4;

/// Reads every workflow of `files` (paths relative to the repository).
pub fn read(files: &[File], repository: &Repository) -> Reading {
    let mut reader = Reader {
        files,
        repository,
        builds: Vec::new(),
        pushes: Vec::new(),
        questions: Vec::new(),
    };
    for file in files.iter().filter(|f| is_workflow(&f.path)) {
        reader.workflow(file);
    }
    Reading {
        builds: settle(reader.builds, &reader.pushes),
        questions: reader.questions,
    }
}

/// A workflow GitHub runs: a YAML file directly in `.github/workflows/`.
pub fn is_workflow(path: &str) -> bool {
    path.strip_prefix(".github/workflows/").is_some_and(|name| {
        !name.contains('/') && (name.ends_with(".yml") || name.ends_with(".yaml"))
    })
}

struct Reader<'a> {
    files: &'a [File],
    repository: &'a Repository,
    builds: Vec<Build>,
    /// `docker push` targets anywhere in the workflows (`all_tags`: `--all-tags`).
    pushes: Vec<(Text, bool)>,
    questions: Vec<Question>,
}

/// Where a job list is read: the file, the run, and the caller's settings.
#[derive(Clone)]
struct Scope<'f> {
    file: &'f File,
    run: Run,
    started: Started,
    github: Value,
    inputs: Value,
    depth: usize,
    /// The calling job, for names (`build / build-test-upload`).
    caller: Option<String>,
}

impl<'a> Reader<'a> {
    /// Records a question; one per place (a step read for many jobs asks once).
    fn question(&mut self, file: &str, line: usize, text: String) {
        if self
            .questions
            .iter()
            .any(|q| q.file == file && q.line == line)
        {
            return;
        }
        self.questions.push(Question {
            file: file.to_owned(),
            line,
            text,
        });
    }

    fn workflow(&mut self, file: &'a File) {
        let stream = yaml::parse(&file.text);
        for error in &stream.errors {
            self.question(
                &file.path,
                error.line,
                format!("not read: {}", error.message),
            );
        }
        let Some(document) = stream.documents.first() else {
            return;
        };
        let yaml = Yaml {
            text: &file.text,
            doc: document,
        };
        let Some(root) = yaml.root() else { return };
        let default = self.repository.default_branch.clone();
        let events = events::read(&yaml, root, &default);
        let name = file
            .path
            .rsplit('/')
            .next()
            .unwrap_or(&file.path)
            .to_owned();
        let started = Started {
            push: events.push_default,
            git_tag: events.push_tags,
            dispatch: events.dispatch.then_some(name),
            schedule: events.schedule,
        };
        let mut runs = Vec::new();
        if events.push_default {
            runs.push(Run::Branch(default.clone()));
        } else if events.dispatch {
            runs.push(Run::Dispatch(default.clone()));
        }
        if events.schedule {
            runs.push(Run::Schedule(default.clone()));
        }
        if events.push_tags {
            runs.push(Run::GitTag);
        }
        for run in runs {
            let inputs = match run {
                Run::Dispatch(_) => defaults(&yaml, &events),
                _ => Value::object(Vec::new()),
            };
            let scope = Scope {
                file,
                github: self.github(&run),
                run,
                started: started.clone(),
                inputs,
                depth: 0,
                caller: None,
            };
            self.jobs(&yaml, root, &scope);
        }
    }

    /// The `github` context for a run.
    fn github(&self, run: &Run) -> Value {
        let repo = &self.repository;
        let known = |s: Option<&str>| s.map_or(Value::Unknown, Value::string);
        let owner = repo.slug.as_deref().and_then(|s| s.split('/').next());
        let name = repo.slug.as_deref().and_then(|s| s.split('/').nth(1));
        let (git_ref, ref_name, ref_type, event) = match run {
            Run::Branch(b) => (
                Value::string(&format!("refs/heads/{b}")),
                Value::string(b),
                "branch",
                "push",
            ),
            Run::Dispatch(b) => (
                Value::string(&format!("refs/heads/{b}")),
                Value::string(b),
                "branch",
                "workflow_dispatch",
            ),
            Run::Schedule(b) => (
                Value::string(&format!("refs/heads/{b}")),
                Value::string(b),
                "branch",
                "schedule",
            ),
            Run::GitTag => (Value::Unknown, Value::Unknown, "tag", "push"),
        };
        let event_repository = Value::open_object(vec![
            ("default_branch".into(), Value::string(&repo.default_branch)),
            ("name".into(), known(name)),
            ("full_name".into(), known(repo.slug.as_deref())),
        ]);
        Value::open_object(vec![
            ("repository".into(), known(repo.slug.as_deref())),
            ("repository_owner".into(), known(owner)),
            ("ref".into(), git_ref),
            ("ref_name".into(), ref_name),
            ("ref_type".into(), Value::string(ref_type)),
            ("event_name".into(), Value::string(event)),
            ("server_url".into(), Value::string("https://github.com")),
            (
                "event".into(),
                Value::open_object(vec![("repository".into(), event_repository)]),
            ),
        ])
    }

    fn context(&self, scope: &Scope<'_>, env: &[(String, Text)], matrix: Value) -> Value {
        Value::open_object(vec![
            ("github".into(), scope.github.clone()),
            ("inputs".into(), scope.inputs.clone()),
            ("env".into(), env_value(env)),
            ("matrix".into(), matrix),
            ("vars".into(), Value::open_object(Vec::new())),
            ("secrets".into(), Value::open_object(Vec::new())),
            ("needs".into(), Value::open_object(Vec::new())),
            ("steps".into(), Value::open_object(Vec::new())),
            ("runner".into(), Value::open_object(Vec::new())),
        ])
    }

    /// Every job of a workflow (or a called workflow) for one run.
    fn jobs(&mut self, yaml: &Yaml<'_, '_>, root: NodeId, scope: &Scope<'a>) {
        let empty = self.context(scope, &[], Value::object(Vec::new()));
        let workflow_env = read_env(yaml, yaml.get(root, "env"), &empty, &[]);
        let workflow_dir = working_directory(yaml, root, &empty);
        let Some(jobs) = yaml.get(root, "jobs") else {
            return;
        };
        for (job_id, job) in yaml.entries(jobs) {
            let label = match &scope.caller {
                Some(caller) => format!("{caller} / {job_id}"),
                None => job_id.clone(),
            };
            let ctx = self.context(scope, &workflow_env, Value::object(Vec::new()));
            if let Some(condition) = yaml.str_at(job, "if")
                && expr::condition(&condition, &ctx) == Some(false)
            {
                continue;
            }
            let combinations = match self.matrix(yaml, job, &ctx, scope) {
                Some(c) => c,
                None => continue,
            };
            for combination in combinations {
                let matrix_value = matrix::context(&combination);
                let ctx = self.context(scope, &workflow_env, matrix_value.clone());
                if let Some(called) = yaml.str_at(job, "uses") {
                    self.call(yaml, job, &called, &ctx, scope, &label);
                    continue;
                }
                let env = read_env(yaml, yaml.get(job, "env"), &ctx, &workflow_env);
                let dir = working_directory(yaml, job, &ctx).or_else(|| workflow_dir.clone());
                let shown: Vec<(String, String)> = combination
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_text().unwrap_or_else(|| "…".to_owned())))
                    .collect();
                let job_scope = steps::JobScope {
                    scope: scope.clone(),
                    label: label.clone(),
                    env,
                    matrix: matrix_value,
                    combination: shown,
                    dir: dir.unwrap_or_else(|| ".".to_owned()),
                };
                if let Some(list) = yaml.get(job, "steps") {
                    self.steps(yaml, list, &job_scope);
                }
            }
        }
    }

    /// The combinations of a job's matrix (one empty one without a matrix); `None` with a
    /// question when it cannot be expanded.
    fn matrix(
        &mut self,
        yaml: &Yaml<'_, '_>,
        job: NodeId,
        ctx: &Value,
        scope: &Scope<'_>,
    ) -> Option<Vec<matrix::Combination>> {
        let Some(node) = yaml
            .get(job, "strategy")
            .and_then(|s| yaml.get(s, "matrix"))
        else {
            return Some(vec![Vec::new()]);
        };
        let line = yaml.line(node);
        let value = resolve_strings(yaml.value(node), ctx);
        let written = |key: &str| {
            if key.is_empty() {
                yaml.string(node).unwrap_or_default()
            } else {
                yaml.get(node, key)
                    .and_then(|v| yaml.string(v))
                    .unwrap_or_else(|| key.to_owned())
            }
        };
        match Matrix::from_value(&value, &written).and_then(|m| m.expand()) {
            Ok(c) if c.is_empty() => Some(vec![Vec::new()]),
            Ok(c) => Some(c),
            Err(e) => {
                self.question(&scope.file.path, line, format!("not read: {e}"));
                None
            }
        }
    }

    /// A job that calls a reusable workflow: a local one is read with the caller's
    /// inputs; another repository's is a question.
    fn call(
        &mut self,
        yaml: &Yaml<'_, '_>,
        job: NodeId,
        called: &str,
        ctx: &Value,
        scope: &Scope<'a>,
        label: &str,
    ) {
        let line = yaml.key_line(job, "uses");
        let Some(path) = called.strip_prefix("./") else {
            self.question(
                &scope.file.path,
                line,
                format!("job {label} calls {called}, a workflow of another repository: not read"),
            );
            return;
        };
        let path = path.split('@').next().unwrap_or(path);
        let Some(file) = self.files.iter().find(|f| f.path == path) else {
            self.question(
                &scope.file.path,
                line,
                format!("job {label} calls {path}, which is not in the repository"),
            );
            return;
        };
        if scope.depth >= MAX_CALL_DEPTH {
            self.question(
                &scope.file.path,
                line,
                format!("job {label}: reusable workflows nest too deep"),
            );
            return;
        }
        let stream = yaml::parse(&file.text);
        let Some(document) = stream.documents.first() else {
            return;
        };
        let callee = Yaml {
            text: &file.text,
            doc: document,
        };
        let Some(root) = callee.root() else { return };
        let events = events::read(&callee, root, &self.repository.default_branch);
        let mut inputs: Vec<(String, Value)> = match defaults(&callee, &events) {
            Value::Object { fields, .. } => fields,
            _ => Vec::new(),
        };
        if let Some(with) = yaml.get(job, "with") {
            for (name, value) in yaml.entries(with) {
                let value = match yaml.string(value) {
                    Some(text) if text.contains("${{") => {
                        Value::text(&expr::substitute(&text, ctx))
                    }
                    _ => yaml.value(value),
                };
                match inputs.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = value,
                    None => inputs.push((name, value)),
                }
            }
        }
        let inner = Scope {
            file,
            run: scope.run.clone(),
            started: scope.started.clone(),
            github: scope.github.clone(),
            inputs: Value::object(inputs),
            depth: scope.depth + 1,
            caller: Some(label.to_owned()),
        };
        self.jobs(&callee, root, &inner);
    }
}

/// The inputs of `workflow_dispatch`/`workflow_call` with their defaults.
fn defaults(yaml: &Yaml<'_, '_>, events: &Events) -> Value {
    Value::object(
        events
            .inputs
            .iter()
            .map(|(name, default)| (name.clone(), default.map_or(Value::Null, |d| yaml.value(d))))
            .collect(),
    )
}

/// An `env:` mapping, each value substituted, on top of `base`.
fn read_env(
    yaml: &Yaml<'_, '_>,
    node: Option<NodeId>,
    ctx: &Value,
    base: &[(String, Text)],
) -> Vec<(String, Text)> {
    let mut env = base.to_vec();
    let Some(node) = node.filter(|n| yaml.is_mapping(*n)) else {
        return env;
    };
    for (name, value) in yaml.entries(node) {
        let text = yaml
            .string(value)
            .map_or_else(|| Text::unknown(&name), |t| expr::substitute(&t, ctx));
        match env.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = text,
            None => env.push((name, text)),
        }
    }
    env
}

fn env_value(env: &[(String, Text)]) -> Value {
    Value::object(
        env.iter()
            .map(|(name, text)| (name.clone(), Value::text(text)))
            .collect(),
    )
}

/// `defaults.run.working-directory` of a workflow or job.
fn working_directory(yaml: &Yaml<'_, '_>, node: NodeId, ctx: &Value) -> Option<String> {
    let dir = yaml
        .get(node, "defaults")
        .and_then(|d| yaml.get(d, "run"))
        .and_then(|r| yaml.str_at(r, "working-directory"))?;
    expr::substitute(&dir, ctx).value().map(str::to_owned)
}

/// Expressions inside a matrix's strings, substituted (a computed list stays a string,
/// which the matrix reader reports).
fn resolve_strings(value: Value, ctx: &Value) -> Value {
    match value {
        Value::String(s) if s.contains("${{") => {
            let text = expr::substitute(&s, ctx);
            match text.value() {
                Some(known) if !s.trim_start().starts_with("${{") => Value::string(known),
                _ => Value::String(s),
            }
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| resolve_strings(v, ctx)).collect())
        }
        Value::Object { fields, open } => Value::Object {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k, resolve_strings(v, ctx)))
                .collect(),
            open,
        },
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
