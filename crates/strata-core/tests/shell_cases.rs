//! BuildKit's own word-expansion tables (`shell/envVarTest`, `shell/wordsTest` in the
//! corpus) run through `strata_core::shell`. Every failing case is collected and printed
//! before the test fails, with pass counts.

mod corpus;

use strata_core::shell::{Lexer, Platform};

/// Cases each table yields (an `A` line runs twice, on Unix and on Windows): a table that
/// shrinks must fail, not pass on fewer cases.
const ENV_VAR_CASES: usize = 456;
const WORDS_CASES: usize = 24;

fn corpus(name: &str) -> String {
    corpus::read_to_string(&format!("buildkit-parser/shell/{name}"))
}

/// `KEY=value` as BuildKit's `BuildEnvs` reads it (no `=` means an empty value).
fn pair(definition: &str) -> (String, String) {
    match definition.split_once('=') {
        Some((key, value)) => (key.to_owned(), value.to_owned()),
        None => (definition.to_owned(), String::new()),
    }
}

#[test]
fn buildkit_env_var_cases() {
    let text = corpus("envVarTest");
    let env: Vec<(String, String)> = ["PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="]
        .into_iter()
        .map(pair)
        .collect();
    let unix = Lexer::new('\\');
    let windows = unix.with_platform(Platform::Windows);
    let (mut total, mut failures) = (0, Vec::new());
    for (number, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.trim().split('|').map(str::trim).collect();
        let [platform, input, expected] = fields[..] else {
            panic!("line {}: expected three fields: {line:?}", number + 1)
        };
        // As BuildKit runs them: U and A on Unix, W and A on Windows.
        let lexers: &[Lexer] = match platform {
            "U" => &[unix],
            "W" => &[windows],
            "A" => &[unix, windows],
            other => panic!("line {}: unknown platform {other:?}", number + 1),
        };
        for lexer in lexers {
            total += 1;
            let got = lexer.expand(input, &env).map(|e| e.value);
            let ok = match (&got, expected) {
                (Err(_), "error") => true,
                (Ok(value), _) => value == expected,
                (Err(_), _) => false,
            };
            if !ok {
                failures.push(format!(
                    "line {} [{:?}]: {input:?} => {got:?}, want {expected:?}",
                    number + 1,
                    lexer.platform()
                ));
            }
        }
    }
    report("envVarTest", total, ENV_VAR_CASES, &failures);
}

#[test]
fn buildkit_words_cases() {
    let text = corpus("wordsTest");
    let lexer = Lexer::new('\\');
    let mut env: Vec<(String, String)> = Vec::new();
    let (mut total, mut failures) = (0, Vec::new());
    for (number, line) in text.lines().enumerate() {
        if line.starts_with('#') {
            continue;
        }
        if let Some(definition) = line.strip_prefix("ENV ") {
            env.push(pair(definition.trim_start_matches(' ')));
            continue;
        }
        let Some((input, expected)) = line.split_once('|') else {
            panic!("line {}: expected two fields: {line:?}", number + 1)
        };
        let input = input.trim();
        let expected: Vec<&str> = expected.trim_start_matches(' ').split(',').collect();
        total += 1;
        let got = match lexer.expand_words(input, &env) {
            Ok(words) => words,
            Err(_) => vec!["error".to_owned()],
        };
        if got != expected {
            failures.push(format!(
                "line {}: {input:?} => {got:?}, want {expected:?}",
                number + 1
            ));
        }
    }
    report("wordsTest", total, WORDS_CASES, &failures);
}

fn report(table: &str, total: usize, expected_total: usize, failures: &[String]) {
    println!("{table}: {} of {total} cases pass", total - failures.len());
    for failure in failures {
        println!("  {failure}");
    }
    assert_eq!(total, expected_total, "{table}: cases read");
    assert!(
        failures.is_empty(),
        "{table}: {} of {total} cases fail",
        failures.len()
    );
}
