//! extract stage: BuildKit's Dockerfile word expansion (`$VAR`, `${VAR:-word}`, quotes,
//! escapes), used to resolve `FROM`, `--platform`, `COPY --from` and `ARG` defaults against
//! build arguments. Pure string work: no I/O, no regular expressions, no backtracking and
//! no unbounded recursion, and no panic on any input, since Dockerfiles are untrusted.
//!
//! The behaviour follows `frontend/dockerfile/shell/lex.go` in moby/buildkit, including its
//! quirks: positional and special parameters (`$1`, `$@`) are looked up like any other name,
//! an escape character at the end of a word is dropped, and `${VAR//pat/repl}` expands `$0`
//! in the replacement as Go's regexp does.
//! Known, deliberate differences:
//! * Outside ASCII, a variable name is made of characters Rust calls alphabetic or numeric,
//!   where Go asks for Unicode letters (L*) and decimal digits (Nd); the two sets only differ
//!   on letter-like numbers and some combining marks, which never appear in real names.
//! * Expansions nested more than [`MAX_NESTING`] deep are an error instead of recursing
//!   further (BuildKit would keep going on Go's growable stack).

mod env;
mod pattern;
#[cfg(test)]
mod tests;
mod word;

pub use env::Env;

use word::{Expander, Words};

/// How deep `${A:-${B:-...}}` may nest before expansion gives up with
/// [`ShellError::TooDeep`]. Real Dockerfiles nest two or three levels.
pub const MAX_NESTING: usize = 64;

/// Which BuildKit build the expansion imitates. The only difference is how variable names
/// are compared: BuildKit built for Windows ignores case (`$pwd` finds `PWD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Platform {
    /// Names are compared exactly (BuildKit on Linux and macOS).
    #[default]
    Unix,
    /// Names are compared ignoring case (BuildKit on Windows).
    Windows,
}

/// A Dockerfile word expander: BuildKit's `shell.Lex` with its default options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lexer {
    escape: char,
    platform: Platform,
}

/// The result of [`Lexer::expand`]: the expanded word and the variables it referenced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expansion {
    /// The word after expansion and quote removal.
    pub value: String,
    /// Names that were referenced and set (possibly to the empty string), in order of first
    /// reference, without duplicates.
    pub used: Vec<String>,
    /// Names that were referenced but not set, in order of first reference, without
    /// duplicates. A name with a default (`${FOO:-x}`) still counts as referenced, as in
    /// BuildKit. Positional and special parameters (`$1`, `$@`) are never set, so they show
    /// up here; the empty name of `${:-x}`-like oddities does not.
    pub unset: Vec<String>,
}

/// Why a word could not be expanded. BuildKit rejects the same words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShellError {
    /// A `'` or `"` without its closing quote.
    #[error("unterminated quoted string: missing closing {quote}")]
    UnterminatedQuote {
        /// The quote character that was opened.
        quote: char,
    },
    /// `${NAME...` without its closing `}`.
    #[error("unterminated variable expansion ${{{name}")]
    UnterminatedExpansion {
        /// The variable name (empty for a bare `${`).
        name: String,
    },
    /// `${NAME/pattern` without the `/` that ends the pattern.
    #[error("unterminated pattern in ${{{name}/...: missing '/'")]
    UnterminatedPattern {
        /// The variable name.
        name: String,
    },
    /// `${}`, `${{`, `${:` or a `${` followed by something that is not a name.
    #[error("bad substitution: {text}")]
    BadSubstitution {
        /// The start of the offending expansion, e.g. `${}`.
        text: String,
    },
    /// `${NAME<modifier>...}` with a modifier BuildKit does not know (`:=`, `=`, `^`, ...).
    #[error("unsupported modifier {modifier:?} in expansion of {name}")]
    UnsupportedModifier {
        /// The variable name.
        name: String,
        /// The modifier as written, e.g. `:=`.
        modifier: String,
    },
    /// `${NAME?message}` or `${NAME:?message}` with `NAME` unset.
    #[error("{name}: {message}")]
    Unset {
        /// The variable name.
        name: String,
        /// The word after `?`, or BuildKit's default "is not allowed to be unset".
        message: String,
    },
    /// `${NAME:?message}` with `NAME` set to the empty string.
    #[error("{name}: {message}")]
    Empty {
        /// The variable name.
        name: String,
        /// The word after `:?`, or BuildKit's default "is not allowed to be empty".
        message: String,
    },
    /// A `#`, `%` or `/` pattern with a backslash before anything but `*`, `?`, `\`, `}`
    /// or `/`, or ending in a lone backslash.
    #[error(
        "invalid pattern {pattern:?} in substitution: a backslash may only escape *, ?, \\, }} or /"
    )]
    InvalidPattern {
        /// The pattern after expansion.
        pattern: String,
    },
    /// Expansions nested deeper than [`MAX_NESTING`].
    #[error("variable expansions nested more than {limit} deep")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
}

