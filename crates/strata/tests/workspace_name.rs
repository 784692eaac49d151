//! docs/cascade.md: a workspace repository without `name` is named after its last path
//! segment; `path = "."` (the config's own directory) is named after that directory.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

#[test]
fn a_repository_at_dot_is_named_after_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("payments-api");
    std::fs::create_dir_all(root.join("svc")).unwrap();
    let config = root.join("strata.toml");
    std::fs::write(
        &config,
        "[workspace]\n\
         [[workspace.repository]]\npath = \".\"\n\
         [[workspace.repository]]\npath = \"svc/\"\n\
         [[workspace.repository]]\npath = \"svc/..\"\nname = \"again\"\n",
    )
    .unwrap();
    let loaded = strata::config::load(Some(&config), &root).unwrap();
    let names: Vec<&str> = loaded
        .workspace
        .repositories
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(names, ["payments-api", "svc", "again"]);
}
