//! Stateful fakes of the GitHub, GitLab and Gitea REST APIs on 127.0.0.1, for the forge
//! tests. Each fake hosts one repository, keeps its branches and pull requests, answers
//! as the forge's documentation says (status codes, JSON shapes, pagination headers,
//! error bodies), and checks every request against that documentation: method and path,
//! query parameters, JSON fields (required and allowed), auth header and user agent. A
//! request that breaks the contract gets a 400 and is recorded as a violation; tests end
//! with `assert_clean`. Faults (any answer, for a method and path, n times) come first.
#![allow(dead_code, unreachable_pub)]

pub mod gitea;
pub mod github;
pub mod gitlab;
mod server;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use strata::forge::{Forge, ForgeConfig, ForgeKind};

pub use server::{Answer, FakeServer, Recorded};

/// The token every fake accepts.
pub const TOKEN: &str = "test-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Open,
    Closed,
    Merged,
}

/// A pull request as the fake keeps it.
#[derive(Debug, Clone)]
pub struct Pull {
    pub number: u64,
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub state: State,
    pub labels: Vec<String>,
    pub comments: Vec<String>,
    /// Opened from a fork's branch of the same name.
    pub fork: bool,
}

/// A check run as the fake keeps it (GitHub).
#[derive(Debug, Clone)]
pub struct CheckRunRecord {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    pub conclusion: Option<String>,
    pub annotations: Vec<Value>,
}

struct Fault {
    method: String,
    path_contains: String,
    remaining: usize,
    answer: Answer,
}

/// The fake forge's state.
pub struct Model {
    pub repo: String,
    pub default_branch: String,
    pub branches: Vec<String>,
    pub pulls: Vec<Pull>,
    pub violations: Vec<String>,
    /// The server's page size cap (smaller than what clients ask, to force pagination).
    pub page_size: usize,
    /// Whether listings carry `Link` headers (GitLab can be told to send `X-Next-Page`
    /// alone, as it does for keyset-less listings past its counting limit).
    pub page_links: bool,
    pub token: String,
    /// Repository labels (Gitea): id, name.
    pub labels: Vec<(u64, String)>,
    pub check_runs: Vec<CheckRunRecord>,
    /// Pull requests with auto-merge on, and the merge method asked for.
    pub auto_merge: Vec<(u64, Option<String>)>,
    /// How auto-merge behaves: `Some(d)`, required checks pass `d` after it is turned
    /// on, then the forge merges; `None`, no checks are pending, so the forge refuses
    /// auto-merge as GitHub does ("clean status") and the pull request is mergeable now.
    pub checks_pass_after: Option<Duration>,
    /// The real repository the forge hosts (a bare git repository): branches are read
    /// from it, and merges are made in it (pushed, so its hooks run, as a forge's merge
    /// fires its push events).
    pub git_dir: Option<PathBuf>,
    /// Pull requests whose delayed merge is done (marked merged at the next request).
    settled: Arc<Mutex<Vec<u64>>>,
    faults: Vec<Fault>,
}

impl Model {
    pub fn new(repo: &str) -> Model {
        Model {
            repo: repo.to_owned(),
            default_branch: "main".into(),
            branches: vec!["main".into()],
            pulls: Vec::new(),
            violations: Vec::new(),
            page_size: 100,
            page_links: true,
            token: TOKEN.into(),
            labels: Vec::new(),
            check_runs: Vec::new(),
            auto_merge: Vec::new(),
            checks_pass_after: Some(Duration::from_millis(50)),
            git_dir: None,
            settled: Arc::default(),
            faults: Vec::new(),
        }
    }

