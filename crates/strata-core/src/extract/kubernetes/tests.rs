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

/// A template that does not parse raw (an `{{- if }}` at the top) is read like one that
/// does: its templated image is a skip on the image's own line, nothing is an error.
#[test]
fn helm_templates_are_read_the_same_way_whether_or_not_they_parse_raw() {
    let unparsable = "{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: {{ .Values.image | quote }}\n  - image: busybox:1.36\n{{- end }}\n";
    let parsable = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - image: \"{{ .Values.image }}\"\n  - image: busybox:1.36\n";
    for (text, line) in [(unparsable, 6), (parsable, 7)] {
        assert!(is_manifest(text), "{text}");
        let out = run(text);
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        let skips: Vec<(usize, &str)> = out
            .skips
            .iter()
            .map(|s| (s.line, s.reason.code()))
            .collect();
        assert_eq!(skips, [(line, "templated")], "{text}");
        assert_eq!(texts(&out), ["busybox:1.36"]);
    }
}

/// A Helm chart: the ConfigMap's template lines are never where a skip sits, and a
/// template that is not YAML even neutralised still only says its image lines.
#[test]
fn templated_skips_sit_on_image_lines_only() {
    let chart = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include \"app.fullname\" . }}
data:
  config.yaml: |
    {{- toYaml .Values.config | nindent 4 }}
  {{ .Values.key }}: {{ .Values.value }}
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: app
          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
";
    let out = run(chart);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let lines: Vec<usize> = out.skips.iter().map(|s| s.line).collect();
    assert_eq!(lines, [17]);
    assert_eq!(
        out.skips[0].text,
        "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
    );
    let broken = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  {{ range .Values.x }}- image: {{ . }}\n  ]]\n  - image: \"{{ .Values.y }}\"\n";
    let out = run(broken);
    assert!(out.errors.is_empty());
    let lines: Vec<(usize, &str)> = out
        .skips
        .iter()
        .map(|s| (s.line, s.text.as_str()))
        .collect();
    assert_eq!(lines, [(7, "{{ .Values.y }}")]);
}

/// Pod templates of custom resources, at the paths their operators read (KubeRay RayCluster,
/// RayService, RayJob; JobSet; LeaderWorkerSet; ECK Elasticsearch; Argo Workflows; Tekton),
/// found by shape.
#[test]
fn custom_resources_pod_templates_are_found_by_shape() {
    let cases: &[(&str, &[&str])] = &[
        (
            "apiVersion: ray.io/v1\nkind: RayCluster\nspec:\n  headGroupSpec:\n    rayStartParams: {}\n    template:\n      spec:\n        containers:\n        - name: ray-head\n          image: rayproject/ray:2.9.0\n  workerGroupSpecs:\n  - groupName: small\n    template:\n      spec:\n        initContainers: [{name: init, image: 'busybox:1.36'}]\n        containers:\n        - name: ray-worker\n          image: rayproject/ray:2.9.0-gpu\n",
            &[
                "rayproject/ray:2.9.0",
                "busybox:1.36",
                "rayproject/ray:2.9.0-gpu",
            ],
        ),
        (
            "apiVersion: ray.io/v1\nkind: RayService\nspec:\n  rayClusterConfig:\n    headGroupSpec:\n      template:\n        spec:\n          containers: [{name: h, image: rayproject/ray:2.9.1}]\n",
            &["rayproject/ray:2.9.1"],
        ),
        (
            "apiVersion: ray.io/v1\nkind: RayJob\nspec:\n  rayClusterSpec:\n    headGroupSpec:\n      template: {spec: {containers: [{image: rayproject/ray:2.9.2}]}}\n  submitterPodTemplate:\n    spec:\n      containers: [{name: s, image: rayproject/ray:2.9.3}]\n",
            &["rayproject/ray:2.9.2", "rayproject/ray:2.9.3"],
        ),
        (
            "apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nspec:\n  replicatedJobs:\n  - name: workers\n    template:\n      spec:\n        template:\n          spec:\n            containers:\n            - name: w\n              image: python:3.12\n",
            &["python:3.12"],
        ),
        (
            "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nspec:\n  leaderWorkerTemplate:\n    size: 4\n    leaderTemplate:\n      spec:\n        containers: [{name: l, image: 'vllm/vllm-openai:v0.6.0'}]\n    workerTemplate:\n      spec:\n        containers: [{name: w, image: 'vllm/vllm-openai:v0.6.1'}]\n",
            &["vllm/vllm-openai:v0.6.0", "vllm/vllm-openai:v0.6.1"],
        ),
        (
            "apiVersion: elasticsearch.k8s.elastic.co/v1\nkind: Elasticsearch\nspec:\n  version: 8.15.0\n  image: docker.elastic.co/elasticsearch/elasticsearch:8.15.0\n  nodeSets:\n  - name: default\n    podTemplate:\n      spec:\n        initContainers:\n        - name: sysctl\n          image: busybox:1.36\n",
            &["busybox:1.36"],
        ),
        (
            "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    steps:\n    - - name: a\n        template: hello\n  - name: hello\n    container:\n      image: alpine:3.20\n      command: [echo]\n  - name: py\n    script:\n      image: python:3.12-slim\n      source: print(1)\n    sidecars:\n    - name: db\n      image: postgres:16\n  - name: set\n    containerSet:\n      containers:\n      - name: c\n        image: debian:bookworm\n",
            &[
                "alpine:3.20",
                "python:3.12-slim",
                "postgres:16",
                "debian:bookworm",
            ],
        ),
        (
            "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  stepTemplate:\n    image: ubuntu:24.04\n  steps:\n  - name: build\n    image: golang:1.22\n    script: go build\n  sidecars:\n  - name: docker\n    image: docker:27-dind\n",
            &["ubuntu:24.04", "golang:1.22", "docker:27-dind"],
        ),
        (
            "apiVersion: tekton.dev/v1\nkind: Pipeline\nspec:\n  tasks:\n  - name: t\n    taskSpec:\n      steps:\n      - name: s\n        image: alpine:3.19\n",
            &["alpine:3.19"],
        ),
    ];
    for (text, want) in cases {
        assert_eq!(texts(&run(text)), *want, "{text}");
    }
}

