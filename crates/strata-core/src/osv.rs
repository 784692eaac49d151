//! vulnerability stage (knowledge): advisories in the OSV format (ossf/osv-schema) and
//! which of them affect a set of OS packages: matched on the ecosystem release
//! (`Debian:12`; an advisory for the bare ecosystem `Debian` covers every release), the
//! SOURCE package name (what Debian and Alpine advisories name) and the version, under
//! the ecosystem's own ordering, with OSV's range evaluation (`ECOSYSTEM` ranges of
//! `introduced` / `fixed` / `last_affected` / `limit` events, plus the `versions` list).
//! Pure: callers read the records and hand in their bytes.

mod cvss;
mod matching;
mod model;

pub use cvss::{Rating, cvss3_base_score};
pub use matching::{AdvisoryDelta, AdvisoryIndex, DeltaEntry, Finding, delta};
pub use model::{Advisory, Affected, Event, OsvError, OsvPackage, Range, Severity};
