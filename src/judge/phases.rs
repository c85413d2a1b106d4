//! The phases of an update, read from the pod timeline a step recorded
//! (`observe::timeline`): each milestone is the first moment the watch
//! delivered a pod in that state, in milliseconds after the API server
//! accepted the change. In place, the same pod goes through them; on
//! recreate, the old pod is deleted and a new one goes from created to
//! ready. Milestones not seen (a change that rebuilds nothing, a pod that
//! never went unready) are left out, never guessed.

use serde::{Deserialize, Serialize};

use crate::model::record::{PodSample, UpdateStep};

/// One milestone of one update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    /// Stable id (`pod-updated`, `container-started`, ...), for tables
    /// and comparisons across runs.
    pub id: String,
    pub what: String,
    /// Milliseconds after the change was accepted (may be slightly below
    /// zero: the controller can act before the answer reaches us).
    pub at_ms: i64,
    pub pod: String,
}

fn ms_between(from: &str, to: &str) -> Option<i64> {
    let (from, to) = (crate::time_key(from)?, crate::time_key(to)?);
    Some(to.as_millisecond() - from.as_millisecond())
}

/// The update's milestones, in time order; empty when the step recorded
/// no timeline (older records) or was refused.
pub fn milestones(step: &UpdateStep) -> Vec<Milestone> {
    let Some(accepted) = step.accepted_at.as_deref() else {
        return Vec::new();
    };
    if step.timeline.is_empty() {
        return Vec::new();
    }
    let at = |s: &PodSample| ms_between(accepted, &s.at).unwrap_or(0);
    // The pods as they were when the change went out: the watch's list.
    let initial: Vec<&PodSample> = last_per_pod(&step.timeline, |s| at(s) <= 0);
    let is_old = |s: &PodSample| initial.iter().any(|i| i.uid == s.uid);
    let initial_of = |s: &PodSample| initial.iter().find(|i| i.uid == s.uid).copied();
    let after: Vec<&PodSample> = step.timeline.iter().filter(|s| at(s) > 0).collect();
    let first = |id: &str, what: &str, pred: &dyn Fn(&PodSample) -> bool| {
        after.iter().find(|s| pred(s)).map(|s| Milestone {
            id: id.into(),
            what: what.into(),
            at_ms: at(s),
            pod: s.pod.clone(),
        })
    };
    type Test<'t> = Box<dyn Fn(&PodSample) -> bool + 't>;
    let table: Vec<(&str, &str, Test)> = vec![
        // The same pod, in place.
        (
            "pod-updated",
            "controller wrote the pod (spec, metadata or in-place state)",
            Box::new(|s| {
                initial_of(s).is_some_and(|i| {
                    !s.deleting
                        && (i.images != s.images
                            || i.inplace_revision != s.inplace_revision
                            || i.metadata_hash != s.metadata_hash)
                })
            }),
        ),
        (
            "pod-unready",
            "pod not ready",
            Box::new(|s| is_old(s) && !s.deleting && s.conditions.get("Ready") == Some(&false)),
        ),
        (
            "container-stopped",
            "old container stopped",
            Box::new(|s| initial_of(s).is_some_and(|i| !s.deleting && container_stopped(i, s))),
        ),
        (
            "container-started",
            "new container running",
            Box::new(|s| {
                initial_of(s)
                    .is_some_and(|i| !s.deleting && new_container(i, s, |c| c.state == "running"))
            }),
        ),
        (
            "container-ready",
            "new container ready",
            Box::new(|s| {
                initial_of(s).is_some_and(|i| !s.deleting && new_container(i, s, |c| c.ready))
            }),
        ),
        // A new pod in place of the old (recreate, rolling update).
        (
            "old-pod-deleting",
            "old pod marked for deletion",
            Box::new(|s| is_old(s) && s.deleting),
        ),
        (
            "new-pod-created",
            "new pod created",
            Box::new(|s| !is_old(s)),
        ),
        (
            "new-pod-scheduled",
            "new pod scheduled",
            Box::new(|s| !is_old(s) && !s.node.is_empty()),
        ),
        (
            "new-pod-ip",
            "new pod has its IP (sandbox up)",
            Box::new(|s| !is_old(s) && !s.ip.is_empty()),
        ),
        (
            "new-pod-started",
            "new pod's container running",
            Box::new(|s| !is_old(s) && s.containers.iter().any(|c| c.state == "running")),
        ),
        (
            "old-pod-gone",
            "old pod gone",
            Box::new(|s| is_old(s) && s.deleted),
        ),
        (
            "new-pod-ready",
            "new pod ready",
            Box::new(|s| !is_old(s) && s.conditions.get("Ready") == Some(&true)),
        ),
    ];
    let mut found: Vec<Milestone> = table
        .iter()
        .filter_map(|(id, what, test)| first(id, what, test.as_ref()))
        .collect();
    // Ready again counts only after the pod went unready and, when a
    // container was rebuilt, after the new one runs: the kubelet can write
    // Ready=True for a moment while kruise's InPlaceUpdateReady gate is
    // still False and the old container runs (seen here, ~0.5 s).
    let at_of = |id: &str| found.iter().find(|m| m.id == id).map(|m| m.at_ms);
    let since = [at_of("pod-unready"), at_of("container-started")]
        .into_iter()
        .flatten()
        .max();
    if let (Some(_), Some(since)) = (at_of("pod-unready"), since) {
        found.extend(first("pod-ready", "pod ready again", &|s| {
            is_old(s) && at(s) > since && s.conditions.get("Ready") == Some(&true)
        }));
    }
    let mut conducted: Vec<(&str, &str, &str)> = Vec::new();
    if let Some(hold) = &step.hold {
        conducted.push((
            "halted",
            "rollout halted (a pod stuck on the change)",
            &hold.halted_at,
        ));
        conducted.push(("reverted", "old template sent back", &hold.reverted_at));
    }
    if let Some(pre) = &step.pre_download {
        conducted.push((
            "pre-downloaded",
            "ImagePullJob seen completed",
            &pre.completed_seen_at,
        ));
        conducted.push(("released", "partition lowered", &pre.released_at));
    }
    for (id, what, stamp) in conducted {
        found.extend(ms_between(accepted, stamp).map(|at_ms| Milestone {
            id: id.into(),
            what: what.into(),
            at_ms,
            pod: String::new(),
        }));
    }
    if let Some(done) = ms_between(accepted, &step.completed_at) {
        found.push(Milestone {
            id: "workload-done".into(),
            what: "workload reports the update done".into(),
            at_ms: done,
            pod: String::new(),
        });
    }
    found.sort_by_key(|m| m.at_ms);
    found
}

