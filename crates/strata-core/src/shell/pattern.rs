//! extract stage: the shell patterns of `${VAR#pat}`, `${VAR%pat}` and `${VAR/pat/repl}`.
//! BuildKit turns them into Go regular expressions (`*` is `.*` or `.*?`, `?` is `.`, no
//! bracket expressions); this matches the same strings with a small breadth-first
//! simulation, linear in pattern times input, so hostile patterns cannot stall a scan.
//! Like Go's `.`, wildcards do not match a newline.

use std::mem;

use super::{ShellError, is_name_char};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`: one character.
    Any,
    /// `*`: any run of characters, preferring the longest or the shortest.
    Star,
}

/// A parsed pattern, ready to match.
#[derive(Debug)]
struct Glob {
    tokens: Vec<Token>,
    longest: bool,
}

/// Removes the shortest (or, with `longest`, the longest) prefix of `value` matching
/// `pattern`; `value` is returned unchanged when nothing matches.
pub(super) fn trim_prefix(value: &str, pattern: &str, longest: bool) -> Result<String, ShellError> {
    let glob = Glob::parse(pattern.chars(), pattern, longest)?;
    Ok(match glob.find(value, 0, true, &mut Scratch::default()) {
        Some((_, end)) => value[end..].to_owned(),
        None => value.to_owned(),
    })
}

/// Removes the shortest (or longest) suffix of `value` matching `pattern`. Like BuildKit,
/// this reverses pattern and value and trims a prefix.
pub(super) fn trim_suffix(value: &str, pattern: &str, longest: bool) -> Result<String, ShellError> {
    let glob = Glob::parse(reverse_pattern(pattern).into_iter(), pattern, longest)?;
    let reversed: String = value.chars().rev().collect();
    Ok(
        match glob.find(&reversed, 0, true, &mut Scratch::default()) {
            Some((_, end)) => reversed[end..].chars().rev().collect(),
            None => value.to_owned(),
        },
    )
}

/// Replaces the first (or every) leftmost-longest match of `pattern` in `value`. Go's
/// `ReplaceAllString` expands `$0` and `${0}` in the replacement to the match (other
/// `$name`s to nothing, `$$` to `$`); replacing only the first match splices it in as is.
pub(super) fn replace(
    value: &str,
    pattern: &str,
    replacement: &str,
    all: bool,
) -> Result<String, ShellError> {
    let glob = Glob::parse(pattern.chars(), pattern, true)?;
    let mut scratch = Scratch::default();
    if !all {
        return Ok(match glob.find(value, 0, false, &mut scratch) {
            Some((start, end)) => [&value[..start], replacement, &value[end..]].concat(),
            None => value.to_owned(),
        });
    }
    // Go's replaceAll: an empty match right after a match is skipped, and the search
    // always moves on by at least one character.
    let mut out = String::with_capacity(value.len());
    let (mut last_end, mut search) = (0, 0);
    while search <= value.len() {
        let Some((start, end)) = glob.find(value, search, false, &mut scratch) else {
            break;
        };
        out.push_str(&value[last_end..start]);
        if end > last_end || start == 0 {
            expand_template(replacement, &value[start..end], &mut out);
        }
        last_end = end;
        let width = value[search..].chars().next().map_or(1, char::len_utf8);
        search = if search + width > end {
            search + width
        } else {
            end
        };
    }
    out.push_str(&value[last_end..]);
    Ok(out)
}

/// BuildKit's `reversePattern`: reverses the characters but keeps each `\x` pair in order.
fn reverse_pattern(pattern: &str) -> Vec<char> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = chars.clone();
    let last = chars.len().saturating_sub(1);
    let mut i = 0;
    while i < chars.len() {
        let to = last - i;
        if chars[i] == '\\' && i != last {
            // `to >= 1` because `i < last`.
            out[to - 1] = '\\';
            out[to] = chars[i + 1];
            i += 2;
        } else {
            out[to] = chars[i];
            i += 1;
        }
    }
    out
}

/// Go's template expansion for `Regexp.ReplaceAllString` when the expression has no groups.
fn expand_template(template: &str, matched: &str, out: &mut String) {
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        match group_reference(rest) {
            Some((name, after)) => {
                if name == "0" {
                    out.push_str(matched);
                }
                rest = after;
            }
            // Not a reference: the `$` stays as text.
            None => out.push('$'),
        }
    }
    out.push_str(rest);
}

/// Splits `name...` or `{name}...` off the text after a `$`.
fn group_reference(text: &str) -> Option<(&str, &str)> {
    let (braced, body) = match text.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, text),
    };
    let len = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
    if len == 0 {
        return None;
    }
    let (name, after) = body.split_at(len);
    if braced {
        return Some((name, after.strip_prefix('}')?));
    }
    Some((name, after))
}

/// Thread lists reused across searches.
#[derive(Debug, Default)]
struct Scratch {
    current: Threads,
    next: Threads,
    stack: Vec<Step>,
}

/// A thread is waiting at a token: `Token` to match it, `Loop` to let a star eat one more
/// character. `start` is where its match began.
#[derive(Debug, Clone, Copy)]
enum Thread {
    Token { at: usize, start: usize },
    Loop { at: usize, start: usize },
}

/// Pending work while adding a thread: visit a token index, or emit a star's loop thread
/// (after its exit, when the star prefers the shortest match).
#[derive(Debug, Clone, Copy)]
enum Step {
    Visit(usize),
    Loop(usize),
}

/// Threads in priority order, with a generation-stamped set of visited token indexes.
#[derive(Debug, Default)]
struct Threads {
    list: Vec<Thread>,
    seen: Vec<u32>,
    stamp: u32,
}

impl Threads {
    fn reset(&mut self, tokens: usize) {
        self.list.clear();
        self.seen.resize(tokens + 1, 0);
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.fill(0);
            self.stamp = 1;
        }
    }

    /// Marks `at` as visited; false if it already was.
    fn visit(&mut self, at: usize) -> bool {
        match self.seen.get_mut(at) {
            Some(mark) if *mark != self.stamp => {
                *mark = self.stamp;
                true
            }
            _ => false,
        }
    }
}

impl Glob {
    /// Parses a pattern the way BuildKit's `convertShellPatternToRegex` reads it. `source`
    /// is only for the error message.
    fn parse(
        chars: impl Iterator<Item = char>,
        source: &str,
        longest: bool,
    ) -> Result<Self, ShellError> {
        let mut chars = chars.peekable();
        // Go's text/scanner skips a leading byte-order mark.
        chars.next_if_eq(&'\u{FEFF}');
        let mut tokens = Vec::new();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::Star,
                '?' => Token::Any,
                '\\' => {
                    // `\}` and `\/` were escaped for `${...}`: the backslash is not the pattern's.
                    if matches!(chars.peek(), Some('}' | '/')) {
                        continue;
                    }
                    match chars.next() {
                        Some(escaped @ ('*' | '?' | '\\')) => Token::Literal(escaped),
                        _ => {
                            return Err(ShellError::InvalidPattern {
                                pattern: source.to_owned(),
                            });
                        }
                    }
                }
                other => Token::Literal(other),
            });
        }
        Ok(Glob { tokens, longest })
    }

    /// The leftmost match starting at or after byte `from` (only at `from` when
    /// `anchored`), choosing among matches at that start the way a backtracking regex
    /// engine would: each star as long (or as short) as possible, left to right.
    fn find(
        &self,
        hay: &str,
        from: usize,
        anchored: bool,
        scratch: &mut Scratch,
    ) -> Option<(usize, usize)> {
        let Scratch {
            current,
            next,
            stack,
        } = scratch;
        let end_token = self.tokens.len();
        current.reset(end_token);
        let mut found = None;
        let mut pos = from;
        loop {
            if found.is_none() && (!anchored || pos == from) {
                self.add(current, stack, 0, pos);
            }
            if current.list.is_empty() {
                break;
            }
            let ch = hay.get(pos..).and_then(|rest| rest.chars().next());
            next.reset(end_token);
            for &thread in &current.list {
                match thread {
                    Thread::Token { at, start } if at == end_token => {
                        // Lower-priority threads can only give a less preferred match.
                        found = Some((start, pos));
                        break;
                    }
                    Thread::Token { at, start } => {
                        let matches = match (self.tokens.get(at), ch) {
                            (Some(Token::Literal(want)), Some(c)) => *want == c,
                            (Some(Token::Any), Some(c)) => c != '\n',
                            _ => false,
                        };
                        if matches {
                            self.add(next, stack, at + 1, start);
                        }
                    }
                    Thread::Loop { at, start } => {
                        if ch.is_some_and(|c| c != '\n') {
                            self.add(next, stack, at, start);
                        }
                    }
                }
            }
            let Some(c) = ch else { break };
            pos += c.len_utf8();
            mem::swap(current, next);
        }
        found
    }

    /// Adds the thread for token `at` and everything reachable from it without consuming
    /// input, in priority order. Iterative, so a pattern of many stars cannot overflow the
    /// stack.
    fn add(&self, threads: &mut Threads, stack: &mut Vec<Step>, at: usize, start: usize) {
        stack.clear();
        stack.push(Step::Visit(at));
        while let Some(step) = stack.pop() {
            match step {
                Step::Loop(at) => threads.list.push(Thread::Loop { at, start }),
                Step::Visit(at) if !threads.visit(at) => {}
                Step::Visit(at) if self.tokens.get(at) == Some(&Token::Star) => {
                    if self.longest {
                        threads.list.push(Thread::Loop { at, start });
                        stack.push(Step::Visit(at + 1));
                    } else {
                        stack.push(Step::Loop(at));
                        stack.push(Step::Visit(at + 1));
                    }
                }
                Step::Visit(at) => threads.list.push(Thread::Token { at, start }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversing_keeps_escape_pairs() {
        let cases = [
            (r"a\*c", r"c\*a"),
            (r"\\\ab", r"b\a\\"),
            (r"ab\", r"\ba"),
            (r"👽\🚀🖖", r"🖖\🚀👽"),
            (r"\\b", r"b\\"),
            ("", ""),
        ];
        for (pattern, want) in cases {
            let got: String = reverse_pattern(pattern).into_iter().collect();
            assert_eq!(got, want, "pattern {pattern:?}");
        }
    }

    #[test]
    fn bad_escapes_are_rejected() {
        for pattern in [r"\", r"\x", r"\\\"] {
            assert!(
                trim_prefix("v", pattern, true).is_err(),
                "pattern {pattern:?}"
            );
        }
        for pattern in [r"\*", r"\?", r"\\", r"\}", r"\/", "(()[]{^$.|"] {
            assert!(
                trim_prefix("v", pattern, true).is_ok(),
                "pattern {pattern:?}"
            );
        }
    }

    #[test]
    fn template_expands_only_the_whole_match() {
        let cases = [
            ("<$0>", "<m>"),
            ("<${0}>", "<m>"),
            ("$$0", "$0"),
            ("$1$x${x}", ""),
            ("$00", ""),
            ("$", "$"),
            ("$-", "$-"),
            ("${0", "${0"),
        ];
        for (template, want) in cases {
            let mut out = String::new();
            expand_template(template, "m", &mut out);
            assert_eq!(out, want, "template {template:?}");
        }
    }

    #[test]
    fn stars_prefer_longest_or_shortest() {
        let cases = [
            ("xxyy", "*x*y", false, "y"),
            ("xxyy", "*x*y", true, ""),
            ("xxyy", "*", false, "xxyy"),
            ("xxyy", "*", true, ""),
            ("a\nb", "*", true, "\nb"),
            ("???y", r"?\?", false, "?y"),
        ];
        for (value, pattern, longest, want) in cases {
            assert_eq!(
                trim_prefix(value, pattern, longest).as_deref(),
                Ok(want),
                "{pattern:?}"
            );
        }
    }
}
