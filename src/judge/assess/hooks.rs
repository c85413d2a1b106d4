//! An in-place update hook answered by the harness (`run::hooks`): each
//! pod waits in PreparingUpdate with its old container, not ready, for as
//! long as the hook's labels stay; goes Updating -> Updated once they are
//! removed, and Normal once they are back; the next pod starts only after.
//! Read from the step's pod timeline and the turns the harness recorded.

use super::*;
use crate::model::record::{HookRecord, HookTurn, PodSample};

/// The three checks of every step whose fixture has the hook.
pub(super) fn in_place_hooks(record: &ScenarioRecord) -> Vec<Check> {
    let hooked: Vec<(&UpdateStep, &HookRecord)> = record
        .steps
        .iter()
        .filter_map(|s| s.hooks.as_ref().map(|h| (s, h)))
        .collect();
    if hooked.is_empty() {
        return Vec::new();
    }
    vec![
        waited(record, &hooked),
        cycle(record, &hooked),
        one_at_a_time(record, &hooked),
    ]
}

/// While its labels stayed, a pod sat in PreparingUpdate with its old
/// container (same ID, same restart count, old image), not ready: kruise's
/// `KruisePodReady` gate False throughout. The kubelet may republish a
/// cached Ready=True for a moment meanwhile (the known race
/// `stale-ready-republished`); the gate, and Ready False again by the end
/// of the wait, are what is judged then.
fn waited(record: &ScenarioRecord, hooked: &[(&UpdateStep, &HookRecord)]) -> Check {
    let mut seen = Vec::new();
    let mut pass = true;
    let mut flapped = false;
    for (step, hooks) in hooked {
        for turn in &hooks.turns {
            // The pod as the watch listed it, before the change.
            let before = step.timeline.iter().find(|s| s.pod == turn.pod);
            // The harness reads the pod itself, and may see PreparingUpdate
            // a few milliseconds before the watch delivers it: the wait is
            // judged from the first sample that shows it.
            let samples: Vec<&PodSample> = between(
                &step.timeline,
                &turn.pod,
                &turn.prepared_at,
                &turn.released_at,
            )
            .into_iter()
            .skip_while(|s| s.lifecycle_state != "PreparingUpdate")
            .collect();
            let mut problems = Vec::new();
            if samples.is_empty() {
                problems.push("never seen in PreparingUpdate while waiting".to_string());
            }
            for s in &samples {
                if s.lifecycle_state != "PreparingUpdate" {
                    problems.push(format!("state {}", s.lifecycle_state));
                }
                if s.conditions.get(KRUISE_POD_READY) != Some(&false) {
                    problems.push(format!("{KRUISE_POD_READY} not False"));
                }
                if s.conditions.get("Ready") != Some(&false) {
                    flapped = true;
                }
                for c in &s.containers {
                    let old = before.and_then(|b| b.containers.iter().find(|o| o.name == c.name));
                    let same = old.is_some_and(|o| {
                        (&o.id, o.restart_count, &o.spec_image)
                            == (&c.id, c.restart_count, &c.spec_image)
                    });
                    if !same {
                        problems.push(format!("{} rebuilt or retargeted", c.name));
                    }
                }
            }
            if samples
                .last()
                .is_some_and(|s| s.conditions.get("Ready") != Some(&false))
            {
                problems.push("still ready when let go".into());
            }
            problems.dedup();
            let held = ms_between(&turn.prepared_at, &turn.released_at);
            if held.is_none_or(|ms| ms < hooks.hold_ms) {
                problems.push("let go early".into());
            }
            pass &= problems.is_empty();
            seen.push(format!(
                "{}: {} sample(s) over {}{}",
                turn.pod,
                samples.len(),
                held.map_or("?".into(), |ms| format!("{:.1}s", ms as f64 / 1000.0)),
                if problems.is_empty() {
                    ", PreparingUpdate, old container, not ready".to_string()
                } else {
                    format!(": {}", problems.join(", "))
                }
            ));
        }
    }
    let judged = check(
        record,
        "hook.waited",
        "a pod waits at the hook with its old container",
        &[],
        "PreparingUpdate, the same container (ID, restartCount, image), KruisePodReady False \
         and not ready, until the hook's labels are removed",
        seen.join("; "),
        Verdict::from_bool(pass),
    );
    if flapped {
        judged.met(&crate::scenarios::races::STALE_READY_REPUBLISHED)
    } else {
        judged
    }
}

/// The readiness gate kruise injects into its pods and sets False while a
/// hook with `markPodNotReady` holds the pod.
const KRUISE_POD_READY: &str = "KruisePodReady";

