//! A scenario resolved once, before anything is created: its fixture read
//! and parsed, its workload key, its containers, the expectation of every
//! step, its planned fault and what it requires of the cluster. The plan is
//! recorded with the observations and is the oracle's source of intent:
//! nothing later re-reads the fixture or looks the scenario up by name.

use std::path::Path;

use crate::model::record::{PlanRecord, PlannedStep};
use crate::scenarios::catalog::{self, Scenario};
use crate::scenarios::expect::{self, Expectation};
use crate::workloads::Fixture;

#[derive(Clone)]
pub struct ScenarioPlan {
    pub scenario: &'static Scenario,
    pub fixture: Fixture,
    /// The expectation key's workload kind and strategy.
    pub kind: String,
    pub strategy: String,
    pub containers: Vec<String>,
    /// The expectation of each step, in order.
    pub steps: Vec<&'static Expectation>,
}

impl ScenarioPlan {
    /// Resolves `scenario` against the checkout at `repo_root`; a fixture
    /// that does not parse or a step without an expectation is refused here,
    /// before any cluster is touched.
    pub fn resolve(repo_root: &Path, scenario: &'static Scenario) -> anyhow::Result<ScenarioPlan> {
        let fixture = Fixture::load(repo_root, scenario.fixture)
            .map_err(|e| anyhow::anyhow!("{e:#}; hint: fix the fixture's YAML"))?;
        let (kind, strategy) = fixture.key()?;
        let steps = scenario
            .changes
            .iter()
            .map(|change| {
                expect::lookup(&kind, &strategy, change.kind()).ok_or_else(|| {
                    anyhow::anyhow!(
                        "scenario {}: no expectation for ({kind}, {strategy}, {}); hint: add a \
                         row to expect::TABLE",
                        scenario.name,
                        change.kind()
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(ScenarioPlan {
            scenario,
            containers: fixture.containers(),
            fixture,
            kind,
            strategy,
            steps,
        })
    }

    /// By catalog name.
    pub fn by_name(repo_root: &Path, name: &str) -> anyhow::Result<ScenarioPlan> {
        ScenarioPlan::resolve(repo_root, catalog::find(name)?)
    }

    /// Every scenario of a selection, or the first refusal.
    pub fn all(
        repo_root: &Path,
        scenarios: &[&'static Scenario],
    ) -> anyhow::Result<Vec<ScenarioPlan>> {
        scenarios
            .iter()
            .map(|s| ScenarioPlan::resolve(repo_root, s))
            .collect()
    }

    pub fn name(&self) -> &'static str {
        self.scenario.name
    }

    /// What the record keeps of the plan.
    pub fn record(&self) -> PlanRecord {
        PlanRecord {
            fixture: self.fixture.path.clone(),
            workload: self.kind.clone(),
            strategy: self.strategy.clone(),
            containers: self.containers.clone(),
            steps: self
                .scenario
                .changes
                .iter()
                .zip(&self.steps)
                .map(|(change, e)| PlannedStep {
                    change: change.kind().to_string(),
                    expectation: e.source.title.to_string(),
                })
                .collect(),
            fault: self.scenario.fault.map(|f| f.name().to_string()),
            fault_point: self
                .scenario
                .fault
                .map(|f| f.point().describe().to_string()),
            kruise_gates: self
                .scenario
                .requires_kruise_gates
                .iter()
                .map(|g| g.to_string())
                .collect(),
            needs_kruise_daemon: self
                .scenario
                .changes
                .iter()
                .any(|c| c.needs_kruise_daemon()),
            prestop_hooks: self.fixture.prestop_hooks(),
            max_unavailable: self.fixture.max_unavailable(),
            budget_max_unavailable: self.fixture.budget_max_unavailable(),
            spread_nodes: self.fixture.spread_nodes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_scenario_resolves_into_a_plan() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for scenario in catalog::CATALOG {
            let plan = ScenarioPlan::resolve(root, scenario).unwrap();
            assert_eq!(
                plan.steps.len(),
                scenario.changes.len(),
                "{}",
                scenario.name
            );
            assert!(!plan.containers.is_empty(), "{}", scenario.name);
            let record = plan.record();
            assert_eq!(record.fault.is_some(), scenario.fault.is_some());
        }
    }

    #[test]
    fn the_namespace_is_filled_into_the_parsed_fixture() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let plan = ScenarioPlan::by_name(root, "sidecarset-upgrade").unwrap();
        let docs = plan.fixture.in_namespace("ipc-x-1");
        assert_eq!(docs[0]["metadata"]["name"], "ipc-sidecar-ipc-x-1");
        assert_eq!(
            docs[0]["spec"]["namespaceSelector"]["matchLabels"]["inplace-conformance/namespace"],
            "ipc-x-1"
        );
        assert_eq!(plan.containers, vec!["sidecar", "app"]);
    }
}
