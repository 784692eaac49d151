//! The GitHub client against the GitHub REST fake on 127.0.0.1: documented requests,
//! pagination, "already exists" handling, and error answers. Check runs: forge_check_run.rs.
#![allow(clippy::unwrap_used)]

mod forge_support;

use std::time::{Duration, UNIX_EPOCH};

use forge_support::{Answer, Fake, State, TOKEN};
use serde_json::json;
use strata::forge::{
    ForgeConfig, ForgeError, ForgeKind, GitHub, NewPullRequest, OpenOutcome, PullRequestState,
};

const REPO: &str = "acme/app";

async fn fake() -> Fake {
    Fake::start(ForgeKind::GitHub, REPO).await
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
async fn requests_carry_the_documented_headers() {
    let fake = fake().await;
    assert_eq!(fake.forge().default_branch(REPO).await.unwrap(), "main");
    let request = &fake.requests()[0];
    assert_eq!(request.line(), "GET /repos/acme/app");
    assert_eq!(request.header("authorization"), Some("Bearer test-token"));
    assert_eq!(
        request.header("accept"),
        Some("application/vnd.github+json")
    );
    assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
    fake.assert_clean();
}

#[tokio::test]
async fn find_asks_for_owner_and_head_and_ignores_forks() {
    let fake = fake().await;
    fake.with(|m| {
        m.add_pull("strata/python-3.13", "from a fork", "", true);
        m.add_pull("strata/python-3.13", "ours", "text", false);
    });
    let found = fake
        .forge()
        .find_open_pull_request(REPO, "strata/python-3.13")
        .await
        .unwrap();
    let found = found.unwrap();
    assert_eq!((found.number, found.title.as_str()), (2, "ours"));
    assert_eq!(found.url, format!("{}/acme/app/pull/2", fake.server.url()));
    assert_eq!(found.state, PullRequestState::Open);
    let request = &fake.requests()[0];
    assert_eq!(request.query("head"), Some("acme:strata/python-3.13"));
    assert_eq!(request.query("state"), Some("open"));
    let none = fake
        .forge()
        .find_open_pull_request(REPO, "strata/other")
        .await
        .unwrap();
    assert!(none.is_none());
    fake.assert_clean();
}

#[tokio::test]
async fn listing_follows_link_pages_and_keeps_our_prefix_only() {
    let fake = fake().await;
    fake.with(|m| {
        m.page_size = 2;
        m.add_pull("strata/a-1", "a", "", false);
        m.add_pull("feature/x", "x", "", false);
        m.add_pull("strata/b-2", "b", "", false);
        m.add_pull("strata/c-3", "fork", "", true);
        m.add_pull("strata/d-4", "d", "", false);
    });
    let listed = fake
        .forge()
        .list_open_pull_requests_with_prefix(REPO, "strata/")
        .await
        .unwrap();
    let heads: Vec<&str> = listed.iter().map(|p| p.head.as_str()).collect();
    assert_eq!(heads, ["strata/a-1", "strata/b-2", "strata/d-4"]);
    let pages: Vec<Option<String>> = fake
        .requests()
        .iter()
        .map(|r| r.query("page").map(str::to_owned))
        .collect();
    assert_eq!(pages, [None, Some("2".into()), Some("3".into())]);
    fake.assert_clean();
}

#[tokio::test]
async fn open_creates_the_pull_request_and_labels_it() {
    let fake = fake().await;
    fake.push_branch("strata/python-3.13");
    let mut new = new_pull("strata/python-3.13");
    new.labels = vec!["dependencies".into(), "docker".into()];
    let opened = fake.forge().open_pull_request(REPO, &new).await.unwrap();
    assert_eq!(opened.outcome, OpenOutcome::Created);
    assert_eq!(opened.pull_request.number, 1);
    assert_eq!(opened.pull_request.body, "Pins the new digest.");
    let create = &fake.requests()[0];
    assert_eq!(create.line(), "POST /repos/acme/app/pulls");
    assert_eq!(
        create.json(),
        json!({"title": "Update strata/python-3.13", "head": "strata/python-3.13",
               "base": "main", "body": "Pins the new digest."})
    );
    assert_eq!(
        fake.requests()[1].line(),
        "POST /repos/acme/app/issues/1/labels"
    );
    assert_eq!(fake.pulls()[0].labels, ["dependencies", "docker"]);
    fake.assert_clean();
}

#[tokio::test]
async fn open_when_one_exists_updates_it_instead_of_duplicating() {
    let fake = fake().await;
    fake.push_branch("strata/python-3.13");
    fake.with(|m| m.add_pull("strata/python-3.13", "old title", "old body", false));
    let opened = fake
        .forge()
        .open_pull_request(REPO, &new_pull("strata/python-3.13"))
        .await
        .unwrap();
    assert_eq!(opened.outcome, OpenOutcome::Updated);
    assert_eq!(opened.pull_request.title, "Update strata/python-3.13");
    let lines: Vec<String> = fake.requests().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            "POST /repos/acme/app/pulls",
            "GET /repos/acme/app/pulls",
            "PATCH /repos/acme/app/pulls/1"
        ]
    );
    assert_eq!(
        fake.requests()[2].json(),
        json!({"title": "Update strata/python-3.13", "body": "Pins the new digest."})
    );
    assert_eq!(fake.pulls().len(), 1);
    fake.assert_clean();
}

