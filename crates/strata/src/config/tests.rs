use super::*;

fn file() -> PathBuf {
    PathBuf::from("/repo/strata.toml")
}

fn parse_ok(text: &str) -> Config {
    parse(text, &file()).unwrap()
}

fn parse_err(text: &str) -> String {
    parse(text, &file()).unwrap_err().to_string()
}

#[test]
fn an_empty_file_is_the_defaults() {
    let config = parse_ok("");
    assert_eq!(config.registry, RegistrySettings::default());
    assert!(!config.registry.verify, "one request per tag unless asked");
    assert_eq!(config.file, Some(file()));
}

#[test]
fn every_registry_key_is_read_and_typed() {
    let config = parse_ok(
        r#"
[registry]
insecure = ["Registry.LAN:5000", "other.lan"]
ca_file = "certs/ca.pem"
max_in_flight = 4
verify = true

[registry.mirrors]
"docker.io" = "127.0.0.1:5000"
"ghcr.io" = "[::1]:5002"
"#,
    );
    let r = &config.registry;
    assert_eq!(
        r.insecure.iter().map(Host::as_str).collect::<Vec<_>>(),
        ["registry.lan:5000", "other.lan"]
    );
    assert_eq!(r.ca_file, Some(PathBuf::from("/repo/certs/ca.pem")));
    assert_eq!(r.max_in_flight, 4);
    assert!(r.verify);
    let mirrors: Vec<(&str, String)> = r
        .mirrors
        .iter()
        .map(|(k, v)| (k.as_str(), v.to_string()))
        .collect();
    assert_eq!(
        mirrors,
        [
            ("docker.io", "127.0.0.1:5000".to_owned()),
            ("ghcr.io", "[::1]:5002".to_owned())
        ]
    );
}

#[test]
fn errors_name_the_file_and_the_key() {
    let cases = [
        (
            "[registry]\nmax_in_flight = 0\n",
            "registry.max_in_flight: 0 is out of range",
        ),
        ("[registry]\nmax_in_flight = -3\n", "registry.max_in_flight"),
        (
            "[registry]\ninsecure = [\"http://x.lan\"]\n",
            "registry.insecure[0]: \"http://x.lan\" is a URL",
        ),
        ("[registry]\ninsecure = [\"a b\"]\n", "registry.insecure[0]"),
        (
            "[registry.mirrors]\n\"docker.io\" = \"ftp://m.lan\"\n",
            "registry.mirrors.\"docker.io\": \"ftp://m.lan\": a mirror's scheme must be http or https",
        ),
        (
            "[registry.mirrors]\n\"docker.io\" = \"https://m.lan/v2\"\n",
            "registry.mirrors.\"docker.io\"",
        ),
        (
            "[registry.mirrors]\n\"https://docker.io\" = \"m.lan\"\n",
            "is a URL",
        ),
        (
            "[registry.mirrors]\n\"not a host\" = \"m.lan\"\n",
            "registry.mirrors.\"not a host\"",
        ),
        (
            "[registry.mirrors]\n\"docker.io\" = \"a.lan\"\n\"index.docker.io\" = \"b.lan\"\n",
            "a second mirror for docker.io",
        ),
    ];
    for (text, expected) in cases {
        let err = parse_err(text);
        assert!(err.starts_with("/repo/strata.toml:"), "{err}");
        assert!(err.contains(expected), "{text:?}: {err}");
    }
}

#[test]
fn unknown_keys_and_bad_types_are_refused_with_their_place() {
    let err = parse_err("[registry]\ninsecur = []\n");
    assert!(err.contains("/repo/strata.toml"), "{err}");
    assert!(err.contains("insecur"), "{err}");
    let err = parse_err("[registy]\n");
    assert!(err.contains("registy"), "{err}");
    let err = parse_err("[registry]\nmax_in_flight = \"many\"\n");
    assert_eq!(
        err,
        "/repo/strata.toml:2:17: registry.max_in_flight: invalid type: string \"many\", expected i64"
    );
}

#[test]
fn the_default_file_is_optional_but_an_explicit_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(load(None, dir.path()).unwrap(), Config::default());
    let missing = dir.path().join("nope.toml");
    let err = load(Some(&missing), dir.path()).unwrap_err();
    assert!(err.to_string().contains("nope.toml: cannot read"), "{err}");
    std::fs::write(
        dir.path().join(FILE_NAME),
        "[registry]\nmax_in_flight = 2\n",
    )
    .unwrap();
    assert_eq!(load(None, dir.path()).unwrap().registry.max_in_flight, 2);
}

#[test]
fn mirror_flags_parse_like_config_entries() {
    let (from, to) = parse_mirror("registry-1.docker.io=127.0.0.1:5000").unwrap();
    assert_eq!(
        (from.as_str(), to.to_string().as_str()),
        ("docker.io", "127.0.0.1:5000")
    );
    assert!(
        parse_mirror("docker.io")
            .unwrap_err()
            .contains("REGISTRY=HOST")
    );
    assert!(
        parse_mirror("http://docker.io=x")
            .unwrap_err()
            .contains("URL")
    );
    // Docker's `registry-mirrors` are URLs: the scheme, when written, is kept.
    for (flag, shown) in [
        ("docker.io=https://127.0.0.1:5443", "https://127.0.0.1:5443"),
        ("docker.io=HTTPS://Mirror.lan/", "https://mirror.lan"),
        ("docker.io=http://mirror.lan:80", "http://mirror.lan:80"),
        ("docker.io=mirror.lan", "mirror.lan"),
    ] {
        assert_eq!(parse_mirror(flag).unwrap().1.to_string(), shown, "{flag}");
    }
}
