//! ci stage: the shell scripts of CI steps (`run:`, `script:`) split into simple commands
//! of words, as a POSIX shell would split them, with the variables the script and the CI
//! system set. Pure: nothing is run; what a shell would only know at run time (a
//! command substitution, an unset variable, `$1`) is an unknown piece of its word.
//!
//! Follows the POSIX Shell Command Language where CI scripts need it: backslash-newline
//! joins lines; `'…'` is literal; `"…"` keeps `\"`, `\\`, `\$`, `` \` `` escapes and
//! expands parameters; `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME-word}`,
//! `${NAME:+word}`, `${NAME+word}`; results of unquoted expansions are split into fields
//! at blanks (assignments are not split); `#` starts a comment at the start of a word;
//! commands end at newlines, `;`, `&`, `&&`, `||`, `|`, `(` and `)`; redirections and
//! here-document bodies are dropped; `NAME=value` alone (or after `export`) sets a
//! variable for the rest of the script; reserved words at the start of a command (`if`,
//! `then`, `do`, `!`, `{`, …) are skipped so the command after them is read.

use super::text::{CLOSE, OPEN, Text};

/// Deepest nesting of `${…}`, `$(…)` the lexer follows.
const MAX_NESTING: usize = 32;

/// Variables known while reading a script; a name not here is unknown (not empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    vars: Vec<(String, Text)>,
}

impl Env {
    pub fn new() -> Env {
        Env::default()
    }

    /// Sets `name` (replacing an earlier value).
    pub fn set(&mut self, name: &str, value: Text) {
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name.to_owned(), value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Text> {
        self.vars.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// `text` with `$NAME` and `${NAME}` expanded (no quotes, no field splitting): for
    /// values that CI systems expand themselves, such as GitLab `variables:`.
    pub fn expand(&self, text: &str) -> Text {
        let mut lexer = Lexer::new(text, self.clone());
        let mut out = String::new();
        while let Some(c) = lexer.peek() {
            if c == '$' {
                let (piece, _) = lexer.dollar(0);
                out.push_str(&piece);
            } else {
                out.push(c);
                lexer.at += 1;
            }
        }
        Text::from_marked(out)
    }
}

/// One simple command: its words (assignments before it removed) and the 1-based line of
/// the script it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub line: usize,
    pub words: Vec<Text>,
}

/// Splits `script` into commands; `env` gains the variables the script sets. The script
/// is a marked string (see [`Text`]): pieces already unknown stay one unknown piece.
pub fn commands(script: &str, env: &mut Env) -> Vec<Command> {
    let mut out = Vec::new();
    let mut lexer = Lexer::new(script, env.clone());
    let mut words: Vec<Word> = Vec::new();
    let mut line = 1;
    loop {
        lexer.blanks();
        let start_line = lexer.line;
        match lexer.peek() {
            None => {
                finish(&mut words, line, lexer.env_mut(), &mut out);
                *env = lexer.env;
                break;
            }
            Some('\n') => {
                lexer.at += 1;
                lexer.line += 1;
                finish(&mut words, line, lexer.env_mut(), &mut out);
                lexer.heredocs();
            }
            Some('#') => lexer.comment(),
            Some(';' | '&' | '|' | '(' | ')') => {
                lexer.at += 1;
                if matches!(lexer.peek(), Some('&' | '|' | ';')) {
                    lexer.at += 1;
                }
                finish(&mut words, line, lexer.env_mut(), &mut out);
            }
            Some('<' | '>') => lexer.redirection(),
            Some(c) if c.is_ascii_digit() && lexer.redirection_after_digits() => {
                lexer.redirection();
            }
            Some(_) => {
                if words.is_empty() {
                    line = start_line;
                }
                let at_start = words.iter().all(|w| w.assignment.is_some());
                let word = lexer.word(at_start);
                words.push(word);
            }
        }
    }
    out
}

/// A word as lexed: its fields after splitting, and the variable it assigns.
#[derive(Debug)]
struct Word {
    fields: Vec<String>,
    assignment: Option<(String, String)>,
}

const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
    "esac",
];

