//! `strata update --commit`, `--push` and `--pr` on a folder that is no git repository
//! but holds several (`services/api`, `services/web`): branches per repository with
//! exactly that repository's change, working trees untouched, a refused or rejected
//! repository that stops no other, one pull request per repository on its own forge
//! repository, `--repo` refused, and files in no repository reported.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod forge_support;
mod pin_support;
mod update_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use forge_support::{FakeServer, Model, TOKEN, github};
use serde_json::Value;
use update_support::{Registry, Workspace, assert_code, changed_lines, fill};

const API: &str = "services/api";
const WEB: &str = "services/web";
const BRANCH: &str = "strata/python-3.12";

/// Each repository's files (relative to it), as templates.
const FILES: [(&str, &[(&str, &str)]); 2] = [
    (
        API,
        &[
            (
                "Dockerfile",
                "FROM python:3.12@{python}\nRUN pip install api\n",
            ),
            (
                "deploy/compose.yaml",
                "services:\n  db:\n    image: \"debian:bookworm@{debian}\"\n  api:\n    image: \"python:3.12@{python}\"\n",
            ),
        ],
    ),
    (
        WEB,
        &[(
            "Dockerfile",
            "ARG BASE=python:3.12@{python}\nFROM $BASE\nCOPY . /app\n",
        )],
    ),
];

struct Setup {
    registry: Registry,
    ws: Workspace,
    old: BTreeMap<&'static str, String>,
    new: BTreeMap<&'static str, String>,
}

