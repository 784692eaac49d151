//! extract stage, Dockerfile layer 1: physical lines to logical instructions, as
//! BuildKit's parser reads them (BOM, parser directives, comments, line continuations
//! with the active escape character, heredoc bodies). Pure: borrows the source text and
//! records byte offsets; never allocates for an instruction that fits on one line.

use std::borrow::Cow;
use std::ops::Range;

use super::words::heredocs_in_line;
use super::{Directive, Heredoc, Instruction, ParseError, Piece};

/// BuildKit's scanner refuses physical lines of this many bytes or more.
pub const MAX_LINE: usize = 65_536;

/// One physical line: its content without the line break, and where it sits.
#[derive(Clone, Copy)]
struct Physical<'a> {
    /// Content, without trailing `\r` and `\n` characters.
    text: &'a str,
    /// Byte offset of `text` in the source.
    start: usize,
    /// 1-based line number.
    number: usize,
    /// Byte offset just past the line break (start of the next line).
    next: usize,
}

struct Cursor<'a> {
    src: &'a str,
    pos: usize,
    number: usize,
}

impl<'a> Cursor<'a> {
    fn next_line(&mut self) -> Result<Option<Physical<'a>>, ParseError> {
        if self.pos >= self.src.len() {
            return Ok(None);
        }
        let rest = &self.src.as_bytes()[self.pos..];
        let (len, next) = match memchr_newline(rest) {
            Some(i) => (i, self.pos + i + 1),
            None => (rest.len(), self.src.len()),
        };
        self.number += 1;
        if len >= MAX_LINE {
            return Err(ParseError::new(
                self.number,
                format!(
                    "dockerfile line greater than max allowed size of {}",
                    MAX_LINE - 1
                ),
            ));
        }
        let start = self.pos;
        let mut text = &self.src[start..start + len];
        // BuildKit trims every trailing \r and \n (TrimRight "\r\n").
        text = text.trim_end_matches(['\r', '\n']);
        self.pos = next;
        Ok(Some(Physical {
            text,
            start,
            number: self.number,
            next,
        }))
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

/// Whitespace as Go's `unicode.IsSpace`.
pub(crate) fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c > '\u{ff}' && c.is_whitespace())
}

fn trim_leading_space(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

fn is_comment(line: &str) -> bool {
    trim_leading_space(line).starts_with('#')
}

/// Parser directives: `# name = value` lines before anything else.
struct Directives {
    done: bool,
    escape: char,
    found: Vec<Directive>,
}

impl Directives {
    /// Looks at a (left-trimmed) line; ends directive parsing at the first line that is
    /// not a known directive.
    fn look(&mut self, line: &str, offset: usize, number: usize) -> Result<(), ParseError> {
        if self.done {
            return Ok(());
        }
        let Some((name, value)) = directive_parts(line) else {
            self.done = true;
            return Ok(());
        };
        let key = name.to_ascii_lowercase();
        if !matches!(key.as_str(), "syntax" | "escape" | "check") {
            self.done = true;
            return Ok(());
        }
        if self.found.iter().any(|d| d.name == key) {
            return Err(ParseError::new(
                number,
                format!("only one {key} parser directive can be used"),
            ));
        }
        if key == "escape" {
            self.escape = match value {
                "\\" => '\\',
                "`" => '`',
                _ => {
                    return Err(ParseError::new(
                        number,
                        format!("invalid escape token '{value}' does not match ` or \\"),
                    ));
                }
            };
        }
        let start = offset + (value.as_ptr() as usize - line.as_ptr() as usize);
        self.found.push(Directive {
            name: key,
            value: value.to_owned(),
            span: start..start + value.len(),
            line: number,
        });
        Ok(())
    }
}

/// Matches `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` by hand.
fn directive_parts(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?;
    let rest = rest.trim_start_matches(is_regex_space);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches(is_regex_space).strip_prefix('=')?;
    let value = rest.trim_matches(is_regex_space);
    if value.is_empty() {
        return None;
    }
    Some((name, value))
}

/// `\s` in Go's RE2: ASCII whitespace only.
fn is_regex_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

/// If `line` ends with a continuation (escape char, then only spaces or tabs, not itself
/// escaped), returns the line without it.
fn strip_continuation(line: &str, escape: char) -> Option<&str> {
    // The escape character is `\` or `` ` `` (the directive allows nothing else), so one
    // byte compare per line does it; this runs for every physical line of every file.
    let trimmed = line.trim_end_matches([' ', '\t']);
    let escape = u8::try_from(escape).ok()?;
    let bytes = trimmed.as_bytes();
    if bytes.last() != Some(&escape) {
        return None;
    }
    let body = &trimmed[..trimmed.len() - 1];
    if body.as_bytes().last() == Some(&escape) {
        None
    } else {
        Some(body)
    }
}

/// The state of a scan: everything [`super::parse`] returns.
pub(crate) struct Scanned<'a> {
    pub(crate) escape: char,
    pub(crate) directives: Vec<Directive>,
    pub(crate) instructions: Vec<Instruction<'a>>,
    pub(crate) warnings: Vec<String>,
}

