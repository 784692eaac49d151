//! graph stage: the image hierarchy (which image is built FROM which), its cycle check,
//! cascade order, staleness and renderings. Pure values in, pure values out: nothing here
//! reads repositories, asks registries, fires builds or touches a database.
//!
//! The binary fills a [`Graph`] from what it observed (Dockerfiles, base annotations,
//! layer prefixes, current tag digests) and asks it questions:
//!
//! ```
//! use strata_core::graph::{EdgeFilter, EdgeKind, Evidence, Graph, ImageRef, Node, Producer};
//!
//! let debian: ImageRef = "debian:bookworm".parse()?;
//! let base: ImageRef = "acme/base:1".parse()?;
//! let app: ImageRef = "acme/app:1".parse()?;
//! let mut graph = Graph::new();
//! graph.add_node(Node::managed(base.clone(), Producer::dockerfile("acme/images", "base/Dockerfile")))?;
//! graph.add_node(Node::managed(app.clone(), Producer::dockerfile("acme/app", "Dockerfile")))?;
//! let from = Evidence::Dockerfile { path: "Dockerfile".into(), line: 1 };
//! graph.add_edge(&debian, &base, EdgeKind::FinalStage, from.clone());
//! graph.add_edge(&base, &app, EdgeKind::FinalStage, from);
//! graph.validate()?;
//!
//! let plan = graph.downstream(&debian, EdgeFilter::FinalStage)?;
//! assert_eq!(plan.levels(), &[vec![base], vec![app]]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The algorithms (cycle search, topological levels, closures) are our own rather than
//! petgraph's: they are each a few dozen lines, and we need things petgraph leaves to the
//! caller anyway — the whole cycle path for the error message, longest-path levels, and
//! an order that depends only on image names, never on insertion order.

mod bases;
mod build;
mod image;
mod layers;
mod order;
mod plan;
mod render;
mod stale;
mod view;

use serde::{Deserialize, Serialize};

use crate::reference::Digest;

pub use bases::{BaseUse, bases};
pub use build::{Edge, Graph, ProducerConflict};
pub use image::{ImageRef, ImageRefError};
pub use layers::{LayerIndex, infer_base};
pub use order::CycleError;
pub use plan::{Plan, PlanError, Split};
pub use stale::{Freshness, Staleness};
pub use view::{Status, TreeStyle, View, ViewEdge, ViewKind, ViewNode, Waiting};

/// How a child image uses a base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// The base of the stage that becomes the image: its layers are the image's first layers.
    FinalStage,
    /// The base of an earlier build stage (a builder): only what is copied out survives.
    BuildStage,
    /// `COPY --from=<image>` (or a `RUN --mount` from an image): files taken from it.
    CopyFrom,
}

impl EdgeKind {
    /// The stable kebab-case name used in every rendering.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::FinalStage => "final-stage",
            EdgeKind::BuildStage => "build-stage",
            EdgeKind::CopyFrom => "copy-from",
        }
    }
}

/// Which edges a question follows. The image hierarchy proper is the final-stage
/// inheritance; builders and `COPY --from` sources are followed only on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EdgeFilter {
    /// Only [`EdgeKind::FinalStage`] edges.
    #[default]
    FinalStage,
    /// Every edge kind.
    All,
}

impl EdgeFilter {
    /// Whether an edge of `kind` is followed.
    pub fn accepts(self, kind: EdgeKind) -> bool {
        match self {
            EdgeFilter::FinalStage => kind == EdgeKind::FinalStage,
            EdgeFilter::All => true,
        }
    }
}

/// Why we believe a child is built from a base. One edge may gather several.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum Evidence {
    /// A managed Dockerfile names the base (`FROM`, or `COPY --from` for
    /// [`EdgeKind::CopyFrom`]) at this 1-based line.
    Dockerfile { path: String, line: usize },
    /// The published child carries `org.opencontainers.image.base.name` (a manifest
    /// annotation or a config label), with `org.opencontainers.image.base.digest` when set:
    /// the digest of the base the child was built on.
    BaseAnnotation { digest: Option<Digest> },
    /// The child's layers start with all of the base's layers (see [`infer_base`]);
    /// `layers` is how many, `digest` the base's manifest digest whose layers matched.
    LayerPrefix {
        layers: usize,
        digest: Option<Digest>,
    },
}

/// The source of a managed image: where its build is defined.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Producer {
    /// The source repository, as the caller names it (`acme/app`, a URL, a local path).
    pub repository: String,
    /// The Dockerfile or compose file inside the repository.
    pub path: String,
    /// The compose service that builds the image, when the build is defined in compose.
    pub service: Option<String>,
    /// The Dockerfile stage built (`--target`), when it is not the last one.
    pub target: Option<String>,
}

impl Producer {
    /// An image built from the Dockerfile at `path` in `repository`.
    pub fn dockerfile(repository: impl Into<String>, path: impl Into<String>) -> Producer {
        Producer {
            repository: repository.into(),
            path: path.into(),
            service: None,
            target: None,
        }
    }

    /// An image built by compose `service` declared in the compose file at `path`.
    pub fn compose(
        repository: impl Into<String>,
        path: impl Into<String>,
        service: impl Into<String>,
    ) -> Producer {
        Producer {
            service: Some(service.into()),
            ..Producer::dockerfile(repository, path)
        }
    }

    /// The same producer building stage `target`.
    pub fn with_target(self, target: impl Into<String>) -> Producer {
        Producer {
            target: Some(target.into()),
            ..self
        }
    }
}

/// Whether we build an image or only consume it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A base published by someone else (`docker.io/library/debian:bookworm`): a cascade
    /// starts from it but never rebuilds it, and does not pass through it.
    External,
    /// An image we build.
    Managed(Producer),
}

/// An image tag in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub image: ImageRef,
    pub kind: NodeKind,
    /// The digest the tag points at now, when known (what the registry says today).
    pub digest: Option<Digest>,
    /// The registry says the tag does not exist.
    pub missing: bool,
}

impl Node {
    /// A base we do not build.
    pub fn external(image: ImageRef) -> Node {
        Node {
            image,
            kind: NodeKind::External,
            digest: None,
            missing: false,
        }
    }

    /// An image built by `producer`.
    pub fn managed(image: ImageRef, producer: Producer) -> Node {
        Node {
            image,
            kind: NodeKind::Managed(producer),
            digest: None,
            missing: false,
        }
    }

    /// The same node with the tag's current digest.
    pub fn with_digest(self, digest: Digest) -> Node {
        Node {
            digest: Some(digest),
            ..self
        }
    }

    /// Whether we build this image.
    pub fn is_managed(&self) -> bool {
        matches!(self.kind, NodeKind::Managed(_))
    }

    /// The producer of a managed image.
    pub fn producer(&self) -> Option<&Producer> {
        match &self.kind {
            NodeKind::Managed(producer) => Some(producer),
            NodeKind::External => None,
        }
    }
}
