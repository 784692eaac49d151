//! init stage, deciding: from the builds the CI files describe and the bases the
//! workspace's Dockerfiles name, the `[[workspace.image]]` entries to write — which tag
//! names each build (the tags other images are built on, else its first fixed tag),
//! what cannot be told (questions), and each repository's trigger. Pure decisions over
//! values; reads nothing.

use std::collections::BTreeSet;

use strata_core::ci::text::Text;
use strata_core::ci::{Build, Pushed, Run};
use strata_core::graph::ImageRef;

/// The platform the workspace compares, when a build names none.
pub const DEFAULT_PLATFORM: &str = "linux/amd64";

/// One entry to write (active, or commented out when a question blocks it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub image: ImageRef,
    pub repository: String,
    pub dockerfile: String,
    pub target: Option<String>,
    pub platform: Option<String>,
    pub build_args: Vec<(String, String)>,
    /// Comment lines above the entry (where it comes from, other tags).
    pub notes: Vec<String>,
    /// Questions about this entry.
    pub questions: Vec<String>,
    /// Written commented out: something it needs is not known.
    pub commented: bool,
    /// Its own trigger, when it differs from the repository's.
    pub trigger: Option<Trigger>,
}

/// A trigger to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Push,
    GitHubWorkflow {
        repository: String,
        workflow: String,
        git_ref: String,
    },
}

/// What one repository's builds give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chosen {
    pub entries: Vec<Entry>,
    pub trigger: Option<Trigger>,
    /// Why that trigger (a comment line).
    pub trigger_note: Option<String>,
    pub notes: Vec<String>,
    pub questions: Vec<String>,
}

/// A build with what the workspace knows about it.
#[derive(Debug, Clone)]
pub struct Known<'a> {
    pub build: &'a Build,
    /// Whether its Dockerfile exists in the repository.
    pub dockerfile_exists: bool,
}

/// What a repository is, for the trigger.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub name: String,
    /// `owner/name` on GitHub, when `origin` is there.
    pub github: Option<String>,
    pub default_branch: String,
    /// Images its Dockerfile comments or compose files already declare.
    pub declared: BTreeSet<ImageRef>,
    /// Its project path on its forge (`group/app`), when `origin` names one.
    pub project: Option<String>,
}

