//! The `strata` binary's library: adapters around strata-core (discovery on the
//! filesystem, the registry client, output) and one module per CLI verb. `main.rs` only
//! parses arguments, runs a command and maps the outcome to an exit code.

pub mod cli;
pub mod commands;
pub mod discover;
pub mod output;
pub mod registry;
pub mod scan;
pub mod selection;