pub(crate) fn scan(src: &str) -> Result<Scanned<'_>, ParseError> {
    let mut cursor = Cursor {
        src,
        pos: 0,
        number: 0,
    };
    if src.starts_with('\u{feff}') {
        cursor.pos = '\u{feff}'.len_utf8();
    }
    let mut directives = Directives {
        done: false,
        escape: '\\',
        found: Vec::new(),
    };
    let mut instructions = Vec::new();
    let mut warnings = Vec::new();

    while let Some(first) = cursor.next_line()? {
        let trimmed = trim_leading_space(first.text);
        let offset = first.start + (first.text.len() - trimmed.len());
        directives.look(trimmed, offset, first.number)?;
        if trimmed.starts_with('#') || trimmed.is_empty() {
            // Comments and blank lines between instructions.
            continue;
        }
        let escape = directives.escape;
        let mut pieces: Vec<Piece> = Vec::new();
        let joined: Cow<'_, str>;
        let mut end_line = first.number;
        let mut end_offset = first.next;
        let mut empty_continuation = false;
        match strip_continuation(trimmed, escape) {
            None => joined = Cow::Borrowed(trimmed),
            Some(head) => {
                let mut text = String::from(head);
                pieces.push(Piece {
                    joined: 0,
                    source: offset,
                    len: head.len(),
                });
                let mut open = true;
                while open {
                    let Some(line) = cursor.next_line()? else {
                        break;
                    };
                    directives.look(line.text, line.start, line.number)?;
                    end_line = line.number;
                    end_offset = line.next;
                    if is_comment(line.text) {
                        continue;
                    }
                    if trim_leading_space(line.text).is_empty() {
                        empty_continuation = true;
                        continue;
                    }
                    let body = match strip_continuation(line.text, escape) {
                        Some(body) => body,
                        None => {
                            open = false;
                            line.text
                        }
                    };
                    pieces.push(Piece {
                        joined: text.len(),
                        source: line.start,
                        len: body.len(),
                    });
                    text.push_str(body);
                }
                joined = Cow::Owned(text);
            }
        }
        if empty_continuation {
            warnings.push(format!(
                "[WARNING]: Empty continuation line found in:\n    {joined}"
            ));
        }
        if joined.trim_matches(is_space).is_empty() {
            // A lone continuation character: nothing to parse.
            continue;
        }
        let mut instruction = Instruction::new(joined, offset, pieces, first.number, end_line);
        let heredoc_names = if instruction.can_contain_heredoc() {
            heredocs_in_line(&instruction.text).map_err(|m| ParseError::new(first.number, m))?
        } else {
            Vec::new()
        };
        for mut heredoc in heredoc_names {
            let body_start = end_offset;
            let mut terminated = false;
            while let Some(line) = cursor.next_line()? {
                end_line = line.number;
                end_offset = line.next;
                let candidate = if heredoc.chomp {
                    line.text.trim_start_matches('\t')
                } else {
                    line.text
                };
                if candidate == heredoc.name {
                    heredoc.body = body_start..line.start;
                    terminated = true;
                    break;
                }
            }
            if !terminated {
                return Err(ParseError::new(
                    first.number,
                    "unterminated heredoc".to_owned(),
                ));
            }
            instruction.heredocs.push(heredoc);
        }
        instruction.end_line = end_line;
        instruction.end = end_offset;
        instructions.push(instruction);
        // Directives end at the first instruction.
        directives.done = true;
    }
    if instructions.is_empty() {
        return Err(ParseError::new(
            cursor.number,
            "file with no instructions".to_owned(),
        ));
    }
    Ok(Scanned {
        escape: directives.escape,
        directives: directives.found,
        instructions,
        warnings,
    })
}

