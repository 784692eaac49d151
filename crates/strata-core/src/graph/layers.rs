//! graph stage: inferring an image's base from layer digests, for images that carry no
//! base annotation. Pure comparison of digest lists the caller fetched.
//!
//! An image built `FROM base` starts with exactly the base's layers, in order. So the
//! base is the candidate whose layer list is the longest *strict* prefix of the image's:
//! longest, because the base's own base is a shorter prefix too; strict, because a
//! candidate with the same layers is the same image under another tag, not a base.
//! Candidates with no layers match everything and prove nothing, so they never match.
//! Ties (equal layer lists, e.g. `debian:12` and `debian:bookworm`) go to the smallest
//! image name, whatever order the candidates came in.

use std::collections::HashMap;

use crate::reference::Digest;

use super::ImageRef;

/// The candidate whose layers are the longest strict prefix of `image_layers`, with its
/// layer count; `None` when no candidate's layers are a prefix. Linear in the candidates:
/// for many images against the same candidates, build a [`LayerIndex`] once.
pub fn infer_base(
    image_layers: &[Digest],
    candidates: &[(ImageRef, Vec<Digest>)],
) -> Option<(ImageRef, usize)> {
    candidates
        .iter()
        .filter(|(_, layers)| is_base_layers(layers, image_layers))
        .max_by(|(a, a_layers), (b, b_layers)| {
            // More layers first; on equal length the smaller name wins, so it must
            // compare as the greater one here.
            a_layers.len().cmp(&b_layers.len()).then_with(|| b.cmp(a))
        })
        .map(|(image, layers)| (image.clone(), layers.len()))
}

fn is_base_layers(candidate: &[Digest], image: &[Digest]) -> bool {
    !candidate.is_empty() && candidate.len() < image.len() && image.starts_with(candidate)
}

/// Candidates indexed by their whole layer list, so inferring one image's base costs a
/// lookup per prefix length instead of a scan over every candidate. Same answers as
/// [`infer_base`].
#[derive(Debug, Clone, Default)]
pub struct LayerIndex {
    /// Each distinct layer list, with the smallest image that has it.
    by_layers: HashMap<Vec<Digest>, ImageRef>,
    longest: usize,
}

impl LayerIndex {
    pub fn new(candidates: &[(ImageRef, Vec<Digest>)]) -> LayerIndex {
        let mut index = LayerIndex::default();
        for (image, layers) in candidates.iter().filter(|(_, layers)| !layers.is_empty()) {
            index.longest = index.longest.max(layers.len());
            index
                .by_layers
                .entry(layers.clone())
                .and_modify(|kept| {
                    if image < kept {
                        *kept = image.clone();
                    }
                })
                .or_insert_with(|| image.clone());
        }
        index
    }

    /// The base of an image with `image_layers`, as [`infer_base`] defines it.
    pub fn infer_base(&self, image_layers: &[Digest]) -> Option<(ImageRef, usize)> {
        let longest = self.longest.min(image_layers.len().saturating_sub(1));
        (1..=longest).rev().find_map(|len| {
            self.by_layers
                .get(&image_layers[..len])
                .map(|image| (image.clone(), len))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn layers(ids: &[u8]) -> Vec<Digest> {
        ids.iter()
            .map(|n| format!("sha256:{:064x}", n).parse().unwrap())
            .collect()
    }

    fn candidate(name: &str, ids: &[u8]) -> (ImageRef, Vec<Digest>) {
        (name.parse().unwrap(), layers(ids))
    }

    #[test]
    fn longest_strict_prefix_wins() {
        let candidates = vec![
            candidate("debian:12", &[1]),
            candidate("python:3.12", &[1, 2, 3]),
            candidate("python:3.12-slim", &[1, 2]),
            candidate("unrelated:1", &[9]),
            candidate("empty:1", &[]),
            candidate("same:1", &[1, 2, 3, 4]),
            candidate("longer:1", &[1, 2, 3, 4, 5]),
            candidate("diverges:1", &[1, 2, 7]),
            candidate("bookworm:1", &[1, 2, 3]),
        ];
        // (image layers, expected base and its layer count)
        type Case = (&'static [u8], Option<(&'static str, usize)>);
        let cases: &[Case] = &[
            (&[1, 2, 3, 4], Some(("bookworm:1", 3))),
            (&[1, 2, 5], Some(("python:3.12-slim", 2))),
            (&[1, 6], Some(("debian:12", 1))),
            (&[1], None),
            (&[], None),
            (&[9], None),
            (&[8, 1, 2, 3], None),
            (&[9, 9], Some(("unrelated:1", 1))),
        ];
        let index = LayerIndex::new(&candidates);
        for (image, expected) in cases {
            let expected = expected.map(|(name, n)| (name.parse::<ImageRef>().unwrap(), n));
            assert_eq!(
                infer_base(&layers(image), &candidates),
                expected,
                "{image:?}"
            );
            assert_eq!(
                index.infer_base(&layers(image)),
                expected,
                "index {image:?}"
            );
        }
    }

    #[test]
    fn tie_breaking_ignores_candidate_order() {
        let mut candidates = vec![
            candidate("debian:bookworm", &[1]),
            candidate("debian:12", &[1]),
        ];
        let image = layers(&[1, 2]);
        let expected = Some(("debian:12".parse().unwrap(), 1));
        assert_eq!(infer_base(&image, &candidates), expected);
        assert_eq!(LayerIndex::new(&candidates).infer_base(&image), expected);
        candidates.reverse();
        assert_eq!(infer_base(&image, &candidates), expected);
        assert_eq!(LayerIndex::new(&candidates).infer_base(&image), expected);
    }
}
