//! Expectation tables: pure data, keyed by workload kind, update strategy
//! and change type. Each entry says what the API server answers, which
//! kruise events must (and must not) appear, and, cell by cell, what the
//! pods that take the change must show; each names its source in OpenKruise
//! v1.9.0 (code path or doc section, see shared notes openkruise-inplace.md).
//! The seed's comparison table and claims C1..C13 are data here too.

use serde::{Deserialize, Serialize};

/// A property the tables judge. Pod rows are judged once per pod; container
/// rows once per container, in the scope a cell names.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::Display,
)]
#[serde(rename_all = "kebab-case")]
pub enum Row {
    #[strum(to_string = "pod identity")]
    PodIdentity,
    #[strum(to_string = "container rebuild")]
    ContainerRebuild,
    #[strum(to_string = "root fs")]
    RootFs,
    #[strum(to_string = "emptyDir")]
    EmptyDir,
    #[strum(to_string = "memory emptyDir")]
    MemoryEmptyDir,
    #[strum(to_string = "PVC")]
    Pvc,
    #[strum(to_string = "network identity")]
    NetworkIdentity,
    #[strum(to_string = "restartCount")]
    RestartCount,
    #[strum(to_string = "scheduling")]
    Scheduling,
}

impl Row {
    pub fn label(self) -> String {
        self.to_string()
    }

    /// Judged per container (each has its own rootfs, ID and count).
    pub fn per_container(self) -> bool {
        matches!(
            self,
            Row::ContainerRebuild | Row::RootFs | Row::RestartCount
        )
    }
}

/// Which containers a container cell is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Pod-level rows.
    Pod,
    /// Containers the change targets (new image, env from changed metadata).
    Changed,
    /// Every other container of the pod.
    Unchanged,
}

/// An outcome vocabulary shared by expectations and observations, so that a
/// cell passes exactly when the observed outcome equals the expected one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Identity, data or network identity survived.
    #[strum(to_string = "kept")]
    Kept,
    #[strum(to_string = "not kept")]
    NotKept,
    /// New container (new containerID) inside the same pod.
    #[strum(to_string = "container rebuilt in the same pod")]
    RebuiltInPod,
    /// A different pod replaced the old one.
    #[strum(to_string = "new pod")]
    NewPod,
    /// Same pod, same container: nothing was rebuilt.
    #[strum(to_string = "not rebuilt")]
    NotRebuilt,
    /// restartCount grew by exactly one per update in the same pod.
    #[strum(to_string = "+1 per update")]
    OnePerUpdate,
    /// restartCount grew by two in the same pod: a new container for the
    /// update and another for its revert.
    #[strum(to_string = "+2 (the update and its revert)")]
    TwoInPod,
    /// restartCount did not move.
    #[strum(to_string = "+0")]
    NoRestart,
    /// The replacement pod starts at restartCount 0.
    #[strum(to_string = "0 in the new pod")]
    ZeroInNewPod,
    #[strum(to_string = "rescheduled")]
    Rescheduled,
    #[strum(to_string = "no rescheduling")]
    NotRescheduled,
    /// Steps disagree, or the facts fit no outcome above.
    #[strum(to_string = "inconsistent")]
    Inconsistent,
}

impl Outcome {
    pub fn label(self) -> String {
        self.to_string()
    }
}

/// The seed's claims (shared/seed/CLAIMS.md).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::EnumIter,
    strum::Display,
)]
pub enum Claim {
    C1,
    C2,
    C3,
    C4,
    C5,
    C6,
    C7,
    C8,
    C9,
    C10,
    C11,
    C12,
    C13,
}

impl Claim {
    pub fn id(self) -> String {
        self.to_string()
    }

