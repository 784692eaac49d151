//! ci stage: which shell commands build, tag or push images, and with what: `docker
//! build`, `docker buildx build`, `docker image build`, `podman build`, `buildah bud`,
//! kaniko's `executor`, `docker tag`, `docker push`, `docker buildx imagetools create`.
//! Pure: reads words, runs nothing.
//!
//! Options follow the Docker CLI reference for `docker buildx build` (the options that
//! take a value, `--opt value` and `--opt=value`, `-t`/`-f`/`-o` short forms, the first
//! operand is the context), podman's and buildah's documented equivalents, and kaniko's
//! `--context`, `--dockerfile`, `--destination`, `--build-arg`, `--target`, `--no-push`.

use super::text::Text;

/// What a command does to images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Build(BuildCommand),
    /// `docker push IMAGE` (`all_tags`: `--all-tags`, every local tag of the name).
    Push {
        image: Text,
        all_tags: bool,
    },
    /// `docker tag SOURCE TARGET`, `imagetools create -t TARGET SOURCE`.
    Tag {
        source: Text,
        target: Text,
    },
}

/// An image build as one command line gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildCommand {
    /// `docker build`, `docker buildx build`, `kaniko`, …
    pub tool: String,
    pub tags: Vec<Text>,
    pub file: Option<Text>,
    pub context: Option<Text>,
    pub target: Option<Text>,
    pub platforms: Vec<Text>,
    /// `--build-arg NAME=value`; `NAME` alone takes the value from the environment.
    pub build_args: Vec<(String, Option<Text>)>,
    /// Pushed by the command itself (`--push`, `--output type=registry`, kaniko without
    /// `--no-push`).
    pub push: bool,
}

/// Options of `docker build` and its relatives that take a value.
const VALUED: &[&str] = &[
    "--add-host",
    "--allow",
    "--annotation",
    "--attest",
    "--build-arg",
    "--build-context",
    "--builder",
    "--cache-from",
    "--cache-to",
    "--call",
    "--cgroup-parent",
    "--cpu-period",
    "--cpu-quota",
    "--cpu-shares",
    "--cpuset-cpus",
    "--cpuset-mems",
    "--file",
    "--iidfile",
    "--isolation",
    "--label",
    "--memory",
    "--memory-swap",
    "--metadata-file",
    "--network",
    "--no-cache-filter",
    "--output",
    "--platform",
    "--progress",
    "--provenance",
    "--sbom",
    "--secret",
    "--security-opt",
    "--shm-size",
    "--ssh",
    "--tag",
    "--target",
    "--ulimit",
    "--format",
    "--layers",
    "--jobs",
    "--arch",
    "--os",
    "--variant",
    "--authfile",
    "--creds",
    "--volume",
    "-t",
    "-f",
    "-o",
    "-c",
    "-m",
    "-v",
];

/// The global options of `docker` that take a value.
const DOCKER_GLOBAL_VALUED: &[&str] = &[
    "--config",
    "--context",
    "-c",
    "--host",
    "-H",
    "--log-level",
    "-l",
    "--tlscacert",
    "--tlscert",
    "--tlskey",
];

/// The image action of one command, if it has one.
pub fn action(words: &[Text]) -> Option<Action> {
    let words = strip_wrappers(words);
    let program = words.first()?.value()?;
    let base = program.rsplit('/').next().unwrap_or(program);
    match base {
        "docker" | "podman" | "nerdctl" => docker(base, &words[1..]),
        "buildah" => buildah(&words[1..]),
        "executor" if program.contains("kaniko") || base == "executor" => {
            Some(Action::Build(kaniko(&words[1..])))
        }
        _ => None,
    }
}

/// `sudo`, `env VAR=…`, `exec`, `command` in front of the program.
fn strip_wrappers(words: &[Text]) -> &[Text] {
    let mut rest = words;
    while let Some(first) = rest.first().and_then(Text::value) {
        match first {
            "sudo" | "exec" | "command" | "nohup" => rest = &rest[1..],
            "env" => {
                rest = &rest[1..];
                while rest
                    .first()
                    .and_then(Text::value)
                    .is_some_and(|w| w.contains('=') || w.starts_with('-'))
                {
                    rest = &rest[1..];
                }
            }
            _ => break,
        }
    }
    rest
}

fn docker(tool: &str, args: &[Text]) -> Option<Action> {
    let mut i = 0;
    while let Some(word) = args.get(i).and_then(Text::value) {
        if !word.starts_with('-') {
            break;
        }
        i += if DOCKER_GLOBAL_VALUED.contains(&word) {
            2
        } else {
            1
        };
    }
    let sub = args.get(i)?.value()?;
    let rest = &args[i + 1..];
    let next = rest.first().and_then(Text::value);
    match (sub, next) {
        ("build", _) => Some(Action::Build(build(&format!("{tool} build"), rest))),
        ("buildx" | "builder" | "image", Some("build" | "b")) => Some(Action::Build(build(
            &format!("{tool} {sub} build"),
            &rest[1..],
        ))),
        ("push", _) => push(rest),
        ("image" | "manifest", Some("push")) => push(&rest[1..]),
        ("tag", _) => tag(rest),
        ("image", Some("tag")) => tag(&rest[1..]),
        ("buildx", Some("imagetools")) if rest.get(1).and_then(Text::value) == Some("create") => {
            imagetools_create(&rest[2..])
        }
        _ => None,
    }
}

fn buildah(args: &[Text]) -> Option<Action> {
    match args.first()?.value()? {
        "bud" | "build" | "build-using-dockerfile" => {
            Some(Action::Build(build("buildah build", &args[1..])))
        }
        "push" => push(&args[1..]),
        "tag" => tag(&args[1..]),
        _ => None,
    }
}