/// Every pod went Normal -> PreparingUpdate -> Updating -> Updated ->
/// Normal, and took exactly one turn.
fn cycle(record: &ScenarioRecord, hooked: &[(&UpdateStep, &HookRecord)]) -> Check {
    const WANTED: [&str; 5] = ["Normal", "PreparingUpdate", "Updating", "Updated", "Normal"];
    let mut seen = Vec::new();
    let mut pass = true;
    for (step, hooks) in hooked {
        for pod in &step.pods {
            let name = &pod.after.name;
            let states = state_sequence(&step.timeline, name);
            let turns = hooks.turns.iter().filter(|t| &t.pod == name).count();
            pass &= contains_in_order(&states, &WANTED) && turns == 1;
            seen.push(format!("{name}: {} ({turns} turn(s))", states.join(" -> ")));
        }
    }
    check(
        record,
        "hook.cycle",
        "each pod through the hook's states once",
        &[],
        WANTED.join(" -> "),
        seen.join("; "),
        Verdict::from_bool(pass),
    )
}

/// The next pod reached the hook only once the one before was Normal
/// again, and never two pods out of Normal at once.
fn one_at_a_time(record: &ScenarioRecord, hooked: &[(&UpdateStep, &HookRecord)]) -> Check {
    let mut seen = Vec::new();
    let mut pass = true;
    for (step, hooks) in hooked {
        let ordered = hooks
            .turns
            .windows(2)
            .all(|w| crate::time_key(&w[1].prepared_at) >= crate::time_key(&w[0].normal_at));
        let peak = peak_out_of_normal(&step.timeline);
        pass &= ordered && peak <= 1;
        let order: Vec<&str> = hooks
            .turns
            .iter()
            .map(|t: &HookTurn| t.pod.as_str())
            .collect();
        seen.push(format!(
            "#{}: {} in turn{}; at most {peak} pod(s) out of Normal at once",
            step.index + 1,
            order.join(" then "),
            if ordered { "" } else { ", OVERLAPPING" }
        ));
    }
    check(
        record,
        "hook.one-at-a-time",
        "the next pod only after the one before is Normal",
        &[],
        "one pod at the hook at a time (maxUnavailable 1)",
        seen.join("; "),
        Verdict::from_bool(pass),
    )
}

/// The pod's states in force from `from` to `to`: the last sample before
/// `from` (the watch delivers a state once, when it changes, and may have
/// delivered it just before the harness saw it), then every one until `to`.
fn between<'a>(timeline: &'a [PodSample], pod: &str, from: &str, to: &str) -> Vec<&'a PodSample> {
    let (from, to) = (crate::time_key(from), crate::time_key(to));
    let of_pod: Vec<&PodSample> = timeline.iter().filter(|s| s.pod == pod).collect();
    let in_force = of_pod
        .iter()
        .rev()
        .find(|s| crate::time_key(&s.at) < from)
        .copied();
    in_force
        .into_iter()
        .chain(of_pod.into_iter().filter(|s| {
            let at = crate::time_key(&s.at);
            at >= from && at < to
        }))
        .collect()
}

/// The pod's lifecycle states in the order seen, each run of one state
/// once.
pub fn state_sequence(timeline: &[PodSample], pod: &str) -> Vec<String> {
    let mut states: Vec<String> = Vec::new();
    for s in timeline
        .iter()
        .filter(|s| s.pod == pod && !s.lifecycle_state.is_empty())
    {
        if states.last() != Some(&s.lifecycle_state) {
            states.push(s.lifecycle_state.clone());
        }
    }
    states
}

fn contains_in_order(states: &[String], wanted: &[&str]) -> bool {
    let mut rest = wanted.iter().peekable();
    for s in states {
        if rest.peek().is_some_and(|w| *w == s) {
            rest.next();
        }
    }
    rest.peek().is_none()
}

/// The most pods seen out of lifecycle state Normal at one moment.
fn peak_out_of_normal(timeline: &[PodSample]) -> usize {
    let mut out: std::collections::BTreeMap<&str, bool> = Default::default();
    let mut peak = 0;
    for s in timeline {
        out.insert(&s.uid, !s.deleted && s.lifecycle_state != "Normal");
        peak = peak.max(out.values().filter(|o| **o).count());
    }
    peak
}

fn ms_between(from: &str, to: &str) -> Option<u64> {
    let (from, to) = (crate::time_key(from)?, crate::time_key(to)?);
    u64::try_from(to.duration_since(from).as_millis()).ok()
}
