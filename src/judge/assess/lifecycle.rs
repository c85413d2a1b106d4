//! The rebuild's lifecycle: container priority order, the old container
//! terminated and the new one created from the new image, the cgroup
//! renewed, restartCount over successive updates.

use super::*;

/// With container priorities (`KRUISE_CONTAINER_PRIORITY`), kruise updates
/// the higher one first and records each batch in the pod's in-place update
/// state; the new containers' start times follow that order.
pub(super) fn priority_order(record: &ScenarioRecord) -> Option<Check> {
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
pub(super) fn start_order<'a>(pod: &PodSnapshot, names: &[&'a str]) -> Vec<&'a str> {
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
pub(super) fn rebuilt_in_place(record: &ScenarioRecord) -> Vec<(&UpdateStep, &PodStep, String)> {
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

pub(super) fn seed_claims(record: &ScenarioRecord, claims: &[Claim]) -> Vec<Claim> {
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
pub(super) fn rebuild_lifecycle(record: &ScenarioRecord) -> Option<Check> {
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

pub(super) fn lifecycle_problem(step: &UpdateStep, pod: &PodStep, name: &str) -> Option<String> {
    let Some((b, a)) = container_pair(pod, name) else {
        return Some("container missing".into());
    };
    let (b, a) = (&b.status, &a.status);
    if b.container_id == a.container_id {
        return Some("containerID unchanged".into());
    }
    match &a.last_terminated {
        Some(last)
            if last.container_id.is_some()
                && last.container_id != b.container_id
                && !ran_in_held_step(step, &pod.after.name, name, &last.container_id) =>
        {
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

/// In a held step the pod ran the bad image's container between the old
/// one and the revert's (when it could start it): the revert's container
/// names that one as its last.
fn ran_in_held_step(step: &UpdateStep, pod: &str, container: &str, id: &Option<String>) -> bool {
    step.hold.is_some()
        && step.timeline.iter().any(|s| {
            s.pod == pod
                && s.containers
                    .iter()
                    .any(|c| c.name == container && Some(&c.id) == id.as_ref())
        })
}

/// A `Killing` event for `container` of `pod` among the step's.
pub(super) fn killed_in_step(step: &UpdateStep, pod: &str, container: &str) -> bool {
    step.events.iter().any(|e| kills(e, pod, container))
}

/// The kubelet's `Killing` event ("Container app ..."), or kruise-daemon's
/// when it restarts a container for env-from-metadata ("Stopping
/// containerID containerd://app by container meta restarter": kruise
/// v1.9.0 writes the container's name where its ID belongs) or for a
/// ContainerRecreateRequest ("Stopping container app by
/// ContainerRecreateRequest <name>").
pub(super) fn kills(e: &crate::model::record::EventRecord, pod: &str, container: &str) -> bool {
    let kubelet = format!("Container {container} ");
    let daemon = format!("://{container} by container meta restarter");
    let recreate = format!("Stopping container {container} by ContainerRecreateRequest ");
    e.reason == "Killing"
        && e.object_kind == "Pod"
        && e.object_name == pod
        && (e.message.starts_with(&kubelet)
            || e.message.starts_with(&recreate)
            || (e.message.starts_with("Stopping containerID ") && e.message.ends_with(&daemon)))
}

pub(super) fn parse_time(value: &Option<String>) -> Option<k8s_openapi::jiff::Timestamp> {
    value.as_deref().and_then(|v| v.parse().ok())
}

/// C3: a container rebuilt for a new image runs it: imageID changes (its
/// digest: the repository an imageID names is whichever the node knew
/// first for that digest) and the version file baked into the image says
/// the new version.
/// Containers rebuilt in place whose step gave them an image: those of a
/// retag (the same content under a new tag) or of any other change.
fn rebuilt_with_image(
    record: &ScenarioRecord,
    retag: bool,
) -> Vec<(&UpdateStep, &PodStep, String)> {
    rebuilt_in_place(record)
        .into_iter()
        .filter(|(s, _, c)| {
            s.change.images.contains_key(c) && (s.change.kind == crate::changes::RETAG) == retag
        })
        .collect()
}

pub(super) fn new_image(record: &ScenarioRecord) -> Option<Check> {
    let with_image = rebuilt_with_image(record, false);
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
        let id_changed = image_digest(&b.status.image_id) != image_digest(&a.status.image_id);
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

/// A new tag of the same content: the container is rebuilt from the same
/// image (imageID and image-version unchanged). What the pod status then
/// names as the image is recorded beside it: a runtime may report the
/// image's first tag, not the one in the spec.
pub(super) fn same_image_new_tag(record: &ScenarioRecord) -> Option<Check> {
    let retagged = rebuilt_with_image(record, true);
    if retagged.is_empty() {
        return None;
    }
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for (step, pod, name) in &retagged {
        let Some((b, a)) = container_pair(pod, name) else {
            problems.push(format!(
                "#{} {name}: not found before and after",
                step.index + 1
            ));
            continue;
        };
        // The digest decides: the repository part of an imageID is the
        // first one the node knows for that digest, another scenario's
        // repository as often as this one's.
        let same_id = image_digest(&b.status.image_id) == image_digest(&a.status.image_id);
        let (before, after) = (b.inside.image_version.trim(), a.inside.image_version.trim());
        let spec = &step.change.images[name].reference;
        let status = &a.status.image;
        seen.push(format!(
            "#{} {name}: image digest unchanged={same_id}, image-version {before} -> {after}, status image {status} (spec {spec})",
            step.index + 1
        ));
        if !same_id || before != after {
            problems.push(seen.last().cloned().unwrap_or_default());
        }
    }
    Some(check(
        record,
        "same-image-new-tag",
        "rebuilt from the same image under its new tag",
        &[],
        "image digest and image-version unchanged",
        if problems.is_empty() {
            seen.join("; ")
        } else {
            problems.join("; ")
        },
        Verdict::from_bool(problems.is_empty()),
    ))
}

/// The digest of an imageID (`repo@sha256:...` or `sha256:...`).
pub(super) fn image_digest(image_id: &str) -> &str {
    image_id
        .rsplit_once('@')
        .map_or(image_id, |(_, digest)| digest)
}

/// C7: the rebuilt container's cgroup is new. Under a private cgroup
/// namespace the path reads `0::/` both times, so the cgroup directory
/// inode decides.
pub(super) fn cgroup_renewed(record: &ScenarioRecord) -> Option<Check> {
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
pub(super) fn shorten_hex(text: &str) -> String {
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
pub(super) fn successive_restarts(record: &ScenarioRecord) -> Option<Check> {
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

/// A preStop hook runs once per stop of its container. OpenKruise issue
/// 1263 reports it running twice when the image and an env-from-metadata
/// annotation change together (the kubelet's stop and kruise-daemon's);
/// issue 1154 a `FailedPreStopHook` from kruise-daemon on that change.
/// Per updated pod and hooked container: the lines the hook appended to
/// `PRESTOP_LOG` during the step equal the container's restarts, and no
/// `FailedPreStopHook` event was recorded.
pub(super) fn prestop_once(record: &ScenarioRecord) -> Option<Check> {
    let hooks = &record.plan.as_ref()?.prestop_hooks;
    if hooks.is_empty() || record.steps.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    let mut pass = true;
    let mut raced = false;
    for step in &record.steps {
        for pod in step.updated_pods() {
            for name in hooks {
                let (Some(before), Some(after)) =
                    (pod.before.container(name), pod.after.container(name))
                else {
                    pass = false;
                    rows.push(format!("#{} {name}: not seen", step.index + 1));
                    continue;
                };
                let runs =
                    after.inside.prestop_log.len() as i64 - before.inside.prestop_log.len() as i64;
                let restarts = i64::from(after.status.restart_count - before.status.restart_count);
                let of_pod = |reason: &'static str| {
                    step.events
                        .iter()
                        .filter(move |e| e.reason == reason && e.object_name == pod.after.name)
                };
                let failed = of_pod("FailedPreStopHook").count();
                // Both stoppers seen: the known race, judged on the runs.
                let double_stop = of_pod("Killing")
                    .any(|e| e.message.contains("by container meta restarter"))
                    && of_pod("Killing").any(|e| e.message.contains("definition changed"));
                let explained = failed > 0 && double_stop;
                raced |= explained && runs == restarts;
                pass &= runs == restarts && (failed == 0 || explained);
                rows.push(format!(
                    "#{} {}/{name}: {runs} preStop run(s) {:?}, {restarts} restart(s), \
                     {failed} FailedPreStopHook{}",
                    step.index + 1,
                    pod.after.name,
                    after.inside.prestop_log,
                    if explained {
                        " (both kruise-daemon's restarter and the kubelet stopped it: known race)"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    let judged = check(
        record,
        "prestop-once",
        "preStop ran once per container stop",
        &[],
        "lines the hook appended = restarts of its container; no FailedPreStopHook \
         (OpenKruise issues 1263, 1154) unless both stoppers were seen (known race)",
        rows.join("; "),
        Verdict::from_bool(pass && !rows.is_empty()),
    );
    Some(if raced {
        judged.met(&crate::scenarios::races::DOUBLE_STOP)
    } else {
        judged
    })
}
