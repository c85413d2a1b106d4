//! A rollout that must halt (`changes::halted_image`): exactly
//! `maxUnavailable` pods take the bad image and stay stuck with it (or,
//! held at the in-place hook, stop there before the image reaches them),
//! the workload counts none of them updated and ready, nothing else moves
//! for the whole hold; the revert is judged by the rows (the pods that took
//! it are the step's updated pods, the others untouched), and a pod held at
//! the hook must be released by it. Read from the step's pod timeline and
//! the workload counts sampled through the hold.

use super::*;
use crate::changes::Stuck;
use crate::model::record::{HoldRecord, PodSample};

/// The three checks of every held step.
pub(super) fn halted_rollout(record: &ScenarioRecord) -> Vec<Check> {
    let held: Vec<(&UpdateStep, &HoldRecord)> = record
        .steps
        .iter()
        .filter_map(|s| s.hold.as_ref().map(|h| (s, h)))
        .collect();
    if held.is_empty() {
        return Vec::new();
    }
    let allowed = record
        .plan
        .as_ref()
        .and_then(|p| p.max_unavailable)
        .unwrap_or(1);
    let mut checks = vec![
        took_it(record, &held, allowed),
        stuck(record, &held),
        held_still(record, &held, allowed),
    ];
    if held.iter().any(|(_, h)| state_of(h) == Some(Stuck::AtHook)) {
        checks.push(released(record, &held));
    }
    checks
}

fn state_of(hold: &HoldRecord) -> Option<Stuck> {
    Stuck::from_description(&hold.state)
}

/// The pods the change held: those that took the image, or, at the hook,
/// those seen waiting there before the revert.
fn held_pods(step: &UpdateStep, hold: &HoldRecord) -> std::collections::BTreeSet<String> {
    match state_of(hold) {
        Some(state) if !state.takes_the_image() => {
            let until = crate::time_key(&hold.reverted_at);
            step.timeline
                .iter()
                .filter(|s| crate::time_key(&s.at) < until)
                .filter(|s| state.sampled_by(s, &Default::default()))
                .map(|s| s.pod.clone())
                .collect()
        }
        _ => step.took_the_hold(),
    }
}

fn took_it(record: &ScenarioRecord, held: &[(&UpdateStep, &HoldRecord)], allowed: i64) -> Check {
    let mut seen = Vec::new();
    let mut pass = true;
    let held_state = held.iter().find_map(|(_, h)| state_of(h));
    for (step, hold) in held {
        let pods = held_pods(step, hold);
        let took = step.took_the_hold();
        // A resize through pods/resize reaches every pod at once.
        let wanted = match state_of(hold) {
            Some(Stuck::ResizeRefused) => step.pods.len() as i64,
            _ => allowed,
        };
        pass &= pods.len() as i64 == wanted;
        let mut row = format!(
            "#{}: {} of {} pod(s): {}",
            step.index + 1,
            pods.len(),
            step.pods.len(),
            names(pods.iter())
        );
        if state_of(hold).is_some_and(|s| !s.takes_the_image()) {
            pass &= took.is_empty();
            row.push_str(&format!(
                "; pods that took the image: {}",
                names(took.iter())
            ));
        }
        seen.push(row);
    }
    let (name, expected) = match held_state {
        Some(Stuck::AtHook) => (
            "pods stopped at the in-place hook",
            format!("exactly maxUnavailable ({allowed}), none of them on the new image"),
        ),
        Some(Stuck::ResizePending) => (
            "pods with the resize pending",
            format!("exactly maxUnavailable ({allowed})"),
        ),
        Some(Stuck::ResizeRefused) => (
            "pods with the resize refused",
            "every pod the resize reached".to_string(),
        ),
        _ => (
            "pods that took the bad image",
            format!("exactly maxUnavailable ({allowed}), before the revert"),
        ),
    };
    check(
        record,
        "halt.took-it",
        name,
        &[],
        expected,
        seen.join("; "),
        Verdict::from_bool(pass),
    )
}

