//! `strata`: parse the command line, run the verb, print errors as a cause chain, exit
//! 0 (nothing to report), 1 (findings) or 2 (error).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = strata::cli::Cli::parse();
    match strata::commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