    /// Whether the repository has `branch` (the list, or the real repository).
    pub fn has_branch(&self, branch: &str) -> bool {
        if self.branches.iter().any(|b| b == branch) {
            return true;
        }
        let Some(dir) = &self.git_dir else {
            return false;
        };
        std::process::Command::new("git")
            .arg("--git-dir")
            .arg(dir)
            .args(["rev-parse", "--verify", "-q"])
            .arg(format!("refs/heads/{branch}"))
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Merges pull request `number` as the forge does: its head merged into its base in
    /// the real repository (when there is one), then the pull request marked merged.
    /// `after`: the checks still run that long first; the merge then happens on a
    /// thread, and the pull request stays open until it is done.
    pub fn merge(&mut self, number: u64, after: Option<Duration>) -> Result<(), String> {
        self.sync();
        let Some(pull) = self.pull_mut(number) else {
            return Err("no such pull request".into());
        };
        if pull.state != State::Open {
            return Err("the pull request is not open".into());
        }
        let (head, base) = (pull.head.clone(), pull.base.clone());
        let dir = self.git_dir.clone();
        let work = move || match &dir {
            Some(dir) => git_merge(dir, &head, &base, number),
            None => Ok(()),
        };
        match after {
            None => {
                work()?;
                if let Some(pull) = self.pull_mut(number) {
                    pull.state = State::Merged;
                }
                Ok(())
            }
            Some(delay) => {
                let settled = Arc::clone(&self.settled);
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    match work() {
                        Ok(()) => settled.lock().unwrap().push(number),
                        Err(e) => eprintln!("fake forge merge of #{number}: {e}"),
                    }
                });
                Ok(())
            }
        }
    }

    /// Marks the pull requests whose delayed merge finished as merged.
    pub fn sync(&mut self) {
        let done: Vec<u64> = std::mem::take(&mut *self.settled.lock().unwrap());
        for number in done {
            if let Some(pull) = self.pull_mut(number) {
                pull.state = State::Merged;
            }
        }
    }

    /// The injected answer for `req`, if one is pending (every route asks first, so
    /// delayed merges are brought in here too).
    pub fn take_fault(&mut self, req: &Recorded) -> Option<Answer> {
        self.sync();
        let fault = self.faults.iter_mut().find(|fault| {
            fault.remaining > 0
                && fault.method == req.method
                && req.path.contains(&fault.path_contains)
        })?;
        fault.remaining -= 1;
        Some(fault.answer.clone())
    }

    /// Records a contract violation and answers 400.
    pub fn violation(&mut self, req: &Recorded, text: &str) -> Answer {
        let text = format!("{}: {text}", req.line());
        self.violations.push(text.clone());
        Answer::json(
            400,
            serde_json::json!({ "message": format!("fake: {text}") }),
        )
    }

    /// The JSON object body, with `required` fields present and no field outside
    /// `required` + `allowed`; a violation otherwise.
    pub fn body(
        &mut self,
        req: &Recorded,
        required: &[&str],
        allowed: &[&str],
    ) -> Result<Map<String, Value>, Answer> {
        if req.header("content-type") != Some("application/json") {
            return Err(self.violation(req, "body is not sent as application/json"));
        }
        let Value::Object(fields) = req.json() else {
            return Err(self.violation(req, "body is not a JSON object"));
        };
        if let Some(missing) = required.iter().find(|key| !fields.contains_key(**key)) {
            return Err(self.violation(req, &format!("required field {missing} missing")));
        }
        if let Some(extra) = fields
            .keys()
            .find(|key| !required.contains(&key.as_str()) && !allowed.contains(&key.as_str()))
        {
            return Err(self.violation(req, &format!("undocumented field {extra}")));
        }
        Ok(fields)
    }

    /// Checks that every query parameter is documented for the endpoint.
    pub fn query(&mut self, req: &Recorded, allowed: &[&str]) -> Result<(), Answer> {
        match req
            .query
            .iter()
            .find(|(key, _)| !allowed.contains(&key.as_str()))
        {
            Some((key, _)) => Err(self.violation(req, &format!("undocumented query {key}"))),
            None => Ok(()),
        }
    }

    /// Opens a pull request directly (seeding), returning its number.
    pub fn add_pull(&mut self, head: &str, title: &str, body: &str, fork: bool) -> u64 {
        let number = self.pulls.len() as u64 + 1;
        let base = self.default_branch.clone();
        self.pulls.push(Pull {
            number,
            head: head.into(),
            base,
            title: title.into(),
            body: body.into(),
            state: State::Open,
            labels: Vec::new(),
            comments: Vec::new(),
            fork,
        });
        number
    }

    pub fn pull_mut(&mut self, number: u64) -> Option<&mut Pull> {
        self.pulls.iter_mut().find(|pull| pull.number == number)
    }
}

