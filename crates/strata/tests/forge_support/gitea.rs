//! The Gitea API v1 fake: repositories, pulls, labels and issue comments (Gitea's
//! swagger: repoListPullRequests, repoCreatePullRequest, repoEditPullRequest,
//! issueCreateComment, issueListLabels).

use serde_json::{Value, json};

use super::{Answer, Model, Pull, Recorded, State, number, page_of, with_links};

pub fn route(m: &mut Model, req: &Recorded) -> Answer {
    if req.header("authorization") != Some(format!("token {}", m.token).as_str()) {
        let swagger = format!("{}/api/swagger", req.base);
        return Answer::json(
            401,
            json!({"message": "invalid username, password or token", "url": swagger}),
        );
    }
    if let Some(answer) = m.take_fault(req) {
        return answer;
    }
    let segments = req.segments();
    let ["api", "v1", "repos", owner, name, rest @ ..] = segments.as_slice() else {
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
        ("PATCH", ["pulls", index]) => edit(m, req, index),
        ("GET", ["pulls", index]) => match index.parse().ok().and_then(|n| m.pull_mut(n)) {
            Some(pull) => {
                let pull = pull.clone();
                Answer::json(200, pull_json(m, &req.base, &pull))
            }
            None => not_found(),
        },
        ("POST", ["pulls", index, "merge"]) => merge(m, req, index),
        ("POST", ["issues", index, "comments"]) => comment(m, req, index),
        ("GET", ["labels"]) => labels(m, req),
        _ => m.violation(req, "undocumented endpoint"),
    }
}

fn not_found() -> Answer {
    Answer::json(
        404,
        json!({"errors": [], "message": "The target couldn't be found.", "url": ""}),
    )
}

pub fn pull_json(m: &Model, base: &str, pull: &Pull) -> Value {
    let labels: Vec<Value> = pull
        .labels
        .iter()
        .map(|name| {
            let id = m.labels.iter().find(|(_, n)| n == name).map(|(id, _)| *id);
            json!({"id": id, "name": name})
        })
        .collect();
    json!({
        "number": pull.number,
        "html_url": format!("{base}/{}/pulls/{}", m.repo, pull.number),
        "state": if pull.state == State::Open { "open" } else { "closed" },
        "merged": pull.state == State::Merged,
        "title": pull.title,
        "body": pull.body,
        "labels": labels,
        "head": {"ref": pull.head, "label": pull.head, "repo_id": if pull.fork { 2 } else { 1 }},
        "base": {"ref": pull.base, "label": pull.base, "repo_id": 1},
    })
}

fn list(m: &mut Model, req: &Recorded) -> Answer {
    let allowed = [
        "state",
        "sort",
        "milestone",
        "labels",
        "poster",
        "page",
        "limit",
        "base_branch",
    ];
    if let Err(answer) = m.query(req, &allowed) {
        return answer;
    }
    let state = req.query("state").unwrap_or("open");
    let matching: Vec<&Pull> = m
        .pulls
        .iter()
        .filter(|p| match state {
            "open" => p.state == State::Open,
            "closed" => p.state != State::Open,
            _ => true,
        })
        .collect();
    // Gitea caps `limit` at MAX_RESPONSE_ITEMS (50 by default).
    let per_page = number(req, "limit", 30).min(50).min(m.page_size);
    let page = number(req, "page", 1);
    let (range, next, last) = page_of(matching.len(), page, per_page);
    let items: Vec<Value> = matching[range]
        .iter()
        .map(|p| pull_json(m, &req.base, p))
        .collect();
    let answer = Answer::json(200, Value::Array(items))
        .with_header("x-total-count", &matching.len().to_string());
    with_links(answer, req, next, last)
}

