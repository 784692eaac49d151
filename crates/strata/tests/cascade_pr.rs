//! The `pr` rebuild trigger end to end: a managed image whose repository (a real git
//! repository with a bare origin) pins its base; the base tag moves in the real
//! registry; `strata cascade` commits the new pin on the base's update branch, pushes
//! it, opens the pull request on the fake GitHub, and waits. The test then "merges":
//! the CI build (the test builder) publishes the image on the new base, and the cascade
//! reports it published.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod cascade_support;
mod forge_support;
mod pin_support;
mod update_support;

use std::time::Duration;

use forge_support::{Fake, Pull};
use strata::forge::ForgeKind;
use strata::state::{ProposalKey, ProposalStage, State};
use strata_core::reference::Reference;
use strata_core::update::base_branch;
use strata_testkit::{Image, TestRegistry};
use update_support::{GitRepo, assert_code, changed_lines};

/// The first pull request the fake has, once it has one.
async fn first_pull(fake: &Fake) -> Pull {
    for _ in 0..600 {
        if let Some(pull) = fake.pulls().into_iter().next() {
            return pull;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no pull request was opened");
}

/// Runs the test builder as the repository's CI would after the merge.
async fn build(image: &str, base: &str, digest: &str) {
    let status = tokio::process::Command::new(cascade_support::builder())
        .env("STRATA_IMAGE", image)
        .env("STRATA_BASE_IMAGE", base)
        .env("STRATA_BASE_DIGEST", digest)
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pr_trigger_opens_the_update_pull_request_and_the_cascade_waits_for_its_build() {
    cascade_support::builder();
    let registry = TestRegistry::start().await.unwrap();
    let h = registry.host();
    let seeder = registry.seeder();
    let root_name = format!("{h}/t/root:1");
    let app_name = format!("{h}/t/app:1");
    let root = Image::new("root");
    let old = seeder.push_image("t/root", "1", &root).await.unwrap();
    let app = Image::on_top_of(&root, "app").base(&root_name, &old);
    seeder.push_image("t/app", "1", &app).await.unwrap();
    let config = r#"[workspace.cascade]
poll_interval = "10ms"
poll_max = "100ms"
timeout = "60s"

[[workspace.repository]]
path = "."
trigger = { kind = "pr", forge = "github", repository = "acme/app", labels = ["rebuild"] }
"#;
    let files = [
        (
            "Dockerfile",
            format!("# strata: produces {app_name}\nFROM {root_name}@{old}\nRUN make\n"),
        ),
        (
            "compose.yaml",
            format!("services:\n  tools:\n    image: {root_name}@{old}\n"),
        ),
        ("strata.toml", config.to_owned()),
    ];
    let repo = GitRepo::new(&files, true);
    repo.add_origin();
    let fake = Fake::start(ForgeKind::GitHub, "acme/app").await;
    let branch = base_branch(&Reference::parse_normalized(&root_name).unwrap());
    assert_eq!(branch, format!("strata/{}-t-root-1", h.replace(':', "-")));
    // The fake knows branches only when told (the real push goes to the bare origin).
    fake.push_branch(&branch);
    let new = seeder
        .push_image("t/root", "1", &Image::new("root-fixed"))
        .await
        .unwrap();

    let env = fake.variables();
    let args = ["cascade", root_name.as_str(), "--format", "json"];
    let cascade = repo.strata(&args, &env);
    let merge = async {
        let pull = first_pull(&fake).await;
        build(&app_name, &root_name, &new).await;
        pull
    };
    let (run, pull) = tokio::join!(cascade, merge);
    assert_code(&run, 0);

    // The cascade triggered the image through its pull request, then saw it published.
    let report = run.json();
    let node = &report[0]["nodes"][0];
    assert_eq!(node["image"], app_name.as_str());
    assert_eq!(node["status"], "published", "{report}");
    assert_eq!(node["trigger"], "pr github acme/app");
    assert!(
        run.stderr
            .contains(&format!("pull request {} opened ({branch})", pull.number)),
        "{}",
        run.stderr
    );

    // The pull request: the update branch onto main, titled and labelled as `update`'s.
    assert_eq!(
        (pull.head.as_str(), pull.base.as_str()),
        (branch.as_str(), "main")
    );
    assert_eq!(pull.title, format!("Update {root_name} to {}…", &new[..15]));
    assert_eq!(pull.labels, ["rebuild"]);
    assert!(
        pull.body.contains(&format!("| Old | `{old}` |")),
        "{}",
        pull.body
    );
    assert!(
        pull.body.contains(&format!("| New | `{new}` |")),
        "{}",
        pull.body
    );
    assert!(
        pull.body
            .contains("- `Dockerfile` line 2\n- `compose.yaml` line 3\n"),
        "{}",
        pull.body
    );
    assert_eq!(fake.pulls().len(), 1);
    fake.assert_clean();

    // The branch on origin carries exactly the pin change, on top of main.
    let tip = repo.origin_rev(&branch).unwrap();
    assert_eq!(Some(tip.clone()), repo.rev(&branch));
    assert_eq!(
        repo.git(&["rev-parse", &format!("{tip}~1")]).trim(),
        repo.rev("main").unwrap()
    );
    let diff = repo.git(&["diff", "main", &branch]);
    let (removed, added) = changed_lines(&diff);
    assert_eq!(
        removed,
        [
            format!("FROM {root_name}@{old}"),
            format!("    image: {root_name}@{old}"),
        ]
    );
    assert_eq!(
        added,
        [
            format!("FROM {root_name}@{new}"),
            format!("    image: {root_name}@{new}"),
        ]
    );
    // The working tree and HEAD are left as they were.
    assert!(repo.read("Dockerfile").contains(&old));
    assert_eq!(repo.git(&["status", "--porcelain"]).trim(), "");

    // The proposal is recorded as `update --pr` records it.
    let state = State::open(&repo.state()).await.unwrap();
    let key = ProposalKey {
        repository: repo.origin().to_str().unwrap().to_owned(),
        branch: branch.clone(),
    };
    let proposal = state.proposal(&key).await.unwrap().unwrap();
    assert_eq!(proposal.stage(), ProposalStage::Open);
    assert_eq!(proposal.commit, Some(tip));
    state.close().await;
}
