//! extract stage: the variables a compose file is interpolated with. Pure: the caller hands in
//! the process environment and the text of each `.env` file; nothing here reads them.
//!
//! compose-go's order (`cli/options.go` `WithDotEnv`, `dotenv/env.go` `GetEnvFromFile`,
//! `types.Mapping.Merge`): the process environment wins; then each `.env` file in turn adds
//! the names not yet set. References inside a `.env` file see the variables set so far
//! first, then the file's own earlier lines. An `include`d project adds its own `.env` under
//! the including project's variables (`loader/include.go`), which [`Environment::add_dotenv`]
//! called once more gives.

use std::collections::HashMap;

use super::dotenv::{self, DotenvError};

/// Variables for interpolation, built the way docker compose builds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: HashMap<String, String>,
}

impl Environment {
    /// Starts from the process environment (or any variables that must win).
    pub fn new(process: impl IntoIterator<Item = (String, String)>) -> Self {
        Environment {
            vars: process.into_iter().collect(),
        }
    }

    /// Adds the variables of a `.env` file under those already set. A malformed file still
    /// adds what was read before the error, and the error is returned.
    pub fn add_dotenv(&mut self, text: &str) -> Result<(), DotenvError> {
        let parsed = dotenv::parse(text, &|name| self.vars.get(name).cloned());
        let mut file: HashMap<String, String> = HashMap::new();
        for (key, value) in parsed.vars {
            file.insert(key, value);
        }
        for (key, value) in file {
            self.vars.entry(key).or_insert(value);
        }
        match parsed.error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// A variable's value; `None` when it is not set.
    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// compose-go `TestMultipleFiles` (`dotenv/godotenv_test.go`) and the merge rule.
    #[test]
    fn process_environment_wins_and_later_files_add_under_earlier_ones() {
        let base = "ENV_HOSTNAME=localhost\nENV_MY_URL=\"http://${ENV_HOSTNAME}\"\n";
        let mut env = Environment::new([("ENV_HOSTNAME".to_owned(), "host.local".to_owned())]);
        env.add_dotenv(base).unwrap();
        assert_eq!(env.get("ENV_HOSTNAME").as_deref(), Some("host.local"));
        assert_eq!(env.get("ENV_MY_URL").as_deref(), Some("http://host.local"));

        let mut env = Environment::default();
        env.add_dotenv("TAG=1\nTAG=2\nEMPTY=\n").unwrap();
        env.add_dotenv("TAG=3\nOTHER=x\n").unwrap();
        assert_eq!(env.get("TAG").as_deref(), Some("2"));
        assert_eq!(env.get("OTHER").as_deref(), Some("x"));
        assert_eq!(env.get("EMPTY").as_deref(), Some(""));
        assert_eq!(env.get("UNSET"), None);
    }

    #[test]
    fn a_malformed_file_keeps_what_came_before() {
        let mut env = Environment::default();
        let error = env.add_dotenv("A=1\nB='open\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert_eq!(env.get("A").as_deref(), Some("1"));
    }
}
