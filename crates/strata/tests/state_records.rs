//! What the state database records: tag observations and moves, proposals recovered
//! after a crash, and cascade nodes claimed exactly once even by concurrent runs — the
//! same on both backends (SQLite and PostgreSQL: `state_support::both`).
#![allow(clippy::unwrap_used)]

mod state_support;

use state_support::both;
use strata::forge::{ForgeKind, PullRequestState};
use strata::registry::TagKey;
use strata::state::{
    Drive, GroupKey, NewCascade, NewNode, NodeState, Observation, ProposalDraft, ProposalKey,
    ProposalStage, PullRequest, RunOutcome, RunStatus, StateError, TagMove,
};
use strata_core::reference::Digest;
use time::OffsetDateTime;

fn digest(fill: char) -> Digest {
    format!("sha256:{}", fill.to_string().repeat(64))
        .parse()
        .unwrap()
}

fn tag(name: &str) -> TagKey {
    TagKey {
        registry: "docker.io".into(),
        repository: "library/python".into(),
        tag: name.into(),
    }
}

/// A fixed clock: `at(n)` is n minutes after a fixed instant.
fn at(minutes: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000 + 60 * minutes).unwrap()
}

#[tokio::test]
async fn observations_a_a_b_a_record_two_moves_and_since_when() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        let key = tag("3.12");
        let (a, b) = (digest('a'), digest('b'));

        let outcomes = [
            state.record_observation(&key, &a, at(0)).await.unwrap(),
            state.record_observation(&key, &a, at(1)).await.unwrap(),
            state.record_observation(&key, &b, at(2)).await.unwrap(),
            state.record_observation(&key, &a, at(3)).await.unwrap(),
        ];
        let to_b = TagMove {
            id: strata::state::MoveId(1),
            from: a.clone(),
            to: b.clone(),
            from_last_seen: at(1),
            observed_at: at(2),
            to_first_seen: at(2),
        };
        // Back to a digest seen before: "seen since" is its first sighting.
        let back_to_a = TagMove {
            id: strata::state::MoveId(2),
            from: b.clone(),
            to: a.clone(),
            from_last_seen: at(2),
            observed_at: at(3),
            to_first_seen: at(0),
        };
        assert_eq!(
            outcomes,
            [
                Observation::New,
                Observation::Unchanged { since: at(0) },
                Observation::Moved(to_b.clone()),
                Observation::Moved(back_to_a.clone()),
            ]
        );

        let current = state.current(&key).await.unwrap().unwrap();
        assert_eq!(current.digest, a);
        assert_eq!((current.since, current.first_checked), (at(3), at(0)));
        assert_eq!(current.last_checked, at(3));
        assert_eq!(
            state.history(&key).await.unwrap(),
            vec![to_b, back_to_a.clone()]
        );
        assert_eq!(state.last_move(&key).await.unwrap(), Some(back_to_a));
        assert_eq!(
            state.digest_first_seen(&key, &a).await.unwrap(),
            Some(at(0))
        );
        assert_eq!(
            state.digest_first_seen(&key, &b).await.unwrap(),
            Some(at(2))
        );
        assert_eq!(
            state.digest_first_seen(&key, &digest('c')).await.unwrap(),
            None
        );
        let sightings: Vec<_> = state
            .sightings(&key)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.digest, s.first_seen, s.last_seen))
            .collect();
        assert_eq!(sightings, vec![(a, at(0), at(3)), (b, at(2), at(2))]);

        // A later unchanged observation reports the stint that started with the last move.
        let again = state.record_observation(&key, &digest('a'), at(9)).await;
        assert_eq!(again.unwrap(), Observation::Unchanged { since: at(3) });
    }
}

#[tokio::test]
async fn an_out_of_order_observation_moves_nothing() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        let key = tag("3.13");
        state
            .record_observation(&key, &digest('a'), at(0))
            .await
            .unwrap();
        state
            .record_observation(&key, &digest('b'), at(5))
            .await
            .unwrap();

        let late = state.record_observation(&key, &digest('c'), at(3)).await;
        assert_eq!(
            late.unwrap(),
            Observation::Outdated {
                current: digest('b')
            }
        );
        assert_eq!(
            state.current(&key).await.unwrap().unwrap().digest,
            digest('b')
        );
        assert_eq!(state.history(&key).await.unwrap().len(), 1);
        let seen_c = state.digest_first_seen(&key, &digest('c')).await.unwrap();
        assert_eq!(seen_c, Some(at(3)));
    }
}

