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

mod budget;
mod cells;
mod claims;
mod cordon;
mod effects;
mod graceful;
mod halt;
mod hooks;
mod lifecycle;
mod predownload;
mod premises;
mod spread;
mod steps;
mod throughput;
mod upgrade;

pub use budget::*;
pub use cells::*;
pub use claims::*;
use effects::*;
pub use graceful::*;
use halt::*;
pub use hooks::*;
pub use lifecycle::*;
pub use premises::*;
pub use steps::*;
use throughput::*;
use upgrade::*;

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
    } else if checks.iter().any(|c| c.verdict == Verdict::KnownDefect) {
        // The failed checks stay listed; the defect says why.
        Verdict::KnownDefect
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
        checks.extend(prestop_once(record));
        checks.extend(max_unavailable(record));
        checks.extend(halted_rollout(record));
        checks.extend(in_place_hooks(record));
        checks.extend(predownload::pre_downloaded(record));
        checks.extend(spread::spread(record));
        checks.extend(cordon::cordoned(record));
        checks.extend(reported_done(record));
        checks.extend(cpu_limit_applied(record));
        checks.extend(memory_limit_applied(record));
        checks.extend(traffic_checks(record));
    }
    checks.extend(rebuild_lifecycle(record));
    checks.extend(new_image(record));
    checks.extend(same_image_new_tag(record));
    checks.extend(cgroup_renewed(record));
    checks.extend(successive_restarts(record));
    checks.extend(throughput(record));
    checks.extend(fault_injected(record));
    checks.extend(kruise_upgrade(record));
    checks.extend(known_defects(record));
    checks.push(kruise_components_stable(record));
    checks
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