fn finish(words: &mut Vec<Word>, line: usize, env: &mut Env, out: &mut Vec<Command>) {
    let taken = std::mem::take(words);
    let mut fields: Vec<String> = Vec::new();
    let mut assignments: Vec<(String, String)> = Vec::new();
    let mut started = false;
    for word in taken {
        if !started {
            if let Some(assignment) = word.assignment {
                assignments.push(assignment);
                continue;
            }
            if word.fields.len() == 1 && RESERVED.contains(&word.fields[0].as_str()) {
                continue;
            }
            started = true;
        }
        fields.extend(word.fields);
    }
    let declares = matches!(
        fields.first().map(String::as_str),
        Some("export" | "declare" | "local" | "readonly" | "typeset")
    );
    if fields.is_empty() || declares {
        for (name, value) in assignments {
            env.set(&name, Text::from_marked(value));
        }
        if declares {
            for field in fields.iter().skip(1) {
                if let Some((name, value)) = field.split_once('=')
                    && is_name(name)
                {
                    env.set(name, Text::from_marked(value.to_owned()));
                }
            }
        }
        return;
    }
    out.push(Command {
        line,
        words: fields.into_iter().map(Text::from_marked).collect(),
    });
}

fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
    line: usize,
    env: Env,
    /// Here-document delimiters waiting for the end of the line (`strip tabs`, word).
    pending: Vec<(bool, String)>,
}

impl Lexer {
    fn new(text: &str, env: Env) -> Lexer {
        Lexer {
            chars: text.chars().collect(),
            at: 0,
            line: 1,
            env,
            pending: Vec::new(),
        }
    }

    fn env(&self) -> &Env {
        &self.env
    }

