//! `strata graph`: build the workspace's image hierarchy and draw it (tree, dot,
//! mermaid, JSON) with every stale image marked. Exit 0 when nothing is stale, 1 when
//! something is, 2 on errors (a dependency cycle among them, named).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use strata_core::graph::{EdgeFilter, ImageRef, Status, TreeStyle, View};

use super::exit;
use crate::cli::{GraphArgs, GraphFormat};
use crate::config::{self, Config};
use crate::hierarchy::{self, Hierarchy};
use crate::registry::{RegistryClient, TagKey, install_crypto_provider};
use crate::state::{State, ensure_outside, state_path};
use crate::{dirs, resolve};

/// What `graph` and `cascade` both set up: the config, a registry client, the state.
pub(super) struct Session {
    pub(super) config: Config,
    pub(super) client: RegistryClient,
    pub(super) runtime: tokio::runtime::Runtime,
}

impl Session {
    /// Loads `--config` or `strata.toml` in `dir` and builds the client.
    pub(super) fn new(dir: Option<&Path>, explicit: Option<&Path>) -> Result<Session> {
        install_crypto_provider();
        let root = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let mut config = config::load(explicit, &root)?;
        if config.file.is_none() {
            config.workspace.base_dir = root;
        }
        let cache = dirs::cache_dir().map(|d| d.join("registry"));
        let client = resolve::client(&config.registry, cache)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        Ok(Session {
            config,
            client,
            runtime,
        })
    }

    /// Opens the state database (`--state`, `$STRATA_STATE`, the state directory),
    /// refusing one inside the workspace.
    pub(super) fn open_state(&self, flag: Option<&Path>) -> Result<State> {
        let path = state_path(flag)?;
        ensure_outside(&path, &self.config.workspace.base_dir)?;
        let state = self.runtime.block_on(State::open(&path))?;
        Ok(state)
    }

    /// Builds the hierarchy.
    pub(super) fn hierarchy(&self, state: Option<&State>) -> Result<Hierarchy> {
        let cache = dirs::cache_dir();
        self.runtime.block_on(hierarchy::build(
            &self.config.workspace,
            cache.as_deref(),
            &self.client,
            state,
        ))
    }
}

/// The JSON document: the view plus what is stale and what moved.
#[derive(Serialize)]
struct Document<'v> {
    #[serde(flatten)]
    view: &'v View,
    stale: Vec<Stale>,
    warnings: &'v [String],
}

#[derive(Serialize)]
struct Stale {
    image: ImageRef,
    lag: u32,
}

pub(super) fn run(args: &GraphArgs, out: &mut dyn Write) -> Result<u8> {
    let mut session = Session::new(args.dir.as_deref(), args.config.as_deref())?;
    if args.all_edges {
        session.config.workspace.follow = EdgeFilter::All;
    }
    // The state only sharpens layer-prefix matches: without one the graph still draws.
    let state = match session.open_state(args.state.as_deref()) {
        Ok(state) => Some(state),
        Err(e) => {
            eprintln!("warning: no state database ({e:#}); earlier base digests unknown");
            None
        }
    };
    let hierarchy = session.hierarchy(state.as_ref())?;
    for warning in &hierarchy.warnings {
        eprintln!("warning: {warning}");
    }
    let mut view = hierarchy.graph.view(session.config.workspace.follow)?;
    if let Some(state) = state {
        session.runtime.block_on(async {
            moved_at(&mut view, &state).await;
            state.close().await;
        });
    }
    let stale: Vec<Stale> = view
        .nodes
        .iter()
        .filter(|n| n.stale)
        .map(|n| Stale {
            image: n.name.clone(),
            lag: n.lag,
        })
        .collect();
    match args.format {
        GraphFormat::Tree => {
            let style = if args.ascii {
                TreeStyle::Ascii
            } else {
                TreeStyle::Unicode
            };
            out.write_all(view.tree(style).as_bytes())?;
        }
        GraphFormat::Dot => out.write_all(view.dot().as_bytes())?,
        GraphFormat::Mermaid => out.write_all(view.mermaid().as_bytes())?,
        GraphFormat::Json => {
            let doc = Document {
                view: &view,
                stale: stale
                    .iter()
                    .map(|s| Stale {
                        image: s.image.clone(),
                        lag: s.lag,
                    })
                    .collect(),
                warnings: &hierarchy.warnings,
            };
            serde_json::to_writer_pretty(&mut *out, &doc).context("writing JSON")?;
            writeln!(out)?;
        }
    }
    if args.format != GraphFormat::Json && !stale.is_empty() {
        eprintln!("{} stale", crate::output::count(stale.len(), "image"));
    }
    let missing = view
        .nodes
        .iter()
        .filter(|n| n.status == Status::Missing)
        .count();
    if args.format != GraphFormat::Json && missing > 0 {
        eprintln!(
            "{} missing from its registry",
            crate::output::count(missing, "image")
        );
    }
    Ok(if stale.is_empty() && missing == 0 {
        exit::OK
    } else {
        exit::FINDINGS
    })
}

/// When each base a stale external image waits on moved away from the digest it is
/// built on, as the state database saw it.
async fn moved_at(view: &mut View, state: &State) {
    for node in &mut view.nodes {
        let Some(waiting) = &mut node.waiting else {
            continue;
        };
        let Ok(key) = TagKey::of(waiting.base.reference()) else {
            continue;
        };
        let moves = state.history(&key).await.unwrap_or_default();
        waiting.moved_at = moves
            .iter()
            .find(|m| m.from == waiting.built_on)
            .map(|m| crate::output::rfc3339(m.observed_at));
    }
}
