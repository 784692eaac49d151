//! decide stage, for `strata check`: findings from what the extractors found, what the
//! caller observed (current tag digests, missing digests, since when), the Docker
//! Official Images library and the repository's policy. Pure: nothing here touches a
//! registry, the state database or a file; callers hand in values and get findings.
//!
//! Each finding has a stable kebab-case [`Code`] with a default [`Severity`]; a
//! [`Policy`] changes severities and drops ignored findings.
//!
//! ```
//! use strata_core::check::{Code, Inputs, Offline, Policy, check_file};
//! use strata_core::extract::dockerfile;
//!
//! let text = "FROM python:3.12\nFROM alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
//! let extraction = dockerfile::extract(text, &dockerfile::Options::default());
//! let inputs = Inputs { observed: &Offline, library: None, history: None };
//! let mut findings = check_file("Dockerfile", text, &extraction, &inputs);
//! Policy::default().apply(&mut findings);
//! let codes: Vec<Code> = findings.iter().map(|f| f.code).collect();
//! assert_eq!(codes, [Code::Unpinned, Code::DigestOnly]);
//! ```

mod code;
mod decide;
mod finding;
mod glob;
mod policy;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use code::{Code, Severity};
pub use decide::{Inputs, check_file, digests_to_verify, tags_to_resolve};
pub use finding::{Current, Finding, Observations, Offline, TagState};
pub use glob::{Glob, GlobError};
pub use policy::{Ignore, Level, Policy};
