//! The GitHub Action (`action.yml`, a composite action): valid against the action
//! metadata schema (SchemaStore's `github-action.json`), and run the way the runner runs
//! it — inputs with their defaults, each step's `if:` and `env:` evaluated, its `run:`
//! in `bash --noprofile --norc -eo pipefail`, a fresh `GITHUB_OUTPUT`,
//! `GITHUB_STEP_SUMMARY`, `GITHUB_ENV` and `GITHUB_PATH` per step (what a step writes
//! to the last two reaches the steps after it), the action's outputs from its steps'.
//! A pull request check with annotations, SARIF and a job summary; a scheduled update
//! opening a pull request on the forge fake.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod forge_support;
mod pin_support;
mod update_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use forge_support::Fake;
use serde_json::Value as Json;
use strata::forge::ForgeKind;
use strata_core::ci::expr::{self, Value};
use strata_core::ci::text::Text;
use update_support::{GitRepo, Registry};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn action() -> Json {
    let text = std::fs::read_to_string(repository_root().join("action.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

#[test]
fn action_yml_is_valid_action_metadata() {
    let schema: Json =
        serde_json::from_str(include_str!("action_support/github-action.schema.json")).unwrap();
    let validator = jsonschema::draft7::options().build(&schema).unwrap();
    let action = action();
    let errors: Vec<String> = validator
        .iter_errors(&action)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The outputs the documentation promises.
    for output in ["findings", "moved", "sarif-file"] {
        assert!(
            action["outputs"][output]["description"].is_string(),
            "{output}"
        );
    }
    // Every script a step runs is in the repository and executable.
    for step in action["runs"]["steps"].as_array().unwrap() {
        let run = step["run"].as_str().unwrap();
        let script = run
            .trim_matches(['"', '\''])
            .replace("$GITHUB_ACTION_PATH/", "");
        let path = repository_root().join(script.trim_matches('"'));
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert!(mode & 0o111 != 0, "{} is not executable", path.display());
    }
}

/// What one step did.
#[derive(Debug)]
struct StepRun {
    id: String,
    code: i32,
    stdout: String,
    stderr: String,
    summary: String,
}

/// What running the action did.
#[derive(Debug)]
struct ActionRun {
    steps: Vec<StepRun>,
    outputs: BTreeMap<String, String>,
    /// Steps skipped by their `if:`.
    skipped: Vec<String>,
    failed: bool,
}

impl ActionRun {
    fn step(&self, id: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("{id} did not run: {self:#?}"))
    }
}

/// Parses a `GITHUB_OUTPUT`/`GITHUB_ENV` file: `name=value` lines and `name<<DELIM`
/// heredocs (docs.github.com, "Workflow commands for GitHub Actions").
fn key_values(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for inner in lines.by_ref() {
                if inner == delimiter {
                    break;
                }
                value.push(inner);
            }
            out.push((name.to_owned(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

fn text_of(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        other => other.to_string(),
    }
}

/// Runs the composite action in `workspace` for `event` with `inputs`, as the runner
/// does; `env` is the job's environment.
fn run_action(
    workspace: &Path,
    event: &str,
    inputs: &[(&str, &str)],
    env: &[(&str, String)],
) -> ActionRun {
    let action = action();
    let temp = tempfile::tempdir().unwrap();
    let github = Value::open_object(vec![
        ("event_name".into(), Value::string(event)),
        ("repository".into(), Value::string("acme/app")),
        ("token".into(), Value::string("t0ken")),
        (
            "workspace".into(),
            Value::string(workspace.to_str().unwrap()),
        ),
    ]);
    let context = |inputs: &Value, steps: &Value| {
        Value::open_object(vec![
            ("github".into(), github.clone()),
            ("inputs".into(), inputs.clone()),
            ("steps".into(), steps.clone()),
        ])
    };
    let mut input_values: Vec<(String, Value)> = Vec::new();
    for (name, spec) in action["inputs"].as_object().unwrap() {
        let given = inputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| (*v).to_owned());
        let value = given.unwrap_or_else(|| {
            let default = text_of(&spec["default"]);
            let empty = Value::object(Vec::new());
            expr::substitute(&default, &context(&empty, &empty)).display()
        });
        input_values.push((name.clone(), Value::string(&value)));
    }
    let inputs_value = Value::object(input_values);
    let strata_dir = Path::new(env!("CARGO_BIN_EXE_strata"))
        .parent()
        .unwrap()
        .to_path_buf();
    let mut path_dirs: Vec<PathBuf> = vec![strata_dir];
    path_dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut job_env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let mut steps_value: Vec<(String, Value)> = Vec::new();
    let mut run = ActionRun {
        steps: Vec::new(),
        outputs: BTreeMap::new(),
        skipped: Vec::new(),
        failed: false,
    };
    for (index, step) in action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let id = step["id"]
            .as_str()
            .map_or_else(|| format!("step{index}"), str::to_owned);
        let ctx = context(&inputs_value, &Value::object(steps_value.clone()));
        let wanted = match step["if"].as_str() {
            Some(condition) => expr::condition(condition, &ctx) == Some(true),
            None => true,
        };
        if !wanted || run.failed {
            run.skipped.push(id);
            continue;
        }
        assert_eq!(step["shell"], "bash");
        let files: BTreeMap<&str, PathBuf> = [
            "GITHUB_OUTPUT",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_ENV",
            "GITHUB_PATH",
        ]
        .into_iter()
        .map(|name| {
            let path = temp.path().join(format!("{index}-{name}"));
            std::fs::write(&path, "").unwrap();
            (name, path)
        })
        .collect();
        let script = temp.path().join(format!("{index}.sh"));
        std::fs::write(
            &script,
            expr::substitute(step["run"].as_str().unwrap(), &ctx).display(),
        )
        .unwrap();
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(workspace)
            .env_clear()
            .env("PATH", std::env::join_paths(&path_dirs).unwrap())
            .env("HOME", temp.path().join("home"))
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", repository_root())
            .env("GITHUB_WORKSPACE", workspace)
            .env("GITHUB_EVENT_NAME", event)
            .env("RUNNER_TEMP", temp.path())
            .env("RUNNER_TOOL_CACHE", temp.path().join("tools"));
        for (name, path) in &files {
            command.env(name, path);
        }
        for (name, value) in &job_env {
            command.env(name, value);
        }
        if let Some(step_env) = step["env"].as_object() {
            for (name, value) in step_env {
                command.env(name, expr::substitute(&text_of(value), &ctx).display());
            }
        }
        let output = command.output().unwrap();
        let read = |name: &str| std::fs::read_to_string(&files[name]).unwrap();
        let outputs: Vec<(String, Value)> = key_values(&read("GITHUB_OUTPUT"))
            .into_iter()
            .map(|(k, v)| (k, Value::string(&v)))
            .collect();
        steps_value.push((
            id.clone(),
            Value::object(vec![("outputs".into(), Value::object(outputs))]),
        ));
        job_env.extend(key_values(&read("GITHUB_ENV")));
        for line in read("GITHUB_PATH").lines().rev() {
            path_dirs.insert(0, PathBuf::from(line));
        }
        let code = output.status.code().unwrap_or(-1);
        run.failed = code != 0;
        run.steps.push(StepRun {
            id,
            code,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            summary: read("GITHUB_STEP_SUMMARY"),
        });
    }
    let ctx = context(&inputs_value, &Value::object(steps_value));
    for (name, spec) in action["outputs"].as_object().unwrap() {
        let value: Text = expr::substitute(&text_of(&spec["value"]), &ctx);
        run.outputs.insert(name.clone(), value.display());
    }
    run
}

fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    dir
}

#[test]
fn a_pull_request_check_annotates_writes_sarif_and_a_summary() {
    let dir = workspace(&[
        (
            "Dockerfile",
            "FROM registry.invalid/team/base:1\nRUN true\n",
        ),
        (
            "ok/Dockerfile",
            &format!(
                "FROM registry.invalid/team/base:1@sha256:{}\n",
                "cd".repeat(32)
            ),
        ),
    ]);
    let run = run_action(dir.path(), "pull_request", &[("offline", "true")], &[]);
    assert!(run.failed, "an error finding fails the step: {run:#?}");
    assert_eq!(run.skipped, ["update"]);
    let install = run.step("step0");
    assert_eq!(install.code, 0, "{}", install.stderr);
    assert!(install.stdout.starts_with("strata "), "{}", install.stdout);
    let check = run.step("check");
    assert_eq!(check.code, 1, "{}", check.stderr);
    let annotations: Vec<&str> = check
        .stdout
        .lines()
        .filter(|l| l.starts_with("::"))
        .collect();
    assert_eq!(annotations.len(), 1, "{}", check.stdout);
    assert!(
        annotations[0].starts_with("::error file=Dockerfile,line=1,col=6,title=unpinned%3A "),
        "{}",
        annotations[0]
    );
    assert!(
        check.summary.contains("### ❌ strata check"),
        "{}",
        check.summary
    );
    assert!(
        check
            .summary
            .contains("| `Dockerfile:1:6` | error | [unpinned]("),
        "{}",
        check.summary
    );
    assert_eq!(run.outputs["findings"], "1");
    assert_eq!(run.outputs["sarif-file"], "strata.sarif");
    assert_eq!(run.outputs["moved"], "");
    let sarif: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("strata.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 1);
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "unpinned");

    let run = run_action(
        dir.path(),
        "pull_request",
        &[
            ("offline", "true"),
            ("fail-on-findings", "false"),
            ("sarif-file", "out/x.sarif"),
        ],
        &[],
    );
    assert!(!run.failed, "{run:#?}");
    assert_eq!(run.outputs["sarif-file"], "out/x.sarif");
    assert!(
        run.step("check")
            .stdout
            .contains("::notice title=strata::1 findings")
    );

    let clean = workspace(&[(
        "Dockerfile",
        &format!("FROM registry.invalid/t/b:1@sha256:{}\n", "ef".repeat(32)),
    )]);
    let run = run_action(clean.path(), "push", &[("offline", "true")], &[]);
    assert!(!run.failed, "{run:#?}");
    assert_eq!(run.outputs["findings"], "0");
    assert!(run.step("check").summary.contains("### ✅ strata check"));
}

// Several worker threads: the runner is emulated with blocking processes while the
// forge fake answers on the runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_run_updates_and_opens_a_pull_request() {
    let registry = Registry::start().await;
    let old = registry.image("library/python", "3.12").await;
    let mirrors = format!(
        "[registry.mirrors]\n\"docker.io\" = \"{}\"\n",
        registry.registry.host()
    );
    let repo = GitRepo::new(
        &[
            ("Dockerfile", format!("FROM python:3.12@{old}\n")),
            ("strata.toml", mirrors),
        ],
        true,
    );
    repo.add_origin();
    let new = registry.image("library/python", "3.12").await;
    let fake = Fake::start(ForgeKind::GitHub, "acme/app").await;
    fake.push_branch("strata/python-3.12");
    let mut env: Vec<(&str, String)> = fake.variables();
    env.retain(|(k, _)| *k != "GITHUB_TOKEN");
    let token = forge_support::TOKEN;
    env.push((
        "HOME",
        repo.dir.path().join("home").to_str().unwrap().to_owned(),
    ));
    env.push((
        "STRATA_CACHE_DIR",
        repo.dir.path().join("cache").to_str().unwrap().to_owned(),
    ));
    env.push(("STRATA_STATE", repo.state().to_str().unwrap().to_owned()));
    let run = run_action(&repo.root(), "schedule", &[("token", token)], &env);
    let update = run.step("update");
    assert_eq!(update.code, 0, "{}\n{}", update.stdout, update.stderr);
    assert_eq!(run.skipped, ["check"]);
    assert_eq!(run.outputs["moved"], "1");
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert!(
        update.summary.contains("**1 pin moved**"),
        "{}",
        update.summary
    );
    assert!(
        update.summary.contains("Pull requests:\n\n- http"),
        "{}",
        update.summary
    );
    assert_eq!(
        repo.origin_rev("strata/python-3.12"),
        repo.rev("strata/python-3.12")
    );
    let pinned = repo.git(&["show", "strata/python-3.12:Dockerfile"]);
    assert_eq!(pinned.trim(), format!("FROM python:3.12@{new}"));
}
