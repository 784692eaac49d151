//! ci stage: whether a GitLab CI job runs in a pipeline for a push to the default branch
//! or for a pushed tag — `rules:`, `only:`/`except:` and `workflow: rules:`. Pure; an
//! answer that depends on more than the files is `None` (maybe).
//!
//! Rules from GitLab's "CI/CD YAML syntax reference": `rules` are tried in order and the
//! first whose `if` (and `changes`/`exists`, taken as true) holds decides, `when: never`
//! keeping the job out; with rules and no match the job is not added. Without rules,
//! `only` defaults to `branches` and `tags`; `only`/`except` refs are `branches`,
//! `tags`, `pushes`, `schedules`, `web`, `api`, `triggers`, `merge_requests`, branch
//! names and `/regex/`. `if` expressions (the "CI/CD variable expressions" reference):
//! `$VAR` (defined and not empty), `"string"`, `'string'`, `null`, `==`, `!=`, `=~`,
//! `!~` (regular expressions are not evaluated: maybe), `&&` over `||`, parentheses.

use super::super::text::Text;

/// The variables a rule sees: name to value (`None`: not set), unknown when absent.
pub(crate) type Vars<'a> = dyn Fn(&str) -> Option<Option<Text>> + 'a;

/// Whether `rules` (a list of `(if, when)`) let the job run. `None`: maybe.
pub(crate) fn rules(list: &[(Option<String>, Option<String>)], vars: &Vars<'_>) -> Option<bool> {
    let mut undecided = false;
    for (condition, when) in list {
        let holds = match condition {
            None => Some(true),
            Some(text) => expression(text, vars),
        };
        match holds {
            Some(true) => {
                let runs = when.as_deref() != Some("never");
                return if undecided && runs { None } else { Some(runs) };
            }
            Some(false) => {}
            None => undecided = true,
        }
    }
    if undecided { None } else { Some(false) }
}

/// `only`/`except` refs for a run: `branch` is the branch pushed (`None` for a tag).
pub(crate) fn refs_match(refs: &[String], branch: Option<&str>, source: &str) -> Option<bool> {
    let mut maybe = false;
    for r in refs {
        let hit = match r.as_str() {
            "branches" => Some(branch.is_some()),
            "tags" => Some(branch.is_none()),
            "pushes" => Some(source == "push"),
            "schedules" => Some(source == "schedule"),
            "web" => Some(source == "web"),
            "api" | "triggers" | "pipelines" | "external" | "chat" => Some(source == r),
            "merge_requests" | "external_pull_requests" => Some(false),
            pattern if pattern.starts_with('/') => None,
            name => Some(branch == Some(name)),
        };
        match hit {
            Some(true) => return Some(true),
            Some(false) => {}
            None => maybe = true,
        }
    }
    if maybe { None } else { Some(false) }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Var(String),
    Str(String),
    Regex,
    Null,
    Op(&'static str),
    Open,
    Close,
}

/// A CI/CD variable expression.
pub(crate) fn expression(text: &str, vars: &Vars<'_>) -> Option<bool> {
    let tokens = tokenize(text)?;
    let mut at = 0;
    let value = or(&tokens, &mut at, vars, 0);
    if at == tokens.len() { value } else { None }
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    /// A known string, or `None` for null / not set.
    Known(Option<String>),
    Unknown,
    Regex,
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '$' => {
                i += 1;
                let braced = chars.get(i) == Some(&'{');
                if braced {
                    i += 1;
                }
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Token::Var(chars[start..i].iter().collect()));
                if braced {
                    i += 1;
                }
            }
            '"' | '\'' => {
                let quote = c;
                i += 1;
                let start = i;
                while i < chars.len() && chars[i] != quote {
                    i += 1;
                }
                out.push(Token::Str(
                    chars[start..i.min(chars.len())].iter().collect(),
                ));
                i += 1;
            }
            '/' => {
                i += 1;
                while i < chars.len() && chars[i] != '/' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
                while i < chars.len() && chars[i].is_ascii_alphabetic() {
                    i += 1;
                }
                out.push(Token::Regex);
            }
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            _ => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let op = match two.as_str() {
                    "==" => "==",
                    "!=" => "!=",
                    "=~" => "=~",
                    "!~" => "!~",
                    "&&" => "&&",
                    "||" => "||",
                    _ => {
                        let word: String = chars[i..]
                            .iter()
                            .take_while(|c| c.is_ascii_alphabetic())
                            .collect();
                        if word == "null" {
                            out.push(Token::Null);
                            i += 4;
                            continue;
                        }
                        return None;
                    }
                };
                out.push(Token::Op(op));
                i += 2;
            }
        }
    }
    Some(out)
}

fn or(tokens: &[Token], at: &mut usize, vars: &Vars<'_>, depth: usize) -> Option<bool> {
    let mut value = and(tokens, at, vars, depth);
    while tokens.get(*at) == Some(&Token::Op("||")) {
        *at += 1;
        let right = and(tokens, at, vars, depth);
        value = match (value, right) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        };
    }
    value
}

