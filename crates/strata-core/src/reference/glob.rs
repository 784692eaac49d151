//! reference stage: shell-style matching with Go `path.Match` semantics, used by
//! `familiar_match`. Pure; `*` and `?` never match `/`.

use super::ReferenceError;

/// Whether the whole of `name` matches `pattern`. `*` matches any run of non-`/`
/// characters, `?` one non-`/` character, `[...]` a class (`^` negates, `a-z` ranges),
/// and `\` escapes. A malformed pattern is an error even when it cannot match.
pub(super) fn path_match(pattern: &str, name: &str) -> Result<bool, ReferenceError> {
    check_pattern(pattern)?;
    Ok(matches(pattern, name))
}

/// Matches chunk by chunk, where a chunk is the literal stretch after a run of stars.
/// Like Go, the first place a chunk fits after a star is kept: a later star can absorb
/// whatever an earlier choice left, so no deeper backtracking is needed.
fn matches(mut pattern: &str, mut name: &str) -> bool {
    while !pattern.is_empty() {
        let rest = pattern.trim_start_matches('*');
        let star = rest.len() != pattern.len();
        let (chunk, after) = rest.split_at(chunk_len(rest));
        pattern = after;
        if star && chunk.is_empty() {
            // Trailing stars match the remainder unless it crosses a `/`.
            return !name.contains('/');
        }
        if let Some(left) = match_chunk(chunk, name)
            && (left.is_empty() || !pattern.is_empty())
        {
            name = left;
            continue;
        }
        if !star {
            return false;
        }
        let mut found = None;
        for (i, c) in name.char_indices() {
            if c == '/' {
                break;
            }
            if let Some(left) = match_chunk(chunk, &name[i + c.len_utf8()..])
                && (left.is_empty() || !pattern.is_empty())
            {
                found = Some(left);
                break;
            }
        }
        match found {
            Some(left) => name = left,
            None => return false,
        }
    }
    name.is_empty()
}

/// Length in bytes of the chunk at the start of `pattern`: up to the next `*` outside a
/// class.
fn chunk_len(pattern: &str) -> usize {
    let mut in_class = false;
    let mut chars = pattern.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => in_class = true,
            ']' => in_class = false,
            '*' if !in_class => return i,
            _ => {}
        }
    }
    pattern.len()
}

/// Matches one star-free chunk against the start of `name`, returning what is left.
fn match_chunk<'a>(chunk: &str, name: &'a str) -> Option<&'a str> {
    let mut pat = chunk.chars();
    let mut rest = name;
    while let Some(p) = pat.next() {
        let mut name_chars = rest.chars();
        let c = name_chars.next()?;
        let ok = match p {
            '[' => match_class(&mut pat, c)?,
            '?' => c != '/',
            '\\' => pat.next() == Some(c),
            _ => p == c,
        };
        if !ok {
            return None;
        }
        rest = name_chars.as_str();
    }
    Some(rest)
}

/// Consumes a class body (after `[`) through its `]`; whether `c` is in it. `None` only
/// on a malformed class, which `check_pattern` has already excluded.
fn match_class(pat: &mut std::str::Chars<'_>, c: char) -> Option<bool> {
    let negated = pat.as_str().starts_with('^');
    if negated {
        pat.next();
    }
    let mut matched = false;
    let mut first = true;
    loop {
        if pat.as_str().starts_with(']') && !first {
            pat.next();
            return Some(matched != negated);
        }
        first = false;
        let lo = class_char(pat)?;
        let hi = if pat.as_str().starts_with('-') {
            pat.next();
            class_char(pat)?
        } else {
            lo
        };
        matched |= lo <= c && c <= hi;
    }
}

/// One possibly escaped character of a class; `-` and `]` must be escaped there.
fn class_char(pat: &mut std::str::Chars<'_>) -> Option<char> {
    match pat.next()? {
        '-' | ']' => None,
        '\\' => pat.next(),
        c => Some(c),
    }
}

/// Rejects what Go reports as `ErrBadPattern`: an unterminated or empty class, a bare
/// `-` or `]` inside a class, or a trailing `\`.
fn check_pattern(pattern: &str) -> Result<(), ReferenceError> {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let ok = match c {
            '\\' => chars.next().is_some(),
            '[' => match_class(&mut chars, '\0').is_some(),
            _ => true,
        };
        if !ok {
            return Err(ReferenceError::BadPattern);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn follows_go_path_match() {
        let cases = [
            ("abc", "abc", Ok(true)),
            ("*", "abc", Ok(true)),
            ("*c", "abc", Ok(true)),
            ("a*", "a", Ok(true)),
            ("a*/b", "abc/b", Ok(true)),
            ("a*/b", "a/c/b", Ok(false)),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Ok(true)),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Ok(false)),
            ("a*b?c*x", "abxbbxdbxebxczzx", Ok(true)),
            ("ab[c]", "abc", Ok(true)),
            ("ab[b-d]", "abc", Ok(true)),
            ("ab[^c]", "abc", Ok(false)),
            ("ab[^b-d]", "abe", Ok(true)),
            ("a\\*b", "a*b", Ok(true)),
            ("a\\*b", "ab", Ok(false)),
            ("a?b", "a/b", Ok(false)),
            ("a*b", "a/b", Ok(false)),
            ("[\\]a]", "]", Ok(true)),
            ("[x\\-]", "-", Ok(true)),
            ("[", "a", Err(ReferenceError::BadPattern)),
            ("[^", "a", Err(ReferenceError::BadPattern)),
            ("[]a]", "]", Err(ReferenceError::BadPattern)),
            ("[-]", "-", Err(ReferenceError::BadPattern)),
            ("[a-]", "a", Err(ReferenceError::BadPattern)),
            ("a\\", "a", Err(ReferenceError::BadPattern)),
            ("*x", "xxx", Ok(true)),
            ("", "", Ok(true)),
            ("", "a", Ok(false)),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(path_match(pattern, name), want, "{pattern:?} vs {name:?}");
        }
    }
}
