//! extract stage: reading Kubernetes manifests that are Go templates (Helm charts'
//! `templates/`, other `{{ }}`-templated YAML). Pure text work; never renders a template.
//!
//! A template is not YAML until rendered, and whether its raw text happens to parse depends
//! on where its actions sit. So that every such file is read the same way, each action
//! (`{{ ... }}`) is first neutralised without moving a byte: an action alone on its line (with
//! blanks around it) becomes blanks, as its output is usually a block spliced in
//! (`{{- include ... | nindent 8 }}`, `{{- if }}`, `{{- end }}`); an action inside a value
//! becomes `x`s, keeping the value a plain word. The result parses as the chart's structure
//! in all but contrived cases, with every byte offset unchanged, so spans and lines still
//! point into the original text; a value whose original bytes hold `{{` is then `templated`.
//! When even the neutralised text does not parse, the file's `image:` lines are read as text
//! instead: a templated one is a `templated` skip on its own line, never an error.

use std::borrow::Cow;

/// `text` with its Go template actions neutralised (same length, same line breaks); `text`
/// itself when it has none.
pub(super) fn neutralize(text: &str) -> Cow<'_, str> {
    if !text.contains("{{") {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end =
            memchr::memchr(b'\n', &bytes[line_start..]).map_or(bytes.len(), |i| line_start + i);
        let actions = actions_on(text, line_start, line_end);
        if !actions.is_empty() {
            let alone = only_actions(&bytes[line_start..line_end], line_start, &actions);
            let mut last_end = line_start;
            for (start, end) in actions {
                let fill = if alone { b' ' } else { b'x' };
                for byte in &mut bytes[start..end] {
                    if *byte != b'\n' && *byte != b'\r' {
                        *byte = fill;
                    }
                }
                last_end = end;
            }
            // An action may run over several lines: carry on right after it.
            line_start = if last_end > line_end {
                last_end
            } else {
                line_end + 1
            };
        } else {
            line_start = line_end + 1;
        }
    }
    // Only ASCII bytes replaced whole actions that start and end on ASCII braces.
    match String::from_utf8(bytes) {
        Ok(text) => Cow::Owned(text),
        Err(_) => Cow::Borrowed(text),
    }
}

/// The byte ranges of the actions that start on the line `[start, end)` (an action may end
/// on a later line; an unclosed one runs to the end of the text).
fn actions_on(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let Some(open) = text.get(at..end).and_then(|line| line.find("{{")) else {
            break;
        };
        let open = at + open;
        let close = text
            .get(open + 2..)
            .and_then(|rest| rest.find("}}"))
            .map_or(text.len(), |i| open + 2 + i + 2);
        out.push((open, close));
        at = close;
    }
    out
}

/// Whether the line holds nothing but actions and blanks (only its first line counts for an
/// action that runs on).
fn only_actions(line: &[u8], offset: usize, actions: &[(usize, usize)]) -> bool {
    line.iter().enumerate().all(|(i, byte)| {
        let at = offset + i;
        byte.is_ascii_whitespace() || actions.iter().any(|&(s, e)| s <= at && at < e)
    })
}

/// An `image:` key written on a line of a template that is not YAML even once neutralised:
/// its 1-based line and its value as written (quotes and comment removed).
pub(super) fn image_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let rest = line.trim_start();
        let rest = rest.strip_prefix("- ").map_or(rest, str::trim_start);
        let Some(value) = rest.strip_prefix("image:") else {
            continue;
        };
        // A ` #` starts a comment unless it sits inside an action.
        let value = match value.find(" #") {
            Some(comment)
                if value[..comment].matches("{{").count()
                    == value[..comment].matches("}}").count() =>
            {
                &value[..comment]
            }
            _ => value,
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        if !value.is_empty() {
            out.push((index + 1, value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_neutralised_in_place() {
        let cases = [
            ("a: 1\n", "a: 1\n"),
            (
                "{{- if .Values.on }}\nkind: Pod\n{{- end }}\n",
                "                    \nkind: Pod\n          \n",
            ),
            (
                "  name: {{ include \"x.fullname\" . }}\n",
                "  name: xxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
            ),
            (
                "image: \"{{ .Values.repo }}:{{ .Values.tag | default \"1\" }}\"\n",
                "image: \"xxxxxxxxxxxxxxxxxx:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n",
            ),
            (
                "      {{- toYaml . | nindent 8 }}\n",
                "                                 \n",
            ),
            (
                "{{/* a\ncomment */}}\nk: v\n",
                "      \n            \nk: v\n",
            ),
            ("é: {{ .ü }}\n", "é: xxxxxxxxx\n"),
            ("a: {{ open\n", "a: xxxxxxx\n"),
        ];
        for (text, want) in cases {
            let out = neutralize(text);
            assert_eq!(out, want, "{text:?}");
            assert_eq!(out.len(), text.len());
        }
    }

    #[test]
    fn image_lines_are_found_as_text() {
        let text = "containers:\n  - image: {{ .Values.image }}\n    name: x\n  - name: y\n    image: \"repo/app:{{ .Chart.AppVersion }}\" # pinned\nimage:\n  repository: x\n";
        assert_eq!(
            image_lines(text),
            [
                (2, "{{ .Values.image }}"),
                (5, "repo/app:{{ .Chart.AppVersion }}")
            ]
        );
    }
}
