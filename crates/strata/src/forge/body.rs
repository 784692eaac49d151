//! act stage, pure part: pull request bodies within each forge's size limit. GitHub
//! refuses bodies over 65,536 characters ("body is too long (maximum is 65536
//! characters)", a 422); GitLab's merge request descriptions take 1,000,000; Gitea and
//! Forgejo store the body as LONGTEXT and set no API limit, so the same 1,000,000 keeps
//! bodies readable there. A body over the limit is cut at a line boundary with a note,
//! keeping its last line (the strata marker a later run reads): never refused.

use super::ForgeKind;

impl ForgeKind {
    /// The most characters a pull request body may have on this forge.
    pub fn body_limit(self) -> usize {
        match self {
            ForgeKind::GitHub => 65_536,
            ForgeKind::GitLab | ForgeKind::Gitea => 1_000_000,
        }
    }
}

/// The note put where a body was cut.
pub const CUT_NOTE: &str =
    "\n\n_…cut to fit the forge's size limit; `strata diff` shows the whole comparison._\n\n";

/// `body` cut to at most `limit` characters, keeping its last line (the marker).
pub fn fit_body(body: &str, limit: usize) -> String {
    if body.chars().count() <= limit {
        return body.to_owned();
    }
    let trimmed = body.trim_end_matches('\n');
    let (head, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
    let room = limit.saturating_sub(last.chars().count() + CUT_NOTE.chars().count() + 16);
    let mut kept: String = head.chars().take(room).collect();
    // End on a whole line, and close a collapsible section left open.
    if let Some(at) = kept.rfind('\n') {
        kept.truncate(at);
    }
    if kept.matches("<details>").count() > kept.matches("</details>").count() {
        kept.push_str("\n</details>");
    }
    let mut out = kept;
    out.push_str(CUT_NOTE);
    out.push_str(last);
    out.push('\n');
    if out.chars().count() > limit {
        // A marker longer than the limit: hard cut, the marker is lost, the body sent.
        return out.chars().take(limit).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_with_a_note_and_keep_their_marker() {
        let mut body = String::from("intro\n<details><summary>x</summary>\n\n");
        for i in 0..10_000 {
            body.push_str(&format!("| row {i} |\n"));
        }
        body.push_str("</details>\n\n<!-- strata:update {} -->\n");
        for kind in [ForgeKind::GitHub, ForgeKind::GitLab] {
            let fitted = fit_body(&body, kind.body_limit().min(5_000));
            assert!(fitted.chars().count() <= 5_000);
            assert!(fitted.ends_with("<!-- strata:update {} -->\n"), "{fitted}");
            assert!(fitted.contains("cut to fit"));
            assert_eq!(
                fitted.matches("<details>").count(),
                fitted.matches("</details>").count()
            );
        }
        assert_eq!(fit_body("short\n", 100), "short\n");
        assert_eq!(ForgeKind::GitHub.body_limit(), 65_536);
    }
}
