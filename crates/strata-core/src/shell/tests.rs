//! Unit tests for word expansion: one table per form, the variable bookkeeping, the errors,
//! and a generated-input loop checking that nothing panics or hangs.

use std::collections::{BTreeMap, HashMap};

use super::env::equal_fold;
use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sample_env() -> Vec<(String, String)> {
    env(&[
        ("FOO", "xxyy"),
        ("EMPTY", ""),
        ("PATH_", "/tmp/tmp/bar.txt"),
        ("URL", "http://google.de"),
        ("SPACED", "a  b"),
        ("GLOB", "a***yy*"),
    ])
}

/// Expands every `(input, expected)` pair against [`sample_env`].
fn check(cases: &[(&str, &str)]) {
    let vars = sample_env();
    for (input, expected) in cases {
        let got = Lexer::default().expand(input, &vars);
        assert_eq!(
            got.map(|e| e.value).as_deref(),
            Ok(*expected),
            "input {input:?}"
        );
    }
}

#[test]
fn quotes_and_escapes_are_removed() {
    check(&[
        ("plain", "plain"),
        ("he'll'o", "hello"),
        (r"he\'llo", "he'llo"),
        (r#""a\tb""#, r"a\tb"),
        (r#""a\"b""#, r#"a"b"#),
        (r#""a\$FOO""#, "a$FOO"),
        (r"'a\$FOO'", r"a\$FOO"),
        (r"trailing\", "trailing"),
        (r#""it's""#, "it's"),
        ("'\"q\"'", "\"q\""),
    ]);
}

#[test]
fn backtick_escape_replaces_backslash() {
    let vars = sample_env();
    let lexer = Lexer::new('`');
    assert_eq!(
        lexer.expand(r"C:\path`$FOO", &vars).map(|e| e.value),
        Ok(r"C:\path$FOO".into())
    );
    assert_eq!(
        lexer.expand("\"a`\"b\"", &vars).map(|e| e.value),
        Ok("a\"b".into())
    );
    assert_eq!(
        lexer.expand(r"c:\$FOO", &vars).map(|e| e.value),
        Ok(r"c:\xxyy".into())
    );
}

#[test]
fn plain_and_braced_variables_expand() {
    check(&[
        ("$FOO", "xxyy"),
        ("${FOO}", "xxyy"),
        ("a${FOO}b", "axxyyb"),
        ("$FOO.b", "xxyy.b"),
        ("$NOPE", ""),
        ("$", "$"),
        ("$.", "$."),
        ("$1x", "x"),
        ("$@@", "@"),
        ("${#}", ""),
        ("$$", ""),
    ]);
}

#[test]
fn default_and_alternative_forms() {
    check(&[
        ("${NOPE:-d}", "d"),
        ("${EMPTY:-d}", "d"),
        ("${FOO:-d}", "xxyy"),
        ("${NOPE-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${NOPE:+a}", ""),
        ("${EMPTY:+a}", ""),
        ("${FOO:+a}", "a"),
        ("${NOPE+a}", ""),
        ("${EMPTY+a}", "a"),
        ("${NOPE:-${FOO}}", "xxyy"),
        ("${NOPE:-\"a  b\"}", "a  b"),
        ("${FOO?}", "xxyy"),
        ("${EMPTY?}", ""),
        ("${FOO:?}", "xxyy"),
    ]);
}

#[test]
fn prefix_and_suffix_trimming() {
    check(&[
        ("${FOO#x}", "xyy"),
        ("${FOO##*x}", "yy"),
        ("${FOO#*}", "xxyy"),
        ("${FOO#}", "xxyy"),
        ("${FOO#z}", "xxyy"),
        ("${FOO%y}", "xxy"),
        ("${FOO%%x*}", ""),
        ("${FOO%x*}", "x"),
        ("${FOO%?y}", "xx"),
        (r"${GLOB%%\**\*}", "a"),
        ("${NOPE#x}", ""),
        ("${FOO:#x}", "xyy"),
    ]);
}

#[test]
fn pattern_replacement() {
    check(&[
        ("${PATH_/\\/tmp/}", "/tmp/bar.txt"),
        ("${PATH_//\\/tmp/}", "/bar.txt"),
        ("${URL/http:\\/\\//https:\\/\\/}", r"https:\/\/google.de"),
        ("${FOO/x/-}", "-xyy"),
        ("${FOO//x/-}", "--yy"),
        ("${FOO//?/.}", "...."),
        ("${FOO/*/z}", "z"),
        ("${FOO///}", "xxyy"),
        // The lexer expands `$0` first; an escaped `\$0` reaches Go's template expansion.
        ("${FOO//y*/[$0]}", "xx[]"),
        ("${FOO//y*/[\\$0]}", "xx[\\yy]"),
        ("${FOO//x/$$}", "yy"),
    ]);
}

#[test]
fn empty_pattern_replace_all_inserts_everywhere() {
    let vars = env(&[("FOO", "ab"), ("BAR", "")]);
    let got = Lexer::default()
        .expand("${FOO//$BAR/-}", &vars)
        .map(|e| e.value);
    assert_eq!(got, Ok("-a-b-".into()));
    let got = Lexer::default()
        .expand("${FOO/$BAR/-}", &vars)
        .map(|e| e.value);
    assert_eq!(got, Ok("-ab".into()));
}

#[test]
fn errors_say_what_is_wrong() {
    let vars = sample_env();
    let cases: &[(&str, ShellError)] = &[
        ("'open", ShellError::UnterminatedQuote { quote: '\'' }),
        ("\"open", ShellError::UnterminatedQuote { quote: '"' }),
        (
            "${FOO",
            ShellError::UnterminatedExpansion { name: "FOO".into() },
        ),
        (
            "${FOO:-x",
            ShellError::UnterminatedExpansion { name: "FOO".into() },
        ),
        (
            "${FOO:-${BAR}",
            ShellError::UnterminatedExpansion { name: "FOO".into() },
        ),
        (
            "${",
            ShellError::UnterminatedExpansion {
                name: String::new(),
            },
        ),
        (
            "${FOO/x",
            ShellError::UnterminatedPattern { name: "FOO".into() },
        ),
        ("${}", ShellError::BadSubstitution { text: "${}".into() }),
        ("${:-x}", ShellError::BadSubstitution { text: "${:".into() }),
        ("${.}", ShellError::BadSubstitution { text: "${.".into() }),
        (
            "${FOO:=x}",
            ShellError::UnsupportedModifier {
                name: "FOO".into(),
                modifier: ":=".into(),
            },
        ),
        (
            "${FOO=x}",
            ShellError::UnsupportedModifier {
                name: "FOO".into(),
                modifier: "=".into(),
            },
        ),
        (
            "${NOPE?}",
            ShellError::Unset {
                name: "NOPE".into(),
                message: "is not allowed to be unset".into(),
            },
        ),
        (
            "${NOPE:?set it}",
            ShellError::Unset {
                name: "NOPE".into(),
                message: "set it".into(),
            },
        ),
        (
            "${EMPTY:?}",
            ShellError::Empty {
                name: "EMPTY".into(),
                message: "is not allowed to be empty".into(),
            },
        ),
        (
            r"${FOO#\x}",
            ShellError::InvalidPattern {
                pattern: r"\x".into(),
            },
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            Lexer::default().expand(input, &vars).as_ref(),
            Err(want),
            "input {input:?}"
        );
    }
    let message = ShellError::Unset {
        name: "FOO".into(),
        message: "is not allowed to be unset".into(),
    };
    assert_eq!(message.to_string(), "FOO: is not allowed to be unset");
    assert_eq!(
        ShellError::UnterminatedExpansion { name: "FOO".into() }.to_string(),
        "unterminated variable expansion ${FOO"
    );
}

#[test]
fn used_and_unset_names_are_reported_once_in_order() {
    let vars = env(&[("FOO", "xxx"), ("BAR", "")]);
    let got = Lexer::default().expand("${FOO:-a} ${BAR:-b} ${BAZ:-c} $BAZ ${FOO} $1", &vars);
    let want = Expansion {
        value: "xxx b c  xxx ".into(),
        used: vec!["FOO".into(), "BAR".into()],
        unset: vec!["BAZ".into(), "1".into()],
    };
    assert_eq!(got, Ok(want));
    let got = Lexer::default().expand("'$FOO' \\$BAR", &vars);
    assert_eq!(got.map(|e| (e.used, e.unset)), Ok((vec![], vec![])));
    let plain = Lexer::default().expand("alpine:3.20", &vars);
    assert_eq!(
        plain,
        Ok(Expansion {
            value: "alpine:3.20".into(),
            ..Expansion::default()
        })
    );
}

#[test]
fn windows_ignores_case_in_names() {
    let vars = env(&[("PWD", "/home")]);
    let unix = Lexer::default();
    let windows = Lexer::default().with_platform(Platform::Windows);
    assert_eq!(
        unix.expand("$pwd", &vars).map(|e| e.value),
        Ok(String::new())
    );
    let got = windows.expand("$pwd", &vars);
    assert_eq!(
        got.map(|e| (e.value, e.used)),
        Ok(("/home".into(), vec!["pwd".into()]))
    );
    assert!(!equal_fold("Straße", "STRASSE") && equal_fold("k", "\u{212A}"));
}

#[test]
fn every_env_kind_looks_up_the_same() {
    let pairs = env(&[("A", "1"), ("A", "2"), ("b", "3")]);
    let hash: HashMap<String, String> = pairs.iter().cloned().collect();
    let tree: BTreeMap<String, String> = pairs.iter().cloned().collect();
    let slice: &[(String, String)] = &pairs;
    let envs: [&dyn Env; 4] = [&pairs, &hash, &tree, &slice];
    for vars in envs {
        assert_eq!(vars.get("A"), Some("2"));
        assert_eq!(vars.get("a"), None);
        assert_eq!(vars.get_ignore_case("B"), Some("3"));
    }
}

#[test]
fn words_split_on_unquoted_whitespace() {
    let vars = env(&[("SPACED", "  a  b "), ("NONE", "")]);
    let cases: &[(&str, &[&str])] = &[
        ("one two", &["one", "two"]),
        ("x${SPACED}y", &["x", "a", "b", "y"]),
        ("x\"${SPACED}\"y", &["x  a  b y"]),
        ("a\\ b", &["a b"]),
        ("a \"\" b", &["a", "b"]),
        ("$NONE", &[]),
        ("  ", &[]),
    ];
    for (input, want) in cases {
        let got = Lexer::default().expand_words(input, &vars);
        assert_eq!(
            got,
            Ok(want.iter().map(|w| w.to_string()).collect()),
            "input {input:?}"
        );
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = "${A:-".repeat(10_000) + &"}".repeat(10_000);
    let got = Lexer::default().expand(&deep, &sample_env());
    assert_eq!(got, Err(ShellError::TooDeep { limit: MAX_NESTING }));
    let fine = "${A:-".repeat(MAX_NESTING) + "ok" + &"}".repeat(MAX_NESTING);
    assert_eq!(
        Lexer::default()
            .expand(&fine, &sample_env())
            .map(|e| e.value),
        Ok("ok".into())
    );
}

#[test]
fn hostile_patterns_stay_fast() {
    let vars = env(&[("V", &"a".repeat(20_000))]);
    let stars = format!("${{V//{}b/x}}", "*a".repeat(200));
    let started = std::time::Instant::now();
    let got = Lexer::default()
        .expand(&stars, &vars)
        .map(|e| e.value.len());
    assert_eq!(got, Ok(20_000));
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}

/// A small deterministic generator (xorshift), so the test needs no extra dependency.
struct Rng(u64);

impl Rng {
    fn step(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn generated_words_never_panic() {
    const ALPHABET: &[&str] = &[
        "$", "{", "}", ":", "-", "+", "?", "#", "%", "/", "*", "\\", "`", "'", "\"", " ", "\n",
        "A", "FOO", "EMPTY", "1", "@", "x", "한", "\u{FEFF}", "=", "$0", "${", "${FOO", ":-",
    ];
    let vars = sample_env();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..20_000 {
        let len = (rng.step() % 24) as usize;
        let word: String = (0..len)
            .map(|_| ALPHABET[(rng.step() % ALPHABET.len() as u64) as usize])
            .collect();
        let escape = if round % 3 == 0 { '`' } else { '\\' };
        let platform = if round % 5 == 0 {
            Platform::Windows
        } else {
            Platform::Unix
        };
        let lexer = Lexer::new(escape).with_platform(platform);
        let single = lexer.expand(&word, &vars);
        let split = lexer.expand_words(&word, &vars);
        assert_eq!(single.is_ok(), split.is_ok(), "word {word:?}");
    }
}
