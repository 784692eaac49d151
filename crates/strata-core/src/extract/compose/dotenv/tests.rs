//! Cases from compose-go's `dotenv/godotenv_test.go` and `dotenv/parser_test.go` (test names
//! cited), with their fixture files written inline.

use super::*;

fn none(_: &str) -> Option<String> {
    None
}

fn read(text: &str) -> Dotenv {
    parse(text, &none)
}

/// `(key, value)` pairs compose would end up with (the last definition of a key wins).
fn values(dotenv: &Dotenv) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (key, value) in &dotenv.vars {
        out.retain(|(k, _)| k != key);
        out.push((key.clone(), value.clone()));
    }
    out
}

/// `TestParsing`: one line, one key, one value.
#[test]
fn compose_go_test_parsing() {
    let cases: &[(&str, &str, &str)] = &[
        ("FOO=bar", "FOO", "bar"),
        ("FOO =bar", "FOO", "bar"),
        ("FOO= bar", "FOO", "bar"),
        (r#"FOO="bar""#, "FOO", "bar"),
        ("FOO='bar'", "FOO", "bar"),
        (r#"FOO="escaped\"bar""#, "FOO", r#"escaped"bar"#),
        (r#"FOO="\"quoted\"""#, "FOO", r#""quoted""#),
        (r#"FOO="'d'""#, "FOO", "'d'"),
        ("OPTION_A: 1", "OPTION_A", "1"),
        ("OPTION_A: Foo=bar", "OPTION_A", "Foo=bar"),
        ("OPTION_A=1:B", "OPTION_A", "1:B"),
        ("export OPTION_A=2", "OPTION_A", "2"),
        (r"export OPTION_B='\n'", "OPTION_B", r"\n"),
        ("export exportFoo=2", "exportFoo", "2"),
        ("exportFOO=2", "exportFOO", "2"),
        ("export_FOO =2", "export_FOO", "2"),
        ("export.FOO= 2", "export.FOO", "2"),
        ("export\tOPTION_A=2", "OPTION_A", "2"),
        ("  export OPTION_A=2", "OPTION_A", "2"),
        ("\texport OPTION_A=2", "OPTION_A", "2"),
        (r#"export OPTION_A="export A""#, "OPTION_A", "export A"),
        (r#"FOO="bar\nbaz""#, "FOO", "bar\nbaz"),
        (r"FOO=a\tb", "FOO", r"a\tb"),
        (r#"FOO="a\tb""#, "FOO", "a\tb"),
        (
            r#"KEY="Z\aZ\bZ\fZ\nZ\rZ\tZ\vZ\\Z\0123Z""#,
            "KEY",
            "Z\u{7}Z\u{8}Z\u{c}Z\nZ\rZ\tZ\u{b}Z\\ZSZ",
        ),
        ("FOO.BAR=foobar", "FOO.BAR", "foobar"),
        ("FOO=foobar=", "FOO", "foobar="),
        ("FOO=bar ", "FOO", "bar"),
        ("FOO=bar # this is foo", "FOO", "bar"),
        ("FOO=bar #this is foo", "FOO", "bar"),
        ("FOO=bar #", "FOO", "bar"),
        (
            "FOO=123#not-an-inline-comment",
            "FOO",
            "123#not-an-inline-comment",
        ),
        (r#"FOO="bar#baz""#, "FOO", "bar#baz"),
        (r##"FOO="bar#baz"#"##, "FOO", "bar#baz"),
        (r#"FOO="bar#baz" # comment"#, "FOO", "bar#baz"),
        ("FOO='bar#baz' # comment", "FOO", "bar#baz"),
        (r#"FOO="bar#baz#bang" # comment"#, "FOO", "bar#baz#bang"),
        (r#"FOO="ba#r""#, "FOO", "ba#r"),
        ("FOO='ba#r'", "FOO", "ba#r"),
        (r#"FOO="bar\n\ b\az""#, "FOO", "bar\n\\ b\u{7}z"),
        (r#"FOO="bar\\\n\ b\az""#, "FOO", "bar\\\n\\ b\u{7}z"),
        (r#"FOO="bar\\r\ b\az""#, "FOO", "bar\\r\\ b\u{7}z"),
        (r#"FOO="bar\nbaz\\""#, "FOO", "bar\nbaz\\"),
        (r#"="value""#, "", "value"),
        (" KEY =value", "KEY", "value"),
        ("   KEY=value", "KEY", "value"),
        ("\tKEY=value", "KEY", "value"),
        (r#"KEY="\0123""#, "KEY", "S"),
        (r#"KEY="\x07""#, "KEY", r"\x07"),
        (r#"KEY="\u12e4""#, "KEY", r"\u12e4"),
        (r#"KEY="\U00101234""#, "KEY", r"\U00101234"),
    ];
    for (line, key, want) in cases {
        let dotenv = read(line);
        assert_eq!(dotenv.error, None, "{line}");
        assert_eq!(dotenv.get(key), Some(*want), "{line}");
    }
}

/// `TestParsing` (`lol$wut`), `TestParseVariable`, `TestErrorParsing` (fixtures/invalid1.env)
/// and `TestUnterminatedQuotes`: malformed files are errors with their line.
#[test]
fn compose_go_malformed_files() {
    let cases: &[(&str, usize, &str)] = &[
        ("lol$wut", 1, "unexpected character '$'"),
        ("%!(EXTRA string)=foo", 1, "unexpected character '%'"),
        (
            "# some comments\nfoo=\"\n  a\n  multine\n  value\n\"\nINVALID LINE\nzot=qix",
            7,
            "key cannot contain a space",
        ),
        ("KEY=\"", 1, "unterminated quoted value"),
        ("KEY=\"value", 1, "unterminated quoted value"),
        ("KEY=\"value\\\"", 1, "unterminated quoted value"),
        ("KEY=\"value'", 1, "unterminated quoted value"),
        ("KEY='", 1, "unterminated quoted value"),
        ("KEY='value", 1, "unterminated quoted value"),
        ("KEY='value\\'", 1, "unterminated quoted value"),
        ("A=1\n\nKEY='value\"", 3, "unterminated quoted value"),
        (
            "A=${B:?needs B}",
            1,
            "required variable B is missing a value: needs B",
        ),
        ("A=1\nB=${", 2, "invalid template"),
    ];
    for (text, line, message) in cases {
        let error = read(text).error.unwrap_or_else(|| panic!("{text:?} read"));
        assert_eq!(error.line, *line, "{text:?}: {error}");
        assert!(error.message.contains(message), "{text:?}: {error}");
    }
    // What was read before the error is kept.
    assert_eq!(read("A=1\nB C=2\n").get("A"), Some("1"));
}

/// `TestReadPlainEnv` (fixtures/plain.env), `TestLoadQuotedEnv` (fixtures/quoted.env),
/// `TestLoadUnquotedEnv`, `TestLoadExportedEnv`, `TestDash` (fixtures/special.env),
/// `TestLoadEqualsEnv`, `TestUTF8BOM`.
#[test]
fn compose_go_fixture_files() {
    let plain = "OPTION_A=1\nOPTION_B=2\nOPTION_C= 3\nOPTION_D =4\nOPTION_E = 5\n456 = ABC\nOPTION_F = \nOPTION_G=\nOPTION_H = my string # Inline comment\n";
    let quoted = "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\nOPTION_E=\"1\"\nOPTION_F=\"2\"\nOPTION_G=\"\"\nOPTION_H=\"\\n\"\nOPTION_I = \"echo 'asd'\" # Inline comment\nOPTION_J = 'first line\nsecond line\nthird line\nand so on'\nOPTION_K='Let\\'s go!'\nOPTION_Z = \"last value\"\n";
    let unquoted = "OPTION_A = \"some quoted phrase\"\nOPTION_B=first one with an unquoted phrase\nOPTION_C = then another one with an unquoted phrase\nOPTION_D = then another one with an unquoted phrase special è char\nOPTION_E = \"then another one quoted phrase\"\n";
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            plain,
            &[
                ("OPTION_A", "1"),
                ("OPTION_B", "2"),
                ("OPTION_C", "3"),
                ("OPTION_D", "4"),
                ("OPTION_E", "5"),
                ("456", "ABC"),
                ("OPTION_F", ""),
                ("OPTION_G", ""),
                ("OPTION_H", "my string"),
            ],
        ),
        (
            quoted,
            &[
                ("OPTION_A", "1"),
                ("OPTION_B", "2"),
                ("OPTION_C", ""),
                ("OPTION_D", "\\n"),
                ("OPTION_E", "1"),
                ("OPTION_F", "2"),
                ("OPTION_G", ""),
                ("OPTION_H", "\n"),
                ("OPTION_I", "echo 'asd'"),
                ("OPTION_J", "first line\nsecond line\nthird line\nand so on"),
                ("OPTION_K", "Let's go!"),
                ("OPTION_Z", "last value"),
            ],
        ),
        (
            unquoted,
            &[
                ("OPTION_A", "some quoted phrase"),
                ("OPTION_B", "first one with an unquoted phrase"),
                ("OPTION_C", "then another one with an unquoted phrase"),
                (
                    "OPTION_D",
                    "then another one with an unquoted phrase special è char",
                ),
                ("OPTION_E", "then another one quoted phrase"),
            ],
        ),
        (
            "export OPTION_A=2\nexport OPTION_B='\\n'\n",
            &[("OPTION_A", "2"), ("OPTION_B", "\\n")],
        ),
        (
            "VAR.WITH.DOTS=dots\nVAR_WITH_UNDERSCORES=underscores\nVAR-WITH-DASHES=dashes\n",
            &[
                ("VAR.WITH.DOTS", "dots"),
                ("VAR_WITH_UNDERSCORES", "underscores"),
                ("VAR-WITH-DASHES", "dashes"),
            ],
        ),
        (
            "export OPTION_A='postgres://localhost:5432/database?sslmode=disable'\n\n",
            &[(
                "OPTION_A",
                "postgres://localhost:5432/database?sslmode=disable",
            )],
        ),
        (
            "\u{feff}OPTION_A=1\r\nOPTION_B=2\r\n",
            &[("OPTION_A", "1"), ("OPTION_B", "2")],
        ),
        // `TestLinesToIgnore`: blank, CRLF-only, whitespace and comment lines.
        ("\n\r\n\t\t \n# Comment\n\t # comment\n", &[]),
    ];
    for (text, want) in cases {
        let dotenv = read(text);
        assert_eq!(dotenv.error, None, "{text:?}");
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(values(&dotenv), want, "{text:?}");
    }
}

/// `TestExpanding`, `TestSubstitutions` (fixtures/substitutions.env): references to
/// earlier variables, unset ones blank, none in single quotes, `\$` escapes one.
#[test]
fn compose_go_test_expanding() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("FOO=test\nBAR=$FOO", &[("FOO", "test"), ("BAR", "test")]),
        (
            "FOO=test\nBAR=${FOO}bar",
            &[("FOO", "test"), ("BAR", "testbar")],
        ),
        ("BAR=$FOO", &[("BAR", "")]),
        (
            "FOO=test\nBAR=\"quote $FOO\"",
            &[("FOO", "test"), ("BAR", "quote test")],
        ),
        ("BAR='quote $FOO'", &[("BAR", "quote $FOO")]),
        (r#"FOO="foo\$BAR""#, &[("FOO", "foo$BAR")]),
        (r#"FOO="foo\${BAR}""#, &[("FOO", "foo${BAR}")]),
        (
            "FOO=test\nBAR=\"foo\\${FOO} ${FOO}\"",
            &[("FOO", "test"), ("BAR", "foo${FOO} test")],
        ),
        (
            "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n",
            &[
                ("OPTION_A", "1"),
                ("OPTION_B", "1"),
                ("OPTION_C", "1"),
                ("OPTION_D", "1_1"),
                ("OPTION_E", ""),
            ],
        ),
        // A set-but-empty value is still set: `${EMPTY:-16}` defaults, `${EMPTY-16}` not.
        (
            "EMPTY=\nA=${EMPTY:-16}\nB=${EMPTY-16}\nC=${UNSET-16}",
            &[("EMPTY", ""), ("A", "16"), ("B", ""), ("C", "16")],
        ),
    ];
    for (text, want) in cases {
        let dotenv = read(text);
        assert_eq!(dotenv.error, None, "{text:?}");
        for (key, value) in *want {
            assert_eq!(dotenv.get(key), Some(*value), "{text:?}: {key}");
        }
    }
}

/// `TestSubstitutionsWithEnvFilePrecedence`, `...DefaultValuePrecedence`,
/// `TestInheritedEnvVariable*`, `TestExpandingEnvironmentWithLookup`: the environment wins
/// in references; a key alone takes the environment's value, or nothing.
#[test]
fn compose_go_environment_precedence() {
    let environment = |name: &str| match name {
        "OPTION_A" => Some("5".to_owned()),
        "VAR_TO_BE_LOADED_FROM_OS_ENV" => Some("SOME_RANDOM_VALUE".to_owned()),
        _ => None,
    };
    let substitutions = "OPTION_A=1\nOPTION_B=${OPTION_A}\nOPTION_C=$OPTION_B\nOPTION_D=${OPTION_A}_${OPTION_B}\nOPTION_E=${OPTION_NOT_DEFINED}\n";
    let dotenv = parse(substitutions, &environment);
    assert_eq!(
        values(&dotenv),
        [
            ("OPTION_A", "1"),
            ("OPTION_B", "5"),
            ("OPTION_C", "5"),
            ("OPTION_D", "5_5"),
            ("OPTION_E", "")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    let defaults = "OPTION_A=${OPTION_A:-1}\nOPTION_B=${OPTION_A}\n";
    assert_eq!(parse(defaults, &environment).get("OPTION_A"), Some("5"));
    assert_eq!(read(defaults).get("OPTION_B"), Some("1"));
    let inherited = "foo=bar\nVAR_TO_BE_LOADED_FROM_OS_ENV\nbar=baz\nVARIABLE_NOT_FOUND\n";
    let dotenv = parse(inherited, &environment);
    assert_eq!(dotenv.error, None);
    assert_eq!(
        values(&dotenv),
        [
            ("foo", "bar"),
            ("VAR_TO_BE_LOADED_FROM_OS_ENV", "SOME_RANDOM_VALUE"),
            ("bar", "baz")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
}

/// compose-go reads on after a closing quote: what follows on the line is another statement.
#[test]
fn statements_continue_after_a_closing_quote() {
    let dotenv = read("A=\"1\" B=2\n");
    assert_eq!(dotenv.get("A"), Some("1"));
    assert_eq!(dotenv.get("B"), Some("2"));
}

#[test]
fn hostile_input_does_not_panic_or_blow_up() {
    for text in [
        "\"",
        "=",
        "A=\"\\",
        "A=\\0",
        "A=\"\\0\"",
        "A=\"\\09\"",
        "A=\"\\0777\"",
        "é=ü\nß='\\'",
        "A=${A:-${A:-${A:-${A}}}}",
    ] {
        let _ = read(text);
    }
    let many = "K=$K$K$K$K\n".repeat(20);
    let started = std::time::Instant::now();
    let _ = read(&many);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let big = (0..10_000usize)
        .map(|i| format!("K{i}=${{K{}}}x\n", i.saturating_sub(1)))
        .collect::<String>();
    assert_eq!(read(&big).vars.len(), 10_000);
}
