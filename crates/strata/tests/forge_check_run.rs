//! GitHub check runs against the GitHub REST fake on 127.0.0.1: annotations in batches of
//! 50 (one create, then updates that GitHub appends), and the run completed only last.
#![allow(clippy::unwrap_used)]

mod forge_support;

use forge_support::Fake;
use strata::forge::{Annotation, AnnotationLevel, CheckConclusion, CheckRun, ForgeKind, GitHub};

const REPO: &str = "acme/app";

async fn fake() -> Fake {
    Fake::start(ForgeKind::GitHub, REPO).await
}

fn annotations(count: usize) -> Vec<Annotation> {
    (0..count)
        .map(|n| Annotation {
            path: format!("services/s{n}/Dockerfile"),
            start_line: 1,
            end_line: 1,
            level: if n % 2 == 0 {
                AnnotationLevel::Failure
            } else {
                AnnotationLevel::Warning
            },
            message: format!("image {n} is not pinned to a digest"),
            title: (n == 0).then(|| "unpinned-image".to_owned()),
        })
        .collect()
}

fn check_run(count: usize) -> CheckRun {
    CheckRun {
        name: "strata".into(),
        conclusion: CheckConclusion::Failure,
        title: format!("{count} unpinned images"),
        summary: "Run `strata pin` to fix.".into(),
        annotations: annotations(count),
    }
}

async fn github(fake: &Fake) -> GitHub {
    GitHub::new(fake.config()).unwrap()
}

#[tokio::test]
async fn a_check_run_with_120_annotations_is_one_create_and_two_updates() {
    let fake = fake().await;
    let created = github(&fake)
        .await
        .create_check_run(REPO, "abc123", &check_run(120))
        .await
        .unwrap();
    assert_eq!((created.id, created.requests), (1000, 3));
    assert!(
        created.url.ends_with("/acme/app/runs/1000"),
        "{}",
        created.url
    );
    let requests = fake.requests();
    let lines: Vec<String> = requests.iter().map(|r| r.line()).collect();
    assert_eq!(
        lines,
        [
            "POST /repos/acme/app/check-runs",
            "PATCH /repos/acme/app/check-runs/1000",
            "PATCH /repos/acme/app/check-runs/1000"
        ]
    );
    let sizes: Vec<usize> = requests
        .iter()
        .map(|r| r.json()["output"]["annotations"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [50, 50, 20]);
    let create = requests[0].json();
    assert_eq!(
        (create["status"].as_str(), create["head_sha"].as_str()),
        (Some("in_progress"), Some("abc123"))
    );
    assert_eq!(
        create["output"]["annotations"][0]["title"],
        "unpinned-image"
    );
    assert_eq!(requests[1].json()["status"], "in_progress");
    assert_eq!(requests[2].json()["conclusion"], "failure");
    let run = fake.with(|m| m.check_runs[0].clone());
    assert_eq!(
        (run.status.as_str(), run.conclusion.as_deref()),
        ("completed", Some("failure"))
    );
    assert_eq!(run.annotations.len(), 120);
    assert_eq!(
        run.annotations[119]["message"],
        "image 119 is not pinned to a digest"
    );
    fake.assert_clean();
}

#[tokio::test]
async fn a_check_run_with_few_annotations_is_a_single_completed_create() {
    let fake = fake().await;
    let mut run = check_run(3);
    run.conclusion = CheckConclusion::Success;
    let created = github(&fake)
        .await
        .create_check_run(REPO, "abc123", &run)
        .await
        .unwrap();
    assert_eq!(created.requests, 1);
    let create = fake.requests()[0].json();
    assert_eq!(
        (create["status"].as_str(), create["conclusion"].as_str()),
        (Some("completed"), Some("success"))
    );
    let empty = github(&fake)
        .await
        .create_check_run(REPO, "abc123", &check_run(0))
        .await
        .unwrap();
    assert_eq!(empty.requests, 1);
    fake.assert_clean();
}

#[tokio::test]
async fn a_token_without_checks_permission_is_told_so() {
    let fake = fake().await;
    let refusal = serde_json::json!({"message": "Resource not accessible by integration"});
    fake.fail(
        "POST",
        "/check-runs",
        1,
        forge_support::Answer::json(403, refusal),
    );
    let err = github(&fake)
        .await
        .create_check_run(REPO, "abc123", &check_run(60))
        .await
        .unwrap_err();
    assert!(
        matches!(err, strata::forge::ForgeError::Forbidden { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("token from GITHUB_TOKEN (HTTP 403): Resource not accessible"),
        "{text}"
    );
    assert!(text.contains("checks"), "{text}");
    assert_eq!(fake.requests().len(), 1, "no update after a failed create");
}