    pub fn summary(self) -> &'static str {
        match self {
            Claim::C1 => "In-place update destroys the old container and creates a new one",
            Claim::C2 => "The writable layer is removed: a rootfs file does not survive",
            Claim::C3 => "The new container is built from the new image, fresh filesystem",
            Claim::C4 => "Every in-place update increments restartCount (by 1)",
            Claim::C5 => "Volume data (emptyDir, PVC) survives the rebuilt container",
            Claim::C6 => "Pod IP and network namespace survive",
            Claim::C7 => "Container-level resources such as the cgroup are re-initialised",
            Claim::C8 => "An emptyDir keeps data for the pod's lifetime",
            Claim::C9 => "A memory (tmpfs) emptyDir also survives",
            Claim::C10 => {
                "Rolling update vs in-place: identity, rebuild, rootfs, network, scheduling"
            }
            Claim::C11 => "restartCount tracks the number of rebuilds exactly (N updates -> N)",
            Claim::C12 => "A memory emptyDir is faster for I/O-sensitive work",
            Claim::C13 => "Important state belongs on a persistent volume",
        }
    }

    /// Seed columns that must all have been run for the claim to be judged
    /// at all: C10 and C13 are comparisons, an in-place run alone proves
    /// neither. Each inner slice is "any of"; the outer slice is "all of".
    pub fn required_columns(self) -> &'static [&'static [&'static str]] {
        const IN_PLACE: &[&str] = &[COLUMN_IN_PLACE];
        const STANDARD: &[&str] = &[COLUMN_DEPLOYMENT, COLUMN_RECREATE];
        const DEPLOYMENT: &[&str] = &[COLUMN_DEPLOYMENT];
        match self {
            Claim::C10 => &[IN_PLACE, STANDARD],
            Claim::C13 => &[IN_PLACE, DEPLOYMENT],
            _ => &[],
        }
    }
}

/// One cell of an expectation: a row, the containers it is about, the
/// outcome, and the claims it evidences (empty: this table proves no claim
/// of the seed; it is recorded for the behaviour matrix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub row: Row,
    pub scope: Scope,
    pub outcome: Outcome,
    pub claims: &'static [Claim],
}

const fn pod(row: Row, outcome: Outcome, claims: &'static [Claim]) -> Cell {
    Cell {
        row,
        scope: Scope::Pod,
        outcome,
        claims,
    }
}

const fn changed(row: Row, outcome: Outcome, claims: &'static [Claim]) -> Cell {
    Cell {
        row,
        scope: Scope::Changed,
        outcome,
        claims,
    }
}

const fn others(row: Row, outcome: Outcome) -> Cell {
    Cell {
        row,
        scope: Scope::Unchanged,
        outcome,
        claims: &[],
    }
}

/// Where an expectation comes from: one click from the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Source {
    pub title: &'static str,
    pub url: &'static str,
}

/// What the API server must answer to the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AdmissionExpectation {
    Accepted,
    /// Refused; the message must contain this text.
    Rejected(&'static str),
}

/// What one change must do to one kind of workload under one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Expectation {
    pub workload: &'static str,
    pub strategy: &'static str,
    pub change: &'static str,
    pub admission: AdmissionExpectation,
    /// Reasons that must appear among the step's events.
    pub events: &'static [&'static str],
    /// Reasons that must not: the other path of the controller.
    pub forbidden_events: &'static [&'static str],
    /// Cells for the pods that take the change.
    pub updated: &'static [Cell],
    /// Cells for the pods that must be left alone (partition, refusal).
    pub untouched: &'static [Cell],
    /// Whether these observations evidence the seed's claims (its claims
    /// are about image updates and the seed's two columns; other rows reuse
    /// the same cells without claiming anything).
    pub seed_claims: bool,
    pub source: Source,
}

const IN_PLACE_EVENT: &str = "SuccessfulUpdatePodInPlace";
const RECREATE_EVENT: &str = "SuccessfulUpdatePodReCreate";

const KRUISE: &str = "https://github.com/openkruise/kruise/blob/v1.9.0/";

