//! extract stage, Dockerfile stages: the names and order of a file's stages, read before
//! the walk, and BuildKit's rules for what `COPY --from` and `RUN --mount=from=` name
//! (`dockerfile2llb/convert.go`: `toCommand`, `detectRunMount`, `dispatchStates`,
//! `validateCircularDependency`, and the "needs to be defined before" checks at
//! dispatch). Pure: looks at instruction text only.

use std::collections::HashMap;

use crate::dockerfile::Instruction;
use crate::dockerfile::words::{is_token_space, split_command};

/// Every stage of a file, in order.
#[derive(Debug, Default)]
pub(super) struct Stages {
    /// The `AS` name of each stage, lower-cased (BuildKit keeps it so).
    names: Vec<Option<String>>,
    /// Each name's last stage: BuildKit's `statesByName`, filled for every stage before
    /// any `--from` is looked up, so a later stage of the same name wins.
    by_name: HashMap<String, usize>,
}

/// What a `--from` value names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    /// A stage defined before the current one.
    Stage,
    /// No stage has this name: an image.
    Image,
}

/// Which flag refers to the stage, for BuildKit's wording of its errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Via<'a> {
    /// `COPY --from=<name|index>`.
    Copy,
    /// `RUN --mount=from=<name>,target=<target>`: names only, never an index.
    Mount { target: &'a str },
}

