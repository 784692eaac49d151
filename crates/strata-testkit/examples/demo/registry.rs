//! Demo, registry stage: the public images a team builds on and the team's own images,
//! pushed to the loopback registry that stands in for Docker Hub, each on top of its
//! base's layers with the OCI base annotations a BuildKit build writes; and the
//! maintainers' fix that moves `debian:bookworm` and `python:3.12-slim`. Talks only to
//! that registry.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use strata_testkit::hierarchy::{BASE_DIGEST, BASE_NAME};
use strata_testkit::{Format, Image, TestRegistry};

/// Docker Hub's images first (bases before the images on them), then the team's.
/// `(repository, tag, base as repository:tag)`; `None` for an image built from scratch.
const IMAGES: [(&str, &str, Option<&str>); 12] = [
    ("library/debian", "bookworm", None),
    ("library/debian", "bookworm-slim", None),
    ("docker/dockerfile", "1", None),
    (
        "library/python",
        "3.12-slim",
        Some("library/debian:bookworm"),
    ),
    (
        "library/node",
        "22-slim",
        Some("library/debian:bookworm-slim"),
    ),
    (
        "library/nginx",
        "1.27",
        Some("library/debian:bookworm-slim"),
    ),
    ("library/redis", "7", Some("library/debian:bookworm-slim")),
    ("acme/python-base", "3.12", Some("library/python:3.12-slim")),
    ("acme/api", "1", Some("acme/python-base:3.12")),
    ("acme/worker", "1", Some("acme/python-base:3.12")),
    ("acme/api-migrations", "1", Some("acme/api:1")),
    ("acme/web", "1", Some("library/nginx:1.27")),
];

/// One image as pushed.
#[derive(Debug, Clone)]
pub(crate) struct Pushed {
    image: Image,
    pub(crate) digest: String,
    pub(crate) base: Option<String>,
}

/// What the registry holds, by `repository:tag`.
#[derive(Debug, Default)]
pub(crate) struct Hub {
    pub(crate) images: BTreeMap<String, Pushed>,
}

/// A tag that moved: its name as people write it, and the digests before and after.
#[derive(Debug, Clone)]
pub(crate) struct Move {
    pub(crate) name: String,
    pub(crate) from: String,
    pub(crate) to: String,
}

/// `library/python:3.12-slim` -> `python:3.12-slim`; `acme/api:1` unchanged.
pub(crate) fn familiar(name: &str) -> &str {
    name.strip_prefix("library/").unwrap_or(name)
}

/// `sha256:0123456789ab…`: enough of a digest to tell two apart.
pub(crate) fn short(digest: &str) -> String {
    format!("{}…", digest.get(..19).unwrap_or(digest))
}

/// The full name the base annotation carries: `docker.io/library/python:3.12-slim`.
fn annotated(name: &str) -> String {
    format!("docker.io/{name}")
}

fn image_on(base: Option<&Pushed>, base_name: Option<&str>, seed: &str, team: bool) -> Image {
    let image = match base {
        Some(parent) => Image::on_top_of(&parent.image, seed),
        None => Image::new(seed),
    };
    // The team builds with BuildKit's OCI exporter: its manifests carry the annotations.
    let image = if team {
        image.with_format(Format::Oci)
    } else {
        image
    };
    let image = image.source(&format!(
        "https://git.example.com/{}",
        seed.replace(':', "/")
    ));
    match (base, base_name) {
        (Some(parent), Some(name)) => image
            .base(&annotated(name), &parent.digest)
            .annotation(BASE_NAME, &annotated(name))
            .annotation(BASE_DIGEST, &parent.digest),
        _ => image,
    }
}

/// Pushes every image, bases first.
pub(crate) async fn seed(registry: &TestRegistry) -> Result<Hub> {
    let mut hub = Hub::default();
    for (repo, tag, base) in IMAGES {
        let name = format!("{repo}:{tag}");
        let parent = base.and_then(|b| hub.images.get(b)).cloned();
        let image = image_on(parent.as_ref(), base, &name, repo.starts_with("acme/"));
        let digest = registry
            .seeder()
            .push_image(repo, tag, &image)
            .await
            .with_context(|| format!("pushing {name}"))?;
        let base = base.map(str::to_owned);
        hub.images.insert(
            name,
            Pushed {
                image,
                digest,
                base,
            },
        );
    }
    Ok(hub)
}

