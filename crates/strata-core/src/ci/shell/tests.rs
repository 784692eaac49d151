use super::expand::{basename, dirname};
use super::*;

fn words(script: &str, env: &mut Env) -> Vec<Vec<String>> {
    commands(script, env)
        .iter()
        .map(|c| c.words.iter().map(Text::display).collect())
        .collect()
}

fn split(script: &str) -> Vec<Vec<String>> {
    words(script, &mut Env::new())
}

/// POSIX Shell Command Language 2.2 (quoting) and 2.3 (token recognition): escapes,
/// line continuations, quotes, comments and operators.
#[test]
fn words_are_split_as_a_posix_shell_splits_them() {
    assert_eq!(
        split("docker build \\\n  -t 'a b' \\\n  \"c\\\"d\" .  # comment"),
        [vec!["docker", "build", "-t", "a b", "c\"d", "."]]
    );
    assert_eq!(
        split("a && b || c; d | e & f\ng"),
        [
            vec!["a"],
            vec!["b"],
            vec!["c"],
            vec!["d"],
            vec!["e"],
            vec!["f"],
            vec!["g"]
        ]
    );
    assert_eq!(split("echo a#b #c"), [vec!["echo", "a#b"]]);
    assert_eq!(split("x 2>&1 >/dev/null y < in"), [vec!["x", "y"]]);
    assert_eq!(
        split("if [ -n x ]; then docker push a; fi"),
        [vec!["[", "-n", "x", "]"], vec!["docker", "push", "a"]]
    );
    assert_eq!(split("echo ''"), [vec!["echo", ""]]);
}

/// 2.6.2 parameter expansion and 2.6.5 field splitting (not inside quotes, not in
/// assignments); assignments alone set variables for the rest of the script.
#[test]
fn variables_expand_and_split_as_posix_says() {
    let mut env = Env::new();
    env.set("ARGS", Text::known("--build-arg A=1"));
    env.set("EMPTY", Text::known(""));
    assert_eq!(
        words("docker build $ARGS \"$ARGS\" .", &mut env),
        [vec![
            "docker",
            "build",
            "--build-arg",
            "A=1",
            "--build-arg A=1",
            "."
        ]]
    );
    assert_eq!(
        words(
            "IMAGE=org/app:1\nexport TAG=x V=\"a b\"\ndocker push $IMAGE:$TAG \"$V\"",
            &mut env
        ),
        [vec!["docker", "push", "org/app:1:x", "a b"]]
    );
    assert_eq!(env.get("IMAGE").and_then(Text::value), Some("org/app:1"));
    assert_eq!(
        words(
            "echo ${EMPTY:-d} ${EMPTY-d} ${IMAGE:+set} ${EMPTY:+set}x",
            &mut env
        ),
        [vec!["echo", "d", "set", "x"]]
    );
    // A prefix assignment applies to its command only.
    assert_eq!(
        words("DOCKER_BUILDKIT=1 docker build .", &mut env),
        [vec!["docker", "build", "."]]
    );
    assert!(env.get("DOCKER_BUILDKIT").is_none());
}

/// What only a run knows is an unknown piece, kept whole as one field.
#[test]
fn run_time_values_are_unknown_pieces() {
    let mut env = Env::new();
    let out = commands(
        "TAG=$(git rev-parse --short HEAD)\ndocker build -t app:$TAG -t app:`date` -t $UNSET:${UNSET:-x} .",
        &mut env,
    );
    let tags: Vec<String> = out[0].words.iter().map(Text::display).collect();
    assert_eq!(tags[3], "app:$(git rev-parse --short HEAD)");
    assert!(!out[0].words[3].is_known());
    assert_eq!(tags[5], "app:`date`");
    assert_eq!(out[0].words[7].unknowns(), ["$UNSET", "${UNSET:-x}"]);
}

/// 2.6.2 `%`, `%%`, `#`, `##`, and the basename and dirname utilities.
#[test]
fn pattern_removal_and_path_utilities() {
    let mut env = Env::new();
    let out = words(
        "F=docker/debian.Dockerfile\nT=$(basename -- $F)\necho ${T%.*} ${F%%/*} ${F#*/} ${F##*.} $(dirname $F) $(basename $F .Dockerfile)",
        &mut env,
    );
    assert_eq!(
        out,
        [vec![
            "echo",
            "debian",
            "docker",
            "debian.Dockerfile",
            "Dockerfile",
            "docker",
            "debian"
        ]]
    );
    assert_eq!(basename("/a/b/", None), "b");
    // An operator that starts with a wide character is unknown, not a panic.
    let out = commands("X=1\necho ${Xé} ${X:é}", &mut Env::new());
    assert_eq!(out[0].words.len(), 3);
    assert_eq!(basename("/", None), "/");
    assert_eq!(dirname("a"), ".");
    assert_eq!(dirname("/a"), "/");
}

#[test]
fn here_documents_and_lines() {
    let out = commands(
        "cat <<EOF > Dockerfile\nFROM x\ndocker push nope\nEOF\ndocker build -t a .\n",
        &mut Env::new(),
    );
    let shown: Vec<Vec<String>> = out
        .iter()
        .map(|c| c.words.iter().map(Text::display).collect())
        .collect();
    assert_eq!(
        shown,
        [vec!["cat"], vec!["docker", "build", "-t", "a", "."]]
    );
    assert_eq!(out[1].line, 5);
    let out = commands("a \\\n b\nc", &mut Env::new());
    assert_eq!((out[0].line, out[1].line), (1, 3));
}
