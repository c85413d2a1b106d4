//! The update's budget: with `maxUnavailable` n of 2 or more, n pods are
//! unavailable at once at some moment of the step, and never more; with a
//! PodUnavailableBudget the smaller of the two, and the budget's
//! `unavailableAllowed` seen going to 0 and back. Read
//! from the pod watch's samples, in the order the API server wrote them,
//! so a pod turning Ready and the next one taken down are never seen out
//! of order.

use std::collections::BTreeMap;

use super::*;
use crate::model::record::{BudgetSample, PodSample};

pub(super) fn max_unavailable(record: &ScenarioRecord) -> Option<Check> {
    let plan = record.plan.as_ref()?;
    // A PodUnavailableBudget caps the workload's own maxUnavailable.
    let budget = match plan.budget_max_unavailable {
        Some(pub_max) => plan.max_unavailable.map_or(pub_max, |own| own.min(pub_max)),
        None => plan.max_unavailable.filter(|n| *n >= 2)?,
    };
    if record.steps.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    let mut pass = true;
    for step in &record.steps {
        let peak = peak_unavailable(&step.timeline);
        pass &= i64::try_from(peak).is_ok_and(|p| p == budget);
        let mut row = format!(
            "#{}: at most {peak} pod(s) unavailable at once over {} sample(s)",
            step.index + 1,
            step.timeline.len()
        );
        if let Some(pub_max) = plan.budget_max_unavailable {
            let allowed = allowed_sequence(&step.budgets);
            pass &= spent_and_given_back(&allowed, pub_max);
            row.push_str(&format!(
                "; PodUnavailableBudget unavailableAllowed {}",
                allowed
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(" -> ")
            ));
        }
        rows.push(row);
    }
    let expected = match plan.budget_max_unavailable {
        Some(pub_max) => format!(
            "{budget} pod(s) unavailable (not Ready, or deleting) at the peak, never more; the \
             PodUnavailableBudget's unavailableAllowed down to 0 and back to {pub_max}"
        ),
        None => {
            format!("{budget} pods unavailable (not Ready, or deleting) at the peak, never more")
        }
    };
    Some(check(
        record,
        "max-unavailable",
        "maxUnavailable honoured, and used",
        &[],
        expected,
        rows.join("; "),
        Verdict::from_bool(pass),
    ))
}

/// The budget's `unavailableAllowed` as it changed, repeats removed.
pub fn allowed_sequence(samples: &[BudgetSample]) -> Vec<i64> {
    let mut sequence: Vec<i64> = Vec::new();
    for value in samples.iter().filter_map(|s| s.unavailable_allowed) {
        if sequence.last() != Some(&value) {
            sequence.push(value);
        }
    }
    sequence
}

/// Spent (0 at some moment) and given back (`max` at the end).
fn spent_and_given_back(allowed: &[i64], max: i64) -> bool {
    allowed.contains(&0) && allowed.last() == Some(&max)
}

/// The most pods unavailable (not Ready, or deleting) at once, replaying
/// the samples in the order they arrived; a deleted pod leaves the count.
pub fn peak_unavailable(samples: &[PodSample]) -> usize {
    let mut unavailable: BTreeMap<&str, bool> = BTreeMap::new();
    let mut peak = 0;
    for sample in samples {
        if sample.deleted {
            unavailable.remove(sample.uid.as_str());
        } else {
            let ready = sample.conditions.get("Ready").copied().unwrap_or(false);
            unavailable.insert(&sample.uid, sample.deleting || !ready);
        }
        peak = peak.max(unavailable.values().filter(|u| **u).count());
    }
    peak
}