/// Held at the hook, then rolled back: every pod ends Normal and ready
/// (OpenKruise issue 1156: a rollback while a pod waited in PreparingUpdate
/// left it stuck there).
fn released(record: &ScenarioRecord, held: &[(&UpdateStep, &HoldRecord)]) -> Check {
    let mut seen = Vec::new();
    let mut pass = true;
    for (step, _) in held {
        for pod in &step.pods {
            let last = step.timeline.iter().rev().find(|s| s.pod == pod.after.name);
            let (state, ready) = last.map_or(("?".to_string(), false), |s| {
                (
                    s.lifecycle_state.clone(),
                    s.conditions.get("Ready").copied().unwrap_or(false),
                )
            });
            pass &= state == "Normal" && ready;
            seen.push(format!("{}: {state}, ready {ready}", pod.after.name));
        }
    }
    check(
        record,
        "halt.released",
        "the rollback releases the pod held at the hook",
        &[],
        "every pod Normal and ready once the old template is back (OpenKruise issue 1156)",
        seen.join("; "),
        Verdict::from_bool(pass),
    )
}

/// Every pod that took it showed the stuck state during the hold, and
/// none was ever ready on the bad image.
fn stuck(record: &ScenarioRecord, held: &[(&UpdateStep, &HoldRecord)]) -> Check {
    let mut seen = Vec::new();
    let mut pass = true;
    let mut wanted = String::new();
    for (step, hold) in held {
        let Some(state) = Stuck::from_description(&hold.state) else {
            pass = false;
            seen.push(format!(
                "#{}: unknown state {:?}",
                step.index + 1,
                hold.state
            ));
            continue;
        };
        wanted = hold.state.clone();
        for pod in held_pods(step, hold) {
            let samples = held_samples(&step.timeline, hold, state, &pod);
            let shown = samples.iter().any(|(s, c)| state.sampled_by(s, c));
            // The old container keeps running (and ready) a moment after the
            // spec names the bad image, and the status keeps its ID while the
            // new image cannot be pulled: only another container counts.
            let old_id = step
                .pods
                .iter()
                .find(|p| p.before.name == pod)
                .and_then(|p| p.before.container(&hold.container))
                .and_then(|c| c.status.container_id.as_deref());
            let ready = state.takes_the_image()
                && samples
                    .iter()
                    .any(|(s, c)| Some(c.id.as_str()) != old_id && (c.ready || pod_ready(s)));
            // At the hook, or with a resize pending, the old container must
            // be the only one; a pending resize keeps the pod ready.
            let rebuilt = !state.takes_the_image()
                && samples.iter().any(|(_, c)| Some(c.id.as_str()) != old_id);
            let unready = state.is_resize() && samples.iter().any(|(s, _)| !pod_ready(s));
            pass &= shown && !ready && !rebuilt && !unready;
            seen.push(format!(
                "#{} {pod}: {}{}",
                step.index + 1,
                states_seen(&samples, old_id),
                match (ready, rebuilt, unready) {
                    (_, true, _) => ", REBUILT while held",
                    (true, false, _) => ", READY on it",
                    (_, _, true) => ", NOT READY while pending",
                    _ => "",
                }
            ));
        }
        // The kubelet's words for a resize it left undone.
        seen.extend(
            hold.conditions
                .iter()
                .map(|c| format!("#{} {c}", step.index + 1)),
        );
    }
    check(
        record,
        "halt.stuck",
        "the pods that took it stay stuck",
        &[],
        match Stuck::from_description(&wanted) {
            Some(Stuck::AtHook | Stuck::ResizePending | Stuck::ResizeRefused) => {
                format!("{wanted}, its old container the only one")
            }
            _ => format!("{wanted}, never ready on the bad image"),
        },
        seen.join("; "),
        Verdict::from_bool(pass),
    )
}

