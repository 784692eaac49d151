//! The command line, parsed without side effects: clap definitions only. Each verb's
//! arguments turn into options in `commands::<verb>`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod adopt;
pub use adopt::*;

/// Keep container images on fresh, pinned base images.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find every image reference in Dockerfiles, compose files, Kubernetes manifests and
    /// GitHub Actions workflows.
    Scan(ScanArgs),
    /// Pin every image tag to the digest it points at now, in place
    /// (`python:3.12` -> `python:3.12@sha256:…`).
    Pin(PinArgs),
    /// Move every pin whose tag now points at another image to the tag's current digest,
    /// in place or (`--commit`, `--push`, `--pr`) on a branch per change set.
    Update(UpdateArgs),
    /// Docker Official Images knowledge: build the removed-tags index from a
    /// docker-library/official-images checkout.
    OfficialImages(OfficialImagesArgs),
    /// Fail on unpinned, moved, missing and unsupported image tags (exit 1), with
    /// output for people, JSON, SARIF or GitHub annotations.
    Check(CheckArgs),
    /// Show the image hierarchy of the workspace (strata.toml `[workspace]`) and mark
    /// every image whose base moved since it was built (exit 1 when any is stale).
    Graph(GraphArgs),
    /// Rebuild every managed image below IMAGE, level by level, each once its base's new
    /// image is published (resumes an interrupted cascade for the same digest).
    Cascade(CascadeArgs),
    /// Watch every tag the workspace references, always: poll once per interval, take
    /// webhooks, and update and cascade when a tag moves; HTTP API, metrics and dashboard.
    Serve(ServeArgs),
    /// Compare two images per platform: config, layers, OS packages, the advisories the
    /// change fixes or introduces, and why it moved (exit 1 when they differ).
    Diff(DiffArgs),
    /// OSV advisories for `strata diff` and pull requests: fetch the ecosystems' exports
    /// (needs network; everything else reads them offline).
    Advisories(AdvisoriesArgs),
    /// Write a commented strata.toml for a repository or a folder of repositories, from
    /// what their CI files, Dockerfiles and compose files say they build.
    Init(InitArgs),
    /// Check strata.toml (errors with line and column), or print its JSON Schema.
    Config(ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(CompletionsArgs),
    /// Write the manual pages, generated from the same definitions as --help.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The workspace directory, holding strata.toml (default: the current directory).
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Read settings from this file instead of strata.toml in the workspace directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen here instead of `[serve] listen` (e.g. 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The shared database: `postgres://…` for several workers, else an SQLite file
    /// (default: $STRATA_STATE, else the state directory).
    #[arg(long, value_name = "URL|PATH", env = "STRATA_DATABASE")]
    pub database: Option<String>,
    /// This process's name in job leases (default: host name and process id).
    #[arg(long, value_name = "NAME")]
    pub worker: Option<String>,
    /// How long running jobs may finish after SIGTERM before they are handed back.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub grace: String,
}

/// Output formats shared by the verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// What every verb that reads a repository takes.
#[derive(Debug, Args)]
pub struct Selection {
    /// Files or directories to scan (default: the current directory). A file named here
    /// is scanned whatever its name.
    pub paths: Vec<PathBuf>,
    /// Set a build argument (only applies to ARGs the Dockerfile declares).
    #[arg(long = "build-arg", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub build_args: Vec<(String, String)>,
    /// Target platform, as for `docker build --platform` (sets TARGETPLATFORM, TARGETOS, …).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Also scan files matching this glob (relative to the scanned root), whatever their name.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files matching this glob (relative to the scanned root).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PinArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Print the changes as a unified diff and write nothing (exit 1 when something would
    /// change).
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Read settings from this file instead of strata.toml in the scanned directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Look REGISTRY's tags up on HOST instead, a mirror serving the same content (the
    /// references written are unchanged). Repeatable; overrides strata.toml.
    #[arg(long = "registry-mirror", value_name = "REGISTRY=HOST")]
    pub registry_mirrors: Vec<String>,
    /// Also fetch each resolved manifest by digest and check its sha256 before writing
    /// it, instead of trusting the digest the tag's HEAD names: two requests per tag
    /// instead of one, and the GET counts against Docker Hub's pull limit (HEAD does
    /// not). Also `[registry] verify = true`.
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Print the changes as a unified diff and change nothing (exit 1 when something
    /// would change).
    #[arg(long, conflicts_with_all = ["commit", "push", "pr"])]
    pub dry_run: bool,
    /// Commit each change set on its branch (`strata/<image>-<tag>`) instead of writing
    /// the working tree, which stays untouched.
    #[arg(long)]
    pub commit: bool,
    /// Push the branches to `origin` (implies --commit).
    #[arg(long)]
    pub push: bool,
    /// Open or update a pull request per branch on this forge (implies --push).
    #[arg(long, value_enum, value_name = "FORGE")]
    pub pr: Option<crate::forge::ForgeKind>,
    /// The forge repository (default: the one the `origin` URL names).
    #[arg(long, value_name = "OWNER/NAME", requires = "pr")]
    pub repo: Option<String>,
    /// Turn on the forge's auto-merge of each pull request (merged once its checks pass:
    /// GitHub auto-merge, GitLab merge when the pipeline succeeds, Gitea merge when checks
    /// succeed).
    #[arg(long, requires = "pr")]
    pub auto_merge: bool,
    /// How auto-merge merges (default: the forge's).
    #[arg(long, value_enum, value_name = "METHOD", requires = "auto_merge")]
    pub merge_method: Option<MergeMethodArg>,
    /// Branch from the last commit even with uncommitted changes or a detached HEAD
    /// (the working tree is never touched either way).
    #[arg(long)]
    pub allow_dirty: bool,
    /// The state database (default: $STRATA_STATE, else state.db in the state directory).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Read settings from this file instead of strata.toml in the scanned directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Look REGISTRY's tags up on HOST instead, a mirror serving the same content (the
    /// references written are unchanged). Repeatable; overrides strata.toml.
    #[arg(long = "registry-mirror", value_name = "REGISTRY=HOST")]
    pub registry_mirrors: Vec<String>,
    /// Rebuild the managed images below each moved base through their triggers (with
    /// --dry-run: print the plan). Default: `[update] cascade`, else on when strata.toml
    /// declares `[workspace]`.
    #[arg(long, overrides_with = "no_cascade")]
    pub cascade: bool,
    /// Do not cascade rebuilds, whatever strata.toml says.
    #[arg(long, overrides_with = "cascade")]
    pub no_cascade: bool,
}

/// `--merge-method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MergeMethodArg {
    Merge,
    Squash,
    Rebase,
}

impl From<MergeMethodArg> for crate::forge::MergeMethod {
    fn from(arg: MergeMethodArg) -> Self {
        match arg {
            MergeMethodArg::Merge => crate::forge::MergeMethod::Merge,
            MergeMethodArg::Squash => crate::forge::MergeMethod::Squash,
            MergeMethodArg::Rebase => crate::forge::MergeMethod::Rebase,
        }
    }
}

/// `--output FORMAT=FILE`.
fn parse_output(s: &str) -> Result<(CheckFormat, PathBuf), String> {
    let (format, file) = s
        .split_once('=')
        .filter(|(_, f)| !f.is_empty())
        .ok_or_else(|| format!("expected FORMAT=FILE, got {s:?}"))?;
    let format = CheckFormat::from_str(format, true)?;
    Ok((format, PathBuf::from(file)))
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

#[derive(Debug, Args)]
pub struct OfficialImagesArgs {
    #[command(subcommand)]
    pub command: OfficialImagesCommand,
}

#[derive(Debug, Subcommand)]
pub enum OfficialImagesCommand {
    /// Walk the mainline history of every `library/<image>` file and write the removed-tags
    /// index (when each tag appeared and when it was dropped).
    Index(OfficialImagesIndexArgs),
}

#[derive(Debug, Args)]
pub struct OfficialImagesIndexArgs {
    /// A git checkout of docker-library/official-images.
    pub checkout: PathBuf,
    /// Write the index here instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only index this image (repeatable; default: every library file the history has).
    #[arg(long = "image", value_name = "NAME")]
    pub images: Vec<String>,
}

/// `strata check` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum CheckFormat {
    /// A table for people.
    #[default]
    Table,
    /// The documented JSON shape (docs/checks.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other viewers.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A Markdown summary (a GitHub job summary, a pull request comment).
    Markdown,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub selection: Selection,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: CheckFormat,
    /// Also write the findings in FORMAT to FILE, from the same run (repeatable):
    /// `--output sarif=strata.sarif --output markdown=summary.md`.
    #[arg(long = "output", value_name = "FORMAT=FILE", value_parser = parse_output)]
    pub outputs: Vec<(CheckFormat, PathBuf)>,
    /// Send no network request: only the checks that need none (unpinned,
    /// unsupported-tag, invalid references), e.g. in a pre-commit hook.
    #[arg(long)]
    pub offline: bool,
    /// A Docker Official Images checkout or copy: `library/` and `removed-tags.json`
    /// (overrides `[check] official_images`).
    #[arg(long, value_name = "DIR")]
    pub official_images: Option<PathBuf>,
    /// Read settings from this file instead of strata.toml in the scanned directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The state database (default: $STRATA_STATE, else state.db in the state directory).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Look REGISTRY's tags up on HOST instead, a mirror serving the same content.
    /// Repeatable; overrides strata.toml.
    #[arg(long = "registry-mirror", value_name = "REGISTRY=HOST")]
    pub registry_mirrors: Vec<String>,
    /// Also fetch each tag's current manifest by digest and check its sha256 before
    /// reporting or recording it: two requests per tag instead of one, and the GET
    /// counts against Docker Hub's pull limit (HEAD does not). Also `[registry] verify`.
    #[arg(long, conflicts_with = "offline")]
    pub verify: bool,
    /// Publish the findings as a GitHub check run (token from GITHUB_TOKEN).
    #[arg(long, conflicts_with = "offline")]
    pub github_check_run: bool,
    /// The repository for the check run.
    #[arg(long, value_name = "OWNER/NAME", env = "GITHUB_REPOSITORY")]
    pub github_repository: Option<String>,
    /// The commit for the check run.
    #[arg(long, value_name = "SHA", env = "GITHUB_SHA")]
    pub github_sha: Option<String>,
}

/// How `strata graph` draws the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum GraphFormat {
    /// An indented tree, bases above what is built on them.
    #[default]
    Tree,
    /// Graphviz dot.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
    /// Nodes and edges with their evidence, as JSON.
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The workspace directory, holding strata.toml (default: the current directory).
    pub dir: Option<PathBuf>,
    /// Read settings from this file instead of strata.toml in the workspace directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: GraphFormat,
    /// Draw the tree with ASCII characters only.
    #[arg(long)]
    pub ascii: bool,
    /// Follow builder stages and COPY --from sources too (default: strata.toml's `follow`).
    #[arg(long)]
    pub all_edges: bool,
    /// The state database (default: $STRATA_STATE, else the state directory).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CascadeArgs {
    /// The base image whose change to carry down (e.g. org/python-base:3). Optional with
    /// --resume, which then resumes every interrupted cascade.
    #[arg(required_unless_present = "resume")]
    pub image: Option<String>,
    /// The workspace directory, holding strata.toml (default: the current directory).
    #[arg(short = 'w', long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Read settings from this file instead of strata.toml in the workspace directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the plan (levels, images, triggers) and trigger nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Resume interrupted cascades (all of them, or IMAGE's) and start no new one.
    #[arg(long)]
    pub resume: bool,
    /// Rebuilds in flight at once (default: strata.toml, else 8).
    #[arg(long, value_name = "N")]
    pub parallel: Option<usize>,
    /// Per-image limit from trigger to publication, e.g. 30m (default: strata.toml, else 1h).
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Follow builder stages and COPY --from sources too (default: strata.toml's `follow`).
    #[arg(long)]
    pub all_edges: bool,
    /// Output format of the final report.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// No progress lines on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    /// The state database (default: $STRATA_STATE, else the state directory).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// `strata diff` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DiffFormat {
    /// Text for a terminal.
    #[default]
    Table,
    /// The Markdown pull requests carry.
    Markdown,
    /// The report as JSON (docs/diff.md).
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old image: a tag, a digest, or both (`python:3.12-slim@sha256:…`).
    pub old: String,
    /// The new image; a bare `@sha256:…` or `sha256:…` means OLD's repository at that digest.
    pub new: String,
    /// Only this platform (`linux/arm64`; repeatable; default: every shared platform).
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    pub platforms: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: DiffFormat,
    /// A directory of OSV advisories (`*.json`; default: $STRATA_ADVISORIES, else
    /// `advisories` in the cache directory when present).
    #[arg(long, value_name = "DIR")]
    pub advisories: Option<PathBuf>,
    /// A Docker Official Images checkout (for the `library/` entry that changed).
    #[arg(long, value_name = "DIR")]
    pub official_images: Option<PathBuf>,
    /// The state database, for when strata first saw a base move (default: the state
    /// directory's, when it exists).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Read settings from this file instead of strata.toml in the current directory.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Look REGISTRY's content up on HOST instead. Repeatable; overrides strata.toml.
    #[arg(long = "registry-mirror", value_name = "REGISTRY=HOST")]
    pub registry_mirrors: Vec<String>,
}

#[derive(Debug, Args)]
pub struct AdvisoriesArgs {
    #[command(subcommand)]
    pub command: AdvisoriesCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdvisoriesCommand {
    /// Download each ecosystem's OSV export (`<ECOSYSTEM>/all.zip`) into the advisory
    /// directory, replacing the previous one only once the new one reads.
    Fetch(AdvisoriesFetchArgs),
}

#[derive(Debug, Args)]
pub struct AdvisoriesFetchArgs {
    /// OSV ecosystems (default: Debian, Ubuntu, Alpine).
    pub ecosystems: Vec<String>,
    /// The advisory directory (default: $STRATA_ADVISORIES, else `advisories` in the
    /// cache directory).
    #[arg(long, value_name = "DIR")]
    pub into: Option<PathBuf>,
    /// Where exports are downloaded from; `{ecosystem}` is replaced by each name.
    #[arg(long, value_name = "URL", default_value = crate::diff::refresh::OSV_EXPORT_URL)]
    pub url: String,
}