const SRC_CALCULATE: Source = Source {
    title: "kruise v1.9.0 pkg/util/inplaceupdate/inplace_update_defaults.go (defaultCalculateInPlaceUpdateSpec)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/util/inplaceupdate/inplace_update_defaults.go",
};
const SRC_INPLACE_COMPLETED: Source = Source {
    title: "kruise v1.9.0 pkg/util/inplaceupdate/inplace_update_defaults.go (defaultCheckInPlaceUpdateCompleted: an unchanged imageID counts as not updated unless the status image equals the spec's; issues 635, 1493)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/util/inplaceupdate/inplace_update_defaults.go",
};
const SRC_CLONESET_UPDATE: Source = Source {
    title: "kruise v1.9.0 pkg/controller/cloneset/sync/cloneset_update.go (updatePod: in place, else specified-delete)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/controller/cloneset/sync/cloneset_update.go",
};
const SRC_ENV_FROM_METADATA: Source = Source {
    title: "kruise v1.9.0 pkg/daemon/containermeta/container_meta_restarter.go (env from metadata: daemon kills the container)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/daemon/containermeta/container_meta_restarter.go",
};
const SRC_INPLACE_ONLY: Source = Source {
    title: "kruise v1.9.0 pkg/controller/cloneset/core/cloneset_core.go (ValidateCloneSetUpdate: only images for InPlaceOnly)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/controller/cloneset/core/cloneset_core.go",
};
const SRC_DEPLOYMENT: Source = Source {
    title: "Kubernetes docs: Deployments, rolling update (a new ReplicaSet, new pods)",
    url: "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment",
};
const SRC_ASTS: Source = Source {
    title: "kruise v1.9.0 pkg/controller/statefulset/stateful_set_control.go (in place if possible, else delete and recreate under the same name)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/controller/statefulset/stateful_set_control.go",
};
const SRC_ADS: Source = Source {
    title: "kruise v1.9.0 pkg/controller/daemonset/daemonset_update.go (rollingUpdateType InPlaceIfPossible)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/controller/daemonset/daemonset_update.go",
};
const SRC_CRR: Source = Source {
    title: "kruise v1.9.0 pkg/daemon/containerrecreate/crr_daemon_controller.go (kruise-daemon stops the containers; the kubelet creates them again)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/daemon/containerrecreate/crr_daemon_controller.go",
};
const SRC_SIDECARSET: Source = Source {
    title: "kruise v1.9.0 pkg/controller/sidecarset/sidecarset_processor.go (in-place sidecar image update)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/controller/sidecarset/sidecarset_processor.go",
};
const SRC_POD_RESIZE: Source = Source {
    title: "Kubernetes docs: Resize CPU and Memory Resources assigned to Containers (resizePolicy)",
    url: "https://kubernetes.io/docs/tasks/configure-pod-container/resize-container-resources/",
};
const SRC_WORKLOAD_RESIZE: Source = Source {
    title: "kruise v1.9.0 pkg/util/inplaceupdate/inplace_update_defaults.go (InPlaceWorkloadVerticalScaling: resources in place)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/util/inplaceupdate/inplace_update_defaults.go",
};
const SRC_MEMORY_BELOW_USAGE: Source = Source {
    title: "Kubernetes v1.34.4 pkg/kubelet/kuberuntime/kuberuntime_manager.go (validateMemoryResizeAction: a memory limit decrease below current usage is refused, PodResizeInProgress reason Error)",
    url: "https://github.com/kubernetes/kubernetes/blob/v1.34.4/pkg/kubelet/kuberuntime/kuberuntime_manager.go",
};
const SRC_POD_PATCH: Source = Source {
    title: "kruise v1.9.0 pkg/daemon/containermeta/container_meta_controller.go (restarts only for a template change in flight)",
    url: "https://github.com/openkruise/kruise/blob/v1.9.0/pkg/daemon/containermeta/container_meta_controller.go",
};

