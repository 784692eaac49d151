//! docs/checks.md documents every finding code: a section per code (the anchor SARIF
//! rules and JSON `help_uri` link to) saying what it means and how to fix it.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use strata_core::check::Code;

#[test]
fn every_code_has_a_section_with_a_fix() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/checks.md");
    let docs = std::fs::read_to_string(path).unwrap();
    let sections: Vec<&str> = docs.split("\n## ").skip(1).collect();
    for code in Code::ALL {
        let heading = format!("`{}`\n", code.as_str());
        let section = sections
            .iter()
            .find(|s| s.starts_with(&heading))
            .unwrap_or_else(|| panic!("no section for {code}"));
        assert!(section.contains("Fix:"), "{code}: no fix");
        let row = format!("| [`{code}`](#{code}) | {} |", code.default_severity());
        assert!(docs.contains(&row), "{code}: no table row {row:?}");
    }
}
