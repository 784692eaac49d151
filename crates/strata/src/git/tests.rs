use std::process::Command;

use super::*;

/// Runs git in `dir` for the test's own set-up; panics on failure.
fn sh(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

/// A repository on `main` with one commit of `Dockerfile` and a configured identity.
fn repo() -> (tempfile::TempDir, Git) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    sh(root, &["init", "-q", "-b", "main"]);
    sh(root, &["config", "user.name", "Test Person"]);
    sh(root, &["config", "user.email", "test@example.com"]);
    std::fs::write(root.join("Dockerfile"), "FROM a\n").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/Dockerfile"), "FROM b\n").unwrap();
    sh(root, &["add", "."]);
    sh(root, &["commit", "-q", "-m", "first"]);
    let git = Git::discover(&root.join("sub")).unwrap();
    (dir, git)
}

#[test]
fn discovers_the_top_level_branch_and_commits() {
    let (dir, git) = repo();
    assert_eq!(
        git.top().canonicalize().unwrap(),
        dir.path().canonicalize().unwrap()
    );
    assert_eq!(git.current_branch().unwrap().as_deref(), Some("main"));
    let head = git.resolve("HEAD").unwrap().unwrap();
    assert_eq!(head, sh(dir.path(), &["rev-parse", "HEAD"]));
    assert_eq!(git.resolve("refs/heads/nope").unwrap(), None);
    assert_eq!(
        git.config("user.name").unwrap().as_deref(),
        Some("Test Person")
    );
    assert_eq!(git.config("no.such-key").unwrap(), None);

    sh(dir.path(), &["checkout", "-q", "--detach"]);
    assert_eq!(git.current_branch().unwrap(), None);

    let elsewhere = tempfile::tempdir().unwrap();
    let err = Git::discover(elsewhere.path()).unwrap_err();
    assert!(matches!(err, GitError::NotARepository { .. }), "{err}");
}

#[test]
fn modified_lists_tracked_and_staged_changes_but_not_untracked_files() {
    let (dir, git) = repo();
    assert!(git.modified().unwrap().is_empty());
    std::fs::write(dir.path().join("new.txt"), "x").unwrap();
    assert!(git.modified().unwrap().is_empty());
    std::fs::write(dir.path().join("Dockerfile"), "FROM c\n").unwrap();
    assert_eq!(git.modified().unwrap(), [" M Dockerfile"]);
    sh(dir.path(), &["add", "Dockerfile"]);
    assert_eq!(git.modified().unwrap(), ["M  Dockerfile"]);
}