impl Stages {
    /// Reads the `FROM` lines of `instructions` (malformed ones count as unnamed stages:
    /// the walk reports them when it gets there).
    pub(super) fn collect(instructions: &[Instruction<'_>]) -> Self {
        let mut stages = Stages::default();
        for instruction in instructions {
            if !instruction.is("from") {
                continue;
            }
            let (_, _, args) = split_command(&instruction.text);
            let words: Vec<&str> = args
                .split(is_token_space)
                .filter(|w| !w.is_empty())
                .collect();
            let name = match words.as_slice() {
                [_, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
                    Some(name.to_ascii_lowercase())
                }
                _ => None,
            };
            if let Some(name) = &name {
                stages.by_name.insert(name.clone(), stages.names.len());
            }
            stages.names.push(name);
        }
        stages
    }

    /// The stage BuildKit names when the `--from` graph has a cycle
    /// (`validateCircularDependency`): the first stage, in order, from which one is
    /// reachable. `None` when there is none. Only asked on the way to an error, so the
    /// graph is read from the instructions then.
    fn cycle(&self, instructions: &[Instruction<'_>]) -> Option<usize> {
        let mut sources: Vec<Vec<(String, bool)>> = Vec::new();
        for instruction in instructions {
            if instruction.is("from") {
                sources.push(Vec::new());
            } else if let Some(current) = sources.last_mut() {
                current.extend(literal_sources(instruction));
            }
        }
        let edges: Vec<Vec<usize>> = sources
            .iter()
            .map(|values| {
                values
                    .iter()
                    .filter_map(|(value, copy)| self.index_of(value, *copy))
                    .collect()
            })
            .collect();
        // 0: not seen, 1: on the current path, 2: done without a cycle.
        let mut state = vec![0u8; edges.len()];
        (0..edges.len()).find(|&root| reaches_cycle(root, &edges, &mut state))
    }

    /// The stage a literal `--from` value names, if any.
    fn index_of(&self, value: &str, copy: bool) -> Option<usize> {
        match atoi(value) {
            Some(index) if copy => usize::try_from(index).ok().filter(|&i| i < self.count()),
            _ => self.by_name.get(&value.to_lowercase()).copied(),
        }
    }

    pub(super) fn count(&self) -> usize {
        self.names.len()
    }

    /// `TARGETSTAGE` for a build without `--target`: the last stage's name, `default` when
    /// it has none (`defaultArgs` in `dockerfile2llb/platform.go`).
    pub(super) fn target(&self) -> &str {
        match self.names.last() {
            Some(Some(name)) => name,
            _ => "default",
        }
    }

    /// BuildKit's name for stage `index` in messages: its `AS` name, else `stage-N`.
    fn label(&self, index: usize) -> String {
        match self.names.get(index) {
            Some(Some(name)) => name.clone(),
            _ => format!("stage-{index}"),
        }
    }

    /// What `value` (a literal `--from`) names, seen from stage `current`. A stage
    /// defined later, or the current one, is BuildKit's error, in its words.
    pub(super) fn source(
        &self,
        value: &str,
        current: usize,
        via: Via<'_>,
        instructions: &[Instruction<'_>],
    ) -> Result<Source, String> {
        let found = match via {
            Via::Copy => match atoi(value) {
                Some(index) if index < 0 || index >= self.count() as i64 => {
                    return Err(format!("invalid stage index {index}"));
                }
                Some(index) => Some(index as usize),
                None => self.by_name.get(&value.to_lowercase()).copied(),
            },
            Via::Mount { .. } => self.by_name.get(&value.to_lowercase()).copied(),
        };
        let Some(index) = found else {
            return Ok(Source::Image);
        };
        if index >= current
            && let Some(stage) = self.cycle(instructions)
        {
            return Err(format!(
                "circular dependency detected on stage: {}",
                self.label(stage)
            ));
        }
        if index >= current {
            return Err(match via {
                Via::Copy => format!(
                    "cannot copy from stage {value:?}, it needs to be defined before current stage {:?}",
                    self.label(current)
                ),
                Via::Mount { target } => format!(
                    "cannot mount from stage {value:?} to {target:?}, stage needs to be defined before current command"
                ),
            });
        }
        Ok(Source::Stage)
    }
}

/// Depth-first search for a cycle from `node`, iteratively (a file may chain thousands
/// of stages).
fn reaches_cycle(root: usize, edges: &[Vec<usize>], state: &mut [u8]) -> bool {
    if state[root] != 0 {
        return false;
    }
    let mut stack = vec![(root, 0usize)];
    state[root] = 1;
    while let Some(&mut (node, ref mut next)) = stack.last_mut() {
        if let Some(&dep) = edges[node].get(*next) {
            *next += 1;
            match state[dep] {
                1 => return true,
                0 => {
                    state[dep] = 1;
                    stack.push((dep, 0));
                }
                _ => {}
            }
        } else {
            state[node] = 2;
            stack.pop();
        }
    }
    false
}

/// The literal `--from` values an instruction names (`COPY --from=x`,
/// `RUN --mount=…,from=x`), with whether it is a `COPY`. Values with variables are
/// errors of their own and left out.
fn literal_sources(instruction: &Instruction<'_>) -> Vec<(String, bool)> {
    let copy = instruction.is("copy") && instruction.text.contains("--from");
    let run = instruction.is("run") && instruction.text.contains("--mount");
    if !copy && !run {
        return Vec::new();
    }
    let (_, flags, _) = split_command(&instruction.text);
    let mut out = Vec::new();
    for flag in &flags {
        match (flag.parts(), copy) {
            (("from", Some(value)), true) if !value.is_empty() && !value.contains('$') => {
                out.push((value.to_owned(), true));
            }
            (("mount", Some(value)), false) => {
                let fields = crate::dockerfile::command::mount_fields(value).unwrap_or_default();
                out.extend(
                    fields
                        .into_iter()
                        .filter(|f| f.key == "from" && !f.value.is_empty())
                        .map(|f| (f.value, false)),
                );
            }
            _ => {}
        }
    }
    out
}

/// Go's `strconv.Atoi`: an optional sign and decimal digits that fit an `int64`.
fn atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_as_go_reads_numbers() {
        let cases = [
            ("0", Some(0)),
            ("+1", Some(1)),
            ("-1", Some(-1)),
            ("01", Some(1)),
            ("", None),
            ("1a", None),
            ("99999999999999999999", None),
        ];
        for (text, want) in cases {
            assert_eq!(atoi(text), want, "{text}");
        }
    }
}
