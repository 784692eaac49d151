//! ci stage: GitHub Actions matrix expansion (`jobs.<id>.strategy.matrix`), from the
//! matrix as values to the list of combinations a run gets. Pure.
//!
//! The rules are those of GitHub's "Running variations of jobs in a workflow":
//! - the product of every variable's values, the first variable varying slowest;
//! - `exclude` removes every combination an entry matches, a partial match being enough;
//! - `include` is applied after `exclude`: each entry's pairs are added to every original
//!   combination none of whose original values they would overwrite (values added by an
//!   earlier entry may be overwritten); an entry that fits no original combination
//!   becomes a combination of its own; with no variables, every entry is one;
//! - a matrix makes at most 256 jobs.

use super::expr::Value;

/// Most combinations GitHub runs for one matrix.
pub const MAX_JOBS: usize = 256;

/// One combination: variable name to value, in the matrix's order.
pub type Combination = Vec<(String, Value)>;

/// Why a matrix could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatrixError {
    /// The matrix (or a variable's list) is an expression evaluated at run time.
    #[error("the matrix is computed when the workflow runs ({0})")]
    Computed(String),
    /// More than [`MAX_JOBS`] combinations.
    #[error("the matrix makes more than {MAX_JOBS} jobs")]
    TooLarge,
}

/// The matrix as written: variables in order, then `include` and `exclude` entries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    pub variables: Vec<(String, Vec<Value>)>,
    pub include: Vec<Vec<(String, Value)>>,
    pub exclude: Vec<Vec<(String, Value)>>,
}

impl Matrix {
    /// Reads the matrix from its value (a mapping). A string anywhere a list or entry is
    /// expected is an expression the runner evaluates: an error naming it.
    pub fn from_value(
        value: &Value,
        written: &dyn Fn(&str) -> String,
    ) -> Result<Matrix, MatrixError> {
        let Value::Object { fields, .. } = value else {
            return Err(MatrixError::Computed(written("")));
        };
        let mut matrix = Matrix::default();
        for (name, list) in fields.iter().cloned() {
            match name.as_str() {
                "include" | "exclude" => {
                    let entries = match list {
                        Value::Array(items) => items
                            .iter()
                            .map(|item| match item {
                                Value::Object { fields, .. } => Ok(fields.clone()),
                                _ => Err(MatrixError::Computed(written(&name))),
                            })
                            .collect::<Result<Vec<_>, _>>()?,
                        Value::Object { fields, .. } => vec![fields.clone()],
                        _ => return Err(MatrixError::Computed(written(&name))),
                    };
                    if name == "include" {
                        matrix.include = entries;
                    } else {
                        matrix.exclude = entries;
                    }
                }
                _ => match list {
                    Value::Array(items) => matrix.variables.push((name, items)),
                    Value::Unknown | Value::String(_) => {
                        return Err(MatrixError::Computed(written(&name)));
                    }
                    other => matrix.variables.push((name, vec![other])),
                },
            }
        }
        Ok(matrix)
    }

    /// Every combination a run gets, in GitHub's order.
    pub fn expand(&self) -> Result<Vec<Combination>, MatrixError> {
        let mut combinations: Vec<Combination> = vec![Vec::new()];
        let variables: Vec<&(String, Vec<Value>)> = self
            .variables
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .collect();
        for (name, values) in &variables {
            let mut next = Vec::with_capacity(combinations.len() * values.len());
            for combination in &combinations {
                for value in values.iter() {
                    let mut extended = combination.clone();
                    extended.push((name.clone(), value.clone()));
                    next.push(extended);
                }
            }
            if next.len() > MAX_JOBS {
                return Err(MatrixError::TooLarge);
            }
            combinations = next;
        }
        if variables.is_empty() {
            combinations.clear();
        }
        combinations.retain(|c| !self.exclude.iter().any(|e| fits(e, c)));
        let original: Vec<String> = variables.iter().map(|(n, _)| n.clone()).collect();
        let originals = combinations.len();
        for entry in &self.include {
            let mut added = false;
            for combination in combinations.iter_mut().take(originals) {
                let overwrites = entry.iter().any(|(key, value)| {
                    original.contains(key)
                        && combination
                            .iter()
                            .find(|(k, _)| k == key)
                            .is_some_and(|(_, v)| v != value)
                });
                if overwrites {
                    continue;
                }
                added = true;
                for (key, value) in entry {
                    match combination.iter_mut().find(|(k, _)| k == key) {
                        Some(slot) => slot.1 = value.clone(),
                        None => combination.push((key.clone(), value.clone())),
                    }
                }
            }
            if !added {
                combinations.push(entry.clone());
            }
        }
        if combinations.len() > MAX_JOBS {
            return Err(MatrixError::TooLarge);
        }
        Ok(combinations)
    }
}

/// The `matrix` context of one combination.
pub fn context(combination: &Combination) -> Value {
    Value::object(combination.clone())
}

