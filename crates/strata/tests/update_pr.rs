//! `strata update --pr` end to end: the real binary, the real registry, a real git
//! repository pushing to a bare origin, and the HTTP fakes of the forges (which check
//! every request against the documented API): open, rerun without duplicates, update
//! after a newer move, close superseded pull requests, and finish after a crash between
//! push and opening.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod forge_support;
mod pin_support;
mod update_support;

use forge_support::{Answer, Fake, State as PullState};
use pin_support::Run;
use strata::forge::ForgeKind;
use strata::state::{ProposalKey, ProposalStage, State};
use strata_testkit::Index;
use update_support::{GitRepo, Registry, assert_code};

const SOURCE: &str = "https://github.com/docker-library/python";
const BRANCH: &str = "strata/python-3.12";

struct Setup {
    registry: Registry,
    repo: GitRepo,
    fake: Fake,
    old: Index,
    new: Index,
}

/// A repository pinning python:3.12 (a two-platform index with source labels) in two
/// files, pushed to a bare origin; the tag then moves; a fake forge hosts `acme/app`.
async fn setup(kind: ForgeKind, slug: &str) -> Setup {
    let registry = Registry::start().await;
    let old = registry
        .index("library/python", "3.12", SOURCE, "1111111aaaaaaa")
        .await;
    let pinned = format!("python:3.12@{}", old.digest());
    let files = [
        (
            "Dockerfile",
            format!("FROM {pinned}\nRUN pip install app\n"),
        ),
        (
            "tools/Dockerfile",
            format!("FROM alpine:3.20\nFROM {pinned} AS tools\n"),
        ),
        (
            "strata.toml",
            "[update]\nlabels = [\"dependencies\"]\n".to_owned(),
        ),
    ];
    let repo = GitRepo::new(&files, true);
    repo.add_origin();
    let new = registry
        .index("library/python", "3.12", SOURCE, "2222222bbbbbbb")
        .await;
    let fake = Fake::start(kind, slug).await;
    fake.push_branch(BRANCH);
    Setup {
        registry,
        repo,
        fake,
        old,
        new,
    }
}

impl Setup {
    async fn update(&self, forge: &str, slug: &str) -> Run {
        let args = ["update", "--pr", forge, "--repo", slug, "--format", "json"];
        let env: Vec<(&str, String)> = self.fake.variables();
        self.repo.strata(&self.registry.args(&args), &env).await
    }

    fn key(&self) -> ProposalKey {
        ProposalKey {
            repository: self.repo.origin().to_str().unwrap().to_owned(),
            branch: BRANCH.into(),
        }
    }
}

