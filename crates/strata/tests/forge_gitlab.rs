//! The GitLab client against the GitLab API v4 fake on 127.0.0.1: URL-encoded project
//! paths, `PRIVATE-TOKEN`, `Link` and `X-Next-Page` pagination, the 409 "already exists",
//! and error answers.
#![allow(clippy::unwrap_used)]

mod forge_support;

use forge_support::{Answer, Fake, State, TOKEN};
use serde_json::json;
use strata::forge::{ForgeConfig, ForgeError, ForgeKind, NewPullRequest, OpenOutcome};

const REPO: &str = "acme/platform/app";
const PROJECT: &str = "/api/v4/projects/acme%2Fplatform%2Fapp";

async fn fake() -> Fake {
    Fake::start(ForgeKind::GitLab, REPO).await
}

fn new_request(head: &str) -> NewPullRequest {
    NewPullRequest {
        head: head.into(),
        base: "main".into(),
        title: format!("Update {head}"),
        body: "Pins the new digest.".into(),
        labels: Vec::new(),
    }
}

#[tokio::test]
async fn projects_are_addressed_by_encoded_path_with_a_private_token() {
    let fake = fake().await;
    assert_eq!(fake.forge().default_branch(REPO).await.unwrap(), "main");
    let request = &fake.requests()[0];
    assert_eq!(request.line(), format!("GET {PROJECT}"));
    assert_eq!(request.header("private-token"), Some(TOKEN));
    assert_eq!(request.header("authorization"), None);
    fake.assert_clean();
}

#[tokio::test]
async fn find_filters_by_source_branch_and_ignores_forks() {
    let fake = fake().await;
    fake.with(|m| {
        m.add_pull("strata/redis-7", "fork", "", true);
        m.add_pull("strata/redis-7", "ours", "", false);
    });
    let found = fake
        .forge()
        .find_open_pull_request(REPO, "strata/redis-7")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.number, found.title.as_str(), found.body.as_str()),
        (2, "ours", "")
    );
    assert_eq!(
        found.url,
        format!("{}/{REPO}/-/merge_requests/2", fake.server.url())
    );
    let request = &fake.requests()[0];
    assert_eq!(request.line(), format!("GET {PROJECT}/merge_requests"));
    assert_eq!(request.query("state"), Some("opened"));
    assert_eq!(request.query("source_branch"), Some("strata/redis-7"));
    fake.assert_clean();
}

#[tokio::test]
async fn listing_follows_link_and_x_next_page() {
    for links in [true, false] {
        let fake = fake().await;
        fake.with(|m| {
            m.page_size = 2;
            m.page_links = links;
            for n in 0..3 {
                m.add_pull(&format!("strata/img-{n}"), "t", "", false);
            }
            m.add_pull("feature/y", "t", "", false);
        });
        let listed = fake
            .forge()
            .list_open_pull_requests_with_prefix(REPO, "strata/")
            .await
            .unwrap();
        assert_eq!(listed.len(), 3, "links: {links}");
        assert_eq!(fake.count("GET", "/merge_requests"), 2, "links: {links}");
        assert_eq!(fake.requests()[1].query("page"), Some("2"));
        assert_eq!(fake.requests()[1].query("state"), Some("opened"));
        fake.assert_clean();
    }
}

#[tokio::test]
async fn open_sends_labels_as_one_string() {
    let fake = fake().await;
    fake.push_branch("strata/redis-7");
    let mut new = new_request("strata/redis-7");
    new.labels = vec!["dependencies".into(), "docker".into()];
    let opened = fake.forge().open_pull_request(REPO, &new).await.unwrap();
    assert_eq!(
        (opened.outcome, opened.pull_request.number),
        (OpenOutcome::Created, 1)
    );
    assert_eq!(
        fake.requests()[0].json(),
        json!({"source_branch": "strata/redis-7", "target_branch": "main",
               "title": "Update strata/redis-7", "description": "Pins the new digest.",
               "remove_source_branch": true, "labels": "dependencies,docker"})
    );
    assert_eq!(fake.pulls()[0].labels, ["dependencies", "docker"]);
    fake.assert_clean();
}

#[tokio::test]
async fn a_409_already_exists_updates_the_open_merge_request() {
    let fake = fake().await;
    fake.push_branch("strata/redis-7");
    fake.with(|m| m.add_pull("strata/redis-7", "old", "old", false));
    let opened = fake
        .forge()
        .open_pull_request(REPO, &new_request("strata/redis-7"))
        .await
        .unwrap();
    assert_eq!(opened.outcome, OpenOutcome::Updated);
    let lines: Vec<String> = fake.requests().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            format!("POST {PROJECT}/merge_requests"),
            format!("GET {PROJECT}/merge_requests"),
            format!("PUT {PROJECT}/merge_requests/1")
        ]
    );
    assert_eq!(
        fake.requests()[2].json(),
        json!({"title": "Update strata/redis-7", "description": "Pins the new digest."})
    );
    assert_eq!(fake.pulls().len(), 1);
    fake.assert_clean();
}

