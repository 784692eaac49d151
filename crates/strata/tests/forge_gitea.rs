//! The Gitea client against the Gitea API v1 fake on 127.0.0.1: `Authorization: token`,
//! `Link` pagination, labels by id, the 409 "already exists", and error answers.
#![allow(clippy::unwrap_used)]

mod forge_support;

use forge_support::{Answer, Fake, State};
use serde_json::json;
use strata::forge::{ForgeError, ForgeKind, NewPullRequest, OpenOutcome, PullRequestState};

const REPO: &str = "acme/app";

async fn fake() -> Fake {
    Fake::start(ForgeKind::Gitea, REPO).await
}

fn new_pull(head: &str) -> NewPullRequest {
    NewPullRequest {
        head: head.into(),
        base: "main".into(),
        title: format!("Update {head}"),
        body: "Pins the new digest.".into(),
        labels: Vec::new(),
    }
}

#[tokio::test]
async fn requests_use_api_v1_and_a_token_header() {
    let fake = fake().await;
    assert_eq!(fake.forge().default_branch(REPO).await.unwrap(), "main");
    let request = &fake.requests()[0];
    assert_eq!(request.line(), "GET /api/v1/repos/acme/app");
    assert_eq!(request.header("authorization"), Some("token test-token"));
    fake.assert_clean();
}

#[tokio::test]
async fn find_and_list_read_every_page_and_skip_forks() {
    let fake = fake().await;
    fake.with(|m| {
        m.page_size = 2;
        m.add_pull("strata/nginx-1.27", "fork", "", true);
        m.add_pull("feature/z", "z", "", false);
        m.add_pull("strata/alpine-3.20", "a", "", false);
        m.add_pull("strata/nginx-1.27", "ours", "", false);
        m.add_pull("strata/redis-7", "r", "", false);
    });
    let forge = fake.forge();
    let found = forge
        .find_open_pull_request(REPO, "strata/nginx-1.27")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.number, found.title.as_str()), (4, "ours"));
    assert_eq!(found.url, format!("{}/acme/app/pulls/4", fake.server.url()));
    let first = &fake.requests()[0];
    assert_eq!(
        (first.query("state"), first.query("limit")),
        (Some("open"), Some("50"))
    );
    assert_eq!(fake.requests().len(), 3);
    let listed = forge
        .list_open_pull_requests_with_prefix(REPO, "strata/")
        .await
        .unwrap();
    let numbers: Vec<u64> = listed.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [3, 4, 5]);
    fake.assert_clean();
}

#[tokio::test]
async fn open_resolves_label_names_to_ids() {
    let fake = fake().await;
    fake.push_branch("strata/nginx-1.27");
    fake.with(|m| {
        m.page_size = 2;
        m.labels = vec![
            (11, "bug".into()),
            (12, "docker".into()),
            (13, "dependencies".into()),
        ];
    });
    let mut new = new_pull("strata/nginx-1.27");
    new.labels = vec!["dependencies".into(), "docker".into(), "not-in-repo".into()];
    let opened = fake.forge().open_pull_request(REPO, &new).await.unwrap();
    assert_eq!(opened.outcome, OpenOutcome::Created);
    assert_eq!(fake.count("GET", "/labels"), 2);
    let create = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(
        create.json(),
        json!({"head": "strata/nginx-1.27", "base": "main", "title": "Update strata/nginx-1.27",
               "body": "Pins the new digest.", "labels": [13, 12]})
    );
    assert_eq!(fake.pulls()[0].labels, ["dependencies", "docker"]);
    fake.assert_clean();
}

#[tokio::test]
async fn a_409_already_exists_updates_the_open_pull_request() {
    let fake = fake().await;
    fake.push_branch("strata/nginx-1.27");
    fake.with(|m| m.add_pull("strata/nginx-1.27", "old", "old", false));
    let opened = fake
        .forge()
        .open_pull_request(REPO, &new_pull("strata/nginx-1.27"))
        .await
        .unwrap();
    assert_eq!(opened.outcome, OpenOutcome::Updated);
    assert_eq!(opened.pull_request.body, "Pins the new digest.");
    let lines: Vec<String> = fake.requests().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            "POST /api/v1/repos/acme/app/pulls",
            "GET /api/v1/repos/acme/app/pulls",
            "PATCH /api/v1/repos/acme/app/pulls/1"
        ]
    );
    assert_eq!(fake.pulls().len(), 1);
    fake.assert_clean();
}

