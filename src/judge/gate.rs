//! The release gate: which scenarios must pass (required) and which are
//! only reported (informational), per matrix cell if needed, and the one
//! exit code a CI system acts on.
//!
//! ```yaml
//! default: required            # or informational
//! informational: [workload-resize]
//! required: []
//! cells:                       # optional, by cell name or glob pattern
//!   k8s-v1.35.4-kruise-v1.8.2-default:
//!     informational: [graceful-inplace]
//!   "*-kruise-v1.8.2-*-downgrade":   # every downgrade cell to v1.8.2
//!     informational: [upgrade-cloneset]
//! ```
//!
//! A required scenario that failed, was unsupported, or has no record
//! fails the gate; an informational one never does.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use crate::judge::assess::Verdict;
use crate::model::record::ScenarioRecord;

/// Exit codes of `run`, `qualify` and `merge`.
pub mod exit {
    /// Every required scenario passed.
    pub const PASSED: u8 = 0;
    /// A required scenario failed, was unsupported or did not run.
    pub const GATE_FAILED: u8 = 1;
    /// Bad input: a malformed matrix, policy or kubeconfig, an unknown name.
    pub const BAD_INPUT: u8 = 2;
    /// Infrastructure: a build, a cluster or OpenKruise could not be had.
    pub const INFRASTRUCTURE: u8 = 3;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    #[default]
    Required,
    Informational,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct Rules {
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    informational: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default)]
    default: Class,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    informational: Vec<String>,
    #[serde(default)]
    cells: BTreeMap<String, Rules>,
    /// Whether a required scenario whose verdict is KNOWN DEFECT blocks
    /// (`block`, the default) or not (`allow`).
    #[serde(default)]
    known_defects: KnownDefects,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KnownDefects {
    #[default]
    Block,
    Allow,
}

impl Policy {
    /// Every scenario required: the gate without a policy file.
    pub fn all_required() -> Policy {
        Policy::default()
    }

    /// Reads and checks a policy file: unknown fields and unknown scenario
    /// names are refused (a typo must not make a scenario optional).
    pub fn load(path: &Path) -> anyhow::Result<Policy> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the gate policy {}", path.display()))?;
        Policy::parse(&text).with_context(|| format!("gate policy {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Policy> {
        let policy: Policy = serde_yaml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "{}; hint: fields are default, required, informational, cells, known_defects \
                 (block or allow)",
                e
            )
        })?;
        let top = Rules {
            required: policy.required.clone(),
            informational: policy.informational.clone(),
        };
        let named = top
            .names()
            .chain(policy.cells.values().flat_map(Rules::names));
        for name in named {
            crate::scenarios::catalog::find(name)?;
        }
        Ok(policy)
    }

    /// Cell names or patterns of the policy that match no cell of the
    /// matrix.
    pub fn unknown_cells<'a>(&'a self, cells: &[String]) -> Vec<&'a str> {
        self.cells
            .keys()
            .filter(|key| !cells.iter().any(|c| cell_matches(key, c)))
            .map(String::as_str)
            .collect()
    }

    /// How a scenario counts in a cell: the rule of the cell (by name or
    /// pattern; an exact name first), else the file's, else the default.
    pub fn class(&self, cell: &str, scenario: &str) -> Class {
        let exact = self.cells.get(cell).into_iter();
        let patterns = self
            .cells
            .iter()
            .filter(|(key, _)| *key != cell && cell_matches(key, cell))
            .map(|(_, rules)| rules);
        exact
            .chain(patterns)
            .find_map(|r| r.class_of(scenario))
            .or_else(|| {
                let top = Rules {
                    required: self.required.clone(),
                    informational: self.informational.clone(),
                };
                top.class_of(scenario)
            })
            .unwrap_or(self.default)
    }
}

/// A policy's cell key against a cell name: the name itself, or a glob
/// pattern (`*`, `?`, `[...]`).
fn cell_matches(key: &str, cell: &str) -> bool {
    key == cell || glob::Pattern::new(key).is_ok_and(|p| p.matches(cell))
}

impl Rules {
    fn names(&self) -> impl Iterator<Item = &str> {
        self.required
            .iter()
            .chain(&self.informational)
            .map(String::as_str)
    }

