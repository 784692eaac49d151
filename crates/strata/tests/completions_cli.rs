//! `strata completions` and `strata man`: generated from the same clap definitions as
//! `--help`, so every verb is in them; the bash script is loaded by a real bash and
//! completes verbs and options, and the manual pages render with the real `groff`
//! (when installed).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::process::{Command, Output};

use clap::CommandFactory;
use strata::cli::Cli;

fn strata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

fn verbs() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

fn available(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

#[test]
fn every_shell_gets_every_verb() {
    let markers = [
        ("bash", "complete -F _strata"),
        ("zsh", "#compdef strata"),
        ("fish", "complete -c strata"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[strata]"),
    ];
    let verbs = verbs();
    assert!(
        verbs.iter().any(|v| v == "init") && verbs.len() >= 11,
        "{verbs:?}"
    );
    for (shell, marker) in markers {
        let run = strata(&["completions", shell]);
        assert_eq!(run.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(run.stdout).unwrap();
        assert!(script.contains(marker), "{shell}");
        for verb in &verbs {
            assert!(script.contains(verb.as_str()), "{shell} lacks {verb}");
        }
    }
}

/// bash loads the script and completes `strata in` to `init`, and `strata init --d` to
/// `--dry-run`, through the function it registered.
#[test]
fn bash_completes_verbs_and_options() {
    assert!(
        available("bash"),
        "bash is needed (scripts/install-test-deps)"
    );
    let script = String::from_utf8(strata(&["completions", "bash"]).stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strata.bash");
    std::fs::write(&path, script).unwrap();
    let probe = format!(
        "source {}\n\
         complete -p strata >/dev/null || exit 3\n\
         COMP_WORDS=(strata in); COMP_CWORD=1; _strata strata in strata; echo \"${{COMPREPLY[*]}}\"\n\
         COMP_WORDS=(strata init --d); COMP_CWORD=2; _strata strata --d init; echo \"${{COMPREPLY[*]}}\"\n",
        path.display()
    );
    let run = Command::new("bash").arg("-c").arg(probe).output().unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<String> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines[0], "init");
    assert!(lines[1].split(' ').any(|w| w == "--dry-run"), "{lines:?}");
}

#[test]
fn manual_pages_for_strata_and_every_verb() {
    let dir = tempfile::tempdir().unwrap();
    let run = strata(&["man", dir.path().to_str().unwrap()]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    let mut want: Vec<String> = verbs().iter().map(|v| format!("strata-{v}.1")).collect();
    want.push("strata.1".to_owned());
    want.sort();
    assert_eq!(pages, want);
    let page = std::fs::read_to_string(dir.path().join("strata-init.1")).unwrap();
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq \\(aq") || page.contains(".TH strata-init 1"),
        "{page}"
    );
    assert!(page.contains("dry\\-run"), "{page}");
    if available("groff") {
        let run = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww"])
            .arg(dir.path().join("strata-init.1"))
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0));
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(text.contains("strata-init"), "{text}");
        assert!(
            String::from_utf8_lossy(&run.stderr).is_empty(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let stdout = strata(&["man"]);
    assert!(
        String::from_utf8(stdout.stdout)
            .unwrap()
            .contains(".TH strata 1")
    );
}

/// `scripts/install --binary`: completions where bash-completion, zsh and fish look for
/// them, and the manual pages, under the user's XDG directories.
#[test]
fn the_install_script_puts_completions_and_pages_in_place() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let home = tempfile::tempdir().unwrap();
    let run = Command::new("bash")
        .arg(root.join("scripts/install"))
        .args(["--binary", env!("CARGO_BIN_EXE_strata")])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let data = home.path().join(".local/share");
    for file in [
        data.join("bash-completion/completions/strata"),
        data.join("zsh/site-functions/_strata"),
        home.path().join(".config/fish/completions/strata.fish"),
        data.join("man/man1/strata.1"),
        data.join("man/man1/strata-init.1"),
    ] {
        assert!(file.is_file(), "{}", file.display());
    }
}
