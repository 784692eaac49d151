//! The documentation covers every code strata can print.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::Path;

use strata_core::occurrence::SkipReason;

fn doc(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_skip_code_has_a_section() {
    let text = doc("skips.md");
    for code in SkipReason::CODES {
        assert!(
            text.contains(&format!("## `{code}`")),
            "docs/skips.md has no section for `{code}`"
        );
    }
}
