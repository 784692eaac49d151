//! `strata serve`'s queue in the state database, on both backends (`state_support`): a
//! job is leased by one worker at a time even when several lease at once, an expired
//! lease is taken over and the old worker's renewal and finish are refused, a clean stop
//! hands jobs back, open jobs are deduplicated by key, each due tag check goes to one
//! worker, a move seen by two workers at once is one move, and moves, their steps and
//! webhook events are kept in order. "Several workers" are handles with their own
//! connections, as separate processes would be.
#![allow(clippy::unwrap_used)]

mod state_support;

use std::collections::BTreeMap;

use state_support::{Db, both};
use strata::registry::TagKey;
use strata::state::{EventState, JobEnd, JobKind, JobState, NewJob, Observation, State};
use strata_core::reference::Digest;
use time::OffsetDateTime;

/// A fixed clock: `at(n)` is n seconds after a fixed instant.
fn at(seconds: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000 + seconds).unwrap()
}

fn digest(fill: char) -> Digest {
    format!("sha256:{}", fill.to_string().repeat(64))
        .parse()
        .unwrap()
}

fn key(n: usize) -> TagKey {
    TagKey {
        registry: "registry.example".into(),
        repository: format!("team/app-{n}"),
        tag: "1".into(),
    }
}

fn job(kind: JobKind, key: &str) -> NewJob {
    NewJob {
        kind,
        key: key.to_owned(),
        payload: format!("{{\"key\": \"{key}\"}}"),
        priority: 0,
        run_after: at(0),
    }
}

/// `n` handles on `db`, each with its own connections.
async fn workers(db: &Db, n: usize) -> Vec<State> {
    let mut handles = Vec::new();
    for _ in 0..n {
        handles.push(db.reopen().await);
    }
    handles
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_leasing_at_once_each_get_other_jobs() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        for n in 0..40 {
            let new = job(JobKind::CheckTag, &format!("check:{n}"));
            assert!(db.state.enqueue(&new, at(0)).await.unwrap().is_some());
        }
        // Another kind: not leased by workers that do not ask for it.
        let rescan = job(JobKind::Rescan, "rescan");
        db.state.enqueue(&rescan, at(0)).await.unwrap().unwrap();

        let mut tasks = Vec::new();
        for (i, state) in workers(&db, 4).await.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let name = format!("w{i}");
                let mut got = Vec::new();
                loop {
                    let kinds = [JobKind::CheckTag, JobKind::Move];
                    let leased = state.lease_jobs(&name, &kinds, 3, at(60), at(1)).await;
                    let leased = leased.unwrap();
                    if leased.is_empty() {
                        return got;
                    }
                    for job in leased {
                        assert_eq!((job.state, job.attempts), (JobState::Leased, 1));
                        assert_eq!(job.lease_owner.as_deref(), Some(name.as_str()));
                        got.push(job.key);
                    }
                }
            }));
        }
        let mut leased: BTreeMap<String, usize> = BTreeMap::new();
        for task in tasks {
            for key in task.await.unwrap() {
                *leased.entry(key).or_default() += 1;
            }
        }
        assert_eq!(leased.len(), 40, "{leased:?}");
        assert!(
            leased.values().all(|n| *n == 1),
            "a job leased twice: {leased:?}"
        );
        let stats = db.state.queue_stats().await.unwrap();
        assert_eq!((stats.queued, stats.leased), (1, 40));
        assert_eq!(stats.oldest_queued, Some(at(0)));
    }
}