/// Whether every pair of `entry` is in `combination` (an `exclude` partial match).
fn fits(entry: &[(String, Value)], combination: &Combination) -> bool {
    entry.iter().all(|(key, value)| {
        combination
            .iter()
            .any(|(k, v)| k == key && (v == value || partial(value, v)))
    })
}

/// An object in an exclude entry matches an object value with at least its fields.
fn partial(pattern: &Value, value: &Value) -> bool {
    match (pattern, value) {
        (Value::Object { fields: want, .. }, Value::Object { fields: have, .. }) => {
            want.iter().all(|(k, v)| {
                have.iter()
                    .any(|(hk, h)| hk == k && (h == v || partial(v, h)))
            })
        }
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    fn entry(pairs: &[(&str, &str)]) -> Vec<(String, Value)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), s(v))).collect()
    }

    fn shown(combinations: &[Combination]) -> Vec<String> {
        combinations
            .iter()
            .map(|c| {
                c.iter()
                    .map(|(k, v)| format!("{k}={}", v.to_text().unwrap()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    }

    /// docs.github.com, "Running variations of jobs in a workflow": the variables'
    /// product, first variable varying slowest.
    #[test]
    fn product_with_the_first_variable_varying_slowest() {
        let matrix = Matrix {
            variables: vec![
                ("version".into(), vec![s("10"), s("12"), s("14")]),
                ("os".into(), vec![s("ubuntu-latest"), s("windows-latest")]),
            ],
            ..Matrix::default()
        };
        assert_eq!(
            shown(&matrix.expand().unwrap()),
            [
                "version=10,os=ubuntu-latest",
                "version=10,os=windows-latest",
                "version=12,os=ubuntu-latest",
                "version=12,os=windows-latest",
                "version=14,os=ubuntu-latest",
                "version=14,os=windows-latest",
            ]
        );
    }

    /// docs.github.com, "Expanding or adding matrix configurations": the fruit and
    /// animal example, every rule of `include` at once.
    #[test]
    fn include_adds_to_fitting_combinations_or_makes_its_own() {
        let matrix = Matrix {
            variables: vec![
                ("fruit".into(), vec![s("apple"), s("pear")]),
                ("animal".into(), vec![s("cat"), s("dog")]),
            ],
            include: vec![
                entry(&[("color", "green")]),
                entry(&[("color", "pink"), ("animal", "cat")]),
                entry(&[("fruit", "apple"), ("shape", "circle")]),
                entry(&[("fruit", "banana")]),
                entry(&[("fruit", "banana"), ("animal", "cat")]),
            ],
            exclude: Vec::new(),
        };
        assert_eq!(
            shown(&matrix.expand().unwrap()),
            [
                "fruit=apple,animal=cat,color=pink,shape=circle",
                "fruit=apple,animal=dog,color=green,shape=circle",
                "fruit=pear,animal=cat,color=pink",
                "fruit=pear,animal=dog,color=green",
                "fruit=banana",
                "fruit=banana,animal=cat",
            ]
        );
    }

    /// docs.github.com, "Excluding matrix configurations": a partial match excludes.
    #[test]
    fn exclude_removes_partial_matches_before_include() {
        let matrix = Matrix {
            variables: vec![
                ("os".into(), vec![s("macos-latest"), s("windows-latest")]),
                ("version".into(), vec![s("12"), s("14"), s("16")]),
                ("environment".into(), vec![s("staging"), s("production")]),
            ],
            exclude: vec![
                entry(&[
                    ("os", "macos-latest"),
                    ("version", "12"),
                    ("environment", "production"),
                ]),
                entry(&[("os", "windows-latest"), ("version", "16")]),
            ],
            include: vec![entry(&[("os", "windows-latest"), ("version", "16")])],
        };
        let combinations = matrix.expand().unwrap();
        // 12 - 1 - 2 = 9, and the include (which overwrites an original value of every
        // combination it could go to) is a combination of its own.
        assert_eq!(combinations.len(), 10);
        assert_eq!(shown(&combinations)[9], "os=windows-latest,version=16");
    }

    #[test]
    fn include_alone_is_the_list_of_combinations() {
        let matrix = Matrix {
            include: vec![entry(&[("a", "42")]), entry(&[("a", "foo")])],
            ..Matrix::default()
        };
        assert_eq!(shown(&matrix.expand().unwrap()), ["a=42", "a=foo"]);
        assert!(Matrix::default().expand().unwrap().is_empty());
    }

    #[test]
    fn more_than_256_jobs_is_an_error() {
        let values: Vec<Value> = (0..17).map(|i| Value::Number(f64::from(i))).collect();
        let matrix = Matrix {
            variables: vec![("a".into(), values.clone()), ("b".into(), values)],
            ..Matrix::default()
        };
        assert_eq!(matrix.expand(), Err(MatrixError::TooLarge));
    }
}
