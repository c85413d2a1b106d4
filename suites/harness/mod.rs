//! The cargo test harness built from the catalog (libtest-mimic): every
//! scenario of a selection is a test of its own, named `SUITE::NAME`
//! (filter with `cargo test -- NAME`, list with `-- --list`), run by the
//! same library code as the CLI. Fault scenarios run after the others,
//! one at a time; a throughput figure is measured once the others ended. When
//! the last one ends the run folder is written once, from every record the
//! run's folder holds (so a bare `cargo test` completes its folder too),
//! and the summary reaches the terminal through the console reporter.

use std::sync::Arc;

use inplace_conformance::environment::config::RunConfig;
use inplace_conformance::environment::interrupt;
use inplace_conformance::model::event::{self, Event};
use inplace_conformance::report;
use inplace_conformance::report::folder::RunContext;
use inplace_conformance::run::{cleanup, runner};
use inplace_conformance::scenarios::catalog::Scenario;
use inplace_conformance::scenarios::plan::ScenarioPlan;
use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// Runs `selection` as this test binary's tests and exits.
pub fn main(selection: Vec<&'static Scenario>) -> ! {
    let args = Arguments::from_args();
    if args.list {
        let trials = selection.iter().map(|s| listed(s)).collect();
        libtest_mimic::run(&args, trials).exit();
    }
    report::console::install();
    let config = match RunConfig::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(2);
        }
    };
    let runtime = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime"),
    );
    let chosen: Vec<&'static Scenario> = selection
        .into_iter()
        .filter(|s| chosen_by(&args, &test_name(s)))
        .collect();
    // Each scenario resolved once, before anything is created: a fixture
    // or expectation gap is bad input, said once, not a test failure each.
    let plans = match ScenarioPlan::all(&config.repo_root, &chosen) {
        Ok(plans) => plans,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::exit(2);
        }
    };
    event::emit(Event::RunStarted {
        run_id: config.run_id.clone(),
        output_dir: config.output_dir.display().to_string(),
        scenarios: chosen.len(),
    });
    let (alone, shared): (Vec<_>, Vec<_>) =
        plans.into_iter().partition(|p| p.scenario.runs_alone());
    // In `run`'s order, from this folder's previous run.
    let previous = inplace_conformance::run::batch::previous_durations(&config);
    let shared = inplace_conformance::run::schedule::start_order(shared, &previous);
    let trials = |list: Vec<ScenarioPlan>| -> Vec<Trial> {
        list.into_iter()
            .map(|p| trial(p, &config, &runtime))
            .collect()
    };
    // As many at a time as `run` (not one per core), unless the caller
    // chose (`cargo test -- --test-threads N`).
    let mut together_args = args.clone();
    together_args
        .test_threads
        .get_or_insert(inplace_conformance::run::batch::DEFAULT_JOBS);
    let together = libtest_mimic::run(&together_args, trials(shared));
    let mut one_at_a_time = args.clone();
    one_at_a_time.test_threads = Some(1);
    let after = libtest_mimic::run(&one_at_a_time, trials(alone));
    let failed = together.has_failed() || after.has_failed();
    if !chosen.is_empty() {
        runtime.block_on(finish(&config, &chosen));
    }
    std::process::exit(if failed { 101 } else { 0 })
}

/// The run folder, written once; after a signal, what the run created is
/// removed and the process exits 130 or 143.
async fn finish(config: &RunConfig, chosen: &[&'static Scenario]) {
    cleanup::await_deletions(config.timeouts.cleanup).await;
    if let Err(err) =
        inplace_conformance::environment::images::release_run_registry(&config.repo_root).await
    {
        event::warn("run", format!("removing the run's registry: {err:#}"));
    }
    let context = RunContext {
        run_id: config.run_id.clone(),
        policy: Default::default(),
        expected: chosen.iter().map(|s| s.name.to_string()).collect(),
        interrupted: interrupt::signal().map(str::to_string),
    };
    let started = std::time::Instant::now();
    match report::folder::write_run(&config.output_dir, &context) {
        Ok((folder, path)) => report::folder::announce(&folder, &path, started.elapsed()),
        Err(err) => event::warn("run", format!("writing the run folder: {err:#}")),
    }
    if context.interrupted.is_some() {
        cleanup::finish_interrupted().await;
    }
}

fn test_name(scenario: &Scenario) -> String {
    format!("{}::{}", scenario.suite, scenario.name)
}

fn listed(scenario: &Scenario) -> Trial {
    Trial::test(test_name(scenario), || Ok(()))
}

fn trial(plan: ScenarioPlan, config: &RunConfig, runtime: &Arc<tokio::runtime::Runtime>) -> Trial {
    let (config, runtime) = (config.clone(), runtime.clone());
    Trial::ignorable_test(test_name(plan.scenario), move || {
        match runtime.block_on(runner::run_with(&config, &plan)) {
            Ok(_) => Ok(Completion::Completed),
            // Too few nodes for a scenario that needs several: ignored
            // with the reason (the report says UNSUPPORTED), neither a pass
            // nor a failure of a run on one node.
            Err(err)
                if matches!(
                    err.downcast_ref::<runner::NotRun>(),
                    Some(runner::NotRun::Unsupported { reason, .. })
                        if inplace_conformance::run::requirements::topology_only(reason)
                ) =>
            {
                Ok(Completion::ignored_with(format!("{err:#}")))
            }
            // The suite recognised a known upstream defect (the console and
            // the report say KNOWN DEFECT); whether it blocks a release is
            // the gate policy's `known_defects`, not the test run's.
            Err(err)
                if matches!(
                    err.downcast_ref::<runner::NotRun>(),
                    Some(runner::NotRun::KnownDefect { .. })
                ) =>
            {
                Ok(Completion::Completed)
            }
            Err(err) => Err(Failed::from(format!("{err:#}"))),
        }
    })
}

/// libtest's selection rule: the filter matches (exactly with --exact) and
/// no --skip does.
fn chosen_by(args: &Arguments, name: &str) -> bool {
    let matches = |pattern: &str| {
        if args.exact {
            name == pattern
        } else {
            name.contains(pattern)
        }
    };
    args.filter.as_deref().is_none_or(matches) && !args.skip.iter().any(|s| matches(s))
}
