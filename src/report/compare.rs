//! Repeatability: the same selection run again and again on one cluster,
//! compared run by run. A gate is only worth trusting if every check of
//! every scenario gets the same verdict each time; this module finds the
//! checks that did not, each scenario's time spread, and the known races
//! each run met (which leave verdicts alone but are still counted).

use std::collections::BTreeMap;
use std::path::Path;

use crate::judge::assess::{self, Verdict};
use crate::model::record::ScenarioRecord;

/// One run's recordings, under its folder name.
pub struct Run {
    pub name: String,
    pub records: Vec<ScenarioRecord>,
}

/// Reads a run folder: its results.json, else its observation files.
pub fn load(dir: &Path) -> anyhow::Result<Run> {
    let records = crate::report::folder_records(dir)?;
    anyhow::ensure!(
        !records.is_empty(),
        "{} holds no recorded scenario",
        dir.display()
    );
    let name = dir
        .file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
    Ok(Run { name, records })
}

/// What the runs, side by side, show.
#[derive(Debug, Default)]
pub struct Comparison {
    pub runs: usize,
    /// Distinct (scenario, check id) pairs seen over all runs.
    pub checks: usize,
    /// Per run: how many scenarios passed, and which did not.
    pub per_run: Vec<(String, usize, Vec<String>)>,
    /// Per scenario: verdict counts ("PASS x10") and durations in seconds.
    pub scenarios: BTreeMap<String, (BTreeMap<&'static str, usize>, Vec<f64>)>,
    /// "scenario / check name": the verdict in each run, where they differ
    /// (a check is matched across runs by its id, shown by its name).
    pub unsteady: Vec<(String, Vec<(String, &'static str)>)>,
    /// Checks some runs did not have, "scenario / check name" with the runs
    /// that lack it: a scenario or a check one build has and the other not
    /// (comparing a refactor) is told apart from a verdict that changed.
    /// A check missing because its scenario stopped early shows as that
    /// run's failure too.
    pub partial: Vec<(String, Vec<String>)>,
    /// Scenarios some runs did not run, with the runs that lack them.
    pub scenarios_partial: Vec<(String, Vec<String>)>,
    /// Per known race: the runs that met it.
    pub races: BTreeMap<String, Vec<String>>,
    /// (scenario, "#step milestone") -> (run, ms after the change was
    /// accepted): a phase that got slower from one run (or version) to the
    /// next shows here.
    pub phases: BTreeMap<(String, String), Vec<(String, i64)>>,
}

impl Comparison {
    /// Every run passed every scenario, and every check said the same.
    pub fn steady(&self) -> bool {
        self.unsteady.is_empty() && self.per_run.iter().all(|(_, _, failed)| failed.is_empty())
    }
}

pub fn compare(runs: &[Run]) -> Comparison {
    let mut out = Comparison {
        runs: runs.len(),
        ..Default::default()
    };
    // (scenario, check id) -> the check's display name, and run -> verdict
    type Seen = (String, Vec<(String, &'static str)>);
    let mut verdicts: BTreeMap<(String, String), Seen> = BTreeMap::new();
    for run in runs {
        let mut passed = 0;
        let mut failed = Vec::new();
        for record in &run.records {
            let checks = assess::scenario_checks(record);
            let verdict = crate::judge::assess::record_verdict(record, &checks);
            if verdict == Verdict::Pass {
                passed += 1;
            } else {
                failed.push(format!("{} {}", record.scenario, verdict.label()));
            }
            for step in crate::report::step_phases(record) {
                for m in step.milestones {
                    out.phases
                        .entry((record.scenario.clone(), format!("#{} {}", step.step, m.id)))
                        .or_default()
                        .push((run.name.clone(), m.at_ms));
                }
            }
            let entry = out.scenarios.entry(record.scenario.clone()).or_default();
            *entry.0.entry(verdict.label()).or_default() += 1;
            entry.1.extend(duration_s(record));
            for check in &checks {
                verdicts
                    .entry((record.scenario.clone(), check.id.clone()))
                    .or_insert_with(|| (check.name.clone(), Vec::new()))
                    .1
                    .push((run.name.clone(), check.verdict.label()));
                for race in &check.races {
                    let seen = out.races.entry(race.clone()).or_default();
                    if !seen.contains(&run.name) {
                        seen.push(run.name.clone());
                    }
                }
            }
        }
        out.per_run.push((run.name.clone(), passed, failed));
    }
    out.checks = verdicts.len();
    let lacking = |has: &dyn Fn(&Run) -> bool| -> Vec<String> {
        runs.iter()
            .filter(|r| !has(r))
            .map(|r| r.name.clone())
            .collect()
    };
    for scenario in out.scenarios.keys() {
        let without = lacking(&|r: &Run| r.records.iter().any(|x| &x.scenario == scenario));
        if !without.is_empty() {
            out.scenarios_partial.push((scenario.clone(), without));
        }
    }
    for ((scenario, _), (name, seen)) in verdicts {
        let first = seen[0].1;
        if seen.iter().any(|(_, v)| *v != first) {
            out.unsteady
                .push((format!("{scenario} / {name}"), seen.clone()));
        }
        let whole_scenario_missing = out
            .scenarios_partial
            .iter()
            .any(|(s, without)| *s == scenario && without.len() + seen.len() == runs.len());
        if seen.len() != runs.len() && !whole_scenario_missing {
            let without = lacking(&|r: &Run| seen.iter().any(|(name, _)| *name == r.name));
            out.partial.push((format!("{scenario} / {name}"), without));
        }
    }
    out
}

fn duration_s(record: &ScenarioRecord) -> Option<f64> {
    let start: k8s_openapi::jiff::Timestamp = record.started_at.parse().ok()?;
    let end: k8s_openapi::jiff::Timestamp = record.finished_at.parse().ok()?;
    (end - start)
        .total(k8s_openapi::jiff::Unit::Millisecond)
        .ok()
        .map(|ms| ms / 1000.0)
}

/// (min, median, max) of the figures; the median of an even count is the
/// lower middle one, a figure that was really measured.
fn spread(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let median = *sorted.get((sorted.len().checked_sub(1)?) / 2)?;
    Some((sorted[0], median, *sorted.last()?))
}

pub fn markdown(c: &Comparison) -> String {
    let mut out = String::new();
    let green = c.per_run.iter().filter(|(_, _, f)| f.is_empty()).count();
    out.push_str(&format!(
        "{} run(s), {green} with every scenario PASS; {} of {} check(s) had a verdict that \
         differed between runs; {} check(s) and {} scenario(s) were not in every run.\n\n",
        c.runs,
        c.unsteady.len(),
        c.checks,
        c.partial.len(),
        c.scenarios_partial.len()
    ));
    out.push_str(
        "| scenario | verdict in each run | min | median | max |\n|---|---|---|---|---|\n",
    );
    for (scenario, (counts, durations)) in &c.scenarios {
        let verdicts: Vec<String> = counts.iter().map(|(v, n)| format!("{v} x{n}")).collect();
        let (min, median, max) = spread(durations).unwrap_or_default();
        out.push_str(&format!(
            "| `{scenario}` | {} | {min:.0} s | {median:.0} s | {max:.0} s |\n",
            verdicts.join(", ")
        ));
    }
    out.push('\n');
    for (run, passed, failed) in &c.per_run {
        if !failed.is_empty() {
            out.push_str(&format!(
                "- run {run}: {passed} PASS, not passed: {}\n",
                failed.join(", ")
            ));
        }
    }
    for (key, seen) in &c.unsteady {
        let each: Vec<String> = seen
            .iter()
            .map(|(run, v)| format!("{v} in {run}"))
            .collect();
        out.push_str(&format!("- verdict differs: {key}: {}\n", each.join(", ")));
    }
    for (scenario, without) in &c.scenarios_partial {
        out.push_str(&format!(
            "- scenario not in every run: {scenario}: absent in {}\n",
            without.join(", ")
        ));
    }
    for (key, without) in &c.partial {
        out.push_str(&format!(
            "- check not in every run: {key}: absent in {}\n",
            without.join(", ")
        ));
    }
    if c.races.is_empty() {
        out.push_str("- no known race met (`src/scenarios/races.rs`)\n");
    }
    render_phases(c, &mut out);
    for (race, runs) in &c.races {
        out.push_str(&format!(
            "- known race `{race}` met in {} of {} run(s) (verdicts unchanged; see `src/scenarios/races.rs`)\n",
            runs.len(),
            c.runs
        ));
    }
    out
}

/// The update phases run by run (up to five runs, else their spread), in
/// seconds after the change was accepted.
fn render_phases(c: &Comparison, out: &mut String) {
    if c.phases.is_empty() {
        return;
    }
    let runs: Vec<&str> = c.per_run.iter().map(|(name, _, _)| name.as_str()).collect();
    // Run by run while that fits; the spread (the medians a comparison of
    // in place against recreate quotes) from three runs on.
    let by_run = runs.len() <= 5;
    let spread_shown = runs.len() >= 3;
    out.push_str("\nUpdate phases, seconds after the change was accepted:\n\n");
    let mut head: Vec<String> = Vec::new();
    if by_run {
        head.extend(runs.iter().map(|r| r.to_string()));
    }
    if spread_shown {
        head.extend(["min".into(), "median".into(), "max".into()]);
    }
    out.push_str(&format!(
        "| scenario | change milestone | {} |\n",
        head.join(" | ")
    ));
    out.push_str(&format!("|---|---|{}\n", "---|".repeat(head.len())));
    for ((scenario, milestone), seen) in &c.phases {
        let mut cells: Vec<String> = Vec::new();
        if by_run {
            cells.extend(runs.iter().map(|r| {
                seen.iter()
                    .find(|(run, _)| run == r)
                    .map_or("-".to_string(), |(_, ms)| {
                        format!("{:.2}", *ms as f64 / 1000.0)
                    })
            }));
        }
        if spread_shown {
            let values: Vec<f64> = seen.iter().map(|(_, ms)| *ms as f64 / 1000.0).collect();
            let (min, median, max) = spread(&values).unwrap_or_default();
            cells.extend([
                format!("{min:.2}"),
                format!("{median:.2}"),
                format!("{max:.2}"),
            ]);
        }
        out.push_str(&format!(
            "| `{scenario}` | {milestone} | {} |\n",
            cells.join(" | ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> ScenarioRecord {
        let path = format!(
            "{}/fixtures/observations/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn run(name: &str, records: Vec<ScenarioRecord>) -> Run {
        Run {
            name: name.into(),
            records,
        }
    }

    /// The flap recording beside a graceful run without it: the same
    /// verdicts (steady), the race counted once.
    #[test]
    fn a_known_race_leaves_the_runs_steady_and_is_counted() {
        let runs = [
            run("a", vec![fixture("graceful-inplace.json")]),
            run("b", vec![fixture("quirks/graceful-readiness-flap.json")]),
        ];
        let c = compare(&runs);
        assert!(c.steady(), "{:?}", c.unsteady);
        assert_eq!(c.races["stale-ready-republished"], vec!["b"]);
        let text = markdown(&c);
        assert!(text.contains("| `graceful-inplace` | PASS x2 |"), "{text}");
        assert!(text.contains("known race `stale-ready-republished` met in 1 of 2 run(s)"));
    }

    /// A run whose pod was still in the Service at the stop: the check's
    /// verdict differs between runs and the comparison says which.
    #[test]
    fn a_verdict_that_changes_between_runs_is_named() {
        let mut late = fixture("quirks/graceful-readiness-flap.json");
        let t = late.steps[0].traffic.as_mut().unwrap();
        t.endpoints
            .retain(|e| !e.at.starts_with("2026-11-27T22:25:14.06"));
        let runs = [
            run("a", vec![fixture("graceful-inplace.json")]),
            run("b", vec![late]),
        ];
        let c = compare(&runs);
        assert!(!c.steady());
        let text = markdown(&c);
        assert!(
            text.contains(
                "- verdict differs: graceful-inplace / #1 pod was out of the Service when its \
                 container stopped: PASS in a, FAIL in b"
            ),
            "{text}"
        );
        assert!(text.contains("- run b: 0 PASS, not passed: graceful-inplace FAIL"));
    }

    /// Five runs: each run's figure and the medians beside them; more
    /// runs than fit: the spread alone.
    #[test]
    fn phases_show_each_run_and_from_three_runs_the_spread() {
        let comparison = |n: usize| {
            let names: Vec<String> = (1..=n).map(|i| format!("r{i}")).collect();
            let mut c = Comparison {
                per_run: names.iter().map(|r| (r.clone(), 1, vec![])).collect(),
                ..Default::default()
            };
            let seen = names
                .iter()
                .zip([4100, 4300, 5200, 4200, 4900, 4000, 4400])
                .map(|(r, ms)| (r.clone(), ms))
                .collect();
            c.phases
                .insert(("inplace-image".into(), "#1 pod-ready".into()), seen);
            let mut text = String::new();
            render_phases(&c, &mut text);
            text
        };
        let five = comparison(5);
        assert!(
            five.contains(
                "| scenario | change milestone | r1 | r2 | r3 | r4 | r5 | min | median | max |"
            ),
            "{five}"
        );
        assert!(
            five.contains("| `inplace-image` | #1 pod-ready | 4.10 | 4.30 | 5.20 | 4.20 | 4.90 | 4.10 | 4.30 | 5.20 |"),
            "{five}"
        );
        assert!(!comparison(2).contains("median"));
        let seven = comparison(7);
        assert!(
            seven.contains("| `inplace-image` | #1 pod-ready | 4.00 | 4.30 | 5.20 |"),
            "{seven}"
        );
    }

    #[test]
    fn the_spread_uses_a_measured_median() {
        assert_eq!(spread(&[3.0, 1.0, 2.0, 10.0]), Some((1.0, 2.0, 10.0)));
        assert_eq!(spread(&[]), None);
    }
}
