//! library stage (knowledge): the natural successor of a removed official image tag,
//! chosen among the tags the library file still lists. Keeps the variant (`-slim`,
//! `-alpine`, `-windowsservercore-…`), lets release names advance (buster -> bookworm),
//! and stays on the version line when it can. Pure: library data in, a tag out.

use std::fmt;

use super::Library;
use super::manifest::Manifest;
use super::tag::{Anatomy, Token, Version, anatomy};

/// Images whose library file no longer lists any stable tag, and where their users went.
const SUCCESSOR_IMAGES: &[(&str, &str, &str)] = &[(
    "openjdk",
    "eclipse-temurin",
    "the openjdk image only publishes early-access builds now; eclipse-temurin is a \
     maintained OpenJDK build (amazoncorretto, ibm-semeru-runtimes and sapmachine are others)",
)];

/// A tag to move to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The library file name, e.g. `python` (normally the image of the removed tag).
    pub image: String,
    pub tag: String,
    /// Set when the suggestion is another image, saying why.
    pub note: Option<&'static str>,
}

/// `image:tag`, as a user would write it in a `FROM` line.
impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.image, self.tag)
    }
}

/// The successor of `image:tag`: first among `image`'s own tags, then (for images that
/// only publish pre-releases now) in the image its users moved to.
pub fn suggest(library: &Library, image: &str, tag: &str) -> Option<Suggestion> {
    if let Some(found) = library.get(image).and_then(|m| successor(m, tag)) {
        return Some(Suggestion {
            image: image.to_owned(),
            tag: found,
            note: None,
        });
    }
    let (_, to, note) = SUCCESSOR_IMAGES
        .iter()
        .find(|(from, _, _)| *from == image)?;
    let found = successor(library.get(to)?, tag)?;
    Some(Suggestion {
        image: (*to).to_owned(),
        tag: found,
        note: Some(note),
    })
}

/// One listed tag of the manifest, with where it is listed.
#[derive(Debug)]
struct Candidate<'a> {
    tag: &'a str,
    entry: usize,
    position: usize,
    anatomy: Anatomy<'a>,
}

/// The successor of `tag` among `manifest`'s listed tags, if there is a sensible one.
///
/// - The variant is kept word for word (`-slim`, `-fpm-alpine`, `-windowsservercore`),
///   except release names (`buster`, `jammy`, `alpine3.18`, `ltsc2019`, `iron`), which
///   may advance to the oldest newer release still published, and build dates.
/// - A versioned tag goes, in order, to the same major.minor (at the precision written:
///   `3.12.0` -> `3.12.14`), else the same major's lowest newer line (`alpine:3.10` ->
///   `3.21`), else the lowest newer major (`python:2.7` -> `3.10`, `postgres:9.6` ->
///   `14`), named by the least precise tag that names that line alone (`3` names all of
///   python 3, `14` only postgres 14). Older versions are never suggested.
/// - A versionless tag (`jessie`, `slim-buster`) goes to the same words with release
///   names advanced (`bullseye`, `slim-bookworm`).
/// - Pre-releases (`rc`, `beta`, `ea`, `3.13.0rc1`) only succeed pre-releases, and a
///   release of the same line is preferred (`3.13-rc-slim` -> `3.13-slim`).
/// - When nothing matches, variant words the image no longer uses at all are dropped
///   (`3.6-onbuild` -> `3.10`); otherwise there is no suggestion.
pub fn successor(manifest: &Manifest, tag: &str) -> Option<String> {
    let target = anatomy(tag);
    let mut candidates = Vec::new();
    for (entry, e) in manifest.entries().iter().enumerate() {
        for (position, tag) in e.tags.iter().chain(&e.shared_tags).enumerate() {
            let anatomy = anatomy(tag);
            candidates.push(Candidate {
                tag,
                entry,
                position,
                anatomy,
            });
        }
    }
    if let Some(found) = choose(&target, &candidates) {
        return Some(found.to_owned());
    }
    // Variant words the image no longer uses at all (`onbuild`, a distribution it left)
    // are dropped: the same version line without them is the closest thing left.
    let known = |t: &Token<'_>| {
        candidates
            .iter()
            .any(|c| c.anatomy.tokens.iter().any(|u| t.same_kind(u)))
    };
    let reduced = Anatomy {
        tokens: target.tokens.iter().filter(|t| known(t)).cloned().collect(),
        ..target.clone()
    };
    if reduced.tokens.len() == target.tokens.len() {
        return None;
    }
    choose(&reduced, &candidates).map(str::to_owned)
}

/// How far a candidate's release tokens moved past the target's (smaller is closer).
fn advancement(anatomy: &Anatomy<'_>) -> Vec<Vec<u64>> {
    let rank = |t: &Token<'_>| match t {
        Token::Release(_, rank) => vec![*rank],
        Token::Numbered(_, version) => version.0.clone(),
        Token::Plain(_) | Token::Date => Vec::new(),
    };
    anatomy.tokens.iter().map(rank).collect()
}

