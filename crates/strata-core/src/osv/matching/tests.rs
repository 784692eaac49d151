//! OSV range evaluation (osv-schema docs, "Evaluation") with dpkg and apk ordering.

use super::*;
use crate::osv::Advisory;
use crate::package::{Manager, OsRelease};

fn release(text: &str) -> Release {
    OsRelease::parse(text)
        .and_then(|r| r.release())
        .unwrap_or_else(|| panic!("{text}"))
}

fn pkg(name: &str, source: &str, version: &str, manager: Manager) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        architecture: None,
        source: source.into(),
        source_version: version.into(),
        manager,
    }
}

fn advisory(json: &str) -> Advisory {
    Advisory::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}: {json}"))
}

#[test]
fn ecosystem_ranges_follow_the_osv_evaluation_rules() {
    let index = AdvisoryIndex::new([
        advisory(
            r#"{"id":"DSA-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"tar"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.34+dfsg-1.2+deb12u1"}]}]}]}"#,
        ),
        advisory(
            r#"{"id":"LA-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian","name":"tar"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.30"},{"last_affected":"1.34+dfsg-1.2"}]}]}]}"#,
        ),
        advisory(
            r#"{"id":"OTHER-REL","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:11","name":"tar"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
        ),
        advisory(
            r#"{"id":"GONE","modified":"2024-01-01T00:00:00Z","withdrawn":"2024-02-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"tar"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
        ),
        advisory(
            r#"{"id":"LISTED","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"tar"},"versions":["1.34+dfsg-1.2+deb12u1"]}]}"#,
        ),
    ]);
    let debian = release("ID=debian\nVERSION_ID=\"12\"\n");
    let ids = |version: &str| -> Vec<String> {
        let p = [pkg("tar", "tar", version, Manager::Dpkg)];
        index
            .matches(&debian, &p)
            .into_iter()
            .map(|f| f.id)
            .collect()
    };
    assert_eq!(ids("1.34+dfsg-1.2"), ["DSA-1", "LA-1"]);
    // `fixed` is exclusive, `last_affected` inclusive; a `versions` entry matches alone.
    assert_eq!(ids("1.34+dfsg-1.2+deb12u1"), ["LISTED"]);
    assert_eq!(ids("1.29"), ["DSA-1"]);
    assert_eq!(ids("1.34+dfsg-1.2~bpo1"), ["DSA-1", "LA-1"]);
}

#[test]
fn advisories_name_the_source_package() {
    let index = AdvisoryIndex::new([advisory(
        r#"{"id":"ALPINE-1","modified":"2024-01-01T00:00:00Z","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"affected":[{"package":{"ecosystem":"Alpine:v3.20","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.3.2-r0"}]}]}]}"#,
    )]);
    let alpine = release("ID=alpine\nVERSION_ID=3.20.1\n");
    let packages = [
        pkg("libcrypto3", "openssl", "3.3.1-r3", Manager::Apk),
        pkg("libssl3", "openssl", "3.3.1-r3", Manager::Apk),
        pkg("openssl", "other", "3.3.1-r3", Manager::Apk),
    ];
    let found = index.matches(&alpine, &packages);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].packages, ["libcrypto3", "libssl3"]);
    assert_eq!(found[0].fixed_in.as_deref(), Some("3.3.2-r0"));
    assert_eq!(found[0].severity, Some(Rating::Critical));
    let other = release("ID=alpine\nVERSION_ID=3.19.0\n");
    assert!(index.matches(&other, &packages).is_empty());
}

#[test]
fn the_delta_says_fixed_introduced_and_remaining() {
    let f = |id: &str, version: &str| Finding {
        id: id.into(),
        aliases: vec![],
        summary: None,
        severity: None,
        score: None,
        source: "tar".into(),
        version: version.into(),
        fixed_in: None,
        packages: vec!["tar".into()],
    };
    let d = delta(&[f("A", "1"), f("B", "1")], &[f("B", "2"), f("C", "2")]);
    let ids = |l: &[DeltaEntry]| l.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&d.fixed), ["A"]);
    assert_eq!(ids(&d.introduced), ["C"]);
    assert_eq!(ids(&d.remaining), ["B"]);
    assert_eq!(d.remaining[0].old_version.as_deref(), Some("1"));
    assert_eq!(d.remaining[0].new_version.as_deref(), Some("2"));
}
