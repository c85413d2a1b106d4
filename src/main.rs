//! Thin CLI over the library: the same scenarios as `cargo test`, plus
//! report re-rendering and the scenario list.
//!
//! Exit codes of `run`: 0 every scenario passed; 1 a scenario failed or is
//! unsupported on this cluster; 2 bad input (unknown scenario, a
//! kubeconfig that is not a file, a malformed setting); 3 infrastructure
//! (the cluster cannot be had or reached, OpenKruise is not ready).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use inplace_conformance::catalog::{self, CATALOG, Scenario};
use inplace_conformance::cluster::{self, ClusterSource};
use inplace_conformance::config::RunConfig;
use inplace_conformance::observe::ImageDelivery;
use inplace_conformance::{report, runner, wait, workloads};

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::List => list(),
        Command::Report { run } => rerender(run),
        Command::Run(options) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(run(options))
        }
    }
}

fn list() -> ExitCode {
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

fn rerender(run: Option<PathBuf>) -> ExitCode {
    let dir = match run {
        Some(dir) => Ok(dir),
        None => RunConfig::from_env().map(|c| c.base_dir().join("latest")),
    };
    let result = dir.and_then(|dir| {
        if dir.join("results.json").is_file() {
            report::render_from_results(&dir)
        } else if dir.join("observations").is_dir() {
            report::render_dir(&dir)
        } else {
            anyhow::bail!(
                "{} holds no results.json and no observations; hint: name a run folder \
                 under target/conformance/",
                dir.display()
            )
        }
    });
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
struct RunOptions {
    /// kind cluster to create or reuse via scripts/cluster (default
    /// $INPLACE_CLUSTER or inplace-conformance).
    #[arg(long, conflicts_with = "kubeconfig")]
    cluster: Option<String>,
    /// Use an existing cluster instead.
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// Do not delete the kind cluster at the end.
    #[arg(long)]
    keep_cluster: bool,
    /// Keep a failed scenario's namespace for inspection.
    #[arg(long)]
    keep_on_failure: bool,
    /// How images reach the kubelet (default: registry).
    #[arg(long, value_enum)]
    image_delivery: Option<ImageDelivery>,
    /// Scenario(s) to run, by name (see `list`).
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,
}

const BAD_INPUT: u8 = 2;
const INFRASTRUCTURE: u8 = 3;

async fn run(options: RunOptions) -> ExitCode {
    let (config, scenarios) = match prepare(&options) {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    // The cluster first: a run that cannot have one says so (and why)
    // before anything is created or any report is written.
    if let Err((code, err)) = cluster_ready(&config).await {
        eprintln!("error: {err:#}");
        if code == INFRASTRUCTURE {
            delete_cluster_unless_kept(&config, options.keep_cluster).await;
        }
        return ExitCode::from(code);
    }
    wait::progress(
        "run",
        &format!("run {} into {}", config.run_id, config.output_dir.display()),
    );
    // Scenarios start podman's API service for testcontainers on first use;
    // a run that found it stopped leaves it stopped.
    let api_was_running = cluster::run_script(&config.repo_root, &["registry-socket-status"])
        .await
        .is_ok();
    let mut failed = Vec::new();
    for scenario in scenarios {
        let started = std::time::Instant::now();
        match runner::run_with(&config, scenario).await {
            Ok(_) => println!(
                "PASS {} ({:.0}s)",
                scenario.name,
                started.elapsed().as_secs_f64()
            ),
            Err(err) => {
                println!("FAIL {}: {err:#}", scenario.name);
                failed.push(scenario.name);
            }
        }
    }
    match report::render_dir(&config.output_dir) {
        Ok(path) => println!("report: {}", path.display()),
        Err(err) => eprintln!("warning: report: {err:#}"),
    }
    if !api_was_running {
        let _ = cluster::run_script(&config.repo_root, &["registry-socket-stop"]).await;
    }
    delete_cluster_unless_kept(&config, options.keep_cluster).await;
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failed: {}", failed.join(", "));
        ExitCode::from(1)
    }
}

/// Infrastructure (exit 3) unless the cause is the user's input (exit 2):
/// a kubeconfig that is not a file or does not parse.
async fn cluster_ready(config: &RunConfig) -> Result<(), (u8, anyhow::Error)> {
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
        if let Err(err) = kube::config::Kubeconfig::read_from(path) {
            // The YAML error draws a caret diagram: keep one line.
            let cause = err
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            return Err((
                BAD_INPUT,
                anyhow::anyhow!(
                    "--kubeconfig {}: {cause}; hint: is it a kubeconfig?",
                    path.display()
                ),
            ));
        }
    }
    let infrastructure = |e: anyhow::Error| (INFRASTRUCTURE, e);
    let cluster = cluster::acquire(&config.cluster, &config.repo_root, &config.locks_dir())
        .await
        .map_err(|e| infrastructure(e.into()))?;
    let client = cluster
        .client()
        .await
        .map_err(|e| infrastructure(e.into()))?;
    inplace_conformance::kruise::preflight(&client)
        .await
        .map_err(|e| {
            infrastructure(anyhow::anyhow!(
                "cluster {} has no ready OpenKruise: {e:#}; hint: `scripts/cluster up --name {}` \
                 installs it",
                cluster.name,
                cluster.name
            ))
        })?;
    Ok(())
}

fn prepare(options: &RunOptions) -> anyhow::Result<(RunConfig, Vec<&'static Scenario>)> {
    let mut config = RunConfig::from_env()?;
    if std::env::var_os("INPLACE_RUN_ID").is_none() {
        config = config.with_run_id(&inplace_conformance::config::new_run_id())?;
    }
    if let Some(path) = &options.kubeconfig {
        config.cluster = ClusterSource::Kubeconfig {
            path: path.clone(),
            name: config.cluster.name().to_string(),
        };
    } else if let Some(name) = &options.cluster {
        config.cluster = ClusterSource::Named(name.clone());
    }
    config.keep_on_failure |= options.keep_on_failure;
    config.delivery = options.image_delivery.unwrap_or(config.delivery);
    let scenarios = if options.scenarios.is_empty() {
        CATALOG.iter().collect()
    } else {
        options
            .scenarios
            .iter()
            .map(|name| catalog::find(name))
            .collect::<anyhow::Result<Vec<&'static Scenario>>>()?
    };
    Ok((config, scenarios))
}

/// A cluster named on the command line (or by default) was brought up for
/// this run; an explicit kubeconfig is never ours to delete.
async fn delete_cluster_unless_kept(config: &RunConfig, keep: bool) {
    let ClusterSource::Named(name) = &config.cluster else {
        return;
    };
    if keep {
        wait::progress("cluster", &format!("kept cluster {name} (--keep-cluster)"));
        return;
    }
    wait::progress("cluster", &format!("deleting cluster {name}"));
    if let Err(err) = cluster::delete(&config.repo_root, name).await {
        eprintln!("warning: {err:#}");
    }
}
