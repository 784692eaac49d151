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

/// A base of the image waited for: its name and its new image.
#[derive(Debug, Clone)]
pub struct Base<'a> {
    pub image: &'a ImageRef,
    pub new: &'a Published,
}

/// Polls `image` until its tag points away from `before` at an image on `bases`.
/// `Err` says what was last seen when the deadline passed: the tag not moved, or moved
/// onto a build on another base (naming it, so an old pin shows as the old base). The
/// registry client's own timeouts bound each poll.
pub async fn published_on(
    client: &RegistryClient,
    image: &ImageRef,
    before: Option<&Digest>,
    bases: &[Base<'_>],
    platform: &str,
    polling: Polling,
) -> Result<Published, String> {
    let news: Vec<&Published> = bases.iter().map(|b| b.new).collect();
    let mut interval = polling.first;
    let mut last_checked: Option<Digest> = None;
    let mut last_seen = String::from("the tag could not be read yet");
    loop {
        match client.resolve(image.reference()).await {
            Ok(resolved) if Some(&resolved.digest) == before => {
                last_seen = format!(
                    "the tag still points at {}, its image from before the rebuild",
                    short(&resolved.digest)
                );
            }
            Ok(resolved) if Some(&resolved.digest) == last_checked.as_ref() => {}
            Ok(resolved) => {
                match published::inspect_digest(client, image, &resolved.digest, platform).await {
                    Ok(seen) if is_on(&seen, &news) => return Ok(seen),
                    Ok(seen) => last_seen = off_base(&seen, bases),
                    Err(e) => last_seen = format!("{e:#}"),
                }
                last_checked = Some(resolved.digest);
            }
            Err(e) => last_seen = e.to_string(),
        }
        let now = Instant::now();
        if now >= polling.deadline {
            return Err(last_seen);
        }
        tokio::time::sleep(interval.min(polling.deadline - now)).await;
        interval = interval.mul_f64(BACKOFF).min(polling.max);
    }
}

/// What an image published on the wrong base is built on, in words.
fn off_base(seen: &Published, bases: &[Base<'_>]) -> String {
    let moved = format!("the tag moved to {}", short(&seen.digest));
    let wanted =
        |base: &Base<'_>| format!("{} at {}", base.image.familiar(), short(&base.new.digest));
    match &seen.base_digest {
        Some(digest) => {
            let named = seen.base_image();
            let base = bases
                .iter()
                .find(|b| named.as_ref() == Some(b.image))
                .or(bases.first());
            match base {
                Some(base) if !base.new.is(digest) => format!(
                    "{moved}, but that image is built on the old base {}@{} (not {}): its \
                     build still reads the old pin",
                    base.image.familiar(),
                    short(digest),
                    wanted(base)
                ),
                _ => format!("{moved}, built on {}", short(digest)),
            }
        }
        None => {
            let names: Vec<String> = bases.iter().map(wanted).collect();
            format!(
                "{moved}, but its layers do not start with the new layers of {}",
                names.join(", ")
            )
        }
    }
}

/// `sha256:0123456789ab` for messages.
pub fn short(digest: &Digest) -> String {
    let text = digest.to_string();
    text.chars().take(19).collect()
}
