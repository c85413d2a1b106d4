//! The update's budget: with `maxUnavailable` n of 2 or more, n pods are
//! unavailable at once at some moment of the step, and never more. Read
//! from the pod watch's samples, in the order the API server wrote them,
//! so a pod turning Ready and the next one taken down are never seen out
//! of order.

use std::collections::BTreeMap;

use super::*;
use crate::model::record::PodSample;

pub(super) fn max_unavailable(record: &ScenarioRecord) -> Option<Check> {
    let budget = record.plan.as_ref()?.max_unavailable.filter(|n| *n >= 2)?;
    if record.steps.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    let mut pass = true;
    for step in &record.steps {
        let peak = peak_unavailable(&step.timeline);
        pass &= i64::try_from(peak).is_ok_and(|p| p == budget);
        rows.push(format!(
            "#{}: at most {peak} pod(s) unavailable at once over {} sample(s)",
            step.index + 1,
            step.timeline.len()
        ));
    }
    Some(check(
        record,
        "max-unavailable",
        "maxUnavailable honoured, and used",
        &[],
        format!("{budget} pods unavailable (not Ready, or deleting) at the peak, never more"),
        rows.join("; "),
        Verdict::from_bool(pass),
    ))
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
