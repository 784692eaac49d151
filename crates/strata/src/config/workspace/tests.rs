use std::path::PathBuf;
use std::time::Duration;

use strata_core::graph::EdgeFilter;

use super::*;
use crate::config::parse;

fn file() -> PathBuf {
    PathBuf::from("/ws/strata.toml")
}

fn workspace(text: &str) -> Workspace {
    parse(text, &file()).unwrap().workspace
}

fn fails(text: &str) -> String {
    parse(text, &file()).unwrap_err().to_string()
}

#[test]
fn no_workspace_table_means_the_config_directory_alone() {
    let ws = workspace("");
    assert!(!ws.declared);
    assert_eq!(ws.base_dir, PathBuf::from("/ws"));
    assert!(ws.repositories.is_empty());
    assert_eq!(ws.cascade, CascadeSettings::default());
}

#[test]
fn every_key_is_read_and_typed() {
    let ws = workspace(
        r#"
[workspace]
platform = "linux/arm64/v8"
follow = "all"
clone_dir = "clones"

[workspace.cascade]
parallel = 3
timeout = "10m"
poll_interval = "20ms"
poll_max = "2s"

[workspace.trigger]
command = ["make", "publish"]
env = { MODE = "ci" }

[[workspace.repository]]
path = "services/vumi/"
produces = "registry.example.com/org/{dir}:latest"

[[workspace.repository]]
git = "https://git.example.com/org/junebug.git"
rev = "main"
trigger = { kind = "github-workflow", repository = "org/junebug", workflow = "build.yml" }

[[workspace.image]]
name = "registry.example.com/org/legacy:1"
repository = "junebug"
dockerfile = "legacy/Dockerfile"
target = "Runtime"
trigger = { kind = "webhook", url = "https://ci.example/h", secret_env = "S" }
"#,
    );
    assert!(ws.declared);
    assert_eq!(ws.platform, "linux/arm64/v8");
    assert_eq!(ws.follow, EdgeFilter::All);
    assert_eq!(ws.clone_dir, Some(PathBuf::from("/ws/clones")));
    assert_eq!(ws.cascade.parallel, 3);
    assert_eq!(ws.cascade.timeout, Duration::from_secs(600));
    assert_eq!(ws.cascade.poll_interval, Duration::from_millis(20));
    assert_eq!(ws.repositories[0].name, "vumi");
    assert_eq!(ws.repositories[1].name, "junebug");
    assert_eq!(
        ws.repositories[1].source,
        RepositorySource::Git {
            url: "https://git.example.com/org/junebug.git".into(),
            rev: Some("main".into())
        }
    );
    let Some(Trigger::Command { argv, env }) = &ws.trigger else {
        panic!("{:?}", ws.trigger);
    };
    assert_eq!(argv, &["make", "publish"]);
    assert_eq!(env.get("MODE").map(String::as_str), Some("ci"));
    let trigger = ws.repositories[1].trigger.as_ref().unwrap();
    assert_eq!(
        trigger.describe(),
        "github-workflow org/junebug build.yml@main"
    );
    let image = &ws.images[0];
    assert_eq!(image.image.familiar(), "registry.example.com/org/legacy:1");
    assert_eq!(image.target.as_deref(), Some("runtime"));
    assert_eq!(image.trigger.as_ref().unwrap().kind(), "webhook");
}

#[test]
fn pr_triggers_name_forge_repository_and_labels_or_leave_them_to_origin() {
    let ws = workspace(
        "[workspace.trigger]\nkind = \"pr\"\nforge = \"gitlab\"\n\
         repository = \"group/sub/app\"\nlabels = [\" rebuild \", \"rebuild\"]\n",
    );
    let trigger = ws.trigger.unwrap();
    assert_eq!(
        trigger,
        Trigger::PullRequest {
            forge: Some(crate::forge::ForgeKind::GitLab),
            repository: Some("group/sub/app".into()),
            labels: vec!["rebuild".into()],
            auto_merge: false,
            merge_method: None,
        }
    );
    assert_eq!(trigger.describe(), "pr gitlab group/sub/app");
    let bare = workspace("[workspace.trigger]\nkind = \"pr\"\n")
        .trigger
        .unwrap();
    assert_eq!(bare.kind(), "pr");
    assert_eq!(bare.describe(), "pr forge-of-origin origin");
}

