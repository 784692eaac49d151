//! act stage, for reading: how `strata check` findings are shown: a table for people,
//! JSON (the documented, stable shape), SARIF 2.1.0 for code scanning, GitHub Actions
//! annotations or a check run, and a Markdown summary. Renders reports; decides and sends nothing.

pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod table;

use strata_core::check::Code;

/// The project's home page (SARIF `informationUri`).
pub const HOME_URL: &str = "https://github.com/strata-dev/strata";

/// The finding-code documentation; each code is a section anchored by its name.
pub const DOCS_URL: &str = "https://github.com/strata-dev/strata/blob/main/docs/checks.md";

/// The documentation of one code (`…/docs/checks.md#moved-tag`).
pub fn help_uri(code: Code) -> String {
    format!("{DOCS_URL}#{}", code.as_str())
}
