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

mod expand;
mod lexer;

use super::text::Text;

use lexer::Lexer;

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
