//! decide stage, for `check`: the glob patterns of ignore rules (image names and file
//! paths). Pure text matching; nothing here reads a directory.
//!
//! `*` matches any run of characters except `/`, `**` any run including `/` (`**/`
//! also matches nothing, so `**/x` matches `x`), `?` one character except `/`,
//! `[abc]` / `[a-z]` / `[!a]` a class, and `\` escapes the next character.

use std::fmt;

/// A pattern that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid pattern {pattern:?}: {reason}")]
pub struct GlobError {
    pub pattern: String,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`
    One,
    /// `[...]`: ranges (inclusive) and whether the class is negated.
    Class(Vec<(char, char)>, bool),
    /// `*`
    Star,
    /// `**`
    Globstar,
    /// `**/`: empty, or anything ending in `/`.
    Dirs,
}

/// A compiled pattern; equal when written the same.
#[derive(Debug, Clone)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for Glob {}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

impl Glob {
    /// Compiles `pattern`. Empty patterns and unclosed classes are errors.
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        let error = |reason| GlobError {
            pattern: pattern.to_owned(),
            reason,
        };
        if pattern.is_empty() {
            return Err(error("empty pattern"));
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' if chars.get(i + 1) == Some(&'*') => {
                    i += 2;
                    while chars.get(i) == Some(&'*') {
                        i += 1;
                    }
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                        tokens.push(Token::Dirs);
                    } else {
                        tokens.push(Token::Globstar);
                    }
                    continue;
                }
                '*' => tokens.push(Token::Star),
                '?' => tokens.push(Token::One),
                '\\' => {
                    i += 1;
                    let &c = chars.get(i).ok_or_else(|| error("trailing backslash"))?;
                    tokens.push(Token::Literal(c));
                }
                '[' => {
                    let (token, next) = class(&chars, i).ok_or_else(|| error("unclosed '['"))?;
                    tokens.push(token);
                    i = next;
                    continue;
                }
                c => tokens.push(Token::Literal(c)),
            }
            i += 1;
        }
        Ok(Glob {
            pattern: pattern.to_owned(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern contains a `/` (for paths: anchored at the root rather than
    /// matching a file name at any depth).
    pub fn has_slash(&self) -> bool {
        self.pattern.contains('/')
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        // reach[j]: the tokens so far can match exactly text[..j].
        let mut reach = vec![false; text.len() + 1];
        reach[0] = true;
        for token in &self.tokens {
            let mut next = vec![false; text.len() + 1];
            match token {
                Token::Star | Token::Globstar => {
                    let crosses = matches!(token, Token::Globstar);
                    let mut open = false;
                    for j in 0..=text.len() {
                        open = reach[j] || (open && (crosses || text[j - 1] != '/'));
                        next[j] = open;
                    }
                }
                Token::Dirs => {
                    let mut started = false;
                    for j in 0..=text.len() {
                        started |= reach[j];
                        next[j] |= reach[j];
                        if started && text.get(j) == Some(&'/') {
                            next[j + 1] = true;
                        }
                    }
                }
                single => {
                    for j in 0..text.len() {
                        if reach[j] && accepts(single, text[j]) {
                            next[j + 1] = true;
                        }
                    }
                }
            }
            reach = next;
            if !reach.contains(&true) {
                return false;
            }
        }
        reach[text.len()]
    }
}

/// Whether a one-character token accepts `c`.
fn accepts(token: &Token, c: char) -> bool {
    match token {
        Token::Literal(l) => *l == c,
        Token::One => c != '/',
        Token::Class(ranges, negated) => {
            c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
        Token::Star | Token::Globstar | Token::Dirs => false,
    }
}

/// Parses the class starting at `chars[open] == '['`; returns it and the index after `]`.
fn class(chars: &[char], open: usize) -> Option<(Token, usize)> {
    let mut i = open + 1;
    let negated = matches!(chars.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let mut c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Token::Class(ranges, negated), i + 1));
        }
        first = false;
        if c == '\\' {
            i += 1;
            c = *chars.get(i)?;
        }
        let ranged = chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']');
        if ranged {
            let end = *chars.get(i + 2)?;
            ranges.push((c, end));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_documented() {
        let cases = [
            ("ghcr.io/acme/*", "ghcr.io/acme/app", true),
            ("ghcr.io/acme/*", "ghcr.io/acme/team/app", false),
            ("ghcr.io/acme/**", "ghcr.io/acme/team/app", true),
            ("python:2.*", "python:2.7", true),
            ("python:2.*", "python:3.12", false),
            ("**/Dockerfile", "Dockerfile", true),
            ("**/Dockerfile", "a/b/Dockerfile", true),
            ("legacy/**", "legacy/x/Dockerfile", true),
            ("legacy/**", "other/legacy/Dockerfile", false),
            ("svc?/Dockerfile", "svc1/Dockerfile", true),
            ("svc?/Dockerfile", "svc/Dockerfile", false),
            ("svc[0-3]", "svc2", true),
            ("svc[!0-3]", "svc2", false),
            ("svc[!0-3]", "svcx", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "axb", false),
            ("*", "", true),
            ("*.yaml", "deploy/app.yaml", false),
            ("docker.io/library/*", "docker.io/library/python", true),
        ];
        for (pattern, text, want) in cases {
            let glob = Glob::new(pattern).unwrap();
            assert_eq!(glob.matches(text), want, "{pattern} vs {text}");
        }
    }

    #[test]
    fn malformed_patterns_are_errors() {
        for bad in ["", "a[bc", "x\\"] {
            assert!(Glob::new(bad).is_err(), "{bad:?}");
        }
    }
}
