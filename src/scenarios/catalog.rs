//! The scenarios, as data: a fixture, the changes applied one after the
//! other, the suite that runs it. Which pods and containers are followed
//! needs no entry: every pod of the workload and every container of each
//! pod is probed. What each change must do is in `expect`, keyed by the
//! fixture's workload kind and strategy and the change's type. Adding a
//! scenario of an existing kind and change type is an entry here, a
//! fixture and (for a new key) expectation rows.

use anyhow::Context;

use crate::changes::{
    CORDON, Change, Combined, ConductedImage, ContainerRecreate, CpuLimit, EnvFromMetadata,
    EnvValue, HaltedImage, Image, ImpossibleCpuRequest, MemoryBelowUsage, Metadata, PRE_DOWNLOAD,
    PodAnnotation, PodResize, Retag, SidecarSetImage, Stuck,
};
use crate::faults::{
    ContainerdRestarted, DAEMON_RESTARTED, Fault, KRUISE_UPGRADED, MANAGER_KILLED,
};
use crate::observe::traffic::Traffic;
use crate::scenarios::expect::{COLUMN_DEPLOYMENT, COLUMN_IN_PLACE, COLUMN_RECREATE};

#[derive(Debug)]
pub struct Scenario {
    pub name: &'static str,
    /// The cargo test target that runs it.
    pub suite: &'static str,
    pub summary: &'static str,
    pub fixture: &'static str,
    /// Applied in order, each waited for and observed.
    pub changes: &'static [&'static dyn Change],
    /// Feeds this column of the seed's comparison table.
    pub seed_column: Option<&'static str>,
    /// Also measure memory vs disk emptyDir throughput (C12).
    pub measure_throughput: bool,
    /// OpenKruise feature gates kruise-manager must run with; without them
    /// the scenario is "unsupported here" (never a pass).
    pub requires_kruise_gates: &'static [&'static str],
    /// A Service and client pod of the fixture to watch through each change.
    pub traffic: Option<Traffic>,
    /// The fault injected during the first change (the opt-in `faults`
    /// profile); such scenarios run only when asked for.
    pub fault: Option<&'static dyn Fault>,
}

impl Scenario {
    /// In the default selection (every scenario but the opt-in profiles'
    /// ones: faults and the OpenKruise upgrade).
    pub fn by_default(&self) -> bool {
        self.fault.is_none()
    }

    /// The opt-in profile it belongs to, if any.
    pub fn profile(&self) -> Option<&'static str> {
        self.fault.map(|f| f.profile())
    }

    /// Run with nothing beside it: a fault would disturb the others'
    /// updates (an upgrade is shared by its profile's scenarios instead).
    pub fn runs_alone(&self) -> bool {
        self.fault.is_some_and(|f| f.alone())
    }

    /// Runs beside the others, but its measurement waits until they have
    /// ended (`run::alone`): a throughput figure would measure their load.
    pub fn measures_alone(&self) -> bool {
        self.measure_throughput
    }
}

/// What runs when no scenario is named.
pub fn default_selection() -> Vec<&'static Scenario> {
    CATALOG.iter().filter(|s| s.by_default()).collect()
}

/// The opt-in faults profile, run one scenario at a time: a fault in the
/// cluster's OpenKruise or runtime would disturb any scenario beside it.
pub fn faults_profile() -> Vec<&'static Scenario> {
    CATALOG
        .iter()
        .filter(|s| s.profile() == Some("faults"))
        .collect()
}

/// The opt-in upgrade profile: every workload kind deployed on one
/// OpenKruise release, all of them there while it is upgraded to another.
pub fn upgrade_profile() -> Vec<&'static Scenario> {
    CATALOG
        .iter()
        .filter(|s| s.profile() == Some("upgrade"))
        .collect()
}

/// How long a halted rollout is watched before the revert (OpenKruise
/// issue 18's "at least 60 s": long enough for a controller that retries
/// or gives up on a timer to show it).
const HOLD_SECONDS: u64 = 60;

