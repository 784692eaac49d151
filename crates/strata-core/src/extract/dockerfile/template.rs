//! extract stage, Dockerfile templates: a file whose instructions are template markers
//! (`{{ … }}`, `{% … %}`, `<% … %>`) is the source a generator renders into Dockerfiles,
//! not a Dockerfile BuildKit could read. Pure: looks at instruction text only.

use crate::dockerfile::Instruction;

/// What opens a template directive in the usual template languages: Go templates,
/// Jinja, Mustache and Handlebars (`{{`), Jinja statements and comments (`{%`, `{#`),
/// ERB and EJS (`<%`).
const MARKERS: [&str; 4] = ["{{", "{%", "{#", "<%"];

/// The first instruction that is a template marker, or a `FROM` or `ARG` whose value is
/// one (`FROM {{ base_image }}`), with its line. `RUN` lines may well hold `{{` (Go
/// templates in `docker inspect --format`), so only the keyword and those two count.
pub(super) fn marker(instructions: &[Instruction<'_>]) -> Option<(usize, String)> {
    instructions.iter().find_map(|instruction| {
        let keyword = instruction.keyword();
        let templated = starts_with_marker(keyword)
            || ((instruction.is("from") || instruction.is("arg"))
                && holds_marker(&instruction.text));
        templated.then(|| (instruction.start_line, first_line(&instruction.text)))
    })
}

/// The same test on raw lines, for a file the parser already refused (a template's
/// `{% for %}` blocks can leave a heredoc open or a line unbalanced).
pub(super) fn marker_in_lines(src: &str) -> Option<(usize, String)> {
    src.lines().enumerate().find_map(|(i, line)| {
        let trimmed = line.trim_start();
        starts_with_marker(trimmed).then(|| (i + 1, first_line(trimmed)))
    })
}

/// `{{` or `{%` inside a value; `${{ … }}` is a CI expression, a placeholder rather than
/// a template (messages call it so).
fn holds_marker(text: &str) -> bool {
    text.contains("{%")
        || text
            .match_indices("{{")
            .any(|(i, _)| !text[..i].ends_with('$'))
}

fn starts_with_marker(text: &str) -> bool {
    MARKERS.iter().any(|m| text.starts_with(m))
}

/// The text to show: the first line, at most 80 characters.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").chars().take(80).collect()
}