#[test]
fn mistakes_name_the_key() {
    let cases = [
        (
            "[[workspace.repository]]\nname = \"x\"\n",
            "workspace.repository[0]: set `path` (a directory) or `git` (a URL)",
        ),
        (
            "[[workspace.repository]]\npath = \"a\"\n[[workspace.repository]]\npath = \"b/a\"\n",
            "workspace.repository[1]: a second repository named \"a\"",
        ),
        (
            "[[workspace.repository]]\npath = \"a\"\nproduces = \"Bad Name/{dir}\"\n",
            "workspace.repository[0].produces:",
        ),
        (
            "[[workspace.image]]\nname = \"x:1\"\nrepository = \"nope\"\n",
            "workspace.image[0]: no repository named \"nope\"",
        ),
        (
            "[workspace.trigger]\nkind = \"carrier-pigeon\"\n",
            "workspace.trigger.kind: unknown kind \"carrier-pigeon\"",
        ),
        (
            "[workspace.trigger]\ncommand = []\n",
            "workspace.trigger.command: an argument vector",
        ),
        (
            "[workspace.trigger]\nkind = \"gitlab-pipeline\"\nproject = \"1\"\n",
            "workspace.trigger.token_env: required for kind \"gitlab-pipeline\"",
        ),
        (
            "[workspace.trigger]\nkind = \"github-dispatch\"\nrepository = \"solo\"\n",
            "workspace.trigger.repository: \"solo\" is not owner/repository",
        ),
        (
            "[workspace.trigger]\nurl = \"ftp://x\"\n",
            "workspace.trigger.url: \"ftp://x\" must be an http(s) URL",
        ),
        (
            "[workspace.trigger]\nkind = \"pr\"\nforge = \"bitbucket\"\n",
            "workspace.trigger.forge: \"bitbucket\": expected",
        ),
        (
            "[workspace.trigger]\nkind = \"pr\"\nrepository = \"solo\"\n",
            "workspace.trigger.repository: \"solo\" is not owner/repository",
        ),
        (
            "[workspace.cascade]\nparallel = 0\n",
            "workspace.cascade.parallel: 0 is out of range (1 to 64)",
        ),
        (
            "[workspace.cascade]\ntimeout = \"soon\"\n",
            "workspace.cascade.timeout: \"soon\" is not a duration",
        ),
        (
            "[workspace]\nfollow = \"some\"\n",
            "workspace.follow: \"some\": expected",
        ),
    ];
    for (text, expected) in cases {
        let err = fails(text);
        assert!(err.contains(expected), "{text}\n{err}");
        assert!(err.starts_with("/ws/strata.toml:"), "{err}");
    }
}

#[test]
fn durations_and_rules() {
    let ok = [
        ("250ms", 250),
        ("5s", 5000),
        ("2", 2000),
        ("1.5m", 90_000),
        ("1h", 3_600_000),
    ];
    for (text, ms) in ok {
        assert_eq!(
            parse_duration(text).unwrap(),
            Duration::from_millis(ms),
            "{text}"
        );
    }
    for bad in ["", "0s", "-1s", "5 parsecs", "ms"] {
        assert!(parse_duration(bad).is_err(), "{bad}");
    }
    assert_eq!(
        expand_rule("r.example/org/{dir}-{repo}:1", "Vumi", "apps"),
        "r.example/org/vumi-apps:1"
    );
}

