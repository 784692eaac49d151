//! ci stage: the steps of one GitHub Actions job that build, tag and push images —
//! `docker/build-push-action` (v2 and later, and v1's own inputs),
//! `docker/metadata-action` (its outputs feed later steps), `run:` scripts (`docker
//! build`, `docker buildx build`, `docker tag`, `docker push`, … through
//! [`crate::ci::command`]) and local composite actions — into [`Build`]s. Pure.

use super::super::expr::{self, Value};
use super::super::metadata;
use super::super::path;
use super::super::script::{self, Described, with_latest};
use super::super::shell::Env;
use super::super::text::Text;
use super::super::yaml_value::Yaml;
use super::super::{Build, Tag};
use super::actions::{build_push, build_push_v1, meta_outputs};
use super::{MAX_CALL_DEPTH, Reader, Scope, read_env};
use crate::extract::yaml::{self, NodeId};

/// One job (one matrix combination) being read.
#[derive(Clone)]
pub(super) struct JobScope<'f> {
    pub(super) scope: Scope<'f>,
    pub(super) label: String,
    pub(super) env: Vec<(String, Text)>,
    pub(super) matrix: Value,
    pub(super) combination: Vec<(String, String)>,
    /// The working directory of `run:` steps (repository-relative).
    pub(super) dir: String,
}

/// What the steps of a job have produced so far.
#[derive(Default)]
struct JobState {
    /// `steps.<id>` objects.
    outputs: Vec<(String, Value)>,
    /// Questions of metadata-action steps, by step id.
    meta_questions: Vec<(String, Vec<String>)>,
    /// Indexes of this job's builds in the reader's list.
    builds: Vec<usize>,
}

impl<'a> Reader<'a> {
    pub(super) fn steps(&mut self, yaml: &Yaml<'_, '_>, list: NodeId, job: &JobScope<'a>) {
        let mut state = JobState::default();
        self.step_list(yaml, list, job, &job.scope.inputs.clone(), &mut state, 0);
    }

    fn step_list(
        &mut self,
        yaml: &Yaml<'_, '_>,
        list: NodeId,
        job: &JobScope<'a>,
        inputs: &Value,
        state: &mut JobState,
        depth: usize,
    ) {
        for step in yaml.items(list) {
            let base = self.step_context(job, inputs, &job.env, state);
            if let Some(condition) = yaml.str_at(step, "if")
                && expr::condition(&condition, &base) == Some(false)
            {
                continue;
            }
            let env = read_env(yaml, yaml.get(step, "env"), &base, &job.env);
            let ctx = self.step_context(job, inputs, &env, state);
            let id = yaml.str_at(step, "id");
            if let Some(uses) = yaml.str_at(step, "uses") {
                let line = yaml.key_line(step, "uses");
                let with = |name: &str| -> Option<Text> {
                    yaml.get(step, "with")
                        .and_then(|w| yaml.str_at(w, name))
                        .map(|t| expr::substitute(&t, &ctx))
                };
                let with_written = |name: &str| -> String {
                    yaml.get(step, "with")
                        .and_then(|w| yaml.str_at(w, name))
                        .unwrap_or_default()
                };
                let action = uses.split('@').next().unwrap_or(&uses).to_ascii_lowercase();
                match action.as_str() {
                    "docker/build-push-action" => {
                        let v1 = uses
                            .split('@')
                            .nth(1)
                            .is_some_and(|v| v == "v1" || v.starts_with("v1."))
                            || with("repository").is_some();
                        let mut described = if v1 {
                            build_push_v1(&with, &job.scope.run)
                        } else {
                            build_push(&with)
                        };
                        described.line = line;
                        let tags_written = with_written("tags");
                        for (step_id, questions) in &state.meta_questions {
                            if tags_written.contains(&format!("steps.{step_id}.")) {
                                described.questions.extend(questions.iter().cloned());
                            }
                        }
                        self.record(job, described, state);
                    }
                    "docker/metadata-action" | "crazy-max/ghaction-docker-meta" => {
                        let inputs = metadata::Inputs {
                            images: with("images").unwrap_or_default(),
                            tags: with("tags").unwrap_or_default(),
                            flavor: with("flavor").unwrap_or_default(),
                        };
                        let output = metadata::tags(
                            &inputs,
                            &job.scope.run,
                            &self.repository.default_branch,
                        );
                        if let Some(id) = &id {
                            state.outputs.push((id.clone(), meta_outputs(&output)));
                            state.meta_questions.push((id.clone(), output.questions));
                        }
                    }
                    "docker/bake-action" => self.question(
                        &job.scope.file.path,
                        line,
                        format!(
                            "job {} builds with docker/bake-action (a bake file): not read",
                            job.label
                        ),
                    ),
                    local if local.starts_with("./") => {
                        self.composite(yaml, step, &uses, &ctx, job, state, depth, line);
                    }
                    other => {
                        if other.contains("docker")
                            && (other.contains("push") || other.contains("publish"))
                        {
                            self.question(
                                &job.scope.file.path,
                                line,
                                format!("job {} uses {uses}, which is not read", job.label),
                            );
                        }
                    }
                }
            } else if let Some(script) = yaml.get(step, "run") {
                let line = yaml.line(script) + usize::from(yaml.starts_block(script));
                let text = yaml.string(script).unwrap_or_default();
                let dir = yaml
                    .str_at(step, "working-directory")
                    .and_then(|d| expr::substitute(&d, &ctx).value().map(str::to_owned))
                    .and_then(|d| {
                        path::join(&job.dir, &Text::known(&d))
                            .and_then(|t| t.value().map(str::to_owned))
                    })
                    .unwrap_or_else(|| job.dir.clone());
                let name = yaml.str_at(step, "name").unwrap_or_default();
                self.script(&text, &ctx, &env, &dir, line, &name, job, state);
            }
        }
    }

