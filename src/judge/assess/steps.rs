//! Per-step checks: the cells grouped by row, the API server's answer, the
//! update count, the quiet window, and a scenario that stopped early.

use super::*;

/// The claims the record's expectations carry (cells and dedicated checks).
pub(super) fn record_claims(record: &ScenarioRecord) -> BTreeSet<Claim> {
    let mut claims: BTreeSet<Claim> = record
        .steps
        .iter()
        .filter_map(|s| expectation(record, s))
        .filter(|e| e.seed_claims)
        .flat_map(|e| e.updated.iter().flat_map(|c| c.claims.iter().copied()))
        .collect();
    if carries_claims(record) {
        claims.extend([Claim::C1, Claim::C3, Claim::C7]);
    }
    claims
}

/// A record that stopped before its first step still names its claims:
/// the catalog's expectation for its first change says which.
pub(super) fn carries_claims(record: &ScenarioRecord) -> bool {
    record
        .steps
        .iter()
        .filter_map(|s| expectation(record, s))
        .any(|e| {
            e.seed_claims
                && e.updated.iter().any(|c| {
                    !c.claims.is_empty()
                        && c.row == Row::ContainerRebuild
                        && c.outcome == Outcome::RebuiltInPod
                })
        })
}

/// A scenario that stopped early fails the claims it was meant to check:
/// they were not shown, and saying NOT RUN would hide the failure.
pub(super) fn stopped_early(record: &ScenarioRecord, error: &str) -> Check {
    let claims: Vec<Claim> = record_claims(record).into_iter().collect();
    check(
        record,
        "completed",
        "scenario completed",
        &claims,
        "every step observed",
        format!("stopped after {} step(s): {error}", record.steps.len()),
        Verdict::Fail,
    )
}

/// A step whose (workload, strategy, change) has no expectation cannot be
/// judged: that is a failure of the suite, never a silent pass.
pub(super) fn missing_expectations(record: &ScenarioRecord) -> Option<Check> {
    let missing: Vec<String> = record
        .steps
        .iter()
        .filter(|s| expectation(record, s).is_none())
        .map(|s| {
            format!(
                "#{} ({}, {}, {})",
                s.index + 1,
                record.workload.kind,
                record.workload.strategy,
                s.change.kind
            )
        })
        .collect();
    (!missing.is_empty()).then(|| {
        check(
            record,
            "expectation-exists",
            "expectation exists",
            &[],
            "an expectation row for every step",
            format!("none for {}", missing.join(", ")),
            Verdict::Fail,
        )
    })
}

/// One check per (row, scope, role): the cells grouped the way a reader
/// asks ("did the root fs survive?"), every pod and container in it.
pub(super) fn row_checks(record: &ScenarioRecord) -> Vec<Check> {
    let cells = judge_cells(record);
    let mut checks = Vec::new();
    for role in [Role::Updated, Role::Untouched] {
        for scope in [Scope::Pod, Scope::Changed, Scope::Unchanged] {
            for row in Row::iter() {
                let group: Vec<&CellVerdict> = cells
                    .iter()
                    .filter(|c| c.row == row && c.scope == scope && c.role == role)
                    .collect();
                if let Some(first) = group.first() {
                    checks.push(row_check(
                        record,
                        &group,
                        &check_id(row, scope, role),
                        check_name(row, scope, role),
                        first,
                    ));
                }
            }
        }
    }
    checks
}

/// `row.root-fs`, `row.root-fs.unchanged` (containers the change leaves
/// alone), `row.restart-count.untouched` (pods not updated): the id of a
/// row check, in the records' own names for row, scope and role.
pub fn check_id(row: Row, scope: Scope, role: Role) -> String {
    let word = |value: serde_json::Value| value.as_str().unwrap_or_default().to_string();
    let mut id = format!("row.{}", word(serde_json::json!(row)));
    if scope == Scope::Unchanged {
        id.push_str(&format!(".{}", word(serde_json::json!(scope))));
    }
    if role == Role::Untouched {
        id.push_str(&format!(".{}", word(serde_json::json!(role))));
    }
    id
}

pub fn check_name(row: Row, scope: Scope, role: Role) -> String {
    let mut name = row.label();
    if scope == Scope::Unchanged {
        name.push_str(" (containers the change leaves alone)");
    }
    if role == Role::Untouched {
        name.push_str(" (pods not updated)");
    }
    name
}

pub(super) fn row_check(
    record: &ScenarioRecord,
    group: &[&CellVerdict],
    id: &str,
    name: String,
    first: &CellVerdict,
) -> Check {
    let single = group.len() == 1;
    let observed: Vec<String> = group
        .iter()
        .map(|c| {
            let text = format!("{} ({})", c.observed.label(), c.detail);
            if single {
                text
            } else {
                format!("{}: {text}", cell_place(record, c))
            }
        })
        .collect();
    let claims: BTreeSet<Claim> = group
        .iter()
        .flat_map(|c| c.claims.iter().copied())
        .collect();
    let claims: Vec<Claim> = claims.into_iter().collect();
    let pass = group.iter().all(|c| c.verdict == Verdict::Pass);
    let expected = if group.iter().all(|c| c.expected == first.expected) {
        first.expected.label()
    } else {
        "see cells".into()
    };
    check(
        record,
        id,
        &name,
        &claims,
        expected,
        observed.join("; "),
        Verdict::from_bool(pass),
    )
}

