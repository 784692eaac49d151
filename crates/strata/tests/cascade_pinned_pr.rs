//! A pinned organisation cascades through pull requests with nobody in the loop: each
//! image's new pins go to a pull request on (fake) GitHub with auto-merge turned on; the
//! forge merges it once its checks pass — a real merge pushed to the repository's real
//! `origin` — and that push's CI builds the image. The forge only merges when asked.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod forge_support;
mod pinned_support;

use forge_support::GitHubFarm;
use pinned_support::{Mode, Org, REPOS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_merged_pull_requests_carry_a_root_move_to_every_image() {
    let org = Org::new(Mode::PullRequest, None).await;
    let repos: Vec<(String, Option<std::path::PathBuf>)> = REPOS
        .iter()
        .map(|r| (format!("org/{r}"), Some(org.origin(r))))
        .collect();
    let slugs: Vec<(&str, Option<std::path::PathBuf>)> =
        repos.iter().map(|(s, p)| (s.as_str(), p.clone())).collect();
    let farm = GitHubFarm::start(&slugs).await;
    org.move_root().await;

    let env: Vec<(&str, String)> = farm.variables();
    let run = org
        .strata(&["cascade", &org.root, "--format", "json"], &env)
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let statuses = run.statuses();
    assert!(
        statuses
            .values()
            .all(|s| s == "published" || s == "up-to-date"),
        "{statuses:?}\n{}",
        run.stderr
    );
    org.settle_ci().await;
    org.assert_on_new_chain().await;
    farm.assert_clean();
    for repo in REPOS.iter().filter(|r| **r != "python-base") {
        let pulls = farm.pulls(&format!("org/{repo}"));
        assert!(!pulls.is_empty(), "{repo}: no pull request");
        assert!(
            pulls
                .iter()
                .all(|p| p.state == forge_support::State::Merged),
            "{repo}: {pulls:?}"
        );
        let auto = farm.models[&format!("org/{repo}")]
            .lock()
            .unwrap()
            .auto_merge
            .len();
        assert_eq!(
            auto,
            pulls.len(),
            "{repo}: auto-merge on every pull request"
        );
        let clone = org.clone_origin(repo);
        org.assert_pins_current(clone.path()).await;
    }
    assert!(run.stderr.contains("auto-merge on"), "{}", run.stderr);
}