/// `--name value` or `--name=value` at `args[i]`: the option name, its value and how many
/// words it took.
fn option(args: &[Text], i: usize) -> Option<(String, Option<Text>, usize)> {
    let word = args.get(i)?;
    let (name, inline) = match word.split_once('=') {
        Some((name, value)) if name.value().is_some_and(|n| n.starts_with("--")) => {
            (name.value()?.to_owned(), Some(value))
        }
        _ => (word.value()?.to_owned(), None),
    };
    if !name.starts_with('-') || name == "-" {
        return None;
    }
    if inline.is_some() {
        return Some((name, inline, 1));
    }
    // `-tname:1`: a short option with its value attached.
    if let (false, Some(short), Some(value)) =
        (name.starts_with("--"), name.get(..2), name.get(2..))
        && !value.is_empty()
        && VALUED.contains(&short)
    {
        return Some((short.to_owned(), Some(Text::known(value)), 1));
    }
    if VALUED.contains(&name.as_str()) {
        return Some((name, args.get(i + 1).cloned(), 2));
    }
    Some((name, None, 1))
}

fn build(tool: &str, args: &[Text]) -> BuildCommand {
    let mut out = BuildCommand {
        tool: tool.to_owned(),
        ..BuildCommand::default()
    };
    let mut i = 0;
    while i < args.len() {
        let Some((name, value, taken)) = option(args, i) else {
            if out.context.is_none() {
                out.context = args.get(i).cloned();
            }
            i += 1;
            continue;
        };
        i += taken;
        match (name.as_str(), value) {
            ("--tag" | "-t", Some(v)) => out.tags.push(v),
            ("--file" | "-f", Some(v)) => out.file = Some(v),
            ("--target", Some(v)) => out.target = Some(v),
            ("--platform", Some(v)) => out.platforms.extend(split_commas(&v)),
            ("--build-arg", Some(v)) => out.build_args.push(build_arg(&v)),
            ("--push", _) => out.push = true,
            ("--output" | "-o", Some(v)) => {
                let shown = v.display();
                if shown.contains("type=registry") || shown.contains("push=true") {
                    out.push = true;
                }
            }
            _ => {}
        }
    }
    out
}

fn kaniko(args: &[Text]) -> BuildCommand {
    let mut out = BuildCommand {
        tool: "kaniko".to_owned(),
        push: true,
        ..BuildCommand::default()
    };
    let mut i = 0;
    while i < args.len() {
        let word = &args[i];
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) => (n.display(), Some(v)),
            None => (word.display(), None),
        };
        let takes = matches!(
            name.as_str(),
            "--context"
                | "-c"
                | "--dockerfile"
                | "-f"
                | "--destination"
                | "-d"
                | "--build-arg"
                | "--target"
                | "--custom-platform"
        );
        let value = if takes {
            match inline {
                Some(v) => Some(v),
                None => {
                    i += 1;
                    args.get(i).cloned()
                }
            }
        } else {
            None
        };
        i += 1;
        match (name.as_str(), value) {
            ("--context" | "-c", Some(v)) => {
                let shown = v.as_marked().to_owned();
                out.context = Some(Text::from_marked(
                    shown.strip_prefix("dir://").unwrap_or(&shown).to_owned(),
                ));
            }
            ("--dockerfile" | "-f", Some(v)) => out.file = Some(v),
            ("--destination" | "-d", Some(v)) => out.tags.push(v),
            ("--build-arg", Some(v)) => out.build_args.push(build_arg(&v)),
            ("--target", Some(v)) => out.target = Some(v),
            ("--custom-platform", Some(v)) => out.platforms.push(v),
            ("--no-push", _) => out.push = false,
            _ => {}
        }
    }
    out
}

fn build_arg(value: &Text) -> (String, Option<Text>) {
    match value.split_once('=') {
        Some((name, v)) => (name.display(), Some(v)),
        None => (value.display(), None),
    }
}

fn split_commas(value: &Text) -> Vec<Text> {
    let mut out = Vec::new();
    let mut rest = value.clone();
    while let Some((head, tail)) = rest.split_once(',') {
        if !head.is_empty() {
            out.push(head);
        }
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fn push(args: &[Text]) -> Option<Action> {
    let mut all_tags = false;
    let mut image = None;
    for word in args {
        match word.value() {
            Some("--all-tags" | "-a") => all_tags = true,
            Some(w) if w.starts_with('-') => {}
            _ if image.is_none() => image = Some(word.clone()),
            _ => {}
        }
    }
    image.map(|image| Action::Push { image, all_tags })
}

fn tag(args: &[Text]) -> Option<Action> {
    let operands: Vec<&Text> = args
        .iter()
        .filter(|w| !w.value().is_some_and(|v| v.starts_with('-')))
        .collect();
    match operands.as_slice() {
        [source, target, ..] => Some(Action::Tag {
            source: (*source).clone(),
            target: (*target).clone(),
        }),
        _ => None,
    }
}

fn imagetools_create(args: &[Text]) -> Option<Action> {
    let mut target = None;
    let mut source = None;
    let mut i = 0;
    while i < args.len() {
        match option(args, i) {
            Some((name, value, taken)) => {
                if matches!(name.as_str(), "--tag" | "-t") {
                    target = value;
                }
                i += taken;
            }
            None => {
                if source.is_none() {
                    source = args.get(i).cloned();
                }
                i += 1;
            }
        }
    }
    Some(Action::Tag {
        source: source?,
        target: target?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