/// The seed's subject: the container is rebuilt in the same pod, volumes
/// and network stay, the rootfs goes; containers the change does not
/// target are left alone. Also what env from metadata does (kruise-daemon
/// rebuilds the container), without claiming the seed's claims.
const IN_PLACE_REBUILD: &[Cell] = &[
    pod(Row::PodIdentity, Outcome::Kept, &[Claim::C10]),
    changed(
        Row::ContainerRebuild,
        Outcome::RebuiltInPod,
        &[Claim::C1, Claim::C10],
    ),
    changed(Row::RootFs, Outcome::NotKept, &[Claim::C2, Claim::C10]),
    pod(Row::EmptyDir, Outcome::Kept, &[Claim::C5, Claim::C8]),
    pod(Row::MemoryEmptyDir, Outcome::Kept, &[Claim::C5, Claim::C9]),
    pod(Row::Pvc, Outcome::Kept, &[Claim::C5, Claim::C13]),
    pod(
        Row::NetworkIdentity,
        Outcome::Kept,
        &[Claim::C6, Claim::C10],
    ),
    changed(Row::RestartCount, Outcome::OnePerUpdate, &[Claim::C4]),
    pod(Row::Scheduling, Outcome::NotRescheduled, &[Claim::C10]),
    others(Row::ContainerRebuild, Outcome::NotRebuilt),
    others(Row::RootFs, Outcome::Kept),
    others(Row::RestartCount, Outcome::NoRestart),
];

/// An update that started its new container and was then reverted, both
/// in place: the same cells as the rebuild, with two restarts.
const IN_PLACE_TWICE: &[Cell] = &[
    pod(Row::PodIdentity, Outcome::Kept, &[]),
    changed(Row::ContainerRebuild, Outcome::RebuiltInPod, &[]),
    changed(Row::RootFs, Outcome::NotKept, &[]),
    pod(Row::EmptyDir, Outcome::Kept, &[]),
    pod(Row::MemoryEmptyDir, Outcome::Kept, &[]),
    pod(Row::Pvc, Outcome::Kept, &[]),
    pod(Row::NetworkIdentity, Outcome::Kept, &[]),
    changed(Row::RestartCount, Outcome::TwoInPod, &[]),
    pod(Row::Scheduling, Outcome::NotRescheduled, &[]),
    others(Row::ContainerRebuild, Outcome::NotRebuilt),
    others(Row::RootFs, Outcome::Kept),
    others(Row::RestartCount, Outcome::NoRestart),
];

/// Nothing happens to the pod: every container keeps its ID, count and
/// rootfs marker. For metadata-only changes, refused changes and pods a
/// partition holds back.
pub const UNTOUCHED: &[Cell] = &[
    pod(Row::PodIdentity, Outcome::Kept, &[]),
    pod(Row::EmptyDir, Outcome::Kept, &[]),
    pod(Row::MemoryEmptyDir, Outcome::Kept, &[]),
    pod(Row::Pvc, Outcome::Kept, &[]),
    pod(Row::NetworkIdentity, Outcome::Kept, &[]),
    pod(Row::Scheduling, Outcome::NotRescheduled, &[]),
    changed(Row::ContainerRebuild, Outcome::NotRebuilt, &[]),
    changed(Row::RootFs, Outcome::Kept, &[]),
    changed(Row::RestartCount, Outcome::NoRestart, &[]),
    others(Row::ContainerRebuild, Outcome::NotRebuilt),
    others(Row::RootFs, Outcome::Kept),
    others(Row::RestartCount, Outcome::NoRestart),
];

/// CloneSet recreate (ReCreate, or the InPlaceIfPossible fallback): the pod
/// is deleted together with its PVCs (cloneset_scale.go deletePods), so
/// even the PVC marker is lost.
const CLONESET_NEW_POD: &[Cell] = &[
    pod(Row::PodIdentity, Outcome::NotKept, &[Claim::C10]),
    changed(Row::ContainerRebuild, Outcome::NewPod, &[Claim::C10]),
    changed(Row::RootFs, Outcome::NotKept, &[Claim::C10]),
    pod(Row::EmptyDir, Outcome::NotKept, &[]),
    pod(Row::MemoryEmptyDir, Outcome::NotKept, &[]),
    pod(Row::Pvc, Outcome::NotKept, &[]),
    pod(Row::NetworkIdentity, Outcome::NotKept, &[Claim::C10]),
    changed(Row::RestartCount, Outcome::ZeroInNewPod, &[]),
    pod(Row::Scheduling, Outcome::Rescheduled, &[Claim::C10]),
    others(Row::ContainerRebuild, Outcome::NewPod),
    others(Row::RootFs, Outcome::NotKept),
    others(Row::RestartCount, Outcome::ZeroInNewPod),
];