/// The kubelet's ImageVolume: `volumes[].image.reference`, in any pod spec, including a
/// CronJob's nested template.
#[test]
fn image_volumes_are_images_in_every_pod_spec() {
    let text = "\
apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: c
            image: alpine:3.20
            volumeMounts: [{name: model, mountPath: /model}]
          volumes:
          - name: model
            image:
              reference: quay.io/org/model:v2
              pullPolicy: IfNotPresent
          - name: cache
            emptyDir: {}
---
apiVersion: v1
kind: Pod
spec:
  containers: [{name: c, image: 'nginx:1.27'}]
  volumes: [{name: v, image: {reference: 'ghcr.io/org/data:1'}}]
";
    let out = run(text);
    assert_eq!(
        texts(&out),
        [
            "alpine:3.20",
            "quay.io/org/model:v2",
            "nginx:1.27",
            "ghcr.io/org/data:1"
        ]
    );
    assert_eq!(out.occurrences[1].line, 15);
}

/// Nothing that is not a container by its shape: strings holding YAML, CRD schemas, Helm
/// values' `image: {repository, tag}`, an operator's own `spec.image`, non-manifests.
#[test]
fn no_images_outside_container_shapes() {
    let cases = [
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  pod.yaml: |\n    containers:\n    - image: nginx:1\n",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n      openAPIV3Schema:\n        properties:\n          containers:\n            type: array\n            items:\n              properties:\n                image: {type: string}\n",
        "apiVersion: v1\nkind: Thing\nspec:\n  image:\n    repository: nginx\n    tag: '1'\n  containers: [name-only]\n",
        "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nspec:\n  image: quay.io/prometheus/prometheus:v2.54.0\n",
        "containers:\n- image: nginx:1\n",
    ];
    for text in cases {
        let out = run(text);
        assert!(out.occurrences.is_empty() && out.skips.is_empty(), "{text}");
    }
}

/// A manifest that is not valid YAML is an error, also when the parser fails before it
/// reaches `kind:`; broken YAML that is not written like a manifest is not one.
#[test]
fn broken_manifests_are_errors_wherever_the_parse_fails() {
    for (text, line) in [
        ("apiVersion: v1\nkind: Pod\nspec: [\n", 3),
        ("apiVersion: v1\nmetadata: {name: [x}\nkind: Pod\n", 2),
        ("apiVersion: v1\nmetadata:\n  name: 'x\nkind: Pod\n", 4),
    ] {
        assert!(is_manifest(text), "{text}");
        let out = run(text);
        assert_eq!(out.errors.len(), 1, "{text}: {:?}", out.errors);
        assert_eq!(out.errors[0].line, line, "{text}: {:?}", out.errors);
    }
    assert!(!is_manifest("name: [\nvalues: x\n"));
    assert!(!is_manifest("spec:\n  apiVersion: v1\n  kind: [\n"));
}

#[test]
fn obvious_placeholders_are_said() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: $IMAGE_URL\n  - image: gcr.io/<PROJECT_ID>/app:v1\n  - image: ${REGISTRY}/app:1\n";
    let out = run(text);
    let skips: Vec<(usize, &str)> = out
        .skips
        .iter()
        .map(|s| (s.line, s.reason.code()))
        .collect();
    assert_eq!(
        skips,
        [(5, "placeholder"), (6, "placeholder"), (7, "placeholder")]
    );
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