/// Heredoc bodies as text (for tests and for `COPY <<EOF` content).
pub fn heredoc_content<'a>(src: &'a str, heredoc: &Heredoc) -> &'a str {
    src.get(heredoc.body.clone()).unwrap_or("")
}

/// A heredoc's body as BuildKit hands it to the instruction (a `COPY` file, a `RUN`
/// script): with `<<-` its leading tabs are removed, as BuildKit's instruction layer does
/// with `parser.ChompHeredocContent` (frontend/dockerfile/instructions/parse.go).
pub fn heredoc_text<'a>(src: &'a str, heredoc: &Heredoc) -> Cow<'a, str> {
    let body = heredoc_content(src, heredoc);
    if heredoc.chomp {
        chomp_heredoc_content(body)
    } else {
        Cow::Borrowed(body)
    }
}

/// BuildKit's `ChompHeredocContent` (frontend/dockerfile/parser/parser.go): the regexp
/// `(?m)^\t+` replaced by nothing. Only tabs go, only at the start of a line, and only
/// `\n` starts a line (Go's multi-line `^`): spaces stay, and so do tabs after a lone `\r`.
pub fn chomp_heredoc_content(body: &str) -> Cow<'_, str> {
    if !body.starts_with('\t') && !body.contains("\n\t") {
        return Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    for line in body.split_inclusive('\n') {
        out.push_str(line.trim_start_matches('\t'));
    }
    Cow::Owned(out)
}

/// The whole source range an instruction covers, from keyword to the end of its last
/// line (heredoc bodies included).
pub fn instruction_range(instruction: &Instruction<'_>) -> Range<usize> {
    instruction.start..instruction.end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directive_forms() {
        assert_eq!(directive_parts("# escape=`"), Some(("escape", "`")));
        assert_eq!(
            directive_parts("#syntax = docker/dockerfile:1 "),
            Some(("syntax", "docker/dockerfile:1"))
        );
        assert_eq!(directive_parts("# a comment"), None);
        assert_eq!(directive_parts("#=x"), None);
    }

    #[test]
    fn chomp_removes_leading_tabs_of_every_line_like_buildkit() {
        // Expected values follow Go's regexp `(?m)^\t+` (BuildKit's ChompHeredocContent);
        // the first row is BuildKit's TestHeredocChomp.
        let cases = [
            ("\thello\n\tworld\n", "hello\nworld\n"),
            ("\t\t\tdeep\n", "deep\n"),
            ("no tabs\n", "no tabs\n"),
            ("inner\ttab\n\tlead\ttab\n", "inner\ttab\nlead\ttab\n"),
            (" \tspace first\n", " \tspace first\n"),
            ("\t\n\t", "\n"),
            ("a\r\n\tb\r\n", "a\r\nb\r\n"),
            ("a\r\tb", "a\r\tb"),
            ("", ""),
        ];
        for (body, want) in cases {
            assert_eq!(chomp_heredoc_content(body), want, "{body:?}");
        }
    }

    #[test]
    fn heredoc_text_chomps_only_dash_heredocs() {
        let src = "FROM a\nRUN <<-X <<Y\n\tone\n\tX\n\ttwo\nY\n";
        let scanned = scan(src).unwrap();
        let heredocs = &scanned.instructions[1].heredocs;
        let texts: Vec<_> = heredocs.iter().map(|h| heredoc_text(src, h)).collect();
        assert_eq!(texts, ["one\n", "\ttwo\n"]);
        // The raw body keeps its tabs, as BuildKit's parser reports it.
        assert_eq!(heredoc_content(src, &heredocs[0]), "\tone\n");
    }

    #[test]
    fn continuation_needs_unescaped_escape() {
        assert_eq!(strip_continuation("RUN a \\", '\\'), Some("RUN a "));
        assert_eq!(strip_continuation("RUN a \\  \t", '\\'), Some("RUN a "));
        assert_eq!(strip_continuation("RUN a \\\\", '\\'), None);
        assert_eq!(strip_continuation("\\", '\\'), Some(""));
        assert_eq!(strip_continuation("RUN a `", '`'), Some("RUN a "));
    }
}
