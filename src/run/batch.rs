//! Runs a list of scenarios against one cluster, some at a time, the way
//! the CLI and `qualify` do (`cargo test` schedules its own).

use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::environment::config::RunConfig;
use crate::scenarios::plan::ScenarioPlan;

/// How one scenario ended.
#[derive(Debug)]
pub struct Ran {
    pub scenario: &'static str,
    pub error: Option<String>,
    pub took: Duration,
}

/// Scenarios run at a time by default, by `run`, `qualify` and the cargo
/// test harness: on this project's 2-core machine the default selection
/// took 185 s at 4 and 97 to 99 s at 8 (busy 56 % and 73 % of the time:
/// the rest is waiting on the platform), and was steady at 8 over five
/// runs (`scripts/repeat --runs 5 --jobs 8`, 0 of 461 checks changed).
pub const DEFAULT_JOBS: usize = 8;

/// Runs `scenarios`, `jobs` at a time, in `run::schedule::start_order`
/// (a scenario that measures throughput starts last and measures once the
/// others have ended, `run::alone`); a fault scenario runs alone
/// afterwards, so that it disturbs no other scenario's update. Each
/// scenario announces its verdict on the event stream as it ends.
pub async fn run_scenarios(config: &RunConfig, plans: &[ScenarioPlan], jobs: usize) -> Vec<Ran> {
    // The upgrade profile's scenarios share one OpenKruise upgrade: all of
    // them must be running at once to meet at it.
    let upgrading = plans.iter().filter(|p| upgrades(p)).count();
    crate::faults::kruise_upgraded::expect_participants(upgrading);
    let jobs = jobs.max(upgrading);
    let (alone, shared): (Vec<_>, Vec<_>) = plans.iter().partition(|p| p.scenario.runs_alone());
    let shared = crate::run::schedule::start_order(shared, &previous_durations(config));
    let mut ran: Vec<Ran> = futures::stream::iter(shared)
        .map(|s| run_one(config, s))
        .buffer_unordered(jobs.max(1))
        .collect()
        .await;
    for scenario in alone {
        ran.push(run_one(config, scenario).await);
    }
    crate::run::cleanup::await_deletions(config.timeouts.cleanup).await;
    if let Err(err) = crate::environment::images::release_run_registry(&config.repo_root).await {
        crate::model::event::warn("run", format!("removing the run's registry: {err:#}"));
    }
    ran
}

/// How long each scenario took in this output folder's previous run.
pub fn previous_durations(config: &RunConfig) -> std::collections::BTreeMap<String, f64> {
    config
        .output_dir
        .parent()
        .map(crate::run::schedule::previous_durations)
        .unwrap_or_default()
}

fn upgrades(plan: &ScenarioPlan) -> bool {
    plan.scenario.profile() == Some(crate::faults::kruise_upgraded::PROFILE)
}

async fn run_one(config: &RunConfig, plan: &ScenarioPlan) -> Ran {
    let started = Instant::now();
    let error = crate::run::runner::run_with(config, plan)
        .await
        .err()
        .map(|e| crate::observe::kruise::error_text(&e));
    if upgrades(plan) {
        crate::faults::kruise_upgraded::leave(plan.name());
    }
    Ran {
        scenario: plan.name(),
        error,
        took: started.elapsed(),
    }
}
