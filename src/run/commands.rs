//! The CLI's commands (`run`, `report`, `list`, `qualify`, `cleanup`,
//! `merge`, `scan-secrets`, `compare-runs`): their options and the
//! orchestration behind them; `main.rs` holds the command tree and
//! dispatch only.
//!
//! Exit codes of `run`, `qualify` and `merge` (`judge::gate::exit`): 0 the
//! gate passed (every required scenario passed); 1 the gate failed (a
//! required scenario failed, was unsupported here or did not run); 2 bad
//! input (an unknown scenario or cell, a malformed matrix, policy or
//! kubeconfig); 3 infrastructure (a build, a cluster or OpenKruise could
//! not be had, a cell never reported); 130/143 interrupted.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::environment::cluster::{self, ClusterSource};
use crate::environment::config::RunConfig;
use crate::environment::interrupt;
use crate::environment::{config, images};
use crate::judge::gate::{self, Policy, exit};
use crate::model::event::{self, Event};
use crate::model::record::ImageDelivery;
use crate::report::folder::RunContext;
use crate::report::{self, compare as repeat, crosscell};
use crate::run::{batch, cleanup, handoff, qualify, secrets};
use crate::scenarios::catalog::{self, CATALOG, Scenario};
use crate::scenarios::plan::ScenarioPlan;
use crate::workloads;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn list() -> ExitCode {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for s in CATALOG {
        let key = workloads::fixture_key(root, s.fixture)
            .map(|(kind, strategy)| format!("{kind} {strategy}"))
            .unwrap_or_else(|e| format!("({e:#})"));
        let changes: Vec<&str> = s.changes.iter().map(|c| c.kind()).collect();
        println!(
            "{:<21} suite {:<10} {:<30} {:<34} {}",
            s.name,
            s.suite,
            key,
            if changes.is_empty() {
                "-".to_string()
            } else {
                changes.join(", ")
            },
            s.summary
        );
    }
    ExitCode::SUCCESS
}

pub fn scan_secrets(kubeconfig: &std::path::Path, paths: &[PathBuf]) -> ExitCode {
    let scanned = secrets::kubeconfig_secrets(kubeconfig)
        .and_then(|found| Ok((found.len(), secrets::scan(paths, &found)?)));
    match scanned {
        Err(err) => {
            eprintln!("error: {err:#}; hint: give the kubeconfig the run used and its run folder");
            ExitCode::from(exit::BAD_INPUT)
        }
        Ok((count, (files, leaks))) if leaks.is_empty() => {
            println!("secrets: none of {count} kubeconfig secret(s) in {files} file(s)");
            ExitCode::SUCCESS
        }
        Ok((_, (files, leaks))) => {
            print_leaks(&leaks);
            println!("secrets: {} leak(s) in {files} file(s)", leaks.len());
            ExitCode::from(exit::GATE_FAILED)
        }
    }
}

pub fn compare_runs(dirs: &[PathBuf]) -> ExitCode {
    let runs: anyhow::Result<Vec<repeat::Run>> = dirs.iter().map(|d| repeat::load(d)).collect();
    match runs {
        Err(err) => {
            eprintln!("error: {err:#}; hint: name run folders under target/conformance/");
            ExitCode::from(exit::BAD_INPUT)
        }
        Ok(runs) => {
            let comparison = repeat::compare(&runs);
            print!("{}", repeat::markdown(&comparison));
            if comparison.steady() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(exit::GATE_FAILED)
            }
        }
    }
}

