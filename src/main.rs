//! Thin CLI over the library: the same scenarios as `cargo test`, plus
//! report re-rendering and the scenario list.

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
    /// Run scenarios (all by default) and write target/conformance/report.md.
    Run(RunOptions),
    /// Re-render the report from target/conformance/observations.
    Report,
    /// List the scenarios.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::List => list(),
        Command::Report => rerender(),
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

fn rerender() -> ExitCode {
    let result = RunConfig::from_env().and_then(|c| report::render_dir(&c.output_dir));
    match result {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
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

async fn run(options: RunOptions) -> ExitCode {
    let (config, scenarios) = match prepare(&options) {
        Ok(prepared) => prepared,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(2);
        }
    };
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
    if let Ok(path) = report::render_dir(&config.output_dir) {
        println!("report: {}", path.display());
    }
    if !api_was_running {
        let _ = cluster::run_script(&config.repo_root, &["registry-socket-stop"]).await;
    }
    delete_cluster_unless_kept(&config, options.keep_cluster).await;
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

fn prepare(options: &RunOptions) -> anyhow::Result<(RunConfig, Vec<&'static Scenario>)> {
    let mut config = RunConfig::from_env()?;
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
