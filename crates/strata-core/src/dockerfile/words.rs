//! extract stage, Dockerfile layer 2: splitting a logical line into keyword, builder
//! flags (`--platform=…`) and arguments, and finding heredoc delimiters, as BuildKit's
//! parser does. Every piece is also returned as a byte range of the logical line, so the
//! extractor can map what it rewrites back to the source. Pure.

use std::ops::Range;

use super::Heredoc;
use super::lines::is_space;

/// `[\t\v\f\r ]`: the separator BuildKit splits keyword and whitespace lists on.
pub fn is_token_space(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// A builder flag such as `--from=build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The flag as BuildKit sees it (quotes and escapes removed): `--from=build`.
    pub text: String,
    /// Byte range of the flag word in the logical line, as written.
    pub raw: Range<usize>,
}

impl Flag {
    /// The flag's name without dashes (`from`), and its value (`build`) if any.
    pub fn parts(&self) -> (&str, Option<&str>) {
        let body = self.text.trim_start_matches('-');
        match body.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (body, None),
        }
    }
}

/// Splits a logical line into keyword, flags and arguments (BuildKit's `splitCommand`).
/// `args` is a sub-slice of `line`, so its offset is `args.as_ptr() - line.as_ptr()`.
pub fn split_command(line: &str) -> (&str, Vec<Flag>, &str) {
    let trimmed = line.trim_matches(is_space);
    let keyword_end = trimmed.find(is_token_space).unwrap_or(trimmed.len());
    let keyword = &trimmed[..keyword_end];
    let rest = trimmed[keyword_end..].trim_start_matches(is_token_space);
    if rest.is_empty() {
        return (keyword, Vec::new(), rest);
    }
    let base = offset_in(line, rest);
    let (args, mut flags) = extract_flags(rest);
    for flag in &mut flags {
        flag.raw = flag.raw.start + base..flag.raw.end + base;
    }
    (keyword, flags, args.trim_matches(is_space))
}

/// Byte offset of `part` (a sub-slice) inside `whole`.
pub fn offset_in(whole: &str, part: &str) -> usize {
    (part.as_ptr() as usize)
        .saturating_sub(whole.as_ptr() as usize)
        .min(whole.len())
}

/// BuildKit's `extractBuilderFlags`: leading words starting with `--`, up to the first
/// other word or a lone `--`. Returns the rest of the line and the flags.
fn extract_flags(line: &str) -> (&str, Vec<Flag>) {
    let mut flags = Vec::new();
    let mut chars = line.char_indices().peekable();
    loop {
        while chars.peek().is_some_and(|&(_, c)| is_space(c)) {
            chars.next();
        }
        let Some(&(start, _)) = chars.peek() else {
            return ("", flags);
        };
        if !line[start..].starts_with("--") {
            return (&line[start..], flags);
        }
        let mut word = String::new();
        let mut blank_ok = false;
        let mut quote: Option<char> = None;
        let mut end = line.len();
        while let Some((i, c)) = chars.next() {
            match quote {
                None if is_space(c) => {
                    end = i;
                    break;
                }
                None if c == '\'' || c == '"' => {
                    quote = Some(c);
                    blank_ok = true;
                }
                Some(q) if c == q => quote = None,
                _ if c == '\\' => match chars.next() {
                    Some((_, next)) => word.push(next),
                    None => quote = None,
                },
                _ => word.push(c),
            }
        }
        if word == "--" {
            return (&line[end..], flags);
        }
        if blank_ok || !word.is_empty() {
            flags.push(Flag {
                text: word,
                raw: start..end,
            });
        }
    }
}

/// BuildKit's `parseWords`: whitespace-separated words, quotes and escapes kept as
/// written. Returns each word with its byte range in `rest`.
pub fn parse_words(rest: &str, escape: char) -> Vec<(String, Range<usize>)> {
    WordSpans::new(rest, escape)
        .map(|range| {
            let mut word = &rest[range.clone()];
            // An escape character at the very end of the input is dropped.
            if range.end == rest.len() && word.ends_with(escape) && !ends_escaped(word, escape) {
                word = &word[..word.len() - escape.len_utf8()];
            }
            (word.to_owned(), range)
        })
        .collect()
}

/// Whether the final escape character of `word` is itself escaped (`\\`).
fn ends_escaped(word: &str, escape: char) -> bool {
    let trailing = word.chars().rev().take_while(|&c| c == escape).count();
    trailing % 2 == 0
}

/// The byte ranges of BuildKit's `parseWords` words, without copying. A word is raw
/// text: quotes and escapes stay in it; whitespace inside quotes or after an escape does
/// not split.
#[derive(Debug, Clone)]
pub struct WordSpans<'a> {
    rest: &'a str,
    pos: usize,
    escape: char,
}

impl<'a> WordSpans<'a> {
    pub fn new(rest: &'a str, escape: char) -> Self {
        Self {
            rest,
            pos: 0,
            escape,
        }
    }
}