#[tokio::test]
async fn a_refused_head_branch_is_reported_with_the_validation_details() {
    let fake = fake().await;
    let err = fake
        .forge()
        .open_pull_request(REPO, &new_pull("strata/never-pushed"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ForgeError::Rejected { status: 422, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("Validation Failed: invalid"), "{text}");
    fake.assert_clean();
}

#[tokio::test]
async fn a_rejected_token_names_the_variable_it_came_from() {
    let fake = fake().await;
    fake.with(|m| m.token = "rotated".into());
    let err = fake.forge().default_branch(REPO).await.unwrap_err();
    assert!(
        matches!(
            err,
            ForgeError::Unauthorized {
                token_variable: "GITHUB_TOKEN",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("Bad credentials"), "{err}");

    let url = fake.server.url();
    let vars = move |name: &str| match name {
        "GH_TOKEN" => Some(TOKEN.to_owned()),
        "GITHUB_API_URL" => Some(url.clone()),
        _ => None,
    };
    let client =
        GitHub::new(ForgeConfig::from_variables(ForgeKind::GitHub, vars).unwrap()).unwrap();
    let err = strata::forge::Forge::default_branch(&client, REPO)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("token from GH_TOKEN (HTTP 401)"), "{text}");
}

#[tokio::test]
async fn a_missing_repository_is_not_found_with_a_hint() {
    let fake = fake().await;
    let err = fake
        .forge()
        .default_branch("acme/missing")
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::NotFound { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("/repos/acme/missing not found (HTTP 404): Not Found"),
        "{text}"
    );
    assert!(text.contains("GITHUB_TOKEN can see it"), "{text}");
    let err = fake.forge().default_branch("no-slash").await.unwrap_err();
    assert!(
        matches!(err, ForgeError::InvalidRepository { .. }),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_for_reads_and_not_for_creates() {
    let fake = fake().await;
    fake.push_branch("strata/x");
    fake.fail("GET", "/pulls", 1, Answer::text(503, "unavailable"));
    let listed = fake
        .forge()
        .list_open_pull_requests_with_prefix(REPO, "strata/")
        .await
        .unwrap();
    assert!(listed.is_empty());
    assert_eq!(fake.count("GET", "/pulls"), 2);

    fake.fail(
        "POST",
        "/pulls",
        1,
        Answer::json(500, json!({"message": "Server Error"})),
    );
    let err = fake
        .forge()
        .open_pull_request(REPO, &new_pull("strata/x"))
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
    assert!(err.to_string().contains("Server Error"), "{err}");
    assert_eq!(fake.count("POST", "/pulls"), 1);

    fake.fail(
        "GET",
        "/repos/acme/app",
        9,
        Answer::text(502, "bad gateway"),
    );
    let err = fake.forge().default_branch(REPO).await.unwrap_err();
    assert!(
        matches!(
            err,
            ForgeError::Server {
                status: 502,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    fake.assert_clean();
}

#[tokio::test]
async fn rate_limits_say_when_they_reset() {
    let fake = fake().await;
    let reset = UNIX_EPOCH + Duration::from_secs(4_000_000_000);
    let answer = Answer::json(
        403,
        json!({"message": "API rate limit exceeded for installation."}),
    )
    .with_header("x-ratelimit-remaining", "0")
    .with_header("x-ratelimit-reset", "4000000000");
    fake.fail("GET", "/repos", 1, answer);
    let err = fake.forge().default_branch(REPO).await.unwrap_err();
    let ForgeError::RateLimited {
        reset: Some(at),
        status: 403,
        ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*at, reset);
    let text = err.to_string();
    assert!(text.contains(&httpdate::fmt_http_date(reset)), "{text}");
    assert!(text.contains("API rate limit exceeded"), "{text}");
    assert_eq!(fake.requests().len(), 1, "rate limits are not retried");
}

#[tokio::test]
async fn close_comments_first_then_closes() {
    let fake = fake().await;
    fake.with(|m| m.add_pull("strata/python-3.12", "old", "", false));
    let comment = "Superseded by #2.";
    let closed = fake
        .forge()
        .close_pull_request(REPO, 1, Some(comment))
        .await
        .unwrap();
    assert_eq!(closed.state, PullRequestState::Closed);
    let lines: Vec<String> = fake.requests().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            "POST /repos/acme/app/issues/1/comments",
            "PATCH /repos/acme/app/pulls/1"
        ]
    );
    assert_eq!(fake.requests()[1].json(), json!({"state": "closed"}));
    let pull = &fake.pulls()[0];
    assert_eq!(
        (pull.state, pull.comments.clone()),
        (State::Closed, vec![comment.to_owned()])
    );
    fake.assert_clean();
}

#[tokio::test]
async fn listings_stop_at_the_page_bound_and_never_follow_links_elsewhere() {
    let fake = fake().await;
    fake.with(|m| {
        m.page_size = 1;
        for n in 0..3 {
            m.add_pull(&format!("strata/p-{n}"), "p", "", false);
        }
    });
    let mut config = fake.config();
    config.max_pages = 2;
    let forge = strata::forge::connect(config).unwrap();
    let err = forge
        .list_open_pull_requests_with_prefix(REPO, "strata/")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ForgeError::TooManyPages { limit: 2, .. }),
        "{err:?}"
    );

    let elsewhere = Answer::json(200, json!([])).with_header(
        "link",
        "<http://127.0.0.2:9/repos/acme/app/pulls?page=2>; rel=\"next\"",
    );
    fake.fail("GET", "/pulls", 1, elsewhere);
    let err = fake
        .forge()
        .list_open_pull_requests_with_prefix(REPO, "strata/")
        .await
        .unwrap_err();
    assert!(matches!(err, ForgeError::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("leaves"), "{err}");
    fake.assert_clean();
}

/// Auto-merge has no REST endpoint: GraphQL's `enablePullRequestAutoMerge` with the pull
/// request's node id (docs.github.com/graphql, mutations). A pull request with nothing to
/// wait for is refused auto-merge ("clean status") and merged through REST instead
/// (`PUT /pulls/{n}/merge`); other GraphQL errors, which come with HTTP 200, are errors.
#[tokio::test]
async fn auto_merge_goes_through_graphql_and_merges_at_once_when_nothing_is_pending() {
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
    let graphql = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/graphql")
        .unwrap();
    let body = graphql.json();
    assert!(
        body["query"]
            .as_str()
            .unwrap()
            .contains("enablePullRequestAutoMerge")
    );
    assert_eq!(body["variables"]["id"], format!("PR_{REPO}#1"));
    assert_eq!(body["variables"]["method"], "SQUASH");
    assert_eq!(
        fake.with(|m| m.auto_merge.clone()),
        [(1, Some("SQUASH".to_owned()))]
    );

    fake.with(|m| m.checks_pass_after = None);
    let done = forge.enable_auto_merge(REPO, 2, None).await.unwrap();
    assert_eq!(done, AutoMerge::Merged);
    assert_eq!(fake.count("PUT", "/pulls/2/merge"), 1);
    assert_eq!(fake.pulls()[1].state, State::Merged);

    let err = forge.enable_auto_merge(REPO, 9, None).await.unwrap_err();
    assert!(
        matches!(
            err,
            ForgeError::NotFound { .. } | ForgeError::Rejected { .. }
        ),
        "{err}"
    );
    fake.assert_clean();
}
