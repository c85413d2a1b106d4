//! Expectation cells: each row of the expectation judged per step, pod
//! and container (identity, rebuild, markers, network, restartCount,
//! scheduling), and the seed table's view of a record.

use super::*;

/// Every cell of every step, each step against its own expectation.
pub fn judge_cells(record: &ScenarioRecord) -> Vec<CellVerdict> {
    record
        .steps
        .iter()
        .filter_map(|step| expectation(record, step).map(|e| judge_step(step, e)))
        .flatten()
        .collect()
}

/// Every cell of every step against one foreign expectation (the
/// self-check feeds a recording of the wrong behaviour to it).
pub fn judge_cells_against(record: &ScenarioRecord, e: &Expectation) -> Vec<CellVerdict> {
    record
        .steps
        .iter()
        .flat_map(|step| judge_step(step, e))
        .collect()
}

pub(super) fn judge_step(step: &UpdateStep, e: &Expectation) -> Vec<CellVerdict> {
    let mut verdicts = Vec::new();
    for pod in &step.pods {
        let (role, table) = if pod.updated {
            (Role::Updated, e.updated)
        } else {
            (Role::Untouched, e.untouched)
        };
        for cell in table {
            for container in containers_in_scope(step, pod, cell.scope) {
                let mut verdict = judge_cell(step, pod, role, cell, container);
                if !e.seed_claims {
                    verdict.claims.clear();
                }
                verdicts.push(verdict);
            }
        }
    }
    verdicts
}

/// Pod rows: once (`None`). Container rows: each container of the pod the
/// scope covers.
pub(super) fn containers_in_scope(
    step: &UpdateStep,
    pod: &PodStep,
    scope: Scope,
) -> Vec<Option<String>> {
    let names = pod.before.containers.iter().map(|c| c.status.name.clone());
    let targeted = |name: &String| step.change.containers.contains(name);
    match scope {
        Scope::Pod => vec![None],
        Scope::Changed => names.filter(targeted).map(Some).collect(),
        Scope::Unchanged => names.filter(|n| !targeted(n)).map(Some).collect(),
    }
}

pub(super) fn judge_cell(
    step: &UpdateStep,
    pod: &PodStep,
    role: Role,
    cell: &Cell,
    container: Option<String>,
) -> CellVerdict {
    let (observed, detail) = observe_row(step, pod, cell.row, container.as_deref());
    CellVerdict {
        step: step.index,
        pod: pod.before.name.clone(),
        container,
        role,
        row: cell.row,
        scope: cell.scope,
        expected: cell.outcome,
        observed,
        detail,
        verdict: Verdict::from_bool(observed == cell.outcome),
        claims: cell.claims.to_vec(),
    }
}

/// The observed outcome of one row for one pod (and container).
pub fn observe_row(
    step: &UpdateStep,
    pod: &PodStep,
    row: Row,
    container: Option<&str>,
) -> (Outcome, String) {
    let c = container.unwrap_or("");
    match row {
        Row::PodIdentity => pod_identity(&pod.before, &pod.after),
        Row::ContainerRebuild => container_rebuild(pod, c),
        Row::RootFs => marker(pod, MarkerLocation::RootFs, c),
        Row::EmptyDir => marker(pod, MarkerLocation::DiskEmptyDir, c),
        Row::MemoryEmptyDir => marker(pod, MarkerLocation::MemoryEmptyDir, c),
        Row::Pvc => pvc(pod),
        Row::NetworkIdentity => network_identity(&pod.before, &pod.after),
        Row::RestartCount => restart_count(pod, c),
        Row::Scheduling => scheduling(step, pod),
    }
}

pub(super) fn pod_identity(before: &PodSnapshot, after: &PodSnapshot) -> (Outcome, String) {
    let name = if before.name == after.name {
        format!("name {} kept", after.name)
    } else {
        format!("name {} -> {}", before.name, after.name)
    };
    if before.uid == after.uid && before.name == after.name {
        (Outcome::Kept, format!("{name}, UID kept"))
    } else {
        (Outcome::NotKept, format!("{name}, UID changed"))
    }
}

