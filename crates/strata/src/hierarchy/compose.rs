//! graph stage, compose side: the services of a compose file that build an image
//! (`build:` next to `image:`), with the Dockerfile, stage and build arguments they build
//! with — interpolated as compose interpolates them (`dockerfile: "${DF:-Dockerfile}"`).
//! Reads the text it is given; the image name comes from the core extractor (which
//! interpolates variables) matched by line, else from the value as written.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;
use strata_core::extract::compose::interpolate;
use strata_core::graph::ImageRef;
use strata_core::occurrence::{Extraction, Role};

/// A compose service that builds `image`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ComposeBuild {
    pub service: String,
    pub image: ImageRef,
    /// The build context, relative to the compose file's directory.
    pub context: String,
    /// The Dockerfile, relative to the context (default `Dockerfile`).
    pub dockerfile: String,
    pub target: Option<String>,
    /// `build.args`, interpolated (an argument with no value takes the variable's).
    pub args: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    services: BTreeMap<String, Service>,
}

#[derive(Deserialize)]
struct Service {
    image: Option<Spanned<String>>,
    build: Option<Build>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Build {
    Context(String),
    Full {
        context: Option<String>,
        dockerfile: Option<String>,
        target: Option<String>,
        #[serde(default)]
        args: Option<Args>,
    },
}

/// `args:` as a mapping (`NAME: value`, a null value takes the variable's) or a list
/// (`- NAME=value`, `- NAME`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Args {
    Map(BTreeMap<String, Option<ArgValue>>),
    List(Vec<String>),
}

/// Compose takes numbers and booleans as argument values too.
#[derive(Deserialize)]
#[serde(untagged)]
enum ArgValue {
    Text(String),
    Number(f64),
    Flag(bool),
}

impl ArgValue {
    fn text(self) -> String {
        match self {
            ArgValue::Text(text) => text,
            ArgValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            ArgValue::Number(n) => n.to_string(),
            ArgValue::Flag(b) => b.to_string(),
        }
    }
}

/// The building services of one compose file, with `vars` as compose's variables; `Err`
/// when the YAML does not read as compose (the scan reports the file's own errors). A
/// service whose build settings cannot be interpolated is left out with a warning.
pub(super) fn builds(
    text: &str,
    extraction: &Extraction,
    vars: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<ComposeBuild>, Vec<String>), String> {
    let file: File = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for (service, spec) in file.services {
        let (Some(image), Some(build)) = (spec.image, spec.build) else {
            continue;
        };
        let line = usize::try_from(image.referenced.line()).unwrap_or(0);
        let resolved = extraction
            .occurrences
            .iter()
            .find(|o| o.role == Role::Produces && o.line == line)
            .and_then(|o| ImageRef::new(&o.reference).ok())
            .or_else(|| ImageRef::parse(&image.value).ok());
        let Some(image) = resolved else {
            continue;
        };
        match settings(build, vars) {
            Ok((context, dockerfile, target, args)) => out.push(ComposeBuild {
                service,
                image,
                context,
                dockerfile,
                target,
                args,
            }),
            Err(e) => warnings.push(format!("service {service}: build: {e}")),
        }
    }
    Ok((out, warnings))
}

/// Context, Dockerfile, target and arguments of a `build:`, interpolated.
type Settings = (String, String, Option<String>, BTreeMap<String, String>);

