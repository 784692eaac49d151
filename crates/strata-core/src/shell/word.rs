//! extract stage: the single left-to-right scan behind [`super::Lexer`]. It mirrors the
//! structure of BuildKit's `shellWord` (quotes, escapes, `$` forms, nested words) so the
//! two agree on odd input; it must not recurse without bound or index past the input.

use std::borrow::Cow;
use std::mem;

use super::{Env, MAX_NESTING, Platform, ShellError, is_digit, is_name_char, pattern};

/// The word list being built by `Lexer::expand_words`, following BuildKit's rules: text
/// from a variable splits at whitespace, quoted or escaped text never does.
#[derive(Debug, Default)]
pub(super) struct Words {
    done: Vec<String>,
    current: String,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if !c.is_whitespace() {
            self.add_raw_char(c);
        } else if self.in_word && !self.current.is_empty() {
            self.done.push(mem::take(&mut self.current));
            self.in_word = false;
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.current.push(c);
        self.in_word = true;
    }

    fn add_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_str(&mut self, s: &str) {
        self.current.push_str(s);
        self.in_word = true;
    }

    /// The finished words; an empty trailing word (from `""`) is dropped.
    pub(super) fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.done.push(self.current);
        }
        self.done
    }
}

/// One expansion in progress: the input, a byte cursor into it, and the names seen so far.
pub(super) struct Expander<'a> {
    src: &'a str,
    pos: usize,
    escape: char,
    platform: Platform,
    env: &'a dyn Env,
    depth: usize,
    used: Vec<String>,
    unset: Vec<String>,
}

impl<'a> Expander<'a> {
    pub(super) fn new(src: &'a str, escape: char, platform: Platform, env: &'a dyn Env) -> Self {
        // Go's text/scanner skips a byte-order mark at the very start of its input.
        let pos = if src.starts_with('\u{FEFF}') {
            '\u{FEFF}'.len_utf8()
        } else {
            0
        };
        Expander {
            src,
            pos,
            escape,
            platform,
            env,
            depth: 0,
            used: Vec::new(),
            unset: Vec::new(),
        }
    }

    /// Expands the whole input, feeding `words` when the caller wants word splitting.
    pub(super) fn run(&mut self, words: Option<&mut Words>) -> Result<String, ShellError> {
        // Without a stop character the scan always reaches the end successfully.
        Ok(self.until(None, false, words)?.unwrap_or_default())
    }

    /// The names referenced: (set, unset).
    pub(super) fn into_names(self) -> (Vec<String>, Vec<String>) {
        (self.used, self.unset)
    }

    fn peek(&self) -> Option<char> {
        self.src
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.src.len()
    }

