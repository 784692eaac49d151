//! Snapshot tests of the compose, Kubernetes and Actions extractors over realistic fixture
//! files, plus the properties every occurrence must have (its span holds exactly its text)
//! and the hostile-input limits (deep nesting, alias bombs, large files).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;
use strata_core::extract::{actions, compose, kubernetes};
use strata_core::occurrence::{Extraction, Role, Source};

type Extractor = fn(&str, &dyn Fn(&str) -> Option<String>) -> Extraction;

/// A compact, stable view of an extraction for snapshots.
#[derive(Serialize)]
struct View {
    occurrences: Vec<OccurrenceView>,
    skips: Vec<SkipView>,
    errors: Vec<String>,
}

#[derive(Serialize)]
struct OccurrenceView {
    line: usize,
    column: usize,
    span: [usize; 2],
    source: Source,
    text: String,
    reference: String,
    role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocked: Option<String>,
}

#[derive(Serialize)]
struct SkipView {
    line: usize,
    text: String,
    code: &'static str,
    message: String,
}

fn view(out: &Extraction) -> View {
    View {
        occurrences: out
            .occurrences
            .iter()
            .map(|o| OccurrenceView {
                line: o.line,
                column: o.column,
                span: [o.span.start, o.span.end],
                source: o.source,
                text: o.text.clone(),
                reference: o.reference.to_string(),
                role: o.role,
                platform: o.platform.clone(),
                blocked: o
                    .blocked
                    .as_ref()
                    .map(|b| format!("{}: {}", b.code(), b.message())),
            })
            .collect(),
        skips: out
            .skips
            .iter()
            .map(|s| SkipView {
                line: s.line,
                text: s.text.clone(),
                code: s.reason.code(),
                message: s.reason.message(),
            })
            .collect(),
        errors: out.errors.iter().map(ToString::to_string).collect(),
    }
}

