//! act stage: rebuild cascades. When a base image moves, every managed image below it is
//! rebuilt level by level — each only after its bases' new images are published, and
//! verified to be built on them — by its configured trigger. Progress lives in the state
//! database so an interrupted cascade resumes without triggering anything twice.
//!
//! - [`cascade::run_from`]: the whole thing for one root (what `update` calls);
//!   [`cascade::run`] over a hierarchy already built (what `strata cascade` calls).
//! - `deliver`: before a rebuild, every pin of its moved bases in its repository is
//!   rewritten and brought to where its build reads it (the working tree, a pushed
//!   commit, or a pull request: `pull_request`, through `crate::update`).
//! - `drive`: one process drives a running cascade; others opening it follow.
//! - `trigger`: commands, webhooks, GitHub and GitLab dispatches, each told the `request`.
//! - `plan`: what a dry run prints.
//! - `wait`: polling the registry until an image is out on its new base.
//!
//! Which images exist and what they build on is `crate::hierarchy`'s; the order is the
//! core graph's [`Plan`](strata_core::graph::Plan).

pub mod cascade;
pub mod deliver;
mod drive;
pub mod plan;
pub mod pull_request;
pub mod report;
pub mod request;
mod runner;
pub mod trigger;
pub mod wait;

pub use cascade::{Options, run, run_from};
pub use plan::{Behind, PlanView, Planned};
pub use report::{NodeReport, Report, Status};