/// Two committed repositories pinned to the first digests of python:3.12 (both) and
/// debian:bookworm (api only), plus `loose` files in no repository; then the tags in
/// `moves` move.
async fn setup(moves: &[&'static str], loose: &[(&str, &str)]) -> Setup {
    let registry = Registry::start().await;
    let mut old = BTreeMap::new();
    old.insert("python", registry.image("library/python", "3.12").await);
    old.insert("debian", registry.image("library/debian", "bookworm").await);
    let ws = Workspace::new();
    for (name, _) in FILES {
        ws.repo(name, &texts(name, &old));
    }
    let loose: Vec<(&str, String)> = loose.iter().map(|(p, t)| (*p, fill(t, &old))).collect();
    ws.write(&loose);
    let mut new = old.clone();
    for mark in moves {
        let repo = format!("library/{mark}");
        let tag = if *mark == "python" {
            "3.12"
        } else {
            "bookworm"
        };
        new.insert(*mark, registry.image(&repo, tag).await);
    }
    Setup {
        registry,
        ws,
        old,
        new,
    }
}

/// The files of repository `name` (relative to it) with `digests` filled in.
fn texts(name: &str, digests: &BTreeMap<&str, String>) -> Vec<(&'static str, String)> {
    let (_, files) = FILES.iter().find(|(n, _)| *n == name).unwrap();
    files.iter().map(|(p, t)| (*p, fill(t, digests))).collect()
}

impl Setup {
    async fn update(&self, extra: &[&str], env: &[(&str, String)]) -> pin_support::Run {
        let mut args = vec!["update"];
        args.extend_from_slice(extra);
        self.ws.strata(&self.registry.args(&args), env).await
    }

    /// The old digests with `moved` taken from the new ones.
    fn mix(&self, moved: &[&'static str]) -> BTreeMap<&'static str, String> {
        let mut out = self.old.clone();
        for mark in moved {
            out.insert(mark, self.new[mark].clone());
        }
        out
    }

    /// Repository `name`'s files as `revision` has them.
    fn files_at(&self, name: &str, revision: &str) -> Vec<(&'static str, String)> {
        texts(name, &self.old)
            .into_iter()
            .map(|(path, _)| {
                let spec = format!("{revision}:{path}");
                (path, self.ws.git(name, &["show", &spec]))
            })
            .collect()
    }

    /// Repository `name`'s files as the working tree has them.
    fn working_tree(&self, name: &str) -> Vec<(&'static str, String)> {
        texts(name, &self.old)
            .into_iter()
            .map(|(path, _)| (path, self.ws.read(&format!("{name}/{path}"))))
            .collect()
    }

    /// Asserts `branch` of `name` is one commit on `main` changing exactly `moved`'s
    /// digests, and the working tree, index and HEAD are as they were.
    fn assert_branch(&self, name: &str, branch: &str, moved: &[&'static str]) {
        assert_eq!(
            self.files_at(name, branch),
            texts(name, &self.mix(moved)),
            "{name} {branch}"
        );
        let range = format!("main..{branch}");
        let count = self.ws.git(name, &["rev-list", "--count", &range]);
        assert_eq!(count.trim(), "1", "{name} {branch}");
        let (removed, added) = changed_lines(&self.ws.git(name, &["diff", "main", branch]));
        assert_eq!(removed.len(), added.len(), "{name} {branch}");
        for (before, after) in removed.iter().zip(&added) {
            let expected = moved.iter().fold(before.clone(), |line, mark| {
                line.replace(&self.old[mark], &self.new[mark])
            });
            assert_eq!(expected, *after, "{name} {branch}");
        }
        assert_eq!(self.working_tree(name), texts(name, &self.old), "{name}");
        assert_eq!(self.ws.git(name, &["status", "--porcelain"]), "", "{name}");
        let head = self.ws.git(name, &["symbolic-ref", "--short", "HEAD"]);
        assert_eq!(head.trim(), "main");
    }
}

/// `(repository, branch, status)` of each group of a JSON report.
fn groups(doc: &Value) -> Vec<(String, String, String)> {
    doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["repository"].as_str().unwrap().to_owned(),
                g["branch"].as_str().unwrap().to_owned(),
                g["status"].as_str().unwrap_or("failed").to_owned(),
            )
        })
        .collect()
}

fn triples(rows: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    rows.iter()
        .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
        .collect()
}

#[tokio::test]
async fn each_repository_gets_its_own_branches_with_exactly_its_change() {
    let s = setup(&["python", "debian"], &[]).await;
    let mains = [s.ws.rev(API, "main"), s.ws.rev(WEB, "main")];
    let run = s.update(&["--commit", "--format", "json"], &[]).await;
    assert_code(&run, 0);
    let doc = run.json();
    assert_eq!(
        groups(&doc),
        triples(&[
            (API, "strata/debian-bookworm", "created"),
            (API, BRANCH, "created"),
            (WEB, BRANCH, "created"),
        ])
    );
    assert_eq!(doc["committed"], true);
    assert_eq!(doc["errors"], serde_json::json!([]));
    // Each change set holds its own repository's files only.
    let files: Vec<&Value> = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["moves"][0]["files"])
        .collect();
    assert_eq!(
        files,
        [
            &serde_json::json!(["services/api/deploy/compose.yaml"]),
            &serde_json::json!([
                "services/api/Dockerfile",
                "services/api/deploy/compose.yaml"
            ]),
            &serde_json::json!(["services/web/Dockerfile"]),
        ]
    );
    assert_eq!(s.ws.branches(API), ["strata/debian-bookworm", BRANCH]);
    assert_eq!(s.ws.branches(WEB), [BRANCH]);
    s.assert_branch(API, BRANCH, &["python"]);
    s.assert_branch(API, "strata/debian-bookworm", &["debian"]);
    s.assert_branch(WEB, BRANCH, &["python"]);
    assert_eq!([s.ws.rev(API, "main"), s.ws.rev(WEB, "main")], mains);

    // Again, as a table: every branch found as it is, each named with its repository.
    let again = s.update(&["--commit"], &[]).await;
    assert_code(&again, 0);
    let out = &again.stdout;
    assert!(out.contains("REPOSITORY"), "{out}");
    assert!(
        out.contains("3 branches in 2 repositories (0 created, 0 updated, 3 unchanged)"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.starts_with(&format!("{WEB}  ")))
        .unwrap();
    assert!(row.contains(BRANCH) && row.contains("unchanged"), "{out}");
}

#[tokio::test]
async fn a_dirty_repository_is_refused_and_the_other_is_committed() {
    let s = setup(&["python"], &[]).await;
    // Still pinning the moved tag, with uncommitted work beside it.
    let dirty = fill(
        "ARG BASE=python:3.12@{python}\nFROM $BASE\nCOPY . /srv\n",
        &s.old,
    );
    s.ws.write(&[(&format!("{WEB}/Dockerfile"), dirty.clone())]);
    let run = s.update(&["--commit"], &[]).await;
    assert_code(&run, 2);
    assert_eq!(s.ws.branches(API), [BRANCH]);
    s.assert_branch(API, BRANCH, &["python"]);
    assert!(s.ws.branches(WEB).is_empty());
    assert_eq!(s.ws.read(&format!("{WEB}/Dockerfile")), dirty);
    let out = &run.stdout;
    let failed = out
        .lines()
        .find(|l| l.starts_with(&format!("{WEB} {BRANCH}")))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(failed.contains("uncommitted changes"), "{out}");
    assert!(
        out.contains("2 branches in 2 repositories (1 created, 0 updated, 0 unchanged)"),
        "{out}"
    );
}

#[tokio::test]
async fn a_rejected_push_stops_no_other_repository() {
    let s = setup(&["python"], &[]).await;
    // web's origin refuses every push.
    let hook = s.ws.dir.path().join("origins/web.git/hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'no pushes here' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let run = s.update(&["--push", "--format", "json"], &[]).await;
    assert_code(&run, 2);
    let doc = run.json();
    let [api, web] = doc["groups"].as_array().unwrap().as_slice() else {
        panic!("{doc:#}");
    };
    assert_eq!(
        (&api["repository"], &api["pushed"]),
        (&API.into(), &true.into())
    );
    assert_eq!(s.ws.origin_rev(API, BRANCH), s.ws.rev(API, BRANCH));
    assert_eq!(web["repository"], WEB);
    let error = web["error"].as_str().unwrap();
    assert!(
        error.contains("pushing strata/python-3.12 to origin"),
        "{error}"
    );
    assert_eq!(s.ws.origin_rev(WEB, BRANCH), None);
    assert_eq!(doc["summary"]["groups_failed"], 1);
}

/// A fake GitHub hosting several repositories at one address, one model each.
struct Forges {
    server: FakeServer,
    models: Vec<Arc<Mutex<Model>>>,
}

impl Forges {
    async fn start(slugs: &[&str], branch: &str) -> Forges {
        let models: Vec<Arc<Mutex<Model>>> = slugs
            .iter()
            .map(|slug| {
                let mut model = Model::new(slug);
                model.branches.push(branch.into());
                Arc::new(Mutex::new(model))
            })
            .collect();
        let shared = models.clone();
        let server = FakeServer::start(move |req| {
            // `/repos/<owner>/<name>/…`: the model of that repository, else the first
            // (which answers 404 for a repository it does not host).
            let slug = req.segments().get(1..3).map(|s| s.join("/"));
            let model = shared
                .iter()
                .find(|m| Some(&m.lock().unwrap().repo) == slug.as_ref())
                .unwrap_or(&shared[0]);
            github::route(&mut model.lock().unwrap(), req)
        })
        .await;
        Forges { server, models }
    }

    fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_TOKEN", TOKEN.into()),
            ("GITHUB_API_URL", self.server.url()),
        ]
    }

    fn model(&self, slug: &str) -> std::sync::MutexGuard<'_, Model> {
        let model = self
            .models
            .iter()
            .find(|m| m.lock().unwrap().repo == slug)
            .unwrap();
        model.lock().unwrap()
    }
}

