//! Thin CLI over the library: the same scenarios as `cargo test`, plus
//! report re-rendering and the scenario list.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use inplace_conformance::cluster::{self, ClusterSource};
use inplace_conformance::observe::ImageDelivery;
use inplace_conformance::scenario::{self, CATALOG, RunConfig, ScenarioId};
use inplace_conformance::{report, wait};

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
    for spec in CATALOG {
        println!(
            "{:<22} suite {:<11} {:<28} {}",
            spec.name,
            spec.suite,
            spec.strategy.label(),
            spec.summary
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
    /// How images reach the kubelet: registry (default) or preloaded.
    #[arg(long, value_parser = ["registry", "preloaded"])]
    image_delivery: Option<String>,
    /// Scenario(s) to run, by name (see `list`).
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,
}

async fn run(options: RunOptions) -> ExitCode {
    let (config, ids) = match prepare(&options) {
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
    for id in ids {
        let started = std::time::Instant::now();
        match scenario::run_with(&config, id).await {
            Ok(_) => println!(
                "PASS {} ({:.0}s)",
                id.name(),
                started.elapsed().as_secs_f64()
            ),
            Err(err) => {
                println!("FAIL {}: {err:#}", id.name());
                failed.push(id.name());
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

fn prepare(options: &RunOptions) -> anyhow::Result<(RunConfig, Vec<ScenarioId>)> {
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
    config.delivery = match options.image_delivery.as_deref() {
        Some("preloaded") => ImageDelivery::Preloaded,
        Some("registry") => ImageDelivery::Registry,
        Some(other) => {
            anyhow::bail!("--image-delivery {other}: expected `registry` or `preloaded`")
        }
        None => config.delivery,
    };
    let ids = if options.scenarios.is_empty() {
        CATALOG.iter().map(|s| s.id).collect()
    } else {
        options
            .scenarios
            .iter()
            .map(|name| name.parse())
            .collect::<anyhow::Result<Vec<ScenarioId>>>()?
    };
    Ok((config, ids))
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
