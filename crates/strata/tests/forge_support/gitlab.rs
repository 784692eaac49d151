//! The GitLab API v4 fake: projects, merge requests and their notes
//! (docs.gitlab.com/api/merge_requests, /api/notes, REST pagination).

use serde_json::{Value, json};

use super::{Answer, Model, Pull, Recorded, State, number, page_of, with_links};

/// The fake project's numeric id; forks' merge requests come from project 77.
pub const PROJECT_ID: u64 = 42;

pub fn route(m: &mut Model, req: &Recorded) -> Answer {
    if req.header("private-token") != Some(m.token.as_str()) {
        return Answer::json(401, json!({"message": "401 Unauthorized"}));
    }
    if let Some(answer) = m.take_fault(req) {
        return answer;
    }
    let segments = req.segments();
    let ["api", "v4", "projects", id, rest @ ..] = segments.as_slice() else {
        return m.violation(req, "undocumented endpoint");
    };
    let encoded = m.repo.replace('/', "%2F");
    if *id != encoded && *id != PROJECT_ID.to_string() {
        if req.path.contains(&m.repo) {
            return m.violation(req, "project path is not URL-encoded");
        }
        return Answer::json(404, json!({"message": "404 Project Not Found"}));
    }
    match (req.method.as_str(), rest) {
        ("GET", []) => Answer::json(
            200,
            json!({"id": PROJECT_ID, "path_with_namespace": m.repo,
            "default_branch": m.default_branch}),
        ),
        ("GET", ["merge_requests"]) => list(m, req),
        ("POST", ["merge_requests"]) => create(m, req),
        ("PUT", ["merge_requests", iid]) => edit(m, req, iid),
        ("PUT", ["merge_requests", iid, "merge"]) => merge(m, req, iid),
        ("POST", ["merge_requests", iid, "notes"]) => note(m, req, iid),
        _ => m.violation(req, "undocumented endpoint"),
    }
}

fn not_found() -> Answer {
    Answer::json(404, json!({"message": "404 Not found"}))
}

pub fn request_json(m: &Model, base: &str, pull: &Pull) -> Value {
    json!({
        "id": 9000 + pull.number,
        "iid": pull.number,
        "project_id": PROJECT_ID,
        "source_project_id": if pull.fork { 77 } else { PROJECT_ID },
        "target_project_id": PROJECT_ID,
        "title": pull.title,
        "description": if pull.body.is_empty() { Value::Null } else { json!(pull.body) },
        "state": match pull.state { State::Open => "opened", State::Closed => "closed", State::Merged => "merged" },
        "source_branch": pull.head,
        "target_branch": pull.base,
        "labels": pull.labels,
        "web_url": format!("{base}/{}/-/merge_requests/{}", m.repo, pull.number),
    })
}

fn list(m: &mut Model, req: &Recorded) -> Answer {
    let allowed = [
        "state",
        "source_branch",
        "target_branch",
        "per_page",
        "page",
        "order_by",
        "sort",
        "labels",
        "scope",
        "view",
    ];
    if let Err(answer) = m.query(req, &allowed) {
        return answer;
    }
    let state = req.query("state").unwrap_or("all");
    if !["opened", "closed", "locked", "merged", "all"].contains(&state) {
        return Answer::json(400, json!({"error": "state does not have a valid value"}));
    }
    let source = req.query("source_branch");
    let matching: Vec<&Pull> = m
        .pulls
        .iter()
        .filter(|p| match state {
            "opened" => p.state == State::Open,
            "closed" => p.state == State::Closed,
            "merged" => p.state == State::Merged,
            _ => true,
        })
        .filter(|p| source.is_none_or(|branch| p.head == branch))
        .collect();
    let per_page = number(req, "per_page", 20).min(100).min(m.page_size);
    let page = number(req, "page", 1);
    let (range, next, last) = page_of(matching.len(), page, per_page);
    let items: Vec<Value> = matching[range]
        .iter()
        .map(|p| request_json(m, &req.base, p))
        .collect();
    let next_text = next.map(|n| n.to_string()).unwrap_or_default();
    let answer = Answer::json(200, Value::Array(items))
        .with_header("x-page", &page.to_string())
        .with_header("x-per-page", &per_page.to_string())
        .with_header("x-next-page", &next_text)
        .with_header("x-total", &matching.len().to_string())
        .with_header("x-total-pages", &last.to_string());
    if m.page_links {
        with_links(answer, req, next, last)
    } else {
        answer
    }
}

