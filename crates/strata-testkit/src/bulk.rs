//! Test support, seeding stage: seeds many repositories and tags quickly by sharing
//! one layer, mounting blobs across repositories and putting one manifest per tag;
//! bounded concurrency, talks only to the seeder's registry.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::image::{Format, Image};
use crate::seed::Seeder;

/// A plan for [`Seeder::seed_bulk`]: `repos` repositories named `<prefix><NNNN>`, each
/// with tags `v1..=v<tags>`.
#[derive(Debug, Clone)]
#[must_use]
pub struct BulkSeed {
    repos: usize,
    tags: usize,
    concurrency: usize,
    prefix: String,
    format: Format,
}

impl BulkSeed {
    /// `repos` repositories with `tags_per_repo` tags each; Docker manifests, prefix
    /// `bulk/app`, 8 repositories in flight.
    pub fn new(repos: usize, tags_per_repo: usize) -> BulkSeed {
        BulkSeed {
            repos,
            tags: tags_per_repo,
            concurrency: 8,
            prefix: "bulk/app".into(),
            format: Format::Docker,
        }
    }

    /// Repository name prefix (a 4-digit index is appended).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Repositories seeded at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Docker or OCI manifests.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The image tag `v<j>` gets: one shared layer; the tag goes into an annotation
    /// (OCI: one shared config) or a config label (Docker: one config per tag), so
    /// digests differ between tags of a repository and repeat across repositories.
    pub fn image(&self, j: usize) -> Image {
        let image = Image::new(&format!("{}-shared", self.prefix)).with_format(self.format);
        let version = format!("v{j}");
        match self.format {
            Format::Oci => image.annotation("org.opencontainers.image.version", &version),
            Format::Docker => image.label("org.opencontainers.image.version", &version),
        }
    }

    /// The name of repository `i`.
    pub fn repo(&self, i: usize) -> String {
        format!("{}{i:04}", self.prefix)
    }
}

/// One tag written by [`Seeder::seed_bulk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededTag {
    /// Repository name.
    pub repo: String,
    /// Tag name.
    pub tag: String,
    /// The manifest digest the tag points at.
    pub digest: String,
}

impl Seeder {
    /// Seed every repository and tag of `plan`; returns them in repository, tag order.
    pub async fn seed_bulk(&self, plan: &BulkSeed) -> Result<Vec<SeededTag>> {
        let images: Arc<Vec<Image>> = Arc::new((1..=plan.tags).map(|j| plan.image(j)).collect());
        if plan.repos == 0 {
            return Ok(Vec::new());
        }
        // Upload every blob once; every other repository then mounts them.
        let first = plan.repo(0);
        for image in images.iter() {
            self.push_image_untagged(&first, image).await?;
        }
        let limit = Arc::new(Semaphore::new(plan.concurrency));
        let mut tasks = JoinSet::new();
        for i in 0..plan.repos {
            let permit = Arc::clone(&limit).acquire_owned().await?;
            let (seeder, images, repo) = (self.clone(), Arc::clone(&images), plan.repo(i));
            tasks.spawn(async move {
                let _permit = permit;
                let mut out = Vec::with_capacity(images.len());
                for (j, image) in images.iter().enumerate() {
                    let tag = format!("v{}", j + 1);
                    let digest = seeder
                        .push_image(&repo, &tag, image)
                        .await
                        .with_context(|| format!("seeding {repo}:{tag}"))?;
                    out.push(SeededTag {
                        repo: repo.clone(),
                        tag,
                        digest,
                    });
                }
                Ok::<_, anyhow::Error>((i, out))
            });
        }
        let mut by_repo = Vec::with_capacity(plan.repos);
        while let Some(joined) = tasks.join_next().await {
            by_repo.push(joined.context("a seeding task panicked")??);
        }
        by_repo.sort_by_key(|(i, _)| *i);
        Ok(by_repo.into_iter().flat_map(|(_, tags)| tags).collect())
    }
}
