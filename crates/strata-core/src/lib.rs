//! strata-core: the pure part of strata. Parsing image references and Dockerfiles,
//! extracting image occurrences from files, deciding and rewriting. Nothing here touches
//! the filesystem, the network, a clock or a database: callers hand in bytes and get values.

pub mod check;
pub mod ci;
mod decision;
pub mod dockerfile;
pub mod extract;
pub mod graph;
pub mod imagediff;
pub mod library;
pub mod occurrence;
pub mod osv;
pub mod overlay;
pub mod package;
pub mod plan;
pub mod reference;
pub mod rewrite;
pub mod shell;
pub mod update;
pub mod version;
pub mod webhook;
