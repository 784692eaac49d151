//! extract stage: Dockerfile parsing with BuildKit's semantics. `lines` turns physical
//! lines into logical instructions (directives, continuations, heredocs), `words` splits
//! arguments and flags the way BuildKit's parser does, `ast` rebuilds BuildKit's parse
//! tree (for validation and its test dumps). No I/O, no variable expansion here: that is
//! the extractor's business (`crate::extract::dockerfile`).

pub mod ast;
pub mod command;
mod json;
mod lines;
pub mod platform;
mod suggest;
pub mod syntax;
pub mod words;

use std::borrow::Cow;
use std::ops::Range;

pub use lines::{MAX_LINE, heredoc_content, instruction_range};
pub use lines::{chomp_heredoc_content, heredoc_text};
pub(crate) use suggest::with_hint;

/// A parse failure BuildKit would also report, with the 1-based line it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(line: usize, message: String) -> Self {
        Self { line, message }
    }
}

/// A parser directive (`# syntax=…`, `# escape=…`, `# check=…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Lower-cased name.
    pub name: String,
    pub value: String,
    /// Byte range of the value in the source.
    pub span: Range<usize>,
    pub line: usize,
}

/// A heredoc attached to an instruction (`RUN <<EOF`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heredoc {
    pub name: String,
    /// File descriptor written before `<<` (0 when none).
    pub fd: u32,
    /// False when any part of the delimiter word was quoted.
    pub expand: bool,
    /// `<<-`: leading tabs are ignored on the terminator line and stripped from the body
    /// by [`heredoc_text`] (`body` keeps them, as BuildKit's parser does).
    pub chomp: bool,
    /// Byte range of the body in the source (terminator line excluded).
    pub body: Range<usize>,
}

/// Where a slice of an instruction's logical text came from, for instructions that span
/// several physical lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Offset in the logical text.
    pub joined: usize,
    /// Offset in the source.
    pub source: usize,
    pub len: usize,
}

/// One logical instruction: continuation lines joined, comment lines dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction<'a> {
    /// The logical line, starting at the keyword (borrowed when it is one physical line).
    pub text: Cow<'a, str>,
    /// Source offset of the keyword.
    pub start: usize,
    /// Source offset just past the instruction's last line (heredoc bodies included).
    pub end: usize,
    /// For multi-line instructions, how `text` maps back to the source; empty when
    /// `text` is a verbatim slice starting at `start`.
    pub pieces: Vec<Piece>,
    pub start_line: usize,
    pub end_line: usize,
    pub heredocs: Vec<Heredoc>,
}

impl<'a> Instruction<'a> {
    fn new(
        text: Cow<'a, str>,
        start: usize,
        pieces: Vec<Piece>,
        start_line: usize,
        end_line: usize,
    ) -> Self {
        Self {
            text,
            start,
            end: start,
            pieces,
            start_line,
            end_line,
            heredocs: Vec::new(),
        }
    }

    /// The keyword as written (`FROM`, `from`, …).
    pub fn keyword(&self) -> &str {
        let text = self.text.trim_start_matches(lines::is_space);
        let end = text.find(words::is_token_space).unwrap_or(text.len());
        &text[..end]
    }

    /// Whether the keyword is `name` (ASCII case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.keyword().eq_ignore_ascii_case(name)
    }

    /// Maps a range of `text` to the source. `None` when it crosses a line continuation.
    pub fn source_range(&self, range: Range<usize>) -> Option<Range<usize>> {
        if self.pieces.is_empty() {
            return Some(self.start + range.start..self.start + range.end);
        }
        let piece = self.pieces.iter().rev().find(|p| p.joined <= range.start)?;
        if range.end > piece.joined + piece.len {
            return None;
        }
        let delta = range.start - piece.joined;
        let start = piece.source + delta;
        Some(start..start + range.len())
    }

    /// The 1-based line of the source offset `offset` (inside this instruction).
    pub fn line_of(&self, src: &str, offset: usize) -> usize {
        let from = self.start.min(offset);
        let slice = src.as_bytes().get(from..offset).unwrap_or(&[]);
        self.start_line + slice.iter().filter(|&&b| b == b'\n').count()
    }

    fn can_contain_heredoc(&self) -> bool {
        // Cheap test first: almost no instruction has a heredoc.
        if !self.text.contains("<<") {
            return false;
        }
        let (cmd, _, args) = words::split_command(&self.text);
        let (cmd, args) = if cmd.eq_ignore_ascii_case("onbuild") {
            let (inner, _, inner_args) = words::split_command(args);
            (inner, inner_args)
        } else {
            (cmd, args)
        };
        let capable = ["run", "copy", "add"]
            .iter()
            .any(|k| cmd.eq_ignore_ascii_case(k));
        capable && !json::is_string_array(args)
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile<'a> {
    pub source: &'a str,
    /// The escape character in force (`\` or `` ` ``).
    pub escape: char,
    pub directives: Vec<Directive>,
    pub instructions: Vec<Instruction<'a>>,
    /// BuildKit's warnings (empty continuation lines).
    pub warnings: Vec<String>,
}

impl<'a> Dockerfile<'a> {
    /// The directive called `name`, if present.
    pub fn directive(&self, name: &str) -> Option<&Directive> {
        self.directives.iter().find(|d| d.name == name)
    }
}

/// Parses a Dockerfile the way BuildKit's parser does, including the checks its
/// per-instruction parsers make (`ENV` needs a value, JSON arrays hold only strings…).
pub fn parse(source: &str) -> Result<Dockerfile<'_>, ParseError> {
    let scanned = lines::scan(source)?;
    for instruction in &scanned.instructions {
        ast::validate(instruction, scanned.escape)?;
    }
    Ok(Dockerfile {
        source,
        escape: scanned.escape,
        directives: scanned.directives,
        instructions: scanned.instructions,
        warnings: scanned.warnings,
    })
}