fn fixture(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The variables the compose fixtures are written against.
fn compose_vars(name: &str) -> Option<String> {
    match name {
        "REGISTRY" => Some("registry.example.com:5000".to_owned()),
        "PY_VERSION" => Some("3.12".to_owned()),
        "EMPTY" => Some(String::new()),
        _ => None,
    }
}

/// Runs `extract` on a fixture and checks what must hold for every occurrence: the span
/// holds exactly the written text (or the whole token when blocked), the column points at
/// it, and splicing a digest at the end of each span gives a file whose references now
/// carry that digest.
fn run(extract: Extractor, path: &str, vars: &dyn Fn(&str) -> Option<String>) -> View {
    let text = fixture(path);
    let out = extract(&text, vars);
    for o in &out.occurrences {
        let written = &text[o.span.clone()];
        if o.blocked.is_none() {
            assert_eq!(written, o.text, "{path}: span of {:?}", o.text);
        } else {
            assert!(
                written.len() > o.text.len() || written.contains('\\'),
                "{path}: {written:?}"
            );
        }
        let line_start = text[..o.span.start].rfind('\n').map_or(0, |i| i + 1);
        assert_eq!(
            o.span.start - line_start + 1,
            o.column,
            "{path}: column of {:?}",
            o.text
        );
        let span_line = 1 + text[..o.span.start].matches('\n').count();
        assert!(o.line <= span_line, "{path}: line of {:?}", o.text);
    }
    check_pins(extract, path, &text, &out, vars);
    view(&out)
}

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

/// Splices `@DIGEST` after every rewritable reference without a digest and extracts again.
fn check_pins(
    extract: Extractor,
    path: &str,
    text: &str,
    out: &Extraction,
    vars: &dyn Fn(&str) -> Option<String>,
) {
    let mut ends: Vec<usize> = out
        .occurrences
        .iter()
        .filter(|o| o.blocked.is_none() && o.reference.digest().is_none())
        .map(|o| o.span.end)
        .collect();
    ends.sort_unstable();
    // Occurrences reached through one YAML anchor share a span: pin it once.
    ends.dedup();
    let mut pinned = text.to_owned();
    for &end in ends.iter().rev() {
        pinned.insert_str(end, &format!("@{DIGEST}"));
    }
    let again = extract(&pinned, vars);
    assert_eq!(again.occurrences.len(), out.occurrences.len(), "{path}");
    assert_eq!(again.skips.len(), out.skips.len(), "{path}");
    for (before, after) in out.occurrences.iter().zip(&again.occurrences) {
        assert_eq!(before.line, after.line, "{path}");
        if before.blocked.is_none() {
            assert!(
                after.reference.digest().is_some(),
                "{path}: {:?} not pinned",
                after.text
            );
            assert_eq!(after.reference.name(), before.reference.name(), "{path}");
        }
    }
}

fn no_vars(_: &str) -> Option<String> {
    None
}

#[test]
fn compose_build_and_image() {
    insta::assert_json_snapshot!(run(
        compose::extract,
        "compose/build-and-image.yaml",
        &no_vars
    ));
}

#[test]
fn compose_interpolation() {
    insta::assert_json_snapshot!(run(
        compose::extract,
        "compose/interpolation.yaml",
        &compose_vars
    ));
}

#[test]
fn compose_crlf() {
    assert!(
        fixture("compose/crlf.yaml").contains("\r\n"),
        "the fixture must keep its CRLF line endings"
    );
    insta::assert_json_snapshot!(run(compose::extract, "compose/crlf.yaml", &no_vars));
}

/// compose-spec: the version-1 format has no `services:`; docker compose v2 rejects it.
#[test]
fn compose_legacy_v1() {
    insta::assert_json_snapshot!(run(
        compose::extract,
        "compose/legacy-v1.yml",
        &compose_vars
    ));
}

/// compose-go `loader/include.go` and `loader/extends.go`: the links a file gives its
/// caller to follow, next to its own images.
#[test]
fn compose_include_and_extends() {
    let text = fixture("compose/include-extends.yaml");
    let read = compose::read(&text, &compose_vars, compose::Services::All);
    let links: Vec<String> = read.links.iter().map(|l| format!("{l:?}")).collect();
    let view = run(
        compose::extract,
        "compose/include-extends.yaml",
        &compose_vars,
    );
    insta::assert_json_snapshot!((view, links));
}

/// KubeRay, JobSet, LeaderWorkerSet, Argo Workflows and Tekton resources as their own
/// samples write them; an image volume in a RayCluster worker template.
#[test]
fn kubernetes_custom_resources() {
    insta::assert_json_snapshot!(run(
        kubernetes::extract,
        "kubernetes/custom-resources.yaml",
        &no_vars
    ));
}

/// A Helm chart template (as `helm create` writes one), which is not YAML until rendered.
#[test]
fn kubernetes_helm_template() {
    insta::assert_json_snapshot!(run(
        kubernetes::extract,
        "kubernetes/helm-template.yaml",
        &no_vars
    ));
}

#[test]
fn kubernetes_multi_doc() {
    insta::assert_json_snapshot!(run(
        kubernetes::extract,
        "kubernetes/multi-doc.yaml",
        &no_vars
    ));
}

#[test]
fn kubernetes_pod_debug() {
    insta::assert_json_snapshot!(run(
        kubernetes::extract,
        "kubernetes/pod-debug.yaml",
        &no_vars
    ));
}

#[test]
fn kubernetes_list() {
    insta::assert_json_snapshot!(run(kubernetes::extract, "kubernetes/list.yaml", &no_vars));
}

#[test]
fn actions_workflow() {
    insta::assert_json_snapshot!(run(actions::extract, "actions/ci.yml", &no_vars));
}

/// GitHub's metadata syntax for a Docker container action.
#[test]
fn actions_action_metadata() {
    insta::assert_json_snapshot!(run(actions::extract_action, "actions/action.yml", &no_vars));
}

/// The runner's workflow schema: `container` and `services.<id>` may be plain strings.
#[test]
fn actions_services_as_strings() {
    insta::assert_json_snapshot!(run(actions::extract, "actions/services.yml", &no_vars));
}

#[test]
fn is_manifest_tells_manifests_from_other_yaml() {
    for path in [
        "kubernetes/multi-doc.yaml",
        "kubernetes/pod-debug.yaml",
        "kubernetes/list.yaml",
        "kubernetes/custom-resources.yaml",
        "kubernetes/helm-template.yaml",
    ] {
        assert!(kubernetes::is_manifest(&fixture(path)), "{path}");
    }
    for path in [
        "compose/build-and-image.yaml",
        "compose/crlf.yaml",
        "compose/legacy-v1.yml",
        "actions/ci.yml",
        "actions/action.yml",
    ] {
        assert!(!kubernetes::is_manifest(&fixture(path)), "{path}");
    }
}

/// Every extractor, with a name for messages.
const EXTRACTORS: [(&str, Extractor); 4] = [
    ("compose", compose::extract),
    ("kubernetes", kubernetes::extract),
    ("actions", actions::extract),
    ("action", actions::extract_action),
];

/// Every fixture cut short at many points (as an editor's half-saved file is) goes
/// through every YAML extractor and the `.env` reader without a panic, and every span it
/// reports is a range of the text on character boundaries.
#[test]
fn truncated_fixtures_never_panic() {
    let fixtures = [
        "compose/build-and-image.yaml",
        "compose/crlf.yaml",
        "compose/interpolation.yaml",
        "compose/include-extends.yaml",
        "compose/legacy-v1.yml",
        "kubernetes/multi-doc.yaml",
        "kubernetes/pod-debug.yaml",
        "kubernetes/list.yaml",
        "kubernetes/custom-resources.yaml",
        "kubernetes/helm-template.yaml",
        "actions/ci.yml",
        "actions/action.yml",
        "actions/services.yml",
    ];
    let mut cuts = 0;
    for path in fixtures {
        let text = fixture(path);
        let ends: Vec<usize> = (0..=text.len())
            .step_by(5)
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for end in ends {
            let cut = &text[..end];
            for (name, extract) in EXTRACTORS {
                let out = extract(cut, &compose_vars);
                for o in &out.occurrences {
                    assert!(
                        cut.get(o.span.clone()).is_some(),
                        "{path} cut at {end}, {name}: {o:?}"
                    );
                }
            }
            let _ = kubernetes::is_manifest(cut);
            let _ = compose::dotenv::parse(cut, &compose_vars);
            cuts += 1;
        }
    }
    assert!(cuts > 1_000, "{cuts}");
}

#[test]
fn deep_nesting_is_reported_quickly() {
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for text in [
        nested.clone(),
        format!("services:\n  a:\n    image: {nested}\n"),
    ] {
        for (name, extract) in EXTRACTORS {
            let started = Instant::now();
            let out = extract(&text, &no_vars);
            assert_eq!(out.errors.len(), 1, "{name}");
            assert!(started.elapsed() < Duration::from_secs(2), "{name}");
        }
    }
}

#[test]
fn alias_bombs_do_not_expand() {
    // Each level references the previous one nine times: 9^9 strings if expanded.
    let mut text = String::from("x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*x{}", i - 1); 9].join(", ");
        text.push_str(&format!("x{i}: &x{i} [{refs}]\n"));
    }
    let services = format!("{text}services:\n  a: {{<<: [*x9], image: alpine}}\n");
    let manifest = format!("apiVersion: v1\nkind: List\n{text}items: *x9\n");
    let workflow = format!("{text}jobs:\n  a: {{steps: *x9}}\n");
    let action = format!("{text}runs:\n  using: composite\n  steps: *x9\n");
    for (text, (name, extract)) in [services, manifest, workflow, action]
        .iter()
        .zip(EXTRACTORS)
    {
        let started = Instant::now();
        let out = extract(text, &no_vars);
        assert!(started.elapsed() < Duration::from_secs(2), "{name}");
        assert!(out.occurrences.len() <= 1, "{name}");
    }
}