impl Hub {
    /// The seeded images as a tree under their roots, with digests.
    pub(crate) fn print_tree(&self) {
        for (repo, tag, base) in IMAGES {
            if base.is_none() {
                self.print_node(&format!("{repo}:{tag}"), "", true, true);
            }
        }
    }

    fn print_node(&self, name: &str, prefix: &str, last: bool, root: bool) {
        let digest = self
            .images
            .get(name)
            .map(|p| short(&p.digest))
            .unwrap_or_default();
        let (branch, next) = match (root, last) {
            (true, _) => ("", String::new()),
            (false, true) => ("└── ", format!("{prefix}    ")),
            (false, false) => ("├── ", format!("{prefix}│   ")),
        };
        let label = format!("{prefix}{branch}{}", familiar(name));
        println!("  {label:<44} {digest}");
        let children: Vec<&String> = self
            .images
            .iter()
            .filter(|(_, p)| p.base.as_deref() == Some(name))
            .map(|(k, _)| k)
            .collect();
        for (i, child) in children.iter().enumerate() {
            self.print_node(child, &next, i + 1 == children.len(), false);
        }
    }

    /// A Python patch release: `python:3.12-slim` rebuilt on the same `debian:bookworm`,
    /// pushed to its tag.
    pub(crate) async fn push_python_patch(&mut self, registry: &TestRegistry) -> Result<Move> {
        let debian_name = "library/debian:bookworm";
        let python_name = "library/python:3.12-slim";
        let debian = self
            .images
            .get(debian_name)
            .cloned()
            .context("debian:bookworm was not seeded")?;
        let python = image_on(
            Some(&debian),
            Some(debian_name),
            "python:3.12-slim, the next patch release",
            false,
        );
        let digest = registry
            .seeder()
            .push_image("library/python", "3.12-slim", &python)
            .await
            .context("moving python:3.12-slim")?;
        let fixed = Pushed {
            image: python,
            digest,
            base: Some(debian_name.to_owned()),
        };
        let old = self
            .images
            .insert(python_name.to_owned(), fixed.clone())
            .context("python:3.12-slim was not seeded")?;
        Ok(Move {
            name: familiar(python_name).to_owned(),
            from: old.digest,
            to: fixed.digest,
        })
    }

    /// The maintainers' fix: a new `debian:bookworm`, and `python:3.12-slim` rebuilt on
    /// it, both pushed to the tags they always had.
    pub(crate) async fn push_fix(&mut self, registry: &TestRegistry) -> Result<Vec<Move>> {
        let debian_name = "library/debian:bookworm";
        let python_name = "library/python:3.12-slim";
        let debian = Image::new("debian:bookworm, point release with the OpenSSL fix")
            .source("https://git.example.com/debian/bookworm");
        let mut moves = Vec::new();
        let debian_digest = registry
            .seeder()
            .push_image("library/debian", "bookworm", &debian)
            .await
            .context("moving debian:bookworm")?;
        let fixed_debian = Pushed {
            image: debian,
            digest: debian_digest,
            base: None,
        };
        let python = image_on(
            Some(&fixed_debian),
            Some(debian_name),
            "python:3.12-slim, rebuilt on the fixed debian:bookworm",
            false,
        );
        let python_digest = registry
            .seeder()
            .push_image("library/python", "3.12-slim", &python)
            .await
            .context("moving python:3.12-slim")?;
        let fixed_python = Pushed {
            image: python,
            digest: python_digest,
            base: Some(debian_name.to_owned()),
        };
        for (name, fixed) in [(debian_name, fixed_debian), (python_name, fixed_python)] {
            if let Some(old) = self.images.insert(name.to_owned(), fixed.clone()) {
                moves.push(Move {
                    name: familiar(name).to_owned(),
                    from: old.digest,
                    to: fixed.digest,
                });
            }
        }
        Ok(moves)
    }
}
