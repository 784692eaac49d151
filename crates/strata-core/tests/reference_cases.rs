//! Runs every case of the distribution/reference corpus (`corpus/reference`) through
//! the operation it names and compares every expected field that is present.

mod corpus;

use serde_json::{Map, Value, json};
use strata_core::reference::strict::{self, AnyReference, Named};
use strata_core::reference::{Reference, ReferenceError, grammar};

/// The cases in `reference/cases.json`: a corpus that shrinks must fail.
const CASES: usize = 351;

/// What an operation observed: field name -> value, in the corpus's vocabulary.
type Observed = Map<String, Value>;

#[test]
fn distribution_reference_corpus() {
    let text = corpus::read_to_string("reference/cases.json");
    let corpus: Value = serde_json::from_str(&text).expect("corpus is JSON");
    let cases = corpus["cases"].as_array().expect("cases array");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).err().map(|e| format!("{}: {e}", case["id"])))
        .collect();
    println!(
        "{} reference cases passed, {} failed",
        cases.len() - failures.len(),
        failures.len()
    );
    assert_eq!(cases.len(), CASES, "cases in reference/cases.json");
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}

fn check(case: &Value) -> Result<(), String> {
    let operation = case["operation"].as_str().ok_or("no operation")?;
    let outcome = run(operation, &case["input"])?;
    match (case.get("expected"), case.get("expected_error"), outcome) {
        (Some(expected), _, Ok(observed)) => compare(expected, &observed),
        (Some(_), _, Err(e)) => Err(format!("unexpected error: {e}")),
        (None, Some(want), Err(e)) => compare_error(want, &e),
        (None, Some(_), Ok(observed)) => Err(format!("expected an error, got {observed:?}")),
        (None, None, _) => Err("case has neither expected nor expected_error".into()),
    }
}

fn compare(expected: &Value, observed: &Observed) -> Result<(), String> {
    let expected = expected.as_object().ok_or("expected is not an object")?;
    for (field, want) in expected {
        match observed.get(field) {
            Some(got) if got == want => {}
            Some(got) => return Err(format!("{field}: want {want}, got {got}")),
            None => return Err(format!("{field}: not reported by the operation")),
        }
    }
    Ok(())
}

fn compare_error(want: &Value, got: &ReferenceError) -> Result<(), String> {
    let kind = want["kind"].as_str().unwrap_or_default();
    if kind == "any" {
        return Ok(());
    }
    if kind_of(got) != kind {
        return Err(format!(
            "error kind: want {kind}, got {} ({got})",
            kind_of(got)
        ));
    }
    let message = want["message"].as_str().unwrap_or_default();
    if !got.to_string().starts_with(message) {
        return Err(format!(
            "error message: want {message:?}, got {:?}",
            got.to_string()
        ));
    }
    Ok(())
}

fn kind_of(e: &ReferenceError) -> &'static str {
    match e {
        ReferenceError::InvalidFormat => "invalid_reference_format",
        ReferenceError::InvalidTagFormat => "invalid_tag_format",
        ReferenceError::InvalidDigestFormat => "invalid_digest_format",
        ReferenceError::NameContainsUppercase => "name_contains_uppercase",
        ReferenceError::NameEmpty => "name_empty",
        ReferenceError::NameTooLong { .. } => "name_too_long",
        ReferenceError::NameNotCanonical => "name_not_canonical",
        ReferenceError::DigestInvalidLength { .. } => "digest_invalid_length",
        ReferenceError::DigestUnsupported => "digest_unsupported_algorithm",
        ReferenceError::DigestInvalidFormat => "digest_invalid_format",
        ReferenceError::HexIdentifier => "hex_identifier",
        ReferenceError::BadPattern => "bad_pattern",
    }
}