impl Lexer {
    /// A lexer for Unix semantics with the given escape character: `\` by default, or the
    /// character named by a `# escape=` parser directive.
    pub fn new(escape: char) -> Self {
        Lexer {
            escape,
            platform: Platform::Unix,
        }
    }

    /// The same lexer imitating BuildKit built for `platform`.
    pub fn with_platform(self, platform: Platform) -> Self {
        Lexer { platform, ..self }
    }

    /// The escape character.
    pub fn escape(&self) -> char {
        self.escape
    }

    /// The platform whose BuildKit this lexer imitates.
    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// Expands variables in `word` and removes quotes and escapes, keeping whitespace as it
    /// is (BuildKit's `ProcessWordWithMatches`).
    pub fn expand(&self, word: &str, env: &dyn Env) -> Result<Expansion, ShellError> {
        if self.is_plain(word) {
            return Ok(Expansion {
                value: word.to_owned(),
                ..Expansion::default()
            });
        }
        let mut expander = Expander::new(word, self.escape, self.platform, env);
        let value = expander.run(None)?;
        let (used, unset) = expander.into_names();
        Ok(Expansion { value, used, unset })
    }

    /// Expands `word` like [`Lexer::expand`], then splits it at unquoted, unescaped
    /// whitespace, including whitespace that came out of a variable's value (BuildKit's
    /// `ProcessWords`). Empty words are dropped, even quoted ones (`""`).
    pub fn expand_words(&self, word: &str, env: &dyn Env) -> Result<Vec<String>, ShellError> {
        if self.is_plain(word) {
            return Ok(word.split_whitespace().map(str::to_owned).collect());
        }
        let mut words = Words::default();
        Expander::new(word, self.escape, self.platform, env).run(Some(&mut words))?;
        Ok(words.finish())
    }

    /// True when `word` has nothing to expand or remove, so it stands for itself. The
    /// common case for `FROM` lines; a leading byte-order mark is dropped by the scanner, so
    /// such words take the slow path.
    fn is_plain(&self, word: &str) -> bool {
        !word.starts_with('\u{FEFF}') && !word.contains(['$', '\'', '"', self.escape])
    }
}

impl Default for Lexer {
    /// The lexer for a Dockerfile without an `# escape=` directive.
    fn default() -> Self {
        Lexer::new('\\')
    }
}

/// A character that may continue a variable name after its first character (Go:
/// `unicode.IsLetter || unicode.IsDigit`, plus `_`).
fn is_name_char(c: char) -> bool {
    c == '_' || is_letter(c) || is_digit(c)
}

/// Go's `unicode.IsLetter`, exact for ASCII (see the module notes for the rest).
fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c.is_alphabetic()
    }
}

/// Go's `unicode.IsDigit`, exact for ASCII (see the module notes for the rest).
fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        c.is_numeric()
    }
}
