//! Fuzzes the Dockerfile parser and extractor: any input must parse or fail cleanly, and
//! every rewritable span an occurrence reports must lie inside the input on character
//! boundaries (a rewrite is a splice there).

#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_core::dockerfile;
use strata_core::extract::dockerfile::{Options, extract};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(df) = dockerfile::parse(text) {
        for ins in &df.instructions {
            assert!(ins.start_line <= ins.end_line);
            let _ = strata_core::dockerfile::ast::node(&ins.text, df.escape);
        }
    }
    let mut opts = Options::default();
    opts.build_args.insert("A".into(), "x".into());
    let out = extract(text, &opts);
    for warning in &out.warnings {
        assert!(warning.occurrence.is_none_or(|i| i < out.occurrences.len()));
    }
    for occ in &out.occurrences {
        if occ.blocked.is_none() {
            assert!(occ.span.start <= occ.span.end && occ.span.end <= text.len());
            assert!(text.is_char_boundary(occ.span.start) && text.is_char_boundary(occ.span.end));
        }
    }
});
