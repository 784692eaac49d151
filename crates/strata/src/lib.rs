//! The `strata` binary's library: adapters around strata-core (discovery on the
//! filesystem, the registry client, output) and one module per CLI verb. `main.rs` only
//! parses arguments, runs a command and maps the outcome to an exit code.

pub mod apply;
pub mod check;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diff;
pub mod dirs;
pub mod discover;
pub mod forge;
pub mod git;
pub mod hierarchy;
pub mod init;
pub mod official_images;
pub mod outcome;
pub mod output;
pub mod pin;
pub mod process;
pub mod progress;
pub mod rebuild;
pub mod registry;
pub mod report;
pub mod resolve;
pub mod scan;
pub mod selection;
pub mod serve;
pub mod shutdown;
pub mod state;
pub mod update;
