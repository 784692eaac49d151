//! ci stage: the list inputs of Docker's GitHub Actions (`tags:`, `build-args:`,
//! `platforms:`, metadata-action's `images:` and `tags:`), split as
//! `Util.getInputList` in docker/actions-toolkit splits them. Pure.
//!
//! The input is read as CSV (`csv-parse` with `relaxQuotes`, `relaxColumnCount`,
//! `skipEmptyLines`): one record per line, fields separated by commas, a field that starts
//! with `"` quoted (`""` inside is a quote). With `ignoreComma` a record is one item (its
//! fields joined again with commas); without, every field is an item. Items are trimmed
//! and empty ones dropped. metadata-action also drops lines that start with `#`.
//! Unknown pieces of the text are never split.

use super::text::{CLOSE, OPEN, Text};

/// How an input is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListOptions {
    /// One item per line, commas kept (`ignoreComma: true`).
    pub ignore_comma: bool,
    /// Lines starting with `#` are comments (metadata-action's `comment: '#'`).
    pub comments: bool,
}

/// The items of a list input.
pub fn input_list(input: &Text, options: ListOptions) -> Vec<Text> {
    let mut out = Vec::new();
    for line in input.as_marked().split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || (options.comments && line.starts_with('#')) {
            continue;
        }
        let fields = fields(line);
        if options.ignore_comma {
            out.push(fields.join(","));
        } else {
            out.extend(fields);
        }
    }
    out.into_iter()
        .map(|item| item.trim().to_owned())
        .filter(|item| !item.is_empty())
        .map(Text::from_marked)
        .collect()
}

/// One CSV record's fields (unknown pieces kept whole).
pub fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            OPEN => {
                field.push(c);
                for inner in chars.by_ref() {
                    field.push(inner);
                    if inner == CLOSE {
                        break;
                    }
                }
                at_start = false;
            }
            '"' if at_start && field.trim().is_empty() => {
                field.clear();
                quoted = true;
                at_start = false;
            }
            '"' if quoted => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            }
            ',' if !quoted => {
                out.push(std::mem::take(&mut field));
                at_start = true;
            }
            c => {
                field.push(c);
                if !c.is_whitespace() {
                    at_start = false;
                }
            }
        }
    }
    out.push(field);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn split(text: &str, ignore_comma: bool, comments: bool) -> Vec<String> {
        input_list(
            &Text::known(text),
            ListOptions {
                ignore_comma,
                comments,
            },
        )
        .iter()
        .map(Text::display)
        .collect()
    }

    /// docker/actions-toolkit `Util.getList`: newlines and commas both separate unless
    /// `ignoreComma`, items are trimmed, empty ones dropped (its util.test.ts cases).
    #[test]
    fn lines_and_commas_split_as_the_toolkit_does() {
        assert_eq!(
            split("user/app:latest\nuser/app:1.0.0, user/app:1", false, false),
            ["user/app:latest", "user/app:1.0.0", "user/app:1"]
        );
        assert_eq!(
            split("A=1,2\n\n  B=x y  \n", true, false),
            ["A=1,2", "B=x y"]
        );
        assert_eq!(split("\"A=a,b\",C=c", false, false), ["A=a,b", "C=c"]);
        assert_eq!(
            split("# comment\ntype=raw,value=x", true, true),
            ["type=raw,value=x"]
        );
        assert_eq!(split("", false, false), Vec::<String>::new());
    }

    #[test]
    fn unknown_pieces_are_not_split() {
        let mut text = Text::known("a,");
        text.push(&Text::unknown("${{ format('{0},{1}', x, y) }}"));
        let items = input_list(
            &text,
            ListOptions {
                ignore_comma: false,
                comments: false,
            },
        );
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].unknowns(), ["${{ format('{0},{1}', x, y) }}"]);
    }
}
