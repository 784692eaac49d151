//! resolve stage, driven: builds the registry client from the validated config and the
//! environment, then looks up every unique tag the scan found once, and (when asked) the
//! platforms of each digest and a verifying fetch of each digest by itself. It returns
//! what registries said; deciding what to write is `strata_core::plan`'s job. Network
//! only through the registry client.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use anyhow::{Context, Result};
use strata_core::reference::{Digest, Reference};
use tokio::task::JoinSet;

use crate::config::RegistrySettings;
use crate::progress::Progress;
use crate::registry::{
    Credentials, DOCKER_MANIFEST, Manifest, OCI_MANIFEST, PlatformDigest, RegistryClient,
    RegistryConfig, RegistryError, Resolved, TagKey,
};

/// Builds the client: settings from `strata.toml` and the command line, credentials
/// from the environment, the content cache under `cache_dir`.
pub fn client(settings: &RegistrySettings, cache_dir: Option<PathBuf>) -> Result<RegistryClient> {
    let credentials = Credentials::from_environment().context("reading registry credentials")?;
    let config = RegistryConfig {
        insecure: settings.insecure.iter().map(ToString::to_string).collect(),
        ca_file: settings.ca_file.clone(),
        mirrors: settings
            .mirrors
            .iter()
            .map(|(from, to)| (from.to_string(), to.to_string()))
            .collect(),
        max_in_flight: settings.max_in_flight,
        cache_dir,
        credentials,
        ..RegistryConfig::default()
    };
    RegistryClient::new(config).context("setting up the registry client")
}

/// The platforms of one top-level digest (empty for a single-platform image).
pub type Platforms = Result<Vec<PlatformDigest>, RegistryError>;

/// Everything the registries said in one run.
#[derive(Debug, Default)]
pub struct Lookups {
    /// Each unique tag's current digest, or why it has none.
    pub tags: HashMap<TagKey, Result<Resolved, RegistryError>>,
    /// Per (registry, repository, digest): its platforms; only filled when asked for.
    pub platforms: HashMap<ContentId, Platforms>,
}

impl Lookups {
    /// What `reference`'s tag resolved to. A tag never looked up is a `NoTag` error,
    /// which cannot happen for references that needed a lookup.
    pub fn tag(&self, reference: &Reference) -> Result<&Resolved, RegistryError> {
        let key = TagKey::of(reference)?;
        match self.tags.get(&key) {
            Some(Ok(resolved)) => Ok(resolved),
            Some(Err(err)) => Err(err.clone()),
            None => Err(RegistryError::NoTag {
                reference: reference.to_string(),
            }),
        }
    }

    /// The platforms of the digest `reference`'s tag resolved to, if they were fetched.
    pub fn platforms(&self, reference: &Reference, digest: &Digest) -> Option<&Platforms> {
        let key = (
            reference.domain().to_owned(),
            reference.path().to_owned(),
            digest.clone(),
        );
        self.platforms.get(&key)
    }
}

/// What a lookup does beyond one `HEAD` per unique tag.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupOptions {
    /// Also read the platforms of each distinct index (`--format json`).
    pub platforms: bool,
    /// Fetch each resolved manifest by digest from the registry and check that its bytes
    /// hash to that digest (`--verify`): one `GET` more per distinct digest, which Docker
    /// Hub counts against its pull limit (a `HEAD` is not counted).
    pub verify: bool,
}

/// Resolves every unique tag of `refs` once (the client bounds concurrency per registry
/// and verifies what it can), then, with `platforms`, reads each distinct index once.
/// A digest whose content does not verify, or that the registry does not serve, is
/// withdrawn: its tag becomes that error, so it can never be written.
pub async fn look_up(client: &RegistryClient, refs: Vec<Reference>, platforms: bool) -> Lookups {
    let options = LookupOptions {
        platforms,
        verify: false,
    };
    look_up_with(client, refs, options).await
}

/// [`look_up`], with verification when `options.verify`: every digest a tag resolved to
/// is fetched by digest and hashed, and a tag whose digest cannot be fetched or does not
/// hash to itself becomes that error. With verification the platforms come from the
/// manifests it fetched, at no extra request.
pub async fn look_up_with(
    client: &RegistryClient,
    refs: Vec<Reference>,
    options: LookupOptions,
) -> Lookups {
    let mut by_key: HashMap<TagKey, Reference> = HashMap::new();
    for reference in refs {
        if let Ok(key) = TagKey::of(&reference) {
            by_key.entry(key).or_insert(reference);
        }
    }
    let tags = resolve_tags(client, &by_key).await;
    let mut lookups = Lookups {
        tags,
        platforms: HashMap::new(),
    };
    if options.verify {
        let manifests = fetch_manifests(client, &lookups.tags, &by_key).await;
        if options.platforms {
            lookups.platforms = manifests
                .iter()
                .filter_map(|(id, m)| Some((id.clone(), Ok(m.as_ref().ok()?.platforms()))))
                .collect();
        }
        withdraw_unverified(&mut lookups.tags, &manifests);
    } else if options.platforms {
        lookups.platforms = fetch_platforms(client, &lookups.tags, &by_key).await;
        withdraw_mismatches(&mut lookups);
    }
    lookups
}

