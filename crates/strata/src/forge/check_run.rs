//! act stage: publishing `strata check` results as a GitHub check run with annotations.
//! GitHub takes at most 50 annotations per request, so the first batch rides on the
//! create call and the rest on updates, which GitHub appends. It decides nothing about
//! what is annotated.

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ForgeError, ForgeKind, GitHub, owner_and_name};

/// The most annotations GitHub accepts in one create or update request.
pub const MAX_ANNOTATIONS: usize = 50;

/// GitHub's limit on the summary, in characters.
const MAX_SUMMARY: usize = 65_535;

/// How a check run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckConclusion {
    /// Everything passed.
    Success,
    /// Something failed.
    Failure,
    /// Informational; neither passes nor fails.
    Neutral,
    /// Someone needs to act.
    ActionRequired,
}

impl CheckConclusion {
    fn as_str(self) -> &'static str {
        match self {
            CheckConclusion::Success => "success",
            CheckConclusion::Failure => "failure",
            CheckConclusion::Neutral => "neutral",
            CheckConclusion::ActionRequired => "action_required",
        }
    }
}

/// How loud an annotation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationLevel {
    /// `notice`.
    Notice,
    /// `warning`.
    Warning,
    /// `failure`.
    Failure,
}

impl AnnotationLevel {
    fn as_str(self) -> &'static str {
        match self {
            AnnotationLevel::Notice => "notice",
            AnnotationLevel::Warning => "warning",
            AnnotationLevel::Failure => "failure",
        }
    }
}

/// A note on lines of a file in the checked commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// The file, relative to the repository root, `/`-separated.
    pub path: String,
    /// The first line (1-based; 0 is sent as 1).
    pub start_line: u32,
    /// The last line (sent as at least `start_line`).
    pub end_line: u32,
    /// Notice, warning or failure.
    pub level: AnnotationLevel,
    /// What is wrong.
    pub message: String,
    /// A short title, when there is one.
    pub title: Option<String>,
}

/// A completed check run to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRun {
    /// The check's name (e.g. `strata`).
    pub name: String,
    /// How it ended.
    pub conclusion: CheckConclusion,
    /// The output's title.
    pub title: String,
    /// The output's summary (Markdown; cut to GitHub's 65,535 characters).
    pub summary: String,
    /// Any number of annotations.
    pub annotations: Vec<Annotation>,
}

/// A published check run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCheckRun {
    /// GitHub's id of the check run.
    pub id: u64,
    /// Its web page.
    pub url: String,
    /// Requests sent: one create plus one update per further batch of annotations.
    pub requests: usize,
}

/// GitHub's answer to a create (the fields we read).
#[derive(Debug, Deserialize)]
struct Created {
    id: u64,
    #[serde(default)]
    html_url: String,
}

impl GitHub {
    /// Publishes `run` on commit `head_sha` of `repo` (`owner/name`). With more than
    /// [`MAX_ANNOTATIONS`] annotations the run is created `in_progress` with the first
    /// batch, updated with the middle ones, and completed with the last, so nobody sees
    /// a finished run with half its annotations. Needs a token allowed to write checks
    /// (a GitHub App's, such as Actions' `GITHUB_TOKEN` with `checks: write`).
    pub async fn create_check_run(
        &self,
        repo: &str,
        head_sha: &str,
        run: &CheckRun,
    ) -> Result<CreatedCheckRun, ForgeError> {
        let (owner, name) = owner_and_name(ForgeKind::GitHub, repo)?;
        let batches: Vec<&[Annotation]> = run.annotations.chunks(MAX_ANNOTATIONS).collect();
        let first = batches.first().copied().unwrap_or(&[]);
        let single = batches.len() <= 1;
        let mut body = json!({
            "name": run.name,
            "head_sha": head_sha,
            "output": output(run, first),
        });
        status_fields(&mut body, run, single);
        let url = self.api.url(&["repos", owner, name, "check-runs"], &[]);
        let created: Created = self.api.json(Method::POST, url, Some(&body)).await?;
        let id = created.id.to_string();
        for (index, batch) in batches.iter().enumerate().skip(1) {
            let mut body = json!({ "output": output(run, batch) });
            status_fields(&mut body, run, index + 1 == batches.len());
            let url = self
                .api
                .url(&["repos", owner, name, "check-runs", &id], &[]);
            self.api.send(Method::PATCH, url, Some(&body)).await?;
        }
        Ok(CreatedCheckRun {
            id: created.id,
            url: created.html_url,
            requests: batches.len().max(1),
        })
    }
}

/// Marks the run completed with its conclusion on the last request, else in progress.
fn status_fields(body: &mut Value, run: &CheckRun, last: bool) {
    if let Value::Object(fields) = body {
        if last {
            fields.insert("status".into(), json!("completed"));
            fields.insert("conclusion".into(), json!(run.conclusion.as_str()));
        } else {
            fields.insert("status".into(), json!("in_progress"));
        }
    }
}

/// The `output` object: title and summary (required on every request that sends
/// annotations) and one batch of annotations.
fn output(run: &CheckRun, batch: &[Annotation]) -> Value {
    let summary = match run.summary.char_indices().nth(MAX_SUMMARY) {
        Some((at, _)) => &run.summary[..at],
        None => run.summary.as_str(),
    };
    let annotations: Vec<Value> = batch.iter().map(annotation).collect();
    json!({ "title": run.title, "summary": summary, "annotations": annotations })
}

fn annotation(note: &Annotation) -> Value {
    let start = note.start_line.max(1);
    let mut value = json!({
        "path": note.path,
        "start_line": start,
        "end_line": note.end_line.max(start),
        "annotation_level": note.level.as_str(),
        "message": note.message,
    });
    if let (Some(title), Value::Object(fields)) = (&note.title, &mut value) {
        fields.insert("title".into(), json!(title));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_get_valid_lines_and_optional_titles() {
        let note = Annotation {
            path: "Dockerfile".into(),
            start_line: 0,
            end_line: 0,
            level: AnnotationLevel::Warning,
            message: "unpinned".into(),
            title: None,
        };
        let value = annotation(&note);
        assert_eq!(value["start_line"], 1);
        assert_eq!(value["end_line"], 1);
        assert_eq!(value["annotation_level"], "warning");
        assert!(value.get("title").is_none());
    }

    #[test]
    fn long_summaries_are_cut_to_the_limit() {
        let run = CheckRun {
            name: "strata".into(),
            conclusion: CheckConclusion::Failure,
            title: "t".into(),
            summary: "ü".repeat(MAX_SUMMARY + 10),
            annotations: Vec::new(),
        };
        let value = output(&run, &[]);
        let summary = value["summary"].as_str().unwrap_or_default();
        assert_eq!(summary.chars().count(), MAX_SUMMARY);
    }
}
