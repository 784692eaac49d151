//! ci stage: the inputs of Docker's GitHub Actions read into builds and outputs —
//! `docker/build-push-action` (v2 and later, and v1's own inputs) and the outputs of
//! `docker/metadata-action` that later steps read. Pure.
//!
//! build-push-action's inputs are read as its `src/context.ts` reads them: `tags`,
//! `platforms` split at newlines and commas, `build-args` one per line; `context`
//! defaults to the repository (Git context), `file` to `{context}/Dockerfile`; nothing is
//! pushed unless `push` is true or an `outputs` entry is `type=registry`. v1 takes
//! `repository` (with `registry`), comma-separated `tags` and `build_args`, `path`,
//! `dockerfile`, `tag_with_ref` (the branch; `latest` for master; a pushed tag's name) and
//! `tag_with_sha`, and pushes by default.

use super::super::expr::Value;
use super::super::list::{ListOptions, input_list};
use super::super::metadata;
use super::super::path;
use super::super::script::Described;
use super::super::text::Text;
use super::super::{Pushed, Run};

const LINES: ListOptions = ListOptions {
    ignore_comma: true,
    comments: false,
};
const ITEMS: ListOptions = ListOptions {
    ignore_comma: false,
    comments: false,
};

/// The outputs of a metadata-action step.
pub(super) fn meta_outputs(output: &metadata::Output) -> Value {
    let mut joined = Text::default();
    let mut names = Text::default();
    for (i, tag) in output.tags.iter().enumerate() {
        if i > 0 {
            joined.push_str("\n");
            names.push_str("\n");
        }
        joined.push(tag);
        if let Some((_, name)) = tag.rsplit_once(':') {
            names.push(&name);
        }
    }
    let version = output
        .tags
        .first()
        .and_then(|t| t.rsplit_once(':'))
        .map_or(Value::Null, |(_, v)| Value::text(&v));
    Value::object(vec![(
        "outputs".into(),
        Value::object(vec![
            ("tags".into(), Value::text(&joined)),
            ("tag-names".into(), Value::text(&names)),
            ("version".into(), version),
        ]),
    )])
}

fn bool_input(value: Option<&Text>) -> Result<bool, String> {
    match value.map(|v| v.value().map(str::to_owned).ok_or_else(|| v.display())) {
        None => Ok(false),
        Some(Ok(text)) => match text.as_str() {
            "true" | "True" | "TRUE" => Ok(true),
            "false" | "False" | "FALSE" | "" => Ok(false),
            other => Err(other.to_owned()),
        },
        Some(Err(written)) => Err(written),
    }
}

/// build-push-action v2 and later.
pub(super) fn build_push(with: &dyn Fn(&str) -> Option<Text>) -> Described {
    let mut questions = Vec::new();
    let context = match with("context") {
        None => Text::known("."),
        Some(c) => {
            let shown = c.display();
            let c = match shown.strip_prefix("{{defaultContext}}") {
                Some(rest) => Text::known(rest.trim_start_matches(':')),
                None => c,
            };
            if shown.contains("://") || shown.starts_with("git@") {
                questions.push(format!("the build context is a remote source ({shown})"));
            }
            path::join(".", &c).unwrap_or(c)
        }
    };
    let dockerfile = with("file").map(|f| path::join(".", &f).unwrap_or(f));
    let build_args = with("build-args")
        .map(|a| input_list(&a, LINES))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|arg| arg.split_once('=').map(|(n, v)| (n.display(), v)))
        .collect();
    let tags = with("tags")
        .map(|t| input_list(&t, ITEMS))
        .unwrap_or_default();
    let pushes = bool_input(with("push").as_ref());
    let outputs = with("outputs").map(|o| o.display()).unwrap_or_default();
    let pushed = match pushes {
        Ok(true) => Pushed::Yes,
        _ if outputs.contains("type=registry") || outputs.contains("push=true") => Pushed::Yes,
        Ok(false) => Pushed::No,
        Err(written) => Pushed::Maybe(format!("push: {written}")),
    };
    if tags.is_empty() {
        questions.push("the build has no tags".to_owned());
    }
    Described {
        line: 0,
        tool: "docker/build-push-action".to_owned(),
        context,
        dockerfile,
        target: with("target").filter(|t| !t.is_empty()),
        platforms: with("platforms")
            .map(|p| input_list(&p, ITEMS))
            .unwrap_or_default(),
        build_args,
        tags,
        pushed,
        questions,
    }
}

/// build-push-action v1.
pub(super) fn build_push_v1(with: &dyn Fn(&str) -> Option<Text>, run: &Run) -> Described {
    let mut questions = Vec::new();
    let context =
        with("path").map_or_else(|| Text::known("."), |p| path::join(".", &p).unwrap_or(p));
    let repository = with("repository").unwrap_or_default();
    let name = match with("registry").filter(|r| !r.is_empty()) {
        Some(registry) => {
            let mut n = registry;
            n.push_str("/");
            n.push(&repository);
            n
        }
        None => repository,
    };
    let mut tags: Vec<Text> = with("tags")
        .map(|t| input_list(&t, ITEMS))
        .unwrap_or_default()
        .into_iter()
        .map(|tag| {
            let mut image = name.clone();
            image.push_str(":");
            image.push(&tag);
            image
        })
        .collect();
    let mut tagged = |tag: Text| {
        let mut image = name.clone();
        image.push_str(":");
        image.push(&tag);
        tags.push(image);
    };
    if bool_input(with("tag_with_ref").as_ref()) == Ok(true) {
        match run {
            Run::Branch(b) | Run::Dispatch(b) | Run::Schedule(b) => {
                tagged(Text::known(&if b == "master" {
                    "latest".to_owned()
                } else {
                    b.replace('/', "-")
                }));
            }
            Run::GitTag => tagged(Text::unknown("<pushed git tag>")),
        }
    }
    if bool_input(with("tag_with_sha").as_ref()) == Ok(true) {
        let mut sha = Text::known("sha-");
        sha.push(&Text::unknown("<short commit sha>"));
        tagged(sha);
    }
    if tags.is_empty() {
        questions.push(
            "build-push-action v1 without tags: which tag it pushes is not written".to_owned(),
        );
    }
    let pushed = match bool_input(with("push").as_ref()) {
        _ if with("push").is_none() => Pushed::Yes,
        Ok(true) => Pushed::Yes,
        Ok(false) => Pushed::No,
        Err(written) => Pushed::Maybe(format!("push: {written}")),
    };
    Described {
        line: 0,
        tool: "docker/build-push-action@v1".to_owned(),
        dockerfile: with("dockerfile").map(|f| path::join(".", &f).unwrap_or(f)),
        context,
        target: with("target").filter(|t| !t.is_empty()),
        platforms: Vec::new(),
        build_args: with("build_args")
            .map(|a| input_list(&a, ITEMS))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|arg| arg.split_once('=').map(|(n, v)| (n.display(), v)))
            .collect(),
        tags,
        pushed,
        questions,
    }
}