/// Advanced StatefulSet recreate: the same name comes back, but it is a new
/// pod (new UID, IP, netns, emptyDirs); the claim is kept and reattached.
const STATEFUL_NEW_POD: &[Cell] = &[
    pod(Row::PodIdentity, Outcome::NotKept, &[]),
    changed(Row::ContainerRebuild, Outcome::NewPod, &[]),
    changed(Row::RootFs, Outcome::NotKept, &[]),
    pod(Row::EmptyDir, Outcome::NotKept, &[]),
    pod(Row::MemoryEmptyDir, Outcome::NotKept, &[]),
    pod(Row::Pvc, Outcome::Kept, &[]),
    pod(Row::NetworkIdentity, Outcome::NotKept, &[]),
    changed(Row::RestartCount, Outcome::ZeroInNewPod, &[]),
    pod(Row::Scheduling, Outcome::Rescheduled, &[]),
    others(Row::ContainerRebuild, Outcome::NewPod),
    others(Row::RootFs, Outcome::NotKept),
    others(Row::RestartCount, Outcome::ZeroInNewPod),
];

/// Deployment rolling update: the seed's standard column; the claim object
/// outlives the pod, so the PVC marker is kept (C13).
const DEPLOYMENT_NEW_POD: &[Cell] = &[
    pod(Row::PodIdentity, Outcome::NotKept, &[Claim::C10]),
    changed(Row::ContainerRebuild, Outcome::NewPod, &[Claim::C10]),
    changed(Row::RootFs, Outcome::NotKept, &[Claim::C10]),
    pod(Row::EmptyDir, Outcome::NotKept, &[]),
    pod(Row::MemoryEmptyDir, Outcome::NotKept, &[]),
    pod(Row::Pvc, Outcome::Kept, &[Claim::C13]),
    pod(Row::NetworkIdentity, Outcome::NotKept, &[Claim::C10]),
    changed(Row::RestartCount, Outcome::ZeroInNewPod, &[]),
    pod(Row::Scheduling, Outcome::Rescheduled, &[Claim::C10]),
    others(Row::ContainerRebuild, Outcome::NewPod),
    others(Row::RootFs, Outcome::NotKept),
    others(Row::RestartCount, Outcome::ZeroInNewPod),
];

