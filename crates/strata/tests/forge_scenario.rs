//! What `strata update --pr` does across runs, through `dyn Forge`, on each forge's fake:
//! open, run again (unchanged, then updated, never duplicated), recover from a crash
//! between push and opening, and close the pull request a newer move superseded with a
//! comment linking its replacement.
#![allow(clippy::unwrap_used)]

mod forge_support;

use forge_support::{Fake, State};
use strata::forge::{
    Forge, ForgeKind, NewPullRequest, OpenOutcome, PullRequestState, ensure_pull_request,
    superseded_comment,
};

fn proposal(head: &str, body: &str) -> NewPullRequest {
    NewPullRequest {
        head: head.into(),
        base: "main".into(),
        title: format!(
            "Update python to {}",
            head.trim_start_matches("strata/python-")
        ),
        body: body.into(),
        labels: vec!["dependencies".into()],
    }
}

/// Closes every open `strata/python-*` pull request except `keep`, as update does after
/// a newer move.
async fn close_superseded(forge: &dyn Forge, repo: &str, keep: &strata::forge::PullRequest) {
    let open = forge
        .list_open_pull_requests_with_prefix(repo, "strata/python-")
        .await
        .unwrap();
    for stale in open.iter().filter(|p| p.number != keep.number) {
        let comment = superseded_comment(forge.kind(), keep);
        forge
            .close_pull_request(repo, stale.number, Some(&comment))
            .await
            .unwrap();
    }
}

async fn scenario(kind: ForgeKind, repo: &str) {
    let fake = Fake::start(kind, repo).await;
    fake.with(|m| m.labels = vec![(1, "dependencies".into())]);
    let forge = fake.forge();
    assert_eq!(forge.default_branch(repo).await.unwrap(), "main");

    // First run: branch pushed, pull request opened.
    fake.push_branch("strata/python-3.12");
    let first = proposal("strata/python-3.12", "digest sha256:aaa");
    let opened = ensure_pull_request(&*forge, repo, &first).await.unwrap();
    assert_eq!(opened.outcome, OpenOutcome::Created);
    let old = opened.pull_request;

    // Same run again: nothing to change, nothing opened.
    let again = ensure_pull_request(&*forge, repo, &first).await.unwrap();
    assert_eq!(
        (again.outcome, again.pull_request.number),
        (OpenOutcome::Unchanged, old.number)
    );

    // The tag moved again: the same branch is force-pushed, the description updated.
    let moved = proposal("strata/python-3.12", "digest sha256:bbb");
    let updated = ensure_pull_request(&*forge, repo, &moved).await.unwrap();
    assert_eq!(
        (updated.outcome, updated.pull_request.number),
        (OpenOutcome::Updated, old.number)
    );
    assert_eq!(updated.pull_request.body, "digest sha256:bbb");

    // A newer tag: its branch is pushed, then the run crashes before opening.
    fake.push_branch("strata/python-3.13");
    // The next run finds no pull request for the pushed branch and opens it.
    let newer = proposal("strata/python-3.13", "digest sha256:ccc");
    let opened = ensure_pull_request(&*forge, repo, &newer).await.unwrap();
    assert_eq!(opened.outcome, OpenOutcome::Created);
    let new = opened.pull_request;
    close_superseded(&*forge, repo, &new).await;

    // A further run changes nothing and closes nothing more.
    let last = ensure_pull_request(&*forge, repo, &newer).await.unwrap();
    assert_eq!(last.outcome, OpenOutcome::Unchanged);
    close_superseded(&*forge, repo, &new).await;

    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 2, "never a duplicate: {pulls:#?}");
    assert_eq!(
        (pulls[0].state, pulls[1].state),
        (State::Closed, State::Open)
    );
    assert_eq!(pulls[0].body, "digest sha256:bbb");
    assert_eq!(pulls[0].comments.len(), 1);
    let comment = &pulls[0].comments[0];
    assert!(comment.contains(&kind.reference(new.number)), "{comment}");
    assert!(comment.contains(&new.url), "{comment}");
    assert_eq!(pulls[1].labels, ["dependencies"]);
    let still_open = forge
        .list_open_pull_requests_with_prefix(repo, "strata/")
        .await
        .unwrap();
    assert_eq!(still_open.len(), 1);
    assert_eq!(still_open[0].state, PullRequestState::Open);
    fake.assert_clean();
}

#[tokio::test]
async fn github_update_runs_never_duplicate_and_close_superseded() {
    scenario(ForgeKind::GitHub, "acme/app").await;
}

#[tokio::test]
async fn gitlab_update_runs_never_duplicate_and_close_superseded() {
    scenario(ForgeKind::GitLab, "acme/platform/app").await;
}

#[tokio::test]
async fn gitea_update_runs_never_duplicate_and_close_superseded() {
    scenario(ForgeKind::Gitea, "acme/app").await;
}

/// Two runs racing: the second one's find ran before the first one opened, so its create
/// hits "already exists" and it adopts the pull request instead of failing.
async fn race(kind: ForgeKind, repo: &str) {
    let fake = Fake::start(kind, repo).await;
    let forge = fake.forge();
    fake.push_branch("strata/python-3.13");
    let wanted = proposal("strata/python-3.13", "digest sha256:ccc");
    let first = forge.open_pull_request(repo, &wanted).await.unwrap();
    let second = forge.open_pull_request(repo, &wanted).await.unwrap();
    assert_eq!(first.outcome, OpenOutcome::Created);
    assert_eq!(second.outcome, OpenOutcome::Unchanged);
    assert_eq!(first.pull_request.number, second.pull_request.number);
    assert_eq!(fake.pulls().len(), 1);
    fake.assert_clean();
}

#[tokio::test]
async fn racing_creates_adopt_the_existing_pull_request_on_every_forge() {
    race(ForgeKind::GitHub, "acme/app").await;
    race(ForgeKind::GitLab, "acme/platform/app").await;
    race(ForgeKind::Gitea, "acme/app").await;
}
