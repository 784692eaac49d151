//! resolve + record stages of `strata check`: looks every unique tag up once (never from
//! a cache; with `verify`, each current digest is also fetched by digest and hashed, and
//! one that fails is a problem, never recorded), records each answer in the state
//! database (which says since when a tag points where it does), and asks by `HEAD`
//! whether pinned digests whose tag moved or vanished still exist. Returns observations;
//! deciding what they mean is `strata_core::check`'s job.

use std::collections::{HashMap, HashSet};

use strata_core::check::{self, Current, Observations, TagState};
use strata_core::library::Timestamp;
use strata_core::reference::{Digest, Reference};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use super::Problem;
use crate::registry::{RegistryClient, RegistryError, TagKey};
use crate::resolve::{self, LookupOptions};
use crate::scan::FileScan;
use crate::state::{Observation, State};

/// What registries (and the state database) said in this run.
#[derive(Debug, Default)]
pub struct Observed {
    tags: HashMap<TagKey, TagState>,
    /// (registry, repository, digest) -> still served.
    digests: HashMap<(String, String, Digest), bool>,
    /// Unique tags looked up.
    pub tags_looked_up: usize,
    /// Pinned digests asked about.
    pub digests_verified: usize,
}

impl Observations for Observed {
    fn tag(&self, reference: &Reference) -> Option<&TagState> {
        self.tags.get(&TagKey::of(reference).ok()?)
    }

    fn digest_exists(&self, reference: &Reference, digest: &Digest) -> Option<bool> {
        let key = (
            reference.domain().to_owned(),
            reference.path().to_owned(),
            digest.clone(),
        );
        self.digests.get(&key).copied()
    }
}

/// Looks up, records and verifies everything `results` needs (with `verify`, also each
/// tag's current manifest). Failures other than a tag not found become problems; the
/// checks that needed those answers stay silent.
pub async fn observe(
    client: &RegistryClient,
    state: Option<&State>,
    results: &[FileScan],
    verify: bool,
    problems: &mut Vec<Problem>,
) -> Observed {
    let refs: Vec<Reference> = results
        .iter()
        .flat_map(|r| check::tags_to_resolve(&r.extraction))
        .cloned()
        .collect();
    let pinned = pinned_digests(results);
    let options = LookupOptions {
        platforms: false,
        verify,
    };
    let lookups = resolve::look_up_with(client, refs, options).await;
    let now = OffsetDateTime::now_utc();
    let mut observed = Observed {
        tags_looked_up: lookups.tags.len(),
        ..Observed::default()
    };
    let mut answers: Vec<_> = lookups.tags.into_iter().collect();
    answers.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, answer) in answers {
        let tag_state = match answer {
            Ok(resolved) => {
                let stale = pinned
                    .get(&key)
                    .is_some_and(|digests| digests.iter().any(|d| *d != resolved.digest));
                TagState::Points(current(state, &key, resolved.digest, now, stale, problems).await)
            }
            Err(RegistryError::NotFound { .. }) => TagState::Missing,
            Err(err) => {
                problems.push(Problem::lookup(&key.to_string(), err.to_string()));
                continue;
            }
        };
        observed.tags.insert(key, tag_state);
    }
    verify_digests(client, results, &mut observed, problems).await;
    observed
}

/// Per tag, the digests pinned references hold.
fn pinned_digests(results: &[FileScan]) -> HashMap<TagKey, HashSet<Digest>> {
    let mut out: HashMap<TagKey, HashSet<Digest>> = HashMap::new();
    for occurrence in results.iter().flat_map(|r| &r.extraction.occurrences) {
        let reference = &occurrence.reference;
        if let (Some(_), Some(digest), Ok(key)) =
            (reference.tag(), reference.digest(), TagKey::of(reference))
        {
            out.entry(key).or_default().insert(digest.clone());
        }
    }
    out
}

/// Records the observation and reads what the database knows: since when the tag is at
/// `digest`, and (for tags some pin disagrees with) where else it was seen.
async fn current(
    state: Option<&State>,
    key: &TagKey,
    digest: Digest,
    now: OffsetDateTime,
    stale: bool,
    problems: &mut Vec<Problem>,
) -> Current {
    let mut current = Current {
        digest,
        since: None,
        seen: Vec::new(),
    };
    let Some(state) = state else {
        return current;
    };
    let recorded = match state.record_observation(key, &current.digest, now).await {
        Ok(recorded) => recorded,
        Err(err) => {
            problems.push(Problem::state(format!("recording {key}: {err}")));
            return current;
        }
    };
    current.since = match recorded {
        Observation::Unchanged { since } => timestamp(since),
        Observation::Moved(moved) => timestamp(moved.observed_at),
        Observation::New | Observation::Outdated { .. } => None,
    };
    if stale {
        match state.sightings(key).await {
            Ok(sightings) => {
                current.seen = sightings
                    .into_iter()
                    .filter_map(|s| Some((s.digest, timestamp(s.last_seen)?)))
                    .collect();
            }
            Err(err) => problems.push(Problem::state(format!("reading {key}: {err}"))),
        }
    }
    current
}

/// A state-database time as a core timestamp (UTC, whole seconds).
fn timestamp(at: OffsetDateTime) -> Option<Timestamp> {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    );
    Timestamp::parse(&text).ok()
}

/// `HEAD`s each pinned digest whose tag moved or vanished, once per repository.
async fn verify_digests(
    client: &RegistryClient,
    results: &[FileScan],
    observed: &mut Observed,
    problems: &mut Vec<Problem>,
) {
    let mut asked = HashSet::new();
    let mut tasks = JoinSet::new();
    for result in results {
        for (reference, digest) in check::digests_to_verify(&result.extraction, &*observed) {
            let id = (
                reference.domain().to_owned(),
                reference.path().to_owned(),
                digest.clone(),
            );
            if !asked.insert(id.clone()) {
                continue;
            }
            let (client, reference) = (client.clone(), reference.clone());
            tasks.spawn(async move {
                let answer = client.manifest_exists(&reference, &id.2).await;
                (id, answer)
            });
        }
    }
    observed.digests_verified = asked.len();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((id, Ok(exists))) => {
                observed.digests.insert(id, exists);
            }
            Ok(((registry, repository, digest), Err(err))) => {
                let target = format!("{registry}/{repository}@{digest}");
                problems.push(Problem::lookup(&target, err.to_string()));
            }
            Err(err) => problems.push(Problem::lookup("a digest", err.to_string())),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn state_times_become_utc_seconds() {
        let at = OffsetDateTime::from_unix_timestamp(1_587_484_800).unwrap();
        let at = at.to_offset(time::UtcOffset::from_hms(-7, 0, 0).unwrap());
        assert_eq!(timestamp(at).unwrap().to_string(), "2020-04-21T16:00:00Z");
    }
}
