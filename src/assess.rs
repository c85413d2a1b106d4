//! Judging recorded observations: outcomes per comparison row, dedicated
//! claim checks (C1, C3, C7, C11, C12), premises, and the claims roll-up.
//! Everything here is a pure function of `ScenarioRecord`s.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::expect::{self, Claim, Expectation, Outcome, Row};
use crate::observe::{MarkerLocation, PodSnapshot, ScenarioRecord, Strategy, UpdateStep};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Pass,
    Fail,
    /// Observed, but neither confirms nor refutes (C12 between the ratios).
    Inconclusive,
    NotRun,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Inconclusive => "INCONCLUSIVE",
            Verdict::NotRun => "NOT RUN",
        }
    }

    fn from_bool(pass: bool) -> Verdict {
        if pass { Verdict::Pass } else { Verdict::Fail }
    }
}

/// One comparison-table cell, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowVerdict {
    pub row: Row,
    pub expected: Outcome,
    pub observed: Outcome,
    pub detail: String,
    pub verdict: Verdict,
    pub claims: Vec<Claim>,
}

/// One named check of a scenario (row cells, claim checks and premises).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub scenario: String,
    pub name: String,
    pub claims: Vec<Claim>,
    pub expected: String,
    pub observed: String,
    pub verdict: Verdict,
}

/// Judges every row of `record` against `expectations` (normally those of
/// the record's own strategy; the self-check feeds foreign ones).
pub fn judge_rows(record: &ScenarioRecord, expectations: &[Expectation]) -> Vec<RowVerdict> {
    expectations
        .iter()
        .map(|e| {
            let (observed, detail) = row_outcome(record, e.row);
            RowVerdict {
                row: e.row,
                expected: e.outcome,
                observed,
                detail,
                verdict: Verdict::from_bool(observed == e.outcome),
                claims: e.claims.to_vec(),
            }
        })
        .collect()
}

/// The observed outcome of one row over all update steps; steps that
/// disagree make the row `Inconsistent`.
pub fn row_outcome(record: &ScenarioRecord, row: Row) -> (Outcome, String) {
    if record.steps.is_empty() {
        return (Outcome::Inconsistent, "no update recorded".into());
    }
    let per_step: Vec<(Outcome, String)> = record
        .steps
        .iter()
        .map(|step| step_outcome(step, row))
        .collect();
    let first = per_step[0].0;
    let outcome = if per_step.iter().all(|(o, _)| *o == first) {
        first
    } else {
        Outcome::Inconsistent
    };
    let detail = if row == Row::RestartCount {
        restart_trail(record)
    } else if per_step.len() == 1 {
        per_step[0].1.clone()
    } else {
        per_step
            .iter()
            .enumerate()
            .map(|(i, (_, d))| format!("#{}: {d}", i + 1))
            .collect::<Vec<_>>()
            .join("; ")
    };
    (outcome, detail)
}

fn step_outcome(step: &UpdateStep, row: Row) -> (Outcome, String) {
    match row {
        Row::PodIdentity => pod_identity(&step.before, &step.after),
        Row::ContainerRebuild => container_rebuild(&step.before, &step.after),
        Row::RootFs => marker(step, MarkerLocation::RootFs),
        Row::EmptyDir => marker(step, MarkerLocation::DiskEmptyDir),
        Row::MemoryEmptyDir => marker(step, MarkerLocation::MemoryEmptyDir),
        Row::Pvc => marker(step, MarkerLocation::Pvc),
        Row::NetworkIdentity => network_identity(&step.before, &step.after),
        Row::RestartCount => restart_count(&step.before, &step.after),
        Row::Scheduling => scheduling(step),
    }
}

fn same_pod(before: &PodSnapshot, after: &PodSnapshot) -> bool {
    before.uid == after.uid
}