/// The last sample of each pod among those `keep` selects (before the
/// change: each pod as it was when the change went out).
fn last_per_pod(timeline: &[PodSample], keep: impl Fn(&PodSample) -> bool) -> Vec<&PodSample> {
    let mut seen: Vec<&PodSample> = Vec::new();
    for s in timeline.iter().filter(|s| keep(s)) {
        match seen.iter_mut().find(|x| x.uid == s.uid) {
            Some(x) => *x = s,
            None => seen.push(s),
        }
    }
    seen
}

fn container_stopped(initial: &PodSample, now: &PodSample) -> bool {
    initial.containers.iter().any(|old| {
        !old.id.is_empty()
            && now
                .containers
                .iter()
                // Same ID but not running: stopped, and the status keeps
                // its ID while the new image cannot be pulled.
                .any(|c| c.name == old.name && (c.id != old.id || c.state != "running"))
    })
}

fn new_container(
    initial: &PodSample,
    now: &PodSample,
    state: impl Fn(&crate::model::record::ContainerSample) -> bool,
) -> bool {
    now.containers.iter().any(|c| {
        !c.id.is_empty()
            && initial
                .containers
                .iter()
                .any(|old| old.name == c.name && old.id != c.id)
            && state(c)
    })
}

/// The gaps between consecutive milestones: where the time went.
pub fn gaps(milestones: &[Milestone]) -> Vec<(String, i64)> {
    let mut previous = ("change accepted".to_string(), 0i64);
    milestones
        .iter()
        .map(|m| {
            let gap = (
                format!("{} -> {}", previous.0, m.what),
                m.at_ms - previous.1,
            );
            previous = (m.what.clone(), m.at_ms);
            gap
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::ContainerSample;

    fn pod(at: &str, uid: &str, ready: bool, id: &str, state: &str) -> PodSample {
        PodSample {
            at: format!("2026-01-01T00:00:{at}Z"),
            pod: format!("p-{uid}"),
            uid: uid.into(),
            node: "n".into(),
            ip: "10.0.0.1".into(),
            conditions: [("Ready".to_string(), ready)].into(),
            images: [("app".to_string(), "v1".to_string())].into(),
            containers: vec![ContainerSample {
                name: "app".into(),
                id: id.into(),
                state: state.into(),
                ready,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn step(timeline: Vec<PodSample>) -> UpdateStep {
        serde_json::from_value(serde_json::json!({
            "index": 0,
            "change": {"description": "x", "kind": "image", "containers": [], "images": {},
                       "labels": {}, "annotations": {}, "env": {}},
            "admission": serde_json::to_value(crate::model::record::Admission::Accepted).unwrap(),
            "started_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:00:06Z",
            "duration_ms": 6000, "revision_before": null, "revision_after": null,
            "generation_before": null, "generation_after": null, "expected_updated": 1,
            "pods": [], "quiet": null, "events": [],
            "accepted_at": "2026-01-01T00:00:00.500Z",
        }))
        .map(|mut s: UpdateStep| {
            s.timeline = timeline;
            s
        })
        .unwrap()
    }

    #[test]
    fn an_in_place_update_goes_through_the_same_pod() {
        let mut updated = pod("01", "a", true, "c1", "running");
        updated.images.insert("app".into(), "v2".into());
        let mut unready = updated.clone();
        unready.at = "2026-01-01T00:00:02Z".into();
        unready.conditions.insert("Ready".into(), false);
        let mut stopped = unready.clone();
        stopped.at = "2026-01-01T00:00:03Z".into();
        stopped.containers[0].state = "terminated".into();
        let mut started = stopped.clone();
        started.at = "2026-01-01T00:00:04Z".into();
        started.containers[0] = ContainerSample {
            name: "app".into(),
            id: "c2".into(),
            state: "running".into(),
            ..Default::default()
        };
        let mut ready = started.clone();
        ready.at = "2026-01-01T00:00:05Z".into();
        ready.containers[0].ready = true;
        ready.conditions.insert("Ready".into(), true);
        let timeline = vec![
            pod("00", "a", true, "c1", "running"),
            updated,
            unready,
            stopped,
            started,
            ready,
        ];
        let ids: Vec<(String, i64)> = milestones(&step(timeline))
            .into_iter()
            .map(|m| (m.id, m.at_ms))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("pod-updated".to_string(), 500),
                ("pod-unready".to_string(), 1500),
                ("container-stopped".to_string(), 2500),
                ("container-started".to_string(), 3500),
                ("container-ready".to_string(), 4500),
                ("pod-ready".to_string(), 4500),
                ("workload-done".to_string(), 5500),
            ]
        );
    }

    #[test]
    fn a_moment_of_ready_before_the_container_is_rebuilt_is_not_ready_again() {
        let mut updated = pod("01", "a", false, "c1", "running");
        updated.images.insert("app".into(), "v2".into());
        let mut flap = updated.clone();
        flap.at = "2026-01-01T00:00:02Z".into();
        flap.conditions.insert("Ready".into(), true);
        let mut started = updated.clone();
        started.at = "2026-01-01T00:00:03Z".into();
        started.containers[0].id = "c2".into();
        let mut ready = started.clone();
        ready.at = "2026-01-01T00:00:04Z".into();
        ready.conditions.insert("Ready".into(), true);
        let timeline = vec![
            pod("00", "a", true, "c1", "running"),
            updated,
            flap,
            started,
            ready,
        ];
        let ready_again = milestones(&step(timeline))
            .into_iter()
            .find(|m| m.id == "pod-ready")
            .map(|m| m.at_ms);
        assert_eq!(ready_again, Some(3500));
    }

    #[test]
    fn a_recreate_goes_through_a_new_pod() {
        let mut deleting = pod("01", "a", true, "c1", "running");
        deleting.deleting = true;
        let mut gone = deleting.clone();
        gone.at = "2026-01-01T00:00:02Z".into();
        gone.deleted = true;
        let mut created = pod("03", "b", false, "", "waiting");
        created.node.clear();
        created.ip.clear();
        let mut scheduled = created.clone();
        scheduled.at = "2026-01-01T00:00:04Z".into();
        scheduled.node = "n".into();
        let ready = pod("05", "b", true, "c9", "running");
        let timeline = vec![
            pod("00", "a", true, "c1", "running"),
            deleting,
            gone,
            created,
            scheduled,
            ready,
        ];
        let ids: Vec<String> = milestones(&step(timeline))
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(
            ids,
            vec![
                "old-pod-deleting",
                "old-pod-gone",
                "new-pod-created",
                "new-pod-scheduled",
                "new-pod-ip",
                "new-pod-started",
                "new-pod-ready",
                "workload-done"
            ]
        );
    }

    #[test]
    fn no_timeline_means_no_milestones_not_zeros() {
        assert!(milestones(&step(Vec::new())).is_empty());
    }
}
