//! `strata scan` on the file names people give Dockerfiles and their templates, and the
//! warnings BuildKit would print: the real binary on a temporary tree.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::process::Command;

use serde_json::Value;

fn scan(dir: &std::path::Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["scan", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), doc)
}

#[test]
fn dockerfile_names_are_scanned_and_templates_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "Dockerfile-windows",
            "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\n",
        ),
        ("Dockerfile_arm", "FROM arm64v8/alpine:3.20\n"),
        ("build/api.Dockerfile", "FROM golang:1.23\n"),
        ("Containerfile.fedora", "FROM fedora:41\n"),
        // Not Dockerfiles BuildKit could read: they render into one.
        ("Dockerfile.j2", "FROM {{ base }}\n"),
        ("Dockerfile.template", "FROM %%BASE%%\nRUN x\n"),
        ("Dockerfile.in", "FROM @BASE@\n"),
        // A file named like a Dockerfile whose instructions are template markers.
        (
            "gen/Dockerfile",
            "{{ define \"base\" }}\nFROM alpine\n{{ end }}\n",
        ),
    ];
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 0, "{doc:#}");
    let mut refs: Vec<String> = doc["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["file"].as_str().unwrap(),
                o["reference"].as_str().unwrap()
            )
        })
        .collect();
    refs.sort();
    assert_eq!(
        refs,
        [
            "Containerfile.fedora docker.io/library/fedora:41",
            "Dockerfile-windows mcr.microsoft.com/windows/nanoserver:ltsc2022",
            "Dockerfile_arm docker.io/arm64v8/alpine:3.20",
            "build/api.Dockerfile docker.io/library/golang:1.23",
        ]
    );
    let mut skipped: Vec<String> = doc["skips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s["file"].as_str().unwrap(),
                s["line"],
                s["code"].as_str().unwrap()
            )
        })
        .collect();
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "Dockerfile.in 0 template-source",
            "Dockerfile.j2 0 template-source",
            "Dockerfile.template 0 template-source",
            "gen/Dockerfile 1 template-source",
        ]
    );
    assert_eq!(doc["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn undefined_args_in_from_are_warnings_on_the_occurrence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "FROM mcr.microsoft.com/dotnet/sdk:5.0${IMAGESUFFIX}\n",
    )
    .unwrap();
    let (code, doc) = scan(dir.path());
    assert_eq!(code, 0, "{doc:#}");
    let occurrence = &doc["occurrences"][0];
    assert_eq!(occurrence["reference"], "mcr.microsoft.com/dotnet/sdk:5.0");
    assert_eq!(
        occurrence["warnings"],
        serde_json::json!([{
            "code": "undefined-arg-in-from",
            "message": "FROM argument 'IMAGESUFFIX' is not declared"
        }])
    );
    assert_eq!(
        doc["warnings"],
        serde_json::json!([{
            "file": "Dockerfile",
            "line": 1,
            "code": "undefined-arg-in-from",
            "message": "FROM argument 'IMAGESUFFIX' is not declared"
        }])
    );
}
