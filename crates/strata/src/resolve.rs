//! resolve stage, driven: builds the registry client from the validated config and the
//! environment, then looks up every unique tag the scan found once, and (when asked) the
//! platforms of each digest. It returns what registries said; deciding what to write is
//! `strata_core::plan`'s job. Network only through the registry client.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use strata_core::reference::{Digest, Reference};
use tokio::task::JoinSet;

use crate::config::RegistrySettings;
use crate::registry::{
    Credentials, DOCKER_MANIFEST, OCI_MANIFEST, PlatformDigest, RegistryClient, RegistryConfig,
    RegistryError, Resolved, TagKey,
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
    pub platforms: HashMap<(String, String, Digest), Platforms>,
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

/// Resolves every unique tag of `refs` once (the client bounds concurrency per registry
/// and verifies what it can), then, with `platforms`, reads each distinct index once.
/// A digest whose content does not verify, or that the registry does not serve, is
/// withdrawn: its tag becomes that error, so it can never be written.
pub async fn look_up(client: &RegistryClient, refs: Vec<Reference>, platforms: bool) -> Lookups {
    let mut by_key: HashMap<TagKey, Reference> = HashMap::new();
    for reference in refs {
        if let Ok(key) = TagKey::of(&reference) {
            by_key.entry(key).or_insert(reference);
        }
    }
    let tags = client.resolve_all(by_key.values().cloned()).await;
    let mut lookups = Lookups {
        tags,
        platforms: HashMap::new(),
    };
    if platforms {
        lookups.platforms = fetch_platforms(client, &lookups.tags, &by_key).await;
        withdraw_mismatches(&mut lookups);
    }
    lookups
}

async fn fetch_platforms(
    client: &RegistryClient,
    tags: &HashMap<TagKey, Result<Resolved, RegistryError>>,
    by_key: &HashMap<TagKey, Reference>,
) -> HashMap<(String, String, Digest), Platforms> {
    let mut out = HashMap::new();
    let mut asked = std::collections::HashSet::new();
    let mut tasks = JoinSet::new();
    for (key, result) in tags {
        let (Ok(resolved), Some(reference)) = (result, by_key.get(key)) else {
            continue;
        };
        let id = (
            key.registry.clone(),
            key.repository.clone(),
            resolved.digest.clone(),
        );
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
        let id = (
            key.registry.clone(),
            key.repository.clone(),
            resolved.digest.clone(),
        );
        // Bytes that do not hash to the digest, or a registry that does not serve the
        // digest its tag just named: either way that digest must not be written.
        if let Some(Err(
            err @ (RegistryError::DigestMismatch { .. } | RegistryError::NotFound { .. }),
        )) = lookups.platforms.get(&id)
        {
            *result = Err(err.clone());
        }
    }
}