/// Merges `head` into `base` in the bare repository `dir` (a merge commit, as a forge's
/// merge button makes) and pushes the result to it, so its `post-receive` hook runs.
fn git_merge(dir: &std::path::Path, head: &str, base: &str, number: u64) -> Result<(), String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let run = |args: &[&str]| -> Result<(), String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(work.path())
            .env("GIT_AUTHOR_NAME", "forge")
            .env("GIT_AUTHOR_EMAIL", "forge@example.com")
            .env("GIT_COMMITTER_NAME", "forge")
            .env("GIT_COMMITTER_EMAIL", "forge@example.com")
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "git {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let source = dir.to_string_lossy().into_owned();
    run(&["clone", "-q", "--branch", base, &source, "."])?;
    run(&["fetch", "-q", "origin", head])?;
    let message = format!("Merge pull request #{number} from {head}");
    run(&["merge", "-q", "--no-ff", "-m", &message, "FETCH_HEAD"])?;
    run(&["push", "-q", "origin", &format!("HEAD:refs/heads/{base}")])
}

/// Several fake GitHub repositories behind one API address, as an organisation has:
/// requests go to the repository their path (or GraphQL node id) names.
pub struct GitHubFarm {
    pub server: FakeServer,
    pub models: BTreeMap<String, Arc<Mutex<Model>>>,
}

impl GitHubFarm {
    /// Starts a farm hosting `repos` (`owner/name`), each with `git_dir` when given.
    pub async fn start(repos: &[(&str, Option<PathBuf>)]) -> GitHubFarm {
        let mut models = BTreeMap::new();
        for (repo, git_dir) in repos {
            let mut model = Model::new(repo);
            model.git_dir = git_dir.clone();
            models.insert((*repo).to_owned(), Arc::new(Mutex::new(model)));
        }
        let routed = models.clone();
        let server = FakeServer::start(move |req| {
            let repo = github::repository_of(req);
            let model = repo.and_then(|r| routed.get(&r)).or(routed.values().next());
            match model {
                Some(model) => github::route(&mut model.lock().unwrap(), req),
                None => Answer::json(404, serde_json::json!({"message": "Not Found"})),
            }
        })
        .await;
        GitHubFarm { server, models }
    }

    pub fn variables(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GITHUB_TOKEN", TOKEN.into()),
            ("GITHUB_API_URL", self.server.url()),
        ]
    }

    pub fn pulls(&self, repo: &str) -> Vec<Pull> {
        let mut model = self.models[repo].lock().unwrap();
        model.sync();
        model.pulls.clone()
    }

    pub fn assert_clean(&self) {
        for (repo, model) in &self.models {
            let violations = model.lock().unwrap().violations.clone();
            assert!(violations.is_empty(), "{repo}: {violations:#?}");
        }
    }
}

/// The slice of `len` items on 1-based `page` of `per_page`, the next page if any, and
/// the last page number.
pub fn page_of(len: usize, page: usize, per_page: usize) -> (Range<usize>, Option<usize>, usize) {
    let per_page = per_page.max(1);
    let last = len.div_ceil(per_page).max(1);
    let start = ((page.max(1) - 1) * per_page).min(len);
    let end = (start + per_page).min(len);
    let next = (page < last).then_some(page + 1);
    (start..end, next, last)
}

