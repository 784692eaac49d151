//! act stage, before acting: a cascade's plan as people and machines read it — the
//! images below a root in levels, each with its bases in the cascade and its trigger.
//! What `cascade --dry-run` and `update --dry-run` print. Formats values; fires nothing.

use std::io::{self, Write};

use serde::Serialize;
use strata_core::graph::{ImageRef, Plan};

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
}

/// A whole plan: `{"root", "levels", "images"}` in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanView {
    pub root: ImageRef,
    /// How many levels deep the cascade goes.
    pub levels: usize,
    pub images: Vec<Planned>,
}

impl PlanView {
    /// The plan's images in level order, with their triggers from `hierarchy`.
    pub fn new(plan: &Plan, hierarchy: &Hierarchy) -> PlanView {
        let images = plan
            .images()
            .map(|image| Planned {
                image: image.clone(),
                level: plan.level_of(image).unwrap_or(0),
                bases: plan.parents(image).to_vec(),
                trigger: hierarchy
                    .builds
                    .get(image)
                    .and_then(|b| b.trigger.as_ref())
                    .map(|t| t.describe()),
            })
            .collect();
        PlanView {
            root: plan.root().clone(),
            levels: plan.levels().len(),
            images,
        }
    }

    /// The people's view: a heading, then per level each image with its bases and trigger.
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "cascade from {}: {} in {} (dry run: nothing triggered)",
            self.root.familiar(),
            crate::output::count(self.images.len(), "image"),
            crate::output::count(self.levels, "level")
        )?;
        for level in 1..=self.levels {
            writeln!(out, "level {level}:")?;
            for p in self.images.iter().filter(|p| p.level == level) {
                let bases: Vec<String> = p.bases.iter().map(ImageRef::familiar).collect();
                let trigger = p.trigger.as_deref().unwrap_or("no trigger configured");
                writeln!(
                    out,
                    "  {}  (on {})  {trigger}",
                    p.image.familiar(),
                    bases.join(", ")
                )?;
            }
        }
        Ok(())
    }
}
