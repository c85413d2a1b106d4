//! Judging recorded observations: every cell of the expectation that the
//! record's (workload, strategy, change) selects, per step, pod and
//! container; dedicated checks (C1, C3, C7, C11, C12, env, metadata,
//! priority order, admission, events); premises; the claims roll-up.
//! Everything here is a pure function of `ScenarioRecord`s.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use strum::IntoEnumIterator;

use crate::model::record::{
    Admission, ContainerSnapshot, MarkerLocation, PodSnapshot, PodStep, ScenarioRecord, UpdateStep,
};
use crate::scenarios::expect::{
    self, AdmissionExpectation, Cell, Claim, Expectation, Outcome, Row, Scope,
};

pub use crate::model::verdict::Verdict;

/// Whether a pod took the change or had to be left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Updated,
    Untouched,
}

/// One expectation cell judged against one pod (and container).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellVerdict {
    pub step: usize,
    pub pod: String,
    pub container: Option<String>,
    pub role: Role,
    pub row: Row,
    pub scope: Scope,
    pub expected: Outcome,
    pub observed: Outcome,
    pub detail: String,
    pub verdict: Verdict,
    pub claims: Vec<Claim>,
}

/// One named check of a scenario (cells grouped by row, dedicated checks
/// and premises).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredCheck")]
pub struct Check {
    pub scenario: String,
    /// Stable, machine-friendly identifier (`row.root-fs`, `admission`,
    /// `graceful.no-stopping-request.step-1`), unique within the scenario's
    /// checks: what tests, races and `compare-runs` refer to a check by. The
    /// display text (`name`) may be reworded; the id stays.
    pub id: String,
    pub name: String,
    pub claims: Vec<Claim>,
    pub expected: String,
    pub observed: String,
    pub verdict: Verdict,
    /// Known races (`crate::scenarios::races`) met on the way to this verdict.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub races: Vec<String>,
}

/// A check as stored: files written before checks carried an id have none.
#[derive(Deserialize)]
struct StoredCheck {
    scenario: String,
    #[serde(default)]
    id: String,
    name: String,
    claims: Vec<Claim>,
    expected: String,
    observed: String,
    verdict: Verdict,
    #[serde(default)]
    races: Vec<String>,
}

impl From<StoredCheck> for Check {
    fn from(stored: StoredCheck) -> Check {
        let id = if stored.id.is_empty() {
            fallback_id(&stored.name)
        } else {
            stored.id
        };
        Check {
            scenario: stored.scenario,
            id,
            name: stored.name,
            claims: stored.claims,
            expected: stored.expected,
            observed: stored.observed,
            verdict: stored.verdict,
            races: stored.races,
        }
    }
}

/// The id of a check stored without one (before checks carried ids): its
/// display text in lower kebab case, "#1 pod left the Service" ->
/// `1-pod-left-the-service`. Stable for the same text, so stored checks of
/// one scenario still match each other by id.
pub fn fallback_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            id.extend(c.to_lowercase());
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_end_matches('-').to_string()
}

impl Check {
    /// The same check, naming the known race it met.
    fn met(mut self, race: &crate::scenarios::races::Race) -> Check {
        if !self.races.iter().any(|r| r == race.name) {
            self.races.push(race.name.to_string());
        }
        self
    }
}

/// The scenario's verdict: INTERRUPTED, UNSUPPORTED, PASS or FAIL.
pub fn verdict_of(record: &ScenarioRecord) -> Verdict {
    record_verdict(record, &scenario_checks(record))
}