pub fn rerender(run: Option<PathBuf>) -> ExitCode {
    let dir = match run {
        Some(dir) => Ok(dir),
        None => RunConfig::from_env().map(|c| c.base_dir().join("latest")),
    };
    let result = dir.and_then(|dir| report::folder::render_again(&dir));
    match result {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

#[derive(clap::Args)]
pub struct RunOptions {
    /// kind cluster to create or reuse via scripts/cluster (default
    /// $INPLACE_CLUSTER or inplace-conformance). One that already exists is
    /// reused (if its OpenKruise is the requested version) and kept.
    #[arg(long, conflicts_with = "kubeconfig")]
    pub cluster: Option<String>,
    /// kind config of a cluster this run creates (default
    /// kind-config/single-node.yaml; kind-config/multi-node.yaml: one
    /// control plane and three workers). A cluster that exists is reused as
    /// it is.
    #[arg(long, conflicts_with = "kubeconfig")]
    pub kind_config: Option<PathBuf>,
    /// Use an existing cluster, reached through this kubeconfig only (no
    /// node access, no kind): give --image-registry or --image-delivery
    /// preloaded too.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Do not delete the kind cluster at the end, even one this run created.
    #[arg(long)]
    pub keep_cluster: bool,
    /// Keep a failed scenario's namespace for inspection.
    #[arg(long)]
    pub keep_on_failure: bool,
    /// How images reach the kubelet (default: one registry per run on a
    /// kind cluster of this machine).
    #[arg(long, value_enum, conflicts_with = "image_registry")]
    pub image_delivery: Option<ImageDelivery>,
    /// Push the workload images to this registry, which the nodes pull from
    /// (HOST[:PORT][/PATH]; http://... for a plain-HTTP registry).
    #[arg(long, value_name = "REF")]
    pub image_registry: Option<String>,
    /// The name the nodes pull --image-registry's images by, when it is not
    /// the one this side pushes to (an in-cluster registry behind a
    /// NodePort: pushed to http://registry.NS.svc:5000, pulled from
    /// localhost:30500).
    #[arg(long, value_name = "REF", requires = "image_registry")]
    pub image_pull_registry: Option<String>,
    /// Run from a pod of the cluster under test, as the pod's
    /// ServiceAccount (kube's in-cluster config; deploy/README.md).
    #[arg(long, conflicts_with_all = ["cluster", "kubeconfig", "kind_config"])]
    pub in_cluster: bool,
    /// When the run ends (passed, failed or interrupted), write its run
    /// folder here as a gzip tar, and the exit code beside it
    /// (FILE.exit), for `results` to hand over.
    #[arg(long, value_name = "FILE")]
    pub results_archive: Option<PathBuf>,
    /// Then write the archive's path into this file (a Sonobuoy plugin's
    /// `done` file).
    #[arg(long, value_name = "FILE", requires = "results_archive")]
    pub done_file: Option<PathBuf>,
    /// Then stay up to SECONDS until `inplace-conformance results` has
    /// taken the archive (a Job's pod, whose files go with it).
    #[arg(long, value_name = "SECONDS", requires = "results_archive")]
    pub hold_results: Option<u64>,
    /// Scenario(s) to run, by name (see `list`).
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Gate policy (required and informational scenarios); default: every
    /// scenario required.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Run the opt-in faults profile (kruise-manager killed mid-update,
    /// kruise-daemon restarted, the node's containerd restarted), one
    /// scenario at a time, instead of the default selection.
    #[arg(long)]
    pub faults: bool,
    /// Run the opt-in upgrade profile: the workloads deployed on the
    /// cluster's OpenKruise, which is then upgraded (or downgraded) in place
    /// to VERSION under them (its module_sum from release/matrix.yaml).
    #[arg(long, value_name = "VERSION", conflicts_with = "faults")]
    pub kruise_upgrade_to: Option<String>,
    /// Scenarios run at a time (4: steady over five runs of the default
    /// selection on 2 cores, README "Where the time goes").
    #[arg(long, default_value_t = crate::run::batch::DEFAULT_JOBS)]
    pub jobs: usize,
    /// Also stream every event to stdout in this machine-readable format
    /// (the console's lines stay on stderr).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub events: Option<EventsFormat>,
}

/// Machine-readable event streams.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum EventsFormat {
    /// One JSON object per event and line: `at`, `elapsed_s`, `kind` and
    /// the event's fields.
    Jsonl,
}

#[derive(clap::Args)]
pub struct QualifyOptions {
    /// The matrix: Kubernetes x OpenKruise versions x profiles (YAML).
    #[arg(long, value_name = "FILE")]
    pub matrix: PathBuf,
    /// Gate policy; default: every scenario required in every cell.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Run only this cell (repeatable); see the cell names with --list.
    #[arg(long = "cell", value_name = "NAME", conflicts_with = "shard")]
    pub cells: Vec<String>,
    /// Run the i-th of n slices of the cells (1-based), e.g. 2/4.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<qualify::Shard>,
    /// Print the cells this selection runs, and exit.
    #[arg(long)]
    pub list: bool,
    /// Scenarios run at a time in a cell.
    #[arg(long, default_value_t = crate::run::batch::DEFAULT_JOBS)]
    pub jobs: usize,
    /// Keep each cell's cluster.
    #[arg(long)]
    pub keep_clusters: bool,
}

#[derive(clap::Args)]
pub struct MergeOptions {
    /// Where the combined report goes.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The matrix the cells come from: a cell it has and the inputs lack is
    /// an infrastructure failure (a runner that never reported).
    #[arg(long, value_name = "FILE")]
    pub matrix: Option<PathBuf>,
    /// Gate policy; default: every scenario required.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Cell folders (holding cell.json) or qualify run folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub struct CheckAccessOptions {
    /// The suite's account's kubeconfig (`scripts/cluster sa-kubeconfig`
    /// prints one for a kind cluster).
    #[arg(long)]
    pub kubeconfig: PathBuf,
}

#[derive(clap::Args)]
pub struct CleanupOptions {
    /// The run (its folder name under target/conformance).
    #[arg(long)]
    pub run_id: String,
    /// The cluster to clean (default: registry containers only).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
}

const BAD_INPUT: u8 = exit::BAD_INPUT;
const INFRASTRUCTURE: u8 = exit::INFRASTRUCTURE;

fn bad_input(err: anyhow::Error) -> ExitCode {
    eprintln!("error: {}", crate::observe::kruise::error_text(&err));
    ExitCode::from(BAD_INPUT)
}

fn load_policy(path: Option<&PathBuf>) -> anyhow::Result<Policy> {
    path.map(|p| Policy::load(p))
        .transpose()
        .map(Option::unwrap_or_default)
}

pub async fn run(options: RunOptions) -> ExitCode {
    let (code, run_dir) = run_scenarios_cli(&options).await;
    match &options.results_archive {
        Some(archive) => {
            let handoff = handoff::Handoff {
                archive: archive.clone(),
                done_file: options.done_file.clone(),
                hold: options.hold_results.map(std::time::Duration::from_secs),
            };
            ExitCode::from(handoff.deliver(run_dir.as_deref(), code).await)
        }
        None => ExitCode::from(code),
    }
}

/// A `run`: its exit code, and its run folder once one was written.
async fn run_scenarios_cli(options: &RunOptions) -> (u8, Option<PathBuf>) {
    if let Some(EventsFormat::Jsonl) = options.events {
        report::console::install_json_lines();
    }
    let prepared = prepare(options).and_then(|(config, scenarios)| {
        let policy = load_policy(options.policy.as_ref())?;
        Ok((config, scenarios, policy))
    });
    let (config, scenarios, policy) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {}", crate::observe::kruise::error_text(&err));
            return (BAD_INPUT, None);
        }
    };
    let api_was_running = podman_api_running(&config).await;
    // Only a cluster this run creates is deleted: one that existed (the
    // user's, or another run's) is reused and kept.
    let keep = if options.keep_cluster {
        Keep::Asked
    } else if named_cluster_exists(&config).await {
        Keep::Existed
    } else {
        Keep::No
    };
    // SIGINT/SIGTERM from here on: remove what the run created, exit 130/143.
    cleanup::on_interrupt(|plan| {
        plan.repo_root = config.repo_root.clone();
        plan.run_id = config.run_id.clone();
        plan.delete_cluster = match &config.cluster {
            ClusterSource::Named(name) if keep == Keep::No => Some(name.clone()),
            _ => None,
        };
        plan.stop_podman_api = !api_was_running;
    });
    // The cluster first: a run that cannot have one says so (and why)
    // before anything is created or any report is written.
    if let Err((code, err)) = cluster_ready(&config, &scenarios).await {
        eprintln!("error: {}", crate::observe::kruise::error_text(&err));
        if code == INFRASTRUCTURE {
            delete_cluster_unless_kept(&config, keep).await;
        }
        config.discard_empty_run_dir();
        return (code, None);
    }
    event::emit(Event::RunStarted {
        run_id: config.run_id.clone(),
        output_dir: config.output_dir.display().to_string(),
        scenarios: scenarios.len(),
    });
    batch::run_scenarios(&config, &scenarios, options.jobs).await;
    let context = RunContext {
        run_id: config.run_id.clone(),
        policy,
        expected: scenarios.iter().map(|s| s.name().to_string()).collect(),
        interrupted: interrupt::signal().map(str::to_string),
    };
    let written = finish_folder(&config, &context);
    if context.interrupted.is_some() {
        let code = cleanup::undo_interrupted().await;
        return (code, written.map(|_| config.output_dir.clone()));
    }
    let leaked = leaks_in_run(&config).await;
    stop_podman_api(&config, api_was_running).await;
    delete_cluster_unless_kept(&config, keep).await;
    let Some(folder) = written else {
        return (INFRASTRUCTURE, None);
    };
    announce_races(&folder.report);
    let code = if folder.report.summary.gate_passed {
        exit::PASSED
    } else {
        exit::GATE_FAILED
    };
    if leaked {
        event::warn(
            "run",
            "exit 1: the run folder holds credentials of the cluster (LEAK lines above)",
        );
        return (exit::GATE_FAILED, Some(config.output_dir.clone()));
    }
    (code, Some(config.output_dir.clone()))
}