pub(super) fn container_pair<'a>(
    pod: &'a PodStep,
    name: &str,
) -> Option<(&'a ContainerSnapshot, &'a ContainerSnapshot)> {
    Some((pod.before.container(name)?, pod.after.container(name)?))
}

pub(super) fn container_rebuild(pod: &PodStep, name: &str) -> (Outcome, String) {
    let Some((b, a)) = container_pair(pod, name) else {
        return (Outcome::Inconsistent, format!("container {name} missing"));
    };
    let detail = format!(
        "containerID {} -> {}",
        short_container_id(&b.status.container_id),
        short_container_id(&a.status.container_id)
    );
    let outcome = match (
        pod.same_pod(),
        b.status.container_id != a.status.container_id,
    ) {
        (false, _) => Outcome::NewPod,
        (true, true) => Outcome::RebuiltInPod,
        (true, false) => Outcome::NotRebuilt,
    };
    (outcome, detail)
}

/// `containerd://0123456789abcdef...` -> `0123456789ab`, for table cells.
pub fn short_container_id(id: &Option<String>) -> String {
    match id {
        None => "none".into(),
        Some(id) => {
            let bare = id.rsplit("://").next().unwrap_or(id);
            bare.chars().take(12).collect()
        }
    }
}

pub(super) fn marker(
    pod: &PodStep,
    location: MarkerLocation,
    container: &str,
) -> (Outcome, String) {
    let (Some(written), Some(read)) = (
        pod.written(location, container),
        pod.read_back(location, container),
    ) else {
        return (Outcome::Inconsistent, "marker not recorded".into());
    };
    match &read.found {
        Some(found) if *found == written.token => (
            Outcome::Kept,
            format!("token {} read back", short_token(&written.token)),
        ),
        Some(_) => (Outcome::NotKept, "file has other content".into()),
        None => (Outcome::NotKept, "file gone".into()),
    }
}

/// The PVC marker, and whether the claim object is the same one.
pub(super) fn pvc(pod: &PodStep) -> (Outcome, String) {
    let (outcome, detail) = marker(pod, MarkerLocation::Pvc, "");
    let claim = |s: &PodSnapshot| s.claims.first().cloned();
    let claims = match (claim(&pod.before), claim(&pod.after)) {
        (Some(b), Some(a)) if b.uid == a.uid => format!("; claim {} kept", a.claim),
        (Some(b), Some(a)) => format!("; claim {} -> {} (new object)", b.claim, a.claim),
        _ => String::new(),
    };
    (outcome, format!("{detail}{claims}"))
}

pub(super) fn short_token(token: &str) -> &str {
    &token[..token.len().min(8)]
}

pub(super) fn network_identity(before: &PodSnapshot, after: &PodSnapshot) -> (Outcome, String) {
    let ip_kept = before.pod_ips == after.pod_ips;
    let netns_kept = before.netns() == after.netns();
    let same_pod = before.uid == after.uid;
    let ip = if ip_kept {
        format!("IP {} kept", after.pod_ips.join(","))
    } else {
        format!(
            "IP {} -> {}",
            before.pod_ips.join(","),
            after.pod_ips.join(",")
        )
    };
    // A new pod has a new sandbox and so a new network namespace, even when
    // the kernel hands its freed inode number out again (seen with an
    // Advanced StatefulSet recreate, where the old pod is gone first).
    let netns = match (netns_kept, same_pod) {
        (true, true) => "netns kept",
        (true, false) => "new sandbox (netns inode number reused)",
        (false, _) => "netns changed",
    };
    let outcome = if ip_kept && netns_kept && same_pod {
        Outcome::Kept
    } else {
        Outcome::NotKept
    };
    (outcome, format!("{ip}, {netns}"))
}