#[tokio::test]
async fn a_rejected_token_names_gitlab_token() {
    let fake = fake().await;
    fake.with(|m| m.token = "revoked".into());
    let err = fake.forge().default_branch(REPO).await.unwrap_err();
    assert!(matches!(err, ForgeError::Unauthorized { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("GitLab rejected the token from GITLAB_TOKEN (HTTP 401)"),
        "{text}"
    );
    assert!(text.contains("401 Unauthorized"), "{text}");
}

#[tokio::test]
async fn a_missing_project_is_not_found() {
    let fake = fake().await;
    let err = fake.forge().default_branch("acme/gone").await.unwrap_err();
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("404 Project Not Found"), "{err}");
    let err = fake.forge().default_branch("acme//x").await.unwrap_err();
    assert!(
        matches!(err, ForgeError::InvalidRepository { .. }),
        "{err:?}"
    );
    fake.assert_clean();
}

#[tokio::test]
async fn updates_are_retried_after_5xx_and_notes_are_not() {
    let fake = fake().await;
    fake.with(|m| m.add_pull("strata/redis-7", "t", "b", false));
    fake.fail(
        "PUT",
        "/merge_requests/1",
        1,
        Answer::text(502, "Bad Gateway"),
    );
    let updated = fake
        .forge()
        .update_pull_request(REPO, 1, "new", "body")
        .await
        .unwrap();
    assert_eq!(updated.title, "new");
    assert_eq!(fake.count("PUT", "/merge_requests/1"), 2);

    fake.fail(
        "POST",
        "/notes",
        1,
        Answer::json(500, json!({"message": "500 Internal Server Error"})),
    );
    let err = fake
        .forge()
        .close_pull_request(REPO, 1, Some("why"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ForgeError::Server {
                status: 500,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        fake.pulls()[0].state,
        State::Open,
        "not closed when the note failed"
    );
    fake.assert_clean();
}

#[tokio::test]
async fn close_adds_a_note_then_closes() {
    let fake = fake().await;
    fake.with(|m| m.add_pull("strata/redis-7", "t", "b", false));
    let closed = fake
        .forge()
        .close_pull_request(REPO, 1, Some("Superseded by !2."))
        .await
        .unwrap();
    assert_eq!(closed.state, strata::forge::PullRequestState::Closed);
    let lines: Vec<String> = fake.requests().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            format!("POST {PROJECT}/merge_requests/1/notes"),
            format!("PUT {PROJECT}/merge_requests/1")
        ]
    );
    assert_eq!(fake.requests()[1].json(), json!({"state_event": "close"}));
    assert_eq!(fake.pulls()[0].comments, ["Superseded by !2."]);
    fake.assert_clean();
}

#[tokio::test]
async fn rate_limits_report_ratelimit_reset() {
    let fake = fake().await;
    let answer = Answer::text(429, "Retry later").with_header("ratelimit-reset", "4000000000");
    fake.fail("GET", "/projects", 1, answer);
    let err = fake.forge().default_branch(REPO).await.unwrap_err();
    assert!(
        matches!(
            err,
            ForgeError::RateLimited {
                status: 429,
                reset: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("2096 "), "{err}");
}

#[tokio::test]
async fn ci_api_v4_url_wins_over_gitlab_api_url() {
    let fake = fake().await;
    let url = fake.server.url();
    let vars = move |name: &str| match name {
        "GITLAB_TOKEN" => Some(TOKEN.to_owned()),
        "CI_API_V4_URL" => Some(format!("{url}/api/v4")),
        // Nothing listens here: using it would fail.
        "GITLAB_API_URL" => Some("http://127.0.0.1:9".to_owned()),
        _ => None,
    };
    let config = ForgeConfig::from_variables(ForgeKind::GitLab, vars).unwrap();
    let forge = strata::forge::connect(config).unwrap();
    assert_eq!(forge.default_branch(REPO).await.unwrap(), "main");
    fake.assert_clean();
}

#[tokio::test]
async fn redirects_are_followed_on_the_same_host_only() {
    let fake = fake().await;
    let moved = format!("{}{PROJECT}", fake.server.url());
    fake.fail(
        "GET",
        "/projects/acme%2Fold",
        1,
        Answer::text(301, "").with_header("location", &moved),
    );
    assert_eq!(
        fake.forge().default_branch("acme/old").await.unwrap(),
        "main"
    );

    // The token header would go along: a redirect to another host is not followed.
    let elsewhere = "http://127.0.0.2:9/api/v4/projects/acme%2Fplatform%2Fapp";
    fake.fail(
        "GET",
        "/projects/acme%2Fother",
        1,
        Answer::text(302, "").with_header("location", elsewhere),
    );
    let err = fake.forge().default_branch("acme/other").await.unwrap_err();
    assert!(
        matches!(err, ForgeError::Rejected { status: 302, .. }),
        "{err:?}"
    );
    fake.assert_clean();
}

/// GitLab's auto-merge is `PUT …/merge_requests/:iid/merge` with
/// `merge_when_pipeline_succeeds` (named `auto_merge` since GitLab 17.11; both are sent):
/// with a pipeline running the merge request stays open, set to merge; with none it is
/// merged now (docs.gitlab.com/api/merge_requests, "Merge a merge request").
#[tokio::test]
async fn auto_merge_sets_merge_when_the_pipeline_succeeds() {
    use strata::forge::{AutoMerge, MergeMethod};
    let fake = fake().await;
    fake.with(|m| {
        m.add_pull("strata/a", "a", "", false);
        m.add_pull("strata/b", "b", "", false);
    });
    let forge = fake.forge();
    let done = forge
        .enable_auto_merge(REPO, 1, Some(MergeMethod::Squash))
        .await
        .unwrap();
    assert_eq!(done, AutoMerge::Enabled);
    let request = fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/merge_requests/1/merge"))
        .unwrap();
    assert_eq!(request.method, "PUT");
    assert_eq!(request.json()["merge_when_pipeline_succeeds"], true);
    assert_eq!(request.json()["squash"], true);
    fake.with(|m| m.checks_pass_after = None);
    assert_eq!(
        forge.enable_auto_merge(REPO, 2, None).await.unwrap(),
        AutoMerge::Merged
    );
    fake.assert_clean();
}
