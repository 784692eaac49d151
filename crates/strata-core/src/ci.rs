//! ci stage: what a repository's CI files say it builds and publishes — GitHub Actions
//! workflows ([`github`]) and GitLab CI pipelines ([`gitlab`]) read into image builds:
//! the Dockerfile, context, target, platforms and build arguments of each build, the
//! image tags it publishes and on which runs, and what starts it. Pure: callers hand in
//! file texts and what they know of the repository; nothing is fetched or run, and what
//! only a run could tell (a commit, a secret, a computed matrix) is an unknown piece or a
//! question, never a guess.
//!
//! Values are worked out for the runs that publish images: a push to the default branch
//! (or a manual or scheduled run on it) and a pushed git tag.

pub mod command;
pub mod expr;
pub mod github;
pub mod gitlab;
pub mod list;
pub mod matrix;
pub mod metadata;
mod path;
mod script;
pub mod shell;
pub mod text;
mod version;
mod yaml_value;

use text::Text;

/// Which run of a workflow or pipeline values are worked out for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Run {
    /// A push to this branch (the default branch).
    Branch(String),
    /// A pushed git tag (its name unknown).
    GitTag,
    /// A scheduled run on this branch.
    Schedule(String),
    /// A manual run (`workflow_dispatch`, a pipeline started by hand) on this branch.
    Dispatch(String),
}

impl Run {
    /// How comments name the run.
    pub fn describe(&self) -> String {
        match self {
            Run::Branch(b) => format!("a push to {b}"),
            Run::GitTag => "a pushed git tag".to_owned(),
            Run::Schedule(b) => format!("a scheduled run on {b}"),
            Run::Dispatch(b) => format!("a manual run on {b}"),
        }
    }
}

/// What the reader is told about the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// `owner/name` on its forge (GitHub's `github.repository`, GitLab's
    /// `CI_PROJECT_PATH`), when the checkout's `origin` says.
    pub slug: Option<String>,
    /// The branch pushes to which publish images.
    pub default_branch: String,
    /// GitLab's `CI_REGISTRY` when it is known (`registry.gitlab.com` for gitlab.com).
    pub gitlab_registry: Option<String>,
}

/// One image build a CI file describes (for one matrix combination).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    /// The CI file, relative to the repository.
    pub file: String,
    /// The line of the step or script line that builds.
    pub line: usize,
    /// The job (and step name, when there is one).
    pub job: String,
    /// `docker/build-push-action`, `docker build`, `kaniko`, …
    pub tool: String,
    /// The build context, relative to the repository (`.` is its root).
    pub context: Text,
    /// The Dockerfile, relative to the repository.
    pub dockerfile: Text,
    pub target: Option<Text>,
    pub platforms: Vec<Text>,
    /// `--build-arg`s, in order.
    pub build_args: Vec<(String, Text)>,
    /// The image tags it publishes, with the run that publishes each.
    pub tags: Vec<Tag>,
    /// Whether the build's images are pushed (by the build, or a later push).
    pub pushed: Pushed,
    /// The matrix combination (name = value), empty without a matrix.
    pub combination: Vec<(String, String)>,
    /// What starts the build.
    pub started: Started,
    /// What could not be worked out about this build.
    pub questions: Vec<String>,
}

/// One tag a build gives an image, and the run that gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag {
    /// `registry/name:tag`, possibly with unknown pieces.
    pub image: Text,
    pub run: Run,
}

/// Whether a build's images reach a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Yes,
    No,
    /// Depends on something only the run knows (`push: ${{ inputs.publish }}`).
    Maybe(String),
}

/// What starts a build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Started {
    /// A push to the default branch.
    pub push: bool,
    /// A pushed git tag.
    pub git_tag: bool,
    /// A manual run: GitHub's `workflow_dispatch` (the workflow file name) — or a GitLab
    /// pipeline, which can always be started through the API.
    pub dispatch: Option<String>,
    /// A schedule.
    pub schedule: bool,
}

/// Something the reader could not tell, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub file: String,
    pub line: usize,
    pub text: String,
}

/// Everything read from a repository's CI files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    pub builds: Vec<Build>,
    /// Questions about no one build (a step that builds in a way not read, a computed
    /// matrix, a file that is not valid YAML).
    pub questions: Vec<Question>,
}

/// A repository file handed to a reader: its path (relative, `/`-separated) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub text: String,
}

/// Links builds to the pushes of their tags (`docker push`, anywhere in the repository's
/// CI, after the build and its `docker tag`s), and drops duplicate builds (the same
/// build read from two runs keeps one entry with every tag).
pub(crate) fn settle(builds: Vec<Build>, pushes: &[(Text, bool)]) -> Vec<Build> {
    let mut out: Vec<Build> = Vec::new();
    for mut build in builds {
        if build.pushed == Pushed::No {
            let pushed = build.tags.iter().any(|tag| {
                pushes.iter().any(|(image, all_tags)| {
                    *image == tag.image
                        || (*all_tags
                            && tag.image.rsplit_once(':').is_some_and(|(name, _)| {
                                name == *image
                                    || image.rsplit_once(':').is_some_and(|(n, _)| n == name)
                            }))
                        || (!image.as_marked().contains(':')
                            && tag.image.rsplit_once(':').is_some_and(|(name, t)| {
                                name == *image && t.value() == Some("latest")
                            }))
                })
            });
            if pushed {
                build.pushed = Pushed::Yes;
            }
        }
        match out.iter_mut().find(|b| same_build(b, &build)) {
            Some(existing) => {
                for tag in build.tags {
                    if !existing.tags.contains(&tag) {
                        existing.tags.push(tag);
                    }
                }
                for question in build.questions {
                    if !existing.questions.contains(&question) {
                        existing.questions.push(question);
                    }
                }
                if existing.pushed != Pushed::Yes && build.pushed == Pushed::Yes {
                    existing.pushed = Pushed::Yes;
                }
                existing.started.push |= build.started.push;
                existing.started.git_tag |= build.started.git_tag;
                existing.started.schedule |= build.started.schedule;
                if existing.started.dispatch.is_none() {
                    existing.started.dispatch = build.started.dispatch;
                }
            }
            None => out.push(build),
        }
    }
    out
}

fn same_build(a: &Build, b: &Build) -> bool {
    a.file == b.file
        && a.line == b.line
        && a.job == b.job
        && a.context == b.context
        && a.dockerfile == b.dockerfile
        && a.target == b.target
        && a.build_args == b.build_args
        && a.combination == b.combination
}