/// "#2 app-x/side": where a cell was observed, as short as is unambiguous.
pub fn cell_place(record: &ScenarioRecord, cell: &CellVerdict) -> String {
    let mut place = Vec::new();
    if record.steps.len() > 1 {
        place.push(format!("#{}", cell.step + 1));
    }
    let multi_pod = record.steps.iter().any(|s| s.pods.len() > 1);
    match (&cell.container, multi_pod) {
        (Some(c), true) => place.push(format!("{}/{c}", cell.pod)),
        (Some(c), false) => place.push(c.clone()),
        (None, true) => place.push(cell.pod.clone()),
        (None, false) => {}
    }
    place.join(" ")
}

/// Where a cell was observed within its step: the container, or the pod
/// and container when several pods are followed.
pub fn cell_place_in_step(record: &ScenarioRecord, cell: &CellVerdict) -> String {
    let multi_pod = record.steps.iter().any(|s| s.pods.len() > 1);
    match (&cell.container, multi_pod) {
        (Some(c), true) => format!("{}/{c}", cell.pod),
        (Some(c), false) => c.clone(),
        (None, _) => cell.pod.clone(),
    }
}

/// The API server's answer against the expectation's.
pub(super) fn admission(record: &ScenarioRecord) -> Check {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for step in &record.steps {
        let Some(e) = expectation(record, step) else {
            continue;
        };
        let (ok, text) = match (&e.admission, &step.admission) {
            (AdmissionExpectation::Accepted, Admission::Accepted) => (true, "accepted".into()),
            (AdmissionExpectation::Rejected(needle), Admission::Rejected { code, message }) => (
                message.contains(needle),
                format!("rejected ({code}): {message}"),
            ),
            (_, Admission::Accepted) => (false, "accepted".into()),
            (_, Admission::Rejected { code, message }) => {
                (false, format!("rejected ({code}): {message}"))
            }
        };
        if !ok {
            problems.push(format!("#{}", step.index + 1));
        }
        seen.push(text);
    }
    let expected: Vec<String> = record
        .steps
        .iter()
        .filter_map(|s| expectation(record, s))
        .map(|e| match e.admission {
            AdmissionExpectation::Accepted => "accepted".to_string(),
            AdmissionExpectation::Rejected(needle) => format!("rejected with \"{needle}\""),
        })
        .collect();
    check(
        record,
        "admission",
        "API server's answer to the change",
        &[],
        expected.join("; "),
        seen.join("; "),
        Verdict::from_bool(problems.is_empty()),
    )
}

/// Exactly the pods the controller should move (replicas minus partition,
/// none when refused) were moved, and the workload's generation moved only
/// when the change was accepted.
pub(super) fn update_count(record: &ScenarioRecord) -> Check {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for step in &record.steps {
        let updated = step.updated_pods().count();
        let generation_moved = step.generation_before != step.generation_after;
        let template_change = step.revision_before != step.revision_after || generation_moved;
        let refused = matches!(step.admission, Admission::Rejected { .. });
        if updated != step.expected_updated || (refused && template_change) {
            problems.push(format!("#{}", step.index + 1));
        }
        seen.push(format!(
            "{updated} of {} pod(s) updated (want {}), generation {} -> {}",
            step.pods.len(),
            step.expected_updated,
            opt(step.generation_before),
            opt(step.generation_after)
        ));
    }
    check(
        record,
        "update-count",
        "pods the controller updated",
        &[],
        "replicas minus partition; none and no new generation when refused",
        seen.join("; "),
        Verdict::from_bool(problems.is_empty()),
    )
}

pub(super) fn opt(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or("?".into())
}

/// After completion the pods are watched for a while: a late restart (the
/// kubelet and kruise-daemon both acting on one change, kruise#1239) must
/// show here and fail.
pub(super) fn quiet_after_completion(record: &ScenarioRecord) -> Check {
    let changes: Vec<String> = record
        .steps
        .iter()
        .flat_map(|s| {
            s.quiet.iter().flat_map(move |q| {
                q.changes
                    .iter()
                    .map(move |c| format!("#{} {c}", s.index + 1))
            })
        })
        .collect();
    let watched = record.steps.iter().filter(|s| s.quiet.is_some()).count();
    let window = record
        .steps
        .iter()
        .filter_map(|s| s.quiet.as_ref())
        .map(|q| q.window_ms)
        .max()
        .unwrap_or(0);
    let pass = watched == record.steps.len() && changes.is_empty();
    check(
        record,
        "quiet-after-completion",
        "nothing restarts after completion",
        &[],
        "no container status change in the window after each step",
        if watched < record.steps.len() {
            format!("{watched}/{} step(s) watched", record.steps.len())
        } else if changes.is_empty() {
            format!("none in {:.0}s after each step", window as f64 / 1000.0)
        } else {
            changes.join("; ")
        },
        Verdict::from_bool(pass),
    )
}
