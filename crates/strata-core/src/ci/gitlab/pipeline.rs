//! ci stage: a GitLab pipeline's documents as one: jobs (hidden ones too) with
//! `extends` resolved (hashes merged, the rest replaced), variables, `parallel: matrix:`
//! combinations and the `before_script` + `script` lines with `!reference`s followed.
//! Pure; `extends` and references nest boundedly.

use super::super::Question;
use super::super::text::Text;
use super::super::yaml_value::Yaml;
use super::{KEYWORDS, MAX_EXTENDS, push};
use crate::extract::yaml::NodeId;

/// A job's keys after `extends`: each key's node and the document it is in.
#[derive(Debug, Default, Clone)]
pub(super) struct Job {
    pub(super) keys: Vec<(String, (usize, NodeId))>,
    /// `variables` merged across `extends` (a hash, so merged deeply).
    pub(super) variables: Vec<(String, (usize, NodeId))>,
}

impl Job {
    pub(super) fn get(&self, key: &str) -> Option<(usize, NodeId)> {
        self.keys.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// The pipeline's documents (included files first), each with its file's path.
pub(super) struct Pipeline<'a, 't> {
    pub(super) docs: Vec<(String, Yaml<'a, 't>)>,
}

impl Pipeline<'_, '_> {
    /// The document (last first) whose top level has `key`.
    pub(super) fn top(&self, key: &str) -> Option<(&Yaml<'_, '_>, NodeId)> {
        self.docs.iter().rev().find_map(|(_, yaml)| {
            let root = yaml.root()?;
            yaml.get(root, key).map(|_| (yaml, root))
        })
    }

    /// The visible jobs, in file order, with the file each is in.
    pub(super) fn jobs(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (file, yaml) in &self.docs {
            let Some(root) = yaml.root() else { continue };
            for (name, node) in yaml.entries(root) {
                if KEYWORDS.contains(&name.as_str())
                    || name.starts_with('.')
                    || !yaml.is_mapping(node)
                {
                    continue;
                }
                match out.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = file.clone(),
                    None => out.push((name, file.clone())),
                }
            }
        }
        out
    }

    /// The definition of a job or hidden job (the last file defining it wins).
    pub(super) fn definition(&self, name: &str) -> Option<(usize, NodeId)> {
        self.docs
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, (_, yaml))| {
                let root = yaml.root()?;
                yaml.get(root, name)
                    .filter(|n| yaml.is_mapping(*n))
                    .map(|n| (i, n))
            })
    }

    pub(super) fn resolve(&self, name: &str, questions: &mut Vec<Question>) -> Job {
        self.resolve_at(name, 0, questions)
    }

    fn resolve_at(&self, name: &str, depth: usize, questions: &mut Vec<Question>) -> Job {
        let Some((doc, node)) = self.definition(name) else {
            return Job::default();
        };
        let yaml = &self.docs[doc].1;
        let mut job = Job::default();
        if let Some(parents) = yaml.get(node, "extends") {
            if depth >= MAX_EXTENDS {
                push(
                    questions,
                    &self.docs[doc].0,
                    yaml.line(node),
                    format!("job {name}: extends nests too deep"),
                );
            } else {
                for parent in yaml.strings(parents) {
                    let inherited = self.resolve_at(&parent, depth + 1, questions);
                    merge(&mut job, inherited);
                }
            }
        }
        let mut own = Job::default();
        for (key, value) in yaml.entries(node) {
            if key == "variables" {
                for (var, v) in yaml.entries(value) {
                    own.variables.push((var, (doc, v)));
                }
            } else if key != "extends" {
                own.keys.push((key, (doc, value)));
            }
        }
        merge(&mut job, own);
        job
    }

    /// The top level's variables, then the job's (later values win, order kept).
    pub(super) fn variables(&self, job: &Job) -> Vec<(String, Text)> {
        let mut out: Vec<(String, Text)> = Vec::new();
        let mut set = |name: String, text: Text| match out.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = text,
            None => out.push((name, text)),
        };
        for (_, yaml) in &self.docs {
            let Some(root) = yaml.root() else { continue };
            if let Some(vars) = yaml.get(root, "variables") {
                for (name, value) in yaml.entries(vars) {
                    set(name, variable_value(yaml, value));
                }
            }
        }
        for (name, (doc, value)) in &job.variables {
            set(name.clone(), variable_value(&self.docs[*doc].1, *value));
        }
        out
    }

    /// `parallel: matrix:` combinations (one empty one without).
    pub(super) fn matrix(&self, job: &Job) -> Vec<Vec<(String, Text)>> {
        let Some((doc, parallel)) = job.get("parallel") else {
            return vec![Vec::new()];
        };
        let yaml = &self.docs[doc].1;
        let Some(matrix) = yaml.get(parallel, "matrix") else {
            return vec![Vec::new()];
        };
        let mut out = Vec::new();
        for set in yaml.items(matrix) {
            let mut combinations: Vec<Vec<(String, Text)>> = vec![Vec::new()];
            for (name, values) in yaml.entries(set) {
                let values = yaml.strings(values);
                let mut next = Vec::new();
                for combination in &combinations {
                    for value in &values {
                        let mut c = combination.clone();
                        c.push((name.clone(), Text::known(value)));
                        next.push(c);
                    }
                }
                combinations = next;
                if combinations.len() > 200 {
                    break;
                }
            }
            out.extend(combinations);
        }
        if out.is_empty() {
            vec![Vec::new()]
        } else {
            out
        }
    }

    /// `before_script` (the job's, else `default:`'s, else the top level's) and `script`,
    /// line by line, each with its line in its file.
    pub(super) fn script_lines(&self, job: &Job) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        let before = job
            .get("before_script")
            .or_else(|| {
                let (yaml, root) = self.top("default")?;
                let default = yaml.get(root, "default")?;
                let node = yaml.get(default, "before_script")?;
                self.index_of(yaml).map(|i| (i, node))
            })
            .or_else(|| {
                let (yaml, root) = self.top("before_script")?;
                let node = yaml.get(root, "before_script")?;
                self.index_of(yaml).map(|i| (i, node))
            });
        for part in [before, job.get("script")].into_iter().flatten() {
            self.lines(part.0, part.1, 0, &mut out);
        }
        out
    }

    fn index_of(&self, yaml: &Yaml<'_, '_>) -> Option<usize> {
        self.docs
            .iter()
            .position(|(_, y)| std::ptr::eq(y.text, yaml.text))
    }

    fn lines(&self, doc: usize, node: NodeId, depth: usize, out: &mut Vec<(usize, String)>) {
        let yaml = &self.docs[doc].1;
        if let Some(text) = yaml.string(node) {
            let line = yaml.line(node) + usize::from(yaml.starts_block(node));
            out.push((line, text));
            return;
        }
        let items = yaml.items(node);
        // `!reference [job, key]`: a two- or three-item list of names.
        let names: Vec<String> = items.iter().filter_map(|i| yaml.string(*i)).collect();
        if depth < 4
            && names.len() == items.len()
            && (2..=3).contains(&names.len())
            && self.definition(&names[0]).is_some()
            && !names[1].contains(' ')
        {
            let mut questions = Vec::new();
            let referenced = self.resolve(&names[0], &mut questions);
            if let Some((d, n)) = referenced.get(&names[1]) {
                self.lines(d, n, depth + 1, out);
                return;
            }
        }
        for item in items {
            if depth < 4 {
                self.lines(doc, item, depth + 1, out);
            }
        }
    }
}

/// A later job's keys replace; `variables` merge.
fn merge(into: &mut Job, from: Job) {
    for (key, value) in from.keys {
        match into.keys.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => into.keys.push((key, value)),
        }
    }
    for (key, value) in from.variables {
        match into.variables.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => into.variables.push((key, value)),
        }
    }
}

/// A variable's value: a string, or `{ value: … }`.
fn variable_value(yaml: &Yaml<'_, '_>, node: NodeId) -> Text {
    let text = yaml
        .string(node)
        .or_else(|| yaml.str_at(node, "value"))
        .unwrap_or_default();
    Text::known(&text)
}