#[tokio::test]
async fn tags_are_independent_and_unknown_tags_are_empty() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        state
            .record_observation(&tag("3.12"), &digest('a'), at(0))
            .await
            .unwrap();
        let other = state
            .record_observation(&tag("3.13"), &digest('b'), at(1))
            .await;
        assert_eq!(other.unwrap(), Observation::New);

        let unknown = tag("2.7");
        assert_eq!(state.current(&unknown).await.unwrap(), None);
        assert!(state.history(&unknown).await.unwrap().is_empty());
        assert_eq!(state.last_move(&unknown).await.unwrap(), None);
        assert!(state.sightings(&unknown).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn timestamps_keep_whole_microseconds() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        let precise = at(0) + time::Duration::nanoseconds(1_234_567);
        state
            .record_observation(&tag("3.12"), &digest('a'), precise)
            .await
            .unwrap();
        let since = state.current(&tag("3.12")).await.unwrap().unwrap().since;
        assert_eq!(since, at(0) + time::Duration::microseconds(1_234));
    }
}

fn draft(new: char) -> ProposalDraft {
    ProposalDraft {
        key: ProposalKey {
            repository: "https://github.com/acme/app.git".into(),
            branch: "strata/python-3.12".into(),
        },
        group: GroupKey::new("docker.io/library/python:3.12"),
        old_digest: digest('a'),
        new_digest: digest(new),
        forge: ForgeKind::GitHub,
    }
}

fn pull_request(state: PullRequestState) -> PullRequest {
    PullRequest {
        number: 42,
        url: "https://github.com/acme/app/pull/42".into(),
        state,
    }
}

#[tokio::test]
async fn a_rerun_after_a_crash_between_push_and_pull_request_finishes_the_job() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        rerun_after_a_crash(&db).await;
    }
}

async fn rerun_after_a_crash(db: &state_support::Db) {
    let key = draft('b').key;

    // First run: record, push, then crash before opening the pull request.
    let state = db.reopen().await;
    let first = state.upsert_proposal(&draft('b'), at(0)).await.unwrap();
    assert_eq!(first.stage(), ProposalStage::Prepared);
    let pushed = state.record_commit(&key, "c0ffee", at(1)).await.unwrap();
    assert_eq!(pushed.stage(), ProposalStage::Pushed);
    drop(state);

    // Second run: the same upsert finds the pushed branch and only the PR is left to do.
    let state = db.reopen().await;
    let found = state.upsert_proposal(&draft('b'), at(5)).await.unwrap();
    assert_eq!(found, pushed, "an identical upsert changes nothing");
    assert!(!found.needs_push() && found.needs_pull_request());
    let pr = pull_request(PullRequestState::Open);
    let opened = state.record_pull_request(&key, &pr, at(6)).await.unwrap();
    assert_eq!(opened.stage(), ProposalStage::Open);
    assert_eq!(opened.pull_request, Some(pr));
    assert_eq!((opened.created_at, opened.updated_at), (at(0), at(6)));

    assert_eq!(state.proposal(&key).await.unwrap(), Some(opened.clone()));
    let group = GroupKey::new("docker.io/library/python:3.12");
    assert_eq!(
        state.proposals_in_group(&group).await.unwrap(),
        vec![opened.clone()]
    );
    assert_eq!(state.open_proposals().await.unwrap(), vec![opened]);
}

#[tokio::test]
async fn new_content_keeps_an_open_pull_request_and_replaces_a_merged_one() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        let key = draft('b').key;
        state.upsert_proposal(&draft('b'), at(0)).await.unwrap();
        state.record_commit(&key, "one", at(1)).await.unwrap();
        let open = pull_request(PullRequestState::Open);
        state.record_pull_request(&key, &open, at(2)).await.unwrap();

        // The tag moved again: push the new content to the same pull request.
        let moved = state.upsert_proposal(&draft('c'), at(3)).await.unwrap();
        assert_eq!(
            (moved.commit.as_deref(), moved.stage()),
            (None, ProposalStage::Open)
        );
        assert!(moved.needs_push() && !moved.needs_pull_request());
        assert_eq!(moved.updated_at, at(3));

        state.record_commit(&key, "two", at(4)).await.unwrap();
        let merged = pull_request(PullRequestState::Merged);
        state
            .record_pull_request(&key, &merged, at(5))
            .await
            .unwrap();
        assert!(state.open_proposals().await.unwrap().is_empty());

        // Once merged, a later move on the same branch needs a new pull request.
        let next = state.upsert_proposal(&draft('d'), at(6)).await.unwrap();
        assert_eq!(next.stage(), ProposalStage::Prepared);
        assert_eq!(next.pull_request, None);
        assert_eq!(state.open_proposals().await.unwrap(), vec![next]);
    }
}

