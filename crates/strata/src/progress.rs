//! act stage, for people: the one progress facility of the binary. Long work (tag
//! lookups, updates over many repositories, cascades) shows a bar or a live status line
//! on stderr when stderr is a terminal, and nothing at all otherwise (pipes, CI logs,
//! tests): the report on stdout is the same either way. Decides nothing; cheap to clone
//! and to tick from many tasks.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

/// A bar (known amount of work) or a status line (unknown amount), shared by clones.
///
/// For a cascade's live status: `Progress::status("cascade from python:3.12")`, then
/// `set_length(images)` and `inc(1)` per image done, `set_message` for what runs now,
/// `println` for log lines that must stay, `finish` at the end.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    shown: bool,
}

impl Progress {
    /// A bar for `total` steps of `what` (`"tags"`, `"repositories"`): `[3/40] tags …`.
    pub fn bar(total: usize, what: &str) -> Self {
        let progress = Self::new(ProgressBar::new(total as u64));
        let template = format!("{{spinner}} [{{pos}}/{{len}}] {what} {{wide_msg}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            progress.bar.set_style(style);
        }
        progress
    }

    /// A live status line for work of unknown length (a cascade's current level and
    /// image): a spinner and the message, redrawn as it changes.
    pub fn status(message: impl Into<Cow<'static, str>>) -> Self {
        let progress = Self::new(ProgressBar::new_spinner());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}") {
            progress.bar.set_style(style);
        }
        progress.bar.set_message(message);
        progress
    }

    /// Progress that never shows (for callers that must not draw, and for tests).
    pub fn hidden() -> Self {
        Progress {
            bar: ProgressBar::hidden(),
            shown: false,
        }
    }

    fn new(bar: ProgressBar) -> Self {
        // Dropped before `finish` (an early return, an error): clear, leave nothing half
        // drawn.
        let bar = bar.with_finish(ProgressFinish::AndClear);
        let shown = std::io::stderr().is_terminal();
        if shown {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(120));
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        Progress { bar, shown }
    }

    /// Whether anything is drawn (stderr is a terminal).
    pub fn is_shown(&self) -> bool {
        self.shown
    }

    /// `n` more steps done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// The total, when it becomes known or changes (a cascade learns its levels).
    pub fn set_length(&self, total: usize) {
        self.bar.set_length(total as u64);
    }

    /// What is being done now (`python:3.12`, `level 2: team/api`).
    pub fn set_message(&self, message: impl Into<Cow<'static, str>>) {
        self.bar.set_message(message);
    }

    /// A line of log output that must stay: above the bar on a terminal, plainly on
    /// stderr otherwise (so it is never lost when nothing is drawn).
    pub fn println(&self, line: impl AsRef<str>) {
        if self.shown {
            self.bar.println(line);
        } else {
            eprintln!("{}", line.as_ref());
        }
    }

    /// Removes the bar or status line; the work is done.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn nothing_is_drawn_off_a_terminal() {
        // Tests run with stderr captured or piped, as CI and `2>file` do.
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return;
        }
        let bar = Progress::bar(3, "tags");
        let status = Progress::status("cascade");
        assert!(!bar.is_shown() && !status.is_shown());
        bar.inc(1);
        bar.set_message("python:3.12");
        status.set_length(5);
        bar.finish();
        assert!(!Progress::hidden().is_shown());
    }
}
