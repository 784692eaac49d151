//! Fuzz target for image references. For any UTF-8 input:
//! - `Reference::parse_normalized` must not panic; a successful parse must print
//!   (Display) to text that parses back to the same reference (give or take the
//!   `:latest` Display adds to a bare name), that printed form must count as canonical,
//!   and the familiar form must name the same repository;
//! - every hand-written grammar recogniser must agree with a regular-expression oracle
//!   written from the grammar in `strata_core::reference::grammar`'s documentation.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use regex::Regex;
use strata_core::reference::{Reference, grammar, strict};

fuzz_target!(|input: &str| {
    check_round_trip(input);
    check_grammar(input);
});

fn check_round_trip(input: &str) {
    let Ok(reference) = Reference::parse_normalized(input) else {
        return;
    };
    let printed = reference.to_string();
    let again = match Reference::parse_normalized(&printed) {
        Ok(again) => again,
        Err(e) => panic!("{input:?} printed as {printed:?}, which fails to parse: {e}"),
    };
    let expected = if reference.tag().is_none() && reference.digest().is_none() {
        reference.with_tag("latest").expect("latest is a valid tag")
    } else {
        reference.clone()
    };
    assert_eq!(again, expected, "{input:?} printed as {printed:?}");
    assert_eq!(
        again.to_string(),
        printed,
        "printing is not stable for {input:?}"
    );
    if let Err(e) = strict::parse_named(&printed) {
        panic!("{input:?} printed as {printed:?}, which is not canonical: {e}");
    }
    let familiar = reference.familiar_string();
    let from_familiar = Reference::parse_normalized(&familiar)
        .unwrap_or_else(|e| panic!("familiar {familiar:?} of {input:?} fails: {e}"));
    assert_eq!(
        from_familiar.name(),
        reference.name(),
        "familiar {familiar:?}"
    );
}

const DOMAIN: &str = r"(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?";
const PATH: &str =
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*";
const TAG: &str = r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
const DIGEST: &str = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";

fn anchored(pattern: String) -> Regex {
    Regex::new(&format!("^(?:{pattern})$")).expect("oracle pattern compiles")
}

static DOMAIN_RE: LazyLock<Regex> = LazyLock::new(|| anchored(DOMAIN.into()));
static TAG_RE: LazyLock<Regex> = LazyLock::new(|| anchored(TAG.into()));
static DIGEST_RE: LazyLock<Regex> = LazyLock::new(|| anchored(DIGEST.into()));
static IDENTIFIER_RE: LazyLock<Regex> = LazyLock::new(|| anchored("[a-f0-9]{64}".into()));
static NAME_RE: LazyLock<Regex> = LazyLock::new(|| anchored(format!("(?:({DOMAIN})/)?({PATH})")));
static REFERENCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    anchored(format!(
        "((?:{DOMAIN}/)?{PATH})(?::({TAG}))?(?:@({DIGEST}))?"
    ))
});

fn check_grammar(s: &str) {
    assert_eq!(
        grammar::match_domain(s),
        DOMAIN_RE.is_match(s),
        "domain {s:?}"
    );
    assert_eq!(grammar::match_tag(s), TAG_RE.is_match(s), "tag {s:?}");
    assert_eq!(
        grammar::match_digest(s),
        DIGEST_RE.is_match(s),
        "digest {s:?}"
    );
    assert_eq!(
        grammar::match_identifier(s),
        IDENTIFIER_RE.is_match(s),
        "id {s:?}"
    );

    let name = grammar::match_name(s).map(|m| (m.domain, m.path));
    let want = NAME_RE.captures(s).map(|c| {
        (
            c.get(1).map(|m| m.as_str()),
            c.get(2).map_or("", |m| m.as_str()),
        )
    });
    assert_eq!(name, want, "name {s:?}");

    let reference = grammar::match_reference(s).map(|m| (m.name, m.tag, m.digest));
    let want = REFERENCE_RE.captures(s).map(|c| {
        (
            c.get(1).map_or("", |m| m.as_str()),
            c.get(2).map(|m| m.as_str()),
            c.get(3).map(|m| m.as_str()),
        )
    });
    assert_eq!(reference, want, "reference {s:?}");
}
