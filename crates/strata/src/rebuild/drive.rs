//! act stage, one driver per cascade: the process that triggers a running cascade's
//! builds holds it in the state database (`host:pid`, with a lease it renews), so two
//! `strata cascade` runs, or a cascade and `strata serve`, never build one image twice at
//! once. A second process opening the same cascade follows the driver until the run ends,
//! and takes it over when the lease runs out or the driver is known to be gone (a process
//! of this machine that is no longer running).

use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::JoinHandle;

use crate::state::{Drive, RunId, RunStatus, State, StateError};

/// How long a driver holds a run without renewing it.
const LEASE: Duration = Duration::from_secs(30);
/// How often a driver renews its lease.
const RENEW: Duration = Duration::from_secs(10);
/// How often a follower looks at the run.
const FOLLOW: Duration = Duration::from_millis(250);

/// What waiting for the drive came to.
pub(super) enum Took {
    /// This process drives the run; the lease is renewed until the guard is dropped.
    Drive(Held),
    /// The run ended under another driver.
    Over(RunStatus),
}

/// The drive of a run held by this process; renews the lease while it lives.
pub(super) struct Held {
    state: State,
    run: RunId,
    me: String,
    renewer: JoinHandle<()>,
}

impl Held {
    /// Gives the run up so another process may drive it at once.
    pub(super) async fn release(self) {
        self.renewer.abort();
        let _ = self.state.release_cascade(self.run, &self.me).await;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Waits until this process drives `run`, following its current driver meanwhile;
/// `following` is told once who that is.
pub(super) async fn take(
    state: &State,
    run: RunId,
    following: impl FnOnce(&str),
) -> Result<Took, StateError> {
    let me = crate::process::name();
    let mut following = Some(following);
    let mut gone: Option<String> = None;
    loop {
        let now = OffsetDateTime::now_utc();
        match state
            .drive_cascade(run, &me, gone.as_deref(), now + LEASE, now)
            .await?
        {
            Drive::Mine => {
                let renewer = tokio::spawn(renew(state.clone(), run, me.clone()));
                return Ok(Took::Drive(Held {
                    state: state.clone(),
                    run,
                    me,
                    renewer,
                }));
            }
            Drive::Over(status) => return Ok(Took::Over(status)),
            Drive::Theirs { driver, .. } => {
                if crate::process::is_gone_here(&driver) {
                    gone = Some(driver);
                    continue;
                }
                if let Some(say) = following.take() {
                    say(&driver);
                }
                tokio::time::sleep(FOLLOW).await;
            }
        }
    }
}

/// Renews the lease every [`RENEW`] until aborted.
async fn renew(state: State, run: RunId, me: String) {
    loop {
        tokio::time::sleep(RENEW).await;
        let now = OffsetDateTime::now_utc();
        match state.drive_cascade(run, &me, None, now + LEASE, now).await {
            Ok(Drive::Mine | Drive::Over(_)) => {}
            Ok(Drive::Theirs { driver, .. }) => {
                eprintln!(
                    "warning: cascade {run} was taken over by {driver} after this process \
                     missed its lease"
                );
                return;
            }
            // A database hiccup: the lease has 20 s left, try again.
            Err(_) => {}
        }
    }
}