/// Resolves each unique tag once, concurrently (the client bounds requests per
/// registry), ticking a progress bar on a terminal. A task that fails to run is that
/// tag's error; the others go on.
async fn resolve_tags(
    client: &RegistryClient,
    by_key: &HashMap<TagKey, Reference>,
) -> HashMap<TagKey, Result<Resolved, RegistryError>> {
    let progress = Progress::bar(by_key.len(), "tags");
    let mut tasks = JoinSet::new();
    for (key, reference) in by_key {
        let client = client.clone();
        let key = key.clone();
        let reference = reference.clone();
        tasks.spawn(async move {
            let result = client.resolve(&reference).await;
            (key, reference, result)
        });
    }
    let mut results = HashMap::with_capacity(by_key.len());
    while let Some(joined) = tasks.join_next().await {
        let Ok((key, reference, result)) = joined else {
            continue;
        };
        progress.set_message(reference.to_string());
        progress.inc(1);
        results.insert(key, result);
    }
    // A task that panicked or was cancelled left its tag without an answer.
    let missing: Vec<TagKey> = by_key
        .keys()
        .filter(|k| !results.contains_key(*k))
        .cloned()
        .collect();
    for key in missing {
        results.insert(
            key.clone(),
            Err(RegistryError::Protocol {
                registry: key.registry.clone(),
                target: format!("{}:{}", key.repository, key.tag),
                status: None,
                detail: "lookup task failed".to_owned(),
            }),
        );
    }
    progress.finish();
    results
}

/// (registry, repository, digest): one piece of content in one repository.
pub type ContentId = (String, String, Digest);

fn content_id(key: &TagKey, digest: &Digest) -> ContentId {
    (key.registry.clone(), key.repository.clone(), digest.clone())
}

/// Each distinct digest the tags resolved to, fetched from the registry (never the disk
/// cache: a cached copy does not show that this registry serves it here) and verified.
async fn fetch_manifests(
    client: &RegistryClient,
    tags: &HashMap<TagKey, Result<Resolved, RegistryError>>,
    by_key: &HashMap<TagKey, Reference>,
) -> HashMap<ContentId, Result<Manifest, RegistryError>> {
    let mut asked = HashSet::new();
    let mut tasks = JoinSet::new();
    for (key, result) in tags {
        let (Ok(resolved), Some(reference)) = (result, by_key.get(key)) else {
            continue;
        };
        let id = content_id(key, &resolved.digest);
        if !asked.insert(id.clone()) {
            continue;
        }
        let (client, reference) = (client.clone(), reference.clone());
        tasks.spawn(async move {
            let fetched = client.manifest_from_registry(&reference, &id.2).await;
            (id, fetched)
        });
    }
    // A task that panicked leaves its digest out: it counts as unverified.
    let mut out = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok((id, fetched)) = joined {
            out.insert(id, fetched);
        }
    }
    out
}

/// Keeps a tag's digest only if its manifest was fetched and verified; the media type
/// and size then come from the verified bytes. Anything else becomes the tag's error.
fn withdraw_unverified(
    tags: &mut HashMap<TagKey, Result<Resolved, RegistryError>>,
    manifests: &HashMap<ContentId, Result<Manifest, RegistryError>>,
) {
    for (key, result) in tags.iter_mut() {
        let Ok(resolved) = result else { continue };
        match manifests.get(&content_id(key, &resolved.digest)) {
            Some(Ok(manifest)) => {
                resolved.media_type = Some(manifest.media_type.clone());
                resolved.size = Some(manifest.bytes.len() as u64);
            }
            Some(Err(err)) => *result = Err(unserved(key, &resolved.digest, err)),
            None => {
                *result = Err(RegistryError::Protocol {
                    registry: key.registry.clone(),
                    target: format!("{}@{}", key.repository, resolved.digest),
                    status: None,
                    detail: "the verification task failed; not trusted".to_owned(),
                });
            }
        }
    }
}

/// A 404 for the digest a tag just named says the tag's answer is wrong, not that the
/// tag is missing: it gets its own error, which no caller mistakes for a missing tag.
fn unserved(key: &TagKey, digest: &Digest, err: &RegistryError) -> RegistryError {
    match err {
        RegistryError::NotFound { .. } => RegistryError::DigestNotServed {
            registry: key.registry.clone(),
            target: format!("{}:{}", key.repository, key.tag),
            digest: digest.clone(),
        },
        other => other.clone(),
    }
}

