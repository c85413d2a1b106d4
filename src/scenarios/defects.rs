//! Known upstream defects, as data: a scenario that meets one on the
//! versions it is known on gets the verdict KNOWN DEFECT with the link
//! (the gate policy's `known_defects` decides whether that blocks); on
//! other versions, a scenario that no longer meets it says so ("not met
//! with ...: fixed there?"), so a gate notices when upstream changes
//! behaviour. Each defect recognises itself from the record, by evidence,
//! never by the scenario's failure alone.

use crate::model::record::{ScenarioRecord, UpgradeRecord};

/// One known defect.
#[derive(Debug, Clone, Copy)]
pub struct Defect {
    /// Stable name, kept in results.
    pub name: &'static str,
    /// The scenarios it can show in.
    pub scenarios: &'static [&'static str],
    /// The upgrades it is known on ("v1.8.2 -> v1.9.0").
    pub seen_on: &'static [&'static str],
    /// What a user sees.
    pub symptom: &'static str,
    /// Why, from the recordings and the sources.
    pub cause: &'static str,
    /// What to do about it.
    pub workaround: &'static str,
    /// Where upstream: an issue, or the source line.
    pub upstream: &'static str,
    /// Whether it applies to this record at all (the versions it could
    /// show on), and whether the record shows it.
    pub applies: fn(&ScenarioRecord) -> bool,
    pub met: fn(&ScenarioRecord) -> bool,
}

fn upgrade(record: &ScenarioRecord) -> Option<&UpgradeRecord> {
    record.faults.iter().find_map(|f| f.upgrade.as_ref())
}

/// "vMAJOR.MINOR" of a version.
fn minor(version: &str) -> &str {
    match version.match_indices('.').nth(1) {
        Some((at, _)) => &version[..at],
        None => version,
    }
}

/// An upgrade from a release before v1.9 to v1.9 or later.
fn into_v1_9(record: &ScenarioRecord) -> bool {
    upgrade(record).is_some_and(|u| {
        let (from, to) = (minor(&u.from), minor(&u.to));
        older(from, "v1.9") && !older(to, "v1.9")
    })
}