/// One check per known upstream defect that applies to the record's
/// versions: KNOWN DEFECT when met, else a pass that says it was not met
/// ("fixed there?" on versions it is not known on).
fn known_defects(record: &ScenarioRecord) -> Vec<Check> {
    let versions = crate::scenarios::defects::versions(record).unwrap_or_default();
    crate::scenarios::defects::of(record)
        .into_iter()
        .map(|(defect, met)| {
            let known_here = defect.seen_on.contains(&versions.as_str());
            let observed = match (met, known_here) {
                (true, _) => format!(
                    "met on {versions}: {}. Cause: {} Workaround: {} ({})",
                    defect.symptom, defect.cause, defect.workaround, defect.upstream
                ),
                (false, true) => format!("not met this time on {versions}"),
                (false, false) => format!(
                    "not met on {versions}: fixed there? (known on {})",
                    defect.seen_on.join(", ")
                ),
            };
            check(
                record,
                &format!("known-defect.{}", defect.name),
                &format!("known upstream defect {}", defect.name),
                &[],
                format!("not met (known on {})", defect.seen_on.join(", ")),
                observed,
                if met {
                    Verdict::KnownDefect
                } else {
                    Verdict::Pass
                },
            )
        })
        .collect()
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
    /// kruise-daemon's Killing event from a real run (env-from-metadata,
    /// the dead container already removed) stands in as the kubelet's does.
    #[test]
    fn kruise_daemon_killing_event_counts_for_its_container_only() {
        let event = |message: &str| crate::model::record::EventRecord {
            reason: "Killing".into(),
            message: message.into(),
            type_: "Normal".into(),
            object_kind: "Pod".into(),
            object_name: "app-ljgw6".into(),
            object_uid: None,
            first_seen: None,
            last_seen: None,
            count: 1,
            source: None,
        };
        let daemon = event("Stopping containerID containerd://app by container meta restarter");
        assert!(lifecycle::kills(&daemon, "app-ljgw6", "app"));
        assert!(!lifecycle::kills(&daemon, "app-ljgw6", "side"));
        assert!(!lifecycle::kills(&daemon, "app-other", "app"));
        let kubelet = event("Container app definition changed, will be restarted");
        assert!(lifecycle::kills(&kubelet, "app-ljgw6", "app"));
        assert!(!lifecycle::kills(
            &event("Stopping container app"),
            "app-ljgw6",
            "app"
        ));
    }

    #[test]
    fn an_image_id_is_judged_by_its_digest_whatever_repository_it_names() {
        let digest = "sha256:95e67d35bb22a3eb74c244e1f16e6a8e6e34828f5f69b2d0c4213bc8eb46dcdf";
        let a = format!("localhost:35019/ipc-asts-inplace-12969fee/workload@{digest}");
        let b = format!("localhost:35019/ipc-ads-inplace-84e0b7fa/workload@{digest}");
        assert_eq!(lifecycle::image_digest(&a), lifecycle::image_digest(&b));
        assert_eq!(lifecycle::image_digest(digest), digest);
    }

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
        // The refusal explains itself: where each pod stood in the Service.
        refused.steps[0].traffic.as_mut().unwrap().requests[7].at =
            "2026-11-27T16:32:39.100000000Z".into();
        let (step, t) = (
            &refused.steps[0],
            refused.steps[0].traffic.as_ref().unwrap(),
        );
        let text = &graceful::requests_served(&refused, step, t).observed;
        assert!(text.contains("app-74dcp out since 16:32:28.689"), "{text}");
        assert!(text.contains("app-l4q2w in since 16:32:28.553"), "{text}");
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
        assert_eq!(restart_count(&changed, "app").0, Outcome::TwoInPod);
        changed.after.containers[0].status.restart_count = 3;
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

    /// Real recordings: env-from-metadata at eight scenarios at once, and a
    /// ContainerRecreateRequest; the kubelet had removed the dead container
    /// (no lastState), and the only Killing event is kruise-daemon's (its
    /// container meta restarter's, its CRR controller's). It stands in;
    /// without it the check fails.
    #[test]
    fn a_dead_container_stopped_by_kruise_daemon_is_proven_by_its_killing_event() {
        for name in [
            "quirks/env-from-metadata-dead-container-removed.json",
            "quirks/container-recreate-dead-container-removed.json",
        ] {
            let record = fixture(name);
            let check = rebuild_lifecycle(&record).unwrap();
            assert_eq!(check.verdict, Verdict::Pass, "{name}: {}", check.observed);
            assert_eq!(check.races, vec!["dead-container-removed"], "{name}");
            let mut silent = record.clone();
            silent.steps[0].events.retain(|e| e.reason != "Killing");
            let check = rebuild_lifecycle(&silent).unwrap();
            assert_eq!(check.verdict, Verdict::Fail, "{name}");
            assert!(
                check
                    .observed
                    .contains("#1 app: no lastState.terminated and no Killing event"),
                "{name}"
            );
        }
    }

    /// The real recording passes; the same recording with the hook run
    /// twice for one restart (OpenKruise issue 1263's report), or with a
    /// FailedPreStopHook event, fails.
    #[test]
    fn prestop_runs_once_per_stop() {
        let real = fixture("prestop-once.json");
        assert_eq!(prestop_once(&real).unwrap().verdict, Verdict::Pass);
        let mut twice = real.clone();
        let pod = &mut twice.steps[0].pods[0];
        let app = pod
            .after
            .containers
            .iter_mut()
            .find(|c| c.status.name == "app");
        app.unwrap().inside.prestop_log.push("v1 initial".into());
        let check = prestop_once(&twice).unwrap();
        assert_eq!(check.verdict, Verdict::Fail);
        assert!(check.observed.contains("2 preStop run(s)"));
        let mut failed_hook = real.clone();
        let mut event = failed_hook.steps[0].events[0].clone();
        event.reason = "FailedPreStopHook".into();
        event.object_name = failed_hook.steps[0].pods[0].after.name.clone();
        failed_hook.steps[0].events.push(event);
        assert_eq!(prestop_once(&failed_hook).unwrap().verdict, Verdict::Fail);
        // Without a hook in the plan there is nothing to judge.
        assert!(prestop_once(&fixture("image-and-env.json")).is_none());
    }

    /// Recorded here once: kruise-daemon's container meta restarter and the
    /// kubelet both stopped the container in one second, the hook ran once
    /// and the second stopper's preStop failed. The known race is named and
    /// the runs judged; a second run of the hook still fails, and so does
    /// the failed hook without the restarter's Killing event.
    #[test]
    fn a_double_stop_is_the_known_race_when_the_hook_ran_once() {
        let raced = fixture("quirks/prestop-double-stop.json");
        let check = prestop_once(&raced).unwrap();
        assert_eq!(check.verdict, Verdict::Pass, "{}", check.observed);
        assert_eq!(check.races, vec!["double-stop-prestop-failed"]);
        assert!(check.observed.contains("1 FailedPreStopHook (both"));
        let mut twice = raced.clone();
        let app = twice.steps[0].pods[0]
            .after
            .containers
            .iter_mut()
            .find(|c| c.status.name == "app")
            .unwrap();
        app.inside.prestop_log.push("v1 initial".into());
        assert_eq!(prestop_once(&twice).unwrap().verdict, Verdict::Fail);
        let mut unexplained = raced.clone();
        unexplained.steps[0]
            .events
            .retain(|e| !e.message.contains("by container meta restarter"));
        let check = prestop_once(&unexplained).unwrap();
        assert_eq!(check.verdict, Verdict::Fail);
        assert!(check.races.is_empty());
    }

    /// The real recording (two of four pods at a time) passes; three pods
    /// down at once fails, and so does a budget never used.
    #[test]
    fn max_unavailable_is_honoured_and_used() {
        let real = fixture("max-unavailable.json");
        assert_eq!(peak_unavailable(&real.steps[0].timeline), 2);
        assert_eq!(max_unavailable(&real).unwrap().verdict, Verdict::Pass);
        let mut three = real.clone();
        let timeline = &mut three.steps[0].timeline;
        let mut seen = BTreeSet::new();
        let down: Vec<_> = timeline
            .iter()
            .filter(|s| seen.insert(s.uid.clone()))
            .take(3)
            .cloned()
            .map(|mut s| {
                s.conditions.insert("Ready".into(), false);
                s
            })
            .collect();
        timeline.extend(down);
        assert_eq!(max_unavailable(&three).unwrap().verdict, Verdict::Fail);
        let mut unused = real.clone();
        unused.steps[0].timeline.truncate(4);
        assert_eq!(max_unavailable(&unused).unwrap().verdict, Verdict::Fail);
        assert!(max_unavailable(&fixture("partition.json")).is_none());
    }

    /// Under a PodUnavailableBudget of 1: the real recording (one pod at a
    /// time, the budget spent and given back four times) passes; a budget
    /// never given back, or two pods down at once, fails.
    #[test]
    fn a_pod_unavailable_budget_caps_the_update_and_is_given_back() {
        let real = fixture("unavailable-budget.json");
        assert_eq!(
            allowed_sequence(&real.steps[0].budgets),
            [1, 0, 1, 0, 1, 0, 1, 0, 1]
        );
        assert_eq!(max_unavailable(&real).unwrap().verdict, Verdict::Pass);
        let mut kept = real.clone();
        kept.steps[0].budgets.pop();
        assert_eq!(max_unavailable(&kept).unwrap().verdict, Verdict::Fail);
        let mut two = real.clone();
        let mut second = two.steps[0]
            .timeline
            .iter()
            .find(|s| s.conditions.get("Ready") == Some(&false))
            .cloned()
            .unwrap();
        second.uid = "another-pod".into();
        let at = two.steps[0]
            .timeline
            .iter()
            .position(|s| s.conditions.get("Ready") == Some(&false))
            .unwrap();
        two.steps[0].timeline.insert(at + 1, second);
        assert_eq!(peak_unavailable(&two.steps[0].timeline), 2);
        assert_eq!(max_unavailable(&two).unwrap().verdict, Verdict::Fail);
    }

    /// The real pre-download recording passes; a job that failed, one that
    /// completed only after the partition was lowered, a pod that took the
    /// image before, and a kubelet that pulled it anyway each fail.
    #[test]
    fn a_pre_downloaded_image_is_pulled_first_and_found_on_the_node() {
        let real = healthy(fixture("image-predownload.json"));
        let checks = predownload::pre_downloaded(&real);
        assert_eq!(checks.len(), 3);
        assert!(
            checks.iter().all(|c| c.verdict == Verdict::Pass),
            "{checks:#?}"
        );
        assert!(failed_ids(&real).is_empty(), "{:?}", failed_ids(&real));
        let edited = |edit: &dyn Fn(&mut UpdateStep)| {
            let mut record = real.clone();
            edit(&mut record.steps[0]);
            failed_ids(&record)
        };
        fn job(s: &mut UpdateStep) -> &mut crate::model::record::ImagePullJobSample {
            &mut s.pre_download.as_mut().unwrap().jobs[0]
        }
        assert_eq!(
            edited(&|s| job(s).failed = 1),
            vec!["predownload.pulled-first.step-1"]
        );
        assert_eq!(
            edited(&|s| job(s).completion_time = Some("2026-12-06T23:46:30Z".into())),
            vec!["predownload.pulled-first.step-1"]
        );
        assert_eq!(
            edited(&|s| job(s).owner = "CloneSet/other".into()),
            vec!["predownload.pulled-first.step-1"]
        );
        assert_eq!(
            edited(&|s| {
                let image = s.pre_download.as_ref().unwrap().image.clone();
                let early = s.timeline.first_mut().unwrap();
                early.images.insert("app".into(), image);
            }),
            vec!["predownload.held-back.step-1"]
        );
        assert_eq!(
            edited(&|s| {
                let pulled = s.events.iter_mut().find(|e| e.reason == "Pulled").unwrap();
                pulled.reason = "Pulling".into();
            }),
            vec!["predownload.no-pull.step-1"]
        );
    }

    /// A rollout that must halt: the real recordings (one of three pods
    /// stuck for 60 s, the workload counting none updated and ready, that
    /// pod taken back in place) pass; a second pod taking the bad image, a
    /// pod ready on it, an updated pod counted ready or a hold cut short
    /// fail, and so does the unready recording judged as a failing pull.
    #[test]
    fn a_halted_rollout_stays_halted_until_reverted() {
        for name in ["bad-image-halts.json", "unready-image-halts.json"] {
            let real = fixture(name);
            let checks = halted_rollout(&real);
            assert_eq!(checks.len(), 3, "{name}");
            for c in &checks {
                assert_eq!(c.verdict, Verdict::Pass, "{name}: {c:?}");
            }
            assert_eq!(verdict_of(&real), Verdict::Pass, "{name}");
        }
        let real = fixture("bad-image-halts.json");
        let verdict_of_check = |record: &ScenarioRecord, id: &str| {
            halted_rollout(record)
                .into_iter()
                .find(|c| c.id == id)
                .unwrap()
                .verdict
        };
        let hold = real.steps[0].hold.clone().unwrap();
        let mut second = real.clone();
        let step = &mut second.steps[0];
        let took = step.took_the_hold();
        let mut other = step
            .timeline
            .iter()
            .find(|s| !took.contains(&s.pod))
            .cloned()
            .unwrap();
        other
            .images
            .insert(hold.container.clone(), hold.image.clone());
        other.at = hold.halted_at.clone();
        step.timeline.push(other);
        assert_eq!(verdict_of_check(&second, "halt.took-it"), Verdict::Fail);

        let mut counted = real.clone();
        counted.steps[0].hold.as_mut().unwrap().workload[0].updated_ready_replicas = Some(1);
        assert_eq!(verdict_of_check(&counted, "halt.held"), Verdict::Fail);

        let mut short = real.clone();
        let halted = crate::time_key(&hold.halted_at).unwrap();
        short.steps[0].hold.as_mut().unwrap().reverted_at =
            (halted + k8s_openapi::jiff::SignedDuration::from_secs(30)).to_string();
        assert_eq!(verdict_of_check(&short, "halt.held"), Verdict::Fail);

        let unready = fixture("unready-image-halts.json");
        let mut ready = unready.clone();
        let step = &mut ready.steps[0];
        let hold = step.hold.clone().unwrap();
        let reverted = crate::time_key(&hold.reverted_at);
        let on_it = step
            .timeline
            .iter_mut()
            .filter(|s| s.images.get(&hold.container) == Some(&hold.image))
            .filter(|s| crate::time_key(&s.at) < reverted)
            .last()
            .unwrap();
        on_it.containers[0].ready = true;
        assert_eq!(verdict_of_check(&ready, "halt.stuck"), Verdict::Fail);

        let mut pulled = unready.clone();
        pulled.steps[0].hold.as_mut().unwrap().state = "image pull failing".into();
        assert_eq!(verdict_of_check(&pulled, "halt.stuck"), Verdict::Fail);
        assert!(halted_rollout(&fixture("partition.json")).is_empty());
    }

    /// Rolled back while a pod waits at the in-place hook (OpenKruise v1.9.0,
    /// recorded here): no pod takes the image or restarts, the pod goes back
    /// to Normal but stays not ready: KNOWN DEFECT with its cause. The same
    /// record with the pod ready again passes, the defect not met.
    #[test]
    fn a_rollback_at_the_hook_meets_its_known_defect() {
        let real = fixture("hook-rollback.json");
        let checks = scenario_checks(&real);
        let verdict = |id: &str| checks.iter().find(|c| c.id == id).map(|c| c.verdict);
        assert_eq!(verdict("halt.took-it"), Some(Verdict::Pass));
        assert_eq!(verdict("halt.stuck"), Some(Verdict::Pass));
        assert_eq!(verdict("halt.held"), Some(Verdict::Pass));
        assert_eq!(verdict("row.restart-count.untouched"), Some(Verdict::Pass));
        assert_eq!(verdict("halt.released"), Some(Verdict::Fail));
        assert_eq!(
            verdict("known-defect.hook-rollback-left-not-ready"),
            Some(Verdict::KnownDefect)
        );
        assert_eq!(verdict_of(&real), Verdict::KnownDefect);
        let mut ready = real.clone();
        let step = &mut ready.steps[0];
        for pod in step
            .pods
            .iter()
            .map(|p| p.after.name.clone())
            .collect::<Vec<_>>()
        {
            let mut last = step
                .timeline
                .iter()
                .rfind(|s| s.pod == pod)
                .cloned()
                .unwrap();
            last.conditions.insert("KruisePodReady".into(), true);
            last.conditions.insert("Ready".into(), true);
            step.timeline.push(last);
        }
        assert_eq!(verdict_of(&ready), Verdict::Pass);
    }

    /// A CPU request no node can give, held 20 s then corrected (recorded
    /// here): the resize pending, the pod ready with its old container,
    /// nothing rebuilt; a pod not ready while pending, or rebuilt, fails.
    /// The verdict of one of the halted rollout's checks.
    fn halt_verdict(record: &ScenarioRecord, id: &str) -> Verdict {
        halted_rollout(record)
            .into_iter()
            .find(|c| c.id == id)
            .unwrap()
            .verdict
    }

    #[test]
    fn an_impossible_resize_stays_pending_and_ready() {
        let real = fixture("impossible-resize.json");
        assert_eq!(verdict_of(&real), Verdict::Pass);
        let verdict = halt_verdict;
        for id in ["halt.took-it", "halt.stuck", "halt.held"] {
            assert_eq!(verdict(&real, id), Verdict::Pass, "{id}");
        }
        let pending = |s: &crate::model::record::PodSample| {
            s.conditions.get("PodResizePending") == Some(&true)
        };
        let mut unready = real.clone();
        for s in unready.steps[0].timeline.iter_mut().filter(|s| pending(s)) {
            s.conditions.insert("Ready".into(), false);
        }
        assert_eq!(verdict(&unready, "halt.stuck"), Verdict::Fail);
        let mut rebuilt = real.clone();
        for s in rebuilt.steps[0].timeline.iter_mut().filter(|s| pending(s)) {
            s.containers[0].id = "containerd://other".into();
        }
        assert_eq!(verdict(&rebuilt, "halt.stuck"), Verdict::Fail);
    }

    /// Three Advanced StatefulSet pods, one per node of a four-node cluster,
    /// recorded here: one pod per node, updated from app-2 down to app-0.
    /// Two pods on one node, or app-0 before app-1, fail.
    #[test]
    fn a_spread_statefulset_is_updated_in_ordinal_order_one_pod_per_node() {
        let real = fixture("asts-spread.json");
        assert_eq!(verdict_of(&real), Verdict::Pass);
        let ids: Vec<String> = spread::spread(&real).into_iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            vec![
                "premise.one-pod-per-node.step-1",
                "statefulset.ordinal-order.step-1"
            ]
        );
        let mut crowded = real.clone();
        let node = crowded.steps[0].pods[0].before.node.clone();
        crowded.steps[0].pods[1].before.node = node;
        // Moving the pod's recorded node fails the scheduling row too.
        assert_eq!(
            failed_ids(&crowded),
            vec!["row.scheduling", "premise.one-pod-per-node.step-1"]
        );
        let mut reordered = real.clone();
        for sample in reordered.steps[0].timeline.iter_mut() {
            sample.pod = match sample.pod.as_str() {
                "app-0" => "app-1".into(),
                "app-1" => "app-0".into(),
                other => other.into(),
            };
        }
        assert!(
            failed_ids(&reordered).contains(&"statefulset.ordinal-order.step-1".to_string()),
            "{:?}",
            failed_ids(&reordered)
        );
        assert!(spread::spread(&fixture("asts-inplace.json")).is_empty());
    }

    /// A memory limit below the container's usage, recorded here: the
    /// kubelet refuses it (PodResizeInProgress, reason Error, its message
    /// kept), the pod keeps its container and stays ready through the hold,
    /// the old limit goes back. A container rebuilt or OOM-killed while
    /// held, a pod not ready, a refusal never seen or a hold cut short fail.
    #[test]
    fn a_memory_limit_below_usage_is_refused_and_nothing_is_killed() {
        let real = fixture("memory-below-usage.json");
        assert_eq!(verdict_of(&real), Verdict::Pass);
        let hold = real.steps[0].hold.as_ref().unwrap();
        assert!(
            hold.conditions[0].contains("PodResizeInProgress Error: cannot decrease memory"),
            "{:?}",
            hold.conditions
        );
        let verdict = halt_verdict;
        for id in ["halt.took-it", "halt.stuck", "halt.held"] {
            assert_eq!(verdict(&real, id), Verdict::Pass, "{id}");
        }
        let refused = |s: &crate::model::record::PodSample| {
            s.conditions.get("PodResizeInProgress") == Some(&true)
        };
        let mut killed = real.clone();
        for s in killed.steps[0].timeline.iter_mut().filter(|s| refused(s)) {
            s.containers[0].id = "containerd://other".into();
        }
        assert_eq!(verdict(&killed, "halt.stuck"), Verdict::Fail);
        let mut unready = real.clone();
        for s in unready.steps[0].timeline.iter_mut().filter(|s| refused(s)) {
            s.conditions.insert("Ready".into(), false);
        }
        assert_eq!(verdict(&unready, "halt.stuck"), Verdict::Fail);
        let mut never = real.clone();
        for s in never.steps[0].timeline.iter_mut() {
            s.conditions.remove("PodResizeInProgress");
        }
        assert_eq!(verdict(&never, "halt.took-it"), Verdict::Fail);
        let mut short = real.clone();
        short.steps[0].hold.as_mut().unwrap().wanted_ms = 60_000;
        assert_eq!(verdict(&short, "halt.held"), Verdict::Fail);
    }

    /// pods/resize of the memory limit, recorded here: up then down with
    /// NotRequired (no restart), up with RestartContainer (+1), each limit in
    /// the cgroup; a cgroup left on the old limit fails.
    #[test]
    fn a_memory_resize_reaches_the_cgroup() {
        for name in ["pod-resize-memory.json", "pod-resize-memory-restart.json"] {
            let real = fixture(name);
            assert_eq!(verdict_of(&real), Verdict::Pass, "{name}");
            assert_eq!(
                memory_limit_applied(&real).unwrap().verdict,
                Verdict::Pass,
                "{name}"
            );
        }
        let mut stale = fixture("pod-resize-memory.json");
        let pod = &mut stale.steps[1].pods[0];
        let before = pod.before.containers[0].inside.memory_limit.clone();
        pod.after.containers[0].inside.memory_limit = before;
        assert_eq!(memory_limit_applied(&stale).unwrap().verdict, Verdict::Fail);
        assert!(memory_limit_applied(&fixture("pod-resize.json")).is_none());
    }

    /// The harness as a hook controller: the real recording (each pod held
    /// 10 s in PreparingUpdate with its old container, then Updating ->
    /// Updated -> Normal, one after the other) passes; a container rebuilt
    /// or the gate True while held, overlapping turns or a skipped state
    /// fail; a moment of Ready=True while the gate is False is the known
    /// race, told and passed.
    #[test]
    fn an_in_place_hook_holds_each_pod_in_turn() {
        let real = fixture("lifecycle-hook.json");
        let verdict = |record: &ScenarioRecord, id: &str| {
            let c = in_place_hooks(record)
                .into_iter()
                .find(|c| c.id == id)
                .unwrap();
            (c.verdict, c.races)
        };
        for id in ["hook.waited", "hook.cycle", "hook.one-at-a-time"] {
            assert_eq!(verdict(&real, id), (Verdict::Pass, vec![]), "{id}");
        }
        assert_eq!(verdict_of(&real), Verdict::Pass);
        let hooks = real.steps[0].hooks.clone().unwrap();
        let first = hooks.turns[0].clone();
        // A sample of the first pod in the middle of its wait, changed.
        let held = |edit: &dyn Fn(&mut crate::model::record::PodSample)| {
            let mut record = real.clone();
            let step = &mut record.steps[0];
            let mut sample = step
                .timeline
                .iter()
                .rfind(|s| {
                    s.pod == first.pod
                        && crate::time_key(&s.at) < crate::time_key(&first.released_at)
                })
                .cloned()
                .unwrap();
            let mid = crate::time_key(&first.prepared_at).unwrap()
                + k8s_openapi::jiff::SignedDuration::from_secs(5);
            sample.at = mid.to_string();
            edit(&mut sample);
            let at = step
                .timeline
                .iter()
                .position(|s| crate::time_key(&s.at) > Some(mid))
                .unwrap();
            step.timeline.insert(at, sample);
            record
        };
        let rebuilt = held(&|s| s.containers[0].id = "containerd://other".into());
        assert_eq!(verdict(&rebuilt, "hook.waited").0, Verdict::Fail);
        let gate_open = held(&|s| {
            s.conditions.insert("KruisePodReady".into(), true);
        });
        assert_eq!(verdict(&gate_open, "hook.waited").0, Verdict::Fail);
        let flap = held(&|s| {
            s.conditions.insert("Ready".into(), true);
        });
        assert_eq!(
            verdict(&flap, "hook.waited"),
            (Verdict::Pass, vec!["stale-ready-republished".to_string()])
        );
        let mut overlapping = real.clone();
        let turns = &mut overlapping.steps[0].hooks.as_mut().unwrap().turns;
        turns[1].prepared_at = turns[0].released_at.clone();
        assert_eq!(verdict(&overlapping, "hook.one-at-a-time").0, Verdict::Fail);
        let mut skipped = real.clone();
        skipped.steps[0]
            .timeline
            .retain(|s| !(s.pod == first.pod && s.lifecycle_state == "Updated"));
        assert_eq!(verdict(&skipped, "hook.cycle").0, Verdict::Fail);
        assert!(in_place_hooks(&fixture("inplace-image.json")).is_empty());
        // The watch delivered PreparingUpdate 3 ms after the harness saw it:
        // the wait is judged from there, not from the older Normal sample.
        let behind = fixture("quirks/lifecycle-hook-watch-behind.json");
        assert_eq!(verdict(&behind, "hook.waited").0, Verdict::Pass);
    }

    /// OpenKruise v1.8.2 -> v1.9.0 under live workloads, recorded here: the
    /// workload is left alone and the CloneSet's change goes in place, but
    /// the webhooks are lost (a known defect: KNOWN DEFECT, not FAIL); the
    /// Advanced DaemonSet meets its own defect too. The same records with
    /// the webhooks kept pass, or say "fixed there?" on other versions; a
    /// pod changed by the upgrade, or a component left on the old image,
    /// fails.
    #[test]
    fn an_upgrade_under_live_workloads_is_judged_with_its_known_defects() {
        let id_verdict = |record: &ScenarioRecord, id: &str| {
            scenario_checks(record)
                .into_iter()
                .find(|c| c.id == id)
                .map(|c| (c.verdict, c.observed))
        };
        let cloneset = fixture("upgrade/upgrade-cloneset.json");
        for id in ["upgrade.moved", "upgrade.left-alone", "row.pod-identity"] {
            assert_eq!(id_verdict(&cloneset, id).unwrap().0, Verdict::Pass, "{id}");
        }
        assert_eq!(
            id_verdict(&cloneset, "upgrade.webhooks").unwrap().0,
            Verdict::Fail
        );
        let known = id_verdict(&cloneset, "known-defect.webhook-template-kept").unwrap();
        assert_eq!(known.0, Verdict::KnownDefect);
        assert!(known.1.contains("configuration.go"), "{}", known.1);
        assert_eq!(verdict_of(&cloneset), Verdict::KnownDefect);
        let ads = fixture("upgrade/upgrade-ads.json");
        assert_eq!(verdict_of(&ads), Verdict::KnownDefect);
        assert_eq!(
            id_verdict(&ads, "known-defect.ads-pods-of-v1alpha1-ignored")
                .unwrap()
                .0,
            Verdict::KnownDefect
        );
        assert_eq!(
            verdict_of(&fixture("upgrade/upgrade-sidecarset.json")),
            Verdict::KnownDefect
        );

        // The webhooks kept: the CloneSet passes, the defect not met.
        let mut kept = cloneset.clone();
        let upgrade = kept.faults[0].upgrade.as_mut().unwrap();
        upgrade.webhooks_after = upgrade.webhooks_before.clone();
        assert_eq!(verdict_of(&kept), Verdict::Pass);
        let not_met = id_verdict(&kept, "known-defect.webhook-template-kept").unwrap();
        assert!(not_met.1.contains("not met this time"), "{}", not_met.1);
        // ... on a release it is not known on: fixed there?
        let mut later = kept.clone();
        later.faults[0].upgrade.as_mut().unwrap().to = "v1.9.1".into();
        let fixed = id_verdict(&later, "known-defect.webhook-template-kept").unwrap();
        assert!(fixed.1.contains("fixed there?"), "{}", fixed.1);
        // A downgrade is not what the defect is known on.
        let mut back = kept.clone();
        let u = back.faults[0].upgrade.as_mut().unwrap();
        (u.from, u.to) = ("v1.9.0".into(), "v1.8.2".into());
        assert!(id_verdict(&back, "known-defect.webhook-template-kept").is_none());

        let mut touched = kept.clone();
        let upgrade = touched.faults[0].upgrade.as_mut().unwrap();
        upgrade
            .changes
            .push("pod/app-x: restarts 0 -> restarts 1".into());
        assert_eq!(
            id_verdict(&touched, "upgrade.left-alone").unwrap().0,
            Verdict::Fail
        );
        assert_eq!(verdict_of(&touched), Verdict::Fail);
        let mut stale = kept.clone();
        let upgrade = stale.faults[0].upgrade.as_mut().unwrap();
        let pod = upgrade.components_after.keys().next().unwrap().clone();
        upgrade
            .components_after
            .insert(pod, "localhost/openkruise/kruise-manager:v1.8.2".into());
        assert_eq!(
            id_verdict(&stale, "upgrade.moved").unwrap().0,
            Verdict::Fail
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
