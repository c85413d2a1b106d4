//! Thin CLI over the library: the command tree and dispatch; each command
//! (its options, its orchestration, its exit codes) is in
//! `run::commands`, the same library code `cargo test` runs.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use inplace_conformance::report;
use inplace_conformance::run::commands::{
    self, CheckAccessOptions, CleanupOptions, MergeOptions, QualifyOptions, RunOptions,
};
use inplace_conformance::run::handoff;

#[derive(Parser)]
#[command(
    name = "inplace-conformance",
    about = "What survives an OpenKruise in-place update, proven on a kind cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenarios (all by default) into a fresh run folder
    /// target/conformance/<run-id>/ (target/conformance/latest points at it).
    Run(RunOptions),
    /// Re-render a run's report from its results.json (default: the latest run).
    Report {
        /// A run folder (default target/conformance/latest).
        run: Option<PathBuf>,
    },
    /// List the scenarios.
    List,
    /// Qualify a release: run the scenarios in each cell of a Kubernetes x
    /// OpenKruise matrix (build, cluster, install, run, delete), then gate.
    Qualify(QualifyOptions),
    /// Remove what an interrupted run left: its namespaces and cluster-scoped
    /// objects (by the run label) and its registry containers.
    Cleanup(CleanupOptions),
    /// Prove the suite's account harmless outside its namespaces: send, as
    /// the account of --kubeconfig, the requests it must not get through
    /// (exec into kube-system, delete a foreign namespace, a SidecarSet
    /// reaching another namespace, ...) as server-side dry runs, and record
    /// the API server's answers (least-privilege.md in a run folder).
    CheckAccess(CheckAccessOptions),
    /// Combine cell folders (from `qualify --cell/--shard` on several
    /// runners) into one report and one gate decision.
    Merge(MergeOptions),
    /// Search run folders (logs, reports, diagnostics) for the secrets of a
    /// kubeconfig: tokens, keys, certificates. Exit 1 naming each file and
    /// field found (never the secret), 0 when none is.
    ScanSecrets {
        /// The kubeconfig whose secrets must not appear.
        #[arg(long)]
        kubeconfig: PathBuf,
        /// Folders or files to search.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Hand over the results of a run started with --results-archive (in
    /// a Job's pod: `kubectl exec job/NAME -- inplace-conformance results >
    /// results.tar.gz`): waits for the run's end, writes the archive to
    /// stdout and exits with the run's exit code.
    Results {
        /// The archive the run writes.
        #[arg(long, value_name = "FILE", default_value = handoff::DEFAULT_ARCHIVE)]
        archive: PathBuf,
        /// How long to wait for the run's end, in seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 7200)]
        wait: u64,
    },
    /// Compare run folders of the same selection (e.g. from scripts/repeat):
    /// each scenario's verdicts and time spread, every check whose verdict
    /// differed between runs, the known races met. Exit 0 when every run
    /// passed and every verdict was the same, 1 otherwise.
    CompareRuns {
        /// Two or more run folders.
        #[arg(required = true, num_args = 2..)]
        runs: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    report::console::install();
    match cli.command {
        Command::List => commands::list(),
        Command::Report { run } => commands::rerender(run),
        Command::Merge(options) => commands::merge(options),
        Command::ScanSecrets { kubeconfig, paths } => commands::scan_secrets(&kubeconfig, &paths),
        Command::CompareRuns { runs } => commands::compare_runs(&runs),
        Command::Results { archive, wait } => ExitCode::from(commands::runtime().block_on(
            handoff::take(&archive, std::time::Duration::from_secs(wait)),
        )),
        Command::CheckAccess(options) => {
            commands::runtime().block_on(commands::check_access(options))
        }
        Command::Cleanup(options) => commands::runtime().block_on(commands::cleanup_run(options)),
        Command::Run(options) => commands::runtime().block_on(commands::run(options)),
        Command::Qualify(options) => commands::runtime().block_on(commands::qualify_run(options)),
    }
}