/// `a` is an older "vMAJOR.MINOR" than `b`.
fn older(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u32> {
        v.trim_start_matches('v')
            .split('.')
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    parse(a) < parse(b)
}

/// OpenKruise rebuilds its webhook configurations from a `template`
/// annotation it wrote when it first started; an upgrade that applies the
/// new manifests leaves the old template in place, and every webhook whose
/// path the new release renamed is dropped.
pub const WEBHOOK_TEMPLATE_KEPT: Defect = Defect {
    name: "webhook-template-kept",
    scenarios: &[
        "upgrade-cloneset",
        "upgrade-asts",
        "upgrade-ads",
        "upgrade-sidecarset",
    ],
    seen_on: &["v1.8.2 -> v1.9.0"],
    symptom: "after the upgrade OpenKruise serves only the admission webhooks whose path did \
              not change (pods, StatefulSets): the CloneSet, DaemonSet, SidecarSet, \
              ContainerRecreateRequest, ... webhooks are gone, and a SidecarSet's image change \
              never reaches its pods",
    cause: "kruise-manager keeps the webhook list it first saw in the configurations' \
            `template` annotation and rebuilds them from it, dropping paths it does not serve \
            (pkg/webhook/util/configuration/configuration.go: parseMutatingTemplate); v1.9.0 \
            renamed /mutate-apps-kruise-io-v1alpha1-<kind> to /mutate-apps-kruise-io-<kind>, \
            and applying its manifests does not remove the v1.8 template",
    workaround: "scale kruise-controller-manager to 0, delete the `template` annotation of \
                 kruise-mutating-webhook-configuration and kruise-validating-webhook-\
                 configuration, apply the new manifests again (measured here: all 12 mutating \
                 webhooks back, sidecarset-upgrade passes)",
    upstream: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/webhook/util/configuration/configuration.go#L184",
    applies: into_v1_9,
    met: |record| upgrade(record).is_some_and(|u| !u.webhooks_lost().is_empty()),
};

/// v1.9.0's Advanced DaemonSet controller maps a pod's events to its
/// DaemonSet only through an owner reference of `apps.kruise.io/v1beta1`;
/// pods v1.8 created say `v1alpha1`.
pub const ADS_OWNER_VERSION: Defect = Defect {
    name: "ads-pods-of-v1alpha1-ignored",
    scenarios: &["upgrade-ads"],
    seen_on: &["v1.8.2 -> v1.9.0"],
    symptom: "an in-place update of an Advanced DaemonSet pod created before the upgrade never \
              completes: the container runs the new image and is ready, but InPlaceUpdateReady \
              stays False, the pod not ready, the rollout stuck",
    cause: "daemonset_event_handler.go resolveControllerRef returns nothing unless the owner \
            reference's apiVersion is apps.kruise.io/v1beta1; v1.8 created the pods with \
            apps.kruise.io/v1alpha1, so their status changes never requeue the DaemonSet and \
            the in-place update is never marked done",
    workaround: "delete the DaemonSet's pods after the upgrade (recreated with v1beta1 owner \
                 references), or trigger a DaemonSet resync by hand",
    upstream: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/controller/daemonset/daemonset_event_handler.go#L189",
    applies: into_v1_9,
    met: |record| {
        let stuck_gate = record.steps.iter().any(|s| {
            s.timeline.iter().rev().take(1).any(|p| {
                p.conditions.get("InPlaceUpdateReady") == Some(&false)
                    && p.containers.iter().all(|c| c.ready)
            })
        });
        let timed_out = record
            .error
            .as_deref()
            .is_some_and(|e| e.contains("Advanced DaemonSet") && e.contains("timed out"));
        timed_out || stuck_gate
    },
};

/// A rollback while a pod waits at its in-place hook moves the pod from
/// PreparingUpdate straight back to Normal (the fix of issue 1156), but
/// only the move to Updated gives back the readiness `markPodNotReady` took.
pub const HOOK_ROLLBACK_NOT_READY: Defect = Defect {
    name: "hook-rollback-left-not-ready",
    scenarios: &["hook-rollback"],
    seen_on: &["v1.9.0"],
    symptom: "rolled back while a pod waited at its in-place update hook with markPodNotReady, \
              the pod goes back to Normal but stays not ready (KruisePodReady False): out of \
              its Service for good, the CloneSet never converges",
    cause: "cloneset_update.go refreshPodState moves a PreparingUpdate pod already on the \
            update revision to Normal (issue 1156's fix); lifecycle_utils.go \
            executePodNotReadyPolicy removes the not-ready key only on the move to Updated, \
            so the KruisePodReady=False it set at PreparingUpdate stays (issue 2177 asks for \
            Updated instead of Normal there)",
    workaround: "after a rollback, remove the lifecycle-hook not-ready message from the pod's \
                 KruisePodReady condition, or delete the pod; or roll forward instead",
    upstream: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/util/lifecycle/lifecycle_utils.go#L121",
    applies: |_| true,
    met: |record| {
        record.steps.iter().any(|step| {
            let Some(hold) = &step.hold else {
                return false;
            };
            let until = crate::time_key(&hold.reverted_at);
            let held: std::collections::BTreeSet<&str> = step
                .timeline
                .iter()
                .filter(|s| {
                    crate::time_key(&s.at) < until && s.lifecycle_state == "PreparingUpdate"
                })
                .map(|s| s.pod.as_str())
                .collect();
            held.iter().any(|pod| {
                step.timeline
                    .iter()
                    .rev()
                    .find(|s| s.pod == *pod)
                    .is_some_and(|last| {
                        last.lifecycle_state == "Normal"
                            && last.conditions.get("KruisePodReady") == Some(&false)
                    })
            })
        })
    },
};

/// Every known defect.
pub const ALL: &[Defect] = &[
    WEBHOOK_TEMPLATE_KEPT,
    ADS_OWNER_VERSION,
    HOOK_ROLLBACK_NOT_READY,
];

/// The known defects of `record`'s scenario that apply to its versions,
/// with whether it met each.
pub fn of(record: &ScenarioRecord) -> Vec<(&'static Defect, bool)> {
    ALL.iter()
        .filter(|d| d.scenarios.contains(&record.scenario.as_str()))
        .filter(|d| (d.applies)(record))
        .map(|d| (d, (d.met)(record)))
        .collect()
}

/// "v1.8.2 -> v1.9.0", the upgrade a record went through, else the
/// OpenKruise version it ran on.
pub fn versions(record: &ScenarioRecord) -> Option<String> {
    upgrade(record)
        .map(|u| format!("{} -> {}", u.from, u.to))
        .or_else(|| record.cluster.kruise_version.clone())
}

pub fn named(name: &str) -> Option<&'static Defect> {
    ALL.iter().find(|d| d.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_linked() {
        for d in ALL {
            assert_eq!(named(d.name).map(|n| n.name), Some(d.name));
            assert!(d.upstream.starts_with("https://"));
            for s in d.scenarios {
                crate::scenarios::catalog::find(s).unwrap();
            }
        }
    }

    #[test]
    fn versions_compare_by_number() {
        assert!(older("v1.8", "v1.9"));
        assert!(older("v1.9", "v1.10"));
        assert!(!older("v1.9", "v1.9"));
        assert_eq!(minor("v1.8.2"), "v1.8");
    }
}
