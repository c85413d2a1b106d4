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