#[tokio::test]
async fn a_rejected_token_names_gitea_token() {
    let fake = fake().await;
    fake.with(|m| m.token = "expired".into());
    let err = fake.forge().default_branch(REPO).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Gitea rejected the token from GITEA_TOKEN (HTTP 401)"),
        "{text}"
    );
    assert!(
        text.contains("invalid username, password or token"),
        "{text}"
    );
}

#[tokio::test]
async fn missing_repositories_and_unknown_pull_requests_are_not_found() {
    let fake = fake().await;
    let err = fake.forge().default_branch("acme/gone").await.unwrap_err();
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string().contains("The target couldn't be found."),
        "{err}"
    );
    let err = fake
        .forge()
        .update_pull_request(REPO, 99, "t", "b")
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
    fake.assert_clean();
}

#[tokio::test]
async fn server_errors_are_retried_for_reads_and_reported_for_comments() {
    let fake = fake().await;
    fake.fail("GET", "/pulls", 2, Answer::text(504, "Gateway Timeout"));
    let listed = fake
        .forge()
        .list_open_pull_requests_with_prefix(REPO, "strata/")
        .await
        .unwrap();
    assert!(listed.is_empty());
    assert_eq!(fake.count("GET", "/pulls"), 3);

    fake.with(|m| m.add_pull("strata/a", "t", "", false));
    fake.fail(
        "POST",
        "/comments",
        1,
        Answer::json(500, json!({"message": "database is locked"})),
    );
    let err = fake
        .forge()
        .close_pull_request(REPO, 1, Some("why"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("HTTP 500, 1 attempt(s)): database is locked"),
        "{text}"
    );
    fake.assert_clean();
}

#[tokio::test]
async fn close_comments_then_closes() {
    let fake = fake().await;
    fake.with(|m| m.add_pull("strata/a", "t", "", false));
    let closed = fake
        .forge()
        .close_pull_request(REPO, 1, Some("Superseded by #2."))
        .await
        .unwrap();
    assert_eq!(closed.state, PullRequestState::Closed);
    let lines: Vec<String> = fake.requests().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            "POST /api/v1/repos/acme/app/issues/1/comments",
            "PATCH /api/v1/repos/acme/app/pulls/1"
        ]
    );
    assert_eq!(fake.requests()[1].json(), json!({"state": "closed"}));
    assert_eq!(fake.pulls()[0].state, State::Closed);
    fake.assert_clean();
}

/// Gitea schedules a merge with `POST /repos/{owner}/{repo}/pulls/{index}/merge`,
/// `{"Do": …, "merge_when_checks_succeed": true}` (Gitea 1.19+); the answer has no body,
/// so the pull request is read back to tell whether it merged at once.
#[tokio::test]
async fn auto_merge_schedules_the_merge_when_checks_succeed() {
    use strata::forge::{AutoMerge, MergeMethod};
    let fake = fake().await;
    fake.with(|m| {
        m.add_pull("strata/a", "a", "", false);
        m.add_pull("strata/b", "b", "", false);
    });
    let forge = fake.forge();
    let done = forge
        .enable_auto_merge(REPO, 1, Some(MergeMethod::Rebase))
        .await
        .unwrap();
    assert_eq!(done, AutoMerge::Enabled);
    let request = fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/pulls/1/merge"))
        .unwrap();
    assert_eq!(request.json()["Do"], "rebase");
    assert_eq!(request.json()["merge_when_checks_succeed"], true);
    fake.with(|m| m.checks_pass_after = None);
    assert_eq!(
        forge.enable_auto_merge(REPO, 2, None).await.unwrap(),
        AutoMerge::Merged
    );
    fake.assert_clean();
}