fn pod_identity(before: &PodSnapshot, after: &PodSnapshot) -> (Outcome, String) {
    let name = if before.name == after.name {
        format!("name {} kept", after.name)
    } else {
        format!("name {} -> {}", before.name, after.name)
    };
    if same_pod(before, after) && before.name == after.name {
        (Outcome::Kept, format!("{name}, UID kept"))
    } else {
        (Outcome::NotKept, format!("{name}, UID changed"))
    }
}

fn container_rebuild(before: &PodSnapshot, after: &PodSnapshot) -> (Outcome, String) {
    let id_changed = before.container.container_id != after.container.container_id;
    let detail = format!(
        "containerID {} -> {}",
        short_container_id(&before.container.container_id),
        short_container_id(&after.container.container_id)
    );
    let outcome = match (same_pod(before, after), id_changed) {
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

fn marker(step: &UpdateStep, location: MarkerLocation) -> (Outcome, String) {
    let (Some(written), Some(read)) = (step.written(location), step.read_back(location)) else {
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

fn short_token(token: &str) -> &str {
    &token[..token.len().min(8)]
}

fn network_identity(before: &PodSnapshot, after: &PodSnapshot) -> (Outcome, String) {
    let ip_kept = before.pod_ips == after.pod_ips;
    let netns_kept = before.inside.netns == after.inside.netns;
    let ip = if ip_kept {
        format!("IP {} kept", after.pod_ips.join(","))
    } else {
        format!(
            "IP {} -> {}",
            before.pod_ips.join(","),
            after.pod_ips.join(",")
        )
    };
    let netns = if netns_kept {
        "netns kept"
    } else {
        "netns changed"
    };
    // A replacement pod may by chance get the old IP back; the netns inode
    // cannot repeat while the old one existed, so "kept" needs both.
    let outcome = if ip_kept && netns_kept {
        Outcome::Kept
    } else {
        Outcome::NotKept
    };
    (outcome, format!("{ip}, {netns}"))
}

fn restart_count(before: &PodSnapshot, after: &PodSnapshot) -> (Outcome, String) {
    let (b, a) = (
        before.container.restart_count,
        after.container.restart_count,
    );
    let outcome = match (same_pod(before, after), a - b, a) {
        (true, 1, _) => Outcome::OnePerUpdate,
        (false, _, 0) => Outcome::ZeroInNewPod,
        _ => Outcome::Inconsistent,
    };
    (outcome, format!("{b} -> {a}"))
}

fn restart_trail(record: &ScenarioRecord) -> String {
    let mut counts = vec![record.steps[0].before.container.restart_count];
    counts.extend(record.steps.iter().map(|s| s.after.container.restart_count));
    let trail = counts
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" -> ");
    format!("{trail} over {} update(s)", record.steps.len())
}

fn scheduling(step: &UpdateStep) -> (Outcome, String) {
    let (before, after) = (&step.before, &step.after);
    let scheduled_other = step
        .events_with_reason("Scheduled")
        .filter(|e| !event_names_pod(e, before))
        .count();
    let scheduled_after = step
        .events_with_reason("Scheduled")
        .any(|e| event_names_pod(e, after));
    let node = format!(
        "node {} -> {}",
        before.node.as_deref().unwrap_or("?"),
        after.node.as_deref().unwrap_or("?")
    );
    let outcome = if same_pod(before, after) && before.node == after.node && scheduled_other == 0 {
        Outcome::NotRescheduled
    } else if !same_pod(before, after) && scheduled_after {
        Outcome::Rescheduled
    } else {
        Outcome::Inconsistent
    };
    (
        outcome,
        format!("{node}, {scheduled_other} new Scheduled event(s)"),
    )
}

fn event_names_pod(event: &crate::observe::EventRecord, pod: &PodSnapshot) -> bool {
    match &event.object_uid {
        Some(uid) => *uid == pod.uid,
        None => event.object_name == pod.name,
    }
}

/// All checks of one record: its row cells plus claim checks and premises.
pub fn scenario_checks(record: &ScenarioRecord) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    if let Some(error) = &record.error {
        checks.push(stopped_early(record, error));
    }
    if !record.steps.is_empty() {
        checks.extend(row_checks(record));
        checks.extend(mount_premises(record));
        checks.extend(delivery_premises(record));
        checks.extend(kruise_event_premise(record));
    }
    if record.strategy.is_in_place() && !record.steps.is_empty() {
        checks.push(rebuild_lifecycle(record));
        checks.push(new_image(record));
        checks.push(cgroup_renewed(record));
        if record.steps.len() > 1 {
            checks.push(successive_restarts(record));
        }
    }
    if let Some(check) = throughput(record) {
        checks.push(check);
    }
    checks.push(kruise_components_stable(record));
    checks
}

/// A scenario that stopped early fails the claims it was meant to check:
/// they were not shown, and saying NOT RUN would hide the failure.
fn stopped_early(record: &ScenarioRecord, error: &str) -> Check {
    let mut claims: BTreeSet<Claim> = expect::for_strategy(record.strategy)
        .iter()
        .flat_map(|e| e.claims.iter().copied())
        .collect();
    if record.strategy.is_in_place() {
        claims.extend([Claim::C1, Claim::C3, Claim::C7]);
    }
    let claims: Vec<Claim> = claims.into_iter().collect();
    check(
        record,
        "scenario completed",
        &claims,
        "every step observed",
        format!("stopped after {} step(s): {error}", record.steps.len()),
        Verdict::Fail,
    )
}

fn check(
    record: &ScenarioRecord,
    name: &str,
    claims: &[Claim],
    expected: impl Into<String>,
    observed: impl Into<String>,
    verdict: Verdict,
) -> Check {
    Check {
        scenario: record.scenario.clone(),
        name: name.into(),
        claims: claims.to_vec(),
        expected: expected.into(),
        observed: observed.into(),
        verdict,
    }
}

fn row_checks(record: &ScenarioRecord) -> Vec<Check> {
    judge_rows(record, expect::for_strategy(record.strategy))
        .into_iter()
        .map(|v| {
            check(
                record,
                v.row.label(),
                &v.claims,
                v.expected.label(),
                format!("{} ({})", v.observed.label(), v.detail),
                v.verdict,
            )
        })
        .collect()
}

/// A marker only means something if it sits where we think: the rootfs one
/// on the container's overlay root, the memory one on tmpfs, the disk one
/// on a non-tmpfs mount of its own, the PVC one on a non-tmpfs mount of its
/// own (a PVC in node memory would prove nothing about persistence).
fn mount_premises(record: &ScenarioRecord) -> Vec<Check> {
    let mut problems = Vec::new();
    for step in &record.steps {
        for written in &step.written {
            if let Err(why) = mount_is_as_designed(written.location, &written.mount) {
                problems.push(format!("#{}: {why}", step.index + 1));
            }
        }
    }
    let claims_by_location = [
        (MarkerLocation::RootFs, Claim::C2),
        (MarkerLocation::DiskEmptyDir, Claim::C8),
        (MarkerLocation::MemoryEmptyDir, Claim::C9),
    ];
    let claims: Vec<Claim> = if record.strategy.is_in_place() {
        claims_by_location.iter().map(|(_, c)| *c).collect()
    } else {
        Vec::new()
    };
    let observed = if problems.is_empty() {
        "rootfs marker on / overlay, /data/mem tmpfs, /data/disk and /data/pvc own non-tmpfs mounts"
            .into()
    } else {
        problems.join("; ")
    };
    vec![check(
        record,
        "premise: markers sit on the intended filesystems",
        &claims,
        "rootfs=overlay at /, mem=tmpfs, disk and pvc=non-tmpfs",
        observed,
        Verdict::from_bool(problems.is_empty()),
    )]
}

pub fn mount_is_as_designed(
    location: MarkerLocation,
    mount: &crate::observe::MountFacts,
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

/// With registry delivery every update must make the kubelet pull; that is
/// what the delivery path exists to show.
fn delivery_premises(record: &ScenarioRecord) -> Vec<Check> {
    if record.image_delivery != crate::observe::ImageDelivery::Registry {
        return Vec::new();
    }
    let missing: Vec<String> = record
        .steps
        .iter()
        .filter(|step| !step_pulled(step))
        .map(|step| format!("#{} {}", step.index + 1, step.to.reference))
        .collect();
    let observed = if missing.is_empty() {
        format!("Pulling event for each of {} update(s)", record.steps.len())
    } else {
        format!("no Pulling event for {}", missing.join(", "))
    };
    vec![check(
        record,
        "premise: kubelet pulled each new image",
        &[],
        "Pulling event naming the new image",
        observed,
        Verdict::from_bool(missing.is_empty()),
    )]
}

fn step_pulled(step: &UpdateStep) -> bool {
    step.events_with_reason("Pulling")
        .chain(step.events_with_reason("Pulled"))
        .any(|e| e.message.contains(&format!("\"{}\"", step.to.reference)))
}

/// Kruise's own account of what it did: the in-place premise ("the update
/// really happened in place") and the recreate one.
fn kruise_event_premise(record: &ScenarioRecord) -> Option<Check> {
    let reason = match record.strategy {
        Strategy::CloneSetInPlaceIfPossible => "SuccessfulUpdatePodInPlace",
        Strategy::CloneSetReCreate => "SuccessfulUpdatePodReCreate",
        Strategy::DeploymentRollingUpdate => return None,
    };
    let seen = record
        .steps
        .iter()
        .filter(|s| s.events_with_reason(reason).next().is_some())
        .count();
    let all = record.steps.len();
    Some(check(
        record,
        &format!("premise: kruise event {reason}"),
        &[],
        format!("{reason} recorded for the update"),
        format!("seen in {seen}/{all} step(s)"),
        Verdict::from_bool(seen == all),
    ))
}

/// C1: old container terminated (lastState.terminated names it), a new one
/// started later, with a new ID.
fn rebuild_lifecycle(record: &ScenarioRecord) -> Check {
    let problems: Vec<String> = record
        .steps
        .iter()
        .filter_map(|s| lifecycle_problem(s).map(|p| format!("#{}: {p}", s.index + 1)))
        .collect();
    let observed = if problems.is_empty() {
        "new containerID, lastState.terminated = old container, startedAt moved".into()
    } else {
        problems.join("; ")
    };
    check(
        record,
        "old container terminated, new one created",
        &[Claim::C1],
        "containerID changes; lastState.terminated set; startedAt moves",
        observed,
        Verdict::from_bool(problems.is_empty()),
    )
}

fn lifecycle_problem(step: &UpdateStep) -> Option<String> {
    let (b, a) = (&step.before.container, &step.after.container);
    if b.container_id == a.container_id {
        return Some("containerID unchanged".into());
    }
    let Some(last) = &a.last_terminated else {
        return Some("no lastState.terminated".into());
    };
    if last.container_id.is_some() && last.container_id != b.container_id {
        return Some("lastState.terminated names another container".into());
    }
    match (parse_time(&b.started_at), parse_time(&a.started_at)) {
        (Some(before), Some(after)) if after > before => None,
        _ => Some(format!(
            "startedAt {:?} -> {:?} did not move forward",
            b.started_at, a.started_at
        )),
    }
}

fn parse_time(value: &Option<String>) -> Option<k8s_openapi::jiff::Timestamp> {
    value.as_deref().and_then(|v| v.parse().ok())
}

/// C3: the new container runs the new image: imageID changes and the
/// version file baked into the image says the new version.
fn new_image(record: &ScenarioRecord) -> Check {
    let problems: Vec<String> = record
        .steps
        .iter()
        .filter_map(|s| {
            let id_changed = s.before.container.image_id != s.after.container.image_id;
            let version = s.after.inside.image_version.trim();
            if id_changed && version == s.to.content_version {
                None
            } else {
                Some(format!(
                    "#{}: imageID changed={id_changed}, image-version {version:?} (want {:?})",
                    s.index + 1,
                    s.to.content_version
                ))
            }
        })
        .collect();
    let observed = if problems.is_empty() {
        let versions: Vec<&str> = std::iter::once(record.initial_image.content_version.as_str())
            .chain(record.steps.iter().map(|s| s.to.content_version.as_str()))
            .collect();
        format!(
            "imageID changed each time; image-version {}",
            versions.join(" -> ")
        )
    } else {
        problems.join("; ")
    };
    check(
        record,
        "new container built from the new image",
        &[Claim::C3],
        "imageID changes; image-version file is the new one",
        observed,
        Verdict::from_bool(problems.is_empty()),
    )
}

/// C7: the container's cgroup is new. Under a private cgroup namespace the
/// path reads `0::/` both times, so the cgroup directory inode decides.
fn cgroup_renewed(record: &ScenarioRecord) -> Check {
    let unchanged: Vec<String> = record
        .steps
        .iter()
        .filter(|s| !cgroup_changed(&s.before, &s.after))
        .map(|s| format!("#{}", s.index + 1))
        .collect();
    let observed = if unchanged.is_empty() {
        let s = &record.steps[0];
        format!(
            "{} -> {}",
            cgroup_summary(&s.before.inside),
            cgroup_summary(&s.after.inside)
        )
    } else {
        format!("cgroup unchanged in step(s) {}", unchanged.join(", "))
    };
    check(
        record,
        "container cgroup re-initialised",
        &[Claim::C7],
        "cgroup path or cgroup inode changes",
        observed,
        Verdict::from_bool(unchanged.is_empty()),
    )
}

/// The container's own cgroup in a few characters: the last component of
/// the unified (or first) hierarchy's path, long IDs cut to 12 hex digits;
/// under a private cgroup namespace (`0::/`) the cgroup directory inode.
pub fn cgroup_summary(view: &crate::observe::InsideView) -> String {
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

pub fn cgroup_changed(before: &PodSnapshot, after: &PodSnapshot) -> bool {
    let (b, a) = (&before.inside, &after.inside);
    let path_is_informative = b.cgroup.trim() != "0::/";
    if path_is_informative && b.cgroup != a.cgroup {
        return true;
    }
    b.cgroup_inode != a.cgroup_inode
}

/// C11 (and C4 cumulatively): N updates -> restartCount N, N+1 containers.
fn successive_restarts(record: &ScenarioRecord) -> Check {
    let n = record.steps.len() as i32;
    let first = record.steps[0].before.container.restart_count;
    let last = record.steps[n as usize - 1].after.container.restart_count;
    let mut ids: BTreeSet<Option<String>> = BTreeSet::new();
    ids.insert(record.steps[0].before.container.container_id.clone());
    for s in &record.steps {
        ids.insert(s.after.container.container_id.clone());
    }
    let pass = last - first == n && ids.len() == n as usize + 1;
    check(
        record,
        "restartCount equals number of updates",
        &[Claim::C11, Claim::C4],
        format!(
            "restartCount {first} -> {} and {} distinct containerIDs",
            first + n,
            n + 1
        ),
        format!(
            "restartCount {first} -> {last}, {} distinct containerIDs",
            ids.len()
        ),
        Verdict::from_bool(pass),
    )
}

/// C12 as a figure with a verdict that cannot flake: only a gross inversion
/// (memory slower than half the disk) fails.
fn throughput(record: &ScenarioRecord) -> Option<Check> {
    let t = record.throughput.as_ref()?;
    let (mem, disk) = (t.memory_mb_per_s(), t.disk_mb_per_s());
    let ratio = if disk > 0.0 {
        mem / disk
    } else {
        f64::INFINITY
    };
    let verdict = if ratio >= expect::THROUGHPUT_FASTER_RATIO {
        Verdict::Pass
    } else if ratio >= expect::THROUGHPUT_SANITY_RATIO {
        Verdict::Inconclusive
    } else {
        Verdict::Fail
    };
    let mounts_ok = mount_is_as_designed(MarkerLocation::MemoryEmptyDir, &t.memory_mount).is_ok()
        && mount_is_as_designed(MarkerLocation::DiskEmptyDir, &t.disk_mount).is_ok();
    let verdict = if mounts_ok { verdict } else { Verdict::Fail };
    Some(check(
        record,
        "memory emptyDir write throughput vs disk emptyDir",
        &[Claim::C12],
        format!(
            "memory/disk >= {} (fails below {})",
            expect::THROUGHPUT_FASTER_RATIO,
            expect::THROUGHPUT_SANITY_RATIO
        ),
        format!(
            "memory {mem:.1} MB/s vs disk {disk:.1} MB/s (ratio {ratio:.2}); small files {:.0}/s vs {:.0}/s; mounts {}/{}",
            t.memory_small_files_per_s,
            t.disk_small_files_per_s,
            t.memory_mount.fstype,
            t.disk_mount.fstype
        ),
        verdict,
    ))
}

/// Suite invariant copied from kruise's e2e: its components never restart.
/// Restarts that predate the scenario fail it too (the cluster under test
/// is not healthy), but the text says which kind it was.
fn kruise_components_stable(record: &ScenarioRecord) -> Check {
    let at_start = |c: &crate::observe::ComponentRestarts| {
        record
            .kruise_components_at_start
            .iter()
            .find(|s| s.pod == c.pod && s.container == c.container)
            .map(|s| s.restart_count)
    };
    let restarted: Vec<String> = record
        .kruise_components
        .iter()
        .filter(|c| c.restart_count != 0)
        .map(|c| match at_start(c) {
            Some(start) if start == c.restart_count => format!(
                "{}/{}={} (already at scenario start)",
                c.pod, c.container, c.restart_count
            ),
            Some(start) => format!(
                "{}/{}={} ({} during the scenario)",
                c.pod,
                c.container,
                c.restart_count,
                c.restart_count - start
            ),
            None => format!("{}/{}={}", c.pod, c.container, c.restart_count),
        })
        .collect();
    let verdict = if record.kruise_components.is_empty() {
        Verdict::Fail
    } else {
        Verdict::from_bool(restarted.is_empty())
    };
    let observed = if record.kruise_components.is_empty() {
        "no kruise-system pods recorded".into()
    } else if restarted.is_empty() {
        format!("{} container(s), all 0", record.kruise_components.len())
    } else {
        restarted.join(", ")
    };
    check(
        record,
        "invariant: kruise-manager and kruise-daemon restartCount 0",
        &[],
        "0 restarts",
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
    let strategies_run: BTreeSet<Strategy> = records
        .iter()
        // An errored run counts as run: its failure must show, not NOT RUN.
        .filter(|r| !r.steps.is_empty() || r.error.is_some())
        .map(|r| r.strategy)
        .collect();
    Claim::ALL
        .into_iter()
        .map(|claim| judge_claim(claim, &checks, &strategies_run))
        .collect()
}

fn judge_claim(claim: Claim, checks: &[Check], run: &BTreeSet<Strategy>) -> ClaimVerdict {
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
        .required_strategies()
        .iter()
        .filter(|any_of| !any_of.iter().any(|s| run.contains(s)))
        .map(|any_of| {
            any_of
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(" or ")
        })
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

fn roll_up(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
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
    use crate::observe::samples;

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

    fn failing_rows(record: &ScenarioRecord, table: &[Expectation]) -> Vec<Row> {
        judge_rows(record, table)
            .into_iter()
            .filter(|v| v.verdict == Verdict::Fail)
            .map(|v| v.row)
            .collect()
    }

    /// Required self-check: recorded ReCreate observations must fail the
    /// in-place expectations, and the failure must name the rows.
    #[test]
    fn recreate_observations_fail_in_place_expectations() {
        let recreate = samples::recreate();
        assert_eq!(recreate.strategy, Strategy::CloneSetReCreate);
        let failing = failing_rows(&recreate, expect::IN_PLACE);
        assert_eq!(
            failing,
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

    #[test]
    fn recreate_observations_pass_their_own_expectations() {
        let recreate = samples::recreate();
        assert!(failing_rows(&recreate, expect::CLONESET_RECREATE).is_empty());
    }

    #[test]
    fn in_place_observations_pass_in_place_and_fail_recreate() {
        let in_place = samples::in_place();
        assert!(failing_rows(&in_place, expect::IN_PLACE).is_empty());
        let failing = failing_rows(&in_place, expect::CLONESET_RECREATE);
        assert!(failing.contains(&Row::PodIdentity));
        assert!(!failing.contains(&Row::RootFs));
    }

    #[test]
    fn in_place_sample_passes_every_check() {
        let checks = scenario_checks(&healthy(samples::in_place()));
        let failed = failures(&checks);
        assert!(failed.is_empty(), "{failed:#?}");
        let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
        assert!(names.contains(&"container cgroup re-initialised"));
        assert!(names.contains(&"premise: kruise event SuccessfulUpdatePodInPlace"));
    }

    #[test]
    fn missing_pull_event_fails_the_delivery_premise() {
        let mut record = healthy(samples::in_place());
        for step in &mut record.steps {
            step.events
                .retain(|e| e.reason != "Pulling" && e.reason != "Pulled");
        }
        let checks = scenario_checks(&record);
        let failed: Vec<&str> = failures(&checks).iter().map(|c| c.name.as_str()).collect();
        assert_eq!(failed, vec!["premise: kubelet pulled each new image"]);
    }

    #[test]
    fn rootfs_marker_on_a_volume_fails_the_premise() {
        let mut record = healthy(samples::in_place());
        let mount = &mut record.steps[0].written[0].mount;
        mount.mount_point = "/var/tmp".into();
        mount.fstype = "ext4".into();
        let failed: Vec<String> = failures(&scenario_checks(&record))
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(
            failed,
            vec!["premise: markers sit on the intended filesystems"]
        );
    }

    #[test]
    fn cgroup_namespace_hides_path_so_inode_decides() {
        let step = &samples::in_place().steps[0];
        let mut after = step.after.clone();
        after.inside.cgroup = "0::/\n".into();
        after.inside.cgroup_inode = "8247".into();
        let mut before = step.before.clone();
        before.inside.cgroup = "0::/\n".into();
        before.inside.cgroup_inode = "8104".into();
        assert!(cgroup_changed(&before, &after));
        after.inside.cgroup_inode = before.inside.cgroup_inode.clone();
        assert!(!cgroup_changed(&before, &after));
    }

    #[test]
    fn cgroup_summaries_stay_short() {
        let mut view = samples::in_place().steps[0].before.inside.clone();
        view.cgroup = "1:cpu:/kubelet.slice/x.slice/cri-containerd-26bb8cebb829ac257a21bb12916dc1a9ac1896dc34765e47d15331d408fb0e32.scope\n\
                       0::/kubelet.slice/x.slice/cri-containerd-26bb8cebb829ac257a21bb12916dc1a9ac1896dc34765e47d15331d408fb0e32.scope\n"
            .into();
        assert_eq!(cgroup_summary(&view), "cri-containerd-26bb8cebb829.scope");
        view.cgroup = "0::/\n".into();
        view.cgroup_inode = "8104".into();
        assert_eq!(cgroup_summary(&view), "namespaced cgroup, inode 8104");
    }

    #[test]
    fn restart_count_outcomes() {
        let step = &samples::in_place().steps[0];
        let (before, mut after) = (step.before.clone(), step.after.clone());
        assert_eq!(restart_count(&before, &after).0, Outcome::OnePerUpdate);
        after.container.restart_count = 2;
        assert_eq!(restart_count(&before, &after).0, Outcome::Inconsistent);
        after.uid = "other".into();
        after.container.restart_count = 0;
        assert_eq!(restart_count(&before, &after).0, Outcome::ZeroInNewPod);
    }

    #[test]
    fn steps_that_disagree_are_inconsistent() {
        let mut record = samples::in_place();
        let mut second = record.steps[0].clone();
        second.index = 1;
        second.after.uid = "replaced".into();
        record.steps.push(second);
        assert_eq!(
            row_outcome(&record, Row::PodIdentity).0,
            Outcome::Inconsistent
        );
    }

    #[test]
    fn comparison_claims_need_a_standard_strategy() {
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

    #[test]
    fn kruise_restarts_say_when_they_happened() {
        let mut record = healthy(samples::in_place());
        record.kruise_components_at_start = record.kruise_components.clone();
        record.kruise_components_at_start[0].restart_count = 6;
        record.kruise_components[0].restart_count = 6;
        record.kruise_components[1].restart_count = 1;
        let checks = scenario_checks(&record);
        let invariant = failures(&checks)
            .into_iter()
            .find(|c| c.name.starts_with("invariant"))
            .unwrap();
        assert!(
            invariant
                .observed
                .contains("=6 (already at scenario start)")
        );
        assert!(invariant.observed.contains("=1 (1 during the scenario)"));
    }

    #[test]
    fn a_scenario_that_stopped_early_fails_its_claims() {
        let mut record = healthy(samples::in_place());
        record.steps.clear();
        record.error = Some("timed out waiting for CloneSet app".into());
        let checks = scenario_checks(&record);
        let failed = failures(&checks);
        assert_eq!(failed[0].name, "scenario completed");
        let claims = judge_claims(&[record]);
        let c2 = claims.iter().find(|v| v.claim == Claim::C2).unwrap();
        assert_eq!(c2.verdict, Verdict::Fail);
    }

    #[test]
    fn throughput_verdicts_follow_the_ratios() {
        let mut record = samples::in_place();
        record.steps.clear();
        let base = crate::observe::Throughput {
            pod: "p".into(),
            file_bytes: 1,
            repetitions: 1,
            memory_runs_mb_per_s: vec![900.0],
            disk_runs_mb_per_s: vec![300.0],
            small_files: 1,
            small_file_bytes: 1,
            memory_small_files_per_s: 1.0,
            disk_small_files_per_s: 1.0,
            memory_mount: mount("/data/mem", "tmpfs"),
            disk_mount: mount("/data/disk", "ext4"),
        };
        let verdict_for = |mem: f64, disk: f64, mem_fs: &str| {
            let mut t = base.clone();
            t.memory_runs_mb_per_s = vec![mem];
            t.disk_runs_mb_per_s = vec![disk];
            t.memory_mount.fstype = mem_fs.into();
            let mut r = record.clone();
            r.throughput = Some(t);
            throughput(&r).unwrap().verdict
        };
        assert_eq!(verdict_for(900.0, 300.0, "tmpfs"), Verdict::Pass);
        assert_eq!(verdict_for(200.0, 300.0, "tmpfs"), Verdict::Inconclusive);
        assert_eq!(verdict_for(100.0, 300.0, "tmpfs"), Verdict::Fail);
        assert_eq!(verdict_for(900.0, 300.0, "ext4"), Verdict::Fail);
    }

    fn mount(point: &str, fstype: &str) -> crate::observe::MountFacts {
        crate::observe::MountFacts {
            mount_point: point.into(),
            fstype: fstype.into(),
            source: "x".into(),
        }
    }
}