/// Runs one operation. The outer error is a malformed case; the inner one is the
/// operation failing.
fn run(operation: &str, input: &Value) -> Result<Result<Observed, ReferenceError>, String> {
    let text = || {
        input
            .as_str()
            .ok_or_else(|| format!("input is not a string: {input}"))
    };
    let field = |name: &str| input[name].as_str().unwrap_or_default().to_owned();
    Ok(match operation {
        "parse" => strict::parse(text()?).map(|n| named_fields(&n)),
        "with_name" => strict::with_name(text()?).map(|n| named_fields(&n)),
        "parse_named" => strict::parse_named(text()?).map(|r| reference_fields(&r)),
        "parse_normalized_named" => {
            Reference::parse_normalized(text()?).map(|r| reference_fields(&r))
        }
        "parse_docker_ref" => strict::parse_docker_ref(text()?).map(|r| {
            let mut observed = reference_fields(&r);
            // A docker ref always has a tag or digest, so Display must add nothing.
            observed.insert("display".into(), json!(r.to_string()));
            observed
        }),
        "parse_any_reference" => strict::parse_any_reference(text()?).map(|any| {
            let kind = match any {
                AnyReference::Named(_) => "named",
                AnyReference::Digest(_) => "digest_only",
            };
            fields([("string", json!(any.to_string())), ("kind", json!(kind))])
        }),
        "with_tag" => with_tag(&field("name"), &field("digest"), &field("tag")),
        "with_digest" => with_digest(&field("name"), &field("tag"), &field("digest")),
        "familiar_match" => Reference::parse_normalized(&field("reference")).and_then(|r| {
            strict::familiar_match(&field("pattern"), &r).map(|m| fields([("match", json!(m))]))
        }),
        "regexp_domain_anchored" => Ok(fields([("match", json!(grammar::match_domain(text()?)))])),
        "regexp_identifier_anchored" => Ok(fields([(
            "match",
            json!(grammar::match_identifier(text()?)),
        )])),
        "regexp_name_anchored" => Ok(match grammar::match_name(text()?) {
            Some(m) => fields([
                ("match", json!(true)),
                ("submatches", json!([m.domain.unwrap_or_default(), m.path])),
            ]),
            None => fields([("match", json!(false))]),
        }),
        "regexp_reference_anchored" => Ok(match grammar::match_reference(text()?) {
            Some(m) => fields([
                ("match", json!(true)),
                (
                    "submatches",
                    json!([
                        m.name,
                        m.tag.unwrap_or_default(),
                        m.digest.unwrap_or_default()
                    ]),
                ),
            ]),
            None => fields([("match", json!(false))]),
        }),
        other => return Err(format!("unknown operation {other}")),
    })
}

fn with_tag(name: &str, digest: &str, tag: &str) -> Result<Observed, ReferenceError> {
    let mut named = strict::with_name(name)?;
    if !digest.is_empty() {
        named = named.with_digest(digest)?;
    }
    named.with_tag(tag).map(|n| named_fields(&n))
}

fn with_digest(name: &str, tag: &str, digest: &str) -> Result<Observed, ReferenceError> {
    let mut named = strict::with_name(name)?;
    if !tag.is_empty() {
        named = named.with_tag(tag)?;
    }
    named.with_digest(digest).map(|n| named_fields(&n))
}

fn fields<const N: usize>(pairs: [(&str, Value); N]) -> Observed {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Fields of a reference as written (upstream's empty string for an absent part).
fn named_fields(n: &Named) -> Observed {
    fields([
        ("string", json!(n.to_string())),
        ("name", json!(n.name())),
        ("domain", json!(n.domain().unwrap_or_default())),
        ("path", json!(n.path())),
        ("tag", json!(n.tag().unwrap_or_default())),
        ("digest", json!(n.digest().unwrap_or_default())),
    ])
}

/// Fields of a normalised reference; `string` is upstream's form (no default tag).
fn reference_fields(r: &Reference) -> Observed {
    let mut observed = named_fields(&Named::from(r));
    observed.insert("valid".into(), json!(true));
    observed.insert("familiar_name".into(), json!(r.familiar_name()));
    observed.insert("familiar_string".into(), json!(r.familiar_string()));
    assert_eq!(observed["domain"], json!(r.domain()));
    assert_eq!(observed["path"], json!(r.path()));
    observed
}
