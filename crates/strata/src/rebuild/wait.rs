//! act stage, publication: whether a rebuilt image is out *on its new base* — its tag
//! moved away from the digest it had before the trigger, and the new image names the
//! base's new digest in its base annotation, or (without one) its layers start with the
//! base's new layers. Polls the registry (one `HEAD` per poll; content only when the tag
//! moved) with a growing interval; never triggers anything.

use std::time::Duration;

use strata_core::graph::ImageRef;
use strata_core::reference::Digest;
use tokio::time::Instant;

use crate::hierarchy::published::{self, Published};
use crate::registry::RegistryClient;

/// Growth of the wait between polls.
const BACKOFF: f64 = 1.5;

/// Whether `child` is built on every one of `bases` (their new images).
pub fn is_on(child: &Published, bases: &[&Published]) -> bool {
    bases.iter().all(|base| match &child.base_digest {
        Some(digest) => base.is(digest),
        None => child.layers_start_with(base),
    })
}

/// How to poll.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub first: Duration,
    pub max: Duration,
    pub deadline: Instant,
}

/// Polls `image` until its tag points away from `before` at an image on `bases`.
/// `Err` says what was last seen when the deadline passed.
pub async fn published_on(
    client: &RegistryClient,
    image: &ImageRef,
    before: Option<&Digest>,
    bases: &[&Published],
    platform: &str,
    polling: Polling,
) -> Result<Published, String> {
    let mut interval = polling.first;
    let mut last_checked: Option<Digest> = None;
    let mut last_seen = String::from("nothing yet");
    loop {
        match client.resolve(image.reference()).await {
            Ok(resolved) if Some(&resolved.digest) == before => {
                last_seen = format!("the tag still at {}", short(&resolved.digest));
            }
            Ok(resolved) if Some(&resolved.digest) == last_checked.as_ref() => {}
            Ok(resolved) => {
                match published::inspect_digest(client, image, &resolved.digest, platform).await {
                    Ok(seen) if is_on(&seen, bases) => return Ok(seen),
                    Ok(seen) => {
                        last_seen = format!(
                            "{} built on {}",
                            short(&seen.digest),
                            seen.base_digest
                                .as_ref()
                                .map_or("other layers".to_owned(), short)
                        );
                    }
                    Err(e) => last_seen = format!("{e:#}"),
                }
                last_checked = Some(resolved.digest);
            }
            Err(e) => last_seen = e.to_string(),
        }
        let now = Instant::now();
        if now >= polling.deadline {
            return Err(format!(
                "not published on the new base in time (last seen: {last_seen})"
            ));
        }
        tokio::time::sleep(interval.min(polling.deadline - now)).await;
        interval = interval.mul_f64(BACKOFF).min(polling.max);
    }
}

/// `sha256:0123456789ab` for messages.
pub fn short(digest: &Digest) -> String {
    let text = digest.to_string();
    text.chars().take(19).collect()
}