/// Every (workload, strategy, change) the catalog uses. A new scenario of
/// an existing kind and change type adds a row here, nothing else.
pub const TABLE: &[Expectation] = &[
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "image",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &[RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: true,
        source: SRC_CALCULATE,
    },
    // The same content under a new tag: still an image change for the
    // in-place calculation, so the same cells as an image update.
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "retag",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &[RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_INPLACE_COMPLETED,
    },
    // A new image that cannot be pulled: the pods that took it wait with
    // their old container gone; no new container starts until the old
    // template is back, so one restart in all. The pods a halted rollout
    // never reached are left alone.
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "unpullable-image-reverted",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &[RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_CLONESET_UPDATE,
    },
    // A new image that starts and is never ready: its container runs, then
    // the revert's: two restarts.
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "unready-image-reverted",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &[RECREATE_EVENT],
        updated: IN_PLACE_TWICE,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_CLONESET_UPDATE,
    },
    // Rolled back while a pod waits at its in-place hook: the image never
    // reaches any pod, nothing is rebuilt, the pod goes back to Normal
    // (kruise#1156's fix, cloneset_update.go: a pod in PreparingUpdate on
    // the update revision is only moved back).
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "hooked-image-rolled-back",
        admission: AdmissionExpectation::Accepted,
        events: &[],
        forbidden_events: &[IN_PLACE_EVENT, RECREATE_EVENT],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_CLONESET_UPDATE,
    },
    // A CPU request no node can give, then corrected: the resize stays
    // pending, nothing is rebuilt or recreated, the pod converges in place.
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "impossible-resize-corrected",
        admission: AdmissionExpectation::Accepted,
        events: &[],
        forbidden_events: &["Killing", RECREATE_EVENT],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_WORKLOAD_RESIZE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "metadata",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &[RECREATE_EVENT],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_CALCULATE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "env-from-metadata",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &[RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_ENV_FROM_METADATA,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "image+metadata",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &[RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_CALCULATE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "image+env-from-metadata",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &[RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_CALCULATE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "pod-annotation",
        admission: AdmissionExpectation::Accepted,
        events: &[],
        forbidden_events: &[IN_PLACE_EVENT, RECREATE_EVENT, "Killing"],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_POD_PATCH,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "env-value",
        admission: AdmissionExpectation::Accepted,
        events: &[RECREATE_EVENT],
        forbidden_events: &[IN_PLACE_EVENT],
        updated: CLONESET_NEW_POD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_CLONESET_UPDATE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceOnly",
        change: "env-value",
        admission: AdmissionExpectation::Rejected(
            "only allowed to update images in spec for InPlaceOnly",
        ),
        events: &[],
        forbidden_events: &[IN_PLACE_EVENT, RECREATE_EVENT, "Killing"],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_INPLACE_ONLY,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "ReCreate",
        change: "image",
        admission: AdmissionExpectation::Accepted,
        events: &[RECREATE_EVENT],
        forbidden_events: &[IN_PLACE_EVENT],
        updated: CLONESET_NEW_POD,
        untouched: UNTOUCHED,
        seed_claims: true,
        source: SRC_CLONESET_UPDATE,
    },
    Expectation {
        workload: "Advanced StatefulSet",
        strategy: "InPlaceIfPossible",
        change: "image",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &["SuccessfulDelete"],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_ASTS,
    },
    Expectation {
        workload: "Advanced StatefulSet",
        strategy: "ReCreate",
        change: "image",
        admission: AdmissionExpectation::Accepted,
        events: &["SuccessfulDelete"],
        forbidden_events: &[IN_PLACE_EVENT],
        updated: STATEFUL_NEW_POD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_ASTS,
    },
    Expectation {
        workload: "Advanced DaemonSet",
        strategy: "InPlaceIfPossible",
        change: "image",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &["SuccessfulDelete"],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_ADS,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "container-recreate-request",
        admission: AdmissionExpectation::Accepted,
        events: &[],
        forbidden_events: &[IN_PLACE_EVENT, RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_CRR,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "sidecarset-image",
        admission: AdmissionExpectation::Accepted,
        events: &[],
        forbidden_events: &[IN_PLACE_EVENT, RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_SIDECARSET,
    },
    // The memory limit resized the same two ways: the cgroup rewritten
    // (NotRequired), or the container restarted (RestartContainer).
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "pod-resize-memory",
        admission: AdmissionExpectation::Accepted,
        events: &["ResizeCompleted"],
        forbidden_events: &["Killing", IN_PLACE_EVENT, RECREATE_EVENT],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_POD_RESIZE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "memory-below-usage-refused",
        admission: AdmissionExpectation::Accepted,
        events: &[],
        forbidden_events: &["Killing", "OOMKilling", IN_PLACE_EVENT, RECREATE_EVENT],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_MEMORY_BELOW_USAGE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "pod-resize-memory-restart",
        admission: AdmissionExpectation::Accepted,
        events: &["ResizeCompleted", "Killing"],
        forbidden_events: &[IN_PLACE_EVENT, RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_POD_RESIZE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "pod-resize",
        admission: AdmissionExpectation::Accepted,
        events: &["ResizeCompleted"],
        forbidden_events: &["Killing", IN_PLACE_EVENT, RECREATE_EVENT],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_POD_RESIZE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "pod-resize-restart",
        admission: AdmissionExpectation::Accepted,
        events: &["ResizeCompleted", "Killing"],
        forbidden_events: &[IN_PLACE_EVENT, RECREATE_EVENT],
        updated: IN_PLACE_REBUILD,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_POD_RESIZE,
    },
    Expectation {
        workload: "CloneSet",
        strategy: "InPlaceIfPossible",
        change: "cpu-limit",
        admission: AdmissionExpectation::Accepted,
        events: &[IN_PLACE_EVENT],
        forbidden_events: &["Killing", RECREATE_EVENT],
        updated: UNTOUCHED,
        untouched: UNTOUCHED,
        seed_claims: false,
        source: SRC_WORKLOAD_RESIZE,
    },
    Expectation {
        workload: "Deployment",
        strategy: "RollingUpdate",
        change: "image",
        admission: AdmissionExpectation::Accepted,
        events: &[],
        forbidden_events: &[IN_PLACE_EVENT, RECREATE_EVENT],
        updated: DEPLOYMENT_NEW_POD,
        untouched: UNTOUCHED,
        seed_claims: true,
        source: SRC_DEPLOYMENT,
    },
];

pub fn lookup(workload: &str, strategy: &str, change: &str) -> Option<&'static Expectation> {
    TABLE
        .iter()
        .find(|e| e.workload == workload && e.strategy == strategy && e.change == change)
}

/// The kruise source tree the links point into (for the report's legend).
pub fn kruise_source_root() -> &'static str {
    KRUISE
}

/// The seed's columns (which catalog entries feed them is in the catalog).
pub const COLUMN_IN_PLACE: &str = "CloneSet InPlaceIfPossible";
pub const COLUMN_RECREATE: &str = "CloneSet ReCreate";
pub const COLUMN_DEPLOYMENT: &str = "Deployment RollingUpdate";
pub const SEED_COLUMNS: &[&str] = &[COLUMN_IN_PLACE, COLUMN_RECREATE, COLUMN_DEPLOYMENT];

/// The seed's own comparison table ("与标准Kubernetes的对比"), translated; rows
/// the seed states only in prose quote that prose. Shown beside the observed
/// columns so a reader sees claim and observation side by side.
pub struct SeedRow {
    pub row: Row,
    pub standard_rolling: &'static str,
    pub openkruise_in_place: &'static str,
}

pub const SEED_TABLE: &[SeedRow] = &[
    seed(Row::PodIdentity, "changes", "kept"),
    seed(
        Row::ContainerRebuild,
        "new pod",
        "container rebuilt in the pod",
    ),
    seed(Row::RootFs, "not kept", "not kept"),
    seed(Row::EmptyDir, "-", "kept (prose)"),
    seed(Row::MemoryEmptyDir, "-", "kept (prose)"),
    seed(Row::Pvc, "-", "kept (prose)"),
    seed(Row::NetworkIdentity, "changes", "kept"),
    seed(Row::RestartCount, "-", "+1 per update (prose)"),
    seed(Row::Scheduling, "needs rescheduling", "no rescheduling"),
];

const fn seed(row: Row, standard: &'static str, in_place: &'static str) -> SeedRow {
    SeedRow {
        row,
        standard_rolling: standard,
        openkruise_in_place: in_place,
    }
}

pub fn seed_row(row: Row) -> &'static SeedRow {
    SEED_TABLE
        .iter()
        .find(|s| s.row == row)
        .expect("SEED_TABLE covers every row")
}

