use super::*;

fn context() -> Value {
    Value::open_object(vec![
        (
            "github".into(),
            Value::open_object(vec![
                ("event_name".into(), Value::string("push")),
                ("ref".into(), Value::string("refs/heads/main")),
                ("repository".into(), Value::string("Org/App")),
            ]),
        ),
        (
            "matrix".into(),
            Value::object(vec![
                ("python".into(), Value::from_scalar("3.10", false)),
                ("quoted".into(), Value::from_scalar("3.10", true)),
                (
                    "image".into(),
                    Value::object(vec![("name".into(), Value::string("base"))]),
                ),
            ]),
        ),
        ("secrets".into(), Value::open_object(Vec::new())),
    ])
}

fn eval(text: &str) -> Value {
    evaluate(text, &context())
}

/// docs.github.com "Evaluate expressions in workflows and actions": literals, operators
/// and their coercions.
#[test]
fn operators_and_literals_follow_the_expressions_reference() {
    let cases: &[(&str, Value)] = &[
        ("'It''s open source!'", Value::string("It's open source!")),
        ("github.event_name != 'pull_request'", Value::Bool(true)),
        ("github.event_name == 'PUSH'", Value::Bool(true)),
        ("null == 0", Value::Bool(true)),
        ("'' == 0", Value::Bool(true)),
        ("true == 1", Value::Bool(true)),
        ("'1' == 1", Value::Bool(true)),
        ("'abc' == 1", Value::Bool(false)),
        ("'' || 'default'", Value::string("default")),
        ("'a' && 'b'", Value::string("b")),
        ("!github.event_name", Value::Bool(false)),
        ("(1 < 2) && 3 >= 3", Value::Bool(true)),
        ("0x10 == 16", Value::Bool(true)),
        ("-9.2 < 0", Value::Bool(true)),
        ("contains('Hello world', 'llo')", Value::Bool(true)),
        ("startsWith(github.ref, 'refs/heads/')", Value::Bool(true)),
        ("endsWith('abc', 'BC')", Value::Bool(true)),
        ("format('{0}-{1}', 'a', 1)", Value::string("a-1")),
        ("format('{{0}} {0}', 'x')", Value::string("{0} x")),
        ("matrix.image.name", Value::string("base")),
        ("matrix['image'].name", Value::string("base")),
        ("matrix.missing", Value::Null),
    ];
    for (text, want) in cases {
        assert_eq!(&eval(text), want, "{text}");
    }
}

/// What a run alone knows stays unknown, and decisions on it are unknown — except
/// where the other operand decides (`false && x`, `true || x`).
#[test]
fn run_time_values_stay_unknown() {
    for text in [
        "github.sha",
        "secrets.TOKEN",
        "github.sha == 'x'",
        "hashFiles('**/lock')",
        "success()",
        "fromJSON('[1]')",
        "github.event_name ==",
    ] {
        assert_eq!(eval(text), Value::Unknown, "{text}");
    }
    assert_eq!(eval("false && github.sha"), Value::Bool(false));
    assert_eq!(eval("github.sha && false"), Value::Bool(false));
    assert_eq!(eval("'x' || github.sha"), Value::string("x"));
}

/// YAML 1.2 core schema as GitHub reads workflows: an unquoted 3.10 is the number 3.1.
#[test]
fn matrix_numbers_are_numbers() {
    let text = substitute("${{ matrix.python }}/${{ matrix.quoted }}", &context());
    assert_eq!(text.value(), Some("3.1/3.10"));
    assert_eq!(
        Value::from_scalar("10", false).to_text().as_deref(),
        Some("10")
    );
    assert_eq!(
        Value::from_scalar("1e3", false).to_text().as_deref(),
        Some("1000")
    );
    assert_eq!(Value::from_scalar("true", false), Value::Bool(true));
    assert_eq!(Value::from_scalar("~", false), Value::Null);
    assert_eq!(
        Value::from_scalar("3.10-slim", false),
        Value::string("3.10-slim")
    );
}

#[test]
fn substitution_keeps_unknown_pieces_as_written() {
    let text = substitute(
        "ghcr.io/${{ github.repository }}:${{ github.sha }}",
        &context(),
    );
    assert_eq!(text.display(), "ghcr.io/Org/App:${{ github.sha }}");
    assert_eq!(text.unknowns(), ["${{ github.sha }}"]);
    // `}}` inside a string literal does not end the expression.
    let text = substitute("${{ format('{0}}}', 'a') }}", &context());
    assert_eq!(text.value(), Some("a}"));
    let text = substitute("open ${{ github.ref", &context());
    assert!(!text.is_known());
}

#[test]
fn conditions_are_bare_or_wrapped() {
    let ctx = context();
    assert_eq!(
        condition("github.ref == 'refs/heads/main'", &ctx),
        Some(true)
    );
    assert_eq!(
        condition("${{ startsWith(github.ref, 'refs/tags/') }}", &ctx),
        Some(false)
    );
    assert_eq!(condition("${{ github.sha }}", &ctx), None);
    assert_eq!(condition("always()", &ctx), None);
}

#[test]
fn deep_nesting_is_refused_not_recursed() {
    let deep = format!("{}1{}", "(".repeat(200), ")".repeat(200));
    assert_eq!(eval(&deep), Value::Unknown);
    assert_eq!(eval("((1))"), Value::Number(1.0));
}
