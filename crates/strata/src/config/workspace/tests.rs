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
        assert!(err.starts_with("/ws/strata.toml: "), "{err}");
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
