//! `strata check --format sarif`: the log validates against a hand-written JSON Schema of
//! the SARIF 2.1.0 subset strata writes (tests/check_support/sarif-2.1.0-subset.schema.json,
//! taken from the specification's requirements), and carries what GitHub code scanning
//! needs: rules with descriptions and help, results with rule ids, levels, relative
//! locations under `%SRCROOT%` and stable partial fingerprints.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod check_support;
mod pin_support;

use std::collections::BTreeSet;

use check_support::{args, assert_code, corpus, mirrors};
use pin_support::{Repo, Run};
use serde_json::Value;
use strata_core::check::Code;
use strata_testkit::{Image, TestRegistry};

fn validator() -> jsonschema::Validator {
    let text = include_str!("check_support/sarif-2.1.0-subset.schema.json");
    let schema: Value = serde_json::from_str(text).unwrap();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(log: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{log:#}");
}

/// What GitHub code scanning reads, checked field by field.
fn assert_github_ready(log: &Value) {
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif"));
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "strata");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(ids, codes);
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        for part in ["shortDescription", "fullDescription", "help"] {
            let text = rule[part]["text"].as_str().unwrap();
            assert!(!text.is_empty() && !text.contains('`'), "{id} {part}");
        }
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .unwrap()
                .contains("**Fix:**")
        );
        let uri = rule["helpUri"].as_str().unwrap();
        assert!(uri.ends_with(&format!("docs/checks.md#{id}")), "{uri}");
        assert!(rule["defaultConfiguration"]["level"].is_string(), "{id}");
    }
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let mut prints = BTreeSet::new();
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(result["ruleId"], rules[index]["id"]);
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        let artifact = &location["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        let uri = artifact["uri"].as_str().unwrap();
        assert!(!uri.starts_with('/') && !uri.contains(' '), "{uri}");
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        let print = result["partialFingerprints"]["strataFinding/v1"]
            .as_str()
            .unwrap();
        assert!(prints.insert(print.to_owned()), "duplicate fingerprint");
    }
}

fn sarif(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr))
}

fn results(log: &Value) -> Vec<(String, String, u64)> {
    log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap().to_owned(),
                location["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                location["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn offline_sarif_validates_and_fingerprints_survive_line_moves() {
    let repo = Repo::new(&[
        (
            "Dockerfile",
            "ARG X\nFROM python:2.7\nFROM ${X}\nFROM python:2.7\n",
        ),
        ("with space, comma/Dockerfile", "FROM node:24\n"),
        ("broken/Dockerfile", "FROM\n"),
        (
            "strata.toml",
            "[check]\nseverity = { digest-only = \"ignore\" }\n",
        ),
    ]);
    let corpus = corpus();
    let argv = [
        "check",
        "--offline",
        "--official-images",
        corpus.to_str().unwrap(),
        "--format",
        "sarif",
    ];
    let run = repo.strata(&argv).await;
    assert_code(&run, 2); // the broken Dockerfile: errors win
    let log = sarif(&run);
    assert_valid(&log);
    assert_github_ready(&log);
    let found = results(&log);
    let expect = |rule: &str, uri: &str, line: u64| (rule.to_owned(), uri.to_owned(), line);
    assert_eq!(
        found,
        [
            expect("unpinned", "Dockerfile", 2),
            expect("unsupported-tag", "Dockerfile", 2),
            expect("unresolved-variable", "Dockerfile", 3),
            expect("unpinned", "Dockerfile", 4),
            expect("unsupported-tag", "Dockerfile", 4),
            expect("unpinned", "with%20space%2C%20comma/Dockerfile", 1),
        ]
    );
    let rules = &log["runs"][0]["tool"]["driver"]["rules"];
    assert_eq!(
        rules[Code::DigestOnly.index()]["defaultConfiguration"]["level"],
        "none"
    );
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
    let unsupported = &log["runs"][0]["results"][1];
    assert!(
        unsupported["properties"]["removed"]
            .as_str()
            .unwrap()
            .starts_with("2020-04-21")
    );
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    assert_eq!(
        notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "broken/Dockerfile"
    );

    // Two blank lines on top: same fingerprints, new lines.
    let prints = |log: &Value| -> Vec<String> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["strataFinding/v1"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let path = repo.root().join("Dockerfile");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("\n\n{text}")).unwrap();
    let moved = sarif(&repo.strata(&argv).await);
    assert_eq!(prints(&moved), prints(&log));
    assert_eq!(results(&moved)[0].2, 4);
}

#[tokio::test]
async fn a_moved_tag_in_sarif_carries_both_digests() {
    let registry = TestRegistry::start().await.unwrap();
    let old = registry
        .seeder()
        .push_image("library/redis", "7", &Image::new("redis"))
        .await
        .unwrap();
    let repo = Repo::new(&[("Dockerfile", &*format!("FROM redis:7@{old}\n"))]);
    let flags = mirrors(&registry);
    let clean = repo
        .strata(&args(&["check", "--format", "sarif"], &flags))
        .await;
    assert_code(&clean, 0);
    let log = sarif(&clean);
    assert_valid(&log);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);

    let new = registry
        .seeder()
        .push_image("library/redis", "7", &Image::new("redis 2"))
        .await
        .unwrap();
    let run = repo
        .strata(&args(&["check", "--format", "sarif"], &flags))
        .await;
    assert_code(&run, 1);
    let log = sarif(&run);
    assert_valid(&log);
    assert_github_ready(&log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "moved-tag");
    assert_eq!(result["level"], "error");
    assert_eq!(result["properties"]["digest"], old.as_str());
    assert_eq!(result["properties"]["currentDigest"], new.as_str());
    assert!(result["properties"]["since"].is_string());
}

#[test]
fn the_schema_rejects_what_the_specification_forbids() {
    let good = serde_json::json!({
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "strata", "informationUri": "https://example.com" } },
            "results": [{
                "ruleId": "unpinned",
                "level": "error",
                "message": { "text": "x" },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": "a%20b/Dockerfile", "uriBaseId": "%SRCROOT%" },
                    "region": { "startLine": 1, "startColumn": 1 }
                } }]
            }]
        }]
    });
    assert_valid(&good);
    let broken: [(&str, Value); 6] = [
        ("/version", "2.0.0".into()),
        ("/runs/0/results/0/level", "fatal".into()),
        ("/runs/0/results/0/message", serde_json::json!({})),
        (
            "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
            0.into(),
        ),
        ("/runs/0/tool/driver/informationUri", "not a uri".into()),
        ("/runs/0/results/0/ruleid", "typo".into()),
    ];
    for (pointer, value) in broken {
        let mut log = good.clone();
        match log.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => {
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                log.pointer_mut(parent).unwrap()[key] = value;
            }
        }
        assert!(!validator().is_valid(&log), "{pointer} accepted");
    }
}