/// Picks the entries of one repository's builds. `referenced`: every image the
/// workspace's Dockerfiles build on.
pub fn choose(place: &Place, builds: &[Known<'_>], referenced: &BTreeSet<ImageRef>) -> Chosen {
    let mut out = Chosen::default();
    let mut taken: Vec<(ImageRef, usize)> = Vec::new();
    let mut conflicts: Vec<(ImageRef, Vec<String>)> = Vec::new();
    unpushed(builds, &mut out.notes);
    for (index, known) in builds.iter().enumerate() {
        let build = known.build;
        let origin = origin(build);
        if build.pushed == Pushed::No {
            continue;
        }
        let names = names(build, referenced);
        if names.is_empty() {
            out.questions.push(no_fixed_tag(build, &origin, place));
            continue;
        }
        let (dockerfile, mut questions) = match build.dockerfile.value() {
            Some(d) => (d.to_owned(), Vec::new()),
            None => (
                build.dockerfile.display(),
                vec![format!(
                    "which Dockerfile: {} is only known when CI runs",
                    build.dockerfile.display()
                )],
            ),
        };
        if build.dockerfile.is_known() && !known.dockerfile_exists {
            questions.push(format!(
                "{dockerfile} is not in the repository (generated during the build?)"
            ));
        }
        if let Pushed::Maybe(why) = &build.pushed {
            questions.push(format!("pushed only when {why}"));
        }
        for question in &build.questions {
            questions.push(question.clone());
        }
        let mut build_args = Vec::new();
        for (name, value) in &build.build_args {
            match value.value() {
                Some(v) => build_args.push((name.clone(), v.to_owned())),
                None => questions.push(format!(
                    "build argument {name} is {} when CI runs: set it in build_args",
                    value.display()
                )),
            }
        }
        let target = build
            .target
            .as_ref()
            .and_then(|t| t.value().map(str::to_owned));
        if let Some(t) = &build.target
            && !t.is_known()
        {
            questions.push(format!("the target stage is {} when CI runs", t.display()));
        }
        let platforms: Vec<String> = build.platforms.iter().map(Text::display).collect();
        let platform = match platforms.as_slice() {
            [one] if one != DEFAULT_PLATFORM && !one.contains("${{") => Some(one.clone()),
            _ => None,
        };
        let mut notes = vec![origin.clone()];
        if platforms.len() > 1 {
            notes.push(format!(
                "built for {} (the graph compares the workspace's platform)",
                platforms.join(", ")
            ));
        }
        let others: Vec<String> = build
            .tags
            .iter()
            .filter(|t| !names.iter().any(|(n, _)| same(&t.image, n)))
            .map(|t| describe_tag(&t.image, &t.run))
            .collect();
        if !others.is_empty() {
            notes.push(format!("also tagged {}", others.join(", ")));
        }
        for (image, how) in names {
            if place.declared.contains(&image) {
                out.notes.push(format!(
                    "{} is also declared by a Dockerfile comment or compose file, which strata reads as it is",
                    image.familiar()
                ));
                continue;
            }
            if let Some((_, first)) = taken.iter().find(|(i, _)| *i == image) {
                if same_build(builds[*first].build, build) {
                    continue;
                }
                match conflicts.iter_mut().find(|(i, _)| *i == image) {
                    Some((_, others)) => others.push(origin.clone()),
                    None => conflicts.push((
                        image.clone(),
                        vec![self::origin(builds[*first].build), origin.clone()],
                    )),
                }
                continue;
            }
            taken.push((image.clone(), index));
            let mut entry_notes = notes.clone();
            if let Some(how) = how {
                entry_notes.push(how);
            }
            let mut questions = questions.clone();
            if let Some(run) = only_on(build, &image) {
                questions.push(format!(
                    "{} is only pushed on {}: a rebuild on a push to the default branch does not move it",
                    image.familiar(),
                    run.describe()
                ));
            }
            out.entries.push(Entry {
                image,
                repository: place.name.clone(),
                dockerfile: dockerfile.clone(),
                target: target.clone(),
                platform: platform.clone(),
                build_args: build_args.clone(),
                notes: entry_notes,
                commented: !build.dockerfile.is_known() || !known.dockerfile_exists,
                questions,
                trigger: None,
            });
        }
    }
    for (image, origins) in conflicts {
        out.questions.push(format!(
            "{} is pushed by {} different builds, the first kept: {}. The last to finish wins; \
             are they told apart by tags applied later?",
            image.familiar(),
            origins.len(),
            origins.join("; ")
        ));
    }
    trigger(place, builds, &mut out);
    out
}

/// One note per build step whose images are pushed nowhere (a test image), leaving out
/// tags another build pushes.
fn unpushed(builds: &[Known<'_>], notes: &mut Vec<String>) {
    let pushed: Vec<&Text> = builds
        .iter()
        .filter(|k| k.build.pushed != Pushed::No)
        .flat_map(|k| k.build.tags.iter().map(|t| &t.image))
        .collect();
    let mut steps: Vec<((String, usize, String), Vec<String>)> = Vec::new();
    for build in builds
        .iter()
        .map(|k| k.build)
        .filter(|b| b.pushed == Pushed::No)
    {
        let key = (build.file.clone(), build.line, build.tool.clone());
        for tag in build.tags.iter().filter(|t| !pushed.contains(&&t.image)) {
            let shown = tag.image.display();
            match steps.iter_mut().find(|(k, _)| *k == key) {
                Some((_, tags)) if !tags.contains(&shown) => tags.push(shown),
                Some(_) => {}
                None => steps.push((key.clone(), vec![shown])),
            }
        }
    }
    for ((file, line, tool), tags) in steps {
        notes.push(format!(
            "{file}:{line} ({tool}) builds {} and pushes {} nowhere (a local or test image): not listed",
            tags.join(", "),
            if tags.len() == 1 { "it" } else { "them" }
        ));
    }
}

/// The run that alone pushes `image`, when no branch run does.
fn only_on(build: &Build, image: &ImageRef) -> Option<Run> {
    let runs: Vec<&Run> = build
        .tags
        .iter()
        .filter(|t| same(&t.image, image) || pattern_makes(&t.image, image))
        .map(|t| &t.run)
        .collect();
    let on_branch = runs
        .iter()
        .any(|r| matches!(r, Run::Branch(_) | Run::Dispatch(_) | Run::Schedule(_)));
    match runs.first() {
        Some(run) if !on_branch => Some((*run).clone()),
        _ => None,
    }
}

fn pattern_makes(tag: &Text, image: &ImageRef) -> bool {
    let Some((name, pattern)) = tag.rsplit_once(':') else {
        return false;
    };
    let Some(name) = name.value() else {
        return false;
    };
    !pattern.is_known()
        && ImageRef::parse(&format!("{name}:x")).is_ok_and(|n| n.name() == image.name())
        && pattern.matches(image.tag(), tag_char)
}

/// `file:line (job, combination), tool`.
fn origin(build: &Build) -> String {
    let combination = if build.combination.is_empty() {
        String::new()
    } else {
        let pairs: Vec<String> = build
            .combination
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(", {}", pairs.join(" "))
    };
    format!(
        "{}:{} ({}{combination}) {}",
        build.file, build.line, build.job, build.tool
    )
}

fn describe_tag(image: &Text, run: &Run) -> String {
    let tag = image
        .rsplit_once(':')
        .map_or_else(|| image.display(), |(_, t)| t.display());
    match run {
        Run::Branch(_) | Run::Dispatch(_) => tag,
        other => format!("{tag} (on {})", other.describe()),
    }
}

fn same(image: &Text, name: &ImageRef) -> bool {
    image.value().and_then(|v| ImageRef::parse(v).ok()).as_ref() == Some(name)
}

fn same_build(a: &Build, b: &Build) -> bool {
    a.dockerfile == b.dockerfile
        && a.target == b.target
        && a.build_args == b.build_args
        && a.context == b.context
}

/// The names a build's entries take, each with a note on how it was chosen: the tags
/// the workspace builds on (fixed ones, or ones its dynamic rules make), else its first
/// fixed tag from a branch run, else any fixed tag.
fn names(build: &Build, referenced: &BTreeSet<ImageRef>) -> Vec<(ImageRef, Option<String>)> {
    let mut out: Vec<(ImageRef, Option<String>)> = Vec::new();
    let add = |image: ImageRef, how: Option<String>, out: &mut Vec<(ImageRef, Option<String>)>| {
        if !out.iter().any(|(i, _)| *i == image) {
            out.push((image, how));
        }
    };
    for tag in &build.tags {
        if let Some(image) = tag.image.value().and_then(|v| ImageRef::parse(v).ok())
            && referenced.contains(&image)
        {
            let how = (!matches!(tag.run, Run::Branch(_) | Run::Dispatch(_))).then(|| {
                format!(
                    "tagged on {}: a rebuild must make that run again",
                    tag.run.describe()
                )
            });
            add(image, how, &mut out);
        }
    }
    for tag in build.tags.iter().filter(|t| !t.image.is_known()) {
        let Some((_, pattern)) = tag.image.rsplit_once(':') else {
            continue;
        };
        for image in referenced {
            if pattern_makes(&tag.image, image) {
                let how = format!(
                    "{} is made by a tag rule ({}) on {}; images here are built on it",
                    image.familiar(),
                    pattern.display(),
                    tag.run.describe()
                );
                add(image.clone(), Some(how), &mut out);
            }
        }
    }
    if !out.is_empty() {
        return out;
    }
    let fixed = |branch_only: bool| {
        build.tags.iter().find_map(|t| {
            let on_branch = matches!(t.run, Run::Branch(_) | Run::Dispatch(_) | Run::Schedule(_));
            (on_branch || !branch_only)
                .then(|| t.image.value().and_then(|v| ImageRef::parse(v).ok()))
                .flatten()
        })
    };
    if let Some(image) = fixed(true).or_else(|| fixed(false)) {
        add(image, None, &mut out);
    }
    out
}

fn tag_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn no_fixed_tag(build: &Build, origin: &str, place: &Place) -> String {
    let mut tags: Vec<String> = Vec::new();
    for tag in &build.tags {
        let shown = tag
            .image
            .rsplit_once(':')
            .map_or_else(|| tag.image.display(), |(_, t)| t.display());
        if !tags.contains(&shown) {
            tags.push(shown);
        }
    }
    let names: BTreeSet<String> = build
        .tags
        .iter()
        .map(|t| {
            t.image
                .rsplit_once(':')
                .map_or_else(|| t.image.display(), |(n, _)| n.display())
        })
        .collect();
    let names: Vec<String> = names.into_iter().collect();
    if tags.is_empty() {
        return format!("{origin} pushes an image whose name is not written in the file");
    }
    let entry = format!(
        "[[workspace.image]] with repository = \"{}\", dockerfile = \"{}\"",
        place.name,
        build.dockerfile.display()
    );
    let unknown_names: Vec<&String> = names.iter().filter(|n| n.contains('$')).collect();
    if !unknown_names.is_empty() {
        let registry = if names.iter().any(|n| n.contains("CI_REGISTRY")) {
            match &place.project {
                Some(path) => format!(
                    " ($CI_REGISTRY_IMAGE is <your GitLab's registry host>/{})",
                    path.to_ascii_lowercase()
                ),
                None => " ($CI_REGISTRY_IMAGE is <registry host>/<project path>)".to_owned(),
            }
        } else {
            String::new()
        };
        return format!(
            "{origin} pushes {}, a name only known when CI runs{registry}: add a {entry} and the image's name",
            names.join(", ")
        );
    }
    format!(
        "{origin} pushes {} with tags that change every run ({}); no image here is built on one of them: \
         add a {entry} and the tag your images use",
        names.join(", "),
        tags.join(", ")
    )
}

/// The repository's trigger, from what starts its builds.
fn trigger(place: &Place, builds: &[Known<'_>], out: &mut Chosen) {
    let pushed: Vec<&Build> = builds
        .iter()
        .map(|k| k.build)
        .filter(|b| b.pushed != Pushed::No)
        .collect();
    if pushed.is_empty() {
        return;
    }
    let dispatch = pushed.iter().find_map(|b| {
        b.started
            .dispatch
            .clone()
            .map(|w| (w.clone(), format!(".github/workflows/{w}")))
    });
    let push = pushed.iter().find(|b| b.started.push);
    match (&dispatch, &place.github) {
        (Some((workflow, file)), Some(repository)) => {
            out.trigger = Some(Trigger::GitHubWorkflow {
                repository: repository.clone(),
                workflow: workflow.clone(),
                git_ref: place.default_branch.clone(),
            });
            let also = if push.is_some() {
                format!(
                    "; it also runs on a push to {}, so trigger = {{ kind = \"push\" }} would let the pushed pins start it instead",
                    place.default_branch
                )
            } else {
                String::new()
            };
            out.trigger_note = Some(format!("{file} can be started by hand (workflow_dispatch){also}"));
            return;
        }
        (Some((_, file)), None) => out.questions.push(format!(
            "{file} can be started by hand, but origin names no GitHub repository: set trigger = {{ kind = \"github-workflow\", repository = \"owner/name\", workflow = \"…\" }}"
        )),
        (None, _) => {}
    }
    if let Some(build) = push {
        out.trigger = Some(Trigger::Push);
        out.trigger_note = Some(format!(
            "{} builds on a push to {}",
            build.file, place.default_branch
        ));
        return;
    }
    if out.trigger.is_none() {
        let how = if pushed.iter().any(|b| b.started.git_tag) {
            "only when a git tag is pushed"
        } else if pushed.iter().any(|b| b.started.schedule) {
            "only on a schedule"
        } else {
            "only when started by hand"
        };
        out.questions.push(format!(
            "its CI publishes {how}: how should a rebuild start? (a trigger: push, github-workflow, gitlab-pipeline, webhook, command)"
        ));
    }
}