/// The URL of `req` on page `n` (other query parameters kept).
pub fn page_url(req: &Recorded, n: usize) -> String {
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| k != "page")
        .cloned()
        .collect();
    query.push(("page".into(), n.to_string()));
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{}{}?{}", req.base, req.path, encoded)
}

/// Adds RFC 8288 `Link` next/last entries when there is a next page.
pub fn with_links(answer: Answer, req: &Recorded, next: Option<usize>, last: usize) -> Answer {
    match next {
        Some(next) => answer.with_header(
            "link",
            &format!(
                "<{}>; rel=\"next\", <{}>; rel=\"last\"",
                page_url(req, next),
                page_url(req, last)
            ),
        ),
        None => answer,
    }
}

/// A number from a query parameter, or `default`.
pub fn number(req: &Recorded, key: &str, default: usize) -> usize {
    req.query(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A running fake forge.
pub struct Fake {
    pub kind: ForgeKind,
    pub server: FakeServer,
    pub model: Arc<Mutex<Model>>,
}

impl Fake {
    /// Starts a fake `kind` hosting `repo` (with branch `main`).
    pub async fn start(kind: ForgeKind, repo: &str) -> Fake {
        let model = Arc::new(Mutex::new(Model::new(repo)));
        let state = Arc::clone(&model);
        let server = FakeServer::start(move |req| {
            let mut model = state.lock().unwrap();
            match kind {
                ForgeKind::GitHub => github::route(&mut model, req),
                ForgeKind::GitLab => gitlab::route(&mut model, req),
                ForgeKind::Gitea => gitea::route(&mut model, req),
            }
        })
        .await;
        Fake {
            kind,
            server,
            model,
        }
    }

    /// The variables the CLI would read, pointing at this fake.
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        let url = self.server.url();
        match self.kind {
            ForgeKind::GitHub => vec![("GITHUB_TOKEN", TOKEN.into()), ("GITHUB_API_URL", url)],
            ForgeKind::GitLab => vec![("GITLAB_TOKEN", TOKEN.into()), ("GITLAB_API_URL", url)],
            ForgeKind::Gitea => vec![("GITEA_TOKEN", TOKEN.into()), ("GITEA_URL", url)],
        }
    }

    /// A configuration from [`Fake::variables`], with fast retries.
    pub fn config(&self) -> ForgeConfig {
        let vars = self.variables();
        let lookup = move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let mut config = ForgeConfig::from_variables(self.kind, lookup).unwrap();
        config.retry_base = Duration::from_millis(1);
        config
    }

    pub fn forge(&self) -> Box<dyn Forge> {
        strata::forge::connect(self.config()).unwrap()
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut Model) -> R) -> R {
        f(&mut self.model.lock().unwrap())
    }

    pub fn pulls(&self) -> Vec<Pull> {
        self.with(|m| {
            m.sync();
            m.pulls.clone()
        })
    }

    pub fn push_branch(&self, name: &str) {
        self.with(|m| m.branches.push(name.into()));
    }

    /// Answers `answer` to the next `times` requests of `method` whose path contains
    /// `path_contains`.
    pub fn fail(&self, method: &str, path_contains: &str, times: usize, answer: Answer) {
        self.with(|m| {
            m.faults.push(Fault {
                method: method.into(),
                path_contains: path_contains.into(),
                remaining: times,
                answer,
            })
        });
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }

    /// How many requests of `method` had a path ending in `suffix`.
    pub fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }

    /// Panics with the violations, if any request broke the documented contract.
    pub fn assert_clean(&self) {
        let violations = self.with(|m| m.violations.clone());
        assert!(
            violations.is_empty(),
            "contract violations: {violations:#?}"
        );
        for req in self.requests() {
            let agent = req.header("user-agent").unwrap_or("");
            assert!(
                agent.starts_with("strata/"),
                "user agent {agent:?} on {}",
                req.line()
            );
        }
    }
}