    fn class_of(&self, scenario: &str) -> Option<Class> {
        if self.required.iter().any(|s| s == scenario) {
            Some(Class::Required)
        } else if self.informational.iter().any(|s| s == scenario) {
            Some(Class::Informational)
        } else {
            None
        }
    }
}

/// One scenario of one cell, as the gate sees it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    pub cell: String,
    pub scenario: String,
    pub class: Class,
    /// `None`: no record (the scenario did not run).
    pub verdict: Option<Verdict>,
    /// The policy lets a KNOWN DEFECT through.
    #[serde(default)]
    pub known_defect_allowed: bool,
}

impl Entry {
    pub fn blocks(&self) -> bool {
        let allowed = self.known_defect_allowed && self.verdict == Some(Verdict::KnownDefect);
        self.class == Class::Required && self.verdict != Some(Verdict::Pass) && !allowed
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Decision {
    pub entries: Vec<Entry>,
    pub passed: bool,
}

impl Decision {
    pub fn exit_code(&self) -> u8 {
        if self.passed {
            exit::PASSED
        } else {
            exit::GATE_FAILED
        }
    }

    /// One line per scenario that blocks the gate.
    pub fn blocking(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.blocks())
            .map(|e| {
                let verdict = match e.verdict {
                    Some(v) => v.label().to_string(),
                    None => "NOT RUN".into(),
                };
                format!("{} / {}: {verdict}", cell_label(&e.cell), e.scenario)
            })
            .collect()
    }
}

fn cell_label(cell: &str) -> &str {
    if cell.is_empty() { "cluster" } else { cell }
}

/// Decides the gate over the scenarios each cell was to run.
pub fn decide(
    policy: &Policy,
    expected: &[(String, Vec<String>)],
    records: &[ScenarioRecord],
) -> Decision {
    decide_by(policy, expected, |cell, scenario| {
        records
            .iter()
            .rfind(|r| r.cluster.cell == cell && r.scenario == scenario)
            .map(crate::judge::assess::verdict_of)
    })
}

/// The same over records judged once.
pub fn decide_judged(
    policy: &Policy,
    expected: &[(String, Vec<String>)],
    judged: &[crate::judge::judged::Judged],
) -> Decision {
    decide_by(policy, expected, |cell, scenario| {
        judged
            .iter()
            .rfind(|j| j.record.cluster.cell == cell && j.record.scenario == scenario)
            .map(|j| j.verdict)
    })
}

fn decide_by(
    policy: &Policy,
    expected: &[(String, Vec<String>)],
    verdict_of: impl Fn(&str, &str) -> Option<Verdict>,
) -> Decision {
    let mut entries = Vec::new();
    for (cell, scenarios) in expected {
        for scenario in scenarios {
            let verdict = verdict_of(cell, scenario);
            entries.push(Entry {
                cell: cell.clone(),
                scenario: scenario.clone(),
                class: policy.class(cell, scenario),
                verdict,
                known_defect_allowed: policy.known_defects == KnownDefects::Allow,
            });
        }
    }
    let passed = !entries.iter().any(Entry::blocks);
    Decision { entries, passed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::samples;

    const POLICY: &str = "
default: required
informational: [workload-resize]
cells:
  k8s-v1.35.4-kruise-v1.8.2-default:
    informational: [cloneset-recreate]
";

    fn in_cell(mut record: ScenarioRecord, cell: &str) -> ScenarioRecord {
        record.cluster.cell = cell.into();
        record
    }

    #[test]
    fn classes_come_from_the_cell_then_the_file_then_the_default() {
        let policy = Policy::parse(POLICY).unwrap();
        let cell = "k8s-v1.35.4-kruise-v1.8.2-default";
        assert_eq!(
            policy.class(cell, "cloneset-recreate"),
            Class::Informational
        );
        assert_eq!(policy.class("other", "cloneset-recreate"), Class::Required);
        assert_eq!(
            policy.class("other", "workload-resize"),
            Class::Informational
        );
        assert_eq!(policy.unknown_cells(&["other".into()]), vec![cell]);
    }

    #[test]
    fn a_cell_pattern_covers_every_cell_it_matches() {
        let policy = Policy::parse(
            "cells:\n  '*-kruise-v1.8.2-*-default':\n    informational: [cloneset-recreate]\n",
        )
        .unwrap();
        let cell = "k8s-v1.35.4-kruise-v1.8.2-containerd-2.2-multi-node-default";
        assert_eq!(
            policy.class(cell, "cloneset-recreate"),
            Class::Informational
        );
        let other = "k8s-v1.35.4-kruise-v1.9.0-containerd-2.2-multi-node-default";
        assert_eq!(policy.class(other, "cloneset-recreate"), Class::Required);
        assert!(policy.unknown_cells(&[cell.into()]).is_empty());
        assert_eq!(policy.unknown_cells(&[other.into()]).len(), 1);
    }

    #[test]
    fn malformed_policies_are_refused_with_a_hint() {
        let unknown_field = Policy::parse("requird: [inplace-image]").unwrap_err();
        assert!(format!("{unknown_field:#}").contains("hint: fields are"));
        let unknown_name = Policy::parse("informational: [no-such-scenario]").unwrap_err();
        assert!(format!("{unknown_name:#}").contains("no-such-scenario"));
        assert!(Policy::parse("default: maybe").is_err());
        assert!(Policy::parse("[1, 2]").is_err());
    }

    #[test]
    fn a_required_failure_fails_the_gate_an_informational_one_does_not() {
        let policy = Policy::parse(POLICY).unwrap();
        let cell = "k8s-v1.35.4-kruise-v1.8.2-default";
        // A run that stopped early fails whatever it observed.
        let mut wrong = samples::in_place();
        wrong.error = Some("timed out waiting for the update".into());
        let records = vec![in_cell(samples::in_place(), cell), in_cell(wrong, "other")];
        let expected = |cell: &str| (cell.to_string(), vec!["inplace-image".to_string()]);
        let passing = decide(&policy, &[expected(cell)], &records);
        assert!(passing.passed, "{:?}", passing.blocking());
        assert_eq!(passing.exit_code(), exit::PASSED);
        let failing = decide(&policy, &[expected(cell), expected("other")], &records);
        assert_eq!(failing.exit_code(), exit::GATE_FAILED);
        assert_eq!(failing.blocking(), vec!["other / inplace-image: FAIL"]);
        let lenient = Policy::parse("informational: [inplace-image]").unwrap();
        assert!(decide(&lenient, &[expected("other")], &records).passed);
    }

    /// KNOWN DEFECT blocks a required scenario unless the policy allows it;
    /// never an informational one.
    #[test]
    fn a_known_defect_blocks_unless_the_policy_allows_it() {
        let entry = |policy: &str, class: Class| {
            let policy = Policy::parse(policy).unwrap();
            Entry {
                cell: String::new(),
                scenario: "upgrade-ads".into(),
                class,
                verdict: Some(Verdict::KnownDefect),
                known_defect_allowed: policy.known_defects == KnownDefects::Allow,
            }
        };
        assert!(entry("default: required", Class::Required).blocks());
        assert!(entry("known_defects: block", Class::Required).blocks());
        assert!(!entry("known_defects: allow", Class::Required).blocks());
        assert!(!entry("known_defects: block", Class::Informational).blocks());
        assert!(Policy::parse("known_defects: maybe").is_err());
    }

    #[test]
    fn a_required_scenario_without_a_record_fails_the_gate() {
        let decision = decide(
            &Policy::all_required(),
            &[("c".into(), vec!["inplace-image".into()])],
            &[],
        );
        assert_eq!(decision.blocking(), vec!["c / inplace-image: NOT RUN"]);
    }

    #[test]
    fn unsupported_fails_a_required_gate() {
        let record = samples::unsupported();
        let expected = vec![(String::new(), vec![record.scenario.clone()])];
        let decision = decide(&Policy::all_required(), &expected, &[record]);
        assert!(!decision.passed);
        assert!(
            decision.blocking()[0].ends_with("UNSUPPORTED"),
            "{:?}",
            decision.blocking()
        );
    }
}
