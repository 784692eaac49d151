//! extract stage, Dockerfile frontend: which `# syntax=` image BuildKit hands the file to,
//! as its `parser.DetectSyntax` finds it (`frontend/dockerfile/parser/directives.go`).
//! That search is not the parser's directive handling: it drops a byte-order mark and a
//! first `#!` line, and a directive must start its line with `#`. Pure: borrows the text.

use super::Directive;

/// The `syntax` directive BuildKit's frontend would forward to, with the byte range and
/// line of its value. `None` when there is none (the built-in frontend reads the file).
pub fn detect(src: &str) -> Option<Directive> {
    let mut offset = 0;
    if src.starts_with('\u{feff}') {
        offset = '\u{feff}'.len_utf8();
    }
    let lines = src[offset..].split_inclusive('\n');
    let mut seen: Vec<String> = Vec::new();
    let mut first = true;
    for (index, raw) in lines.enumerate() {
        let line = index + 1;
        let start = offset;
        offset += raw.len();
        // `bufio.ScanLines` drops the line break and one carriage return before it.
        let text = raw.strip_suffix('\n').unwrap_or(raw);
        let text = text.strip_suffix('\r').unwrap_or(text);
        if first && text.starts_with("#!") {
            first = false;
            continue;
        }
        first = false;
        let (name, value, at) = parse(text)?;
        let name = name.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            return None;
        }
        if seen.contains(&name) {
            // `ParseAll` stops at a repeated directive and keeps what it had.
            return None;
        }
        if name == "syntax" {
            // `DetectSyntax` keeps the first word of the value.
            let word = value.split(' ').next().unwrap_or(value);
            let begin = start + at;
            return Some(Directive {
                name,
                value: word.to_owned(),
                span: begin..begin + word.len(),
                line,
            });
        }
        seen.push(name);
    }
    None
}

/// `^#` then `\s*` (Unicode), then `([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`: the name,
/// the value and the value's byte offset in `line`.
fn parse(line: &str) -> Option<(&str, &str, usize)> {
    let rest = line.strip_prefix('#')?;
    let rest = rest.trim_start_matches(char::is_whitespace);
    let name_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let (name, after) = rest.split_at(name_len);
    let after = after.trim_start_matches(is_re_space).strip_prefix('=')?;
    let value = after.trim_matches(is_re_space);
    if value.is_empty() {
        return None;
    }
    let at = value.as_ptr() as usize - line.as_ptr() as usize;
    Some((name, value, at))
}

/// `\s` in Go's RE2: ASCII whitespace.
fn is_re_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' ')
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn syntax_as_detect_syntax_finds_it() {
        // parser/directives.go `DetectSyntax`, cases after directives_test.go
        // `TestDetectSyntax`: a shebang line is dropped, the first word is the image, a
        // line that is not a directive ends the search.
        let cases = [
            (
                "# syntax=docker/dockerfile:1\nFROM a\n",
                Some(("docker/dockerfile:1", 1)),
            ),
            (
                "#!/usr/bin/env docker-build\n# syntax=foo/bar:1\nFROM a\n",
                Some(("foo/bar:1", 2)),
            ),
            ("\u{feff}#!x\n#syntax = a/b:2 --arg\n", Some(("a/b:2", 2))),
            ("# escape=`\n# syntax=a/b\n", Some(("a/b", 2))),
            ("# check=skip=all\n#syntax=a/b\r\n", Some(("a/b", 2))),
            ("FROM a\n# syntax=a/b\n", None),
            ("# a comment\n# syntax=a/b\n", None),
            ("  # syntax=a/b\n", None),
            ("\n# syntax=a/b\n", None),
            ("#!x\n#!y\n# syntax=a/b\n", None),
            ("# escape=\\\n# escape=`\n# syntax=a/b\n", None),
        ];
        for (src, want) in cases {
            let got = detect(src);
            assert_eq!(
                got.as_ref().map(|d| (d.value.as_str(), d.line)),
                want,
                "{src:?}"
            );
            if let Some(d) = got {
                assert_eq!(&src[d.span.clone()], d.value, "{src:?}");
            }
        }
    }
}