#[tokio::test]
async fn opens_one_pull_request_and_reruns_never_duplicate_it() {
    let s = setup(ForgeKind::GitHub, "acme/app").await;
    let run = s.update("github", "acme/app").await;
    assert_code(&run, 0);
    let doc = run.json();
    let group = &doc["groups"][0];
    assert_eq!(group["pushed"], true);
    assert_eq!(group["pull_request"]["outcome"], "created");
    assert_eq!(s.repo.origin_rev(BRANCH), s.repo.rev(BRANCH));

    let pulls = s.fake.pulls();
    assert_eq!(pulls.len(), 1);
    let pull = &pulls[0];
    let new = s.new.digest();
    assert_eq!((pull.head.as_str(), pull.base.as_str()), (BRANCH, "main"));
    assert_eq!(pull.title, format!("Update python:3.12 to {}…", &new[..15]));
    assert_eq!(pull.labels, ["dependencies"]);
    let body = &pull.body;
    assert!(
        body.contains(&format!("| Old | `{}` |", s.old.digest())),
        "{body}"
    );
    assert!(body.contains(&format!("| New | `{new}` |")), "{body}");
    for (old_image, new_image) in s.old.images().iter().zip(s.new.images()) {
        let (os, arch, variant) = new_image.os_arch();
        let platform = match variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        };
        let row = format!(
            "| {platform} | `{}` | `{}` |",
            old_image.digest(),
            new_image.digest()
        );
        assert!(body.contains(&row), "{row}\n{body}");
    }
    assert!(body.contains("First seen at the new digest: "), "{body}");
    let compare = format!("{SOURCE}/compare/1111111aaaaaaa...2222222bbbbbbb");
    assert!(body.contains(&compare), "{body}");
    assert!(
        body.contains("- `Dockerfile` line 1\n- `tools/Dockerfile` line 2\n"),
        "{body}"
    );
    assert!(body.contains("<!-- strata:update {"), "{body}");
    // The image comparison: the summary above the details, one collapsible section per
    // platform (the index has two).
    let summary = body.find("**Summary:**").expect(body);
    let details = body.find("<details>").expect(body);
    assert!(summary < details, "{body}");
    assert_eq!(body.matches("<details>").count(), 2, "{body}");

    let state = State::open(&s.repo.state()).await.unwrap();
    let proposal = state.proposal(&s.key()).await.unwrap().unwrap();
    assert_eq!(proposal.stage(), ProposalStage::Open);
    assert_eq!(proposal.commit, s.repo.rev(BRANCH));
    state.close().await;

    // Again: nothing pushed, nothing opened, the pull request left as it is.
    let again = s.update("github", "acme/app").await;
    assert_code(&again, 0);
    let group = &again.json()["groups"][0];
    assert_eq!(group["pushed"], false);
    assert_eq!(group["pull_request"]["outcome"], "unchanged");
    assert_eq!(s.fake.pulls().len(), 1);
    assert_eq!(s.fake.count("POST", "/pulls"), 1);

    // A newer move: the same branch and pull request carry it.
    let newest = s
        .registry
        .index("library/python", "3.12", SOURCE, "3333333ccccccc")
        .await;
    let third = s.update("github", "acme/app").await;
    assert_code(&third, 0);
    let group = &third.json()["groups"][0];
    assert_eq!(group["pull_request"]["outcome"], "updated");
    assert_eq!(group["pull_request"]["number"], pull.number);
    let pulls = s.fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert!(
        pulls[0].title.contains(&newest.digest()[..15]),
        "{}",
        pulls[0].title
    );
    assert!(
        pulls[0]
            .body
            .contains(&format!("| Old | `{}` |", s.old.digest()))
    );
    assert_eq!(s.repo.origin_rev(BRANCH), s.repo.rev(BRANCH));
    s.fake.assert_clean();
}

/// A marker as strata writes it, proposing `to` for `base`.
fn marker(base: &str, to: &str) -> String {
    format!(
        "Old proposal.\n\n<!-- strata:update {{\"version\":1,\"group\":\"{base}\",\"moves\":[{{\"base\":\"{base}\",\"to\":\"{to}\"}}]}} -->\n"
    )
}

#[tokio::test]
async fn a_newer_move_closes_the_pull_requests_it_supersedes() {
    let s = setup(ForgeKind::GitHub, "acme/app").await;
    let python = "docker.io/library/python:3.12";
    let stale = marker(python, &s.old.digest());
    let slim = marker("docker.io/library/python:3.12-slim", &s.old.digest());
    let (outdated, other_tag, by_hand) = s.fake.with(|m| {
        (
            m.add_pull(
                "strata/python-3.12-previous",
                "Update python:3.12",
                &stale,
                false,
            ),
            m.add_pull(
                "strata/python-3.12-slim",
                "Update python:3.12-slim",
                &slim,
                false,
            ),
            m.add_pull("strata/python-3.12-manual", "Hand-made", "no marker", false),
        )
    });
    let run = s.update("github", "acme/app").await;
    assert_code(&run, 0);
    let doc = run.json();
    let opened = doc["groups"][0]["pull_request"]["number"].as_u64().unwrap();
    assert_eq!(
        doc["groups"][0]["pull_request"]["superseded"],
        serde_json::json!([outdated])
    );

    let pulls = s.fake.pulls();
    let by_number = |n: u64| pulls.iter().find(|p| p.number == n).unwrap();
    let closed = by_number(outdated);
    assert_eq!(closed.state, PullState::Closed);
    assert_eq!(closed.comments.len(), 1);
    assert!(
        closed.comments[0].starts_with(&format!("Superseded by #{opened} (")),
        "{}",
        closed.comments[0]
    );
    for untouched in [other_tag, by_hand, opened] {
        assert_eq!(by_number(untouched).state, PullState::Open, "#{untouched}");
        assert!(by_number(untouched).comments.is_empty());
    }
    s.fake.assert_clean();
}