    /// Expands up to `stop` (consumed) or the end of input. `Ok(None)` means the input ended
    /// before `stop`. With `raw`, escape characters are kept in the output (BuildKit does
    /// this for patterns, so that `\*` still means a literal star there).
    fn until(
        &mut self,
        stop: Option<char>,
        raw: bool,
        mut words: Option<&mut Words>,
    ) -> Result<Option<String>, ShellError> {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += c.len_utf8();
                return Ok(Some(out));
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    if let Some(words) = words.as_deref_mut() {
                        words.add_str(&value);
                    }
                    out.push_str(&value);
                }
                '\'' | '"' => {
                    let text = if c == '\'' {
                        self.single_quoted()?
                    } else {
                        self.double_quoted(raw)?
                    };
                    if let Some(words) = words.as_deref_mut() {
                        words.add_raw_str(&text);
                    }
                    out.push_str(&text);
                }
                _ => {
                    self.pos += c.len_utf8();
                    if c != self.escape {
                        if let Some(words) = words.as_deref_mut() {
                            words.add_char(c);
                        }
                        out.push(c);
                        continue;
                    }
                    if raw {
                        if let Some(words) = words.as_deref_mut() {
                            words.add_raw_char(c);
                        }
                        out.push(c);
                    }
                    // An escape at the very end escapes nothing and disappears.
                    let Some(escaped) = self.bump() else { break };
                    if let Some(words) = words.as_deref_mut() {
                        words.add_raw_char(escaped);
                    }
                    out.push(escaped);
                }
            }
        }
        Ok(if stop.is_some() { None } else { Some(out) })
    }

    /// `'...'`: everything up to the next `'` literally; there is no escape.
    fn single_quoted(&mut self) -> Result<Cow<'a, str>, ShellError> {
        let start = self.pos + 1;
        let src = self.src;
        let rest = src.get(start..).unwrap_or_default();
        let end = rest
            .find('\'')
            .ok_or(ShellError::UnterminatedQuote { quote: '\'' })?;
        self.pos = start + end + 1;
        Ok(Cow::Borrowed(&rest[..end]))
    }

    /// `"..."`: `$` forms expand; the escape character only escapes `"`, `$` and itself
    /// and is otherwise kept.
    fn double_quoted(&mut self, raw: bool) -> Result<Cow<'a, str>, ShellError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(ShellError::UnterminatedQuote { quote: '"' }),
                Some('"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some('$') => out.push_str(&self.dollar()?),
                Some(c) => {
                    self.pos += c.len_utf8();
                    let mut kept = c;
                    if c == self.escape {
                        if raw {
                            out.push(c);
                        }
                        match self.peek() {
                            // Dropped; the missing `"` is reported next time round.
                            None => continue,
                            Some(next) if next == '"' || next == '$' || next == self.escape => {
                                self.pos += next.len_utf8();
                                kept = next;
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(kept);
                }
            }
        }
    }

    /// Reads a name after `$` or `${`: digits only if it starts with a digit (positional
    /// parameter), one character for a special parameter, otherwise letters, digits and `_`.
    fn name(&mut self) -> &'a str {
        let src = self.src;
        let start = self.pos;
        let rest = src.get(start..).unwrap_or_default();
        let len = match rest.chars().next() {
            Some(c) if is_digit(c) => rest.find(|c: char| !is_digit(c)).unwrap_or(rest.len()),
            Some(c @ ('@' | '*' | '#' | '?' | '-' | '$' | '!')) => c.len_utf8(),
            Some(_) => rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len()),
            None => 0,
        };
        self.pos = start + len;
        &rest[..len]
    }

    /// Looks `name` up and remembers whether it was set.
    fn lookup(&mut self, name: &str) -> Option<&'a str> {
        let env = self.env;
        let value = match self.platform {
            Platform::Unix => env.get(name),
            Platform::Windows => env.get_ignore_case(name),
        };
        let seen = if value.is_some() {
            &mut self.used
        } else {
            &mut self.unset
        };
        if !name.is_empty() && !seen.iter().any(|n| n == name) {
            seen.push(name.to_owned());
        }
        value
    }

    /// A `$` form, with the cursor on the `$`.
    fn dollar(&mut self) -> Result<Cow<'a, str>, ShellError> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok(Cow::Borrowed("$"));
            }
            return Ok(Cow::Borrowed(self.lookup(name).unwrap_or_default()));
        }
        self.pos += 1;
        match self.peek() {
            None => {
                return Err(ShellError::UnterminatedExpansion {
                    name: String::new(),
                });
            }
            Some(c @ ('{' | '}' | ':')) => {
                return Err(ShellError::BadSubstitution {
                    text: format!("${{{c}"),
                });
            }
            Some(_) => {}
        }
        if self.depth >= MAX_NESTING {
            return Err(ShellError::TooDeep { limit: MAX_NESTING });
        }
        self.depth += 1;
        let result = self.braced();
        self.depth -= 1;
        result
    }

    /// The rest of `${NAME...}`, with the cursor after `${`.
    fn braced(&mut self) -> Result<Cow<'a, str>, ShellError> {
        let name = self.name();
        let Some(op) = self.bump() else {
            return Err(ShellError::UnterminatedExpansion {
                name: name.to_owned(),
            });
        };
        match op {
            '}' => Ok(Cow::Borrowed(self.lookup(name).unwrap_or_default())),
            ':' | '+' | '-' | '?' | '#' | '%' => self.modified(name, op),
            '/' => self.substituted(name),
            _ if name.is_empty() => Err(ShellError::BadSubstitution {
                text: format!("${{{op}"),
            }),
            _ => Err(ShellError::UnsupportedModifier {
                name: name.to_owned(),
                modifier: op.to_string(),
            }),
        }
    }

    /// A nested word up to `stop`. Any failure that ran into the end of the input is
    /// reported as the enclosing expansion being unterminated, as BuildKit does.
    fn nested(&mut self, stop: char, raw: bool, name: &str) -> Result<String, ShellError> {
        let unterminated = || match stop {
            '/' => ShellError::UnterminatedPattern {
                name: name.to_owned(),
            },
            _ => ShellError::UnterminatedExpansion {
                name: name.to_owned(),
            },
        };
        match self.until(Some(stop), raw, None) {
            Ok(Some(word)) => Ok(word),
            Ok(None) => Err(unterminated()),
            Err(_) if self.at_end() => Err(unterminated()),
            Err(err) => Err(err),
        }
    }

    /// `${NAME[:]<op>word}` for the `-`, `+`, `?`, `#`, `##`, `%` and `%%` forms; `first`
    /// is the character after the name.
    fn modified(&mut self, name: &'a str, first: char) -> Result<Cow<'a, str>, ShellError> {
        let (colon, op) = if first == ':' {
            (true, self.bump())
        } else {
            (false, Some(first))
        };
        let value = self.lookup(name);
        let word = self.nested('}', matches!(op, Some('#' | '%')), name)?;
        let set = value.is_some();
        let value = value.unwrap_or_default();
        // With a colon, the empty string counts as unset.
        let missing = !set || (colon && value.is_empty());
        match op {
            Some('-') if missing => Ok(Cow::Owned(word)),
            Some('-') => Ok(Cow::Borrowed(value)),
            Some('+') if missing => Ok(Cow::Borrowed("")),
            Some('+') => Ok(Cow::Owned(word)),
            Some('?') if missing => {
                let name = name.to_owned();
                Err(match (set, word.is_empty()) {
                    (false, true) => ShellError::Unset {
                        name,
                        message: "is not allowed to be unset".into(),
                    },
                    (false, false) => ShellError::Unset {
                        name,
                        message: word,
                    },
                    (true, true) => ShellError::Empty {
                        name,
                        message: "is not allowed to be empty".into(),
                    },
                    (true, false) => ShellError::Empty {
                        name,
                        message: word,
                    },
                })
            }
            Some('?') => Ok(Cow::Borrowed(value)),
            Some(op @ ('#' | '%')) => {
                // A doubled operator (`##`, `%%`) asks for the longest match.
                let (longest, pat) = match word.strip_prefix(op) {
                    Some(rest) => (true, rest),
                    None => (false, word.as_str()),
                };
                let trimmed = if op == '#' {
                    pattern::trim_prefix(value, pat, longest)?
                } else {
                    pattern::trim_suffix(value, pat, longest)?
                };
                Ok(Cow::Owned(trimmed))
            }
            _ => Err(ShellError::UnsupportedModifier {
                name: name.to_owned(),
                modifier: [Some(first), op.filter(|_| colon)]
                    .into_iter()
                    .flatten()
                    .collect(),
            }),
        }
    }

    /// `${NAME/pattern/replacement}` and `${NAME//pattern/replacement}`, with the cursor
    /// after the first `/`.
    fn substituted(&mut self, name: &'a str) -> Result<Cow<'a, str>, ShellError> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let value = self.lookup(name).unwrap_or_default();
        let pat = self.nested('/', true, name)?;
        let replacement = self.nested('}', true, name)?;
        Ok(Cow::Owned(pattern::replace(
            value,
            &pat,
            &replacement,
            all,
        )?))
    }
}
