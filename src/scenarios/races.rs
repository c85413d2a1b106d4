//! Known races in the platform under test: behaviour of the kubelet (or of
//! OpenKruise with it) that shows up in some runs and not in others, whose
//! cause is understood and lies outside the suite. A check that meets one
//! judges the guarantee that still holds and names the race, so a run that
//! hit it has the same verdict as one that did not, and the report lists
//! every occurrence with its cause: the race is told, not hidden.

/// One known race, as the report explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Race {
    /// Stable name, kept in records and results.json.
    pub name: &'static str,
    /// What a user sees when it happens.
    pub symptom: &'static str,
    /// Why, as far as the recordings and the sources show.
    pub cause: &'static str,
    /// What the suite judges instead.
    pub judged_by: &'static str,
    /// Where it is discussed upstream.
    pub upstream: &'static str,
}

/// kruise marks the pod not ready by writing the InPlaceUpdateReady gate
/// and the kubelet-owned Ready condition; the kubelet's status manager can
/// publish its cached Ready=True before its readiness reconcile runs.
pub const STALE_READY_REPUBLISHED: Race = Race {
    name: "stale-ready-republished",
    symptom: "a pod in a graceful in-place update goes back into the Service's \
              EndpointSlice for about a second during its grace period, then out again; \
              a pod held at an in-place hook with markPodNotReady reports Ready=True for \
              about half a second while its KruisePodReady gate is False",
    cause: "kruise writes a readiness gate False (InPlaceUpdateReady, or KruisePodReady for \
            a hook's markPodNotReady) and also the kubelet-owned Ready=False \
            (inplaceupdate updateCondition, lifecycle executePodNotReadyPolicy); the kubelet's status manager still caches \
            Ready=True and can publish it before its readiness reconcile for the gate runs",
    judged_by: "the pod is out of the EndpointSlice when its container is told to stop, and \
                no request reaches a stopping container; at a hook, the gate stays False and \
                Ready is False again before the pod is let go",
    upstream: "https://github.com/kubernetes/kubernetes/issues/122002",
};

/// Quick successive in-place updates: the kubelet's container garbage
/// collection can remove the dead containers before their pod status is
/// read, so `lastState.terminated` is missing.
pub const DEAD_CONTAINER_REMOVED: Race = Race {
    name: "dead-container-removed",
    symptom: "after a quick succession of in-place updates a rebuilt container reports no \
              lastState.terminated",
    cause: "the kubelet removed the earlier dead containers (RemoveContainer in its journal) \
            as the next one started, and the pod status lost their record",
    judged_by: "the Killing event for the old container stands in for lastState: the \
                kubelet's, or kruise-daemon's when it restarted the container for \
                env-from-metadata (\"Stopping containerID containerd://<name> by container \
                meta restarter\") or for a ContainerRecreateRequest (\"Stopping container \
                <name> by ContainerRecreateRequest <request>\")",
    upstream: "https://kubernetes.io/docs/concepts/architecture/garbage-collection/#containers-images",
};

/// An image and an env-from-metadata change together: kruise-daemon's
/// container meta restarter and the kubelet both stop the container; the
/// one that comes second finds it exited and its preStop exec fails.
pub const DOUBLE_STOP: Race = Race {
    name: "double-stop-prestop-failed",
    symptom: "a FailedPreStopHook event (\"PreStopHook failed\") on a pod whose image and \
              env-from-metadata changed together, although the hook ran once",
    cause: "kruise-daemon stops the container for the env change (Killing \"Stopping \
            containerID ... by container meta restarter\") in the same second as the kubelet \
            stops it for the new image (Killing \"Container app definition changed\"); the \
            second preStop exec meets an exited container (seen once in about 30 runs, \
            OpenKruise issues 1263 and 1154)",
    judged_by: "the hook's lines equal the container's restarts, and both stoppers' Killing \
                events are recorded for the pod",
    upstream: "https://github.com/openkruise/kruise/issues/1263",
};

/// Kubernetes 1.35's kubelet verifies the pull credentials of an image it
/// has a pull record for under another name: a pre-downloaded image is
/// pulled once more on a node where the kubelet pulled the same content
/// before (deterministic given the node's history, which a run does not
/// choose: the suite's scenarios push the same content under their own
/// repositories).
pub const KUBELET_REVERIFIES: Race = Race {
    name: "kubelet-reverifies-known-digest",
    symptom: "on Kubernetes 1.35 or later, the first pod updated on a node pulls the image \
              OpenKruise pre-downloaded there (Pulling, then \"Successfully pulled ... in \
              13ms\"); the other pods of that node find it already present",
    cause: "KubeletEnsureSecretPulledImages, beta and on by default from 1.35: the kubelet \
            holds a pull record for the image's digest (it pulled the same content before under \
            another repository) whose credential mapping lacks this image's name, so it pulls \
            again to verify credentials, though the layers are on the node \
            (pkg/kubelet/images/pullmanager/image_pull_manager.go, MustAttemptImagePull); a \
            digest the kubelet never pulled is used as pre-loaded, without a pull",
    judged_by: "on 1.35 or later only: at most one pod per node pulls, and every other updated \
                pod of that node finds the image present; the ImagePullJob's completion on \
                every node before the partition was lowered is predownload.pulled-first's",
    upstream: "https://github.com/kubernetes/enhancements/issues/2535",
};

/// Every known race: the report's explanations are looked up here.
pub const ALL: &[Race] = &[
    STALE_READY_REPUBLISHED,
    DEAD_CONTAINER_REMOVED,
    DOUBLE_STOP,
    KUBELET_REVERIFIES,
];

/// The race of that name.
pub fn named(name: &str) -> Option<&'static Race> {
    ALL.iter().find(|r| r.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for race in ALL {
            assert_eq!(named(race.name), Some(race));
            assert_eq!(ALL.iter().filter(|r| r.name == race.name).count(), 1);
            assert!(race.upstream.starts_with("https://"));
        }
        assert!(named("no-such-race").is_none());
    }
}