fn create(m: &mut Model, req: &Recorded) -> Answer {
    let allowed = [
        "body",
        "assignee",
        "assignees",
        "labels",
        "milestone",
        "due_date",
        "reviewers",
        "team_reviewers",
    ];
    let fields = match m.body(req, &["head", "base", "title"], &allowed) {
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
    let mut labels = Vec::new();
    for id in fields
        .get("labels")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let Some(id) = id.as_u64() else {
            return m.violation(req, "labels must be label ids (integers)");
        };
        match m.labels.iter().find(|(known, _)| *known == id) {
            Some((_, name)) => labels.push(name.clone()),
            None => return m.violation(req, &format!("label id {id} does not exist")),
        }
    }
    let (head, base) = (text("head"), text("base"));
    if !m.branches.contains(&head) || !m.branches.contains(&base) {
        return not_found();
    }
    if let Some(open) = m
        .pulls
        .iter()
        .find(|p| p.head == head && p.base == base && !p.fork && p.state == State::Open)
    {
        let message = format!(
            "pull request already exists for these targets [id: {0}, issue_id: {0}, head_repo_id: 1, \
             base_repo_id: 1, head_branch: {head}, base_branch: {base}]",
            open.number
        );
        return Answer::json(
            409,
            json!({"message": message, "url": format!("{}/api/swagger", req.base)}),
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
        labels,
        comments: Vec::new(),
        fork: false,
    });
    let created = pull_json(m, &req.base, &m.pulls[m.pulls.len() - 1]);
    Answer::json(201, created)
}

/// `POST /repos/{owner}/{repo}/pulls/{index}/merge` (Gitea API, MergePullRequestOption):
/// `Do` is required; with `merge_when_checks_succeed` and checks pending the merge is
/// scheduled, else done now. The answer has no body either way.
fn merge(m: &mut Model, req: &Recorded, index: &str) -> Answer {
    let allowed = [
        "MergeCommitID",
        "MergeMessageField",
        "MergeTitleField",
        "delete_branch_after_merge",
        "force_merge",
        "head_commit_id",
        "merge_when_checks_succeed",
    ];
    let fields = match m.body(req, &["Do"], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let how = fields.get("Do").and_then(Value::as_str).unwrap_or_default();
    let known = [
        "merge",
        "rebase",
        "rebase-merge",
        "squash",
        "fast-forward-only",
        "manually-merged",
    ];
    if !known.contains(&how) {
        return m.violation(req, "Do is not a merge style");
    }
    let when_green = fields
        .get("merge_when_checks_succeed")
        .and_then(Value::as_bool)
        == Some(true);
    let Some(number) = index.parse::<u64>().ok() else {
        return not_found();
    };
    if when_green {
        m.auto_merge.push((number, Some(how.to_owned())));
    }
    let after = m.checks_pass_after.filter(|_| when_green);
    match m.merge(number, after) {
        Ok(()) => Answer::text(200, ""),
        Err(e) => Answer::json(405, json!({"message": e})),
    }
}

fn edit(m: &mut Model, req: &Recorded, index: &str) -> Answer {
    let allowed = [
        "title",
        "body",
        "base",
        "assignee",
        "assignees",
        "milestone",
        "state",
        "due_date",
        "labels",
        "allow_maintainer_edit",
        "unset_due_date",
    ];
    let fields = match m.body(req, &[], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let state = fields.get("state").and_then(Value::as_str);
    if state.is_some_and(|s| s != "open" && s != "closed") {
        return m.violation(req, "state must be open or closed");
    }
    let Some(pull) = index.parse().ok().and_then(|n| m.pull_mut(n)) else {
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
    // Gitea answers an edit with 201 Created.
    Answer::json(201, pull_json(m, &req.base, &pull))
}

fn comment(m: &mut Model, req: &Recorded, index: &str) -> Answer {
    let fields = match m.body(req, &["body"], &[]) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let text = fields
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(pull) = index.parse().ok().and_then(|n| m.pull_mut(n)) else {
        return not_found();
    };
    pull.comments.push(text.clone());
    Answer::json(201, json!({"id": pull.comments.len(), "body": text}))
}

fn labels(m: &mut Model, req: &Recorded) -> Answer {
    if let Err(answer) = m.query(req, &["page", "limit", "sort"]) {
        return answer;
    }
    let per_page = number(req, "limit", 30).min(50).min(m.page_size);
    let (range, next, last) = page_of(m.labels.len(), number(req, "page", 1), per_page);
    let items: Vec<Value> = m.labels[range]
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name, "color": "00aabb"}))
        .collect();
    with_links(Answer::json(200, Value::Array(items)), req, next, last)
}