    fn step_context(
        &self,
        job: &JobScope<'_>,
        inputs: &Value,
        env: &[(String, Text)],
        state: &JobState,
    ) -> Value {
        let mut ctx = self.context(&job.scope, env, job.matrix.clone());
        if let Value::Object { fields, .. } = &mut ctx {
            for (key, value) in fields.iter_mut() {
                match key.as_str() {
                    "steps" => *value = Value::open_object(state.outputs.clone()),
                    "inputs" => *value = inputs.clone(),
                    _ => {}
                }
            }
        }
        ctx
    }

    /// A local composite action: its steps read with the step's `with:` as inputs.
    #[allow(clippy::too_many_arguments)]
    fn composite(
        &mut self,
        yaml: &Yaml<'_, '_>,
        step: NodeId,
        uses: &str,
        ctx: &Value,
        job: &JobScope<'a>,
        state: &mut JobState,
        depth: usize,
        line: usize,
    ) {
        let dir = uses.trim_start_matches("./").trim_end_matches('/');
        let files = self.files;
        let Some(file) = files.iter().find(|f| {
            f.path == format!("{dir}/action.yml") || f.path == format!("{dir}/action.yaml")
        }) else {
            return;
        };
        if depth >= MAX_CALL_DEPTH {
            self.question(
                &job.scope.file.path,
                line,
                format!("{uses}: composite actions nest too deep"),
            );
            return;
        }
        let stream = yaml::parse(&file.text);
        let Some(document) = stream.documents.first() else {
            return;
        };
        let action = Yaml {
            text: &file.text,
            doc: document,
        };
        let Some(root) = action.root() else { return };
        let Some(runs) = action.get(root, "runs") else {
            return;
        };
        if action.str_at(runs, "using").as_deref() != Some("composite") {
            return;
        }
        let Some(steps) = action.get(runs, "steps") else {
            return;
        };
        let mut inputs: Vec<(String, Value)> = Vec::new();
        if let Some(declared) = action.get(root, "inputs") {
            for (name, spec) in action.entries(declared) {
                let default = action
                    .get(spec, "default")
                    .map_or(Value::Null, |d| action.value(d));
                inputs.push((name, default));
            }
        }
        if let Some(with) = yaml.get(step, "with") {
            for (name, value) in yaml.entries(with) {
                let value = yaml
                    .string(value)
                    .map_or(Value::Unknown, |t| Value::text(&expr::substitute(&t, ctx)));
                match inputs.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = value,
                    None => inputs.push((name, value)),
                }
            }
        }
        let inner = JobScope {
            scope: Scope {
                file,
                ..job.scope.clone()
            },
            ..job.clone()
        };
        self.step_list(
            &action,
            steps,
            &inner,
            &Value::object(inputs),
            state,
            depth + 1,
        );
    }

    /// A `run:` script: its build, tag and push commands.
    #[allow(clippy::too_many_arguments)]
    fn script(
        &mut self,
        text: &str,
        ctx: &Value,
        env: &[(String, Text)],
        dir: &str,
        line: usize,
        name: &str,
        job: &JobScope<'a>,
        state: &mut JobState,
    ) {
        let substituted = expr::substitute(text, ctx);
        let mut shell_env = runner_env(&job.scope);
        for (k, v) in env {
            shell_env.set(k, v.clone());
        }
        let mut cwd = dir.to_owned();
        let mut read = script::Read::default();
        script::read(
            substituted.as_marked(),
            &mut shell_env,
            &mut cwd,
            line,
            &mut read,
        );
        let acted = !read.events.is_empty();
        let make = |described: Described| build(job, described);
        let run = job.scope.run.clone();
        script::apply(
            read.events,
            &run,
            &mut self.builds,
            &mut state.builds,
            &mut self.pushes,
            &make,
        );
        let about_images = ["docker", "image", "push", "publish", "container"]
            .iter()
            .any(|w| name.to_ascii_lowercase().contains(w) || text.contains(w));
        if let Some((at, command)) = read.opaque
            && !acted
            && about_images
        {
            self.question(
                &job.scope.file.path,
                at,
                format!(
                    "job {} runs `{command}`, which may build images in a way not read here",
                    job.label
                ),
            );
        }
    }

    /// Records a described build for this job and run.
    fn record(&mut self, job: &JobScope<'_>, described: Described, state: &mut JobState) {
        let build = build(job, described);
        state.builds.push(self.builds.len());
        self.builds.push(build);
    }
}

