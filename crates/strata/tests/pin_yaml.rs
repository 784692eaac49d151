//! `strata pin` on the YAML shapes that other files bring in or that sit outside the usual
//! paths: a compose file `include`d from another (interpolated with the including
//! project's `.env`), a service `extends` takes from a shared file, an action's
//! `runs.image`, a custom resource's pod template and an image volume. Against the real
//! registry; the pinned files must read back as the scan read them.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod pin_support;

use pin_support::{Repo, mirror_flags, served};
use strata_testkit::{Image, TestRegistry};

fn shapes() -> Vec<(&'static str, &'static str)> {
    vec![
        ("stack/.env", "CACHE_TAG=1.6\n"),
        (
            "stack/compose.yaml",
            "\
include:
  - parts/cache.yml
services:
  api:
    extends:
      file: parts/base.yml
      service: api
  web:
    image: nginx:1.27«@library/nginx:1.27»
",
        ),
        (
            "stack/parts/cache.yml",
            "services:\n  cache:\n    image: memcached:${CACHE_TAG}«@library/memcached:1.6»\n",
        ),
        (
            // `unused` is not brought in by the `extends`, so it is not read: its image is
            // not in the registry, and a lookup of it would fail the run.
            "stack/parts/base.yml",
            "services:\n  api:\n    image: python:3.12«@library/python:3.12»\n  unused:\n    image: node:20\n",
        ),
        (
            "action.yml",
            "name: tool\nruns:\n  using: docker\n  image: 'docker://alpine:3.20«@library/alpine:3.20»'\n",
        ),
        (
            "deploy/ray.yaml",
            "\
apiVersion: ray.io/v1
kind: RayCluster
spec:
  headGroupSpec:
    template:
      spec:
        containers:
        - name: head
          image: busybox:1.36«@library/busybox:1.36»
        volumes:
        - name: weights
          image:
            reference: redis:7-alpine«@library/redis:7-alpine»
",
        ),
        ("old/docker-compose.yml", "web:\n  image: mysql:8\n"),
    ]
}

#[tokio::test]
async fn pins_brought_in_compose_files_actions_and_custom_resources() {
    let registry = TestRegistry::start().await.unwrap();
    let seeder = registry.seeder();
    for (repo, tag) in [
        ("library/nginx", "1.27"),
        ("library/memcached", "1.6"),
        ("library/python", "3.12"),
        ("library/alpine", "3.20"),
        ("library/busybox", "1.36"),
        ("library/redis", "7-alpine"),
    ] {
        seeder
            .push_image(repo, tag, &Image::new(repo))
            .await
            .unwrap();
    }
    let repo = Repo::new(&shapes());
    let flags = mirror_flags(&["docker.io"], &registry.host());
    let digests = served(&registry, &repo.marked_tags()).await;
    let mut args = vec!["pin", "--format", "json"];
    args.extend(flags.iter().map(String::as_str));

    let run = repo.strata(&args).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for (path, expected) in repo.expected(&digests) {
        assert_eq!(repo.read(&path), expected, "{path}");
    }
    let doc = run.json();
    assert_eq!(doc["pins"].as_array().unwrap().len(), 6, "{doc}");
    let skips: Vec<&str> = doc["skips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(skips, ["compose-v1"]);

    // Read back as the scan reads it: everything is pinned now.
    let again = repo.strata(&args).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let doc = again.json();
    assert_eq!(doc["pins"].as_array().unwrap().len(), 0, "{doc}");
    assert_eq!(doc["already_pinned"].as_array().unwrap().len(), 6, "{doc}");
}
