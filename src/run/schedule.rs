//! The order a batch starts its scenarios in: longest first, so that the
//! last one to start is a short one and no long scenario runs alone at the
//! end (longest-processing-time scheduling). How long each took is read
//! from the previous run's records; a scenario never run before is
//! estimated from its number of steps and the in-place grace periods its
//! workload waits out (each pod in turn).

use std::collections::BTreeMap;
use std::path::Path;

use crate::model::record::ScenarioRecord;
use crate::scenarios::plan::ScenarioPlan;

/// A scenario of one step took about this long here (prepare, deploy,
/// markers, update, quiet window, cleanup) when nothing says better.
const SECONDS_PER_STEP: f64 = 20.0;
/// Each pod beyond the first adds about this much (its deploy, claim and
/// markers): `partition` (3 pods) and `max-unavailable` (4) took 5 to 9 s
/// longer than a one-pod scenario of one step at `--jobs 8`.
const SECONDS_PER_EXTRA_POD: f64 = 3.0;
/// Under a PodUnavailableBudget kruise takes the next batch of pods only
/// once its 10 s recheck gave the budget back (`UpdatedDelayCheckTime`):
/// `unavailable-budget` (4 pods, one at a time) took 74 s in a run.
const SECONDS_PER_BUDGET_BATCH: f64 = 10.0;

/// Wall seconds of each scenario in the run `<base>/latest`, from the laps
/// of its records; empty when there is no such run.
pub fn previous_durations(base: &Path) -> BTreeMap<String, f64> {
    let dir = base.join("latest").join("observations");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .filter_map(|e| ScenarioRecord::load(&e.path()).ok())
        .filter(|r| !r.laps.is_empty())
        .map(|r| {
            let ms: u64 = r.laps.iter().map(|l| l.ms).sum();
            (r.scenario.clone(), ms as f64 / 1000.0)
        })
        .collect()
}

/// The order a batch starts `plans` in: longest first, then those whose
/// measurement waits for the others to end (`run::alone`), so that no
/// scenario starts once one of those measures.
pub fn start_order<P: std::borrow::Borrow<ScenarioPlan>>(
    plans: Vec<P>,
    previous: &BTreeMap<String, f64>,
) -> Vec<P> {
    let (waiting, others): (Vec<P>, Vec<P>) = longest_first(plans, previous)
        .into_iter()
        .partition(|p| p.borrow().scenario.measures_alone());
    others.into_iter().chain(waiting).collect()
}

/// `plans` longest first (estimated by `previous`, else by their steps);
/// equal estimates keep the catalog order.
pub fn longest_first<P: std::borrow::Borrow<ScenarioPlan>>(
    mut plans: Vec<P>,
    previous: &BTreeMap<String, f64>,
) -> Vec<P> {
    let estimate = |plan: &ScenarioPlan| {
        previous.get(plan.name()).copied().unwrap_or_else(|| {
            plan.steps.len().max(1) as f64 * SECONDS_PER_STEP
                + grace_waits(plan)
                + extra_pods(plan) * SECONDS_PER_EXTRA_POD
                + budget_batches(plan) * SECONDS_PER_BUDGET_BATCH
                + holds(plan)
        })
    };
    plans.sort_by(|a, b| estimate(b.borrow()).total_cmp(&estimate(a.borrow())));
    plans
}

/// Seconds its halting changes are held (`changes::halted_image`) and
/// reverted (the hold, and a step more for the revert), and its pods are
/// held at an in-place hook (`run::hooks`, one pod after the other).
fn holds(plan: &ScenarioPlan) -> f64 {
    let halts: f64 = plan
        .scenario
        .changes
        .iter()
        .filter_map(|c| c.halts())
        .map(|h| h.hold.as_secs_f64() + SECONDS_PER_STEP)
        .sum();
    let hooks = match plan.fixture.in_place_hook() {
        Some(_) => (extra_pods(plan) + 1.0) * super::hooks::HOOK_HOLD.as_secs_f64(),
        None => 0.0,
    };
    halts + hooks
}

/// Batches a PodUnavailableBudget cuts the workload's pods into.
fn budget_batches(plan: &ScenarioPlan) -> f64 {
    let Some(per_batch) = plan.fixture.budget_max_unavailable().filter(|m| *m > 0) else {
        return 0.0;
    };
    let pods = extra_pods(plan) + 1.0;
    (pods / per_batch as f64).ceil()
}

/// Pods beyond the first that the fixture's workloads ask for.
fn extra_pods(plan: &ScenarioPlan) -> f64 {
    plan.fixture
        .docs()
        .iter()
        .filter_map(|doc| doc.pointer("/spec/replicas")?.as_f64())
        .map(|replicas| (replicas - 1.0).max(0.0))
        .sum()
}

/// Seconds an in-place update of the whole workload spends in grace
/// periods: `inPlaceUpdateStrategy.gracePeriodSeconds` once per replica.
fn grace_waits(plan: &ScenarioPlan) -> f64 {
    plan.fixture
        .docs()
        .iter()
        .filter_map(|doc| {
            let grace = doc
                .pointer("/spec/updateStrategy/inPlaceUpdateStrategy/gracePeriodSeconds")?
                .as_f64()?;
            let replicas = doc.pointer("/spec/replicas").and_then(|r| r.as_f64());
            Some(grace * replicas.unwrap_or(1.0))
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans(names: &[&str]) -> Vec<ScenarioPlan> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        names
            .iter()
            .map(|n| ScenarioPlan::by_name(root, n).unwrap())
            .collect()
    }

    fn names(plans: &[ScenarioPlan]) -> Vec<&str> {
        plans.iter().map(|p| p.name()).collect()
    }

    #[test]
    fn the_longest_last_time_starts_first() {
        let previous = BTreeMap::from([
            ("inplace-image".to_string(), 21.0),
            ("graceful-inplace".to_string(), 46.0),
            ("metadata-only".to_string(), 18.0),
        ]);
        let ordered = longest_first(
            plans(&["inplace-image", "metadata-only", "graceful-inplace"]),
            &previous,
        );
        assert_eq!(
            names(&ordered),
            ["graceful-inplace", "inplace-image", "metadata-only"]
        );
    }

    #[test]
    fn without_a_previous_run_steps_and_grace_periods_decide_and_ties_keep_their_order() {
        let ordered = longest_first(
            plans(&[
                "inplace-image",
                "metadata-only",
                "max-unavailable",
                "inplace-successive",
                "graceful-inplace",
                "unavailable-budget",
            ]),
            &BTreeMap::new(),
        );
        // 1 step, 4 pods, a budget of 1 (20 + 9 + 40); 3 steps (60); 1 step
        // and 2 pods with 10 s of grace each (43); 1 step and 4 pods (29);
        // 1 step and 1 pod (20).
        assert_eq!(
            names(&ordered),
            [
                "unavailable-budget",
                "inplace-successive",
                "graceful-inplace",
                "max-unavailable",
                "inplace-image",
                "metadata-only"
            ]
        );
    }

    #[test]
    fn a_scenario_that_measures_alone_starts_last_however_long_it_took() {
        // Its last duration includes its wait for the others to end.
        let previous = BTreeMap::from([
            ("emptydir-throughput".to_string(), 60.0),
            ("inplace-image".to_string(), 21.0),
            ("graceful-inplace".to_string(), 46.0),
        ]);
        let ordered = start_order(
            plans(&["emptydir-throughput", "inplace-image", "graceful-inplace"]),
            &previous,
        );
        assert_eq!(
            names(&ordered),
            ["graceful-inplace", "inplace-image", "emptydir-throughput"]
        );
    }
}
