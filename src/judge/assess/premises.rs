//! Premises and the suite invariant: the workload created as planned, the
//! markers on the intended filesystems, a pull per update, kruise's own
//! events, OpenKruise not restarting during the scenario.

use super::*;

/// The premise that the workload was created as planned: a field the
/// cluster changed (a mutating webhook, a policy) would make every other
/// verdict of the scenario one about another workload. Recordings made
/// before the comparison existed carry none.
pub(super) fn created_as_planned(record: &ScenarioRecord) -> Option<Check> {
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

/// Kruise's own account of what it did ("the update really happened in
/// place", or recreated), and what it must not have done.
pub(super) fn kruise_events(record: &ScenarioRecord) -> Vec<Check> {
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

/// A marker only means something if it sits where we think: each rootfs
/// one on its container's overlay root, the memory one on tmpfs, the disk
/// and PVC ones on non-tmpfs mounts of their own (a PVC in node memory
/// would prove nothing about persistence).
pub(super) fn mount_premise(record: &ScenarioRecord) -> Check {
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
pub(super) fn delivery_premise(record: &ScenarioRecord) -> Option<Check> {
    if !record.image_delivery.pulls() {
        return None;
    }
    let mut wanted = 0;
    let mut missing = Vec::new();
    // A pre-downloaded image reached the node through kruise's
    // ImagePullJob, judged by `predownload.pulled-first`.
    for step in record
        .steps
        .iter()
        .filter(|s| s.updated_pods().next().is_some() && s.pre_download.is_none())
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

/// Suite invariant copied from kruise's e2e: its components do not restart
/// during a scenario, matched by pod and container between the scenario's
/// start and end. Restarts the cluster had before the scenario do not fail
/// it (a long-lived cluster keeps them for good) but are named. A component
/// pod replaced during the scenario fails it too, unless the scenario's own
/// fault killed it (its record names the pod) and the new pod has the same
/// owner. Without a start record, every restart counts.
pub(super) fn kruise_components_stable(record: &ScenarioRecord) -> Check {
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
    // An OpenKruise upgrade replaces every component pod: expected, and
    // recorded as replaced.
    let upgraded = record.faults.iter().any(|f| f.upgrade.is_some());
    let killed: Vec<&ComponentRestarts> = gone
        .iter()
        .copied()
        .filter(|s| {
            upgraded
                || record
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
            None if upgraded || killed.iter().any(|k| owner(&k.pod) == owner(&c.pod)) => {
                replaced.push(name(c));
                if c.restart_count != 0 {
                    during.push(format!(
                        "{}={} (replacement of a pod the fault killed or replaced)",
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
        "invariant: kruise-manager and kruise-daemon do not restart during the scenario",
        &[],
        "0 restarts during the scenario",
        observed,
        verdict,
    )
}