/// The build a described build is for this job and run.
fn build(job: &JobScope<'_>, described: Described) -> Build {
    let dockerfile = described
        .dockerfile
        .unwrap_or_else(|| path::child(&described.context, "Dockerfile"));
    let run = job.scope.run.clone();
    Build {
        file: job.scope.file.path.clone(),
        line: described.line,
        job: job.label.clone(),
        tool: described.tool,
        context: described.context,
        dockerfile,
        target: described.target,
        platforms: described.platforms,
        build_args: described.build_args,
        tags: described
            .tags
            .into_iter()
            .map(|image| Tag {
                image: with_latest(&image),
                run: run.clone(),
            })
            .collect(),
        pushed: described.pushed,
        combination: job.combination.clone(),
        started: job.scope.started.clone(),
        questions: described.questions,
    }
}

/// The environment a `run:` step starts with on the runner (the `GITHUB_*` defaults).
fn runner_env(scope: &Scope<'_>) -> Env {
    let mut env = Env::new();
    let github = &scope.github;
    let text = |v: Value| {
        v.to_text()
            .map_or_else(|| Text::unknown("$GITHUB_…"), Text::from_marked)
    };
    env.set("CI", Text::known("true"));
    env.set("GITHUB_ACTIONS", Text::known("true"));
    env.set("GITHUB_WORKSPACE", Text::known("."));
    for (var, field) in [
        ("GITHUB_REPOSITORY", "repository"),
        ("GITHUB_REPOSITORY_OWNER", "repository_owner"),
        ("GITHUB_REF", "ref"),
        ("GITHUB_REF_NAME", "ref_name"),
        ("GITHUB_REF_TYPE", "ref_type"),
        ("GITHUB_EVENT_NAME", "event_name"),
    ] {
        let value = github.field(field);
        if !matches!(value, Value::Unknown) {
            env.set(var, text(value));
        }
    }
    env
}
