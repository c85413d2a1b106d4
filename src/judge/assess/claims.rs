//! The claims C1..C13 rolled up from checks.

use super::*;

/// A claim's roll-up over all recorded scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimVerdict {
    pub claim: Claim,
    pub summary: String,
    pub scenarios: Vec<String>,
    pub verdict: Verdict,
    pub evidence: Vec<String>,
    /// Why a claim with evidence is still NOT RUN.
    pub missing: Option<String>,
}

pub fn judge_claims(records: &[ScenarioRecord]) -> Vec<ClaimVerdict> {
    let checks: Vec<Check> = records.iter().flat_map(scenario_checks).collect();
    claims_from_checks(&records.iter().collect::<Vec<_>>(), &checks)
}

/// The claims from records whose checks are already judged.
pub fn claims_from_checks(records: &[&ScenarioRecord], checks: &[Check]) -> Vec<ClaimVerdict> {
    let columns_run: BTreeSet<&str> = records
        .iter()
        // An errored run counts as run: its failure must show, not NOT RUN.
        .filter(|r| !r.steps.is_empty() || r.error.is_some())
        .filter_map(|r| r.seed_column.as_deref())
        .collect();
    Claim::iter()
        .map(|claim| judge_claim(claim, checks, &columns_run))
        .collect()
}

pub(super) fn judge_claim(claim: Claim, checks: &[Check], run: &BTreeSet<&str>) -> ClaimVerdict {
    let relevant: Vec<&Check> = checks
        .iter()
        .filter(|c| c.claims.contains(&claim))
        .collect();
    let scenarios: Vec<String> = relevant
        .iter()
        .map(|c| c.scenario.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let evidence = relevant
        .iter()
        .map(|c| {
            format!(
                "{} / {}: {} [{}]",
                c.scenario,
                c.name,
                c.observed,
                c.verdict.label()
            )
        })
        .collect();
    let unmet: Vec<String> = claim
        .required_columns()
        .iter()
        .filter(|any_of| !any_of.iter().any(|c| run.contains(c)))
        .map(|any_of| any_of.join(" or "))
        .collect();
    let prerequisites_met = unmet.is_empty();
    let missing = (!prerequisites_met).then(|| format!("needs a run of {}", unmet.join(" and ")));
    let verdict = if relevant.is_empty() || !prerequisites_met {
        Verdict::NotRun
    } else {
        roll_up(relevant.iter().map(|c| c.verdict))
    };
    ClaimVerdict {
        claim,
        summary: claim.summary().into(),
        scenarios,
        verdict,
        evidence,
        missing,
    }
}