fn settings(build: Build, vars: &dyn Fn(&str) -> Option<String>) -> Result<Settings, String> {
    let expand = |text: &str| interpolate(text, vars).map_err(|e| e.to_string());
    let (context, dockerfile, target, raw_args) = match build {
        Build::Context(context) => (context, None, None, None),
        Build::Full {
            context,
            dockerfile,
            target,
            args,
        } => (
            context.unwrap_or_else(|| ".".to_owned()),
            dockerfile,
            target,
            args,
        ),
    };
    let context = expand(&context)?;
    let dockerfile = match dockerfile {
        Some(text) => expand(&text)?,
        None => "Dockerfile".to_owned(),
    };
    let target = target
        .map(|t| expand(&t))
        .transpose()?
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_lowercase());
    let mut args = BTreeMap::new();
    let pairs: Vec<(String, Option<String>)> = match raw_args {
        None => Vec::new(),
        Some(Args::Map(map)) => map
            .into_iter()
            .map(|(k, v)| (k, v.map(ArgValue::text)))
            .collect(),
        Some(Args::List(list)) => list
            .into_iter()
            .map(|item| match item.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (item, None),
            })
            .collect(),
    };
    for (name, value) in pairs {
        // An argument without a value takes the variable of that name; unset: left out.
        let value = match value {
            Some(text) => Some(expand(&text)?),
            None => vars(&name),
        };
        if let Some(value) = value {
            args.insert(name, value);
        }
    }
    Ok((context, dockerfile, target, args))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use strata_core::extract::compose::extract;

    use super::*;

    #[test]
    fn services_with_build_and_image_are_builds() {
        let text = "\
services:
  web:
    build: ./web
    image: org/web:${TAG:-1}
  worker:
    build:
      context: worker
      dockerfile: Containerfile
      target: Runtime
    image: org/worker:2
  cache:
    image: redis:7
  local:
    build: .
";
        let extraction = extract(text, &|_| None);
        let (found, _) = builds(text, &extraction, &|_| None).unwrap();
        let summary: Vec<String> = found
            .iter()
            .map(|b| {
                format!(
                    "{} {} {}/{} {:?}",
                    b.service,
                    b.image.familiar(),
                    b.context,
                    b.dockerfile,
                    b.target
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                "web org/web:1 ./web/Dockerfile None",
                "worker org/worker:2 worker/Containerfile Some(\"runtime\")",
            ]
        );
        assert!(builds("services: [", &Extraction::default(), &|_| None).is_err());
    }

    /// compose-spec `build.md`: `dockerfile`, `context` and `args` values are interpolated
    /// like every other value; `args` is a mapping or a list, and an argument written
    /// without a value takes the variable of that name (left out when unset).
    #[test]
    fn build_settings_are_interpolated_as_compose_does() {
        let text = "\
services:
  app:
    build:
      context: ${CTX:-app}
      dockerfile: \"${APP_DOCKERFILE:-Dockerfile}\"
      target: ${STAGE-Runtime}
      args:
        PY: \"${PY:-3.12}\"
        FROM_ENV:
        COUNT: 3
    image: org/app:1
  list:
    build:
      context: .
      args:
        - BASE=org/base:${TAG:-1}
        - FROM_ENV
        - UNSET
    image: org/list:1
  broken:
    build:
      dockerfile: ${NEEDED:?set NEEDED}
    image: org/broken:1
";
        let vars = |name: &str| match name {
            "FROM_ENV" => Some("from-env".to_owned()),
            "APP_DOCKERFILE" => Some("Dockerfile.prod".to_owned()),
            _ => None,
        };
        let extraction = extract(text, &vars);
        let (found, warnings) = builds(text, &extraction, &vars).unwrap();
        let app = found.iter().find(|b| b.service == "app").unwrap();
        assert_eq!(
            (app.context.as_str(), app.dockerfile.as_str()),
            ("app", "Dockerfile.prod")
        );
        assert_eq!(app.target.as_deref(), Some("runtime"));
        assert_eq!(app.args["PY"], "3.12");
        assert_eq!(app.args["FROM_ENV"], "from-env");
        assert_eq!(app.args["COUNT"], "3");
        let list = found.iter().find(|b| b.service == "list").unwrap();
        assert_eq!(list.args["BASE"], "org/base:1");
        assert_eq!(list.args["FROM_ENV"], "from-env");
        assert!(!list.args.contains_key("UNSET"));
        assert!(found.iter().all(|b| b.service != "broken"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("NEEDED"), "{warnings:?}");
    }
}
