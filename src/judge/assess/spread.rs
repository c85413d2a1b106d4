//! A workload spread over several nodes, one pod per node (a fixture with
//! `inplace-conformance/needs-nodes`): the premise that the pods really
//! were on distinct nodes, and, for a StatefulSet, that the controller
//! began updating them in ordinal order from the highest.
//! Read from the step's pods and its pod timeline.

use super::*;

/// The checks of a spread fixture's steps, and the update order of a
/// DaemonSet of several pods; none for the others.
pub(super) fn spread(record: &ScenarioRecord) -> Vec<Check> {
    let mut checks: Vec<Check> = record
        .steps
        .iter()
        .filter(|s| record.workload.kind.contains("DaemonSet") && s.pods.len() > 1)
        .map(|s| daemonset_order(record, s))
        .collect();
    let Some(wanted) = record.plan.as_ref().and_then(|p| p.spread_nodes) else {
        return checks;
    };
    for step in &record.steps {
        checks.push(one_per_node(record, step, wanted));
        if record.workload.kind.contains("StatefulSet") {
            checks.push(ordinal_order(record, step));
        }
    }
    checks
}

fn one_per_node(record: &ScenarioRecord, step: &UpdateStep, wanted: usize) -> Check {
    // The workload's pods, and the traffic client when there is one: the
    // fixture's count includes it, on a node of its own.
    // A recording from before the client's node was kept leaves it out.
    let client = step
        .traffic
        .as_ref()
        .filter(|t| !t.client_node.is_empty())
        .map(|t| (t.client.as_str(), Some(t.client_node.as_str())));
    let placed: Vec<(&str, Option<&str>)> = step
        .pods
        .iter()
        .map(|p| (p.before.name.as_str(), p.before.node.as_deref()))
        .chain(client)
        .collect();
    let nodes: Vec<String> = placed
        .iter()
        .map(|(pod, node)| format!("{pod} on {}", node.unwrap_or("?")))
        .collect();
    let distinct: std::collections::BTreeSet<&str> =
        placed.iter().filter_map(|(_, node)| *node).collect();
    let pods = placed.len();
    let pass = step.pods.len() >= 2 && pods <= wanted && distinct.len() == pods;
    check(
        record,
        &graceful::step_id("premise.one-pod-per-node", step),
        &format!("#{} premise: one pod per node", step.index + 1),
        &[],
        format!(
            "each of the workload's pods, and the traffic client if any, on a node of its own \
             (the fixture spreads over {wanted})"
        ),
        format!("{pods} on {} node(s): {}", distinct.len(), nodes.join(", ")),
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
    let started = update_starts(step);
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

/// When the spec of each updated pod first named a new image (the timeline
/// starts with each pod as it was before the change), in that order.
fn update_starts(step: &UpdateStep) -> Vec<(String, String)> {
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
    started
}

/// A DaemonSet's update on several nodes: each updated pod on a node of its
/// own and kept there, the order in which they were taken recorded (the
/// count is `update-count`'s, one at a time `max-unavailable`'s).
fn daemonset_order(record: &ScenarioRecord, step: &UpdateStep) -> Check {
    let node_of = |pod: &str| {
        step.pods
            .iter()
            .find(|p| p.after.name == pod)
            .and_then(|p| p.after.node.clone())
            .unwrap_or_else(|| "?".into())
    };
    let started = update_starts(step);
    let nodes: std::collections::BTreeSet<String> =
        started.iter().map(|(_, pod)| node_of(pod)).collect();
    let stayed = step
        .updated_pods()
        .all(|p| p.before.uid == p.after.uid && p.before.node == p.after.node);
    let updated = step.updated_pods().count();
    let all_seen = started.len() == updated && updated > 0;
    let allowed = record.plan.as_ref().and_then(|p| p.max_unavailable);
    let peak = super::budget::peak_unavailable(&step.timeline);
    let within = allowed.is_none_or(|max| i64::try_from(peak).is_ok_and(|p| p <= max));
    let held: Vec<String> = step
        .pods
        .iter()
        .filter(|p| !p.updated)
        .map(|p| {
            format!(
                "{} on {}",
                p.after.name,
                p.after.node.as_deref().unwrap_or("?")
            )
        })
        .collect();
    check(
        record,
        &graceful::step_id("daemonset.update-order", step),
        &format!("#{} DaemonSet pods updated node by node", step.index + 1),
        &[],
        "each updated pod in place on a node of its own, in the order the controller took them, \
         no more unavailable at once than maxUnavailable",
        format!(
            "{}; held back: {}; at most {peak} unavailable at once (maxUnavailable {}){}",
            started
                .iter()
                .map(|(at, pod)| format!("{pod} on {} at {}", node_of(pod), graceful::clock(at)))
                .collect::<Vec<_>>()
                .join(", "),
            if held.is_empty() {
                "none".to_string()
            } else {
                held.join(", ")
            },
            allowed.map_or("unset".into(), |m| m.to_string()),
            if all_seen {
                ""
            } else {
                "; not every updated pod was seen changing"
            }
        ),
        Verdict::from_bool(all_seen && stayed && within && nodes.len() == started.len()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::samples::fixture;

    fn order(record: &ScenarioRecord) -> Check {
        spread(record)
            .into_iter()
            .find(|c| c.id.starts_with("daemonset.update-order"))
            .expect("an update-order check")
    }

    /// The real recording of graceful-cross-node (two app pods and the
    /// client on three workers) passes; the client on an app pod's node
    /// fails; a recording without the client's node leaves it out.
    #[test]
    fn the_traffic_client_needs_a_node_of_its_own() {
        let premise = |record: &ScenarioRecord| {
            spread(record)
                .into_iter()
                .find(|c| c.id.starts_with("premise.one-pod-per-node"))
                .expect("a spread premise")
        };
        let real = fixture("graceful-cross-node.json");
        let check = premise(&real);
        assert_eq!(check.verdict, Verdict::Pass, "{}", check.observed);
        assert!(
            check.observed.starts_with("3 on 3 node(s)"),
            "{}",
            check.observed
        );
        let mut shared = real.clone();
        let app_node = shared.steps[0].pods[0].before.node.clone().unwrap();
        shared.steps[0].traffic.as_mut().unwrap().client_node = app_node;
        assert_eq!(premise(&shared).verdict, Verdict::Fail);
        let mut older = real.clone();
        older.steps[0].traffic.as_mut().unwrap().client_node.clear();
        assert!(premise(&older).observed.starts_with("2 on 2 node(s)"));
    }

    /// The real recording (3 nodes, partition 1: two pods updated in
    /// place one after the other, the third held back) passes; two
    /// updated pods on one node, a pod that moved, or both down at once
    /// under maxUnavailable 1 fail.
    #[test]
    fn a_daemonset_is_updated_node_by_node() {
        let real = fixture("ads-partition.json");
        let check = order(&real);
        assert_eq!(check.verdict, Verdict::Pass, "{}", check.observed);
        assert!(check.observed.contains("held back: app-"));

        let mut shared = real.clone();
        let updated: Vec<usize> = (0..shared.steps[0].pods.len())
            .filter(|i| shared.steps[0].pods[*i].updated)
            .collect();
        let node = shared.steps[0].pods[updated[0]].after.node.clone();
        let other = &mut shared.steps[0].pods[updated[1]];
        other.before.node = node.clone();
        other.after.node = node;
        assert_eq!(order(&shared).verdict, Verdict::Fail);

        let mut moved = real.clone();
        moved.steps[0].pods[updated[0]].after.node = Some("elsewhere".into());
        assert_eq!(order(&moved).verdict, Verdict::Fail);

        let mut tight = real.clone();
        tight.plan.as_mut().unwrap().max_unavailable = Some(0);
        assert_eq!(order(&tight).verdict, Verdict::Fail);
    }
}