async fn fetch_platforms(
    client: &RegistryClient,
    tags: &HashMap<TagKey, Result<Resolved, RegistryError>>,
    by_key: &HashMap<TagKey, Reference>,
) -> HashMap<ContentId, Platforms> {
    let mut out = HashMap::new();
    let mut asked = HashSet::new();
    let mut tasks = JoinSet::new();
    for (key, result) in tags {
        let (Ok(resolved), Some(reference)) = (result, by_key.get(key)) else {
            continue;
        };
        let id = content_id(key, &resolved.digest);
        if !asked.insert(id.clone()) {
            continue;
        }
        // The HEAD already said it is a single image: no index to read.
        let single = matches!(
            resolved.media_type.as_deref(),
            Some(DOCKER_MANIFEST | OCI_MANIFEST)
        );
        if single {
            out.insert(id, Ok(Vec::new()));
            continue;
        }
        let (client, reference, digest) = (client.clone(), reference.clone(), id.2.clone());
        tasks.spawn(async move { (id, client.platforms(&reference, &digest).await) });
    }
    // A task that panicked leaves its digest out: its platforms are shown as unknown.
    while let Some(joined) = tasks.join_next().await {
        if let Ok((id, result)) = joined {
            out.insert(id, result);
        }
    }
    out
}

fn withdraw_mismatches(lookups: &mut Lookups) {
    for (key, result) in lookups.tags.iter_mut() {
        let Ok(resolved) = result else { continue };
        // Bytes that do not hash to the digest, or a registry that does not serve the
        // digest its tag just named: either way that digest must not be written.
        if let Some(Err(
            err @ (RegistryError::DigestMismatch { .. } | RegistryError::NotFound { .. }),
        )) = lookups.platforms.get(&content_id(key, &resolved.digest))
        {
            *result = Err(unserved(key, &resolved.digest, err));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::registry::{DOCKER_MANIFEST, Descriptor, ManifestKind, OCI_INDEX};

    fn digest(n: char) -> Digest {
        Digest::from_str(&format!("sha256:{}", n.to_string().repeat(64))).unwrap()
    }

    fn key(tag: &str) -> TagKey {
        TagKey {
            registry: "docker.io".into(),
            repository: "library/app".into(),
            tag: tag.into(),
        }
    }

    fn resolved(tag: &str, d: &Digest) -> Result<Resolved, RegistryError> {
        Ok(Resolved {
            key: key(tag),
            digest: d.clone(),
            media_type: Some(DOCKER_MANIFEST.into()),
            size: Some(1),
        })
    }

    #[test]
    fn only_digests_fetched_and_verified_by_digest_survive() {
        let (good, gone, altered, lost) = (digest('1'), digest('2'), digest('3'), digest('4'));
        let mut tags: HashMap<_, _> = [
            (key("good"), resolved("good", &good)),
            (key("gone"), resolved("gone", &gone)),
            (key("altered"), resolved("altered", &altered)),
            (key("lost"), resolved("lost", &lost)),
        ]
        .into_iter()
        .collect();
        let index = Manifest {
            digest: good.clone(),
            media_type: OCI_INDEX.into(),
            bytes: b"0123456789".to_vec(),
            kind: ManifestKind::Index {
                manifests: Vec::<Descriptor>::new(),
            },
        };
        let id = |d: &Digest| content_id(&key("any"), d);
        let manifests = HashMap::from([
            (id(&good), Ok(index)),
            (
                id(&gone),
                Err(RegistryError::NotFound {
                    registry: "docker.io".into(),
                    reference: format!("library/app@{gone}"),
                }),
            ),
            (
                id(&altered),
                Err(RegistryError::DigestMismatch {
                    registry: "docker.io".into(),
                    target: format!("library/app@{altered}"),
                    expected: altered.clone(),
                    actual: good.clone(),
                }),
            ),
        ]);
        withdraw_unverified(&mut tags, &manifests);

        // The verified bytes say what the content is, not the HEAD.
        let kept = tags[&key("good")].as_ref().unwrap();
        assert_eq!(kept.media_type.as_deref(), Some(OCI_INDEX));
        assert_eq!(kept.size, Some(10));
        // A 404 by digest is the tag's answer being wrong, never a missing tag.
        let err = tags[&key("gone")].as_ref().unwrap_err();
        assert!(
            matches!(err, RegistryError::DigestNotServed { digest, .. } if *digest == gone),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "docker.io said library/app:gone is {gone}, but that digest is not found on \
                 docker.io (HTTP 404 when fetched by digest)"
            )
        );
        let err = tags[&key("altered")].as_ref().unwrap_err();
        assert!(
            matches!(err, RegistryError::DigestMismatch { .. }),
            "{err:?}"
        );
        // No answer at all is no verification either.
        let err = tags[&key("lost")].as_ref().unwrap_err();
        assert!(matches!(err, RegistryError::Protocol { .. }), "{err:?}");
    }
}
