//! ci stage: one shell script of a CI step or job read for what it does to images —
//! builds, tags and pushes in order — with the directory it runs in (`cd`). Shared by
//! the GitHub and GitLab readers. Pure.

use super::command::{self, Action, BuildCommand};
use super::path;
use super::shell::{self, Env};
use super::text::Text;
use super::{Build, Pushed, Run, Tag};

/// Programs that may build images in a way not read here (a Makefile, a script).
const OPAQUE: &[&str] = &[
    "make", "just", "bash", "sh", "python", "python3", "task", "nox", "tox",
];

/// A build as a step or command describes it, before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Described {
    pub(crate) line: usize,
    pub(crate) tool: String,
    pub(crate) context: Text,
    pub(crate) dockerfile: Option<Text>,
    pub(crate) target: Option<Text>,
    pub(crate) platforms: Vec<Text>,
    pub(crate) build_args: Vec<(String, Text)>,
    pub(crate) tags: Vec<Text>,
    pub(crate) pushed: Pushed,
    pub(crate) questions: Vec<String>,
}

/// What a script does, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Build(Described),
    Tag { source: Text, target: Text },
    Push { image: Text, all_tags: bool },
}

/// A script read.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub(crate) events: Vec<Event>,
    /// The last command that may build in a way not read (line, command): the job's own
    /// script comes after its setup.
    pub(crate) opaque: Option<(usize, String)>,
}

/// Reads `text` (starting on `first_line` of its file) in `cwd` with `env`; both carry
/// over to the next script of the same shell session.
pub(crate) fn read(text: &str, env: &mut Env, cwd: &mut String, first_line: usize, out: &mut Read) {
    for command in shell::commands(text, env) {
        let at = first_line + command.line - 1;
        let first = command.words.first().map(Text::display).unwrap_or_default();
        if first == "cd" {
            if let Some(target) = command.words.get(1)
                && let Some(joined) =
                    path::join(cwd, target).and_then(|t| t.value().map(str::to_owned))
            {
                *cwd = joined;
            }
            continue;
        }
        match command::action(&command.words) {
            Some(Action::Build(build)) => {
                if !build.tags.is_empty() {
                    out.events
                        .push(Event::Build(from_command(build, cwd, env, at)));
                }
            }
            Some(Action::Tag { source, target }) => out.events.push(Event::Tag { source, target }),
            Some(Action::Push { image, all_tags }) => {
                let image = if all_tags { image } else { with_latest(&image) };
                out.events.push(Event::Push { image, all_tags });
            }
            None => {
                if opaque(&command.words) {
                    let shown: Vec<String> = command.words.iter().map(Text::display).collect();
                    out.opaque = Some((at, shown.join(" ").chars().take(100).collect()));
                }
            }
        }
    }
}

/// A command that may build images where this reader cannot see: `make`, a script, a
/// bake or compose build, a downloaded script.
fn opaque(words: &[Text]) -> bool {
    let first = words.first().map(Text::display).unwrap_or_default();
    let program = first.rsplit('/').next().unwrap_or(&first);
    let has = |w: &str| words.iter().any(|x| x.value() == Some(w));
    let runs_something = OPAQUE.contains(&program)
        || first.ends_with(".sh")
        || first.starts_with("./")
        || program == "curl";
    // The program and its operands (`make push-images`, `./build-images.sh`,
    // `bash -c "python3 buildall.py"`), not option values (`--image x`).
    let about_images = words.iter().enumerate().any(|(i, w)| {
        let shown = w.display().to_ascii_lowercase();
        let after_option = i > 0 && words[i - 1].display().starts_with("--");
        !shown.starts_with('-')
            && !after_option
            && IMAGE_WORDS.iter().any(|word| shown.contains(word))
    });
    has("bake")
        || ((has("compose") || program == "docker-compose") && (has("build") || has("push")))
        || (runs_something && about_images)
}

/// Words that make an unread command look like an image build (`make push`,
/// `./build-images.sh`, `curl …/build-docker-images.sh`).
const IMAGE_WORDS: &[&str] = &[
    "build",
    "builds",
    "push",
    "publish",
    "release",
    "image",
    "images",
    "docker",
    "buildx",
    "container",
    "containers",
    "oci",
];

/// A build command, its paths read from the script's directory.
fn from_command(build: BuildCommand, cwd: &str, env: &Env, line: usize) -> Described {
    let mut questions = Vec::new();
    let context = build.context.unwrap_or_else(|| Text::known("."));
    let shown = context.display();
    if shown.contains("://") || shown == "-" {
        questions.push(format!(
            "the build context is {shown}, not a directory of the repository"
        ));
    }
    let joined_context = path::join(cwd, &context).unwrap_or(context);
    let dockerfile = match build.file {
        Some(file) if file.value() == Some("-") => {
            questions.push("the Dockerfile comes from standard input".to_owned());
            None
        }
        Some(file) => Some(path::join(cwd, &file).unwrap_or(file)),
        None => None,
    };
    let build_args = build
        .build_args
        .into_iter()
        .map(|(name, value)| {
            let value = value.unwrap_or_else(|| {
                env.get(&name)
                    .cloned()
                    .unwrap_or_else(|| Text::unknown(&format!("${name}")))
            });
            (name, value)
        })
        .collect();
    Described {
        line,
        tool: build.tool,
        context: joined_context,
        dockerfile,
        target: build.target,
        platforms: build.platforms,
        build_args,
        tags: build.tags,
        pushed: if build.push { Pushed::Yes } else { Pushed::No },
        questions,
    }
}

/// `name` without a tag is `name:latest`, as Docker reads it.
pub(crate) fn with_latest(image: &Text) -> Text {
    let has_tag = image
        .rsplit_once(':')
        .is_some_and(|(_, tag)| !tag.as_marked().contains('/'));
    if has_tag || image.as_marked().contains('@') {
        image.clone()
    } else {
        let mut out = image.clone();
        out.push_str(":latest");
        out
    }
}

/// Whether two references name the same image (a missing tag is `latest`).
pub(crate) fn same_image(a: &Text, b: &Text) -> bool {
    with_latest(a) == with_latest(b)
}

/// Applies a job's script events in order: builds are recorded through `make`, tags
/// join the latest build of the job that has their source, pushes are collected.
pub(crate) fn apply(
    events: Vec<Event>,
    run: &Run,
    builds: &mut Vec<Build>,
    job_builds: &mut Vec<usize>,
    pushes: &mut Vec<(Text, bool)>,
    make: &dyn Fn(Described) -> Build,
) {
    for event in events {
        match event {
            Event::Build(described) => {
                job_builds.push(builds.len());
                builds.push(make(described));
            }
            Event::Tag { source, target } => {
                let found = job_builds
                    .iter()
                    .rev()
                    .find(|&&i| builds[i].tags.iter().any(|t| same_image(&t.image, &source)));
                if let Some(&index) = found {
                    let tag = Tag {
                        image: with_latest(&target),
                        run: run.clone(),
                    };
                    if !builds[index].tags.contains(&tag) {
                        builds[index].tags.push(tag);
                    }
                }
            }
            Event::Push { image, all_tags } => pushes.push((image, all_tags)),
        }
    }
}