/// INTERRUPTED when a signal stopped it, UNSUPPORTED when the cluster
/// could not run it, else PASS or FAIL.
pub fn record_verdict(record: &ScenarioRecord, checks: &[Check]) -> Verdict {
    if record.interrupted.is_some() {
        Verdict::Interrupted
    } else if record.unsupported.is_some() {
        Verdict::Unsupported
    } else if failures(checks).is_empty() && record.error.is_none() {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

/// The expectation a step is judged by.
pub fn expectation(record: &ScenarioRecord, step: &UpdateStep) -> Option<&'static Expectation> {
    expect::lookup(
        &record.workload.kind,
        &record.workload.strategy,
        &step.change.kind,
    )
}

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

fn judge_step(step: &UpdateStep, e: &Expectation) -> Vec<CellVerdict> {
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
fn containers_in_scope(step: &UpdateStep, pod: &PodStep, scope: Scope) -> Vec<Option<String>> {
    let names = pod.before.containers.iter().map(|c| c.status.name.clone());
    let targeted = |name: &String| step.change.containers.contains(name);
    match scope {
        Scope::Pod => vec![None],
        Scope::Changed => names.filter(targeted).map(Some).collect(),
        Scope::Unchanged => names.filter(|n| !targeted(n)).map(Some).collect(),
    }
}

fn judge_cell(
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

fn pod_identity(before: &PodSnapshot, after: &PodSnapshot) -> (Outcome, String) {
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

fn container_pair<'a>(
    pod: &'a PodStep,
    name: &str,
) -> Option<(&'a ContainerSnapshot, &'a ContainerSnapshot)> {
    Some((pod.before.container(name)?, pod.after.container(name)?))
}

fn container_rebuild(pod: &PodStep, name: &str) -> (Outcome, String) {
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

fn marker(pod: &PodStep, location: MarkerLocation, container: &str) -> (Outcome, String) {
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
fn pvc(pod: &PodStep) -> (Outcome, String) {
    let (outcome, detail) = marker(pod, MarkerLocation::Pvc, "");
    let claim = |s: &PodSnapshot| s.claims.first().cloned();
    let claims = match (claim(&pod.before), claim(&pod.after)) {
        (Some(b), Some(a)) if b.uid == a.uid => format!("; claim {} kept", a.claim),
        (Some(b), Some(a)) => format!("; claim {} -> {} (new object)", b.claim, a.claim),
        _ => String::new(),
    };
    (outcome, format!("{detail}{claims}"))
}

fn short_token(token: &str) -> &str {
    &token[..token.len().min(8)]
}

fn network_identity(before: &PodSnapshot, after: &PodSnapshot) -> (Outcome, String) {
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

fn restart_count(pod: &PodStep, name: &str) -> (Outcome, String) {
    let Some((b, a)) = container_pair(pod, name) else {
        return (Outcome::Inconsistent, format!("container {name} missing"));
    };
    let (b, a) = (b.status.restart_count, a.status.restart_count);
    let outcome = match (pod.same_pod(), a - b, a) {
        (true, 1, _) => Outcome::OnePerUpdate,
        (true, 0, _) => Outcome::NoRestart,
        (false, _, 0) => Outcome::ZeroInNewPod,
        _ => Outcome::Inconsistent,
    };
    (outcome, format!("{b} -> {a}"))
}

fn scheduling(step: &UpdateStep, pod: &PodStep) -> (Outcome, String) {
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

fn event_names_pod(event: &crate::model::record::EventRecord, pod: &PodSnapshot) -> bool {
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

fn restart_trail(record: &ScenarioRecord) -> String {
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

/// All checks of one record.
pub fn scenario_checks(record: &ScenarioRecord) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    if let Some(signal) = &record.interrupted {
        checks.push(check(
            record,
            "interrupted",
            "ran to the end",
            &[],
            "the scenario finishes",
            format!("interrupted by {signal}"),
            Verdict::Interrupted,
        ));
        return checks;
    }
    if let Some(reason) = &record.unsupported {
        checks.push(check(
            record,
            "supported",
            "supported here",
            &[],
            "the cluster runs what the scenario needs",
            format!("unsupported here: {reason}"),
            Verdict::Unsupported,
        ));
        return checks;
    }
    if let Some(error) = &record.error {
        checks.push(stopped_early(record, error));
    }
    checks.extend(missing_expectations(record));
    if !record.steps.is_empty() {
        checks.extend(row_checks(record));
        checks.push(admission(record));
        checks.push(update_count(record));
        checks.extend(kruise_events(record));
        checks.push(quiet_after_completion(record));
        checks.push(mount_premise(record));
        checks.extend(created_as_planned(record));
        checks.extend(delivery_premise(record));
        checks.extend(metadata_applied(record));
        checks.extend(env_seen(record));
        checks.extend(priority_order(record));
        checks.extend(reported_done(record));
        checks.extend(cpu_limit_applied(record));
        checks.extend(traffic_checks(record));
    }
    checks.extend(rebuild_lifecycle(record));
    checks.extend(new_image(record));
    checks.extend(cgroup_renewed(record));
    checks.extend(successive_restarts(record));
    checks.extend(throughput(record));
    checks.extend(fault_injected(record));
    checks.push(kruise_components_stable(record));
    checks
}

/// The premise that the workload was created as planned: a field the
/// cluster changed (a mutating webhook, a policy) would make every other
/// verdict of the scenario one about another workload. Recordings made
/// before the comparison existed carry none.
fn created_as_planned(record: &ScenarioRecord) -> Option<Check> {
    let premise = record.created_as_planned.as_ref()?;
    let observed = if premise.changed.is_empty() {
        format!("{} field(s) as planned", premise.fields.len())
    } else {
        let changed: Vec<String> = premise
            .changed
            .iter()
            .map(|c| format!("{} planned {}, created {}", c.field, c.planned, c.created))
            .collect();
        format!(
            "changed by the cluster (a mutating admission webhook or policy?): {}",
            changed.join("; ")
        )
    };
    Some(check(
        record,
        "premise.created-as-planned",
        "the workload was created as planned",
        &[],
        "every field the scenario depends on as the fixture sets it",
        observed,
        Verdict::from_bool(premise.changed.is_empty()),
    ))
}

/// A faults-profile scenario proves its fault happened and that what it
/// broke came back (the update's own checks judge the rest); without the
/// fault's record, the scenario proved nothing about it.
fn fault_injected(record: &ScenarioRecord) -> Option<Check> {
    let (name, point) = planned_fault(record)?;
    let seen = record.faults.iter().find(|f| f.fault == name);
    let (observed, verdict) = match seen {
        None => ("not injected".to_string(), Verdict::Fail),
        Some(f) => (
            format!(
                "{} ({}): {}; {}",
                f.action,
                f.point,
                f.evidence,
                match f.recovered_after_ms {
                    Some(ms) => format!("recovered after {:.1} s", ms as f64 / 1000.0),
                    None => "no recovery seen".into(),
                }
            ),
            Verdict::from_bool(f.recovered_after_ms.is_some()),
        ),
    };
    Some(check(
        record,
        "fault-injected",
        &format!("fault {name} injected and recovered from"),
        &[],
        format!("{name} {point}, then back"),
        observed,
        verdict,
    ))
}

/// The fault the record's plan names, and when; a recording made before
/// plans were recorded names it through the catalog.
fn planned_fault(record: &ScenarioRecord) -> Option<(String, String)> {
    match &record.plan {
        Some(plan) => Some((
            plan.fault.clone()?,
            plan.fault_point.clone().unwrap_or_default(),
        )),
        None => {
            let fault = crate::scenarios::catalog::find(&record.scenario)
                .ok()?
                .fault?;
            Some((
                fault.name().to_string(),
                fault.point().describe().to_string(),
            ))
        }
    }
}

fn check(
    record: &ScenarioRecord,
    id: &str,
    name: &str,
    claims: &[Claim],
    expected: impl Into<String>,
    observed: impl Into<String>,
    verdict: Verdict,
) -> Check {
    Check {
        scenario: record.scenario.clone(),
        id: id.into(),
        name: name.into(),
        claims: claims.to_vec(),
        expected: expected.into(),
        observed: observed.into(),
        verdict,
        races: Vec::new(),
    }
}

/// The claims the record's expectations carry (cells and dedicated checks).
fn record_claims(record: &ScenarioRecord) -> BTreeSet<Claim> {
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
fn carries_claims(record: &ScenarioRecord) -> bool {
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
fn stopped_early(record: &ScenarioRecord, error: &str) -> Check {
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
fn missing_expectations(record: &ScenarioRecord) -> Option<Check> {
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
fn row_checks(record: &ScenarioRecord) -> Vec<Check> {
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

fn row_check(
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
fn admission(record: &ScenarioRecord) -> Check {
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
fn update_count(record: &ScenarioRecord) -> Check {
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

fn opt(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or("?".into())
}

/// Kruise's own account of what it did ("the update really happened in
/// place", or recreated), and what it must not have done.
fn kruise_events(record: &ScenarioRecord) -> Vec<Check> {
    let mut missing = Vec::new();
    let mut forbidden = Vec::new();
    let mut wanted = BTreeSet::new();
    let mut banned = BTreeSet::new();
    let mut steps_wanting = 0;
    for step in &record.steps {
        let Some(e) = expectation(record, step) else {
            continue;
        };
        steps_wanting += usize::from(!e.events.is_empty());
        for reason in e.events {
            wanted.insert(*reason);
            if step.events_with_reason(reason).next().is_none() {
                missing.push(format!("#{} {reason}", step.index + 1));
            }
        }
        for reason in e.forbidden_events {
            banned.insert(*reason);
            if step.events_with_reason(reason).next().is_some() {
                forbidden.push(format!("#{} {reason}", step.index + 1));
            }
        }
    }
    let list = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
    let mut checks = Vec::new();
    if !wanted.is_empty() {
        checks.push(check(
            record,
            "premise.kruise-events",
            &format!("premise: events {}", list(&wanted)),
            &[],
            format!("{} recorded for each change that expects it", list(&wanted)),
            if missing.is_empty() {
                format!("seen for {steps_wanting} of {steps_wanting} change(s)")
            } else {
                format!("missing: {}", missing.join(", "))
            },
            Verdict::from_bool(missing.is_empty()),
        ));
    }
    if !banned.is_empty() {
        checks.push(check(
            record,
            "forbidden-events",
            "events that must not appear",
            &[],
            format!("none of {}", list(&banned)),
            if forbidden.is_empty() {
                "none".to_string()
            } else {
                forbidden.join(", ")
            },
            Verdict::from_bool(forbidden.is_empty()),
        ));
    }
    checks
}

/// After completion the pods are watched for a while: a late restart (the
/// kubelet and kruise-daemon both acting on one change, kruise#1239) must
/// show here and fail.
fn quiet_after_completion(record: &ScenarioRecord) -> Check {
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

/// A marker only means something if it sits where we think: each rootfs
/// one on its container's overlay root, the memory one on tmpfs, the disk
/// and PVC ones on non-tmpfs mounts of their own (a PVC in node memory
/// would prove nothing about persistence).
fn mount_premise(record: &ScenarioRecord) -> Check {
    let mut problems = Vec::new();
    for step in &record.steps {
        for pod in &step.pods {
            for written in &pod.written {
                if let Err(why) = mount_is_as_designed(written.location, &written.mount) {
                    problems.push(format!("#{} {}: {why}", step.index + 1, written.container));
                }
            }
        }
    }
    let claims: Vec<Claim> = if carries_claims(record) {
        vec![Claim::C2, Claim::C8, Claim::C9]
    } else {
        Vec::new()
    };
    let observed = if problems.is_empty() {
        "rootfs markers on / overlay, /data/mem tmpfs, /data/disk and /data/pvc own non-tmpfs mounts"
            .into()
    } else {
        problems.join("; ")
    };
    check(
        record,
        "premise.mounts",
        "premise: markers sit on the intended filesystems",
        &claims,
        "rootfs=overlay at /, mem=tmpfs, disk and pvc=non-tmpfs",
        observed,
        Verdict::from_bool(problems.is_empty()),
    )
}

pub fn mount_is_as_designed(
    location: MarkerLocation,
    mount: &crate::model::record::MountFacts,
) -> Result<(), String> {
    let wanted = location.expected_mount_point();
    if mount.mount_point != wanted {
        return Err(format!(
            "{} resolves to mount {} not {wanted}",
            location.path(),
            mount.mount_point
        ));
    }
    let fstype_ok = match location {
        MarkerLocation::RootFs => mount.fstype == "overlay",
        MarkerLocation::MemoryEmptyDir => mount.fstype == "tmpfs",
        MarkerLocation::DiskEmptyDir | MarkerLocation::Pvc => mount.fstype != "tmpfs",
    };
    if fstype_ok {
        Ok(())
    } else {
        Err(format!(
            "{} is on {} ({})",
            location.path(),
            mount.fstype,
            mount.mount_point
        ))
    }
}

/// With registry delivery every new image a pod took must have been pulled:
/// that is what the delivery path exists to show.
fn delivery_premise(record: &ScenarioRecord) -> Option<Check> {
    if !record.image_delivery.pulls() {
        return None;
    }
    let mut wanted = 0;
    let mut missing = Vec::new();
    for step in record
        .steps
        .iter()
        .filter(|s| s.updated_pods().next().is_some())
    {
        for image in step.change.images.values() {
            wanted += 1;
            let pulled = step
                .events_with_reason("Pulling")
                .chain(step.events_with_reason("Pulled"))
                .any(|e| e.message.contains(&format!("\"{}\"", image.reference)));
            if !pulled {
                missing.push(format!("#{} {}", step.index + 1, image.reference));
            }
        }
    }
    (wanted > 0).then(|| {
        check(
            record,
            "premise.images-pulled",
            "premise: kubelet pulled each new image",
            &[],
            "Pulling event naming the new image",
            if missing.is_empty() {
                format!("Pulling event for each of {wanted} new image(s)")
            } else {
                format!("no Pulling event for {}", missing.join(", "))
            },
            Verdict::from_bool(missing.is_empty()),
        )
    })
}

/// Labels and annotations the change set are on the pods it reached (every
/// pod for a direct pod patch, the updated ones for a template change).
fn metadata_applied(record: &ScenarioRecord) -> Option<Check> {
    let mut wanted = 0;
    let mut missing = Vec::new();
    for step in &record.steps {
        let direct = step.revision_before == step.revision_after
            && matches!(step.admission, Admission::Accepted)
            && step.expected_updated == 0;
        let pods: Vec<&PodStep> = if direct {
            step.pods.iter().collect()
        } else {
            step.updated_pods().collect()
        };
        for pod in pods {
            let sets = [
                (&step.change.labels, &pod.after.labels),
                (&step.change.annotations, &pod.after.annotations),
            ];
            for (set, on_pod) in sets {
                for (key, value) in set {
                    wanted += 1;
                    if on_pod.get(key) != Some(value) {
                        missing.push(format!("#{} {} {key}", step.index + 1, pod.after.name));
                    }
                }
            }
        }
    }
    (wanted > 0).then(|| {
        check(
            record,
            "metadata-applied",
            "the change's metadata is on the pod",
            &[],
            "every label and annotation the change set",
            if missing.is_empty() {
                format!("{wanted} key(s) present")
            } else {
                format!("missing {}", missing.join(", "))
            },
            Verdict::from_bool(missing.is_empty()),
        )
    })
}

/// The targeted containers see the env values the change set (env from
/// metadata: the kubelet re-resolves the downward API only when the
/// container is created, so the new value proves the rebuild).
fn env_seen(record: &ScenarioRecord) -> Option<Check> {
    let mut wanted = 0;
    let mut wrong = Vec::new();
    let mut seen = Vec::new();
    for step in &record.steps {
        for pod in step.updated_pods() {
            for name in &step.change.containers {
                let Some(container) = pod.after.container(name) else {
                    continue;
                };
                for (var, value) in &step.change.env {
                    wanted += 1;
                    let got = container.inside.env.get(var);
                    if got == Some(value) {
                        seen.push(format!("{name} {var}={}", short_token(value)));
                    } else {
                        wrong.push(format!(
                            "#{} {name} {var}={} (want {})",
                            step.index + 1,
                            got.map(String::as_str).unwrap_or("unset"),
                            short_token(value)
                        ));
                    }
                }
            }
        }
    }
    (wanted > 0).then(|| {
        check(
            record,
            "env-seen",
            "the rebuilt container sees the new env value",
            &[],
            "each env value the change set, read inside the container",
            if wrong.is_empty() {
                seen.join(", ")
            } else {
                wrong.join("; ")
            },
            Verdict::from_bool(wrong.is_empty()),
        )
    })
}

/// What the objects of a direct change report of themselves: every
/// request's phase must be `Completed` (a ContainerRecreateRequest), every
/// count line must agree (a SidecarSet's matched, updated, ready pods).
fn reported_done(record: &ScenarioRecord) -> Option<Check> {
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    for step in &record.steps {
        for (key, value) in &step.change.reports {
            seen.push(format!("#{} {key}: {value}", step.index + 1));
            let ok = if key.ends_with(" phase") {
                value == "Completed"
            } else if key.ends_with(" containers") {
                value.split(", ").all(|s| s.ends_with("=Succeeded"))
            } else {
                counts_agree(value)
            };
            if !ok {
                problems.push(key.clone());
            }
        }
    }
    (!seen.is_empty()).then(|| {
        check(
            record,
            "reported-done",
            "the change's own objects report completion",
            &[],
            "requests Completed, every container Succeeded; matched = updated = ready",
            seen.join("; "),
            Verdict::from_bool(problems.is_empty()),
        )
    })
}

/// A CPU limit change must reach the container's own cgroup: the quota the
/// container reads inside equals the new limit (and differed before).
fn cpu_limit_applied(record: &ScenarioRecord) -> Option<Check> {
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    for step in &record.steps {
        let Some(limit) = step.change.details.get("cpu limit") else {
            continue;
        };
        let wanted = crate::changes::pod_resize::millicores(limit);
        for pod in step.updated_pods() {
            for name in &step.change.containers {
                let Some((b, a)) = container_pair(pod, name) else {
                    continue;
                };
                let (before, after) = (
                    b.inside.cpu_limit_millicores(),
                    a.inside.cpu_limit_millicores(),
                );
                seen.push(format!(
                    "{name} cgroup cpu {}m -> {}m",
                    before.map(|v| v.to_string()).unwrap_or("?".into()),
                    after.map(|v| v.to_string()).unwrap_or("?".into())
                ));
                if after != wanted || before == wanted {
                    problems.push(name.clone());
                }
            }
        }
    }
    (!seen.is_empty()).then(|| {
        check(
            record,
            "cpu-limit-applied",
            "the new CPU limit is in the container's cgroup",
            &[],
            "cgroup CPU quota changes to the new limit",
            seen.join("; "),
            Verdict::from_bool(problems.is_empty()),
        )
    })
}

/// Fewer requests than this in a change's window means the client was not
/// really probing: the traffic checks would prove nothing.
pub const MIN_REQUESTS: usize = 20;

/// A Service in front of an in-place update (gracePeriodSeconds with the
/// InPlaceUpdateReady gate): no request may reach a stopping container or
/// fail; each updated pod leaves the endpoints before the kubelet is told
/// to stop its container (at least the grace period before), and rejoins
/// once its new container runs.
fn traffic_checks(record: &ScenarioRecord) -> Vec<Check> {
    let mut checks = Vec::new();
    for step in &record.steps {
        let Some(t) = &step.traffic else { continue };
        checks.push(requests_served(record, step, t));
        checks.push(left_before_stopping(record, step, t));
        checks.push(out_when_stopped(record, step, t));
        checks.push(rejoined_when_ready(record, step, t));
    }
    checks
}

fn requests_served(
    record: &ScenarioRecord,
    step: &UpdateStep,
    t: &crate::model::record::TrafficRecord,
) -> Check {
    let stopping = t.requests.iter().filter(|r| r.status == 503).count();
    let failed: Vec<&crate::model::record::ProbeResult> = t
        .requests
        .iter()
        .filter(|r| !r.served() && r.status != 503)
        .collect();
    let served = t.requests.iter().filter(|r| r.served()).count();
    let mut versions: Vec<&str> = Vec::new();
    for r in t.requests.iter().filter(|r| r.served()) {
        let version = r.body.split_whitespace().nth(1).unwrap_or("?");
        if versions.last() != Some(&version) {
            versions.push(version);
        }
    }
    let pass = t.requests.len() >= MIN_REQUESTS && stopping == 0 && failed.is_empty();
    let first_failure = failed
        .first()
        .map(|r| format!("; first failure at {}: {} {}", r.at, r.status, r.error))
        .unwrap_or_default();
    check(
        record,
        &step_id("graceful.no-stopping-request", step),
        &format!(
            "#{} no request reached a stopping container",
            step.index + 1
        ),
        &[],
        format!("at least {MIN_REQUESTS} requests, every one served, none 503 stopping"),
        format!(
            "{} requests through Service {}: {served} served (versions {}), {stopping} stopping, {} failed{first_failure}",
            t.requests.len(),
            t.service,
            versions.join(" -> "),
            failed.len()
        ),
        Verdict::from_bool(pass),
    )
}

fn parse_ts(text: &str) -> Option<k8s_openapi::jiff::Timestamp> {
    text.parse().ok()
}

/// How far apart two events of one watch stream may be delivered from when
/// they happened.
const WATCH_JITTER_S: f64 = 0.1;

/// For each updated pod: kruise changed the spec no earlier than
/// gracePeriodSeconds after the update's start as it records it
/// (`updateTimestamp` of the in-place update state, whole seconds), and the
/// pod was out of the EndpointSlice before the spec changed. Because the
/// start is stored in whole seconds, the hold measured from the moment the
/// InPlaceUpdateReady gate turned False can be up to a second shorter than
/// the grace period (9.1 s seen for 10 s); it is reported as a figure.
fn left_before_stopping(
    record: &ScenarioRecord,
    step: &UpdateStep,
    t: &crate::model::record::TrafficRecord,
) -> Check {
    let grace = t.grace_seconds.unwrap_or(0) as f64;
    let first = |list: &[crate::model::record::EndpointTransition], pod: &str, ready: bool| {
        list.iter()
            .find(|e| e.pod == pod && e.ready == ready)
            .and_then(|e| parse_ts(&e.at))
    };
    let mut seen = Vec::new();
    let mut problems = 0;
    for pod in step.updated_pods() {
        let name = pod.after.name.as_str();
        let recorded_start = pod
            .after
            .inplace_update_state
            .as_ref()
            .and_then(|s| s["updateTimestamp"].as_str())
            .and_then(parse_ts);
        let gate = first(&t.gate_changes, name, false);
        let left = first(&t.endpoints, name, false);
        let stop = t
            .spec_changes
            .iter()
            .find(|e| e.pod == name)
            .and_then(|e| parse_ts(&e.at));
        match (recorded_start, gate, left, stop) {
            (Some(start), Some(gate), Some(left), Some(stop)) => {
                let (after_start, held, lead) = (
                    seconds_between(start, stop),
                    seconds_between(gate, stop),
                    seconds_between(left, stop),
                );
                if after_start < grace - WATCH_JITTER_S || lead <= 0.0 {
                    problems += 1;
                }
                seen.push(format!(
                    "{name}: spec changed {after_start:.1}s after the recorded start \
                     ({start}), {held:.1}s after InPlaceUpdateReady turned False, \
                     {lead:.1}s after the pod left the endpoints"
                ));
            }
            (start, gate, left, stop) => {
                problems += 1;
                seen.push(format!(
                    "{name}: recorded start: {}, gate False seen: {}, left the endpoints: {}, \
                     spec changed: {}",
                    start.is_some(),
                    gate.is_some(),
                    left.is_some(),
                    stop.is_some()
                ));
            }
        }
    }
    per_pod_check(
        record,
        step,
        "graceful.left-before-stopping",
        "pod left the Service before its container stopped",
        format!(
            "spec changed at least {grace:.0}s (gracePeriodSeconds) after kruise's recorded \
             start; out of the EndpointSlice before that"
        ),
        seen,
        problems,
    )
}

/// When kruise changes the spec (and the kubelet stops the old container),
/// the updating pod is out of the EndpointSlice: its last transition before
/// that moment is an exit. A return during the grace period that ended
/// before it is the known race `STALE_READY_REPUBLISHED` (the kubelet
/// republishing a stale Ready): named with its sequence and the drain that
/// was left, not failed, so the verdict does not depend on the race.
fn out_when_stopped(
    record: &ScenarioRecord,
    step: &UpdateStep,
    t: &crate::model::record::TrafficRecord,
) -> Check {
    let mut seen = Vec::new();
    let mut problems = 0;
    let mut raced = false;
    for pod in step.updated_pods() {
        let name = pod.after.name.as_str();
        let stop_at = t
            .spec_changes
            .iter()
            .find(|e| e.pod == name)
            .map_or("", |e| e.at.as_str());
        let Some(stop) = parse_ts(stop_at) else {
            problems += 1;
            seen.push(format!("{name}: no spec change seen"));
            continue;
        };
        let before_stop: Vec<&crate::model::record::EndpointTransition> = t
            .endpoints
            .iter()
            .filter(|e| e.pod == name && parse_ts(&e.at).is_some_and(|at| at < stop))
            .collect();
        let first_exit = before_stop.iter().position(|e| !e.ready);
        let last = before_stop.last();
        let (Some(first_exit), Some(last)) = (first_exit, last) else {
            problems += 1;
            seen.push(format!(
                "{name}: never out of the EndpointSlice before its container was told to stop ({})",
                clock(stop_at)
            ));
            continue;
        };
        if last.ready {
            problems += 1;
            seen.push(format!(
                "{name}: in the EndpointSlice when its container was told to stop ({}): {}",
                clock(stop_at),
                endpoint_sequence(t, name)
            ));
            continue;
        }
        let drained = parse_ts(&last.at).map_or(0.0, |out| seconds_between(out, stop));
        if before_stop[first_exit..].iter().any(|e| e.ready) {
            raced = true;
            seen.push(format!(
                "{name}: out {drained:.1}s before its container was told to stop ({}), after \
                 going back in during the grace period (known race {}): {}",
                clock(stop_at),
                crate::scenarios::races::STALE_READY_REPUBLISHED.name,
                endpoint_sequence(t, name)
            ));
        } else {
            seen.push(format!(
                "{name}: out from {} on, {drained:.1}s before its container was told to stop",
                clock(&last.at)
            ));
        }
    }
    let judged = per_pod_check(
        record,
        step,
        "graceful.out-when-stopped",
        "pod was out of the Service when its container stopped",
        "its last EndpointSlice transition before the spec change is an exit",
        seen,
        problems,
    );
    if raced {
        judged.met(&crate::scenarios::races::STALE_READY_REPUBLISHED)
    } else {
        judged
    }
}

fn seconds_between(from: k8s_openapi::jiff::Timestamp, to: k8s_openapi::jiff::Timestamp) -> f64 {
    (to - from)
        .total(k8s_openapi::jiff::Unit::Millisecond)
        .unwrap_or(0.0)
        / 1000.0
}

fn rejoined_when_ready(
    record: &ScenarioRecord,
    step: &UpdateStep,
    t: &crate::model::record::TrafficRecord,
) -> Check {
    let mut seen = Vec::new();
    let mut problems = 0;
    for pod in step.updated_pods() {
        let name = &pod.after.name;
        // The final rejoin: a flap during the grace period (judged by
        // `out_when_stopped`) is not the rejoin.
        let left = t.endpoints.iter().rposition(|e| e.pod == *name && !e.ready);
        let back = left.and_then(|i| {
            t.endpoints[i..]
                .iter()
                .find(|e| e.pod == *name && e.ready)
                .and_then(|e| parse_ts(&e.at))
        });
        let started = step
            .change
            .containers
            .iter()
            .filter_map(|c| pod.after.container(c))
            .filter_map(|c| parse_time(&c.status.started_at))
            .max();
        match (back, started) {
            // startedAt has whole seconds: compare at that resolution.
            (Some(back), Some(started)) if back.as_second() >= started.as_second() => {
                seen.push(format!(
                    "{name}: back at {back}, new container started {started}"
                ));
            }
            (back, started) => {
                problems += 1;
                // The whole sequence tells a flap from a late or missing rejoin.
                seen.push(format!(
                    "{name}: back {}, new container started {}; in the EndpointSlice: {}",
                    back.map_or("never".into(), |b| b.to_string()),
                    started.map_or("never".into(), |s| s.to_string()),
                    endpoint_sequence(t, name)
                ));
            }
        }
    }
    per_pod_check(
        record,
        step,
        "graceful.rejoined-when-ready",
        "pod rejoined the Service once its new container ran",
        "ready again in the EndpointSlice, not before the new container started",
        seen,
        problems,
    )
}

/// A check over a step's updated pods: `seen` one line per pod, `problems`
/// how many failed; no updated pod at all fails it too.
fn per_pod_check(
    record: &ScenarioRecord,
    step: &UpdateStep,
    family: &str,
    name: &str,
    expected: impl Into<String>,
    mut seen: Vec<String>,
    problems: usize,
) -> Check {
    let none = seen.is_empty();
    if none {
        seen.push("no updated pod".into());
    }
    check(
        record,
        &step_id(family, step),
        &format!("#{} {name}", step.index + 1),
        &[],
        expected,
        seen.join("; "),
        Verdict::from_bool(problems == 0 && !none),
    )
}

/// A per-step check's id: the family, qualified by the step as the display
/// text numbers it (`graceful.out-when-stopped.step-1`).
fn step_id(family: &str, step: &UpdateStep) -> String {
    format!("{family}.step-{}", step.index + 1)
}

/// A pod's EndpointSlice transitions: "in 12:00:01.000, out 12:00:02.500".
fn endpoint_sequence(t: &crate::model::record::TrafficRecord, pod: &str) -> String {
    t.endpoints
        .iter()
        .filter(|e| e.pod == pod)
        .map(|e| format!("{} {}", if e.ready { "in" } else { "out" }, clock(&e.at)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The time of day of an RFC 3339 stamp, to the millisecond.
fn clock(at: &str) -> &str {
    let time = at.split_once('T').map_or(at, |(_, t)| t);
    time.get(..12).unwrap_or(time)
}

/// "matched 1, updated 1, ready 1": every number the same.
fn counts_agree(text: &str) -> bool {
    let numbers: Vec<&str> = text
        .split(", ")
        .filter_map(|part| part.rsplit(' ').next())
        .collect();
    !numbers.is_empty() && numbers.iter().all(|n| *n == numbers[0])
}

/// With container priorities (`KRUISE_CONTAINER_PRIORITY`), kruise updates
/// the higher one first and records each batch in the pod's in-place update
/// state; the new containers' start times follow that order.
fn priority_order(record: &ScenarioRecord) -> Option<Check> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for step in &record.steps {
        for pod in step.updated_pods() {
            let mut targets: Vec<(&String, i32)> = step
                .change
                .containers
                .iter()
                .filter_map(|c| Some((c, pod.after.container(c)?.priority?)))
                .collect();
            if targets.len() < 2 {
                continue;
            }
            targets.sort_by_key(|(_, p)| -p);
            let wanted: Vec<&str> = targets.iter().map(|(c, _)| c.as_str()).collect();
            let batches = recorded_batches(&pod.after);
            let started = start_order(&pod.after, &wanted);
            let batch_order: Vec<&str> = batches.iter().flatten().map(String::as_str).collect();
            rows.push(format!(
                "{}: priorities {}; batches {:?}; started {}",
                pod.after.name,
                targets
                    .iter()
                    .map(|(c, p)| format!("{c}={p}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                batches,
                started.join(" < ")
            ));
            let one_per_batch = batches.len() == wanted.len();
            if !one_per_batch || batch_order != wanted || started != wanted {
                problems.push(pod.after.name.clone());
            }
        }
    }
    (!rows.is_empty()).then(|| {
        check(
            record,
            "priority-order",
            "higher-priority container updated first",
            &[],
            "one batch per container in descending priority; new containers started in that order",
            rows.join("; "),
            Verdict::from_bool(problems.is_empty()),
        )
    })
}

/// `containerBatchesRecord` of the in-place update state, oldest first.
pub fn recorded_batches(pod: &PodSnapshot) -> Vec<Vec<String>> {
    let Some(state) = &pod.inplace_update_state else {
        return Vec::new();
    };
    let mut batches: Vec<(String, Vec<String>)> = state["containerBatchesRecord"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let at = b["timestamp"].as_str().unwrap_or("").to_string();
            let names = b["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect();
            (at, names)
        })
        .collect();
    batches.sort_by_key(|(at, _)| crate::time_key(at));
    batches.into_iter().map(|(_, names)| names).collect()
}

/// The containers ordered by their (new) startedAt.
fn start_order<'a>(pod: &PodSnapshot, names: &[&'a str]) -> Vec<&'a str> {
    let mut timed: Vec<(Option<k8s_openapi::jiff::Timestamp>, &'a str)> = names
        .iter()
        .map(|n| {
            let at = pod
                .container(n)
                .and_then(|c| parse_time(&c.status.started_at));
            (at, *n)
        })
        .collect();
    timed.sort();
    timed.into_iter().map(|(_, n)| n).collect()
}

/// Containers expected to be rebuilt in place, per step and pod.
fn rebuilt_in_place(record: &ScenarioRecord) -> Vec<(&UpdateStep, &PodStep, String)> {
    let mut out = Vec::new();
    for step in &record.steps {
        let Some(e) = expectation(record, step) else {
            continue;
        };
        for pod in step.updated_pods() {
            for cell in e
                .updated
                .iter()
                .filter(|c| c.row == Row::ContainerRebuild && c.outcome == Outcome::RebuiltInPod)
            {
                for c in containers_in_scope(step, pod, cell.scope)
                    .into_iter()
                    .flatten()
                {
                    out.push((step, pod, c));
                }
            }
        }
    }
    out
}

fn seed_claims(record: &ScenarioRecord, claims: &[Claim]) -> Vec<Claim> {
    if carries_claims(record) {
        claims.to_vec()
    } else {
        Vec::new()
    }
}

/// C1: old container terminated, a new one started later, with a new ID.
/// The termination's evidence is lastState.terminated naming the old
/// container; when the kubelet has already removed that dead container (it
/// does, seen with three updates 14 s apart: both earlier containers
/// removed as the third started, and no lastState reported), its own
/// `Killing` event for the container during the step stands in, and the
/// check says so.
fn rebuild_lifecycle(record: &ScenarioRecord) -> Option<Check> {
    let rebuilt = rebuilt_in_place(record);
    if rebuilt.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    let mut by_event = Vec::new();
    for (s, p, c) in &rebuilt {
        match lifecycle_problem(s, p, c) {
            Some(why) => problems.push(format!("#{} {c}: {why}", s.index + 1)),
            None if container_pair(p, c)
                .is_some_and(|(_, a)| a.status.last_terminated.is_none()) =>
            {
                by_event.push(format!("#{} {c}", s.index + 1))
            }
            None => {}
        }
    }
    let observed = if !problems.is_empty() {
        problems.join("; ")
    } else if by_event.is_empty() {
        "new containerID, lastState.terminated = old container, startedAt moved".into()
    } else {
        format!(
            "new containerID, startedAt moved; old container terminated per lastState.terminated, \
             or per the kubelet's Killing event where it reported no lastState ({})",
            by_event.join(", ")
        )
    };
    let lifecycle = check(
        record,
        "rebuild-lifecycle",
        "old container terminated, new one created",
        &seed_claims(record, &[Claim::C1]),
        "containerID changes; lastState.terminated set (or the kubelet's Killing event for \
         it); startedAt moves",
        observed,
        Verdict::from_bool(problems.is_empty()),
    );
    Some(if by_event.is_empty() {
        lifecycle
    } else {
        lifecycle.met(&crate::scenarios::races::DEAD_CONTAINER_REMOVED)
    })
}

fn lifecycle_problem(step: &UpdateStep, pod: &PodStep, name: &str) -> Option<String> {
    let Some((b, a)) = container_pair(pod, name) else {
        return Some("container missing".into());
    };
    let (b, a) = (&b.status, &a.status);
    if b.container_id == a.container_id {
        return Some("containerID unchanged".into());
    }
    match &a.last_terminated {
        Some(last) if last.container_id.is_some() && last.container_id != b.container_id => {
            return Some("lastState.terminated names another container".into());
        }
        Some(_) => {}
        None if killed_in_step(step, &pod.after.name, name) => {}
        None => return Some("no lastState.terminated and no Killing event for it".into()),
    }
    match (parse_time(&b.started_at), parse_time(&a.started_at)) {
        (Some(before), Some(after)) if after > before => None,
        _ => Some(format!(
            "startedAt {:?} -> {:?} did not move forward",
            b.started_at, a.started_at
        )),
    }
}

/// The kubelet's `Killing` event for `container` of `pod` among the step's.
fn killed_in_step(step: &UpdateStep, pod: &str, container: &str) -> bool {
    let says = format!("Container {container} ");
    step.events.iter().any(|e| {
        e.reason == "Killing"
            && e.object_kind == "Pod"
            && e.object_name == pod
            && e.message.starts_with(&says)
    })
}

fn parse_time(value: &Option<String>) -> Option<k8s_openapi::jiff::Timestamp> {
    value.as_deref().and_then(|v| v.parse().ok())
}

/// C3: a container rebuilt for a new image runs it: imageID changes and the
/// version file baked into the image says the new version.
fn new_image(record: &ScenarioRecord) -> Option<Check> {
    let with_image: Vec<_> = rebuilt_in_place(record)
        .into_iter()
        .filter(|(s, _, c)| s.change.images.contains_key(c))
        .collect();
    if with_image.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    let mut versions = Vec::new();
    for (step, pod, name) in &with_image {
        let Some((b, a)) = container_pair(pod, name) else {
            continue;
        };
        let want = &step.change.images[name].content_version;
        let id_changed = b.status.image_id != a.status.image_id;
        let version = a.inside.image_version.trim();
        versions.push(format!(
            "{name} {} -> {version}",
            b.inside.image_version.trim()
        ));
        if !id_changed || version != want {
            problems.push(format!(
                "#{} {name}: imageID changed={id_changed}, image-version {version:?} (want {want:?})",
                step.index + 1
            ));
        }
    }
    Some(check(
        record,
        "new-image",
        "new container built from the new image",
        &seed_claims(record, &[Claim::C3]),
        "imageID changes; image-version file is the new one",
        if problems.is_empty() {
            format!(
                "imageID changed each time; image-version {}",
                versions.join(", ")
            )
        } else {
            problems.join("; ")
        },
        Verdict::from_bool(problems.is_empty()),
    ))
}

/// C7: the rebuilt container's cgroup is new. Under a private cgroup
/// namespace the path reads `0::/` both times, so the cgroup directory
/// inode decides.
fn cgroup_renewed(record: &ScenarioRecord) -> Option<Check> {
    let rebuilt = rebuilt_in_place(record);
    let (step, pod, name) = rebuilt.first()?;
    let unchanged: Vec<String> = rebuilt
        .iter()
        .filter(|(_, p, c)| {
            container_pair(p, c).is_none_or(|(b, a)| !cgroup_changed(&b.inside, &a.inside))
        })
        .map(|(s, _, c)| format!("#{} {c}", s.index + 1))
        .collect();
    let _ = step;
    let observed = match container_pair(pod, name) {
        Some((b, a)) if unchanged.is_empty() => format!(
            "{} -> {}",
            cgroup_summary(&b.inside),
            cgroup_summary(&a.inside)
        ),
        _ => format!("cgroup unchanged for {}", unchanged.join(", ")),
    };
    Some(check(
        record,
        "cgroup-renewed",
        "container cgroup re-initialised",
        &seed_claims(record, &[Claim::C7]),
        "cgroup path or cgroup inode changes",
        observed,
        Verdict::from_bool(unchanged.is_empty()),
    ))
}

/// The container's own cgroup in a few characters: the last component of
/// the unified (or first) hierarchy's path, long IDs cut to 12 hex digits;
/// under a private cgroup namespace (`0::/`) the cgroup directory inode.
pub fn cgroup_summary(view: &crate::model::record::InsideView) -> String {
    let lines: Vec<&str> = view.cgroup.lines().collect();
    let line = lines
        .iter()
        .find(|l| l.starts_with("0::"))
        .or(lines.first())
        .copied()
        .unwrap_or("");
    let path = line.splitn(3, ':').nth(2).unwrap_or("");
    if path == "/" || path.is_empty() {
        return format!("namespaced cgroup, inode {}", view.cgroup_inode);
    }
    shorten_hex(path.rsplit('/').next().unwrap_or(path))
}

/// Cuts every run of more than 12 hex digits to its first 12.
fn shorten_hex(text: &str) -> String {
    let mut out = String::new();
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run <= 12 {
            out.push(c);
        }
    }
    out
}

pub fn cgroup_changed(
    before: &crate::model::record::InsideView,
    after: &crate::model::record::InsideView,
) -> bool {
    let path_is_informative = before.cgroup.trim() != "0::/";
    if path_is_informative && before.cgroup != after.cgroup {
        return true;
    }
    before.cgroup_inode != after.cgroup_inode
}

/// C11 (and C4 cumulatively): N in-place updates of one container in one
/// pod -> restartCount +N and N+1 distinct containerIDs.
fn successive_restarts(record: &ScenarioRecord) -> Option<Check> {
    let rebuilt = rebuilt_in_place(record);
    let n = record.steps.len();
    if n < 2 || rebuilt.len() != n {
        return None;
    }
    let (_, first_pod, name) = &rebuilt[0];
    let count = |s: &PodSnapshot| s.container(name).map(|c| c.status.restart_count);
    let first = count(&first_pod.before)?;
    let last = count(&rebuilt[n - 1].1.after)?;
    let mut ids: BTreeSet<Option<String>> = BTreeSet::new();
    ids.insert(
        first_pod
            .before
            .container(name)?
            .status
            .container_id
            .clone(),
    );
    for (_, pod, _) in &rebuilt {
        ids.insert(pod.after.container(name)?.status.container_id.clone());
    }
    let pass = last - first == n as i32 && ids.len() == n + 1;
    Some(check(
        record,
        "successive-restarts",
        "restartCount equals number of updates",
        &seed_claims(record, &[Claim::C11, Claim::C4]),
        format!(
            "restartCount {first} -> {} and {} distinct containerIDs",
            first + n as i32,
            n + 1
        ),
        format!(
            "restartCount {first} -> {last}, {} distinct containerIDs",
            ids.len()
        ),
        Verdict::from_bool(pass),
    ))
}

/// C12 judged on the synced small writes, memory vs disk (the sharper
/// signal: tmpfs has nothing to sync); the large-file MB/s ratio, which a
/// host's write cache keeps close to 1, is shown beside it. Only a gross
/// inversion (memory below half the disk) fails; recordings made before the
/// synced writes were measured are judged on the large-file ratio.
fn throughput(record: &ScenarioRecord) -> Option<Check> {
    let t = record.throughput.as_ref()?;
    let large = ratio(t.memory_mb_per_s(), t.disk_mb_per_s());
    let synced = ratio(t.memory_synced_writes(), t.disk_synced_writes());
    let judged = if t.disk_synced_writes_per_s.is_empty() {
        large
    } else {
        synced
    };
    let verdict = if judged >= expect::THROUGHPUT_FASTER_RATIO {
        Verdict::Pass
    } else if judged >= expect::THROUGHPUT_SANITY_RATIO {
        Verdict::Inconclusive
    } else {
        Verdict::Fail
    };
    let mounts_ok = mount_is_as_designed(MarkerLocation::MemoryEmptyDir, &t.memory_mount).is_ok()
        && mount_is_as_designed(MarkerLocation::DiskEmptyDir, &t.disk_mount).is_ok();
    let verdict = if mounts_ok { verdict } else { Verdict::Fail };
    Some(check(
        record,
        "throughput",
        "memory emptyDir write throughput vs disk emptyDir",
        &[Claim::C12],
        format!(
            "synced {}-byte writes, memory/disk >= {} (fails below {})",
            t.synced_write_bytes,
            expect::THROUGHPUT_FASTER_RATIO,
            expect::THROUGHPUT_SANITY_RATIO
        ),
        format!(
            "synced writes {:.0}/s vs {:.0}/s (ratio {synced:.1}); {} MiB files {:.1} vs {:.1} MB/s \
             (ratio {large:.2}); mounts {}/{}",
            t.memory_synced_writes(),
            t.disk_synced_writes(),
            t.file_bytes / (1024 * 1024),
            t.memory_mb_per_s(),
            t.disk_mb_per_s(),
            t.memory_mount.fstype,
            t.disk_mount.fstype
        ),
        verdict,
    ))
}

fn ratio(memory: f64, disk: f64) -> f64 {
    if disk > 0.0 {
        memory / disk
    } else {
        f64::INFINITY
    }
}

/// Suite invariant copied from kruise's e2e: its components do not restart
/// during a scenario, matched by pod and container between the scenario's
/// start and end. Restarts the cluster had before the scenario do not fail
/// it (a long-lived cluster keeps them for good) but are named. A component
/// pod replaced during the scenario fails it too, unless the scenario's own
/// fault killed it (its record names the pod) and the new pod has the same
/// owner. Without a start record, every restart counts.
fn kruise_components_stable(record: &ScenarioRecord) -> Check {
    use crate::model::record::ComponentRestarts;
    let (start, end) = (
        &record.kruise_components_at_start,
        &record.kruise_components,
    );
    let name = |c: &ComponentRestarts| format!("{}/{}", c.pod, c.container);
    let same =
        |a: &ComponentRestarts, b: &ComponentRestarts| a.pod == b.pod && a.container == b.container;
    // The pod's owner: its name without the random suffix.
    let owner = |pod: &str| {
        pod.rsplit_once('-')
            .map_or(pod, |(base, _)| base)
            .to_string()
    };
    let gone: Vec<&ComponentRestarts> = start
        .iter()
        .filter(|s| !end.iter().any(|c| same(s, c)))
        .collect();
    let killed: Vec<&ComponentRestarts> = gone
        .iter()
        .copied()
        .filter(|s| {
            record
                .faults
                .iter()
                .any(|f| f.action.split([' ', ',']).any(|w| w == s.pod))
        })
        .collect();
    let mut during = Vec::new();
    let mut earlier = Vec::new();
    let mut replaced = Vec::new();
    for c in end {
        if start.is_empty() {
            if c.restart_count != 0 {
                during.push(format!("{}={}", name(c), c.restart_count));
            }
            continue;
        }
        match start.iter().find(|s| same(s, c)) {
            Some(s) => {
                if s.restart_count != 0 {
                    earlier.push(format!("{}={}", name(s), s.restart_count));
                }
                if c.restart_count != s.restart_count {
                    during.push(format!(
                        "{} {} -> {} during the scenario",
                        name(c),
                        s.restart_count,
                        c.restart_count
                    ));
                }
            }
            None if killed.iter().any(|k| owner(&k.pod) == owner(&c.pod)) => {
                replaced.push(name(c));
                if c.restart_count != 0 {
                    during.push(format!(
                        "{}={} (replacement of a pod the fault killed)",
                        name(c),
                        c.restart_count
                    ));
                }
            }
            None => during.push(format!(
                "{}={} new during the scenario (a component pod replaced)",
                name(c),
                c.restart_count
            )),
        }
    }
    for s in &gone {
        if s.restart_count != 0 {
            earlier.push(format!("{}={}", name(s), s.restart_count));
        }
        if !killed.iter().any(|k| same(k, s)) {
            during.push(format!("{} gone during the scenario", name(s)));
        }
    }
    let verdict = Verdict::from_bool(!end.is_empty() && during.is_empty());
    let mut observed = if end.is_empty() {
        "no kruise-system pods recorded".to_string()
    } else if !during.is_empty() {
        during.join(", ")
    } else if start.is_empty() {
        format!(
            "{} container(s), all 0 (no record at scenario start)",
            end.len()
        )
    } else {
        format!("{} container(s), 0 restarts during the scenario", end.len())
    };
    if !replaced.is_empty() {
        observed.push_str(&format!(
            "; replaced after the injected fault: {}",
            replaced.join(", ")
        ));
    }
    if !earlier.is_empty() {
        observed.push_str(&format!("; earlier restarts: {}", earlier.join(", ")));
    }
    check(
        record,
        "kruise-components-stable",
        "invariant: kruise-manager and kruise-daemon restartCount 0",
        &[],
        "0 restarts during the scenario",
        observed,
        verdict,
    )
}

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

fn judge_claim(claim: Claim, checks: &[Check], run: &BTreeSet<&str>) -> ClaimVerdict {
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

pub fn roll_up(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    let all: Vec<Verdict> = verdicts.collect();
    if all.contains(&Verdict::Fail) {
        Verdict::Fail
    } else if all.iter().all(|v| *v == Verdict::Pass) {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    }
}

/// Checks that failed; a scenario run fails when this is non-empty.
pub fn failures(checks: &[Check]) -> Vec<&Check> {
    checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::samples::{self, fixture};

    /// The recording with kruise's components reported healthy, so a test
    /// sees only the failure it provokes.
    fn healthy(mut record: ScenarioRecord) -> ScenarioRecord {
        for c in record
            .kruise_components
            .iter_mut()
            .chain(record.kruise_components_at_start.iter_mut())
        {
            c.restart_count = 0;
        }
        record
    }

    fn failed_ids(record: &ScenarioRecord) -> Vec<String> {
        failures(&scenario_checks(record))
            .iter()
            .map(|c| c.id.clone())
            .collect()
    }

    fn failing_rows(cells: &[CellVerdict]) -> Vec<Row> {
        let mut rows: Vec<Row> = cells
            .iter()
            .filter(|c| c.verdict == Verdict::Fail)
            .map(|c| c.row)
            .collect();
        rows.dedup();
        rows
    }

    fn table(workload: &str, strategy: &str, change: &str) -> &'static Expectation {
        expect::lookup(workload, strategy, change).unwrap()
    }

    /// Every shipped recording passes every one of its own checks.
    #[test]
    fn every_recording_passes_its_own_expectations() {
        for name in [
            "inplace-image",
            "inplace-successive",
            "cloneset-recreate",
            "deployment-rolling",
            "emptydir-throughput",
            "metadata-only",
            "env-from-metadata",
            "image-and-env",
            "fallback-recreate",
            "inplace-only-refused",
            "sidecar-image",
            "container-priority",
            "partition",
            "asts-inplace",
            "asts-recreate",
            "ads-inplace",
            "container-recreate",
            "sidecarset-upgrade",
            "pod-resize",
            "pod-resize-restart",
            "workload-resize",
            "graceful-inplace",
        ] {
            let record = healthy(fixture(&format!("{name}.json")));
            let failed = failed_ids(&record);
            assert!(failed.is_empty(), "{name}: {failed:?}");
        }
    }

    /// Required self-check: recorded ReCreate observations must fail the
    /// in-place expectations, and the failure must name the rows.
    #[test]
    fn recreate_observations_fail_in_place_expectations() {
        let recreate = samples::recreate();
        let cells = judge_cells_against(&recreate, table("CloneSet", "InPlaceIfPossible", "image"));
        assert_eq!(
            failing_rows(&cells),
            vec![
                Row::PodIdentity,
                Row::ContainerRebuild,
                Row::EmptyDir,
                Row::MemoryEmptyDir,
                Row::Pvc,
                Row::NetworkIdentity,
                Row::RestartCount,
                Row::Scheduling,
            ],
            "root fs is lost under both strategies, every other row must fail"
        );
    }

    /// A metadata-only change must restart nothing: the recording of an
    /// image change (a restart) fails exactly the container rows.
    #[test]
    fn a_restart_fails_the_metadata_only_expectations() {
        let image = samples::in_place();
        let cells = judge_cells_against(&image, table("CloneSet", "InPlaceIfPossible", "metadata"));
        assert_eq!(
            failing_rows(&cells),
            vec![Row::ContainerRebuild, Row::RootFs, Row::RestartCount]
        );
    }

    /// Env from metadata rebuilds in place: the recording of the fallback
    /// (a new pod) fails it on every row but the root fs.
    #[test]
    fn a_recreate_fails_the_env_from_metadata_expectations() {
        let fallback = fixture("fallback-recreate.json");
        let cells = judge_cells_against(
            &fallback,
            table("CloneSet", "InPlaceIfPossible", "env-from-metadata"),
        );
        let rows = failing_rows(&cells);
        assert!(!rows.contains(&Row::RootFs));
        assert_eq!(rows.len(), 8, "{rows:?}");
    }

    /// The fallback must be a recreate: the in-place recording fails it.
    #[test]
    fn an_in_place_update_fails_the_fallback_expectations() {
        let cells = judge_cells_against(
            &samples::in_place(),
            table("CloneSet", "InPlaceIfPossible", "env-value"),
        );
        assert!(failing_rows(&cells).contains(&Row::PodIdentity));
        assert!(failing_rows(&cells).contains(&Row::Pvc));
    }

    /// InPlaceOnly must refuse: the recording of an accepted env change
    /// (the fallback run) relabelled InPlaceOnly fails the answer, the pod
    /// rows and the update count.
    #[test]
    fn an_accepted_change_fails_the_in_place_only_expectations() {
        let mut record = healthy(fixture("fallback-recreate.json"));
        record.workload.strategy = "InPlaceOnly".into();
        let failed = failed_ids(&record);
        assert!(failed.contains(&"admission".to_string()));
        assert!(failed.contains(&"row.pod-identity".to_string()));
        assert!(failed.contains(&"forbidden-events".to_string()));
    }

    /// And a refusal is what the other expectations cannot accept.
    #[test]
    fn a_refusal_fails_the_fallback_expectations() {
        let mut record = healthy(fixture("inplace-only-refused.json"));
        record.workload.strategy = "InPlaceIfPossible".into();
        let failed = failed_ids(&record);
        assert!(failed.contains(&"admission".to_string()));
        assert!(
            failed.contains(&"premise.kruise-events".to_string()),
            "{failed:?}"
        );
    }

    /// One restart for image + env, not two (kruise#1239).
    #[test]
    fn a_second_restart_fails_image_and_env() {
        let mut record = healthy(fixture("image-and-env.json"));
        let pod = &mut record.steps[0].pods[0];
        pod.after.containers[0].status.restart_count += 1;
        record.steps[0].quiet.as_mut().unwrap().changes =
            vec!["app-x/app: restartCount 1 -> 2".into()];
        let failed = failed_ids(&record);
        assert!(
            failed.contains(&"row.restart-count".to_string()),
            "{failed:?}"
        );
        assert!(failed.contains(&"quiet-after-completion".to_string()));
    }

    #[test]
    fn the_sidecar_change_leaves_the_app_container_alone() {
        let record = fixture("sidecar-image.json");
        let cells = judge_cells(&record);
        let app_rootfs = cells
            .iter()
            .find(|c| c.row == Row::RootFs && c.container.as_deref() == Some("app"))
            .unwrap();
        assert_eq!(app_rootfs.scope, Scope::Unchanged);
        assert_eq!(app_rootfs.observed, Outcome::Kept);
        // Judged as if the app had been targeted, its kept rootfs fails.
        let mut targeted = record.clone();
        targeted.steps[0].change.containers.push("app".into());
        let failed = failed_ids(&healthy(targeted));
        assert!(failed.contains(&"row.root-fs".to_string()), "{failed:?}");
    }

    /// Same name is not same pod: the Advanced StatefulSet recreate keeps
    /// the name and the claim, and fails the in-place expectations.
    #[test]
    fn a_stateful_recreate_keeps_the_name_but_not_the_pod() {
        let record = fixture("asts-recreate.json");
        let pod = &record.steps[0].pods[0];
        assert_eq!(pod.before.name, pod.after.name);
        assert_ne!(pod.before.uid, pod.after.uid);
        let cells = judge_cells_against(
            &record,
            table("Advanced StatefulSet", "InPlaceIfPossible", "image"),
        );
        let rows = failing_rows(&cells);
        assert!(rows.contains(&Row::PodIdentity), "{rows:?}");
        assert!(!rows.contains(&Row::Pvc), "the claim is kept either way");
    }

    /// A resize that restarted the container fails the NotRequired
    /// expectations, and a limit that did not reach the cgroup fails too.
    #[test]
    fn a_restart_or_a_missing_limit_fails_the_pod_resize() {
        let restart = fixture("pod-resize-restart.json");
        let cells = judge_cells_against(
            &restart,
            table("CloneSet", "InPlaceIfPossible", "pod-resize"),
        );
        assert_eq!(
            failing_rows(&cells),
            vec![Row::ContainerRebuild, Row::RootFs, Row::RestartCount]
        );
        let mut record = healthy(fixture("pod-resize.json"));
        let app = &mut record.steps[0].pods[0].after.containers[0];
        app.inside.cpu_quota = "20000 100000".into();
        assert_eq!(failed_ids(&record), vec!["cpu-limit-applied"]);
    }

    #[test]
    fn a_failed_request_fails_the_container_recreate_request() {
        let mut record = healthy(fixture("container-recreate.json"));
        for value in record.steps[0].change.reports.values_mut() {
            if value == "Completed" {
                *value = "Failed".into();
            }
        }
        assert_eq!(failed_ids(&record), vec!["reported-done"]);
    }

    #[test]
    fn the_sidecar_upgrade_leaves_the_app_alone() {
        let record = fixture("sidecarset-upgrade.json");
        let step = &record.steps[0];
        assert_eq!(step.change.containers, vec!["sidecar"]);
        let pod = &step.pods[0];
        let id = |s: &PodSnapshot, c: &str| s.container(c).unwrap().status.container_id.clone();
        assert_eq!(id(&pod.before, "app"), id(&pod.after, "app"));
        assert_ne!(id(&pod.before, "sidecar"), id(&pod.after, "sidecar"));
    }

    /// A request answered 503 "stopping", a refused connection, a grace
    /// shorter than asked, and a client that stopped probing each fail.
    #[test]
    fn traffic_to_a_stopping_container_fails_the_graceful_checks() {
        let record = healthy(fixture("graceful-inplace.json"));
        let mut stopping = record.clone();
        let t = stopping.steps[0].traffic.as_mut().unwrap();
        t.requests[5].status = 503;
        t.requests[5].body = "stopping v1 app-x".into();
        assert_eq!(
            failed_ids(&stopping),
            vec!["graceful.no-stopping-request.step-1"]
        );
        let mut refused = record.clone();
        let t = refused.steps[0].traffic.as_mut().unwrap();
        t.requests[7].status = 0;
        t.requests[7].body.clear();
        t.requests[7].error = "connect: connection refused".into();
        assert_eq!(
            failed_ids(&refused),
            vec!["graceful.no-stopping-request.step-1"]
        );
        let mut longer = record.clone();
        longer.steps[0].traffic.as_mut().unwrap().grace_seconds = Some(11);
        assert_eq!(
            failed_ids(&longer),
            vec!["graceful.left-before-stopping.step-1"]
        );
        let mut silent = record.clone();
        let t = silent.steps[0].traffic.as_mut().unwrap();
        t.requests.truncate(MIN_REQUESTS - 1);
        assert_eq!(
            failed_ids(&silent),
            vec!["graceful.no-stopping-request.step-1"]
        );
    }

    /// Only expectations marked as the seed's evidence lend their claims:
    /// a daemon rebuild, a ContainerRecreateRequest or an Advanced
    /// StatefulSet prove the same rows without claiming the seed's words.
    #[test]
    fn scenarios_outside_the_seed_claim_nothing() {
        for name in [
            "env-from-metadata",
            "container-recreate",
            "asts-inplace",
            "pod-resize-restart",
        ] {
            let checks = scenario_checks(&fixture(&format!("{name}.json")));
            let claiming: Vec<&str> = checks
                .iter()
                .filter(|c| !c.claims.is_empty())
                .map(|c| c.name.as_str())
                .collect();
            assert!(claiming.is_empty(), "{name}: {claiming:?}");
        }
        let image = scenario_checks(&samples::in_place());
        assert!(image.iter().any(|c| c.claims.contains(&Claim::C1)));
    }

    #[test]
    fn swapped_priorities_fail_the_order() {
        let mut record = healthy(fixture("container-priority.json"));
        for c in &mut record.steps[0].pods[0].after.containers {
            c.priority = c.priority.map(|p| 11 - p);
        }
        assert_eq!(failed_ids(&record), vec!["priority-order"]);
        let batches = recorded_batches(&fixture("container-priority.json").steps[0].pods[0].after);
        assert_eq!(batches, vec![vec!["app"], vec!["side"]]);
    }

    #[test]
    fn the_partition_holds_two_pods_back() {
        let record = healthy(fixture("partition.json"));
        let step = &record.steps[0];
        assert_eq!(step.pods.len(), 3);
        assert_eq!(step.updated_pods().count(), 1);
        let mut wrong = record.clone();
        wrong.steps[0].expected_updated = 3;
        assert_eq!(failed_ids(&wrong), vec!["update-count"]);
        // An untouched pod that restarted fails the untouched rows.
        let mut restarted = record.clone();
        let held = restarted.steps[0]
            .pods
            .iter_mut()
            .find(|p| !p.updated)
            .unwrap();
        held.after.containers[0].status.restart_count += 1;
        let failed = failed_ids(&restarted);
        assert!(
            failed.contains(&"row.restart-count.untouched".to_string()),
            "{failed:?}"
        );
    }

    #[test]
    fn a_stale_env_value_fails_the_env_check() {
        let mut record = healthy(fixture("env-from-metadata.json"));
        let env = &mut record.steps[0].pods[0].after.containers[0].inside.env;
        env.insert("IPC_FROM_ANNOTATION".into(), "initial".into());
        assert_eq!(failed_ids(&record), vec!["env-seen"]);
    }

    #[test]
    fn missing_pull_event_fails_the_delivery_premise() {
        let mut record = healthy(samples::in_place());
        for step in &mut record.steps {
            step.events
                .retain(|e| e.reason != "Pulling" && e.reason != "Pulled");
        }
        assert_eq!(failed_ids(&record), vec!["premise.images-pulled"]);
    }

    #[test]
    fn rootfs_marker_on_a_volume_fails_the_premise() {
        let mut record = healthy(samples::in_place());
        let written = &mut record.steps[0].pods[0].written;
        let rootfs = written
            .iter_mut()
            .find(|w| w.location == MarkerLocation::RootFs)
            .unwrap();
        rootfs.mount.mount_point = "/var/tmp".into();
        rootfs.mount.fstype = "ext4".into();
        assert_eq!(failed_ids(&record), vec!["premise.mounts"]);
    }

    #[test]
    fn an_unknown_change_type_is_a_failure_not_a_pass() {
        let mut record = healthy(samples::in_place());
        record.steps[0].change.kind = "resize".into();
        let failed = failed_ids(&record);
        assert!(
            failed.contains(&"expectation-exists".to_string()),
            "{failed:?}"
        );
    }

    #[test]
    fn cgroup_namespace_hides_path_so_inode_decides() {
        let pod = &samples::in_place().steps[0].pods[0];
        let mut after = pod.after.containers[0].inside.clone();
        after.cgroup = "0::/\n".into();
        after.cgroup_inode = "8247".into();
        let mut before = pod.before.containers[0].inside.clone();
        before.cgroup = "0::/\n".into();
        before.cgroup_inode = "8104".into();
        assert!(cgroup_changed(&before, &after));
        after.cgroup_inode = before.cgroup_inode.clone();
        assert!(!cgroup_changed(&before, &after));
    }

    #[test]
    fn cgroup_summaries_stay_short() {
        let mut view = samples::in_place().steps[0].pods[0].before.containers[0]
            .inside
            .clone();
        view.cgroup = "1:cpu:/kubelet.slice/x.slice/cri-containerd-26bb8cebb829ac257a21bb12916dc1a9ac1896dc34765e47d15331d408fb0e32.scope\n\
                       0::/kubelet.slice/x.slice/cri-containerd-26bb8cebb829ac257a21bb12916dc1a9ac1896dc34765e47d15331d408fb0e32.scope\n"
            .into();
        assert_eq!(cgroup_summary(&view), "cri-containerd-26bb8cebb829.scope");
        view.cgroup = "0::/\n".into();
        view.cgroup_inode = "8104".into();
        assert_eq!(cgroup_summary(&view), "namespaced cgroup, inode 8104");
    }

    #[test]
    fn a_reused_netns_inode_in_a_new_pod_is_not_kept() {
        let pod = &samples::in_place().steps[0].pods[0];
        let mut after = pod.before.clone();
        after.uid = "new".into();
        let (outcome, detail) = network_identity(&pod.before, &after);
        assert_eq!(outcome, Outcome::NotKept);
        assert!(detail.contains("netns inode number reused"), "{detail}");
        assert_eq!(network_identity(&pod.before, &pod.after).0, Outcome::Kept);
    }

    #[test]
    fn restart_count_outcomes() {
        let pod = &samples::in_place().steps[0].pods[0];
        let mut changed = pod.clone();
        assert_eq!(restart_count(&changed, "app").0, Outcome::OnePerUpdate);
        changed.after.containers[0].status.restart_count = 2;
        assert_eq!(restart_count(&changed, "app").0, Outcome::Inconsistent);
        changed.after.containers[0].status.restart_count = 0;
        assert_eq!(restart_count(&changed, "app").0, Outcome::NoRestart);
        changed.after.uid = "other".into();
        assert_eq!(restart_count(&changed, "app").0, Outcome::ZeroInNewPod);
    }

    #[test]
    fn steps_that_disagree_are_inconsistent_in_the_seed_view() {
        let mut record = samples::in_place();
        let mut second = record.steps[0].clone();
        second.index = 1;
        second.pods[0].after.uid = "replaced".into();
        record.steps.push(second);
        assert_eq!(
            seed_row_outcome(&record, Row::PodIdentity).1,
            Outcome::Inconsistent
        );
    }

    #[test]
    fn comparison_claims_need_a_standard_column() {
        let claims = judge_claims(&[samples::in_place()]);
        let verdict = |c: Claim| claims.iter().find(|v| v.claim == c).unwrap().verdict;
        assert_eq!(verdict(Claim::C10), Verdict::NotRun);
        let c13 = claims.iter().find(|v| v.claim == Claim::C13).unwrap();
        assert_eq!(
            c13.missing.as_deref(),
            Some("needs a run of Deployment RollingUpdate")
        );
        assert_eq!(verdict(Claim::C13), Verdict::NotRun);
        assert_eq!(verdict(Claim::C11), Verdict::NotRun, "needs successive run");
        assert_eq!(verdict(Claim::C12), Verdict::NotRun, "needs throughput run");
        assert_eq!(verdict(Claim::C2), Verdict::Pass);
        let with_recreate = judge_claims(&[samples::in_place(), samples::recreate()]);
        let c10 = with_recreate
            .iter()
            .find(|v| v.claim == Claim::C10)
            .unwrap();
        assert_eq!(c10.verdict, Verdict::Pass);
        assert_eq!(c10.scenarios, vec!["cloneset-recreate", "inplace-image"]);
    }

    fn invariant(record: &ScenarioRecord) -> Check {
        kruise_components_stable(record)
    }

    /// A long-lived cluster keeps its components' old restarts: they are
    /// named, and do not fail the scenario.
    #[test]
    fn kruise_restarts_before_the_scenario_pass() {
        let mut record = healthy(samples::in_place());
        record.kruise_components_at_start[0].restart_count = 1;
        record.kruise_components[0].restart_count = 1;
        let check = invariant(&record);
        assert_eq!(check.verdict, Verdict::Pass, "{}", check.observed);
        assert!(
            check
                .observed
                .starts_with("2 container(s), 0 restarts during the scenario; earlier restarts: "),
            "{}",
            check.observed
        );
        assert!(check.observed.ends_with("/manager=1"), "{}", check.observed);
    }

    #[test]
    fn kruise_restarts_say_when_they_happened() {
        let mut record = healthy(samples::in_place());
        record.kruise_components_at_start[0].restart_count = 6;
        record.kruise_components[0].restart_count = 6;
        record.kruise_components[1].restart_count = 1;
        let checks = scenario_checks(&record);
        let invariant = failures(&checks)
            .into_iter()
            .find(|c| c.id == "kruise-components-stable")
            .unwrap();
        assert!(
            invariant
                .observed
                .contains("/daemon 0 -> 1 during the scenario; earlier restarts: "),
            "{}",
            invariant.observed
        );
        assert!(invariant.observed.ends_with("/manager=6"));
    }

    /// A component pod replaced during the scenario is a change, unless the
    /// scenario's fault killed it.
    #[test]
    fn a_replaced_kruise_pod_fails_unless_the_fault_killed_it() {
        let mut record = healthy(fixture("fault-manager-killed.json"));
        assert_eq!(invariant(&record).verdict, Verdict::Pass);
        assert!(invariant(&record).observed.contains(
            "; replaced after the injected fault: kruise-controller-manager-74c6f8cfc9-pf25p/manager"
        ));
        record.faults.clear();
        let check = invariant(&record);
        assert_eq!(check.verdict, Verdict::Fail);
        assert!(
            check
                .observed
                .contains("-pf25p/manager=0 new during the scenario")
        );
        assert!(
            check
                .observed
                .contains("-dx8b4/manager gone during the scenario")
        );
        let mut daemon = healthy(samples::in_place());
        daemon.kruise_components[1].pod.push('x');
        assert_eq!(invariant(&daemon).verdict, Verdict::Fail);
    }

    /// Without a start record (the API did not answer), every restart
    /// counts, as it always did.
    #[test]
    fn without_a_start_record_every_restart_counts() {
        let mut record = healthy(samples::in_place());
        record.kruise_components_at_start.clear();
        let check = invariant(&record);
        assert_eq!(check.verdict, Verdict::Pass);
        assert_eq!(
            check.observed,
            "2 container(s), all 0 (no record at scenario start)"
        );
        record.kruise_components[0].restart_count = 1;
        let check = invariant(&record);
        assert_eq!(check.verdict, Verdict::Fail);
        assert!(check.observed.ends_with("/manager=1"), "{}", check.observed);
        record.kruise_components.clear();
        assert_eq!(invariant(&record).verdict, Verdict::Fail);
    }

    #[test]
    fn a_scenario_that_stopped_early_fails_its_claims() {
        let mut record = healthy(samples::in_place());
        record.error = Some("timed out waiting for CloneSet app".into());
        record.steps.truncate(1);
        let failed = failed_ids(&record);
        assert_eq!(failed, vec!["completed"]);
        let claims = judge_claims(&[record]);
        let c2 = claims.iter().find(|v| v.claim == Claim::C2).unwrap();
        assert_eq!(c2.verdict, Verdict::Fail);
    }

    #[test]
    fn throughput_verdicts_follow_the_ratios() {
        let record = fixture("emptydir-throughput.json");
        let verdict_for = |mem: f64, disk: f64, mem_fs: &str| {
            let mut r = record.clone();
            let t = r.throughput.as_mut().unwrap();
            t.memory_synced_writes_per_s = vec![mem];
            t.disk_synced_writes_per_s = vec![disk];
            t.memory_mount.fstype = mem_fs.into();
            throughput(&r).unwrap().verdict
        };
        assert_eq!(verdict_for(9000.0, 300.0, "tmpfs"), Verdict::Pass);
        assert_eq!(verdict_for(200.0, 300.0, "tmpfs"), Verdict::Inconclusive);
        assert_eq!(verdict_for(100.0, 300.0, "tmpfs"), Verdict::Fail);
        assert_eq!(verdict_for(9000.0, 300.0, "ext4"), Verdict::Fail);
    }

    /// A real recording of kruise-manager killed mid-update: every check
    /// passes, the fault's own among them; without the fault's record, or
    /// without its recovery, that check fails.
    #[test]
    fn a_fault_scenario_passes_only_with_its_fault_recorded_and_recovered() {
        let record = fixture("fault-manager-killed.json");
        let checks = scenario_checks(&record);
        let failed: Vec<&Check> = checks
            .iter()
            .filter(|c| c.verdict != Verdict::Pass)
            .collect();
        assert!(failed.is_empty(), "{failed:?}");
        let fault = |r: &ScenarioRecord| fault_injected(r).unwrap().verdict;
        assert_eq!(fault(&record), Verdict::Pass);
        let mut unrecovered = record.clone();
        unrecovered.faults[0].recovered_after_ms = None;
        assert_eq!(fault(&unrecovered), Verdict::Fail);
        let mut missing = record.clone();
        missing.faults.clear();
        assert_eq!(fault(&missing), Verdict::Fail);
        assert!(fault_injected(&fixture("inplace-image.json")).is_none());
    }

    /// A real recording (2-core machine, Kubernetes v1.34.4, kruise
    /// v1.9.0) in which the updating pod went back into the EndpointSlice
    /// for about a second during its grace period: every check passes, the
    /// drain check names the known race with the sequence and the drain
    /// left; had the pod still been in at the stop, it fails.
    #[test]
    fn a_readiness_flap_during_the_grace_period_is_named_as_the_known_race() {
        let record = fixture("quirks/graceful-readiness-flap.json");
        let checks = scenario_checks(&record);
        let failed: Vec<&Check> = checks
            .iter()
            .filter(|c| c.verdict != Verdict::Pass)
            .collect();
        assert!(failed.is_empty(), "{failed:?}");
        let drain = |checks: &[Check]| {
            checks
                .iter()
                .find(|c| c.id == "graceful.out-when-stopped.step-1")
                .unwrap()
                .clone()
        };
        let flapped = drain(&checks);
        assert_eq!(flapped.races, vec!["stale-ready-republished"]);
        assert!(
            flapped.observed.contains(
                "app-jzcw8: out 8.0s before its container was told to stop (22:25:22.059), \
                 after going back in during the grace period (known race \
                 stale-ready-republished): in 22:25:11.934, out 22:25:12.102, \
                 in 22:25:13.015, out 22:25:14.062"
            ),
            "{}",
            flapped.observed
        );
        assert!(
            flapped
                .observed
                .contains("app-wj9vl: out from 22:25:26.271 on, 10.1s")
        );
        // The other pod did not race; a record without the flap names none.
        let mut steady = record.clone();
        let t = steady.steps[0].traffic.as_mut().unwrap();
        t.endpoints.retain(|e| {
            !e.at.starts_with("2026-11-27T22:25:13.01")
                && !e.at.starts_with("2026-11-27T22:25:14.06")
        });
        assert!(drain(&scenario_checks(&steady)).races.is_empty());
        // Still back in when the container was told to stop: fails.
        let mut late = record.clone();
        let t = late.steps[0].traffic.as_mut().unwrap();
        t.endpoints
            .retain(|e| !e.at.starts_with("2026-11-27T22:25:14.06"));
        let late = drain(&scenario_checks(&late));
        assert_eq!(late.verdict, Verdict::Fail);
        assert!(
            late.observed.contains(
                "app-jzcw8: in the EndpointSlice when its container was told to stop (22:25:22.059)"
            ),
            "{}",
            late.observed
        );
        // The final rejoin came after the new container started.
        let rejoin = checks
            .iter()
            .find(|c| c.id == "graceful.rejoined-when-ready.step-1")
            .unwrap();
        assert_eq!(rejoin.verdict, Verdict::Pass, "{}", rejoin.observed);
    }

    /// A real recording: three in-place updates 14 s apart; as the third
    /// container started the kubelet removed both earlier dead containers
    /// and reported no lastState. Its Killing event stands in (and the check
    /// says so); without that event the check fails.
    #[test]
    fn a_dead_container_removed_by_the_kubelet_is_proven_by_its_killing_event() {
        let record = fixture("quirks/inplace-successive-no-last-state.json");
        let lifecycle = |r: &ScenarioRecord| rebuild_lifecycle(r).unwrap();
        let check = lifecycle(&record);
        assert_eq!(check.verdict, Verdict::Pass, "{}", check.observed);
        assert!(
            check
                .observed
                .contains("Killing event where it reported no lastState (#3 app)")
        );
        assert_eq!(check.races, vec!["dead-container-removed"]);
        let failed: Vec<String> = scenario_checks(&record)
            .into_iter()
            .filter(|c| c.verdict == Verdict::Fail)
            .map(|c| c.name)
            .collect();
        assert!(failed.is_empty(), "{failed:?}");
        let mut silent = record.clone();
        silent.steps[2].events.retain(|e| e.reason != "Killing");
        let check = lifecycle(&silent);
        assert_eq!(check.verdict, Verdict::Fail);
        assert!(check.races.is_empty());
        assert!(
            check
                .observed
                .contains("#3 app: no lastState.terminated and no Killing event")
        );
    }

    /// Every recording under fixtures/observations and its subfolders, by
    /// its path there.
    fn every_fixture() -> Vec<(String, ScenarioRecord)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/observations");
        let list = |dir: &std::path::Path| -> Vec<std::path::PathBuf> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect()
        };
        let mut names: Vec<String> = list(&root)
            .into_iter()
            .flat_map(|p| if p.is_dir() { list(&p) } else { vec![p] })
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                p.strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let record = fixture(&name);
                (name, record)
            })
            .collect()
    }

    /// Every check of every recording has an id: machine-friendly, unique
    /// within its scenario, and the same in two recordings of one scenario
    /// wherever they have the same check.
    #[test]
    fn check_ids_are_unique_and_stable_across_recordings() {
        let mut by_scenario: std::collections::BTreeMap<String, Vec<(String, Vec<Check>)>> =
            Default::default();
        for (file, record) in every_fixture() {
            let checks = scenario_checks(&record);
            let mut ids = BTreeSet::new();
            for c in &checks {
                assert!(
                    !c.id.is_empty()
                        && c.id.chars().all(|ch| {
                            ch.is_ascii_lowercase() || ch.is_ascii_digit() || "-.".contains(ch)
                        }),
                    "{file}: {:?} has id {:?}",
                    c.name,
                    c.id
                );
                assert!(ids.insert(c.id.as_str()), "{file}: id {:?} twice", c.id);
            }
            by_scenario
                .entry(record.scenario.clone())
                .or_default()
                .push((file, checks));
        }
        let mut compared = 0;
        for recordings in by_scenario.values() {
            for (i, (file_a, a)) in recordings.iter().enumerate() {
                for (file_b, b) in &recordings[i + 1..] {
                    for check in a {
                        if let Some(same) = b.iter().find(|c| c.name == check.name) {
                            assert_eq!(same.id, check.id, "{file_a} vs {file_b}");
                            compared += 1;
                        }
                    }
                }
            }
        }
        assert!(
            compared > 20,
            "too few recordings of one scenario: {compared}"
        );
    }

    /// A check stored before checks carried an id gets one from its name,
    /// the same each time; a stored id is kept.
    #[test]
    fn a_stored_check_without_id_gets_one_from_its_name() {
        let check = scenario_checks(&samples::in_place())
            .into_iter()
            .find(|c| c.id == "premise.mounts")
            .unwrap();
        let mut old = serde_json::to_value(&check).unwrap();
        assert_eq!(old["id"], "premise.mounts");
        let back: Check = serde_json::from_value(old.clone()).unwrap();
        assert_eq!(back, check);
        old.as_object_mut().unwrap().remove("id");
        let back: Check = serde_json::from_value(old).unwrap();
        assert_eq!(back.id, "premise-markers-sit-on-the-intended-filesystems");
        assert_eq!(back.name, check.name);
        assert_eq!(
            fallback_id("#1 pod left the Service before its container stopped"),
            "1-pod-left-the-service-before-its-container-stopped"
        );
    }

    #[test]
    fn throughput_without_synced_writes_is_judged_on_large_files() {
        let mut record = fixture("emptydir-throughput.json");
        let t = record.throughput.as_mut().unwrap();
        t.memory_synced_writes_per_s.clear();
        t.disk_synced_writes_per_s.clear();
        t.memory_runs_mb_per_s = vec![100.0];
        t.disk_runs_mb_per_s = vec![300.0];
        assert_eq!(throughput(&record).unwrap().verdict, Verdict::Fail);
    }
}
