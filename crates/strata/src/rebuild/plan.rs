//! act stage, before acting: a cascade's plan as people and machines read it — the
//! images below a root in levels, each with its bases in the cascade and its trigger.
//! What `cascade --dry-run` and `update --dry-run` print. Formats values; fires nothing.

use std::io::{self, Write};

use serde::Serialize;
use strata_core::graph::{EdgeFilter, Freshness, ImageRef, Plan, Staleness, Waiting};

use crate::hierarchy::Hierarchy;

/// One image of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    pub image: ImageRef,
    /// 1-based level below the root.
    pub level: usize,
    /// Its bases in the cascade.
    pub bases: Vec<ImageRef>,
    /// The trigger that would fire, as configured (`None`: none configured).
    pub trigger: Option<String>,
    /// How its new pins would reach its build (`in-place`, `commit`, `pull-request`,
    /// `none`), or why its settings cannot work.
    pub pins: Option<String>,
    /// Already built on the newest content of its bases: it would not be rebuilt.
    pub fresh: bool,
}

/// Managed images the cascade cannot reach: behind an image nobody here builds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Behind {
    /// The external image they are built on (through it, or images below it).
    pub image: ImageRef,
    /// How many managed images wait on it.
    pub managed: usize,
    /// What it is itself still built on, when it is stale.
    pub waiting: Option<Waiting>,
}

/// A whole plan: `{"root", "levels", "images", "pending", "behind"}` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanView {
    pub root: ImageRef,
    /// How many levels deep the cascade goes.
    pub levels: usize,
    pub images: Vec<Planned>,
    /// Images that would be rebuilt (not already fresh).
    pub pending: usize,
    /// Managed images out of this cascade's reach, per external image they wait on.
    pub behind: Vec<Behind>,
}

impl PlanView {
    /// The plan's images in level order, with their triggers from `hierarchy` and
    /// freshness from `staleness`; what waits behind external images below the root.
    pub fn new(
        plan: &Plan,
        hierarchy: &Hierarchy,
        staleness: &Staleness,
        follow: EdgeFilter,
    ) -> PlanView {
        let images: Vec<Planned> = plan
            .images()
            .map(|image| {
                let build = hierarchy.builds.get(image);
                Planned {
                    image: image.clone(),
                    level: plan.level_of(image).unwrap_or(0),
                    bases: plan.parents(image).to_vec(),
                    trigger: build.and_then(|b| b.trigger.as_ref()).map(|t| t.describe()),
                    pins: build.map(|b| match &b.pins {
                        Ok(mode) => mode.as_str().to_owned(),
                        Err(why) => format!("error: {why}"),
                    }),
                    fresh: staleness.get(image) == Freshness::Fresh,
                }
            })
            .collect();
        PlanView {
            root: plan.root().clone(),
            levels: plan.levels().len(),
            pending: images.iter().filter(|p| !p.fresh).count(),
            images,
            behind: behind(plan.root(), hierarchy, follow),
        }
    }

    /// Lines saying which managed images wait behind which external image, and that
    /// their cascade starts when it moves (nothing when none do).
    pub fn write_behind(&self, out: &mut dyn Write) -> io::Result<()> {
        for b in &self.behind {
            let still = b.waiting.as_ref().map_or(String::new(), |w| {
                let digest = w.built_on.to_string();
                let short: String = digest.chars().take(19).collect();
                format!(", which is still built on {}@{short}", w.base.familiar())
            });
            let (wait, their) = if b.managed == 1 {
                ("waits", "its")
            } else {
                ("wait", "their")
            };
            writeln!(
                out,
                "{} {wait} on {} (external){still}: {their} cascade starts when {} moves \
                 (`strata cascade {}`)",
                crate::output::count(b.managed, "managed image"),
                b.image.familiar(),
                b.image.familiar(),
                b.image.familiar()
            )?;
        }
        Ok(())
    }

    /// The people's view: a heading, then per level each image with its bases and trigger.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "cascade from {}: {} in {}, {} pending (dry run: nothing triggered)",
            self.root.familiar(),
            crate::output::count(self.images.len(), "image"),
            crate::output::count(self.levels, "level"),
            self.pending
        )?;
        for level in 1..=self.levels {
            writeln!(out, "level {level}:")?;
            for p in self.images.iter().filter(|p| p.level == level) {
                let bases: Vec<String> = p.bases.iter().map(ImageRef::familiar).collect();
                let trigger = p.trigger.as_deref().unwrap_or("no trigger configured");
                let pins = p.pins.as_deref().unwrap_or("none");
                let fresh = if p.fresh { "  (already fresh)" } else { "" };
                writeln!(
                    out,
                    "  {}  (on {})  {trigger}, pins {pins}{fresh}",
                    p.image.familiar(),
                    bases.join(", ")
                )?;
            }
        }
        self.write_behind(out)
    }
}

/// The external images below `root` with managed images behind them.
fn behind(root: &ImageRef, hierarchy: &Hierarchy, follow: EdgeFilter) -> Vec<Behind> {
    let Ok(found) = hierarchy.graph.behind_external(root, follow) else {
        return Vec::new();
    };
    let view = hierarchy.graph.view(follow).ok();
    found
        .into_iter()
        .map(|(image, managed)| {
            let waiting = view.as_ref().and_then(|v| {
                v.nodes
                    .iter()
                    .find(|n| n.name == image)
                    .and_then(|n| n.waiting.clone())
            });
            Behind {
                image,
                managed,
                waiting,
            }
        })
        .collect()
}
