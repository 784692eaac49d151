//! diff stage: text forms shared by the renderings — short digests, sizes in decimal
//! units, and image-supplied strings made inert in Markdown. Pure.

/// `sha256:0123456789ab` (12 hex digits), or the text itself when shorter.
pub(crate) fn short(text: &str) -> &str {
    let end = text.find(':').map_or(12, |colon| colon + 13);
    text.get(..end).unwrap_or(text)
}

/// Bytes in decimal units (`1.2 MB`), as registries and Docker show sizes.
pub(crate) fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes < 1_000 {
        format!("{bytes} B")
    } else if b < 1e6 {
        format!("{:.1} kB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

pub(crate) fn signed_size(delta: i128) -> String {
    let magnitude = u64::try_from(delta.unsigned_abs()).unwrap_or(u64::MAX);
    match delta.signum() {
        1 => format!("+{}", size(magnitude)),
        -1 => format!("−{}", size(magnitude)),
        _ => "±0 B".to_owned(),
    }
}

/// Text from an image made inert in Markdown: table pipes, HTML, backticks, emphasis
/// and line breaks.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\''),
            '*' | '_' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}
