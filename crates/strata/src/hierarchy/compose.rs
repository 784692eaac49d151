//! graph stage, compose side: the services of a compose file that build an image
//! (`build:` next to `image:`), with the Dockerfile and stage they build. Reads the text
//! it is given; the image name comes from the core extractor (which interpolates
//! variables) matched by line, else from the value as written.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;
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
    },
}

/// The building services of one compose file; `Err` when the YAML does not read as
/// compose (the scan reports the file's own errors).
pub(super) fn builds(text: &str, extraction: &Extraction) -> Result<Vec<ComposeBuild>, String> {
    let file: File = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
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
        let (context, dockerfile, target) = match build {
            Build::Context(context) => (context, None, None),
            Build::Full {
                context,
                dockerfile,
                target,
            } => (
                context.unwrap_or_else(|| ".".to_owned()),
                dockerfile,
                target,
            ),
        };
        out.push(ComposeBuild {
            service,
            image,
            context,
            dockerfile: dockerfile.unwrap_or_else(|| "Dockerfile".to_owned()),
            target: target.map(|t| t.to_ascii_lowercase()),
        });
    }
    Ok(out)
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
        let found = builds(text, &extraction).unwrap();
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
        assert!(builds("services: [", &Extraction::default()).is_err());
    }
}
