//! ci stage: shell expansions for the lexer — `$NAME`, `${NAME…}` with its default,
//! alternative and pattern-removal operators, command substitutions (unknown, but for
//! the pure `basename` and `dirname`) and backquotes. Pure string work; nesting is
//! bounded by [`MAX_NESTING`].

use super::super::text::Text;
use super::lexer::Lexer;
use super::{Env, commands, is_name};

/// Deepest nesting of `${…}`, `$(…)` the lexer follows.
const MAX_NESTING: usize = 32;

impl Lexer {
    /// A `$` expansion at the cursor: the marked text it gives, and whether it must not be
    /// split into fields (an unknown piece is one field).
    pub(super) fn dollar(&mut self, depth: usize) -> (String, bool) {
        let start = self.at;
        self.at += 1;
        match self.peek() {
            Some('{') => {
                self.at += 1;
                let inner_start = self.at;
                let mut nesting = 1;
                while let Some(c) = self.peek() {
                    match c {
                        '{' => nesting += 1,
                        '}' => {
                            nesting -= 1;
                            if nesting == 0 {
                                break;
                            }
                        }
                        '\n' => self.line += 1,
                        _ => {}
                    }
                    self.at += 1;
                }
                let inner: String = self.chars[inner_start..self.at].iter().collect();
                self.at = (self.at + 1).min(self.chars.len());
                let written: String = self.chars[start..self.at].iter().collect();
                self.parameter(&inner, &written, depth)
            }
            Some('(') => {
                let mut nesting = 0;
                while let Some(c) = self.peek() {
                    self.at += 1;
                    match c {
                        '(' => nesting += 1,
                        ')' => {
                            nesting -= 1;
                            if nesting == 0 {
                                break;
                            }
                        }
                        '\n' => self.line += 1,
                        '\'' => {
                            while self.peek().is_some_and(|q| q != '\'') {
                                self.at += 1;
                            }
                            self.at += 1;
                        }
                        _ => {}
                    }
                }
                let end = self.at.min(self.chars.len());
                let written: String = self.chars[start..end].iter().collect();
                let inner = written
                    .get(2..written.len().saturating_sub(1))
                    .unwrap_or("");
                match self.pure_substitution(inner) {
                    Some(value) => (value, false),
                    None => (Text::marked(&written), true),
                }
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let name_start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    self.at += 1;
                }
                let name: String = self.chars[name_start..self.at].iter().collect();
                let written: String = self.chars[start..self.at].iter().collect();
                match self.env().get(&name) {
                    Some(value) => (value.as_marked().to_owned(), !value.is_known()),
                    None => (Text::marked(&written), true),
                }
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                self.at += 1;
                let written: String = self.chars[start..self.at].iter().collect();
                (Text::marked(&written), true)
            }
            Some('\'') => {
                // $'…': ANSI-C quoting, taken literally.
                self.at += 1;
                let mut out = String::new();
                while let Some(c) = self.peek() {
                    self.at += 1;
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
                (out, true)
            }
            _ => ("$".to_owned(), true),
        }
    }
    /// `${inner}`.
    pub(super) fn parameter(&self, inner: &str, written: &str, depth: usize) -> (String, bool) {
        let unknown = || (Text::marked(written), true);
        let name_end = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let (name, operator) = inner.split_at(name_end);
        if !is_name(name) || depth > MAX_NESTING {
            return unknown();
        }
        let value = self.env().get(name);
        let word = |w: &str| Env::expand(self.env(), w);
        match operator {
            "" => value.map_or_else(unknown, |v| (v.as_marked().to_owned(), !v.is_known())),
            _ => {
                let (op, rest) = match operator.get(..2) {
                    Some(two @ (":-" | ":+" | ":=" | ":?" | "%%" | "##")) => (two, &operator[2..]),
                    // The first character, whatever its width.
                    _ => operator.split_at(operator.chars().next().map_or(0, char::len_utf8)),
                };
                if matches!(op, "%" | "%%" | "#" | "##") {
                    let (Some(value), Some(pattern)) = (
                        value.and_then(Text::value),
                        word(rest).value().map(str::to_owned),
                    ) else {
                        return unknown();
                    };
                    return match remove(value, &pattern, op) {
                        Some(cut) => (cut, false),
                        None => unknown(),
                    };
                }
                let set = value.is_some();
                let non_empty = value.is_some_and(|v| !v.is_empty());
                let known_empty = value.is_some_and(|v| v.value() == Some(""));
                let given = |v: &Text| (v.as_marked().to_owned(), !v.is_known());
                match op {
                    ":-" | ":=" if non_empty => value.map_or_else(unknown, given),
                    ":-" | ":=" if known_empty || !set => {
                        if set {
                            given(&word(rest))
                        } else {
                            unknown()
                        }
                    }
                    "-" | "=" if set => value.map_or_else(unknown, given),
                    ":+" if non_empty => given(&word(rest)),
                    ":+" if known_empty => (String::new(), false),
                    "+" if set => given(&word(rest)),
                    _ => unknown(),
                }
            }
        }
    }
    /// `$(basename [--] PATH [SUFFIX])` and `$(dirname PATH)` with known operands: pure
    /// functions of their words, as POSIX specifies them. Anything else is unknown.
    pub(super) fn pure_substitution(&self, inner: &str) -> Option<String> {
        if inner.contains(['|', ';', '&', '(', '`', '>', '<']) {
            return None;
        }
        let mut env = self.env.clone();
        let command = commands(inner, &mut env).into_iter().next()?;
        let words: Option<Vec<&str>> = command.words.iter().map(Text::value).collect();
        let words = words?;
        let operands: Vec<&str> = words
            .iter()
            .skip(1)
            .copied()
            .filter(|w| *w != "--")
            .collect();
        match (words.first().copied()?, operands.as_slice()) {
            ("basename", [path]) => Some(basename(path, None)),
            ("basename", [path, suffix]) => Some(basename(path, Some(suffix))),
            ("dirname", [path]) => Some(dirname(path)),
            _ => None,
        }
    }
    /// `` `…` ``: a command substitution, unknown.
    pub(super) fn backquoted(&mut self) -> String {
        let start = self.at;
        self.at += 1;
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                '\\' => self.at += 1,
                '`' => break,
                '\n' => self.line += 1,
                _ => {}
            }
        }
        let written: String = self.chars[start..self.at.min(self.chars.len())]
            .iter()
            .collect();
        Text::marked(&written)
    }
}