#[tokio::test]
async fn a_crash_between_push_and_opening_is_finished_by_the_next_run() {
    let s = setup(ForgeKind::GitHub, "acme/app").await;
    let boom = serde_json::json!({"message": "Server Error"});
    s.fake.fail("POST", "/pulls", 1, Answer::json(500, boom));
    let run = s.update("github", "acme/app").await;
    assert_code(&run, 2);
    let doc = run.json();
    let error = doc["groups"][0]["error"].as_str().unwrap();
    assert!(error.contains("500"), "{error}");
    assert!(s.fake.pulls().is_empty());
    assert_eq!(s.repo.origin_rev(BRANCH), s.repo.rev(BRANCH));
    let state = State::open(&s.repo.state()).await.unwrap();
    let proposal = state.proposal(&s.key()).await.unwrap().unwrap();
    assert_eq!(proposal.stage(), ProposalStage::Pushed);
    state.close().await;

    let again = s.update("github", "acme/app").await;
    assert_code(&again, 0);
    let group = &again.json()["groups"][0];
    assert_eq!(group["pushed"], false, "the branch was already there");
    assert_eq!(group["pull_request"]["outcome"], "created");
    assert_eq!(s.fake.pulls().len(), 1);
    let state = State::open(&s.repo.state()).await.unwrap();
    let proposal = state.proposal(&s.key()).await.unwrap().unwrap();
    assert_eq!(proposal.stage(), ProposalStage::Open);
    state.close().await;
    s.fake.assert_clean();
}

#[tokio::test]
async fn gitlab_merge_requests_follow_the_same_flow() {
    let s = setup(ForgeKind::GitLab, "group/sub/app").await;
    let run = s.update("gitlab", "group/sub/app").await;
    assert_code(&run, 0);
    let again = s.update("gitlab", "group/sub/app").await;
    assert_code(&again, 0);
    assert_eq!(
        again.json()["groups"][0]["pull_request"]["outcome"],
        "unchanged"
    );
    let pulls = s.fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0].head, BRANCH);
    assert_eq!(pulls[0].labels, ["dependencies"]);
    s.fake.assert_clean();
}

#[tokio::test]
async fn a_pull_request_the_database_never_heard_of_is_adopted_not_duplicated() {
    let s = setup(ForgeKind::GitHub, "acme/app").await;
    // Opened by a run that crashed before recording it; and the forge's listing lags,
    // so the create is refused with GitHub's 422 "A pull request already exists".
    let existing = s
        .fake
        .with(|m| m.add_pull(BRANCH, "Update python:3.12", "old body", false));
    s.fake
        .fail("GET", "/pulls", 1, Answer::json(200, serde_json::json!([])));
    let run = s.update("github", "acme/app").await;
    assert_code(&run, 0);
    let group = &run.json()["groups"][0];
    assert_eq!(group["pull_request"]["number"], existing);
    assert_eq!(group["pull_request"]["outcome"], "updated");
    assert_eq!(
        s.fake.count("POST", "/pulls"),
        1,
        "one create, refused with 422"
    );
    let pulls = s.fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert!(pulls[0].body.contains("<!-- strata:update {"));
    let state = State::open(&s.repo.state()).await.unwrap();
    let proposal = state.proposal(&s.key()).await.unwrap().unwrap();
    assert_eq!(proposal.pull_request.map(|p| p.number), Some(existing));
    state.close().await;
    s.fake.assert_clean();
}
