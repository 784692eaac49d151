use super::*;

fn run(text: &str) -> Extraction {
    let out = extract(text, &|_| None);
    for occurrence in &out.occurrences {
        if occurrence.blocked.is_none() {
            assert_eq!(&text[occurrence.span.clone()], occurrence.text, "{text:?}");
        }
        assert_eq!(occurrence.source, Source::Kubernetes);
    }
    out
}

fn texts(out: &Extraction) -> Vec<&str> {
    out.occurrences.iter().map(|o| o.text.as_str()).collect()
}

#[test]
fn each_kind_has_its_pod_spec_path() {
    let cases = [
        ("kind: Pod\nspec:\n  containers: [{image: a:1}]\n", "a:1"),
        (
            "kind: Deployment\nspec:\n  template:\n    spec:\n      containers: [{image: b:1}]\n",
            "b:1",
        ),
        (
            "kind: Rollout\nspec:\n  template:\n    spec:\n      containers: [{image: c:1}]\n",
            "c:1",
        ),
        (
            "kind: PodTemplate\ntemplate:\n  spec:\n    containers: [{image: d:1}]\n",
            "d:1",
        ),
        (
            "kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{image: e:1}]\n",
            "e:1",
        ),
    ];
    for (body, want) in cases {
        let text = format!("apiVersion: v1\n{body}");
        assert_eq!(texts(&run(&text)), [want], "{body}");
    }
}

#[test]
fn pod_spec_in_the_wrong_place_is_not_read() {
    let text = "apiVersion: v1\nkind: Deployment\nspec:\n  containers: [{image: wrong:1}]\n";
    assert!(run(text).occurrences.is_empty());
}

#[test]
fn all_container_lists_are_read_in_file_order() {
    let text = "\
apiVersion: v1
kind: Pod
spec:
  ephemeralContainers:
  - name: debug
    image: busybox:1.36
  initContainers:
  - name: init
    image: alpine:3.20
  containers:
  - name: app
    image: ghcr.io/org/app:1.0
  - name: side
    image: envoyproxy/envoy:v1.30
";
    let out = run(text);
    assert_eq!(
        texts(&out),
        [
            "busybox:1.36",
            "alpine:3.20",
            "ghcr.io/org/app:1.0",
            "envoyproxy/envoy:v1.30"
        ]
    );
    let lines: Vec<usize> = out.occurrences.iter().map(|o| o.line).collect();
    assert_eq!(lines, [6, 9, 12, 14]);
}

#[test]
fn documents_without_api_version_and_kind_yield_nothing() {
    let text = "kind: Pod\nspec:\n  containers: [{image: a:1}]\n---\nspec:\n  containers: [{image: b:1}]\n";
    assert!(run(text).occurrences.is_empty());
    assert!(!is_manifest(text));
}

#[test]
fn lists_are_read_item_by_item() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec: {containers: [{image: a:1}]}\n- apiVersion: apps/v1\n  kind: DeploymentList\n  items:\n  - kind: Deployment\n    spec: {template: {spec: {containers: [{image: b:1}]}}}\n";
    assert_eq!(texts(&run(text)), ["a:1", "b:1"]);
}

#[test]
fn templated_values_are_skipped() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: \"{{ .Values.image }}\"\n  - image: {{ .Values.image }}\n  - image: repo/app:{{ .Chart.AppVersion }}\n";
    let out = run(text);
    assert!(out.occurrences.is_empty());
    assert!(out.errors.is_empty());
    let lines: Vec<(usize, &str)> = out
        .skips
        .iter()
        .map(|s| (s.line, s.reason.code()))
        .collect();
    assert_eq!(
        lines,
        [(5, "templated"), (6, "templated"), (7, "templated")]
    );
}

#[test]
fn helm_templates_that_are_not_yaml_become_templated_skips() {
    let text = "{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: {{ .Values.image | quote }}\n{{- end }}\n";
    let out = run(text);
    assert!(out.errors.is_empty());
    assert!(out.skips.iter().all(|s| s.reason == SkipReason::Templated));
}

#[test]
fn syntax_errors_without_templates_are_errors() {
    let text = "apiVersion: v1\nkind: Pod\nspec: [\n";
    let out = run(text);
    assert_eq!(out.errors.len(), 1);
}

#[test]
fn is_manifest_checks_top_level_keys_only() {
    assert!(is_manifest("apiVersion: v1\nkind: ConfigMap\n"));
    assert!(is_manifest(
        "# c\n---\nfoo: 1\n---\nkind: Service\nmeta: {a: [1]}\napiVersion: v1\n"
    ));
    assert!(is_manifest("{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}"));
    assert!(!is_manifest("spec:\n  apiVersion: v1\n  kind: Pod\n"));
    assert!(!is_manifest("apiVersion: v1\n---\nkind: Pod\n"));
    assert!(!is_manifest("- apiVersion\n- kind\n"));
    assert!(!is_manifest("a: {apiVersion: x}\nb: kind\n"));
    assert!(!is_manifest("services:\n  web: {image: nginx}\n"));
}

#[test]
fn alias_and_merge_in_containers_are_followed() {
    let text = "apiVersion: v1\nkind: Pod\nx: &side {name: s, image: envoy:1}\nspec:\n  containers:\n  - *side\n  - <<: *side\n    name: t\n";
    let out = run(text);
    assert_eq!(texts(&out), ["envoy:1", "envoy:1"]);
}
