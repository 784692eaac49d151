use super::*;

fn parse(line: &str) -> Option<Action> {
    let mut env = crate::ci::shell::Env::new();
    let command = crate::ci::shell::commands(line, &mut env)
        .into_iter()
        .next()?;
    action(&command.words)
}

fn build(line: &str) -> BuildCommand {
    match parse(line) {
        Some(Action::Build(b)) => b,
        other => panic!("{line}: {other:?}"),
    }
}

fn shown(texts: &[Text]) -> Vec<String> {
    texts.iter().map(Text::display).collect()
}

/// docs.docker.com, `docker buildx build` reference: options with values, both forms,
/// short options, the context operand.
#[test]
fn docker_build_options_follow_the_cli_reference() {
    let b = build(
        "docker build -t a:1 --tag=a:latest -f docker/Dockerfile --build-arg A=1 --build-arg B \
         --target prod --platform linux/amd64,linux/arm64 --label x=y --pull --no-cache ctx",
    );
    assert_eq!(b.tool, "docker build");
    assert_eq!(shown(&b.tags), ["a:1", "a:latest"]);
    assert_eq!(
        b.file.map(|f| f.display()).as_deref(),
        Some("docker/Dockerfile")
    );
    assert_eq!(b.target.map(|t| t.display()).as_deref(), Some("prod"));
    assert_eq!(shown(&b.platforms), ["linux/amd64", "linux/arm64"]);
    assert_eq!(b.context.map(|c| c.display()).as_deref(), Some("ctx"));
    assert_eq!(b.build_args.len(), 2);
    assert_eq!(b.build_args[1], ("B".to_owned(), None));
    assert!(!b.push);
    let b = build("docker buildx build --push -tapp:2 .");
    assert_eq!(
        (b.tool.as_str(), shown(&b.tags), b.push),
        ("docker buildx build", vec!["app:2".to_owned()], true)
    );
    assert!(build("docker buildx build --output type=registry -t x .").push);
    assert!(build("docker buildx build -o type=image,push=true -t x .").push);
    let b = build("docker --config /tmp/c image build --tag x .");
    assert_eq!(b.tool, "docker image build");
    let b = build("sudo podman build -t p -f Containerfile .");
    assert_eq!(b.tool, "podman build");
    assert_eq!(build("buildah bud -t b .").tool, "buildah build");
}

/// GitLab's "Use kaniko to build Docker images": the executor's options.
#[test]
fn kaniko_executor_options() {
    let b = build(
        "/kaniko/executor --context \"dir://ci\" --dockerfile ci/Dockerfile \
         --destination r/x:1 --destination=r/x:latest --build-arg A=1 --target t",
    );
    assert_eq!(b.tool, "kaniko");
    assert_eq!(shown(&b.tags), ["r/x:1", "r/x:latest"]);
    assert_eq!(b.context.map(|c| c.display()).as_deref(), Some("ci"));
    assert!(b.push);
    assert!(!build("/kaniko/executor --context . --destination r/x --no-push").push);
}

#[test]
fn tags_and_pushes() {
    assert_eq!(
        parse("docker tag a:1 b:1"),
        Some(Action::Tag {
            source: Text::known("a:1"),
            target: Text::known("b:1")
        })
    );
    assert_eq!(
        parse("docker push --all-tags quay.io/x"),
        Some(Action::Push {
            image: Text::known("quay.io/x"),
            all_tags: true
        })
    );
    assert_eq!(
        parse("docker image push r/x:1"),
        Some(Action::Push {
            image: Text::known("r/x:1"),
            all_tags: false
        })
    );
    assert_eq!(
        parse("docker buildx imagetools create -t r/x:1 r/x:1-amd64 r/x:1-arm64"),
        Some(Action::Tag {
            source: Text::known("r/x:1-amd64"),
            target: Text::known("r/x:1")
        })
    );
    for other in [
        "docker run a",
        "docker login -u x",
        "make build",
        "docker",
        "echo docker build",
    ] {
        assert_eq!(parse(other), None, "{other}");
    }
}