/// The run folder searched for the cluster's credentials (as `scan-secrets`
/// does); true, with each leak printed, if any is there.
async fn leaks_in_run(config: &RunConfig) -> bool {
    let Ok(cluster) = config.acquire_cluster().await else {
        return false;
    };
    let scanned = secrets::kubeconfig_secrets(&cluster.kubeconfig)
        .and_then(|found| secrets::scan(std::slice::from_ref(&config.output_dir), &found));
    match scanned {
        Ok((files, leaks)) => {
            for leak in &leaks {
                event::warn(
                    "secrets",
                    format!(
                        "LEAK {}: holds the kubeconfig's {}",
                        leak.file.display(),
                        leak.what
                    ),
                );
            }
            if leaks.is_empty() {
                event::note(
                    "secrets",
                    format!("no kubeconfig secret in the run's {files} file(s)"),
                );
            }
            !leaks.is_empty()
        }
        Err(err) => {
            event::warn("secrets", format!("secrets scan: {err:#}"));
            false
        }
    }
}

/// One line per leak, naming the file and the field, never the secret.
fn print_leaks(leaks: &[secrets::Leak]) {
    for leak in leaks {
        println!(
            "LEAK {}: holds the kubeconfig's {}",
            leak.file.display(),
            leak.what
        );
    }
}