fn compatible(target: &Anatomy<'_>, candidate: &Anatomy<'_>) -> bool {
    candidate.version.is_some() == target.version.is_some()
        && (target.prerelease || !candidate.prerelease)
        && candidate.tokens.len() == target.tokens.len()
        && target
            .tokens
            .iter()
            .zip(&candidate.tokens)
            .all(|(t, c)| t.accepts(c))
}

fn choose<'a>(target: &Anatomy<'_>, candidates: &'a [Candidate<'a>]) -> Option<&'a str> {
    let fits: Vec<&Candidate<'a>> = candidates
        .iter()
        .filter(|c| compatible(target, &c.anatomy))
        .collect();
    match &target.version {
        None => fits
            .iter()
            .min_by_key(|c| (advancement(&c.anatomy), c.entry, c.position))
            .map(|c| c.tag),
        Some(version) => choose_versioned(version, &fits),
    }
}

/// Tags of one entry with the same variant: one build, written at several precisions.
#[derive(Debug)]
struct Line<'a, 'c> {
    entry: usize,
    advancement: Vec<Vec<u64>>,
    /// The most precise version written in the group.
    version: Version,
    prerelease: bool,
    members: Vec<&'c Candidate<'a>>,
}

fn lines<'a, 'c>(fits: &[&'c Candidate<'a>]) -> Vec<Line<'a, 'c>> {
    let mut lines: Vec<Line<'a, 'c>> = Vec::new();
    for &candidate in fits {
        let Some(version) = &candidate.anatomy.version else {
            continue;
        };
        let advancement = advancement(&candidate.anatomy);
        let key = |l: &Line<'_, '_>| l.entry == candidate.entry && l.advancement == advancement;
        let line = match lines.iter().position(key) {
            Some(index) => &mut lines[index],
            None => {
                lines.push(Line {
                    entry: candidate.entry,
                    advancement,
                    version: version.clone(),
                    prerelease: false,
                    members: Vec::new(),
                });
                let last = lines.len() - 1;
                &mut lines[last]
            }
        };
        let more_precise =
            (version.precision(), &version.0) > (line.version.precision(), &line.version.0);
        if more_precise {
            line.version = version.clone();
        }
        line.prerelease |= candidate.anatomy.prerelease;
        line.members.push(candidate);
    }
    lines
}

/// 0: same major.minor; 1: same major, newer; 2: newer; `None`: older (never suggested).
fn tier(line: &Version, target: &Version) -> Option<u8> {
    let k = target.precision().min(2);
    if line.precision() >= k && line.truncated(k) == target.truncated(k) {
        return Some(0);
    }
    let newer = line.compare(target).is_gt();
    match (line.0.first() == target.0.first(), newer) {
        (true, true) => Some(1),
        (false, true) => Some(2),
        _ => None,
    }
}

/// The least precise tag of `line` that names it alone: `3` is not python 3.10's tag
/// while 3.11 exists, but `14` is postgres 14's.
fn line_precision(line: &Line<'_, '_>, all: &[Line<'_, '_>]) -> usize {
    let mut precisions: Vec<usize> = line
        .members
        .iter()
        .filter_map(|c| c.anatomy.version.as_ref().map(Version::precision))
        .collect();
    precisions.sort_unstable();
    let shared = |p: usize| {
        let prefix = line.version.truncated(p);
        all.iter()
            .any(|other| other.version != line.version && other.version.starts_with(prefix))
    };
    precisions
        .into_iter()
        .find(|&p| !shared(p))
        .unwrap_or(line.version.precision())
}

fn choose_versioned<'a>(target: &Version, fits: &[&Candidate<'a>]) -> Option<&'a str> {
    let lines = lines(fits);
    let mut ranked = Vec::new();
    for line in &lines {
        let Some(tier) = tier(&line.version, target) else {
            continue;
        };
        let desired = match tier {
            0 => target.precision(),
            1 => target.precision().min(line_precision(line, &lines)).max(2),
            _ => target.precision().min(line_precision(line, &lines)).max(1),
        };
        let has_desired = line.members.iter().any(|c| precision(c) == desired);
        let below = line.version.compare(target).is_lt();
        let key = (
            tier,
            line.prerelease,
            below,
            line.version.truncated(target.precision()).to_vec(),
            !has_desired,
            line.version.0.clone(),
            line.advancement.clone(),
            line.entry,
        );
        ranked.push((key, line, desired));
    }
    let (_, line, desired) = ranked.into_iter().min_by(|a, b| a.0.cmp(&b.0))?;
    let pick = line.members.iter().min_by_key(|c| {
        let p = precision(c);
        (p.abs_diff(desired), p < desired, c.position)
    });
    pick.map(|c| c.tag)
}

fn precision(candidate: &Candidate<'_>) -> usize {
    candidate
        .anatomy
        .version
        .as_ref()
        .map_or(0, Version::precision)
}
