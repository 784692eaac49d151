//! Fuzzes the CI readers: any text as a GitHub workflow, a local composite action and a
//! GitLab pipeline, and as a shell script and a GitHub expression, must be read without
//! a panic (what cannot be read becomes unknown pieces and questions).

#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_core::ci::{File, Repository, expr, github, gitlab, shell};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let repository = Repository {
        slug: Some("org/app".to_owned()),
        default_branch: "main".to_owned(),
        gitlab_registry: Some("registry.gitlab.com".to_owned()),
    };
    let files = vec![
        File { path: ".github/workflows/ci.yml".to_owned(), text: text.to_owned() },
        File { path: ".github/workflows/called.yml".to_owned(), text: text.to_owned() },
        File { path: ".github/actions/build/action.yml".to_owned(), text: text.to_owned() },
        File { path: gitlab::FILE.to_owned(), text: text.to_owned() },
    ];
    let _ = github::read(&files, &repository);
    let _ = gitlab::read(&files, &repository);
    let _ = shell::commands(text, &mut shell::Env::new());
    let _ = expr::evaluate(text, &expr::Value::open_object(Vec::new()));
});