    fn env_mut(&mut self) -> &mut Env {
        &mut self.env
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    /// Skips blanks and backslash-newlines.
    fn blanks(&mut self) {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(' ' | '\t' | '\r'), _) => self.at += 1,
                (Some('\\'), Some('\n')) => {
                    self.at += 2;
                    self.line += 1;
                }
                _ => return,
            }
        }
    }

    fn comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                return;
            }
            self.at += 1;
        }
    }

    /// Whether digits here are a file descriptor in front of `<` or `>`.
    fn redirection_after_digits(&self) -> bool {
        let mut i = self.at;
        while self.chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        matches!(self.chars.get(i), Some('<' | '>'))
    }

    /// Drops a redirection operator and its target word; `<<` starts a here-document.
    fn redirection(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let heredoc = self.peek() == Some('<')
            && self.peek_at(1) == Some('<')
            && self.peek_at(2) != Some('<');
        let mut strip = false;
        while let Some(c) = self.peek() {
            if matches!(c, '<' | '>' | '&' | '|') {
                self.at += 1;
            } else if c == '-' && heredoc && !strip {
                strip = true;
                self.at += 1;
            } else {
                break;
            }
        }
        self.blanks();
        if matches!(self.peek(), None | Some('\n' | ';')) {
            return;
        }
        let target = self.word(false);
        if heredoc {
            let delimiter = target.fields.first().cloned().unwrap_or_default();
            self.pending.push((strip, delimiter));
        }
    }

    /// After a newline: skips the bodies of pending here-documents.
    fn heredocs(&mut self) {
        for (strip, delimiter) in std::mem::take(&mut self.pending) {
            loop {
                let start = self.at;
                while self.peek().is_some_and(|c| c != '\n') {
                    self.at += 1;
                }
                let line: String = self.chars[start..self.at].iter().collect();
                let done = self.peek().is_none();
                if self.peek() == Some('\n') {
                    self.at += 1;
                    self.line += 1;
                }
                let line = if strip {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if line.trim_end_matches('\r') == delimiter || done {
                    break;
                }
            }
        }
    }

    /// One word, split into fields. `at_start`: an assignment may be read here.
    fn word(&mut self, at_start: bool) -> Word {
        let mut fields: Vec<String> = vec![String::new()];
        let mut started = false;
        // Quotes, escapes or literal characters: the word is a field even when empty.
        let mut literal = false;
        let mut literal_prefix = String::new();
        let mut prefix_open = true;
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>' => break,
                '\\' => match self.peek_at(1) {
                    Some('\n') => {
                        self.at += 2;
                        self.line += 1;
                    }
                    Some(next) => {
                        push(&mut fields, next);
                        self.at += 2;
                        started = true;
                        literal = true;
                        prefix_open = false;
                    }
                    None => self.at += 1,
                },
                '\'' => {
                    self.at += 1;
                    while let Some(q) = self.peek() {
                        self.at += 1;
                        if q == '\'' {
                            break;
                        }
                        if q == '\n' {
                            self.line += 1;
                        }
                        push(&mut fields, q);
                    }
                    started = true;
                    literal = true;
                    prefix_open = false;
                }
                '"' => {
                    self.at += 1;
                    let quoted = self.double_quoted();
                    push_str(&mut fields, &quoted);
                    started = true;
                    literal = true;
                    prefix_open = false;
                }
                '$' => {
                    let (piece, quoted_like) = self.dollar(0);
                    if at_start && prefix_open && literal_prefix.contains('=') || quoted_like {
                        push_str(&mut fields, &piece);
                    } else {
                        split_into(&mut fields, &piece);
                    }
                    started = true;
                    prefix_open = false;
                }
                '`' => {
                    let piece = self.backquoted();
                    push_str(&mut fields, &piece);
                    started = true;
                    prefix_open = false;
                }
                OPEN => {
                    let start = self.at;
                    while let Some(u) = self.peek() {
                        self.at += 1;
                        if u == CLOSE {
                            break;
                        }
                    }
                    let piece: String = self.chars[start..self.at].iter().collect();
                    push_str(&mut fields, &piece);
                    started = true;
                    prefix_open = false;
                }
                c => {
                    push(&mut fields, c);
                    if prefix_open {
                        literal_prefix.push(c);
                    }
                    started = true;
                    literal = true;
                    self.at += 1;
                }
            }
        }
        let only_empty_expansions = !literal && fields.iter().all(String::is_empty);
        if !started || only_empty_expansions {
            fields.clear();
        } else if fields.last().is_some_and(String::is_empty) && fields.len() > 1 {
            fields.pop();
        }
        let assignment = if at_start {
            literal_prefix
                .split_once('=')
                .filter(|(name, _)| is_name(name))
                .map(|(name, _)| {
                    let whole = fields.join(" ");
                    let value = whole
                        .split_once('=')
                        .map(|(_, v)| v.to_owned())
                        .unwrap_or_default();
                    (name.to_owned(), value)
                })
        } else {
            None
        };
        Word { fields, assignment }
    }

    /// The inside of `"…"` (the opening quote already read).
    fn double_quoted(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            match c {
                '"' => {
                    self.at += 1;
                    return out;
                }
                '\\' => match self.peek_at(1) {
                    Some('\n') => {
                        self.at += 2;
                        self.line += 1;
                    }
                    Some(next @ ('"' | '\\' | '$' | '`')) => {
                        out.push(next);
                        self.at += 2;
                    }
                    _ => {
                        out.push('\\');
                        self.at += 1;
                    }
                },
                '$' => {
                    let (piece, _) = self.dollar(0);
                    out.push_str(&piece);
                }
                '`' => out.push_str(&self.backquoted()),
                '\n' => {
                    self.line += 1;
                    out.push(c);
                    self.at += 1;
                }
                _ => {
                    out.push(c);
                    self.at += 1;
                }
            }
        }
        out
    }

    /// `` `…` ``: a command substitution, unknown.
    fn backquoted(&mut self) -> String {
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

    /// A `$` expansion at the cursor: the marked text it gives, and whether it must not be
    /// split into fields (an unknown piece is one field).
    fn dollar(&mut self, depth: usize) -> (String, bool) {
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

    /// `$(basename [--] PATH [SUFFIX])` and `$(dirname PATH)` with known operands: pure
    /// functions of their words, as POSIX specifies them. Anything else is unknown.
    fn pure_substitution(&self, inner: &str) -> Option<String> {
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

    /// `${inner}`.
    fn parameter(&self, inner: &str, written: &str, depth: usize) -> (String, bool) {
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
                    _ => operator.split_at(1),
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
}

/// POSIX `basename`: trailing slashes dropped, the last component, then `suffix` when
/// it is not the whole name.
fn basename(path: &str, suffix: Option<&str>) -> String {
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
fn dirname(path: &str) -> String {
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

fn push(fields: &mut [String], c: char) {
    if let Some(last) = fields.last_mut() {
        last.push(c);
    }
}

fn push_str(fields: &mut [String], s: &str) {
    if let Some(last) = fields.last_mut() {
        last.push_str(s);
    }
}

/// Appends an unquoted expansion's result, splitting it into fields at blanks (unknown
/// pieces are never split).
fn split_into(fields: &mut Vec<String>, piece: &str) {
    let mut in_unknown = false;
    for c in piece.chars() {
        match c {
            OPEN => in_unknown = true,
            CLOSE => in_unknown = false,
            _ => {}
        }
        if !in_unknown && matches!(c, ' ' | '\t' | '\n') {
            if fields.last().is_some_and(|f| !f.is_empty()) {
                fields.push(String::new());
            }
            continue;
        }
        push(fields, c);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
