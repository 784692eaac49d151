//! extract stage: the exec (JSON array) form of Dockerfile instructions, read the way
//! BuildKit reads it: Go's `json.Decoder` takes the first JSON value and ignores what
//! follows; a valid array holding anything but strings is an error, anything that is not
//! valid JSON falls back to the shell form. Pure, bounded recursion.

/// What the arguments of an instruction are, seen as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Json {
    /// Not a JSON array: the shell form.
    Shell,
    /// A valid JSON array with a non-string element (BuildKit refuses this).
    NotStringArray,
    /// A JSON array of strings.
    Strings(Vec<String>),
}

/// Deeper nesting than this is treated as invalid JSON (shell form).
const MAX_DEPTH: usize = 512;

pub(crate) fn is_string_array(args: &str) -> bool {
    let trimmed = args.trim_start_matches(super::lines::is_space);
    trimmed.starts_with('[') && matches!(parse(args), Json::Strings(_))
}

pub(crate) fn parse(args: &str) -> Json {
    let trimmed = args.trim_start_matches(super::lines::is_space);
    if !trimmed.starts_with('[') {
        return Json::Shell;
    }
    let mut reader = Reader {
        bytes: trimmed.as_bytes(),
        pos: 0,
    };
    match reader.top_array() {
        Some(Ok(strings)) => Json::Strings(strings),
        Some(Err(())) => Json::NotStringArray,
        None => Json::Shell,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// `None`: invalid JSON. `Some(Err)`: valid, but not all strings.
    fn top_array(&mut self) -> Option<Result<Vec<String>, ()>> {
        if !self.eat(b'[') {
            return None;
        }
        let mut out = Vec::new();
        let mut all_strings = true;
        self.skip_ws();
        if self.eat(b']') {
            return Some(Ok(out));
        }
        loop {
            self.skip_ws();
            if self.peek() == Some(b'"') {
                out.push(self.string()?);
            } else {
                self.value(1)?;
                all_strings = false;
            }
            self.skip_ws();
            if self.eat(b',') {
                continue;
            }
            if self.eat(b']') {
                break;
            }
            return None;
        }
        Some(if all_strings { Ok(out) } else { Err(()) })
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'[' => {
                self.pos += 1;
                self.skip_ws();
                if self.eat(b']') {
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    self.skip_ws();
                    if self.eat(b',') {
                        continue;
                    }
                    return self.eat(b']').then_some(());
                }
            }
            b'{' => {
                self.pos += 1;
                self.skip_ws();
                if self.eat(b'}') {
                    return Some(());
                }
                loop {
                    self.skip_ws();
                    self.string()?;
                    self.skip_ws();
                    if !self.eat(b':') {
                        return None;
                    }
                    self.value(depth + 1)?;
                    self.skip_ws();
                    if self.eat(b',') {
                        continue;
                    }
                    return self.eat(b'}').then_some(());
                }
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        if self.bytes.get(self.pos..self.pos + word.len())? == word {
            self.pos += word.len();
            Some(())
        } else {
            None
        }
    }

    fn number(&mut self) -> Option<()> {
        self.eat(b'-');
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.eat(b'.') {
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        let value = u32::from_str_radix(text, 16).ok()?;
        self.pos += 4;
        Some(value)
    }

    /// A JSON string, decoded as Go does (invalid surrogates become U+FFFD).
    fn string(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&String::from_utf8_lossy(&self.bytes[start..self.pos]));
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let escaped = self.peek()?;
                    self.pos += 1;
                    match escaped {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            let save = self.pos;
            if self.eat(b'\\')
                && self.eat(b'u')
                && let Some(second) = self.hex4()
                && (0xDC00..0xE000).contains(&second)
            {
                let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                return Some(char::from_u32(c).unwrap_or('\u{fffd}'));
            }
            self.pos = save;
            return Some('\u{fffd}');
        }
        Some(char::from_u32(first).unwrap_or('\u{fffd}'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(
            parse(r#"["a", "b"]"#),
            Json::Strings(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse("[]"), Json::Strings(vec![]));
        assert_eq!(
            parse(r#"[ "echo", [ "nested json" ] ]"#),
            Json::NotStringArray
        );
        assert_eq!(parse(r#"["a", 1]"#), Json::NotStringArray);
        assert_eq!(parse(r#"['a']"#), Json::Shell);
        assert_eq!(parse(r#"["a"] trailing"#), Json::Strings(vec!["a".into()]));
        assert_eq!(parse(r#"["unterminated]"#), Json::Shell);
        assert_eq!(parse("echo hi"), Json::Shell);
        assert_eq!(
            parse(r#"["\u0000\ud83d\ude00"]"#),
            Json::Strings(vec!["\u{0}\u{1F600}".into()])
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&deep), Json::Shell);
    }
}