#[test]
fn a_commit_from_plumbing_leaves_the_working_tree_index_and_head_alone() {
    let (dir, git) = repo();
    let head = git.resolve("HEAD").unwrap().unwrap();
    let index_before = std::fs::read(dir.path().join(".git/index")).unwrap();
    let (mode, blob) = git.file_at(&head, "sub/Dockerfile").unwrap().unwrap();
    assert_eq!(mode, "100644");
    assert_eq!(git.blob(&blob).unwrap(), b"FROM b\n");
    assert_eq!(
        git.file_at(&head, "sub").unwrap(),
        None,
        "a directory is no file"
    );
    assert_eq!(git.file_at(&head, "missing").unwrap(), None);

    let new_blob = git.write_blob(b"FROM b@x\r\n").unwrap();
    let entry = TreeEntry {
        path: "sub/Dockerfile".into(),
        mode,
        blob: new_blob,
    };
    let tree = git.tree_with(&head, &[entry]).unwrap();
    let commit = git.commit_tree(&tree, &head, "Subject\n\nBody\n").unwrap();
    git.set_branch("strata/b-1", &commit, None).unwrap();

    let shown = sh(dir.path(), &["show", "strata/b-1:sub/Dockerfile"]);
    assert_eq!(shown, "FROM b@x");
    let author = sh(
        dir.path(),
        &["log", "-1", "--format=%an <%ae>|%cn|%B", "strata/b-1"],
    );
    assert_eq!(
        author,
        "Test Person <test@example.com>|Test Person|Subject\n\nBody"
    );
    assert_eq!(sh(dir.path(), &["rev-parse", "HEAD"]), head);
    assert_eq!(git.current_branch().unwrap().as_deref(), Some("main"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sub/Dockerfile")).unwrap(),
        "FROM b\n"
    );
    assert_eq!(
        std::fs::read(dir.path().join(".git/index")).unwrap(),
        index_before
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join(".git"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("strata-index"))
        .collect();
    assert!(leftovers.is_empty());

    // The branch moves only from the commit it is expected at.
    let err = git
        .set_branch("strata/b-1", &head, Some(&head))
        .unwrap_err();
    assert!(matches!(err, GitError::Failed { .. }), "{err}");
    let err = git.set_branch("strata/b-1", &head, None).unwrap_err();
    assert!(matches!(err, GitError::Failed { .. }), "{err}");
    git.set_branch("strata/b-1", &head, Some(&commit)).unwrap();
}

#[test]
fn the_same_change_on_different_bases_has_one_patch_id() {
    let (dir, git) = repo();
    let first = git.resolve("HEAD").unwrap().unwrap();
    let change = |parent: &str, text: &[u8]| {
        let blob = git.write_blob(text).unwrap();
        let entry = TreeEntry {
            path: "Dockerfile".into(),
            mode: "100644".into(),
            blob,
        };
        let tree = git.tree_with(parent, &[entry]).unwrap();
        git.commit_tree(&tree, parent, "change").unwrap()
    };
    let on_first = change(&first, b"FROM a@1\n");
    std::fs::write(dir.path().join("other"), "x").unwrap();
    sh(dir.path(), &["add", "other"]);
    sh(dir.path(), &["commit", "-q", "-m", "second"]);
    let second = git.resolve("HEAD").unwrap().unwrap();
    let on_second = change(&second, b"FROM a@1\n");
    let different = change(&second, b"FROM a@2\n");

    let id = |from: &str, to: &str| git.patch_id(from, to).unwrap();
    assert!(id(&first, &on_first).is_some());
    assert_eq!(id(&first, &on_first), id(&second, &on_second));
    assert_ne!(id(&second, &different), id(&second, &on_second));
    assert_eq!(id(&first, &first), None);
    assert_eq!(
        git.merge_base(&on_first, &second).unwrap(),
        Some(first.clone())
    );
}

#[test]
fn pushes_with_a_lease_and_reads_the_remote_branch() {
    let (dir, git) = repo();
    let bare = tempfile::tempdir().unwrap();
    sh(bare.path(), &["init", "-q", "--bare"]);
    let url = bare.path().to_str().unwrap();
    sh(dir.path(), &["remote", "add", "origin", url]);
    assert_eq!(git.remote_url("origin").unwrap().as_deref(), Some(url));
    assert_eq!(git.remote_url("upstream").unwrap(), None);

    let head = git.resolve("HEAD").unwrap().unwrap();
    git.set_branch("strata/a-1", &head, None).unwrap();
    assert_eq!(git.remote_branch("origin", "strata/a-1").unwrap(), None);
    git.push_branch("origin", "strata/a-1", None).unwrap();
    assert_eq!(
        git.remote_branch("origin", "strata/a-1").unwrap(),
        Some(head.clone())
    );

    // A lease on the wrong commit (someone moved the branch) is refused.
    let tree = git.tree_with(&head, &[]).unwrap();
    let next = git.commit_tree(&tree, &head, "next").unwrap();
    git.set_branch("strata/a-1", &next, Some(&head)).unwrap();
    let err = git
        .push_branch("origin", "strata/a-1", Some(&next))
        .unwrap_err();
    assert!(matches!(err, GitError::Failed { .. }), "{err}");
    git.push_branch("origin", "strata/a-1", Some(&head))
        .unwrap();
    assert_eq!(
        git.remote_branch("origin", "strata/a-1").unwrap(),
        Some(next.clone())
    );

    git.fetch_branch("origin", "strata/a-1").unwrap();
    assert_eq!(
        git.resolve("refs/remotes/origin/strata/a-1").unwrap(),
        Some(next)
    );
}

/// Pushing a commit to a branch with a lease: done; refused as stale when the branch
/// moved meanwhile (try again on the new tip); refused by the remote itself (a protected
/// branch's hook) with what it said. A refusal is an answer, not an error.
#[test]
fn push_commit_tells_a_moved_branch_from_a_refusing_remote() {
    let (dir, git) = repo();
    let bare = tempfile::tempdir().unwrap();
    sh(bare.path(), &["init", "-q", "--bare"]);
    let url = bare.path().to_str().unwrap();
    sh(dir.path(), &["remote", "add", "origin", url]);
    sh(dir.path(), &["push", "-q", "origin", "main"]);
    let head = git.resolve("HEAD").unwrap().unwrap();
    let tree = git.tree_of(&head).unwrap();
    let next = git.commit_tree(&tree, &head, "next").unwrap();
    let other = git.commit_tree(&tree, &head, "other").unwrap();

    assert_eq!(
        git.push_commit("origin", &next, "main", &head).unwrap(),
        Pushed::Done
    );
    assert_eq!(
        git.remote_branch("origin", "main").unwrap(),
        Some(next.clone())
    );
    // The lease still names `head`, but main is at `next` now.
    let stale = git.push_commit("origin", &other, "main", &head).unwrap();
    assert!(matches!(stale, Pushed::Stale { .. }), "{stale:?}");
    assert_eq!(
        git.remote_branch("origin", "main").unwrap(),
        Some(next.clone())
    );

    let hook = bare.path().join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let refused = git.push_commit("origin", &other, "main", &next).unwrap();
    let Pushed::RemoteRejected {
        summary,
        remote_said,
    } = refused
    else {
        panic!("{refused:?}");
    };
    assert!(summary.contains("pre-receive hook declined"), "{summary}");
    assert!(
        remote_said.contains("GH006: Protected branch"),
        "{remote_said}"
    );
    assert_eq!(
        git.messages(&next, 5)
            .unwrap()
            .split('\0')
            .next()
            .unwrap()
            .trim(),
        "next"
    );
}
