//! A change made with the pods' nodes cordoned (`changes::conducted_image`, CORDON): the
//! premise that the nodes really were unschedulable through the change, and
//! where each updated pod ended up. In place needs no scheduling, so the pod
//! stays, same UID, on its cordoned node; a recreate needs a new pod, which
//! the scheduler can only put on another node. Read from the step's
//! `CordonRecord` and its pods (C10: scheduling).

use super::*;
use crate::model::record::CordonRecord;

/// The checks of the steps made with cordoned nodes; none for the others.
pub(super) fn cordoned(record: &ScenarioRecord) -> Vec<Check> {
    let mut checks = Vec::new();
    for step in &record.steps {
        let Some(cordon) = &step.cordon else {
            continue;
        };
        checks.push(premise(record, step, cordon));
        checks.push(placement(record, step, cordon));
    }
    checks
}

fn premise(record: &ScenarioRecord, step: &UpdateStep, cordon: &CordonRecord) -> Check {
    // The change is sent once every node read back cordoned; accepted_at
    // is when the API server answered it.
    let before_change = step
        .accepted_at
        .as_ref()
        .is_some_and(|accepted| crate::time_key(&cordon.cordoned_at) < crate::time_key(accepted));
    let after_update = !cordon.uncordoned_at.is_empty()
        && crate::time_key(&cordon.uncordoned_at) >= crate::time_key(&step.completed_at);
    let all_seen = !cordon.nodes.is_empty() && cordon.seen_unschedulable == cordon.nodes;
    check(
        record,
        &graceful::step_id("premise.cordoned", step),
        &format!("#{} premise: the pods' nodes cordoned", step.index + 1),
        &[],
        "every node a pod was on read back unschedulable before the change, uncordoned only \
         once the update was done",
        format!(
            "{} cordoned at {} ({} read back unschedulable), uncordoned at {}",
            cordon.nodes.join(", "),
            graceful::clock(&cordon.cordoned_at),
            cordon.seen_unschedulable.len(),
            if cordon.uncordoned_at.is_empty() {
                "never"
            } else {
                graceful::clock(&cordon.uncordoned_at)
            }
        ),
        Verdict::from_bool(all_seen && before_change && after_update),
    )
}

fn placement(record: &ScenarioRecord, step: &UpdateStep, cordon: &CordonRecord) -> Check {
    let in_place = record.workload.strategy != "ReCreate";
    let cordoned = |node: &Option<String>| node.as_ref().is_some_and(|n| cordon.nodes.contains(n));
    let mut seen = Vec::new();
    let mut pass = step.updated_pods().count() > 0;
    for pod in step.updated_pods() {
        let (before, after) = (&pod.before, &pod.after);
        let same_pod = before.uid == after.uid;
        let ok = if in_place {
            same_pod && before.node == after.node && cordoned(&after.node)
        } else {
            !same_pod && after.node.is_some() && !cordoned(&after.node)
        };
        pass &= ok;
        seen.push(format!(
            "{} on {}{} -> {} on {}{}; {}; IP {} -> {}; claims {} -> {}",
            before.name,
            node_name(&before.node),
            if cordoned(&before.node) {
                " (cordoned)"
            } else {
                ""
            },
            if same_pod {
                "the same pod"
            } else {
                after.name.as_str()
            },
            node_name(&after.node),
            if cordoned(&after.node) {
                " (cordoned)"
            } else {
                ""
            },
            if same_pod { "same UID" } else { "new UID" },
            before.pod_ips.join(","),
            after.pod_ips.join(","),
            claim_names(before),
            claim_names(after),
        ));
    }
    check(
        record,
        &graceful::step_id("cordon.placement", step),
        &format!("#{} where the updated pods ended up", step.index + 1),
        &[Claim::C10],
        if in_place {
            "each pod updated in place on its cordoned node: same pod (UID), same node"
        } else {
            "each pod replaced by a new pod (new UID) on a node that is not cordoned"
        },
        if seen.is_empty() {
            "no pod was updated".to_string()
        } else {
            seen.join("; ")
        },
        Verdict::from_bool(pass),
    )
}

fn node_name(node: &Option<String>) -> &str {
    node.as_deref().unwrap_or("no node")
}

fn claim_names(pod: &PodSnapshot) -> String {
    if pod.claims.is_empty() {
        return "none".into();
    }
    pod.claims
        .iter()
        .map(|c| c.claim.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::samples::fixture;

    fn verdict(record: &ScenarioRecord, id: &str) -> Verdict {
        cordoned(record)
            .into_iter()
            .find(|c| c.id.starts_with(id))
            .map(|c| c.verdict)
            .unwrap_or_else(|| panic!("no check {id}"))
    }

    /// The real recordings (4 nodes: the in-place pod stayed on its
    /// cordoned node, the recreated one went to another) pass; the same
    /// recordings made wrong fail: an in-place pod that moved, a recreated
    /// pod on the cordoned node, a node that never read back cordoned, or
    /// one uncordoned before the update was done.
    #[test]
    fn in_place_stays_on_the_cordoned_node_and_recreate_moves() {
        let in_place = fixture("cordon-inplace.json");
        let recreate = fixture("cordon-recreate.json");
        for record in [&in_place, &recreate] {
            assert_eq!(verdict(record, "premise.cordoned"), Verdict::Pass);
            assert_eq!(verdict(record, "cordon.placement"), Verdict::Pass);
        }
        let mut moved = in_place.clone();
        moved.steps[0].pods[0].after.node = Some("another-node".into());
        assert_eq!(verdict(&moved, "cordon.placement"), Verdict::Fail);

        let mut stayed = recreate.clone();
        let node = stayed.steps[0].cordon.as_ref().unwrap().nodes[0].clone();
        stayed.steps[0].pods[0].after.node = Some(node);
        assert_eq!(verdict(&stayed, "cordon.placement"), Verdict::Fail);

        let mut unseen = in_place.clone();
        unseen.steps[0]
            .cordon
            .as_mut()
            .unwrap()
            .seen_unschedulable
            .clear();
        assert_eq!(verdict(&unseen, "premise.cordoned"), Verdict::Fail);

        let mut early = in_place.clone();
        let started = early.steps[0].started_at.clone();
        early.steps[0].cordon.as_mut().unwrap().uncordoned_at = started;
        assert_eq!(verdict(&early, "premise.cordoned"), Verdict::Fail);

        assert!(cordoned(&fixture("inplace-image.json")).is_empty());
    }
}