/// C12 is judged on a ratio, not an outcome: memory/disk MB/s at or above
/// `FASTER` confirms the claim; below `SANITY` means the media look swapped
/// or broken (the only condition that fails the test; between the two the
/// claim is inconclusive rather than refuted, machines differ).
pub const THROUGHPUT_FASTER_RATIO: f64 = 1.0;
pub const THROUGHPUT_SANITY_RATIO: f64 = 0.5;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use strum::IntoEnumIterator;

    use super::*;

    fn outcome(table: &[Cell], row: Row) -> Outcome {
        let scope = if row.per_container() {
            Scope::Changed
        } else {
            Scope::Pod
        };
        table
            .iter()
            .find(|c| c.row == row && c.scope == scope)
            .unwrap()
            .outcome
    }

    #[test]
    fn every_table_covers_every_row_in_every_scope_once() {
        let tables: Vec<&[Cell]> = TABLE
            .iter()
            .flat_map(|e| [e.updated, e.untouched])
            .collect();
        for table in tables {
            for row in Row::iter() {
                let scopes: &[Scope] = if row.per_container() {
                    &[Scope::Changed, Scope::Unchanged]
                } else {
                    &[Scope::Pod]
                };
                for scope in scopes {
                    let n = table
                        .iter()
                        .filter(|c| c.row == row && c.scope == *scope)
                        .count();
                    assert_eq!(n, 1, "{row:?} {scope:?}");
                }
            }
            assert_eq!(table.len(), 12);
        }
    }

    #[test]
    fn keys_are_unique_and_sources_point_at_kruise_or_kubernetes() {
        let keys: HashSet<(&str, &str, &str)> = TABLE
            .iter()
            .map(|e| (e.workload, e.strategy, e.change))
            .collect();
        assert_eq!(keys.len(), TABLE.len());
        for e in TABLE {
            assert!(
                e.source.url.starts_with(KRUISE)
                    || e.source.url.contains("kubernetes.io")
                    || e.source
                        .url
                        .starts_with("https://github.com/kubernetes/kubernetes/blob/"),
                "{e:?}"
            );
            for reason in e.events {
                assert!(!e.forbidden_events.contains(reason), "{e:?}");
            }
        }
    }

    #[test]
    fn seed_table_covers_every_row() {
        for row in Row::iter() {
            assert_eq!(seed_row(row).row, row);
        }
    }

    #[test]
    fn in_place_and_standard_differ_exactly_where_the_seed_says() {
        // The seed: identity, rebuild, network and scheduling differ, root fs
        // is lost in both. Volumes and restartCount differ too (pod lifetime).
        let same: Vec<Row> = Row::iter()
            .filter(|row| outcome(IN_PLACE_REBUILD, *row) == outcome(DEPLOYMENT_NEW_POD, *row))
            .collect();
        assert_eq!(same, vec![Row::RootFs, Row::Pvc]);
    }

    #[test]
    fn recreate_differs_from_deployment_only_in_pvc() {
        let differing: Vec<Row> = Row::iter()
            .filter(|row| outcome(CLONESET_NEW_POD, *row) != outcome(DEPLOYMENT_NEW_POD, *row))
            .collect();
        assert_eq!(differing, vec![Row::Pvc]);
    }

    #[test]
    fn claims_checked_by_rows_or_by_dedicated_checks() {
        // C3, C7, C11 and C12 have dedicated checks in `assess`; every other
        // claim must be evidenced by at least one in-place table cell.
        let by_rows: HashSet<Claim> = IN_PLACE_REBUILD
            .iter()
            .flat_map(|e| e.claims.iter().copied())
            .collect();
        for claim in Claim::iter() {
            let dedicated = matches!(claim, Claim::C3 | Claim::C7 | Claim::C11 | Claim::C12);
            assert!(by_rows.contains(&claim) || dedicated, "{claim:?} unchecked");
        }
    }

    #[test]
    fn only_image_changes_evidence_the_seed() {
        assert!(UNTOUCHED.iter().all(|c| c.claims.is_empty()));
        for e in TABLE {
            let seed = e.change == "image" && ["CloneSet", "Deployment"].contains(&e.workload);
            assert_eq!(e.seed_claims, seed, "{e:?}");
        }
    }

    #[test]
    fn only_comparison_claims_need_several_columns() {
        for claim in Claim::iter() {
            let needs = !claim.required_columns().is_empty();
            assert_eq!(needs, matches!(claim, Claim::C10 | Claim::C13), "{claim:?}");
            for any_of in claim.required_columns() {
                assert!(any_of.iter().all(|c| SEED_COLUMNS.contains(c)));
            }
        }
    }

    #[test]
    fn throughput_ratios_are_ordered() {
        const { assert!(THROUGHPUT_SANITY_RATIO < THROUGHPUT_FASTER_RATIO) };
    }
}