/// The run folder, written once from every record of the run; its summary
/// and failures reach the terminal as the run's last event.
fn finish_folder(config: &RunConfig, context: &RunContext) -> Option<report::folder::Folder> {
    let started = std::time::Instant::now();
    match report::folder::write_run(&config.output_dir, context) {
        Ok((folder, path)) => {
            report::folder::announce(&folder, &path, started.elapsed());
            Some(folder)
        }
        Err(err) => {
            event::warn("run", format!("writing the run folder: {err:#}"));
            None
        }
    }
}

/// Known races do not change verdicts; the run still says which it met.
fn announce_races(report: &report::Report) {
    for (scenario, check, race) in report::races_met(report) {
        event::note(
            "run",
            format!(
                "known race {} in {scenario} (\"{check}\"), judged on what still holds; \
                 see report.md, \"Known races met\"",
                race.name
            ),
        );
    }
}

/// Prints the gate's decision and returns its exit code.
fn announce(decision: &gate::Decision) -> ExitCode {
    let blocking = decision.blocking();
    if decision.passed {
        println!("gate: PASS ({} scenario(s) judged)", decision.entries.len());
    } else {
        println!("gate: FAIL, blocked by {}", blocking.join(", "));
    }
    ExitCode::from(decision.exit_code())
}