impl Iterator for WordSpans<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        let rest = self.rest;
        let mut chars = rest[self.pos..]
            .char_indices()
            .map(|(i, c)| (i + self.pos, c));
        let start = loop {
            let (i, c) = chars.next()?;
            if !is_space(c) {
                break (i, c);
            }
        };
        let mut quote: Option<char> = None;
        let mut skip_next = false;
        let mut c = start.1;
        let mut i = start.0;
        // `blank_ok` words (`""`) still count: BuildKit keeps an empty quoted word.
        loop {
            if skip_next {
                skip_next = false;
            } else {
                match quote {
                    None if is_space(c) => {
                        self.pos = i;
                        return Some(start.0..i);
                    }
                    None if c == '\'' || c == '"' => quote = Some(c),
                    None if c == self.escape => skip_next = true,
                    Some(q) if c == self.escape && q != '\'' => skip_next = true,
                    Some(q) if c == q => quote = None,
                    _ => {}
                }
            }
            match chars.next() {
                Some((ni, nc)) => {
                    i = ni;
                    c = nc;
                }
                None => {
                    self.pos = rest.len();
                    return Some(start.0..rest.len());
                }
            }
        }
    }
}

/// Splits a line into shell words with quotes and escapes kept raw (for heredoc search).
fn raw_shell_words(line: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        if quote.is_none() && is_space(c) {
            if let Some(s) = start.take() {
                words.push(&line[s..i]);
            }
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        match quote {
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '\\' => {
                chars.next();
            }
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push(&line[s..]);
    }
    words
}

/// The heredocs a `RUN`/`COPY`/`ADD` line opens, in order.
pub(crate) fn heredocs_in_line(line: &str) -> Result<Vec<Heredoc>, String> {
    if !line.contains("<<") {
        return Ok(Vec::new());
    }
    let words = raw_shell_words(line);
    let mut docs = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        i += 1;
        let bare_operator = word
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .strip_prefix("<<")
            .is_some_and(|r| r.is_empty() || r == "-");
        let candidate;
        let text = if bare_operator && i < words.len() {
            candidate = format!("{word} {}", words[i]);
            i += 1;
            candidate.as_str()
        } else {
            word
        };
        if let Some(doc) = parse_heredoc(text)? {
            docs.push(doc);
        }
    }
    Ok(docs)
}

/// Parses one heredoc word (`<<EOF`, `3<<-'EOF'`, `<< EOF`). `Ok(None)` when the word is
/// not a heredoc.
pub fn parse_heredoc(word: &str) -> Result<Option<Heredoc>, String> {
    let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let Some(rest) = word[digits..].strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.trim_start_matches(['\t', '\n', '\u{c}', '\r', ' ']);
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let fd = word[..digits].parse::<u32>().unwrap_or(0);
    let (name, quoted) = match heredoc_name(rest)? {
        Some(parts) => parts,
        None => return Ok(None),
    };
    Ok(Some(Heredoc {
        name,
        fd,
        expand: !quoted,
        chomp,
        body: 0..0,
    }))
}

/// Removes quotes and escapes from a delimiter word. `Ok(None)` when it is several words.
/// The flag says whether any part of it was quoted.
fn heredoc_name(rest: &str) -> Result<Option<(String, bool)>, String> {
    let mut name = String::new();
    let mut quoted = false;
    let mut chars = rest.chars();
    let mut seen_space = false;
    while let Some(c) = chars.next() {
        if is_space(c) {
            seen_space = true;
            continue;
        }
        if seen_space {
            return Ok(None);
        }
        match c {
            '\'' => {
                quoted = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => name.push(q),
                        None => return Err(
                            "unexpected end of statement while looking for matching single-quote"
                                .into(),
                        ),
                    }
                }
            }
            '"' => {
                quoted = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$')) => name.push(e),
                            Some(e) => {
                                name.push('\\');
                                name.push(e);
                            }
                            None => return Err("unexpected end of statement while looking for matching double-quote".into()),
                        },
                        Some(q) => name.push(q),
                        None => return Err("unexpected end of statement while looking for matching double-quote".into()),
                    }
                }
            }
            '\\' => {
                if let Some(e) = chars.next() {
                    name.push(e);
                }
            }
            _ => name.push(c),
        }
    }
    Ok(Some((name, quoted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keyword_flags_args() {
        let (cmd, flags, args) = split_command("COPY --from=build --chown=a:b src /dst");
        assert_eq!(cmd, "COPY");
        assert_eq!(
            flags.iter().map(|f| f.text.as_str()).collect::<Vec<_>>(),
            ["--from=build", "--chown=a:b"]
        );
        assert_eq!(args, "src /dst");
        assert_eq!(
            &"COPY --from=build --chown=a:b src /dst"[flags[0].raw.clone()],
            "--from=build"
        );
        let (_, flags, args) = split_command("COPY --doit=true -- foo /tmp/");
        assert_eq!(flags.len(), 1);
        assert_eq!(args, "foo /tmp/");
    }

    #[test]
    fn heredoc_words() {
        let h = parse_heredoc("<<-'EOF'").unwrap().unwrap();
        assert_eq!((h.name.as_str(), h.chomp, h.expand), ("EOF", true, false));
        assert_eq!(parse_heredoc("<<EOF sh").unwrap(), None);
        assert_eq!(parse_heredoc("<<<EOF").unwrap(), None);
        assert!(parse_heredoc("<<'EOF").is_err());
        let names: Vec<_> = heredocs_in_line("RUN << -EOF")
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect();
        assert_eq!(names, ["-EOF"]);
    }
}
