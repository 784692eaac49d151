//! The OCI image-spec layer.md whiteout rules, case by case.

use super::*;

fn file(content: &str) -> Entry {
    Entry::File(Some(content.as_bytes().to_vec()))
}

fn status(overlay: Overlay) -> Option<String> {
    overlay
        .finish()
        .dpkg_status
        .map(|b| String::from_utf8(b).unwrap_or_default())
}

#[test]
fn upper_layers_replace_lower_files() -> Result<(), OverlayError> {
    let mut o = Overlay::new();
    o.entry("./var/lib/dpkg/status", file("old"))?;
    o.end_layer();
    o.entry("/var/lib/dpkg/status", file("new"))?;
    o.end_layer();
    assert_eq!(status(o).as_deref(), Some("new"));
    Ok(())
}

#[test]
fn a_whiteout_deletes_the_lower_file_and_its_subtree() -> Result<(), OverlayError> {
    let mut o = Overlay::new();
    o.entry("var/lib/dpkg/status", file("old"))?;
    o.entry(
        "var/lib/dpkg/status.d/base",
        file("Package: base\nVersion: 1\n"),
    )?;
    o.end_layer();
    o.entry("var/lib/dpkg/.wh.status", Entry::File(None))?;
    o.entry("var/lib/.wh.dpkg", Entry::File(None))?;
    o.end_layer();
    let files = o.finish();
    assert!(files.dpkg_status.is_none());
    assert!(files.dpkg_status_d.is_empty());
    Ok(())
}

#[test]
fn a_whiteout_never_hides_its_own_layer() -> Result<(), OverlayError> {
    // layer.md: "Files that are present in the same layer as a whiteout file can only
    // be hidden by whiteout files in subsequent layers."
    let mut o = Overlay::new();
    o.entry("var/lib/dpkg/status", file("lower"))?;
    o.end_layer();
    o.entry("var/lib/dpkg/status", file("same layer"))?;
    o.entry("var/lib/dpkg/.wh.status", Entry::File(None))?;
    o.end_layer();
    assert_eq!(status(o).as_deref(), Some("same layer"));
    Ok(())
}

#[test]
fn an_opaque_directory_hides_lower_children_only() -> Result<(), OverlayError> {
    let mut o = Overlay::new();
    o.entry("var/lib/dpkg/status.d/a", file("Package: a\nVersion: 1\n"))?;
    o.entry("var/lib/dpkg/status.d/b", file("Package: b\nVersion: 1\n"))?;
    o.end_layer();
    o.entry("var/lib/dpkg/status.d/", Entry::Dir)?;
    o.entry("var/lib/dpkg/status.d/.wh..wh..opq", Entry::File(None))?;
    o.entry("var/lib/dpkg/status.d/c", file("Package: c\nVersion: 1\n"))?;
    o.end_layer();
    let files = o.finish();
    let names: Vec<&str> = files
        .dpkg_status_d
        .iter()
        .map(|(p, _)| p.as_str())
        .collect();
    assert_eq!(names, ["var/lib/dpkg/status.d/c"]);
    Ok(())
}

#[test]
fn a_file_replacing_a_directory_removes_what_was_below() -> Result<(), OverlayError> {
    let mut o = Overlay::new();
    o.entry("var/lib/dpkg/status.d/a", file("Package: a\nVersion: 1\n"))?;
    o.end_layer();
    o.entry("var/lib/dpkg/status.d", Entry::File(None))?;
    o.end_layer();
    assert!(o.finish().dpkg_status_d.is_empty());
    Ok(())
}

#[test]
fn os_release_symlinks_are_followed() -> Result<(), OverlayError> {
    let mut o = Overlay::new();
    o.entry("usr/lib/os-release", file("ID=debian\n"))?;
    o.entry(
        "etc/os-release",
        Entry::Symlink("../usr/lib/os-release".into()),
    )?;
    o.end_layer();
    assert_eq!(o.finish().os_release.as_deref(), Some(&b"ID=debian\n"[..]));
    Ok(())
}

#[test]
fn paths_escaping_the_root_are_refused() {
    let mut o = Overlay::new();
    let err = o.entry("../../var/lib/dpkg/status", file("x")).unwrap_err();
    assert!(err.to_string().contains("escapes the image root"), "{err}");
    assert_eq!(normalise("a/../b/./c").as_deref(), Ok("b/c"));
}

#[test]
fn unwanted_files_are_not_kept() {
    assert!(wanted("var/lib/dpkg/status"));
    assert!(wanted("var/lib/dpkg/status.d/libc6"));
    assert!(!wanted("var/lib/dpkg/status.d/libc6.md5sums"));
    assert!(!wanted("var/lib/dpkg/status-old"));
    assert!(!wanted("etc/passwd"));
}

#[test]
fn relevant_entries_are_wanted_files_their_directories_and_whiteouts() {
    for path in [
        "var",
        "var/lib/dpkg",
        "var/lib/.wh.dpkg",
        "var/lib/dpkg/status.d/.wh..wh..opq",
        "etc/os-release",
        "lib/apk/db/installed",
        "usr/lib",
        "var/lib/dpkg/status.d/x",
    ] {
        assert!(relevant(path), "{path}");
    }
    for path in [
        "usr/bin/python3",
        "var/lib/apt/lists/x",
        "etc/.wh.passwd",
        "var/lib/dpkg/info/x.list",
    ] {
        assert!(!relevant(path), "{path}");
    }
}