/// Scenarios start podman's API service for testcontainers on first use; a
/// run that found it stopped leaves it stopped. Only a kind cluster of this
/// machine gets a registry container: elsewhere podman is never asked (it
/// need not be installed).
async fn podman_api_running(config: &RunConfig) -> bool {
    if config.cluster.kind_node().is_none() || config.delivery != ImageDelivery::Registry {
        return true;
    }
    cluster::run_script(&config.repo_root, &["registry-socket-status"])
        .await
        .is_ok()
}

async fn stop_podman_api(config: &RunConfig, was_running: bool) {
    if !was_running {
        let _ = cluster::run_script(&config.repo_root, &["registry-socket-stop"]).await;
    }
}

pub async fn qualify_run(options: QualifyOptions) -> ExitCode {
    let prepared = (|| {
        let matrix = qualify::Matrix::load(&options.matrix)?;
        let policy = load_policy(options.policy.as_ref())?;
        let names: Vec<String> = matrix.cells().into_iter().map(|c| c.name).collect();
        let unknown = policy.unknown_cells(&names);
        anyhow::ensure!(
            unknown.is_empty(),
            "the policy names cells the matrix does not have: {}; hint: cells are {}",
            unknown.join(", "),
            names.join(", ")
        );
        let cells = matrix.select(&options.cells, options.shard)?;
        if !options.list {
            qualify::preflight(&cells)?;
        }
        let mut config = RunConfig::from_env()?;
        if std::env::var_os("INPLACE_RUN_ID").is_none() {
            config = config.with_run_id(&format!("qualify-{}", config::new_run_id()))?;
        }
        Ok((matrix, policy, cells, config))
    })();
    let (matrix, policy, cells, config) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => return bad_input(err),
    };
    if options.list {
        for cell in &cells {
            println!("{}", cell.describe());
        }
        return ExitCode::SUCCESS;
    }
    if let Err(err) = config.prepare_run_dir() {
        eprintln!("error: {err:#}");
        return ExitCode::from(INFRASTRUCTURE);
    }
    event::note(
        "qualify",
        format!(
            "{} cell(s) into {}: {}",
            cells.len(),
            config.output_dir.display(),
            cells
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let api_was_running = podman_api_running(&config).await;
    cleanup::on_interrupt(|plan| plan.stop_podman_api = !api_was_running);
    let mut ran = Vec::new();
    for cell in &cells {
        let dir = config.output_dir.join("cells").join(&cell.name);
        let summary = qualify::run_cell(
            &config,
            cell,
            &matrix,
            &dir,
            options.jobs,
            options.keep_clusters,
        )
        .await;
        event::note(
            &cell.name,
            format!("cell done in {:.0} s", summary.wall_seconds),
        );
        ran.push((dir, summary));
    }
    stop_podman_api(&config, api_was_running).await;
    finish_combined(&config.output_dir, &config.run_id, &ran, &policy, &[])
}

/// Writes the combined report and returns the exit code: 3 when a cell
/// could not run or is missing, else the gate's.
fn finish_combined(
    out: &std::path::Path,
    run_id: &str,
    cells: &[(PathBuf, qualify::CellSummary)],
    policy: &Policy,
    missing: &[String],
) -> ExitCode {
    let combined = match crosscell::combine(run_id, cells, policy) {
        Ok(combined) => combined,
        Err(err) => return bad_input(err),
    };
    match crosscell::write(out, &combined) {
        Ok(path) => println!(
            "report: {} (report.html, results.json, junit.xml, gate.json beside it)",
            path.display()
        ),
        Err(err) => {
            eprintln!("error: writing the report: {err:#}");
            return ExitCode::from(INFRASTRUCTURE);
        }
    }
    for cell in &combined.cells {
        println!(
            "cell {}: {:.0} s{}",
            cell.name,
            cell.wall_seconds,
            cell.infrastructure_error
                .as_ref()
                .map(|e| format!(", INFRASTRUCTURE: {e}"))
                .unwrap_or_default()
        );
    }
    let code = announce(&combined.decision);
    let broken: Vec<&str> = combined
        .cells
        .iter()
        .filter(|c| c.infrastructure_error.is_some())
        .map(|c| c.name.as_str())
        .chain(missing.iter().map(String::as_str))
        .collect();
    if broken.is_empty() {
        code
    } else {
        eprintln!(
            "error: infrastructure: cell(s) {} did not run; the gate cannot be decided",
            broken.join(", ")
        );
        ExitCode::from(INFRASTRUCTURE)
    }
}

/// Sends the least-privilege attempts as the account of `--kubeconfig`:
/// exit 0 when each was denied (and each control allowed), 1 when one was
/// not, 2 for a kubeconfig with cluster-wide grants or none, 3 when the
/// cluster does not answer.
pub async fn check_access(options: CheckAccessOptions) -> ExitCode {
    let config = match RunConfig::from_env().and_then(|mut c| {
        if std::env::var_os("INPLACE_RUN_ID").is_none() {
            c = c.with_run_id(&crate::environment::config::new_run_id())?;
        }
        c.cluster = ClusterSource::Kubeconfig {
            path: options.kubeconfig.clone(),
            kind_node: None,
        };
        Ok(c)
    }) {
        Ok(config) => config,
        Err(err) => return bad_input(err),
    };
    if let Err((code, err)) = cluster_ready(&config, &[]).await {
        eprintln!("error: {}", crate::observe::kruise::error_text(&err));
        return ExitCode::from(code);
    }
    match crate::run::attempts::check(&config).await {
        Ok((report, files)) => {
            for line in crate::run::attempts::lines(&report) {
                println!("{line}");
            }
            let failed = report.failures().len();
            println!(
                "access checks as {}: {} of {} as expected; {}",
                report.identity,
                report.outcomes.len() - failed,
                report.outcomes.len(),
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(err) => bad_input(err),
    }
}

pub async fn cleanup_run(options: CleanupOptions) -> ExitCode {
    let config = match RunConfig::from_env().and_then(|c| c.with_run_id(&options.run_id)) {
        Ok(config) => config,
        Err(err) => return bad_input(err),
    };
    let (removed, failed) = cleanup::remove_run(
        &config.repo_root,
        &config.run_id,
        options.kubeconfig.as_deref(),
        config.timeouts.cleanup,
    )
    .await;
    println!("run {}: removed {}", config.run_id, removed.describe());
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("error: {}", failed.join("; "));
        ExitCode::from(INFRASTRUCTURE)
    }
}

pub fn merge(options: MergeOptions) -> ExitCode {
    let prepared = (|| {
        let policy = load_policy(options.policy.as_ref())?;
        let cells = qualify::find_cells(&options.inputs)?;
        anyhow::ensure!(!cells.is_empty(), "no cell folder among the inputs");
        let missing: Vec<String> = match &options.matrix {
            None => Vec::new(),
            Some(path) => qualify::Matrix::load(path)?
                .cells()
                .into_iter()
                .map(|c| c.name)
                .filter(|name| !cells.iter().any(|(_, s)| s.name == *name))
                .collect(),
        };
        Ok((policy, cells, missing))
    })();
    let (policy, cells, missing) = match prepared {
        Ok(prepared) => prepared,
        Err(err) => return bad_input(err),
    };
    let run_id = options
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "merged".into());
    finish_combined(&options.out, &run_id, &cells, &policy, &missing)
}

/// Infrastructure (exit 3) unless the cause is the user's input (exit 2):
/// a kubeconfig that is not a file or does not parse.
async fn cluster_ready(
    config: &RunConfig,
    plans: &[ScenarioPlan],
) -> Result<(), (u8, anyhow::Error)> {
    if let ClusterSource::Kubeconfig { path, .. } = &config.cluster {
        if !path.is_file() {
            return Err((
                BAD_INPUT,
                anyhow::anyhow!(
                    "--kubeconfig {} is not a file; hint: pass the kubeconfig of a running cluster",
                    path.display()
                ),
            ));
        }
        if let Err(cause) = kube::config::Kubeconfig::read_from(path)
            .map_err(|e| e.to_string())
            .and_then(|kc| cluster::context_problem(&kc).map_or(Ok(()), Err))
        {
            // The YAML error draws a caret diagram: keep one line.
            let cause = cause.split_whitespace().collect::<Vec<_>>().join(" ");
            let hint = if cause.contains("hint:") {
                ""
            } else {
                "; hint: is it a kubeconfig?"
            };
            return Err((
                BAD_INPUT,
                anyhow::anyhow!("--kubeconfig {}: {cause}{hint}", path.display()),
            ));
        }
    }
    let infrastructure = |e: anyhow::Error| (INFRASTRUCTURE, e);
    let cluster = config
        .acquire_cluster()
        .await
        .map_err(|e| infrastructure(e.into()))?;
    let client = cluster
        .client()
        .await
        .map_err(|e| infrastructure(e.into()))?;
    // Who the run is and what it may do first (SelfSubjectAccessReviews):
    // an account without a right it needs is named as such, not mistaken
    // for a cluster without OpenKruise. An account without its guard is
    // refused here too, once, before any scenario creates anything.
    let access = crate::run::access::resolve(&client)
        .await
        .map_err(infrastructure)?;
    crate::observe::kruise::preflight(&client)
        .await
        .map_err(|e| {
            // Only a cluster named to `run` is one scripts/cluster manages.
            let hint = match &config.cluster {
                ClusterSource::Named(name) => {
                    format!("`scripts/cluster up --name {name}` installs it")
                }
                ClusterSource::Kubeconfig { .. } => "install OpenKruise on that cluster (its \
                     Helm chart; the version this suite pins is KRUISE_VERSION in \
                     scripts/versions.env), or use --cluster NAME for a kind cluster set up here"
                    .to_string(),
            };
            infrastructure(anyhow::anyhow!(
                "cluster {} has no ready OpenKruise: {}; hint: {hint}",
                cluster.name,
                crate::observe::kruise::error_text(&e)
            ))
        })?;
    let mut tried = std::collections::BTreeSet::new();
    let fixtures: Vec<&workloads::Fixture> = plans
        .iter()
        .filter(|p| tried.insert(p.fixture.path.clone()))
        .map(|p| &p.fixture)
        .collect();
    if !fixtures.is_empty() {
        crate::run::access::dry_run_fixtures(&client, &access, &config.run_id, &fixtures)
            .await
            .map_err(|e| (BAD_INPUT, e))?;
    }
    // What the suite cannot deliver itself is checked once: a registry it
    // pushes to, or images the user preloaded on a cluster it cannot reach
    // the nodes of.
    let preloaded_by_user =
        config.delivery == ImageDelivery::Preloaded && config.cluster.kind_node().is_none();
    if config.delivery == ImageDelivery::External || preloaded_by_user {
        crate::run::registry_check::check(&client, &access, config)
            .await
            .map_err(infrastructure)?;
    }
    Ok(())
}

fn prepare(options: &RunOptions) -> anyhow::Result<(RunConfig, Vec<ScenarioPlan>)> {
    let mut config = RunConfig::from_env()?;
    if std::env::var_os("INPLACE_RUN_ID").is_none() {
        config = config.with_run_id(&crate::environment::config::new_run_id())?;
    }
    if options.in_cluster {
        config.cluster = ClusterSource::Kubeconfig {
            path: crate::environment::in_cluster::kubeconfig(&std::env::temp_dir())?,
            kind_node: None,
        };
    } else if let Some(path) = &options.kubeconfig {
        anyhow::ensure!(
            path.is_file(),
            "--kubeconfig {} is not a file; hint: pass the kubeconfig of a running cluster",
            path.display()
        );
        // Only what the command line names: a foreign cluster.
        config.cluster = ClusterSource::Kubeconfig {
            path: path.clone(),
            kind_node: None,
        };
    } else if let Some(name) = &options.cluster {
        config.cluster = ClusterSource::Named(name.clone());
    }
    if let Some(file) = &options.kind_config {
        anyhow::ensure!(
            file.is_file(),
            "--kind-config {} is not a file; hint: kind-config/multi-node.yaml, or a kind \
             Cluster file of yours",
            file.display()
        );
        config.kind_config = Some(std::fs::canonicalize(file)?);
    }
    config.keep_on_failure |= options.keep_on_failure;
    if let Some(reference) = &options.image_registry {
        images::check_registry_ref(reference)?;
        config.image_registry = Some(reference.clone());
        config.delivery = ImageDelivery::External;
        if let Some(pull) = &options.image_pull_registry {
            config.image_pull_registry = Some(pull.clone());
        }
    } else if let Some(delivery) = options.image_delivery {
        config.image_registry = None;
        config.delivery = delivery;
    }
    anyhow::ensure!(options.jobs > 0, "--jobs must be at least 1");
    config
        .image_route(config.cluster.kind_node().is_some())
        .check()?;
    if let Some(version) = &options.kruise_upgrade_to {
        config.kruise_upgrade = Some(pinned_release(&config.repo_root, version)?);
    }
    let scenarios = if options.faults {
        anyhow::ensure!(
            options.scenarios.is_empty(),
            "--faults runs the faults profile; name its scenarios with --scenario instead"
        );
        catalog::faults_profile()
    } else if options.kruise_upgrade_to.is_some() && options.scenarios.is_empty() {
        catalog::upgrade_profile()
    } else if options.scenarios.is_empty() {
        catalog::default_selection()
    } else {
        options
            .scenarios
            .iter()
            .map(|name| catalog::find(name))
            .collect::<anyhow::Result<Vec<&'static Scenario>>>()?
    };
    // Each scenario resolved once, before a cluster is had (a fixture that
    // does not parse is bad input); the API server's verdict on the
    // fixtures' fields comes once it is (`workloads::dry_run_fixture`).
    let scenarios = ScenarioPlan::all(&config.repo_root, &scenarios)?;
    crate::environment::config::check_pull_registry(
        config.image_registry.as_deref(),
        config.image_pull_registry.as_deref(),
    )?;
    if config.delivery != ImageDelivery::Preloaded {
        // Pushed from the layout by the suite's own OCI client (no podman).
        crate::environment::oci::check_layout(&config.repo_root)?;
    }
    Ok((config, scenarios))
}

/// The OpenKruise release `version` as release/matrix.yaml pins it (its
/// module hash is ours to pin: the checksum database does not answer).
fn pinned_release(
    repo_root: &std::path::Path,
    version: &str,
) -> anyhow::Result<crate::model::cell::KruiseRelease> {
    let path = repo_root.join("release/matrix.yaml");
    let matrix = crate::run::qualify::Matrix::load(&path)?;
    matrix
        .openkruise
        .iter()
        .find(|k| k.version == version)
        .cloned()
        .ok_or_else(|| {
            let known: Vec<&str> = matrix
                .openkruise
                .iter()
                .map(|k| k.version.as_str())
                .collect();
            anyhow::anyhow!(
                "--kruise-upgrade-to {version}: release/matrix.yaml pins no such OpenKruise \
                 version (it has {}); hint: add it with its module_sum",
                known.join(", ")
            )
        })
}

/// A cluster named on the command line (or by default) was brought up for
/// this run; an explicit kubeconfig is never ours to delete.
/// Why a named cluster outlives the run, if it does.
#[derive(Clone, Copy, PartialEq)]
enum Keep {
    No,
    Asked,
    Existed,
}

async fn named_cluster_exists(config: &RunConfig) -> bool {
    let ClusterSource::Named(name) = &config.cluster else {
        return false;
    };
    cluster::run_script(&config.repo_root, &["exists", "--name", name])
        .await
        .is_ok()
}

async fn delete_cluster_unless_kept(config: &RunConfig, keep: Keep) {
    let ClusterSource::Named(name) = &config.cluster else {
        return;
    };
    let why = match keep {
        Keep::No => None,
        Keep::Asked => Some("--keep-cluster"),
        Keep::Existed => Some("it existed before this run"),
    };
    if let Some(why) = why {
        event::note("cluster", format!("kept cluster {name} ({why})"));
        return;
    }
    // A bring-up that failed before `kind create` left nothing to delete.
    if cluster::run_script(&config.repo_root, &["exists", "--name", name])
        .await
        .is_err()
    {
        return;
    }
    event::note("cluster", format!("deleting cluster {name}"));
    if let Err(err) = cluster::delete(&config.repo_root, name).await {
        eprintln!("warning: {err:#}");
    }
}
