//! diff stage (pure): what differs between two images, per platform — the runtime
//! configuration, the layers, the OS packages, the advisories — and why the image moved;
//! the report model and its renderings (a table for people, Markdown for pull requests,
//! JSON through serde). Callers fetch and stream; nothing here does I/O.

mod config;
mod layers;
mod markdown;
mod report;
mod table;
mod text;

pub use config::{ConfigChange, ConfigView, diff_config};
pub use layers::{LayerDiff, LayerInfo, diff_layers};
pub use markdown::{Markdown, markdown, markdown_for_pull_request};
pub use report::{Cause, Inventory, PlatformReport, Report, Side, Summary, platform_name};
pub use table::table;

/// Why an image configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageDiffError {
    /// The config blob is not the JSON the image spec describes.
    #[error("image config is not valid JSON: {detail}")]
    Config { detail: String },
}
