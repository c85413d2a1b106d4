//! What each change must have done: metadata on the pod, env seen by the
//! container, the controller's report, the CPU limit, the injected fault.

use super::*;

/// A faults-profile scenario proves its fault happened and that what it
/// broke came back (the update's own checks judge the rest); without the
/// fault's record, the scenario proved nothing about it.
pub(super) fn fault_injected(record: &ScenarioRecord) -> Option<Check> {
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
pub(super) fn planned_fault(record: &ScenarioRecord) -> Option<(String, String)> {
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

/// Labels and annotations the change set are on the pods it reached (every
/// pod for a direct pod patch, the updated ones for a template change).
pub(super) fn metadata_applied(record: &ScenarioRecord) -> Option<Check> {
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
pub(super) fn env_seen(record: &ScenarioRecord) -> Option<Check> {
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
pub(super) fn reported_done(record: &ScenarioRecord) -> Option<Check> {
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
pub(super) fn cpu_limit_applied(record: &ScenarioRecord) -> Option<Check> {
    limit_applied(record, &CPU_LIMIT)
}

/// The same for a memory limit: the cgroup's memory limit in bytes.
pub(super) fn memory_limit_applied(record: &ScenarioRecord) -> Option<Check> {
    limit_applied(record, &MEMORY_LIMIT)
}

/// One resource whose limit a change sets and the cgroup shows.
struct LimitCheck {
    resource: &'static str,
    id: &'static str,
    name: &'static str,
    expected: &'static str,
    unit: &'static str,
    inside: fn(&crate::model::record::InsideView) -> Option<i64>,
}

const CPU_LIMIT: LimitCheck = LimitCheck {
    resource: "cpu",
    id: "cpu-limit-applied",
    name: "the new CPU limit is in the container's cgroup",
    expected: "cgroup CPU quota changes to the new limit",
    unit: "m",
    inside: |v| v.cpu_limit_millicores(),
};

const MEMORY_LIMIT: LimitCheck = LimitCheck {
    resource: "memory",
    id: "memory-limit-applied",
    name: "the new memory limit is in the container's cgroup",
    expected: "cgroup memory limit changes to the new limit",
    unit: " bytes",
    inside: |v| v.memory_limit_bytes(),
};

fn limit_applied(record: &ScenarioRecord, limit: &LimitCheck) -> Option<Check> {
    let mut seen = Vec::new();
    let mut problems = Vec::new();
    let key = format!("{} limit", limit.resource);
    for step in &record.steps {
        let Some(quantity) = step.change.details.get(&key) else {
            continue;
        };
        let wanted = crate::changes::pod_resize::amount(limit.resource, quantity);
        for pod in step.updated_pods() {
            for name in &step.change.containers {
                let Some((b, a)) = container_pair(pod, name) else {
                    continue;
                };
                let (before, after) = ((limit.inside)(&b.inside), (limit.inside)(&a.inside));
                let shown = |v: Option<i64>| {
                    v.map(|v| format!("{v}{}", limit.unit))
                        .unwrap_or("?".into())
                };
                seen.push(format!(
                    "#{} {name} cgroup {} {} -> {}",
                    step.index + 1,
                    limit.resource,
                    shown(before),
                    shown(after)
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
            limit.id,
            limit.name,
            &[],
            limit.expected,
            seen.join("; "),
            Verdict::from_bool(problems.is_empty()),
        )
    })
}
