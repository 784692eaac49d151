//! Shared benchmark setup: a realistic 500-Dockerfile repository (official-image style
//! names, ~180 unique tags shared between files, multi-stage builds, ARG defaults) and
//! the registry seeded for it. Test support only; included by the `check` and `pin`
//! benches.

use std::collections::BTreeSet;
use std::path::Path;

use strata_testkit::{Format, Image, Index, TestRegistry};
use tokio::task::JoinSet;

/// Writes `files` (relative path, text) below `root`.
pub(crate) fn write_files(root: &Path, files: &[(String, String)]) {
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
}

/// Official-image style repositories and tags: ~180 tags, a third of them multi-arch.
pub(crate) fn official_tags() -> Vec<(String, String)> {
    let families: [(&str, &[&str]); 18] = [
        ("python", &["3.13", "3.12", "3.11", "3.10", "3.9"]),
        ("node", &["22", "20", "18"]),
        ("golang", &["1.23", "1.22", "1.21"]),
        ("ruby", &["3.3", "3.2"]),
        ("php", &["8.3-fpm", "8.2-fpm", "8.3-apache"]),
        ("eclipse-temurin", &["21-jre", "21-jdk", "17-jre", "17-jdk"]),
        ("rust", &["1.82", "1.81"]),
        ("debian", &["bookworm", "bookworm-slim", "bullseye-slim"]),
        ("ubuntu", &["24.04", "22.04", "20.04"]),
        ("alpine", &["3.20", "3.19", "3.18", "latest"]),
        ("nginx", &["1.27", "1.27-alpine", "1.26"]),
        ("redis", &["7", "7-alpine", "6"]),
        ("postgres", &["17", "16", "15"]),
        ("mysql", &["8.4", "8.0"]),
        ("httpd", &["2.4"]),
        ("memcached", &["1.6"]),
        ("mongo", &["7.0", "6.0"]),
        ("elixir", &["1.17"]),
    ];
    let mut out = Vec::new();
    for (name, versions) in families {
        for version in versions {
            for variant in ["", "-slim", "-alpine", "-bookworm"] {
                let distro = matches!(name, "debian" | "ubuntu" | "alpine");
                if variant.is_empty() || !distro {
                    out.push((format!("library/{name}"), format!("{version}{variant}")));
                }
            }
        }
    }
    out
}

/// Pushes an image (a multi-arch index for every third tag) for each tag; `salt` makes
/// new content, so seeding again moves the tags.
pub(crate) async fn seed(registry: &TestRegistry, tags: &[(String, String)], salt: &str) {
    let mut tasks = JoinSet::new();
    for (i, (repo, tag)) in tags.iter().cloned().enumerate() {
        let seeder = registry.seeder().clone();
        let seed = format!("{repo}-{tag}{salt}");
        tasks.spawn(async move {
            if i % 3 == 0 {
                let index = Index::multi_arch(Format::Docker, &seed);
                seeder.push_index(&repo, &tag, &index).await.unwrap();
            } else {
                seeder
                    .push_image(&repo, &tag, &Image::new(&seed))
                    .await
                    .unwrap();
            }
        });
        if tasks.len() >= 16 {
            tasks.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
}

/// 500 Dockerfiles: a build stage through an ARG default, a tool stage, a runtime stage,
/// chosen so that popular tags recur across many files.
pub(crate) fn realistic_files(tags: &[(String, String)]) -> Vec<(String, String)> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Squaring skews the choice towards the first (popular) tags.
        let x = ((state >> 33) as f64) / f64::from(1u32 << 31);
        ((x * x) * n as f64) as usize % n
    };
    let name =
        |(repo, tag): &(String, String)| format!("{}:{tag}", repo.trim_start_matches("library/"));
    (0..500)
        .map(|i| {
            let build = name(&tags[next(tags.len())]);
            let tools = name(&tags[next(tags.len())]);
            let runtime = name(&tags[next(tags.len())]);
            let text = format!(
                "ARG BUILD_IMAGE={build}\n\
                 FROM ${{BUILD_IMAGE}} AS build\nWORKDIR /src\nCOPY . .\nRUN make\n\n\
                 FROM {tools} AS tools\nRUN true\n\n\
                 FROM {runtime}\nCOPY --from=build /src/out /app\n\
                 COPY --from=tools /usr/bin/tool /usr/bin/tool\nCMD [\"/app\"]\n"
            );
            (format!("services/svc{i:03}/Dockerfile"), text)
        })
        .collect()
}

/// Distinct `name:tag` references in `FROM` lines and `ARG` defaults.
pub(crate) fn unique_tags(files: &[(String, String)]) -> usize {
    let mut seen = BTreeSet::new();
    for (_, text) in files {
        for line in text.lines() {
            let word = if let Some(rest) = line.strip_prefix("ARG BUILD_IMAGE=") {
                Some(rest)
            } else if let Some(rest) = line.strip_prefix("FROM ") {
                rest.split_whitespace()
                    .next()
                    .filter(|w| !w.starts_with('$'))
            } else {
                None
            };
            if let Some(word) = word {
                seen.insert(word.to_owned());
            }
        }
    }
    seen.len()
}