#[tokio::test]
async fn one_pull_request_per_repository_on_its_own_forge_repository() {
    let s = setup(&["python"], &[]).await;
    let forges = Forges::start(&["acme/api", "acme/web"], BRANCH).await;
    let env = forges.variables();

    // --repo names one repository: refused before anything is done.
    let refused = s
        .update(&["--pr", "github", "--repo", "acme/api"], &env)
        .await;
    assert_code(&refused, 2);
    assert!(
        refused
            .stderr
            .contains("--repo acme/api names one forge repository"),
        "{}",
        refused.stderr
    );
    assert!(s.ws.branches(API).is_empty() && s.ws.branches(WEB).is_empty());
    assert!(forges.server.requests().is_empty());

    let run = s
        .update(&["--pr", "github", "--format", "json"], &env)
        .await;
    assert_code(&run, 0);
    let doc = run.json();
    for (name, slug, files) in [
        (
            API,
            "acme/api",
            "- `Dockerfile` line 1\n- `deploy/compose.yaml` line 5\n",
        ),
        (WEB, "acme/web", "- `Dockerfile` line 2\n"),
    ] {
        let model = forges.model(slug);
        assert!(model.violations.is_empty(), "{:#?}", model.violations);
        let [pull] = model.pulls.as_slice() else {
            panic!("{slug}: {} pull requests", model.pulls.len());
        };
        assert_eq!((pull.head.as_str(), pull.base.as_str()), (BRANCH, "main"));
        assert!(pull.body.contains(files), "{slug}: {}", pull.body);
        assert_eq!(s.ws.origin_rev(name, BRANCH), s.ws.rev(name, BRANCH));
        s.assert_branch(name, BRANCH, &["python"]);
        let group = doc["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["repository"] == name)
            .unwrap();
        assert_eq!(group["pull_request"]["outcome"], "created");
        let url = group["pull_request"]["url"].as_str().unwrap();
        assert!(url.contains(&format!("/{slug}/pull/")), "{url}");
    }
    for req in forges.server.requests() {
        let agent = req.header("user-agent").unwrap_or("");
        assert!(agent.starts_with("strata/"), "{}", req.line());
    }
}

#[tokio::test]
async fn files_in_no_repository_are_an_error_when_committing_and_updated_in_place() {
    let loose = [("tools/Dockerfile", "FROM python:3.12@{python}\n")];
    let s = setup(&["python"], &loose).await;
    let run = s.update(&["--commit", "--format", "json"], &[]).await;
    assert_code(&run, 2);
    let doc = run.json();
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["file"], "tools/Dockerfile");
    assert_eq!(errors[0]["line"], 1);
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("tools/Dockerfile is in no git repository"),
        "{message}"
    );
    assert_eq!(
        groups(&doc),
        triples(&[(API, BRANCH, "created"), (WEB, BRANCH, "created")])
    );
    assert_eq!(s.ws.read("tools/Dockerfile"), fill(loose[0].1, &s.old));

    // In place, the same file is simply rewritten (with the repositories' files).
    let in_place = s.update(&[], &[]).await;
    assert_code(&in_place, 0);
    assert_eq!(s.ws.read("tools/Dockerfile"), fill(loose[0].1, &s.new));
    assert_eq!(s.working_tree(WEB), texts(WEB, &s.new));
}
