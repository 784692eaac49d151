//! strata.toml you can trust: the JSON Schema in docs/ is the one the config types give
//! (regenerate it with `strata config schema > docs/strata.schema.json`), it accepts
//! what the loader accepts and refuses unknown keys; `strata config check` places every
//! error at its line and column, shows the line, and names the nearest known key.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use strata::config::{self, schema};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator() -> jsonschema::Validator {
    jsonschema::draft7::options()
        .build(&schema::schema())
        .unwrap()
}

fn as_json(text: &str) -> Value {
    let table: toml::Table = toml::from_str(text).unwrap();
    serde_json::to_value(table).unwrap()
}

#[test]
fn the_schema_in_docs_is_current() {
    let path = repository_root().join(schema::DOCS_PATH);
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written == schema::text(),
        "{} is out of date: run `strata config schema > {}`",
        path.display(),
        schema::DOCS_PATH
    );
    let doc: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(doc["$schema"], "http://json-schema.org/draft-07/schema#");
}

/// Every TOML example in the documentation that the loader accepts, the schema accepts
/// too; the schema refuses what `deny_unknown_fields` refuses.
#[test]
fn the_schema_accepts_what_the_loader_accepts() {
    let validator = validator();
    let root = repository_root();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.extend(["GUIDE.md", "README.md"].map(|p| root.join(p)));
    pages.sort();
    let mut checked = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for block in text.split("```toml\n").skip(1) {
            let Some((body, _)) = block.split_once("```") else {
                continue;
            };
            if toml::from_str::<toml::Table>(body).is_err() {
                continue;
            }
            if config::parse(body, Path::new("/x/strata.toml")).is_err() {
                continue;
            }
            let errors: Vec<String> = validator
                .iter_errors(&as_json(body))
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{}:\n{body}\n{errors:#?}",
                page.display()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 11, "the documentation's strata.toml examples");
    for bad in [
        "[registry]\ninsecur = []\n",
        "[[workspace.image]]\nname = \"a:1\"\nbuild-args = { A = \"1\" }\n",
        "[workspace]\nfollow = \"some\"\n",
        "[check]\nseverity = { moved = \"warning\" }\n",
        "[check]\nseverity = { moved-tag = \"loud\" }\n",
        "[[workspace.repository]]\npath = \"a\"\ntrigger = { kind = \"pushh\" }\n",
        "[registry]\nmax_in_flight = 0\n",
        "[serve]\njitter = 0.9\n",
        "[serve.secrets]\ntoken = \"STRATA_TOKEN\"\n",
    ] {
        assert!(!validator.is_valid(&as_json(bad)), "{bad}");
        assert!(
            config::parse(bad, Path::new("/x/strata.toml")).is_err(),
            "{bad}"
        );
    }
}

fn check(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("config")
        .arg("check")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .output()
        .unwrap()
}

#[test]
fn config_check_places_errors_and_names_the_nearest_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("strata.toml");
    std::fs::write(
        &file,
        "[workspace]\n\n[[workspace.repository]]\npath = \".\"\n\n[[workspace.image]]\nname = \"r.example.com/a:1\"\nrepository = \"x\"\n  build-args = { A = \"1\" }\n",
    )
    .unwrap();
    let run = check(dir.path(), &[]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert_eq!(
        stderr,
        "error: ./strata.toml:9:3: workspace.image[0].build-args: unknown field `build-args`, expected one of \
         `name`, `repository`, `dockerfile`, `target`, `platform`, `build_args`, `trigger`, `pins` (did you mean `build_args`?)\n\
         \x20 --> ./strata.toml:9:3\n  |\n9 |   build-args = { A = \"1\" }\n  |   ^\n"
    );

    // A validation error is placed at the value it is about.
    std::fs::write(&file, "[workspace]\nplatform = \"amd64\"\n").unwrap();
    let run = check(dir.path(), &["strata.toml"]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "error: strata.toml:2:12: workspace.platform: \"amd64\" is not os/arch[/variant]\n"
        ),
        "{stderr}"
    );

    std::fs::write(
        &file,
        "[workspace]\n[[workspace.repository]]\npath = \".\"\n",
    )
    .unwrap();
    let run = check(dir.path(), &[]);
    assert_eq!(run.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(run.stdout).unwrap(),
        "./strata.toml: ok (1 repository, 0 image entries)\n"
    );
}
