//! The GitHub REST v3 fake: repositories, pulls, issue comments and labels, check runs
//! (docs.github.com/rest, API version 2022-11-28).

use serde_json::{Value, json};

use super::{Answer, CheckRunRecord, Model, Pull, Recorded, State, number, page_of, with_links};

pub fn route(m: &mut Model, req: &Recorded) -> Answer {
    if req.header("accept") != Some("application/vnd.github+json") {
        return m.violation(req, "Accept is not application/vnd.github+json");
    }
    if req.header("x-github-api-version") != Some("2022-11-28") {
        return m.violation(req, "X-GitHub-Api-Version is not 2022-11-28");
    }
    if req.header("authorization") != Some(format!("Bearer {}", m.token).as_str()) {
        let docs = "https://docs.github.com/rest";
        return Answer::json(
            401,
            json!({"message": "Bad credentials", "documentation_url": docs}),
        );
    }
    if let Some(answer) = m.take_fault(req) {
        return answer;
    }
    let segments = req.segments();
    if segments.as_slice() == ["graphql"] && req.method == "POST" {
        return graphql(m, req);
    }
    let ["repos", owner, name, rest @ ..] = segments.as_slice() else {
        return m.violation(req, "undocumented endpoint");
    };
    if format!("{owner}/{name}") != m.repo {
        return not_found();
    }
    match (req.method.as_str(), rest) {
        ("GET", []) => Answer::json(
            200,
            json!({"full_name": m.repo, "default_branch": m.default_branch}),
        ),
        ("GET", ["pulls"]) => list(m, req),
        ("POST", ["pulls"]) => create(m, req),
        ("GET", ["pulls", n]) => match n.parse().ok().and_then(|n| m.pull_mut(n)) {
            Some(pull) => {
                let pull = pull.clone();
                Answer::json(200, pull_json(m, &req.base, &pull))
            }
            None => not_found(),
        },
        ("PATCH", ["pulls", n]) => edit(m, req, n),
        ("PUT", ["pulls", n, "merge"]) => merge(m, req, n),
        ("POST", ["issues", n, "comments"]) => comment(m, req, n),
        ("POST", ["issues", n, "labels"]) => label(m, req, n),
        ("POST", ["check-runs"]) => create_check_run(m, req),
        ("PATCH", ["check-runs", id]) => update_check_run(m, req, id),
        _ => m.violation(req, "undocumented endpoint"),
    }
}

fn not_found() -> Answer {
    let docs = "https://docs.github.com/rest";
    Answer::json(
        404,
        json!({"message": "Not Found", "documentation_url": docs}),
    )
}