/// The hold lasted as asked, the workload counted no updated pod ready,
/// and never more than `allowed` pods were unavailable.
fn held_still(record: &ScenarioRecord, held: &[(&UpdateStep, &HoldRecord)], allowed: i64) -> Check {
    let mut seen = Vec::new();
    let mut pass = true;
    for (step, hold) in held {
        let held_ms = elapsed_ms(&hold.halted_at, &hold.reverted_at);
        // Only a status written for the change counts its revision.
        let changed = step.generation_before.map(|g| g + 1);
        let current = || {
            hold.workload.iter().filter(move |s| {
                s.observed_generation.is_none() || s.observed_generation >= changed
            })
        };
        let ready_max = current().filter_map(|s| s.updated_ready_replicas).max();
        let updated: Vec<String> = current()
            .map(|s| s.updated_replicas.map_or("?".into(), |n| n.to_string()))
            .collect();
        let peak = super::peak_unavailable(&step.timeline);
        // A pending resize leaves the pod ready: it may count as updated.
        let resize = state_of(hold).is_some_and(Stuck::is_resize);
        pass &= held_ms.is_some_and(|ms| ms >= hold.wanted_ms)
            && (resize || ready_max == Some(0))
            && peak as i64 <= allowed
            && !hold.workload.is_empty();
        seen.push(format!(
            "#{}: held {}, updatedReadyReplicas at most {}, updatedReplicas {}, at most {peak} pod(s) unavailable at once",
            step.index + 1,
            held_ms.map_or("?".into(), |ms| format!("{:.1}s", ms as f64 / 1000.0)),
            ready_max.map_or("?".into(), |n| n.to_string()),
            updated.join(" -> ")
        ));
    }
    let wanted_s = held.iter().map(|(_, h)| h.wanted_ms).max().unwrap_or(0) / 1000;
    check(
        record,
        "halt.held",
        "the rollout stays halted through the hold",
        &[],
        if held
            .iter()
            .all(|(_, h)| state_of(h).is_some_and(Stuck::is_resize))
        {
            format!(
                "at least {wanted_s}s, at most {allowed} pod(s) unavailable (a pending resize \
                 keeps the pod ready and may count it updated)"
            )
        } else {
            format!(
                "at least {wanted_s}s, updatedReadyReplicas 0, at most {allowed} pod(s) unavailable"
            )
        },
        seen.join("; "),
        Verdict::from_bool(pass),
    )
}

/// The samples of `pod` held by the change before the revert (its spec
/// naming the bad image; at the hook, waiting there), with the container's
/// state.
fn held_samples<'a>(
    timeline: &'a [PodSample],
    hold: &HoldRecord,
    state: Stuck,
    pod: &str,
) -> Vec<(&'a PodSample, &'a crate::model::record::ContainerSample)> {
    let until = crate::time_key(&hold.reverted_at);
    timeline
        .iter()
        .filter(|s| s.pod == pod && crate::time_key(&s.at) < until)
        .filter(|s| {
            if state.takes_the_image() {
                s.images.get(&hold.container) == Some(&hold.image)
            } else {
                state.sampled_by(s, &Default::default())
            }
        })
        .filter_map(|s| {
            s.containers
                .iter()
                .find(|c| c.name == hold.container)
                .map(|c| (s, c))
        })
        .collect()
}

fn pod_ready(sample: &PodSample) -> bool {
    sample.conditions.get("Ready").copied().unwrap_or(false)
}

/// "waiting ErrImagePull -> waiting ImagePullBackOff": each state once, in
/// the order first seen.
fn states_seen(
    samples: &[(&PodSample, &crate::model::record::ContainerSample)],
    old_id: Option<&str>,
) -> String {
    let mut order: Vec<String> = Vec::new();
    for (_, c) in samples {
        let state = match (c.state.as_str(), c.reason.as_str()) {
            ("running", _) if Some(c.id.as_str()) == old_id => "old container running".into(),
            ("running", _) => format!("running (ready {})", c.ready),
            (state, "") => state.to_string(),
            (state, reason) => format!("{state} {reason}"),
        };
        if !order.contains(&state) {
            order.push(state);
        }
    }
    if order.is_empty() {
        return "never seen on it".into();
    }
    order.join(" -> ")
}

fn elapsed_ms(from: &str, to: &str) -> Option<u64> {
    let (from, to) = (crate::time_key(from)?, crate::time_key(to)?);
    let span = to.duration_since(from);
    u64::try_from(span.as_millis()).ok()
}

fn names<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let all: Vec<&str> = names.map(String::as_str).collect();
    if all.is_empty() {
        "none".into()
    } else {
        all.join(", ")
    }
}
