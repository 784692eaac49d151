//! Conformance with BuildKit's own parser tests (copied as data into
//! corpus/buildkit-parser): the AST dumps of `testfiles/*`, the negative files, line
//! numbers, heredoc tables (chomp included) and warnings.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod corpus;

use std::fs;

use serde_json::Value;
use strata_core::dockerfile::{self, ast, chomp_heredoc_content, heredoc_content, words};

/// The corpus's case counts: a corpus that shrinks must fail, not pass on fewer cases.
const TESTFILES: usize = 33;
const NEGATIVE_TESTFILES: usize = 4;
const TABLE_CASES: usize = 44;

fn dump(src: &str) -> Result<String, String> {
    let df = dockerfile::parse(src).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for instruction in &df.instructions {
        let node = ast::node(&instruction.text, df.escape)?;
        out.push_str(&ast::dump(&node));
        out.push('\n');
    }
    Ok(out)
}

#[test]
fn testfiles_dump_like_buildkit() {
    let dir = corpus::path("buildkit-parser/parser/testfiles");
    let mut failures = Vec::new();
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let src = fs::read(path.join("Dockerfile")).unwrap();
        let src = String::from_utf8(src).unwrap();
        let expected = fs::read_to_string(path.join("result")).unwrap();
        count += 1;
        match dump(&src) {
            Ok(got) if got == expected => {}
            Ok(got) => failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                path.display()
            )),
            Err(e) => failures.push(format!("{}: error {e}", path.display())),
        }
    }
    println!(
        "{} of {count} BuildKit testfiles dump identically",
        count - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(count, TESTFILES, "testfiles in {}", dir.display());
}

#[test]
fn negative_testfiles_fail() {
    let dir = corpus::path("buildkit-parser/parser/testfiles-negative");
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let src = fs::read_to_string(path.join("Dockerfile")).unwrap();
        assert!(
            dockerfile::parse(&src).is_err(),
            "{} should fail",
            path.display()
        );
        count += 1;
    }
    assert_eq!(count, NEGATIVE_TESTFILES);
}

fn tables() -> Vec<Value> {
    let text = corpus::read_to_string("buildkit-parser/parser-tables.json");
    let value: Value = serde_json::from_str(&text).unwrap();
    value["cases"].as_array().unwrap().clone()
}

#[test]
fn parser_tables() {
    let mut checked = 0;
    for case in tables() {
        let id = case["id"].as_str().unwrap();
        let expected = &case["expected"];
        match case["kind"].as_str().unwrap() {
            "parse_heredoc_word" => {
                let got = words::parse_heredoc(case["input"].as_str().unwrap());
                if expected["error"].as_bool() == Some(true) {
                    assert!(got.is_err(), "{id}");
                } else if expected["not_heredoc"].as_bool() == Some(true) {
                    assert_eq!(got, Ok(None), "{id}");
                } else {
                    assert_eq!(
                        got.unwrap().unwrap().name,
                        expected["heredoc_name"].as_str().unwrap(),
                        "{id}"
                    );
                }
            }
            "heredocs_from_line" => {
                let want: Vec<String> = expected["heredoc_names"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect();
                let src = format!("{}\n{}\n", case["input"].as_str().unwrap(), want.join("\n"));
                let names: Vec<String> = match dockerfile::parse(&src) {
                    Ok(df) => df.instructions[0]
                        .heredocs
                        .iter()
                        .map(|h| h.name.clone())
                        .collect(),
                    Err(e) => panic!("{id}: {e}"),
                };
                assert_eq!(names, want, "{id}");
            }
            "parse_heredocs" => {
                let src = case["dockerfile"].as_str().unwrap();
                let df = dockerfile::parse(src).unwrap_or_else(|e| panic!("{id}: {e}"));
                let by_child = expected["heredocs_by_child"].as_array().unwrap();
                assert_eq!(df.instructions.len(), by_child.len() + 1, "{id}");
                for (i, want) in by_child.iter().enumerate() {
                    let got = &df.instructions[i + 1].heredocs;
                    let want = want.as_array().cloned().unwrap_or_default();
                    assert_eq!(got.len(), want.len(), "{id} child {}", i + 1);
                    for (h, w) in got.iter().zip(&want) {
                        assert_eq!(h.name, w["name"].as_str().unwrap(), "{id}");
                        assert_eq!(
                            heredoc_content(src, h),
                            w["content"].as_str().unwrap(),
                            "{id} {}",
                            h.name
                        );
                        assert_eq!(h.expand, w["expand"].as_bool().unwrap(), "{id} {}", h.name);
                        assert_eq!(h.chomp, w["chomp"].as_bool().unwrap(), "{id} {}", h.name);
                        assert_eq!(
                            u64::from(h.fd),
                            w["file_descriptor"].as_u64().unwrap(),
                            "{id} {}",
                            h.name
                        );
                    }
                }
            }
            "parse_words" => {
                let got: Vec<String> = words::parse_words(case["input"].as_str().unwrap(), '\\')
                    .into_iter()
                    .map(|(w, _)| w)
                    .collect();
                let want: Vec<String> = expected["words"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect();
                assert_eq!(got, want, "{id}");
            }
            "line_numbers" => {
                let file = case["dockerfile_file"].as_str().unwrap();
                let src = corpus::read_to_string(&format!("buildkit-parser/{file}"));
                let df = dockerfile::parse(&src).unwrap();
                let lines: Vec<(u64, u64)> = df
                    .instructions
                    .iter()
                    .map(|i| (i.start_line as u64, i.end_line as u64))
                    .collect();
                let want: Vec<(u64, u64)> = expected["children_lines"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[0].as_u64().unwrap(), p[1].as_u64().unwrap()))
                    .collect();
                assert_eq!(lines, want, "{id}");
            }
            "warnings" => {
                let df = dockerfile::parse(case["dockerfile"].as_str().unwrap()).unwrap();
                assert_eq!(
                    df.warnings.len() as u64,
                    expected["warning_count"].as_u64().unwrap(),
                    "{id}: {:?}",
                    df.warnings
                );
                for (warning, parts) in df
                    .warnings
                    .iter()
                    .zip(expected["warnings_contain"].as_array().unwrap())
                {
                    for part in parts.as_array().unwrap() {
                        assert!(
                            warning.contains(part.as_str().unwrap()),
                            "{id}: {warning:?} lacks {part}"
                        );
                    }
                }
            }
            "parse_error" => {
                assert!(
                    dockerfile::parse(case["dockerfile"].as_str().unwrap()).is_err(),
                    "{id}"
                );
            }
            "chomp" => {
                // BuildKit's TestHeredocChomp: `ChompHeredocContent` on a raw body.
                let got = chomp_heredoc_content(case["input"].as_str().unwrap());
                assert_eq!(got, expected["output"].as_str().unwrap(), "{id}");
            }
            other => panic!("unknown case kind {other}"),
        }
        checked += 1;
    }
    println!("{checked} parser table cases passed");
    assert_eq!(checked, TABLE_CASES);
}