#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_worker_loses_the_job() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        let id = state.enqueue(&job(JobKind::Move, "move:1"), at(0)).await;
        let id = id.unwrap().unwrap();
        let kinds = [JobKind::Move];
        let first = state
            .lease_jobs("w1", &kinds, 1, at(10), at(0))
            .await
            .unwrap();
        assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
        // Still w1's: nothing to lease, and w1 may renew it.
        assert!(
            state
                .lease_jobs("w2", &kinds, 1, at(15), at(5))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(state.renew_lease(id, "w1", at(20)).await.unwrap());
        assert!(
            state
                .lease_jobs("w2", &kinds, 1, at(25), at(15))
                .await
                .unwrap()
                .is_empty()
        );

        // w1 died: once its lease ran out, w2 takes the job over.
        let taken = state
            .lease_jobs("w2", &kinds, 1, at(40), at(21))
            .await
            .unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!((taken[0].id, taken[0].attempts), (id, 2));
        assert_eq!(taken[0].lease_until, Some(at(40)));
        // w1 comes back: its renewal and its finish are refused, the job stays w2's.
        assert!(!state.renew_lease(id, "w1", at(50)).await.unwrap());
        assert!(
            !state
                .finish_job(id, "w1", &JobEnd::Done, at(22))
                .await
                .unwrap()
        );
        assert!(state.renew_lease(id, "w2", at(60)).await.unwrap());
        assert!(
            state
                .finish_job(id, "w2", &JobEnd::Done, at(23))
                .await
                .unwrap()
        );
        // Finished once: a second finish is refused too.
        assert!(
            !state
                .finish_job(id, "w2", &JobEnd::Done, at(24))
                .await
                .unwrap()
        );

        let jobs = state.jobs(10).await.unwrap();
        assert_eq!(jobs.len(), 1);
        let done = &jobs[0];
        assert_eq!((done.state, done.attempts), (JobState::Done, 2));
        assert_eq!(
            (done.lease_owner.as_deref(), done.lease_until),
            (None, None)
        );
        assert_eq!(done.finished_at, Some(at(23)));
        let stats = state.queue_stats().await.unwrap();
        assert_eq!((stats.queued, stats.leased, stats.failed), (0, 0, 0));
    }
}

