//! ci stage: the shell lexer under [`super::commands`] — words, quotes, escapes,
//! parameter expansion, command substitutions (unknown but for `basename` and
//! `dirname`), here-documents and redirections. Pure string work over a char buffer; no
//! recursion on input depth (expansions are [`super::expand`]'s).

use super::super::text::{CLOSE, OPEN};
use super::{Env, Word, is_name};

pub(super) struct Lexer {
    pub(super) chars: Vec<char>,
    pub(super) at: usize,
    pub(super) line: usize,
    pub(super) env: Env,
    /// Here-document delimiters waiting for the end of the line (`strip tabs`, word).
    pending: Vec<(bool, String)>,
}

impl Lexer {
    pub(super) fn new(text: &str, env: Env) -> Lexer {
        Lexer {
            chars: text.chars().collect(),
            at: 0,
            line: 1,
            env,
            pending: Vec::new(),
        }
    }

    pub(super) fn env(&self) -> &Env {
        &self.env
    }

    pub(super) fn env_mut(&mut self) -> &mut Env {
        &mut self.env
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    /// Skips blanks and backslash-newlines.
    pub(super) fn blanks(&mut self) {
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

    pub(super) fn comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                return;
            }
            self.at += 1;
        }
    }

    /// Whether digits here are a file descriptor in front of `<` or `>`.
    pub(super) fn redirection_after_digits(&self) -> bool {
        let mut i = self.at;
        while self.chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        matches!(self.chars.get(i), Some('<' | '>'))
    }

    /// Drops a redirection operator and its target word; `<<` starts a here-document.
    pub(super) fn redirection(&mut self) {
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
    pub(super) fn heredocs(&mut self) {
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
    pub(super) fn word(&mut self, at_start: bool) -> Word {
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