pub(super) fn restart_count(pod: &PodStep, name: &str) -> (Outcome, String) {
    let Some((b, a)) = container_pair(pod, name) else {
        return (Outcome::Inconsistent, format!("container {name} missing"));
    };
    let (b, a) = (b.status.restart_count, a.status.restart_count);
    let outcome = match (pod.same_pod(), a - b, a) {
        (true, 1, _) => Outcome::OnePerUpdate,
        (true, 2, _) => Outcome::TwoInPod,
        (true, 0, _) => Outcome::NoRestart,
        (false, _, 0) => Outcome::ZeroInNewPod,
        _ => Outcome::Inconsistent,
    };
    (outcome, format!("{b} -> {a}"))
}

pub(super) fn scheduling(step: &UpdateStep, pod: &PodStep) -> (Outcome, String) {
    let (before, after) = (&pod.before, &pod.after);
    let scheduled_again = step
        .events_with_reason("Scheduled")
        .filter(|e| event_names_pod(e, before) || event_names_pod(e, after))
        .filter(|_| !pod.same_pod())
        .count();
    let scheduled_before = step
        .events_with_reason("Scheduled")
        .filter(|e| event_names_pod(e, before))
        .count();
    let node = format!(
        "node {} -> {}",
        before.node.as_deref().unwrap_or("?"),
        after.node.as_deref().unwrap_or("?")
    );
    let outcome = if pod.same_pod() && before.node == after.node && scheduled_before == 0 {
        Outcome::NotRescheduled
    } else if !pod.same_pod() && scheduled_again > 0 {
        Outcome::Rescheduled
    } else {
        Outcome::Inconsistent
    };
    let count = if pod.same_pod() {
        scheduled_before
    } else {
        scheduled_again
    };
    (outcome, format!("{node}, {count} new Scheduled event(s)"))
}

pub(super) fn event_names_pod(
    event: &crate::model::record::EventRecord,
    pod: &PodSnapshot,
) -> bool {
    match &event.object_uid {
        Some(uid) => *uid == pod.uid,
        None => event.object_name == pod.name,
    }
}

/// The seed-table view of a record: per row, the cells of the pods that
/// took the change and the containers it targeted, over every step.
pub fn seed_row_outcome(record: &ScenarioRecord, row: Row) -> (Outcome, Outcome, String) {
    let cells: Vec<CellVerdict> = judge_cells(record)
        .into_iter()
        .filter(|c| c.row == row && c.role == Role::Updated && c.scope != Scope::Unchanged)
        .collect();
    let Some(first) = cells.first() else {
        return (
            Outcome::Inconsistent,
            Outcome::Inconsistent,
            "no update recorded".into(),
        );
    };
    let observed = if cells.iter().all(|c| c.observed == first.observed) {
        first.observed
    } else {
        Outcome::Inconsistent
    };
    let detail = if row == Row::RestartCount {
        restart_trail(record)
    } else if cells.len() == 1 {
        first.detail.clone()
    } else {
        cells
            .iter()
            .map(|c| format!("#{}: {}", c.step + 1, c.detail))
            .collect::<Vec<_>>()
            .join("; ")
    };
    (first.expected, observed, detail)
}

pub(super) fn restart_trail(record: &ScenarioRecord) -> String {
    let Some(first) = record.steps.first().and_then(|s| s.updated_pods().next()) else {
        return "no update recorded".into();
    };
    let name = record.steps[0]
        .change
        .containers
        .first()
        .cloned()
        .unwrap_or_default();
    let count = |s: &PodSnapshot| s.container(&name).map(|c| c.status.restart_count);
    let mut counts = vec![count(&first.before)];
    counts.extend(
        record
            .steps
            .iter()
            .map(|s| s.updated_pods().next().and_then(|p| count(&p.after))),
    );
    let trail = counts
        .iter()
        .map(|c| c.map(|c| c.to_string()).unwrap_or("?".into()))
        .collect::<Vec<_>>()
        .join(" -> ");
    format!("{trail} over {} update(s)", record.steps.len())
}