#[test]
fn work_multiplied_through_aliases_is_cut_off_and_reported() {
    // Lists of lists through aliases: nine items per level, eight levels, 9^8 pods if walked.
    let mut text = String::from(
        "apiVersion: v1\nkind: List\nl0: &l0 {kind: Pod, spec: {containers: [{image: a}]}}\n",
    );
    for i in 1..9 {
        let refs = vec![format!("*l{}", i - 1); 9].join(", ");
        text.push_str(&format!("l{i}: &l{i} {{kind: List, items: [{refs}]}}\n"));
    }
    text.push_str("items: [*l8]\n");
    let started = Instant::now();
    let out = kubernetes::extract(&text, &no_vars);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(out.occurrences.len() < 100_000);
    assert_eq!(out.errors.len(), 1);
    assert!(
        out.errors[0].message.contains("too complex"),
        "{}",
        out.errors[0]
    );
}

#[test]
fn a_byte_order_mark_does_not_shift_spans() {
    let text = "\u{feff}services:\n  a:\n    image: \"alpine:3.20\"\n";
    let out = compose::extract(text, &no_vars);
    let occurrence = &out.occurrences[0];
    assert_eq!(&text[occurrence.span.clone()], "alpine:3.20");
    assert_eq!((occurrence.line, occurrence.column), (3, 13));
}

#[test]
fn large_inputs_are_linear() {
    let document = fixture("kubernetes/multi-doc.yaml");
    let text = document.repeat(2_000);
    let started = Instant::now();
    let out = kubernetes::extract(&text, &no_vars);
    assert_eq!(out.occurrences.len(), 2_000 * 6);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
