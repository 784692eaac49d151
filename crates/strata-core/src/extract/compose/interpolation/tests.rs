//! Cases from compose-go's `template/template_test.go` (the mapping there is `FOO=first`,
//! `BAR=` set but empty, `JSON={"json":2}`), plus strata's own rule for unset variables.

use super::*;

fn vars(name: &str) -> Option<String> {
    match name {
        "FOO" => Some("first".to_owned()),
        "BAR" => Some(String::new()),
        "TAG" => Some("1.2".to_owned()),
        "REG" => Some("ghcr.io/org".to_owned()),
        _ => None,
    }
}

fn compose(text: &str) -> Result<String, InterpolationError> {
    interpolate_with(text, &vars, Unset::Empty)
}

fn strata(text: &str) -> Result<String, InterpolationError> {
    interpolate(text, &vars)
}

/// compose-go `TestEscaped`, `TestSubstituteNoMatch`, `TestUnescaped`, `TestNonBraced`,
/// `TestValueNoDefault`, `TestNoValueWithDefault`, `TestEmptyValueWith{Soft,Hard}Default`,
/// `TestPresentValue*`, `TestNonAlphanumericDefault`, `TestInterpolationExternalInterference`,
/// `TestDefaultsWithNestedExpansion`, `TestDefaultsForMandatoryVariables`.
#[test]
fn compose_go_template_substitutions() {
    let cases = [
        ("$${foo}", "${foo}"),
        ("foo", "foo"),
        ("a $ string", "a $ string"),
        ("^REGEX$", "^REGEX$"),
        ("$}", "$}"),
        ("$", "$"),
        ("$FOO-bar", "first-bar"),
        ("This $FOO var", "This first var"),
        ("This ${FOO} var", "This first var"),
        ("ok ${missing:-def}", "ok def"),
        ("ok ${missing-def}", "ok def"),
        ("ok ${BAR:-def}", "ok def"),
        ("ok ${FOO:-def}", "ok first"),
        ("ok ${BAR-def}", "ok "),
        ("ok ${UNSET_VAR:+presence_value}", "ok "),
        ("ok ${UNSET_VAR+presence_value}", "ok "),
        ("ok ${FOO:+presence_value}", "ok presence_value"),
        ("ok ${FOO+presence_value}", "ok presence_value"),
        ("ok ${BAR+presence_value}", "ok presence_value"),
        ("ok ${BAR:+presence_value}", "ok "),
        ("ok ${BAR:-/non:-alphanumeric}", "ok /non:-alphanumeric"),
        ("-ok ${BAR:-defaultValue}", "-ok defaultValue"),
        ("+ok ${UNSET:-${BAR-defaultValue}}", "+ok "),
        (":-ok ${UNSET-defaultValue}", ":-ok defaultValue"),
        (":?ok ${BAR:-defaultValue}", ":?ok defaultValue"),
        ("ok ${UNSET_VAR-$FOO}", "ok first"),
        ("ok ${UNSET_VAR-${FOO} ${FOO}}", "ok first first"),
        ("ok ${BAR:-${FOO}}", "ok first"),
        ("ok ${BAR+$FOO ${FOO:+second}}", "ok first second"),
        ("ok ${FOO:?err}", "ok first"),
        ("ok ${FOO?err}", "ok first"),
        ("ok ${BAR?err}", "ok "),
        // TestLazyDefaultDoesNotWarn: an unused branch is never expanded.
        ("${A:+${A},}B", "B"),
        // TestNoValueNoDefault: compose's blank for an unset variable.
        ("This ${missing} var", "This  var"),
        ("This ${BAR} var", "This  var"),
        ("$1 and a$", "$1 and a$"),
    ];
    for (input, want) in cases {
        assert_eq!(compose(input).as_deref(), Ok(want), "{input}");
    }
}

/// compose-go `TestInvalid`: only a `${` that does not form a valid expression is invalid.
#[test]
fn compose_go_invalid_templates() {
    for input in [
        "${", "${}", "${ }", "${ foo}", "${foo }", "${foo!}", "${1A}", "${TAG",
    ] {
        for result in [compose(input), strata(input)] {
            assert!(
                matches!(result, Err(InterpolationError::Invalid { .. })),
                "{input}: {result:?}"
            );
        }
    }
}

/// compose-go `TestMandatoryVariableErrors` and `...WithNestedExpansion`: the message is
/// expanded and reported.
#[test]
fn compose_go_mandatory_variables() {
    let cases = [
        (
            "not ok ${UNSET_VAR:?Mandatory Variable Unset}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable Unset",
        ),
        (
            "not ok ${BAR:?Mandatory Variable Empty}",
            "required variable BAR is missing a value: Mandatory Variable Empty",
        ),
        (
            "not ok ${UNSET_VAR:?}",
            "required variable UNSET_VAR is missing a value",
        ),
        (
            "not ok ${UNSET_VAR?Mandatory Variable ${FOO}}",
            "required variable UNSET_VAR is missing a value: Mandatory Variable first",
        ),
    ];
    for (input, want) in cases {
        let error = compose(input).unwrap_err();
        assert_eq!(error.to_string(), want, "{input}");
    }
}

/// In a compose file strata reports an unset variable instead of compose's blank, and
/// names the variable whose value is missing.
#[test]
fn unset_variables_in_compose_files_name_the_variable() {
    for (input, name) in [
        ("nginx:$UNSET", "UNSET"),
        ("nginx:${UNSET}", "UNSET"),
        ("nginx:${UNSET:?set it}", "UNSET"),
        ("nginx:${BAR:?set it}", "BAR"),
        ("nginx:${UNSET?set it}", "UNSET"),
        ("${UNSET:-${OTHER}}", "OTHER"),
    ] {
        assert_eq!(
            strata(input),
            Err(InterpolationError::Unresolved {
                name: name.to_owned()
            }),
            "{input}"
        );
    }
    assert_eq!(
        strata("${UNSET:-${REG}/app}:${UNSET:-${TAG}}").as_deref(),
        Ok("ghcr.io/org/app:1.2")
    );
    assert_eq!(strata("a$${UNSET}").as_deref(), Ok("a${UNSET}"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = "${A:-".repeat(10_000) + &"}".repeat(10_000);
    assert!(matches!(
        strata(&deep),
        Err(InterpolationError::Invalid { .. })
    ));
}
