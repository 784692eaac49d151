//! extract stage: one pure function per file kind, from file text to the image references
//! it names (with exact byte spans), the places skipped on purpose, and the errors the build
//! tool would report. Nothing here reads files or talks to registries.

pub mod actions;
pub mod compose;
pub mod dockerfile;
pub mod kubernetes;
mod target;
pub(crate) mod yaml;