fn validation_failed(errors: Value) -> Answer {
    Answer::json(
        422,
        json!({"message": "Validation Failed", "errors": errors,
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"}),
    )
}

/// The GraphQL node id of a pull request: `PR_<owner>/<name>#<number>` here (GitHub's
/// ids are opaque; ours carry the repository, so a farm can route by them).
pub fn node_id(repo: &str, number: u64) -> String {
    format!("PR_{repo}#{number}")
}

/// The repository a request is for: from its path, or its GraphQL node id.
pub fn repository_of(req: &Recorded) -> Option<String> {
    match req.segments().as_slice() {
        ["repos", owner, name, ..] => Some(format!("{owner}/{name}")),
        ["graphql"] => {
            let id = req.json()["variables"]["id"].as_str()?.to_owned();
            let (repo, _) = id.strip_prefix("PR_")?.rsplit_once('#')?;
            Some(repo.to_owned())
        }
        _ => None,
    }
}

/// `POST /graphql` with `enablePullRequestAutoMerge` (docs.github.com/graphql,
/// mutations#enablepullrequestautomerge): the only mutation strata sends. Errors come
/// back with HTTP 200 and an `errors` list, as GitHub's GraphQL API answers them.
fn graphql(m: &mut Model, req: &Recorded) -> Answer {
    let body = req.json();
    let query = body["query"].as_str().unwrap_or_default();
    if !query.contains("enablePullRequestAutoMerge") || !query.contains("pullRequestId") {
        return m.violation(req, "unexpected GraphQL document");
    }
    let method = body["variables"]["method"].as_str().map(str::to_owned);
    if method
        .as_deref()
        .is_some_and(|m| !["MERGE", "SQUASH", "REBASE"].contains(&m))
    {
        return m.violation(req, "mergeMethod must be MERGE, SQUASH or REBASE");
    }
    let id = body["variables"]["id"].as_str().unwrap_or_default();
    let number = id
        .strip_prefix(&format!("PR_{}#", m.repo))
        .and_then(|n| n.parse::<u64>().ok());
    let errors = |message: &str, kind: &str| {
        Answer::json(
            200,
            json!({"data": {"enablePullRequestAutoMerge": null},
                   "errors": [{"type": kind, "path": ["enablePullRequestAutoMerge"], "message": message}]}),
        )
    };
    let Some(number) = number.filter(|n| m.pulls.iter().any(|p| p.number == *n)) else {
        return errors(
            &format!("Could not resolve to a node with the global id of '{id}'"),
            "NOT_FOUND",
        );
    };
    let Some(after) = m.checks_pass_after else {
        return errors("Pull request is in clean status", "UNPROCESSABLE");
    };
    m.auto_merge.push((number, method));
    if let Err(e) = m.merge(number, Some(after)) {
        return errors(&e, "UNPROCESSABLE");
    }
    Answer::json(
        200,
        json!({"data": {"enablePullRequestAutoMerge": {"pullRequest": {"number": number}}}}),
    )
}

/// `PUT /repos/{owner}/{repo}/pulls/{n}/merge` (docs: pulls#merge-a-pull-request).
fn merge(m: &mut Model, req: &Recorded, n: &str) -> Answer {
    let allowed = ["commit_title", "commit_message", "sha", "merge_method"];
    let fields = match m.body(req, &[], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    if fields
        .get("merge_method")
        .and_then(Value::as_str)
        .is_some_and(|m| !["merge", "squash", "rebase"].contains(&m))
    {
        return m.violation(req, "merge_method must be merge, squash or rebase");
    }
    let Some(number) = n.parse::<u64>().ok() else {
        return not_found();
    };
    match m.merge(number, None) {
        Ok(()) => Answer::json(
            200,
            json!({"sha": "0".repeat(40), "merged": true, "message": "Pull Request successfully merged"}),
        ),
        Err(e) => Answer::json(405, json!({"message": e})),
    }
}

pub fn pull_json(m: &Model, base: &str, pull: &Pull) -> Value {
    let (owner, name) = m.repo.split_once('/').unwrap();
    let head_owner = if pull.fork { "someone" } else { owner };
    json!({
        "number": pull.number,
        "node_id": node_id(&m.repo, pull.number),
        "html_url": format!("{base}/{}/pull/{}", m.repo, pull.number),
        "state": if pull.state == State::Open { "open" } else { "closed" },
        "merged_at": if pull.state == State::Merged { json!("2026-01-02T03:04:05Z") } else { Value::Null },
        "title": pull.title,
        // GitHub sends null for an empty description.
        "body": if pull.body.is_empty() { Value::Null } else { json!(pull.body) },
        "labels": pull.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        "head": {"ref": pull.head, "label": format!("{head_owner}:{}", pull.head),
                 "repo": {"full_name": format!("{head_owner}/{name}")}},
        "base": {"ref": pull.base, "label": format!("{owner}:{}", pull.base),
                 "repo": {"full_name": m.repo}},
    })
}

fn list(m: &mut Model, req: &Recorded) -> Answer {
    let allowed = [
        "state",
        "head",
        "base",
        "sort",
        "direction",
        "per_page",
        "page",
    ];
    if let Err(answer) = m.query(req, &allowed) {
        return answer;
    }
    let owner = m.repo.split('/').next().unwrap_or_default().to_owned();
    let head = match req.query("head") {
        Some(head) => match head.split_once(':') {
            Some((who, branch)) => Some((who.to_owned(), branch.to_owned())),
            None => return m.violation(req, "head filter must be user:ref-name"),
        },
        None => None,
    };
    let state = req.query("state").unwrap_or("open");
    let matching: Vec<&Pull> = m
        .pulls
        .iter()
        .filter(|p| match state {
            "open" => p.state == State::Open,
            "closed" => p.state != State::Open,
            _ => true,
        })
        .filter(|p| match &head {
            Some((who, branch)) => &p.head == branch && !p.fork && who == &owner,
            None => true,
        })
        .collect();
    let per_page = number(req, "per_page", 30).min(100).min(m.page_size);
    let page = number(req, "page", 1);
    let (range, next, last) = page_of(matching.len(), page, per_page);
    let items: Vec<Value> = matching[range]
        .iter()
        .map(|p| pull_json(m, &req.base, p))
        .collect();
    with_links(Answer::json(200, Value::Array(items)), req, next, last)
}

fn create(m: &mut Model, req: &Recorded) -> Answer {
    let allowed = [
        "body",
        "maintainer_can_modify",
        "draft",
        "head_repo",
        "issue",
    ];
    let fields = match m.body(req, &["title", "head", "base"], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (head, base) = (text("head"), text("base"));
    if !m.has_branch(&head) {
        return validation_failed(
            json!([{"resource": "PullRequest", "field": "head", "code": "invalid"}]),
        );
    }
    if !m.has_branch(&base) {
        return validation_failed(
            json!([{"resource": "PullRequest", "field": "base", "code": "invalid"}]),
        );
    }
    if m.pulls
        .iter()
        .any(|p| p.head == head && !p.fork && p.state == State::Open)
    {
        let owner = m.repo.split('/').next().unwrap_or_default();
        let message = format!("A pull request already exists for {owner}:{head}.");
        return validation_failed(
            json!([{"resource": "PullRequest", "code": "custom", "message": message}]),
        );
    }
    let number = m.pulls.len() as u64 + 1;
    m.pulls.push(Pull {
        number,
        head,
        base,
        title: text("title"),
        body: text("body"),
        state: State::Open,
        labels: Vec::new(),
        comments: Vec::new(),
        fork: false,
    });
    let created = pull_json(m, &req.base, &m.pulls[m.pulls.len() - 1]);
    Answer::json(201, created)
}

fn edit(m: &mut Model, req: &Recorded, n: &str) -> Answer {
    let allowed = ["title", "body", "state", "base", "maintainer_can_modify"];
    let fields = match m.body(req, &[], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let state = fields.get("state").and_then(Value::as_str);
    if state.is_some_and(|s| s != "open" && s != "closed") {
        return m.violation(req, "state must be open or closed");
    }
    let Some(pull) = n.parse().ok().and_then(|n| m.pull_mut(n)) else {
        return not_found();
    };
    if let Some(title) = fields.get("title").and_then(Value::as_str) {
        pull.title = title.into();
    }
    if let Some(body) = fields.get("body").and_then(Value::as_str) {
        pull.body = body.into();
    }
    if state == Some("closed") {
        pull.state = State::Closed;
    }
    let pull = pull.clone();
    Answer::json(200, pull_json(m, &req.base, &pull))
}

fn comment(m: &mut Model, req: &Recorded, n: &str) -> Answer {
    let fields = match m.body(req, &["body"], &[]) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let text = fields
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(pull) = n.parse().ok().and_then(|n| m.pull_mut(n)) else {
        return not_found();
    };
    pull.comments.push(text.clone());
    let id = pull.comments.len();
    Answer::json(
        201,
        json!({"id": id, "body": text, "html_url": format!("{}/c/{id}", req.base)}),
    )
}

fn label(m: &mut Model, req: &Recorded, n: &str) -> Answer {
    let fields = match m.body(req, &["labels"], &[]) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let Some(labels) = fields.get("labels").and_then(Value::as_array) else {
        return m.violation(req, "labels must be an array of names");
    };
    let names: Vec<String> = labels
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    if names.len() != labels.len() {
        return m.violation(req, "labels must be strings");
    }
    let Some(pull) = n.parse().ok().and_then(|n| m.pull_mut(n)) else {
        return not_found();
    };
    pull.labels.extend(names);
    let all: Vec<Value> = pull.labels.iter().map(|l| json!({"name": l})).collect();
    Answer::json(200, Value::Array(all))
}

const CONCLUSIONS: [&str; 7] = [
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "timed_out",
];

/// Validates status/conclusion/output of a check run create or update; returns the
/// annotations sent.
fn check_run_fields(
    m: &mut Model,
    req: &Recorded,
    fields: &serde_json::Map<String, Value>,
) -> Result<Vec<Value>, Answer> {
    let status = fields.get("status").and_then(Value::as_str);
    if status.is_some_and(|s| !["queued", "in_progress", "completed"].contains(&s)) {
        return Err(m.violation(req, "status must be queued, in_progress or completed"));
    }
    let conclusion = fields.get("conclusion").and_then(Value::as_str);
    if status == Some("completed") && conclusion.is_none() {
        return Err(m.violation(req, "a completed check run needs a conclusion"));
    }
    if conclusion.is_some_and(|c| !CONCLUSIONS.contains(&c)) {
        return Err(m.violation(req, "unknown conclusion"));
    }
    let Some(output) = fields.get("output") else {
        return Ok(Vec::new());
    };
    let Some(output) = output.as_object() else {
        return Err(m.violation(req, "output must be an object"));
    };
    for key in ["title", "summary"] {
        if !output.get(key).is_some_and(Value::is_string) {
            return Err(m.violation(req, &format!("output.{key} is required")));
        }
    }
    if let Some(extra) = output
        .keys()
        .find(|k| !["title", "summary", "text", "annotations", "images"].contains(&k.as_str()))
    {
        return Err(m.violation(req, &format!("undocumented output field {extra}")));
    }
    let annotations = output
        .get("annotations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if annotations.len() > 50 {
        return Err(Answer::json(
            422,
            json!({"message": "Only 50 annotations are allowed per request"}),
        ));
    }
    for note in &annotations {
        let required = [
            "path",
            "start_line",
            "end_line",
            "annotation_level",
            "message",
        ];
        let allowed = ["start_column", "end_column", "title", "raw_details"];
        let Some(note) = note.as_object() else {
            return Err(m.violation(req, "annotation must be an object"));
        };
        if let Some(key) = required.iter().find(|k| !note.contains_key(**k)) {
            return Err(m.violation(req, &format!("annotation.{key} is required")));
        }
        if let Some(key) = note
            .keys()
            .find(|k| !required.contains(&k.as_str()) && !allowed.contains(&k.as_str()))
        {
            return Err(m.violation(req, &format!("undocumented annotation field {key}")));
        }
        let level = note["annotation_level"].as_str().unwrap_or_default();
        if !["notice", "warning", "failure"].contains(&level) {
            return Err(m.violation(req, "annotation_level must be notice, warning or failure"));
        }
        let (start, end) = (note["start_line"].as_u64(), note["end_line"].as_u64());
        if !matches!((start, end), (Some(s), Some(e)) if s >= 1 && e >= s) {
            return Err(m.violation(
                req,
                "lines must be integers with 1 <= start_line <= end_line",
            ));
        }
    }
    Ok(annotations)
}

fn create_check_run(m: &mut Model, req: &Recorded) -> Answer {
    let allowed = [
        "details_url",
        "external_id",
        "status",
        "started_at",
        "conclusion",
        "completed_at",
        "output",
        "actions",
    ];
    let fields = match m.body(req, &["name", "head_sha"], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let annotations = match check_run_fields(m, req, &fields) {
        Ok(annotations) => annotations,
        Err(answer) => return answer,
    };
    let id = 1000 + m.check_runs.len() as u64;
    let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_owned);
    m.check_runs.push(CheckRunRecord {
        id,
        name: text("name").unwrap_or_default(),
        head_sha: text("head_sha").unwrap_or_default(),
        status: text("status").unwrap_or_else(|| "queued".into()),
        conclusion: text("conclusion"),
        annotations,
    });
    let html_url = format!("{}/{}/runs/{id}", req.base, m.repo);
    Answer::json(
        201,
        json!({"id": id, "html_url": html_url, "status": text("status")}),
    )
}

fn update_check_run(m: &mut Model, req: &Recorded, id: &str) -> Answer {
    let allowed = [
        "name",
        "details_url",
        "external_id",
        "started_at",
        "status",
        "conclusion",
        "completed_at",
        "output",
        "actions",
    ];
    let fields = match m.body(req, &[], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let annotations = match check_run_fields(m, req, &fields) {
        Ok(annotations) => annotations,
        Err(answer) => return answer,
    };
    let Some(run) = m.check_runs.iter_mut().find(|run| id.parse() == Ok(run.id)) else {
        return not_found();
    };
    // GitHub appends annotations sent in updates.
    run.annotations.extend(annotations);
    if let Some(status) = fields.get("status").and_then(Value::as_str) {
        run.status = status.into();
    }
    if let Some(conclusion) = fields.get("conclusion").and_then(Value::as_str) {
        run.conclusion = Some(conclusion.into());
    }
    let id = run.id;
    Answer::json(200, json!({"id": id, "status": run.status}))
}