/// POSIX `basename`: trailing slashes dropped, the last component, then `suffix` when
/// it is not the whole name.
pub(super) fn basename(path: &str, suffix: Option<&str>) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() {
            String::new()
        } else {
            "/".to_owned()
        };
    }
    let name = trimmed.rsplit('/').next().unwrap_or(trimmed);
    match suffix {
        Some(s) if !s.is_empty() && name != s => name.strip_suffix(s).unwrap_or(name).to_owned(),
        _ => name.to_owned(),
    }
}

/// POSIX `dirname`.
pub(super) fn dirname(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() {
            ".".to_owned()
        } else {
            "/".to_owned()
        };
    }
    match trimmed.rfind('/') {
        None => ".".to_owned(),
        Some(at) => {
            let dir = trimmed[..at].trim_end_matches('/');
            if dir.is_empty() {
                "/".to_owned()
            } else {
                dir.to_owned()
            }
        }
    }
}

/// `${x%pat}`, `${x%%pat}`, `${x#pat}`, `${x##pat}`: the shortest or longest suffix or
/// prefix matching a pattern of `*`, `?` and literal characters removed. `None`: a
/// pattern with brackets or escapes, which is left unknown.
fn remove(value: &str, pattern: &str, op: &str) -> Option<String> {
    if pattern.contains(['[', '\\']) {
        return None;
    }
    let chars: Vec<char> = value.chars().collect();
    let cuts: Vec<usize> = (0..=chars.len()).collect();
    let suffix = op.starts_with('%');
    let longest = op.len() == 2;
    let candidates: Box<dyn Iterator<Item = &usize>> = match (suffix, longest) {
        (true, false) => Box::new(cuts.iter().rev()),
        (true, true) | (false, false) => Box::new(cuts.iter()),
        (false, true) => Box::new(cuts.iter().rev()),
    };
    for &at in candidates {
        let (kept, removed): (String, String) = if suffix {
            (chars[..at].iter().collect(), chars[at..].iter().collect())
        } else {
            (chars[at..].iter().collect(), chars[..at].iter().collect())
        };
        if glob(pattern, &removed) {
            return Some(kept);
        }
    }
    Some(value.to_owned())
}

/// Whole-string match of `*`, `?` and literal characters.
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let mut reachable = vec![false; t.len() + 1];
    reachable[0] = true;
    for c in &p {
        let mut next = vec![false; t.len() + 1];
        for i in 0..=t.len() {
            if !reachable[i] {
                continue;
            }
            match c {
                '*' => {
                    for slot in next.iter_mut().skip(i) {
                        *slot = true;
                    }
                }
                '?' if i < t.len() => next[i + 1] = true,
                c if i < t.len() && t[i] == *c => next[i + 1] = true,
                _ => {}
            }
        }
        reachable = next;
    }
    reachable[t.len()]
}