#[tokio::test]
async fn a_retried_job_waits_its_turn_and_a_failed_one_is_kept() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        let kinds = [JobKind::CheckTag];
        let id = state
            .enqueue(&job(JobKind::CheckTag, "a"), at(0))
            .await
            .unwrap()
            .unwrap();
        state
            .lease_jobs("w1", &kinds, 1, at(10), at(0))
            .await
            .unwrap();
        let retry = JobEnd::Retry(at(30), "registry down".into());
        assert!(state.finish_job(id, "w1", &retry, at(1)).await.unwrap());
        assert!(
            state
                .lease_jobs("w2", &kinds, 1, at(40), at(29))
                .await
                .unwrap()
                .is_empty()
        );
        let again = state
            .lease_jobs("w2", &kinds, 1, at(40), at(30))
            .await
            .unwrap();
        assert_eq!((again[0].id, again[0].attempts), (id, 2));
        assert_eq!(again[0].error.as_deref(), Some("registry down"));
        let failed = JobEnd::Failed("gave up".into());
        assert!(state.finish_job(id, "w2", &failed, at(31)).await.unwrap());
        let stats = state.queue_stats().await.unwrap();
        assert_eq!((stats.queued, stats.leased, stats.failed), (0, 0, 1));
        assert!(
            state
                .lease_jobs("w3", &kinds, 1, at(90), at(80))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_clean_stop_hands_back_only_that_workers_jobs() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        for key in ["a", "b", "c"] {
            state
                .enqueue(&job(JobKind::CheckTag, key), at(0))
                .await
                .unwrap();
        }
        let kinds = [JobKind::CheckTag];
        assert_eq!(
            state
                .lease_jobs("w1", &kinds, 2, at(60), at(1))
                .await
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            state
                .lease_jobs("w2", &kinds, 2, at(60), at(1))
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(state.release_jobs("w1").await.unwrap(), 2);
        assert_eq!(state.release_jobs("w1").await.unwrap(), 0);
        let stats = state.queue_stats().await.unwrap();
        assert_eq!((stats.queued, stats.leased), (2, 1));
        // Handed back, they are leased again at once (no lease to wait out).
        let again = state
            .lease_jobs("w3", &kinds, 5, at(60), at(2))
            .await
            .unwrap();
        assert_eq!(again.len(), 2);
        assert!(again.iter().all(|j| j.attempts == 2), "{again:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_work_queued_twice_at_once_is_one_job_until_it_ends() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        // Two workers dispatching the same move at the same moment.
        let handles = workers(&db, 4).await;
        let mut tasks = Vec::new();
        for state in handles {
            tasks.push(tokio::spawn(async move {
                state
                    .enqueue(&job(JobKind::Move, "move:7"), at(0))
                    .await
                    .unwrap()
            }));
        }
        let mut ids = Vec::new();
        for task in tasks {
            ids.extend(task.await.unwrap());
        }
        assert_eq!(ids.len(), 1, "one enqueue wins: {ids:?}");
        let id = ids[0];
        let state = &db.state;
        // Still open while leased.
        state
            .lease_jobs("w1", &[JobKind::Move], 1, at(60), at(1))
            .await
            .unwrap();
        assert_eq!(
            state
                .enqueue(&job(JobKind::Move, "move:7"), at(2))
                .await
                .unwrap(),
            None
        );
        // Once it ended, the same key is new work.
        assert!(
            state
                .finish_job(id, "w1", &JobEnd::Done, at(3))
                .await
                .unwrap()
        );
        let next = state
            .enqueue(&job(JobKind::Move, "move:7"), at(4))
            .await
            .unwrap();
        assert!(next.is_some_and(|next| next != id));
        assert_eq!(state.jobs(10).await.unwrap().len(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_due_tag_check_goes_to_one_worker() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let keys: Vec<(TagKey, OffsetDateTime)> = (0..60).map(|n| (key(n), at(0))).collect();
        db.state.sync_watches(&keys).await.unwrap();
        let mut tasks = Vec::new();
        for state in workers(&db, 4).await {
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                loop {
                    let claimed = state.claim_watches(7, at(100), at(1)).await.unwrap();
                    if claimed.is_empty() {
                        return got;
                    }
                    got.extend(claimed);
                }
            }));
        }
        let mut claimed: BTreeMap<TagKey, usize> = BTreeMap::new();
        for task in tasks {
            for key in task.await.unwrap() {
                *claimed.entry(key).or_default() += 1;
            }
        }
        assert_eq!(claimed.len(), 60);
        assert!(
            claimed.values().all(|n| *n == 1),
            "a tag checked twice: {claimed:?}"
        );

        let state = &db.state;
        // Claimed until their next check.
        assert!(
            state
                .claim_watches(100, at(200), at(99))
                .await
                .unwrap()
                .is_empty()
        );
        // A check records its next time and its error; a good check clears the count.
        state
            .checked_watch(&key(0), at(300), Some("timeout"), at(2))
            .await
            .unwrap();
        state
            .checked_watch(&key(0), at(300), Some("timeout"), at(3))
            .await
            .unwrap();
        let watch = |watches: Vec<strata::state::Watch>, n| {
            watches.into_iter().find(|w| w.key == key(n)).unwrap()
        };
        let failing = watch(state.watches().await.unwrap(), 0);
        assert_eq!(
            (failing.failures, failing.last_error.as_deref()),
            (2, Some("timeout"))
        );
        assert_eq!(
            (failing.next_check, failing.last_checked),
            (at(300), Some(at(3)))
        );
        state
            .checked_watch(&key(0), at(300), None, at(4))
            .await
            .unwrap();
        let fixed = watch(state.watches().await.unwrap(), 0);
        assert_eq!((fixed.failures, fixed.last_error), (0, None));

        // The workspace dropped all but two tags: only those are watched and claimed;
        // a kept tag keeps its schedule, a new one starts at its first time.
        let kept = vec![(key(1), at(0)), (key(2), at(0)), (key(99), at(50))];
        state.sync_watches(&kept).await.unwrap();
        let watches = state.watches().await.unwrap();
        assert_eq!(watches.len(), 61);
        let active: Vec<&TagKey> = watches
            .iter()
            .filter(|w| w.active)
            .map(|w| &w.key)
            .collect();
        assert_eq!(active, [&key(1), &key(2), &key(99)]);
        let due = state.claim_watches(100, at(400), at(60)).await.unwrap();
        assert_eq!(due, [key(99)]);
        let mut due = state.claim_watches(100, at(400), at(200)).await.unwrap();
        due.sort();
        assert_eq!(due, [key(1), key(2)]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_seen_by_two_workers_at_once_is_one_move() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let tag = key(1);
        db.state
            .record_observation(&tag, &digest('a'), at(0))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for state in workers(&db, 4).await {
            let tag = tag.clone();
            tasks.push(tokio::spawn(async move {
                state
                    .record_observation(&tag, &digest('b'), at(5))
                    .await
                    .unwrap()
            }));
        }
        let mut moved = 0;
        for task in tasks {
            if matches!(task.await.unwrap(), Observation::Moved(_)) {
                moved += 1;
            }
        }
        assert_eq!(moved, 1);
        assert_eq!(db.state.history(&tag).await.unwrap().len(), 1);
        // A first sighting by several workers at once is one new tag.
        let fresh = key(2);
        let mut tasks = Vec::new();
        for state in workers(&db, 4).await {
            let fresh = fresh.clone();
            tasks.push(tokio::spawn(async move {
                state
                    .record_observation(&fresh, &digest('c'), at(5))
                    .await
                    .unwrap()
            }));
        }
        let mut new = 0;
        for task in tasks {
            if task.await.unwrap() == Observation::New {
                new += 1;
            }
        }
        assert_eq!(new, 1);
    }
}

#[tokio::test]
async fn moves_their_steps_and_webhook_events_are_kept_in_order() {
    for db in both().await {
        eprintln!("on {}", db.backend);
        let state = &db.state;
        for (n, tag) in [key(1), key(2)].iter().enumerate() {
            let n = i64::try_from(n).unwrap();
            state
                .record_observation(tag, &digest('a'), at(n))
                .await
                .unwrap();
            state
                .record_observation(tag, &digest('b'), at(10 + n))
                .await
                .unwrap();
        }
        let unhandled = state.moves(true, 10).await.unwrap();
        let tags: Vec<&TagKey> = unhandled.iter().map(|m| &m.key).collect();
        assert_eq!(tags, [&key(1), &key(2)], "oldest first");
        let first = &unhandled[0];
        assert_eq!((&first.from, &first.to), (&digest('a'), &digest('b')));
        assert_eq!((first.observed_at, first.handled_at), (at(10), None));

        // The move's timeline starts with its detection; steps recorded at one instant
        // keep the order they were recorded in.
        for step in ["pushed", "update", "cascade"] {
            state
                .record_move_step(first.id, step, Some(step), at(20))
                .await
                .unwrap();
        }
        state
            .record_move_step(first.id, "published", None, at(19))
            .await
            .unwrap();
        let steps: Vec<String> = state
            .move_steps(first.id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.step)
            .collect();
        assert_eq!(
            steps,
            ["detected", "published", "pushed", "update", "cascade"]
        );

        state.handle_move(first.id, at(30)).await.unwrap();
        state.handle_move(first.id, at(40)).await.unwrap();
        let handled = state.recorded_move(first.id).await.unwrap().unwrap();
        assert_eq!(
            handled.handled_at,
            Some(at(30)),
            "handled once, when first handled"
        );
        let left: Vec<TagKey> = state
            .moves(true, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect();
        assert_eq!(left, [key(2)]);
        let all: Vec<TagKey> = state
            .moves(false, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect();
        assert_eq!(all, [key(2), key(1)], "newest first");
        assert!(
            state
                .recorded_move(strata::state::MoveId(999))
                .await
                .unwrap()
                .is_none()
        );

        let one = state
            .record_event("registry", "{\"events\": []}", at(50))
            .await
            .unwrap();
        let two = state.record_event("github", "{}", at(51)).await.unwrap();
        let new: Vec<_> = state
            .events(true, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(new, [one, two]);
        state
            .finish_event(one, EventState::Ignored, Some("no tag push"), at(52))
            .await
            .unwrap();
        let new: Vec<_> = state
            .events(true, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(new, [two]);
        let all = state.events(false, 10).await.unwrap();
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [two, one]);
        assert_eq!(
            (all[1].state, all[1].note.as_deref()),
            (EventState::Ignored, Some("no tag push"))
        );
        assert_eq!(
            (all[1].source.as_str(), all[1].received_at),
            ("registry", at(50))
        );
    }
}