const TO_V2: &dyn Change = &Image {
    to: &[("app", "v2")],
};
const CORDONED_TO_V2: &dyn Change = &ConductedImage {
    image: Image {
        to: &[("app", "v2")],
    },
    conduct: &CORDON,
};
const TO_V1: &dyn Change = &Image {
    to: &[("app", "v1")],
};
const PLAIN_ENV: &dyn Change = &EnvValue {
    container: "app",
    name: "IPC_PLAIN",
};

pub const CATALOG: &[Scenario] = &[
    Scenario {
        name: "inplace-image",
        suite: "inplace",
        summary: "CloneSet InPlaceIfPossible, image v1 -> v2 (the seed's subject)",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[TO_V2],
        seed_column: Some(COLUMN_IN_PLACE),
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "inplace-successive",
        suite: "inplace",
        summary: "three successive in-place updates: restartCount 3, four containerIDs",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[TO_V2, TO_V1, TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "cloneset-recreate",
        suite: "comparison",
        summary: "CloneSet ReCreate, image v1 -> v2",
        fixture: "fixtures/cloneset-recreate.yaml",
        changes: &[TO_V2],
        seed_column: Some(COLUMN_RECREATE),
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "deployment-rolling",
        suite: "comparison",
        summary: "Deployment RollingUpdate, image v1 -> v2 (the seed's standard column)",
        fixture: "fixtures/deployment-rolling.yaml",
        changes: &[TO_V2],
        seed_column: Some(COLUMN_DEPLOYMENT),
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "emptydir-throughput",
        suite: "throughput",
        summary: "memory vs disk emptyDir write throughput in one pod (C12)",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[],
        seed_column: None,
        measure_throughput: true,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "metadata-only",
        suite: "behaviour",
        summary: "template label and annotation no env reads: patched onto the pod, nothing restarts",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[&Metadata],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "retag-same-content",
        suite: "behaviour",
        summary: "the same image content under a new tag (imageID unchanged): still rebuilt in \
                  place, and the update completes (OpenKruise issues 635, 1493)",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[&Retag {
            to: &[("app", "v1")],
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "image-and-label",
        suite: "behaviour",
        summary: "image and template label/annotation in one change: the label is patched onto \
                  the pod, the app container is rebuilt in place once",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[&Combined {
            kind: "image+metadata",
            parts: &[TO_V2, &Metadata],
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "env-from-metadata",
        suite: "behaviour",
        summary: "annotation read by env: the container is recreated and sees the new value; \
                  the same annotation patched on the pod restarts nothing",
        fixture: "fixtures/cloneset-env.yaml",
        changes: &[
            &EnvFromMetadata,
            &PodAnnotation {
                key: crate::changes::env_from_metadata::ANNOTATION,
            },
        ],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "image-and-env",
        suite: "behaviour",
        summary: "image and env-from-metadata in one change: exactly one restart",
        fixture: "fixtures/cloneset-env.yaml",
        changes: &[&Combined {
            kind: "image+env-from-metadata",
            parts: &[TO_V2, &EnvFromMetadata],
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "prestop-once",
        suite: "behaviour",
        summary: "image and env-from-metadata in one change under a preStop hook: the hook \
                  runs once, before the one restart (OpenKruise issue 1263)",
        fixture: "fixtures/cloneset-prestop.yaml",
        changes: &[&Combined {
            kind: "image+env-from-metadata",
            parts: &[TO_V2, &EnvFromMetadata],
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "fallback-recreate",
        suite: "behaviour",
        summary: "InPlaceIfPossible with an env value change: falls back to recreate, PVC replaced",
        fixture: "fixtures/cloneset-env.yaml",
        changes: &[PLAIN_ENV],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "inplace-only-refused",
        suite: "behaviour",
        summary: "InPlaceOnly with an env value change: refused by the webhook, nothing changes",
        fixture: "fixtures/cloneset-inplace-only.yaml",
        changes: &[PLAIN_ENV],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "sidecar-image",
        suite: "behaviour",
        summary: "two containers, the second one's image changed: only it restarts",
        fixture: "fixtures/cloneset-two-containers.yaml",
        changes: &[&Image {
            to: &[("side", "v2")],
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "container-priority",
        suite: "behaviour",
        summary: "two containers with KRUISE_CONTAINER_PRIORITY, both images changed: \
                  the higher one first",
        fixture: "fixtures/cloneset-priority.yaml",
        changes: &[&Image {
            to: &[("app", "v2"), ("side", "v2")],
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "partition",
        suite: "behaviour",
        summary: "3 replicas, partition 2: one pod updated in place, two untouched",
        fixture: "fixtures/cloneset-partition.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "max-unavailable",
        suite: "behaviour",
        summary: "4 replicas, maxUnavailable 2, image v1 -> v2: two pods updated in place \
                  at a time, never three",
        fixture: "fixtures/cloneset-concurrency.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "unavailable-budget",
        suite: "behaviour",
        summary: "4 replicas, maxUnavailable 2 under a PodUnavailableBudget of 1, image v1 -> \
                  v2: one pod updated in place at a time, the budget spent and given back",
        fixture: "fixtures/cloneset-pub.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &["PodUnavailableBudgetUpdateGate"],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "lifecycle-hook",
        suite: "behaviour",
        summary: "2 replicas with an in-place update hook (labelsHandler, markPodNotReady), \
                  image v1 -> v2: each pod waits in PreparingUpdate with its old container \
                  until the harness removes the label, then Updating -> Updated -> Normal once \
                  it is back; the second pod only after",
        fixture: "fixtures/cloneset-hook.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "hook-rollback",
        suite: "behaviour",
        summary: "the lifecycle-hook CloneSet, image v1 -> v2 rolled back while the first pod \
                  waits at the in-place hook: no pod takes the image or restarts, the waiting \
                  pod goes back to Normal and ready (OpenKruise issue 1156)",
        fixture: "fixtures/cloneset-hook.yaml",
        changes: &[&HaltedImage {
            container: "app",
            stuck: Stuck::AtHook,
            version: Some("v2"),
            hold_seconds: 10,
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "bad-image-halts",
        suite: "behaviour",
        summary: "3 replicas, maxUnavailable 1, image -> a tag nobody pushed: one pod takes it \
                  and waits in ImagePullBackOff, the rollout halts for 60 s, the old template \
                  back takes that pod back in place",
        fixture: "fixtures/cloneset-halt.yaml",
        changes: &[&HaltedImage {
            container: "app",
            stuck: Stuck::ImagePull,
            version: None,
            hold_seconds: HOLD_SECONDS,
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "unready-image-halts",
        suite: "behaviour",
        summary: "3 replicas, maxUnavailable 1, image v1 -> v2 that the readiness probe \
                  refuses: one pod runs it never ready, the rollout halts for 60 s, the old \
                  template back takes that pod back in place",
        fixture: "fixtures/cloneset-halt.yaml",
        changes: &[&HaltedImage {
            container: "app",
            stuck: Stuck::Unready,
            version: Some("v2"),
            hold_seconds: HOLD_SECONDS,
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "asts-inplace",
        suite: "advanced",
        summary: "Advanced StatefulSet InPlaceIfPossible, image v1 -> v2: same pod, claim kept",
        fixture: "fixtures/advanced-statefulset-inplace.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "asts-spread",
        suite: "multinode",
        summary: "Advanced StatefulSet of 3 replicas, one per node, InPlaceIfPossible, image v1 \
                  -> v2: each pod updated in place on its node (node, IP, claim kept), in \
                  ordinal order from the highest; needs 3 schedulable nodes",
        fixture: "fixtures/advanced-statefulset-spread.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "asts-recreate",
        suite: "advanced",
        summary: "Advanced StatefulSet ReCreate, image v1 -> v2: same name, new pod, claim kept",
        fixture: "fixtures/advanced-statefulset-recreate.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "ads-inplace",
        suite: "advanced",
        summary: "Advanced DaemonSet InPlaceIfPossible, image v1 -> v2: same pod on the node",
        fixture: "fixtures/advanced-daemonset-inplace.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "container-recreate",
        suite: "advanced",
        summary: "ContainerRecreateRequest for the app container, no template change",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[&ContainerRecreate {
            containers: &["app"],
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "sidecarset-upgrade",
        suite: "advanced",
        summary: "SidecarSet sidecar image v1 -> v2: the injected sidecar rebuilt in place, the app untouched",
        fixture: "fixtures/cloneset-sidecarset.yaml",
        changes: &[&SidecarSetImage {
            container: "sidecar",
            version: "v2",
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "pod-resize",
        suite: "advanced",
        summary: "pods/resize of the CPU limit with resizePolicy NotRequired: no restart, \
                  the new limit in the container's cgroup",
        fixture: "fixtures/cloneset-resize.yaml",
        changes: &[&PodResize {
            container: "app",
            resource: "cpu",
            limit: "300m",
            policy: "NotRequired",
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "pod-resize-restart",
        suite: "advanced",
        summary: "pods/resize of the CPU limit with resizePolicy RestartContainer: one restart",
        fixture: "fixtures/cloneset-resize-restart.yaml",
        changes: &[&PodResize {
            container: "app",
            resource: "cpu",
            limit: "300m",
            policy: "RestartContainer",
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "pod-resize-memory",
        suite: "advanced",
        summary: "pods/resize of the memory limit with resizePolicy NotRequired, up (256Mi -> \
                  384Mi) then down (-> 320Mi): no restart, each limit in the container's cgroup",
        fixture: "fixtures/cloneset-resize.yaml",
        changes: &[
            &PodResize {
                container: "app",
                resource: "memory",
                limit: "384Mi",
                policy: "NotRequired",
            },
            &PodResize {
                container: "app",
                resource: "memory",
                limit: "320Mi",
                policy: "NotRequired",
            },
        ],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "memory-below-usage",
        suite: "advanced",
        summary: "112 MiB written to the memory emptyDir, then pods/resize of the memory limit \
                  256Mi -> 96Mi, below the container's usage (NotRequired): the kubelet refuses \
                  it (PodResizeInProgress, reason Error), kills nothing, the pod stays ready for \
                  20 s; the old limit put back, nothing restarted",
        fixture: "fixtures/cloneset-resize.yaml",
        changes: &[&MemoryBelowUsage {
            container: "app",
            fill_path: "/data/mem",
            fill_mib: 112,
            limit: "96Mi",
            hold_seconds: 20,
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "pod-resize-memory-restart",
        suite: "advanced",
        summary: "pods/resize of the memory limit with resizePolicy RestartContainer: one \
                  restart, the new limit in the new container's cgroup",
        fixture: "fixtures/cloneset-resize-memory-restart.yaml",
        changes: &[&PodResize {
            container: "app",
            resource: "memory",
            limit: "384Mi",
            policy: "RestartContainer",
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "image-predownload",
        suite: "advanced",
        summary: "4 replicas held by partition 4, image v1 -> v2 under \
                  PreDownloadImageForInPlaceUpdate: kruise's ImagePullJob pulls v2 onto the \
                  node before any pod is updated; the partition lowered, every pod updated in \
                  place from the image already there, no pull",
        fixture: "fixtures/cloneset-predownload.yaml",
        changes: &[&ConductedImage {
            image: Image {
                to: &[("app", "v2")],
            },
            conduct: &PRE_DOWNLOAD,
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &["PreDownloadImageForInPlaceUpdate"],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "impossible-resize",
        suite: "advanced",
        summary: "CloneSet template CPU request of 64 cores under InPlaceWorkloadVerticalScaling: \
                  the resize pending (PodResizePending), the pod not recreated and still ready \
                  for 20 s; the template corrected, the pod converges in place, restartCount +0",
        fixture: "fixtures/cloneset-resize.yaml",
        changes: &[&ImpossibleCpuRequest {
            container: "app",
            cpu: "64",
            hold_seconds: 20,
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &["InPlaceWorkloadVerticalScaling"],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "workload-resize",
        suite: "advanced",
        summary: "CloneSet template CPU limit change under InPlaceWorkloadVerticalScaling: \
                  resized in place, no restart",
        fixture: "fixtures/cloneset-resize.yaml",
        changes: &[&CpuLimit {
            container: "app",
            cpu_limit: "300m",
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &["InPlaceWorkloadVerticalScaling"],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "graceful-inplace",
        suite: "advanced",
        summary: "gracePeriodSeconds 10 with a Service in front: the pod leaves the endpoints \
                  before its container stops, rejoins when ready; no request reaches a \
                  stopping container",
        fixture: "fixtures/cloneset-graceful.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: Some(Traffic {
            service: "app",
            client: "client",
        }),
        fault: None,
    },
    Scenario {
        name: "graceful-cross-node",
        suite: "multinode",
        summary: "graceful-inplace across nodes: the two app pods on two nodes, the client on \
                  a third, every request through the node network; no request reaches a \
                  stopping container; needs 3 schedulable nodes",
        fixture: "fixtures/cloneset-graceful-spread.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: Some(Traffic {
            service: "app",
            client: "client",
        }),
        fault: None,
    },
    Scenario {
        name: "ads-partition",
        suite: "multinode",
        summary: "Advanced DaemonSet InPlaceIfPossible on 3 nodes, partition 1, maxUnavailable \
                  1, image v1 -> v2: exactly two pods updated, one at a time, each in place on \
                  its own node (node, IP and claim kept), the third held back; the order \
                  recorded; needs 3 schedulable nodes",
        fixture: "fixtures/advanced-daemonset-partition.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "cordon-inplace",
        suite: "multinode",
        summary: "CloneSet InPlaceIfPossible, the pod's node cordoned, then image v1 -> v2: \
                  updated in place on the cordoned node (same pod, node, IP and claim), since \
                  an in-place update schedules nothing; needs 2 schedulable nodes and the \
                  right to cordon",
        fixture: "fixtures/cloneset-cordon-inplace.yaml",
        changes: &[CORDONED_TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "cordon-recreate",
        suite: "multinode",
        summary: "cordon-inplace under ReCreate: the new pod lands on another node (new UID, \
                  IP and claim: the CloneSet gives the new pod a new claim, provisioned where \
                  it lands); needs 2 schedulable nodes and the right to cordon",
        fixture: "fixtures/cloneset-cordon-recreate.yaml",
        changes: &[CORDONED_TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: None,
    },
    Scenario {
        name: "fault-manager-killed",
        suite: "faults",
        summary: "kruise-manager killed right after a CloneSet image update was triggered: \
                  the update still completes in place",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: Some(&MANAGER_KILLED),
    },
    Scenario {
        name: "fault-daemon-restarted",
        suite: "faults",
        summary: "kruise-daemon restarted during an env-from-metadata update: the container \
                  is still recreated once with the new value",
        fixture: "fixtures/cloneset-env.yaml",
        changes: &[&EnvFromMetadata],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: Some(&DAEMON_RESTARTED),
    },
    Scenario {
        name: "fault-containerd-restarted",
        suite: "faults",
        summary: "the node's containerd restarted between the marker write and a CloneSet \
                  image update: containers survive it, the update is in place",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: Some(&ContainerdRestarted),
    },
    // The upgrade profile: each workload deployed on the old OpenKruise,
    // kruise upgraded under it (all four at once), a quiet minute, then one
    // change through the new version (qualify's `upgrade_from` cells).
    Scenario {
        name: "upgrade-cloneset",
        suite: "upgrade",
        summary: "OpenKruise upgraded under a live CloneSet: nothing of it changes for a minute, \
                  then image v1 -> v2 still in place through the new version",
        fixture: "fixtures/cloneset-inplace.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: Some(&KRUISE_UPGRADED),
    },
    Scenario {
        name: "upgrade-asts",
        suite: "upgrade",
        summary: "OpenKruise upgraded under a live Advanced StatefulSet: nothing of it changes \
                  for a minute, then image v1 -> v2 still in place",
        fixture: "fixtures/advanced-statefulset-inplace.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: Some(&KRUISE_UPGRADED),
    },
    Scenario {
        name: "upgrade-ads",
        suite: "upgrade",
        summary: "OpenKruise upgraded under a live Advanced DaemonSet (apps.kruise.io/v1alpha1, \
                  which every release of the upgrade serves): nothing of it changes for a \
                  minute, then image v1 -> v2 still in place",
        fixture: "fixtures/advanced-daemonset-v1alpha1.yaml",
        changes: &[TO_V2],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: Some(&KRUISE_UPGRADED),
    },
    Scenario {
        name: "upgrade-sidecarset",
        suite: "upgrade",
        summary: "OpenKruise upgraded under a SidecarSet injecting into a live CloneSet: no pod \
                  and no sidecar hash changes for a minute, then the sidecar image v1 -> v2 \
                  in place",
        fixture: "fixtures/cloneset-sidecarset.yaml",
        changes: &[&SidecarSetImage {
            container: "sidecar",
            version: "v2",
        }],
        seed_column: None,
        measure_throughput: false,
        requires_kruise_gates: &[],
        traffic: None,
        fault: Some(&KRUISE_UPGRADED),
    },
];

pub fn find(name: &str) -> anyhow::Result<&'static Scenario> {
    CATALOG.iter().find(|s| s.name == name).with_context(|| {
        let names: Vec<&str> = CATALOG.iter().map(|s| s.name).collect();
        format!("unknown scenario {name:?}; known: {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::scenarios::expect;
    use crate::workloads;

    /// The content versions the changes ask for are the ones bootstrap
    /// builds (scripts/versions.env, WORKLOAD_VERSIONS; the first is where
    /// every scenario starts).
    #[test]
    fn every_image_version_named_is_built() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join(crate::environment::settings::FILE)).unwrap();
        let settings = crate::environment::settings::Settings::parse(&text).unwrap();
        let built = settings.workload_versions().unwrap();
        for s in CATALOG {
            for change in s.changes {
                for (_, version) in change.images() {
                    assert!(
                        built.contains(&version),
                        "{}: {version} is not built",
                        s.name
                    );
                }
            }
        }
    }

    /// The workloads' fixture tests cover `fixtures/*.yaml`: every fixture
    /// the catalog names must be one of them.
    #[test]
    fn every_fixture_is_a_yaml_file_under_fixtures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for s in CATALOG {
            let path = std::path::Path::new(s.fixture);
            assert!(
                path.parent() == Some(std::path::Path::new("fixtures"))
                    && path.extension().is_some_and(|e| e == "yaml")
                    && root.join(path).is_file(),
                "{}: {}",
                s.name,
                s.fixture
            );
        }
    }

    #[test]
    fn the_faults_profile_is_opt_in_and_runs_alone() {
        let faults: Vec<&str> = faults_profile().iter().map(|s| s.name).collect();
        assert_eq!(
            faults,
            [
                "fault-manager-killed",
                "fault-daemon-restarted",
                "fault-containerd-restarted"
            ]
        );
        assert!(default_selection().iter().all(|s| s.fault.is_none()));
        assert_eq!(
            default_selection().len() + faults.len() + upgrade_profile().len(),
            CATALOG.len()
        );
        assert!(
            upgrade_profile()
                .iter()
                .all(|s| !s.runs_alone() && s.suite == "upgrade")
        );
        assert_eq!(upgrade_profile().len(), 4);
        assert!(
            faults_profile()
                .iter()
                .all(|s| s.runs_alone() && s.suite == "faults")
        );
    }

    #[test]
    fn names_are_unique_and_found() {
        let names: BTreeSet<&str> = CATALOG.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), CATALOG.len());
        for s in CATALOG {
            assert_eq!(find(s.name).unwrap().name, s.name);
        }
        assert!(find("nope").unwrap_err().to_string().contains("known: "));
    }

    #[test]
    fn namespaces_fit_a_dns_label() {
        for s in CATALOG {
            let ns = format!("ipc-{}-{}", s.name, crate::short_id());
            assert!(ns.len() <= 63, "{ns}");
        }
    }

    /// Every change of every scenario has an expectation for the fixture's
    /// workload kind and strategy: a missing row fails here, not on a
    /// cluster.
    #[test]
    fn every_step_has_an_expectation() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for s in CATALOG {
            let (kind, strategy) = workloads::fixture_key(root, s.fixture).unwrap();
            for change in s.changes {
                assert!(
                    expect::lookup(&kind, &strategy, change.kind()).is_some(),
                    "{}: no expectation for ({kind}, {strategy}, {})",
                    s.name,
                    change.kind()
                );
            }
        }
    }

    #[test]
    fn one_scenario_per_seed_column() {
        for column in expect::SEED_COLUMNS {
            let n = CATALOG
                .iter()
                .filter(|s| s.seed_column == Some(*column))
                .count();
            assert_eq!(n, 1, "{column}");
        }
    }

    #[test]
    fn successive_scenario_updates_three_times() {
        assert_eq!(find("inplace-successive").unwrap().changes.len(), 3);
    }
}