fn create(m: &mut Model, req: &Recorded) -> Answer {
    let allowed = [
        "description",
        "labels",
        "remove_source_branch",
        "assignee_id",
        "assignee_ids",
        "reviewer_ids",
        "target_project_id",
        "milestone_id",
        "squash",
        "allow_collaboration",
    ];
    let fields = match m.body(req, &["source_branch", "target_branch", "title"], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    if fields
        .get("labels")
        .is_some_and(|labels| !labels.is_string())
    {
        return m.violation(req, "labels must be a comma-separated string");
    }
    let text = |key: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (head, base) = (text("source_branch"), text("target_branch"));
    for branch in [&head, &base] {
        if !m.branches.contains(branch) {
            let message = format!("Branch \"{branch}\" does not exist");
            return Answer::json(422, json!({"message": [message]}));
        }
    }
    if let Some(open) = m
        .pulls
        .iter()
        .find(|p| p.head == head && !p.fork && p.state == State::Open)
    {
        let message = format!(
            "Another open merge request already exists for this source branch: !{}",
            open.number
        );
        return Answer::json(409, json!({"message": [message]}));
    }
    let labels = text("labels")
        .split(',')
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let number = m.pulls.len() as u64 + 1;
    m.pulls.push(Pull {
        number,
        head,
        base,
        title: text("title"),
        body: text("description"),
        state: State::Open,
        labels,
        comments: Vec::new(),
        fork: false,
    });
    let created = request_json(m, &req.base, &m.pulls[m.pulls.len() - 1]);
    Answer::json(201, created)
}

/// `PUT /projects/:id/merge_requests/:iid/merge` (docs.gitlab.com/api/merge_requests,
/// "Merge a merge request"): with `merge_when_pipeline_succeeds` (or `auto_merge`) and a
/// pipeline still running, the merge request stays open, set to merge when it succeeds;
/// with nothing to wait for it is merged now.
fn merge(m: &mut Model, req: &Recorded, iid: &str) -> Answer {
    let allowed = [
        "merge_commit_message",
        "squash_commit_message",
        "squash",
        "should_remove_source_branch",
        "merge_when_pipeline_succeeds",
        "auto_merge",
        "sha",
    ];
    let fields = match m.body(req, &[], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let when_green = ["merge_when_pipeline_succeeds", "auto_merge"]
        .iter()
        .any(|k| fields.get(*k).and_then(Value::as_bool) == Some(true));
    let Some(number) = iid.parse::<u64>().ok() else {
        return not_found();
    };
    let after = m.checks_pass_after.filter(|_| when_green);
    if when_green {
        m.auto_merge.push((number, None));
    }
    if let Err(e) = m.merge(number, after) {
        return Answer::json(
            405,
            json!({"message": format!("405 Method Not Allowed: {e}")}),
        );
    }
    let Some(pull) = m.pull_mut(number).cloned() else {
        return not_found();
    };
    let mut answer = request_json(m, &req.base, &pull);
    if after.is_some() {
        // Still running: open, with the merge set for when the pipeline succeeds.
        answer["merge_when_pipeline_succeeds"] = json!(true);
    }
    Answer::json(200, answer)
}

fn edit(m: &mut Model, req: &Recorded, iid: &str) -> Answer {
    let allowed = [
        "title",
        "description",
        "state_event",
        "target_branch",
        "labels",
        "add_labels",
        "remove_labels",
        "assignee_id",
        "remove_source_branch",
        "squash",
        "discussion_locked",
        "milestone_id",
    ];
    let fields = match m.body(req, &[], &allowed) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let event = fields.get("state_event").and_then(Value::as_str);
    if event.is_some_and(|e| e != "close" && e != "reopen") {
        return m.violation(req, "state_event must be close or reopen");
    }
    let Some(pull) = iid.parse().ok().and_then(|n| m.pull_mut(n)) else {
        return not_found();
    };
    if let Some(title) = fields.get("title").and_then(Value::as_str) {
        pull.title = title.into();
    }
    if let Some(body) = fields.get("description").and_then(Value::as_str) {
        pull.body = body.into();
    }
    match event {
        Some("close") => pull.state = State::Closed,
        Some(_) => pull.state = State::Open,
        None => {}
    }
    let pull = pull.clone();
    Answer::json(200, request_json(m, &req.base, &pull))
}

fn note(m: &mut Model, req: &Recorded, iid: &str) -> Answer {
    let fields = match m.body(
        req,
        &["body"],
        &["created_at", "internal", "merge_request_diff_head_sha"],
    ) {
        Ok(fields) => fields,
        Err(answer) => return answer,
    };
    let text = fields
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let Some(pull) = iid.parse().ok().and_then(|n| m.pull_mut(n)) else {
        return not_found();
    };
    pull.comments.push(text.clone());
    Answer::json(
        201,
        json!({"id": pull.comments.len(), "body": text, "noteable_type": "MergeRequest"}),
    )
}