#[tokio::test]
async fn updating_an_unknown_proposal_is_an_error() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        let error = state.record_commit(&draft('b').key, "c0ffee", at(0)).await;
        assert!(
            matches!(error, Err(StateError::UnknownProposal { .. })),
            "{error:?}"
        );
    }
}

fn cascade(images: usize) -> NewCascade {
    NewCascade {
        root_image: "docker.io/library/python:3.12".into(),
        old_root_digest: digest('a'),
        new_root_digest: digest('b'),
        nodes: (0..images)
            .map(|i| NewNode {
                image: format!("registry.example/app-{i}:latest"),
                level: 1 + u32::try_from(i % 3).unwrap(),
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_of_a_node_have_exactly_one_winner() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        concurrent_claims(&db).await;
    }
}

async fn concurrent_claims(db: &state_support::Db) {
    // Two handles with their own connections, like two strata processes starting the
    // same cascade at the same moment: they end up in one run.
    let first = db.reopen().await;
    let second = db.reopen().await;
    let new = cascade(16);
    let (a, b) = tokio::join!(
        first.open_cascade(&new, at(0)),
        second.open_cascade(&new, at(0))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.run.id, b.run.id, "one running cascade per root");
    assert_ne!(a.resumed, b.resumed, "one started it, the other resumed it");
    let run = a.run.id;

    let mut tasks = Vec::new();
    for state in [&first, &second, &first, &second] {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            for i in 0..16 {
                let image = format!("registry.example/app-{i}:latest");
                if state.claim_node(run, &image, at(1)).await.unwrap() {
                    won.push(image);
                }
            }
            won
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        winners.extend(task.await.unwrap());
    }
    // Every claim that won counts: a node won twice would show up twice here.
    assert_eq!(
        winners.len(),
        16,
        "every node claimed exactly once: {winners:?}"
    );
    winners.sort();
    winners.dedup();
    assert_eq!(winners.len(), 16, "{winners:?}");
    for node in first.cascade_nodes(run).await.unwrap() {
        assert_eq!(
            (node.state, node.attempts),
            (NodeState::Triggered, 1),
            "{node:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_drives_a_cascade_and_others_follow_until_it_lets_go() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        cascade_drive(&db).await;
    }
}

async fn cascade_drive(db: &state_support::Db) {
    let first = db.reopen().await;
    let second = db.reopen().await;
    let run = first.start_cascade(&cascade(2), at(0)).await.unwrap().id;
    let until = at(30);
    // Asked at once, one wins.
    let (a, b) = tokio::join!(
        first.drive_cascade(run, "host:1", None, until, at(0)),
        second.drive_cascade(run, "host:2", None, until, at(0))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let (winner, loser) = match (&a, &b) {
        (Drive::Mine, Drive::Theirs { driver, .. }) => {
            assert_eq!(driver, "host:1");
            ("host:1", "host:2")
        }
        (Drive::Theirs { driver, .. }, Drive::Mine) => {
            assert_eq!(driver, "host:2");
            ("host:2", "host:1")
        }
        other => panic!("exactly one driver: {other:?}"),
    };
    // The driver renews; the other still follows.
    assert_eq!(
        first
            .drive_cascade(run, winner, None, at(40), at(10))
            .await
            .unwrap(),
        Drive::Mine
    );
    assert!(matches!(
        second.drive_cascade(run, loser, None, at(40), at(20)).await.unwrap(),
        Drive::Theirs { until, .. } if until == at(40)
    ));
    // A driver known to be gone is replaced at once; a lease that ran out, by anyone.
    assert_eq!(
        second
            .drive_cascade(run, loser, Some(winner), at(50), at(21))
            .await
            .unwrap(),
        Drive::Mine
    );
    assert_eq!(
        first
            .drive_cascade(run, "host:3", None, at(90), at(51))
            .await
            .unwrap(),
        Drive::Mine
    );
    // Letting go frees it; only the driver can.
    first.release_cascade(run, "host:1").await.unwrap();
    assert!(matches!(
        first.drive_cascade(run, "host:1", None, at(95), at(52)).await.unwrap(),
        Drive::Theirs { driver, .. } if driver == "host:3"
    ));
    first.release_cascade(run, "host:3").await.unwrap();
    assert_eq!(
        second
            .drive_cascade(run, "host:1", None, at(95), at(53))
            .await
            .unwrap(),
        Drive::Mine
    );
    // A finished run has nothing to drive.
    first
        .finish_cascade(run, RunOutcome::Succeeded, at(60))
        .await
        .unwrap();
    assert_eq!(
        second
            .drive_cascade(run, "host:2", None, at(99), at(61))
            .await
            .unwrap(),
        Drive::Over(RunStatus::Succeeded)
    );
}

#[tokio::test]
async fn a_cascade_moves_nodes_through_their_states_and_resumes_after_reopening() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        cascade_states(&db).await;
    }
}

async fn cascade_states(db: &state_support::Db) {
    let state = db.reopen().await;
    let run = state.start_cascade(&cascade(3), at(0)).await.unwrap();
    assert_eq!(run.status, RunStatus::Running);
    let [app0, app1, app2] =
        ["app-0", "app-1", "app-2"].map(|n| format!("registry.example/{n}:latest"));

    assert!(state.claim_node(run.id, &app0, at(1)).await.unwrap());
    assert!(state.claim_node(run.id, &app1, at(1)).await.unwrap());
    state
        .fail_node(run.id, &app1, "base failed", at(1))
        .await
        .unwrap();
    state.close().await;

    // A resumed run sees where the crashed one stopped and does not claim app0 again.
    let state = db.reopen().await;
    assert_eq!(state.running_cascades().await.unwrap(), vec![run.clone()]);
    assert!(!state.claim_node(run.id, &app0, at(2)).await.unwrap());
    state
        .publish_node(run.id, &app0, &digest('c'), at(3))
        .await
        .unwrap();
    state
        .publish_node(run.id, &app0, &digest('c'), at(3))
        .await
        .unwrap();
    assert!(state.retry_node(run.id, &app1, at(4)).await.unwrap());
    assert!(state.claim_node(run.id, &app1, at(4)).await.unwrap());
    state
        .skip_node(run.id, &app2, "nothing to rebuild", at(5))
        .await
        .unwrap();

    let skip_triggered = state.skip_node(run.id, &app1, "late", at(5)).await;
    assert!(
        matches!(
            skip_triggered,
            Err(StateError::InvalidTransition {
                from: NodeState::Triggered,
                to: NodeState::Skipped,
                ..
            })
        ),
        "{skip_triggered:?}"
    );
    let unknown = state
        .claim_node(run.id, "registry.example/nope:1", at(5))
        .await;
    assert!(
        matches!(unknown, Err(StateError::UnknownNode { .. })),
        "{unknown:?}"
    );

    let nodes = state.cascade_nodes(run.id).await.unwrap();
    let summary: Vec<_> = nodes
        .iter()
        .map(|n| (n.image.as_str(), n.level, n.state, n.attempts))
        .collect();
    assert_eq!(
        summary,
        vec![
            (app0.as_str(), 1, NodeState::Published, 1),
            (app1.as_str(), 2, NodeState::Triggered, 2),
            (app2.as_str(), 3, NodeState::Skipped, 0),
        ]
    );
    assert_eq!(nodes[0].new_digest, Some(digest('c')));
    assert_eq!(nodes[0].finished_at, Some(at(3)));
    assert_eq!(nodes[1].message.as_deref(), Some("base failed"));
    assert_eq!(nodes[2].message.as_deref(), Some("nothing to rebuild"));

    state
        .finish_cascade(run.id, RunOutcome::Succeeded, at(6))
        .await
        .unwrap();
    state
        .finish_cascade(run.id, RunOutcome::Succeeded, at(7))
        .await
        .unwrap();
    let again = state
        .finish_cascade(run.id, RunOutcome::Failed, at(7))
        .await;
    assert!(
        matches!(again, Err(StateError::RunFinished { .. })),
        "{again:?}"
    );
    assert!(state.running_cascades().await.unwrap().is_empty());
    let finished = state.cascade_run(run.id).await.unwrap().unwrap();
    assert_eq!(
        (finished.status, finished.finished_at),
        (RunStatus::Succeeded, Some(at(6)))
    );
    // A finished run's nodes cannot be claimed.
    state
        .fail_node(run.id, &app1, "gave up", at(8))
        .await
        .unwrap();
    assert!(state.retry_node(run.id, &app1, at(8)).await.unwrap());
    assert!(!state.claim_node(run.id, &app1, at(8)).await.unwrap());
}
