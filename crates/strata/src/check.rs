//! decide stage of `strata check`, driven: gathers what the pure checks in
//! `strata_core::check` need (the Docker Official Images library from disk; current
//! digests from registries and since-when data from the state database, unless offline),
//! runs them on every scanned file and applies the policy. Prints nothing: the report
//! goes to `crate::report`.

pub mod observe;

use std::path::PathBuf;

use anyhow::{Context, Result};
use strata_core::check::{self, Code, Finding, Inputs, Observations, Offline, Policy, Severity};
use strata_core::library::{History, Library};

use crate::config::RegistrySettings;
use crate::official_images;
use crate::scan::FileScan;
use crate::state::{self, State};
use crate::{dirs, resolve};

/// How a check runs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// No network, no state database: only the checks that need neither.
    pub offline: bool,
    /// `library/` (and `removed-tags.json`) of the Docker Official Images.
    pub official_images: Option<PathBuf>,
    pub registry: RegistrySettings,
    /// `--state PATH`, when given.
    pub state: Option<PathBuf>,
    /// The repository root (the state database must live outside it).
    pub root: PathBuf,
    pub policy: Policy,
}

/// A problem that kept a check from running (exit 2), as opposed to a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: Option<String>,
    pub line: Option<usize>,
    /// The tag or digest being looked up, for registry failures.
    pub reference: Option<String>,
    pub message: String,
}

impl Problem {
    pub(crate) fn lookup(target: &str, message: String) -> Problem {
        Problem {
            file: None,
            line: None,
            reference: Some(target.to_owned()),
            message,
        }
    }

    pub(crate) fn state(message: String) -> Problem {
        Problem {
            file: None,
            line: None,
            reference: None,
            message: format!("state database: {message}"),
        }
    }
}

/// A check that did not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotChecked {
    pub code: Code,
    pub reason: &'static str,
}

/// Everything a run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Sorted by file, line, column and code.
    pub findings: Vec<Finding>,
    pub problems: Vec<Problem>,
    pub not_checked: Vec<NotChecked>,
    pub files: usize,
    pub references: usize,
    /// Findings the policy dropped.
    pub ignored: usize,
    pub tags_looked_up: usize,
    pub digests_verified: usize,
    /// HTTP requests sent to registries.
    pub requests: u64,
    pub offline: bool,
}

impl Report {
    /// How many findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// 2 when something could not be checked (errors win), 1 with error findings, else 0.
    pub fn exit_code(&self) -> u8 {
        use crate::commands::exit;
        if !self.problems.is_empty() {
            exit::ERROR
        } else if self.count(Severity::Error) > 0 {
            exit::FINDINGS
        } else {
            exit::OK
        }
    }
}

/// Checks scanned files.
pub fn run(results: &[FileScan], options: &Options) -> Result<Report> {
    let mut report = Report {
        files: results.len(),
        references: results.iter().map(|r| r.extraction.occurrences.len()).sum(),
        offline: options.offline,
        ..Report::default()
    };
    for result in results {
        // A file a path-only ignore rule covers is not checked: its read errors too.
        if options.policy.skips_file(&result.file.display) {
            continue;
        }
        for error in &result.extraction.errors {
            report.problems.push(Problem {
                file: Some(result.file.display.clone()),
                line: (error.line > 0).then_some(error.line),
                reference: None,
                message: error.message.clone(),
            });
        }
    }
    let official = load_official(options, &mut report);
    let library = official.as_ref().map(|o| &o.library);
    let history = official.as_ref().and_then(|o| o.history.as_ref());
    if options.offline {
        for code in Code::ALL.into_iter().filter(|c| c.needs_network()) {
            report.not_checked.push(NotChecked {
                code,
                reason: "--offline",
            });
        }
        decide(results, &Offline, library, history, options, &mut report);
        return Ok(report);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let observed = runtime.block_on(online(results, options, &mut report))?;
    report.tags_looked_up = observed.tags_looked_up;
    report.digests_verified = observed.digests_verified;
    decide(results, &observed, library, history, options, &mut report);
    Ok(report)
}

async fn online(
    results: &[FileScan],
    options: &Options,
    report: &mut Report,
) -> Result<observe::Observed> {
    let client = resolve::client(
        &options.registry,
        dirs::cache_dir().map(|d| d.join("registry")),
    )?;
    let state = match open_state(options).await {
        Ok(state) => Some(state),
        Err(err) => {
            report.problems.push(Problem::state(format!("{err:#}")));
            None
        }
    };
    let verify = options.registry.verify;
    let observed = observe::observe(
        &client,
        state.as_ref(),
        results,
        verify,
        &mut report.problems,
    )
    .await;
    if let Some(state) = state {
        state.close().await;
    }
    report.requests = client.stats().total_requests();
    Ok(observed)
}

async fn open_state(options: &Options) -> Result<State> {
    let path = state::state_path(options.state.as_deref())?;
    state::ensure_outside(&path, &options.root)?;
    State::open(&path)
        .await
        .with_context(|| format!("opening {}", path.display()))
}

fn load_official(
    options: &Options,
    report: &mut Report,
) -> Option<official_images::OfficialImages> {
    let Some(dir) = &options.official_images else {
        report.not_checked.push(NotChecked {
            code: Code::UnsupportedTag,
            reason: "no official-images library (--official-images DIR)",
        });
        return None;
    };
    match official_images::load(dir) {
        Ok(loaded) => Some(loaded),
        Err(err) => {
            report.problems.push(Problem {
                file: None,
                line: None,
                reference: None,
                message: format!("official images: {err:#}"),
            });
            None
        }
    }
}

fn decide(
    results: &[FileScan],
    observed: &dyn Observations,
    library: Option<&Library>,
    history: Option<&History>,
    options: &Options,
    report: &mut Report,
) {
    let inputs = Inputs {
        observed,
        library,
        history,
    };
    for result in results {
        let file = &result.file.display;
        let mut findings = check::check_file(file, &result.text, &result.extraction, &inputs);
        report.ignored += options.policy.apply(&mut findings);
        report.findings.extend(findings);
    }
    report.findings.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code).cmp(&(&b.file, b.line, b.column, b.code))
    });
}