#[test]
fn pins_build_arguments_and_new_trigger_settings_are_read() {
    let text = r#"
[workspace]
pins = "commit"

[[workspace.repository]]
path = "python-base"
branch = "refs/heads/main"
trigger = { kind = "push" }

[[workspace.repository]]
path = "services"
pins = "pull-request"
trigger = { kind = "pr", auto_merge = true, merge_method = "squash" }

[[workspace.image]]
name = "r.example/org/python-base:2.7"
repository = "python-base"
dockerfile = "Dockerfile"
platform = "linux/arm64"
build_args = { PYTHON_VERSION = "2.7", BASE = 'r.example/py:2.7@sha256:0000000000000000000000000000000000000000000000000000000000000000', ESCAPED = "a\u0062c" }
pins = "commit"
trigger = { kind = "github-workflow", repository = "org/pb", workflow = "b.yml", inputs = ["image", "commit", "ref"] }
"#;
    let ws = workspace(text);
    assert_eq!(ws.pins, Some(PinMode::Commit));
    assert_eq!(ws.repositories[0].branch.as_deref(), Some("main"));
    assert_eq!(ws.repositories[0].trigger, Some(Trigger::Push));
    assert_eq!(ws.repositories[1].pins, Some(PinMode::PullRequest));
    let Some(Trigger::PullRequest {
        auto_merge,
        merge_method,
        ..
    }) = &ws.repositories[1].trigger
    else {
        panic!("{:?}", ws.repositories[1].trigger);
    };
    assert!(*auto_merge);
    assert_eq!(*merge_method, Some(crate::forge::MergeMethod::Squash));
    let image = &ws.images[0];
    assert_eq!(image.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(image.pins, Some(PinMode::Commit));
    let base = &image.build_args["BASE"];
    let span = base.span.clone().unwrap();
    assert_eq!(&text[span], base.value);
    assert_eq!(image.build_args["PYTHON_VERSION"].value, "2.7");
    // An escape makes the written bytes differ from the value: not rewritable.
    assert_eq!(image.build_args["ESCAPED"].value, "abc");
    assert_eq!(image.build_args["ESCAPED"].span, None);
    let Some(Trigger::GitHubWorkflow { inputs, .. }) = &image.trigger else {
        panic!("{:?}", image.trigger);
    };
    assert_eq!(inputs.names(), ["image", "commit", "ref"]);
}

#[test]
fn pin_modes_follow_the_trigger_unless_told_and_contradictions_are_errors() {
    let command = Trigger::Command {
        argv: vec!["make".into()],
        env: Default::default(),
    };
    let webhook = workspace("[workspace.trigger]\nurl = \"https://ci.example/h\"\n")
        .trigger
        .unwrap();
    let pr = workspace("[workspace.trigger]\nkind = \"pr\"\n")
        .trigger
        .unwrap();
    let effective = PinMode::effective;
    assert_eq!(effective(None, Some(&command)), Ok(PinMode::InPlace));
    assert_eq!(effective(None, None), Ok(PinMode::InPlace));
    assert_eq!(effective(None, Some(&webhook)), Ok(PinMode::Commit));
    assert_eq!(effective(None, Some(&Trigger::Push)), Ok(PinMode::Commit));
    assert_eq!(effective(None, Some(&pr)), Ok(PinMode::PullRequest));
    assert_eq!(
        effective(Some(PinMode::Leave), Some(&command)),
        Ok(PinMode::Leave)
    );
    assert_eq!(
        effective(Some(PinMode::Commit), Some(&command)),
        Ok(PinMode::Commit)
    );
    assert!(effective(Some(PinMode::InPlace), Some(&Trigger::Push)).is_err());
    assert!(effective(Some(PinMode::Commit), Some(&pr)).is_err());
    assert!(effective(Some(PinMode::PullRequest), Some(&command)).is_err());
    let cases = [
        (
            "[[workspace.repository]]\npath = \"a\"\npins = \"sometimes\"\n",
            "workspace.repository[0].pins: \"sometimes\": expected",
        ),
        (
            "[[workspace.repository]]\npath = \"a\"\npins = \"in-place\"\ntrigger = { kind = \"push\" }\n",
            "workspace.repository[0].pins: pins = \"in-place\" cannot go with a push trigger",
        ),
        (
            "[[workspace.image]]\nname = \"a:1\"\nplatform = \"linux\"\n",
            "workspace.image[0].platform: \"linux\" is not os/arch",
        ),
        (
            "[workspace.trigger]\nkind = \"github-workflow\"\nrepository = \"o/r\"\nworkflow = \"w\"\ninputs = [\"image\", \"nope\"]\n",
            "workspace.trigger.inputs: unknown input \"nope\"",
        ),
        (
            "[workspace.trigger]\nkind = \"pr\"\nmerge_method = \"octopus\"\n",
            "workspace.trigger.merge_method: \"octopus\": expected",
        ),
        (
            "[[workspace.image]]\nname = \"a:1\"\nbuild_args = { \"A B\" = \"x\" }\n",
            "workspace.image[0].build_args: \"A B\" is not a build argument name",
        ),
    ];
    for (text, expected) in cases {
        let err = fails(text);
        assert!(err.contains(expected), "{text}\n{err}");
    }
}
