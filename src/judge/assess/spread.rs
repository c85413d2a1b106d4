//! A workload spread over several nodes, one pod per node (a fixture with
//! `inplace-conformance/needs-nodes`): the premise that the pods really
//! were on distinct nodes, and, for a StatefulSet, that the controller
//! began updating them in ordinal order from the highest.
//! Read from the step's pods and its pod timeline.

use super::*;

/// The checks of a spread fixture's steps; none for the others.
pub(super) fn spread(record: &ScenarioRecord) -> Vec<Check> {
    let Some(wanted) = record.plan.as_ref().and_then(|p| p.spread_nodes) else {
        return Vec::new();
    };
    let mut checks = Vec::new();
    for step in &record.steps {
        checks.push(one_per_node(record, step, wanted));
        if record.workload.kind.contains("StatefulSet") {
            checks.push(ordinal_order(record, step));
        }
    }
    checks
}

fn one_per_node(record: &ScenarioRecord, step: &UpdateStep, wanted: usize) -> Check {
    let nodes: Vec<String> = step
        .pods
        .iter()
        .map(|p| {
            format!(
                "{} on {}",
                p.before.name,
                p.before.node.as_deref().unwrap_or("?")
            )
        })
        .collect();
    let distinct: std::collections::BTreeSet<&str> = step
        .pods
        .iter()
        .filter_map(|p| p.before.node.as_deref())
        .collect();
    // The fixture's count may include a client pod on a node of its own.
    let pods = step.pods.len();
    let pass = pods >= 2 && pods <= wanted && distinct.len() == pods;
    check(
        record,
        &graceful::step_id("premise.one-pod-per-node", step),
        &format!("#{} premise: one pod per node", step.index + 1),
        &[],
        format!(
            "each of the workload's pods on a node of its own (the fixture spreads over {wanted})"
        ),
        format!(
            "{} on {} node(s): {}",
            step.pods.len(),
            distinct.len(),
            nodes.join(", ")
        ),
        Verdict::from_bool(pass),
    )
}

/// The ordinal of a StatefulSet pod (`app-2` -> 2).
fn ordinal(pod: &str) -> Option<u32> {
    pod.rsplit_once('-').and_then(|(_, n)| n.parse().ok())
}

/// When the spec of each updated pod first named a new image, in that
/// order: a StatefulSet goes from the highest ordinal down, one pod at a
/// time (maxUnavailable 1: each starts after the one before is ready).
fn ordinal_order(record: &ScenarioRecord, step: &UpdateStep) -> Check {
    // The timeline starts with each pod as it was before the change.
    let first_changed = |pod: &str| {
        let before = step
            .timeline
            .iter()
            .find(|s| s.pod == pod)
            .map(|s| &s.images)?;
        step.timeline
            .iter()
            .find(|s| s.pod == pod && &s.images != before)
            .map(|s| s.at.clone())
    };
    let mut started: Vec<(String, String)> = step
        .updated_pods()
        .filter_map(|p| first_changed(&p.after.name).map(|at| (at, p.after.name.clone())))
        .collect();
    started.sort();
    let order: Vec<&str> = started.iter().map(|(_, pod)| pod.as_str()).collect();
    let ordinals: Vec<Option<u32>> = order.iter().map(|p| ordinal(p)).collect();
    let descending = ordinals.windows(2).all(|w| w[0] > w[1]);
    let all = started.len() == step.updated_pods().count() && started.len() > 1;
    check(
        record,
        &graceful::step_id("statefulset.ordinal-order", step),
        &format!("#{} pods updated in ordinal order", step.index + 1),
        &[],
        "each updated pod's spec changed in turn from the highest ordinal down",
        format!(
            "{}{}",
            started
                .iter()
                .map(|(at, pod)| format!("{pod} at {}", graceful::clock(at)))
                .collect::<Vec<_>>()
                .join(", "),
            if all {
                ""
            } else {
                "; not every updated pod was seen changing"
            }
        ),
        Verdict::from_bool(all && descending),
    )
}