fn and(tokens: &[Token], at: &mut usize, vars: &Vars<'_>, depth: usize) -> Option<bool> {
    let mut value = comparison(tokens, at, vars, depth);
    while tokens.get(*at) == Some(&Token::Op("&&")) {
        *at += 1;
        let right = comparison(tokens, at, vars, depth);
        value = match (value, right) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        };
    }
    value
}

fn comparison(tokens: &[Token], at: &mut usize, vars: &Vars<'_>, depth: usize) -> Option<bool> {
    if tokens.get(*at) == Some(&Token::Open) {
        *at += 1;
        if depth > 32 {
            *at = usize::MAX;
            return None;
        }
        let value = or(tokens, at, vars, depth + 1);
        if tokens.get(*at) == Some(&Token::Close) {
            *at += 1;
        } else {
            *at = usize::MAX;
        }
        return value;
    }
    let left = operand(tokens, at, vars);
    let Some(Token::Op(op @ ("==" | "!=" | "=~" | "!~"))) = tokens.get(*at).cloned() else {
        return match left {
            Operand::Known(v) => Some(v.is_some_and(|s| !s.is_empty())),
            Operand::Unknown | Operand::Regex => None,
        };
    };
    *at += 1;
    let right = operand(tokens, at, vars);
    match (op, left, right) {
        ("=~" | "!~", _, _) => None,
        (_, Operand::Known(a), Operand::Known(b)) => Some((a == b) == (op == "==")),
        _ => None,
    }
}

fn operand(tokens: &[Token], at: &mut usize, vars: &Vars<'_>) -> Operand {
    let token = tokens.get(*at).cloned();
    *at += 1;
    match token {
        Some(Token::Var(name)) => match vars(&name) {
            Some(Some(text)) => match text.value() {
                Some(v) => Operand::Known(Some(v.to_owned())),
                None => Operand::Unknown,
            },
            Some(None) => Operand::Known(None),
            None => Operand::Unknown,
        },
        Some(Token::Str(s)) => Operand::Known(Some(s)),
        Some(Token::Null) => Operand::Known(None),
        Some(Token::Regex) => Operand::Regex,
        _ => {
            *at = usize::MAX;
            Operand::Unknown
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn on_default(name: &str) -> Option<Option<Text>> {
        match name {
            "CI_COMMIT_BRANCH" | "CI_DEFAULT_BRANCH" | "CI_COMMIT_REF_NAME" => {
                Some(Some(Text::known("main")))
            }
            "CI_PIPELINE_SOURCE" => Some(Some(Text::known("push"))),
            "CI_COMMIT_TAG" | "CI_MERGE_REQUEST_IID" => Some(None),
            _ => None,
        }
    }

    /// Examples of GitLab's "Specify when jobs run with rules" and "CI/CD variable
    /// expressions" pages, for a push to the default branch.
    #[test]
    fn expressions_as_gitlab_documents_them() {
        let cases: &[(&str, Option<bool>)] = &[
            ("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", Some(true)),
            ("$CI_COMMIT_BRANCH == \"main\"", Some(true)),
            ("$CI_COMMIT_BRANCH != 'main'", Some(false)),
            ("$CI_COMMIT_TAG", Some(false)),
            ("$CI_COMMIT_TAG == null", Some(true)),
            (
                "$CI_PIPELINE_SOURCE == \"merge_request_event\"",
                Some(false),
            ),
            (
                "$CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_TAG",
                Some(false),
            ),
            (
                "$CI_COMMIT_TAG || $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
                Some(true),
            ),
            (
                "($CI_COMMIT_TAG || $CI_MERGE_REQUEST_IID) && $CI_COMMIT_BRANCH",
                Some(false),
            ),
            ("$CI_COMMIT_BRANCH =~ /^release/", None),
            ("$DEPLOY_VARIABLE == \"deploy\"", None),
        ];
        for (text, want) in cases {
            assert_eq!(expression(text, &on_default), *want, "{text}");
        }
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let rules_list = |list: &[(&str, &str)]| {
            list.iter()
                .map(|(i, w)| {
                    (
                        (!i.is_empty()).then(|| (*i).to_owned()),
                        (!w.is_empty()).then(|| (*w).to_owned()),
                    )
                })
                .collect::<Vec<_>>()
        };
        let list = rules_list(&[
            ("$CI_PIPELINE_SOURCE == \"merge_request_event\"", ""),
            ("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", ""),
        ]);
        assert_eq!(rules(&list, &on_default), Some(true));
        let list = rules_list(&[
            ("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "never"),
            ("", ""),
        ]);
        assert_eq!(rules(&list, &on_default), Some(false));
        let list = rules_list(&[("$CI_COMMIT_TAG", "")]);
        assert_eq!(rules(&list, &on_default), Some(false));
        assert_eq!(
            refs_match(&["tags".into()], Some("main"), "push"),
            Some(false)
        );
        assert_eq!(
            refs_match(&["main".into()], Some("main"), "push"),
            Some(true)
        );
        assert_eq!(
            refs_match(&["branches".into(), "tags".into()], None, "push"),
            Some(true)
        );
    }
}
