use super::*;

fn run(images: &str, tags: &str, flavor: &str, run: &Run) -> Output {
    let inputs = Inputs {
        images: Text::known(images),
        tags: Text::known(tags),
        flavor: Text::known(flavor),
    };
    super::tags(&inputs, run, "main")
}

fn shown(output: &Output) -> Vec<String> {
    output.tags.iter().map(Text::display).collect()
}

fn main_push() -> Run {
    Run::Branch("main".to_owned())
}

/// metadata-action README "tags input": without `tags:`, a push to a branch gets the
/// branch name (`type=ref,event=branch`), and nothing else.
#[test]
fn default_rules_tag_a_branch_push_with_its_name() {
    let out = run("ghcr.io/Org/App", "", "", &main_push());
    assert_eq!(shown(&out), ["ghcr.io/org/app:main"]);
    let out = run("org/app", "", "", &Run::Schedule("main".to_owned()));
    assert_eq!(shown(&out), ["org/app:nightly", "org/app:main"]);
}

/// README "type=raw" with `enable={{is_default_branch}}`, "type=sha", "type=edge".
#[test]
fn raw_sha_and_edge_rules() {
    let tags = "type=raw,value=latest,enable={{is_default_branch}}\ntype=sha\ntype=edge";
    let out = run("org/app", tags, "", &main_push());
    assert_eq!(
        shown(&out),
        [
            "org/app:edge",
            "org/app:latest",
            "org/app:sha-<short commit sha>"
        ]
    );
    let out = run("org/app", tags, "", &Run::Branch("dev".to_owned()));
    assert_eq!(shown(&out), ["org/app:sha-<short commit sha>"]);
    let out = run("org/app", "type=sha,format=long,prefix=", "", &main_push());
    assert_eq!(shown(&out), ["org/app:<commit sha>"]);
}

/// README "type=semver": nothing on a branch push; on a pushed tag, the pattern of the
/// tag's version, and `latest` (flavor latest=auto).
#[test]
fn semver_rules_tag_only_pushed_git_tags() {
    let tags = "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}";
    assert!(shown(&run("org/app", tags, "", &main_push())).is_empty());
    let out = run("org/app", tags, "", &Run::GitTag);
    assert_eq!(
        shown(&out),
        [
            "org/app:<version of the pushed git tag>",
            "org/app:<major.minor of the pushed git tag>",
            "org/app:latest"
        ]
    );
    let out = run("org/app", tags, "latest=false", &Run::GitTag);
    assert_eq!(out.tags.len(), 2);
}

/// README "type=pep440" with `value=` (a fixed version works on any run), priorities
/// (pep440 900 before raw 200), `latest` for a full release, duplicates dropped.
#[test]
fn a_fixed_version_makes_fixed_tags() {
    let tags = "type=pep440,pattern={{version}},value=3.11.6\ntype=pep440,pattern={{major}}.{{minor}},value=3.11.6\ntype=raw,value=bullseye\ntype=pep440,pattern={{major}}.{{minor}}-bullseye,value=3.11.6\ntype=raw,value=3.11";
    let out = run("ghcr.io/org/python-base", tags, "", &main_push());
    assert_eq!(
        shown(&out),
        [
            "ghcr.io/org/python-base:3.11.6",
            "ghcr.io/org/python-base:3.11",
            "ghcr.io/org/python-base:3.11-bullseye",
            "ghcr.io/org/python-base:bullseye",
            "ghcr.io/org/python-base:latest",
        ]
    );
    let out = run(
        "org/app",
        "type=semver,pattern={{version}},value=3.10",
        "",
        &main_push(),
    );
    assert!(out.tags.is_empty());
    assert_eq!(out.questions.len(), 1);
}

/// README "flavor input" (prefix, suffix, onlatest) and sanitised tags.
#[test]
fn flavor_and_sanitising() {
    let out = run(
        "org/app",
        "type=raw,value=feature/x y\ntype=raw,value=1,suffix=-s,priority=300",
        "prefix=p-,onlatest=true\nlatest=true",
        &main_push(),
    );
    assert_eq!(
        shown(&out),
        ["org/app:p-1-s", "org/app:p-feature-x-y", "org/app:p-latest"]
    );
}

/// README "images input": several images, `name=` and `enable=`.
#[test]
fn every_enabled_image_gets_every_tag() {
    let out = run(
        "name=org/app\nname=ghcr.io/org/app,enable=false\nquay.io/org/app",
        "type=raw,value=1",
        "",
        &main_push(),
    );
    assert_eq!(shown(&out), ["org/app:1", "quay.io/org/app:1"]);
    // An enable condition that cannot be worked out is taken as enabled, and asked.
    let out = run(
        "org/app",
        "type=raw,value=1,enable={{date 'YYYY'}}",
        "",
        &main_push(),
    );
    assert_eq!(shown(&out), ["org/app:1"]);
    assert_eq!(out.questions.len(), 1);
    let out = run("org/app", "type=raw,value=1,enable=maybe", "", &main_push());
    assert!(out.tags.is_empty());
    let out = run("org/app", "type=nonsense", "", &main_push());
    assert_eq!(out.questions.len(), 1);
}
