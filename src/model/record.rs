//! Data model of what a scenario records. Raw observations only: verdicts are
//! derived later (`assess`), so a report can be re-rendered from old records
//! and a recording can be fed to other expectations (the self-check tests).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Bumped when a field changes meaning; older records are then refused.
/// 2: every container of every followed pod, changes as data.
pub const RECORD_SCHEMA: u32 = 2;

/// Where a marker token is written inside the container.
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
)]
#[serde(rename_all = "kebab-case")]
pub enum MarkerLocation {
    RootFs,
    DiskEmptyDir,
    MemoryEmptyDir,
    Pvc,
}

impl MarkerLocation {
    /// The marker file; the fixtures mount the volumes under /data.
    pub fn path(self) -> &'static str {
        match self {
            MarkerLocation::RootFs => "/var/tmp/inplace-marker",
            MarkerLocation::DiskEmptyDir => "/data/disk/inplace-marker",
            MarkerLocation::MemoryEmptyDir => "/data/mem/inplace-marker",
            MarkerLocation::Pvc => "/data/pvc/inplace-marker",
        }
    }

    /// The mount point the marker must resolve to for the observation to
    /// mean what it claims (a rootfs marker on a volume would prove nothing).
    pub fn expected_mount_point(self) -> &'static str {
        match self {
            MarkerLocation::RootFs => "/",
            MarkerLocation::DiskEmptyDir => "/data/disk",
            MarkerLocation::MemoryEmptyDir => "/data/mem",
            MarkerLocation::Pvc => "/data/pvc",
        }
    }

    /// Every container has its own root filesystem; volumes are the pod's.
    pub fn per_container(self) -> bool {
        self == MarkerLocation::RootFs
    }
}

/// How the workload images reach the kubelet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ImageDelivery {
    /// A registry container per run, a repository per scenario; every
    /// update makes the kubelet pull a reference new to the node.
    Registry,
    /// Images already on the nodes (`kind load`ed into a kind cluster of
    /// this machine; put there by the user on another); no pull happens.
    Preloaded,
    /// Pushed to a registry the user names (`--image-registry REF`), that
    /// the nodes pull from; every update makes the kubelet pull. Chosen by
    /// naming the registry, not by this name.
    #[value(skip)]
    External,
}

impl ImageDelivery {
    /// Whether every image a pod takes must be pulled by its kubelet.
    pub fn pulls(self) -> bool {
        self != ImageDelivery::Preloaded
    }
}

/// One image as the pod spec names it, and which build it is (`v1`/`v2`,
/// the content of /etc/inplace-conformance/image-version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    pub reference: String,
    pub content_version: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterFacts {
    /// The cluster's name (kind cluster, or kubeconfig context).
    pub name: String,
    /// The matrix cell the run belongs to (`qualify`); empty for `run`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cell: String,
    pub kubeconfig: String,
    pub server_version: String,
    pub nodes: Vec<String>,
    /// The nodes' container runtimes (`containerd://1.6.20`), distinct.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub runtime: String,
    /// Image of kruise-controller-manager (names the Kruise version).
    pub kruise_image: Option<String>,
    /// The OpenKruise version, read from that image's tag.
    #[serde(default)]
    pub kruise_version: Option<String>,
    /// The feature gates kruise-manager's flag sets.
    #[serde(default)]
    pub kruise_gates: BTreeMap<String, bool>,
    /// Who the run was and where it could write (`run::access`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub identity: String,
}

/// The workload under test, as created from its fixture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub fixture: String,
    /// The update strategy as the object spells it (`InPlaceIfPossible`,
    /// `ReCreate`, `InPlaceOnly`, `RollingUpdate`).
    pub strategy: String,
}

/// Where a path resolved in /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountFacts {
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkerWrite {
    pub location: MarkerLocation,
    /// The container it was written in (its own rootfs, or the pod's volume).
    pub container: String,
    pub path: String,
    pub token: String,
    pub mount: MountFacts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkerRead {
    pub location: MarkerLocation,
    pub container: String,
    pub path: String,
    /// File content, `None` when the file does not exist.
    pub found: Option<String>,
    pub mount: Option<MountFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TerminatedRecord {
    pub exit_code: i32,
    pub reason: Option<String>,
    pub container_id: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

/// A container's status as the kubelet reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub name: String,
    pub container_id: Option<String>,
    pub image: String,
    pub image_id: String,
    pub restart_count: i32,
    pub ready: bool,
    pub started_at: Option<String>,
    pub last_terminated: Option<TerminatedRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionRecord {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub last_transition: Option<String>,
}

/// What the container itself sees (read through exec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsideView {
    /// `readlink /proc/self/ns/net`, e.g. `net:[4026532511]`.
    pub netns: String,
    /// `/proc/self/cgroup`; `0::/` under a private cgroup namespace.
    pub cgroup: String,
    /// `readlink /proc/self/ns/cgroup`.
    pub cgroup_ns: String,
    /// Inode of the container's cgroup directory (/sys/fs/cgroup): it
    /// identifies the cgroup even when the namespace hides its path.
    pub cgroup_inode: String,
    /// Content of /etc/inplace-conformance/image-version.
    pub image_version: String,
    /// The container's `IPC_*` environment variables (env from metadata).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The CPU quota of the container's own cgroup as "quota period"
    /// (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us cpu.cfs_period_us`).
    #[serde(default)]
    pub cpu_quota: String,
    /// The lines of `observe::probe::PRESTOP_LOG` (a fixture's preStop hook
    /// appends one per run); empty when there is no such file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prestop_log: Vec<String>,
    /// The memory limit of the container's own cgroup (cgroup v2
    /// `memory.max`, or v1 `memory.limit_in_bytes`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub memory_limit: String,
}

impl InsideView {
    /// The cgroup's memory limit in bytes; `None` when unlimited (v2 `max`,
    /// v1's page-rounded 2^63) or unreadable.
    pub fn memory_limit_bytes(&self) -> Option<i64> {
        self.memory_limit
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|b| *b < 1 << 62)
    }

    /// The cgroup's CPU limit in millicores; `None` when unlimited or
    /// unreadable.
    pub fn cpu_limit_millicores(&self) -> Option<i64> {
        let mut parts = self.cpu_quota.split_whitespace();
        let quota: i64 = parts.next()?.parse().ok()?;
        let period: i64 = parts.next()?.parse().ok()?;
        (quota > 0 && period > 0).then(|| quota * 1000 / period)
    }
}

/// One container: the kubelet's status and the view from inside.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSnapshot {
    pub status: ContainerRecord,
    pub inside: InsideView,
    /// `KRUISE_CONTAINER_PRIORITY` from the pod spec, when set.
    #[serde(default)]
    pub priority: Option<i32>,
}

/// A PersistentVolumeClaim a pod mounts, with the claim object's UID: a
/// claim of the same name can be a new object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub volume: String,
    pub claim: String,
    pub uid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodSnapshot {
    pub taken_at: String,
    pub name: String,
    pub uid: String,
    pub node: Option<String>,
    pub pod_ips: Vec<String>,
    pub phase: Option<String>,
    pub creation_timestamp: Option<String>,
    /// `controller-revision-hash` label (Deployment: `pod-template-hash`).
    pub revision_label: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Parsed `apps.kruise.io/inplace-update-state` annotation.
    pub inplace_update_state: Option<serde_json::Value>,
    pub conditions: Vec<ConditionRecord>,
    /// Every container of the pod, in spec order.
    pub containers: Vec<ContainerSnapshot>,
    #[serde(default)]
    pub claims: Vec<ClaimRecord>,
}

impl PodSnapshot {
    pub fn condition(&self, type_: &str) -> Option<&ConditionRecord> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    pub fn container(&self, name: &str) -> Option<&ContainerSnapshot> {
        self.containers.iter().find(|c| c.status.name == name)
    }

    /// The pod's network namespace, as its first container sees it (every
    /// container of a pod shares it).
    pub fn netns(&self) -> &str {
        self.containers
            .first()
            .map(|c| c.inside.netns.as_str())
            .unwrap_or("")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub reason: String,
    pub message: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub object_kind: String,
    pub object_name: String,
    pub object_uid: Option<String>,
    pub first_seen: Option<String>,
    /// The event's time by the one rule of `events::event_time`.
    pub last_seen: Option<String>,
    pub count: i32,
    pub source: Option<String>,
}

/// What a change did, as applied: the facts the judgement needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// The change type, the expectation table's key (`image`, `metadata`, ...).
    pub kind: String,
    pub description: String,
    /// Containers the change targets (a new image, or env that reads
    /// changed metadata); the others must not be rebuilt in place.
    pub containers: Vec<String>,
    /// New images per container.
    pub images: BTreeMap<String, ImageRef>,
    /// Metadata the change sets on the template or the pods.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Env values the targeted containers must see afterwards.
    pub env: BTreeMap<String, String>,
    /// Other planned facts (a request's name, a SidecarSet's name).
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    /// What the objects a direct change created or edited report of
    /// themselves once done (a ContainerRecreateRequest's phase, ...).
    #[serde(default)]
    pub reports: BTreeMap<String, String>,
}

/// How the API server answered the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Admission {
    Accepted,
    Rejected { code: u16, message: String },
}

/// One pod through one step: paired by UID, then by name, then in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodStep {
    pub before: PodSnapshot,
    pub after: PodSnapshot,
    /// Whether the controller moved this pod to the new revision.
    pub updated: bool,
    pub written: Vec<MarkerWrite>,
    pub read_back: Vec<MarkerRead>,
}

impl PodStep {
    pub fn written(&self, location: MarkerLocation, container: &str) -> Option<&MarkerWrite> {
        self.written.iter().find(|m| {
            m.location == location && (!location.per_container() || m.container == container)
        })
    }

    pub fn read_back(&self, location: MarkerLocation, container: &str) -> Option<&MarkerRead> {
        self.read_back.iter().find(|m| {
            m.location == location && (!location.per_container() || m.container == container)
        })
    }

    pub fn same_pod(&self) -> bool {
        self.before.uid == self.after.uid
    }
}

/// Watching the pods for a while after completion: what must not happen
/// (a late restart) can only be shown over a window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuietWindow {
    pub window_ms: u64,
    /// Container status changes seen in the window (`pod/container: ...`).
    pub changes: Vec<String>,
}

/// A Service in front of the workload, watched through a change: its
/// EndpointSlice transitions and what a client pod probing it saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrafficRecord {
    pub service: String,
    pub client: String,
    /// The node the client pod ran on (empty in older recordings).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_node: String,
    /// The workload's in-place grace period (`gracePeriodSeconds`), if any.
    pub grace_seconds: Option<i64>,
    /// Every change of an endpoint's `ready` condition, as the watch saw it.
    pub endpoints: Vec<EndpointTransition>,
    /// The client's requests from the change to the end of the quiet window.
    pub requests: Vec<ProbeResult>,
    /// When a pod's spec got new container images (the moment the kubelet
    /// is told to stop the old container), as the watch saw it.
    #[serde(default)]
    pub spec_changes: Vec<EndpointTransition>,
    /// When a pod's `InPlaceUpdateReady` condition changed (kruise takes the
    /// pod out of service with it), as the same pod watch saw it.
    #[serde(default)]
    pub gate_changes: Vec<EndpointTransition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointTransition {
    /// When the watch delivered it (the harness's clock, milliseconds).
    pub at: String,
    pub pod: String,
    pub ready: bool,
}

/// One request of the client pod (`serve -probe-service`), as it logged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub at: String,
    #[serde(default)]
    pub ms: i64,
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub error: String,
}

impl ProbeResult {
    /// Answered by a container that was serving (not stopping, no error).
    pub fn served(&self) -> bool {
        self.status == 200 && self.body.starts_with("serving")
    }
}

/// One change and everything seen around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateStep {
    pub index: usize,
    pub change: ChangeRecord,
    pub admission: Admission,
    pub started_at: String,
    pub completed_at: String,
    pub duration_ms: u64,
    pub revision_before: Option<String>,
    pub revision_after: Option<String>,
    /// `metadata.generation` of the workload before and after.
    pub generation_before: Option<i64>,
    pub generation_after: Option<i64>,
    /// Pods the controller should move to the new revision (replicas minus
    /// partition; 0 when the change was refused).
    pub expected_updated: usize,
    pub pods: Vec<PodStep>,
    pub quiet: Option<QuietWindow>,
    /// The Service and its client, for scenarios that put one in front.
    #[serde(default)]
    pub traffic: Option<TrafficRecord>,
    /// Namespace events since the step started (Scheduled, Pulling,
    /// Killing, SuccessfulUpdatePodInPlace, ...).
    pub events: Vec<EventRecord>,
    /// When the API server answered the change (`started_at` is when it
    /// was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<String>,
    /// Every state the workload's pods passed through from just before the
    /// change until it was done, as the watch delivered them
    /// (`observe::timeline`); the update's phases are read from it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<PodSample>,
    /// The PodUnavailableBudgets' status through the change, when the
    /// fixture has one (`observe::budget`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub budgets: Vec<BudgetSample>,
    /// A change whose rollout must halt: the hold watched before it was
    /// reverted (`changes::halted_image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<HoldRecord>,
    /// The fixture's in-place update hook, answered by the harness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks: Option<HookRecord>,
    /// A change held back by the partition until kruise pre-downloaded its
    /// image (`changes::conducted_image`, PRE_DOWNLOAD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_download: Option<PreDownloadRecord>,
    /// A change made with the pods' nodes cordoned (`changes::conducted_image`, CORDON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cordon: Option<CordonRecord>,
}

/// The nodes of the workload's pods cordoned just before a change and
/// uncordoned once it was done (`run::cordon`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CordonRecord {
    /// The nodes cordoned (those the pods were on).
    pub nodes: Vec<String>,
    /// The nodes read back with `spec.unschedulable: true`.
    pub seen_unschedulable: Vec<String>,
    /// The request cordoning the first node sent (RFC 3339).
    pub cordoned_at: String,
    /// The last node uncordoned; empty when the step ended before that
    /// (the scenario's guard uncordons then).
    pub uncordoned_at: String,
}

/// An image change held back by the workload's partition while kruise's
/// ImagePullJob pulls the new image onto the nodes, then let go by
/// lowering the partition (`run::predownload`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PreDownloadRecord {
    pub container: String,
    /// The reference the change set: a pod that names it took the change.
    pub image: String,
    /// The ImagePullJobs of the workload's namespace as last read before
    /// the partition was lowered.
    pub jobs: Vec<ImagePullJobSample>,
    /// When the harness first saw a job for the image completed.
    pub completed_seen_at: String,
    /// The request lowering the partition sent (RFC 3339), and the values.
    pub released_at: String,
    pub partition_before: Option<i64>,
    pub partition_after: i64,
}

/// One ImagePullJob, as its object read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImagePullJobSample {
    pub name: String,
    pub image: String,
    /// Its controller owner (`CloneSet/app`), empty for none.
    pub owner: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<String>,
    pub desired: i64,
    pub succeeded: i64,
    pub failed: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl ImagePullJobSample {
    /// Every node it targeted pulled the image, none failed.
    pub fn pulled_everywhere(&self) -> bool {
        self.completion_time.is_some()
            && self.desired > 0
            && self.succeeded == self.desired
            && self.failed == 0
    }
}

/// The harness as the hook controller of an in-place update hook: one turn
/// per pod that waited at it, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookRecord {
    /// The hook's labels: removed to let a pod go, put back once updated.
    pub labels: BTreeMap<String, String>,
    /// How long each pod was left waiting before its labels were removed.
    pub hold_ms: u64,
    pub turns: Vec<HookTurn>,
}

/// One pod through the hook (RFC 3339 stamps, when the harness saw or did
/// each thing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HookTurn {
    pub pod: String,
    /// Seen in PreparingUpdate with the hook's labels.
    pub prepared_at: String,
    /// The request removing the labels sent.
    pub released_at: String,
    /// Seen in Updated.
    pub updated_at: String,
    /// The labels put back.
    pub rehooked_at: String,
    /// Seen in Normal again.
    pub normal_at: String,
}

/// A rollout held halted, then reverted: when it halted, how long it was
/// held, the workload's counts through the hold. Which pods took the change
/// and what their containers did is read from the step's timeline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HoldRecord {
    pub container: String,
    /// The reference the change set: a pod that names it took the change.
    pub image: String,
    /// What a pod that took it must show through the hold: `image pull
    /// failing` (waiting in ErrImagePull or ImagePullBackOff) or `running,
    /// never ready`.
    pub state: String,
    /// The hold asked for.
    pub wanted_ms: u64,
    /// When the first pod showed that state.
    pub halted_at: String,
    /// When the old template was sent back.
    pub reverted_at: String,
    /// The workload's update counts through the hold, as they changed.
    pub workload: Vec<WorkloadSample>,
    /// For a resize left undone: each held pod's resize condition when the
    /// harness saw it halted (`pod: type reason: message`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
}

/// The update counts of a workload's status, stamped when read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSample {
    pub at: String,
    /// The generation the status was written for: a status older than the
    /// change still counts the previous revision.
    #[serde(default)]
    pub observed_generation: Option<i64>,
    pub updated_replicas: Option<i64>,
    pub updated_ready_replicas: Option<i64>,
    pub ready_replicas: Option<i64>,
}

/// One status of a PodUnavailableBudget, as a watch delivered it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetSample {
    pub at: String,
    pub name: String,
    pub unavailable_allowed: Option<i64>,
    pub current_available: Option<i64>,
    pub desired_available: Option<i64>,
    pub total_replicas: Option<i64>,
}

impl BudgetSample {
    pub fn same_counts(&self, other: &BudgetSample) -> bool {
        (
            self.unavailable_allowed,
            self.current_available,
            self.desired_available,
            self.total_replicas,
        ) == (
            other.unavailable_allowed,
            other.current_available,
            other.desired_available,
            other.total_replicas,
        )
    }
}

/// One stretch of a scenario's wall time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lap {
    pub name: String,
    pub ms: u64,
}

impl Lap {
    /// A scenario waiting for the others to end before it measures
    /// (`run::alone`): neither the harness's work nor the update's.
    pub const OTHERS_ENDING: &'static str = "others ending";
    /// Watching a PodUnavailableBudget until it is given back after the
    /// update: observation, like the quiet window.
    pub const BUDGET_GIVEN_BACK: &'static str = "budget given back";
    /// A halted rollout watched before its revert, or a pod left waiting
    /// at its hook: observation.
    pub const HOLD: &'static str = "hold";
    /// Waiting for OpenKruise to pre-download a held-back change's image:
    /// the platform's work, like the update.
    pub const PRE_DOWNLOAD: &'static str = "pre-download";
}

/// Names consecutive stretches of time: each `lap` ends the one before.
#[derive(Debug)]
pub struct Laps {
    last: std::time::Instant,
    laps: Vec<Lap>,
}

impl Default for Laps {
    fn default() -> Self {
        Laps {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }
}

impl Laps {
    /// Ends the stretch since the last lap as `name` (added to a lap of the
    /// same name: a scenario's several steps sum per kind of work).
    pub fn lap(&mut self, name: &str) {
        let now = std::time::Instant::now();
        let ms = now.duration_since(self.last).as_millis() as u64;
        self.last = now;
        match self.laps.iter_mut().find(|l| l.name == name) {
            Some(lap) => lap.ms += ms,
            None => self.laps.push(Lap {
                name: name.to_string(),
                ms,
            }),
        }
    }

    pub fn take(&mut self) -> Vec<Lap> {
        std::mem::take(&mut self.laps)
    }
}

/// One state of one pod, stamped when the watch delivered it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PodSample {
    pub at: String,
    pub pod: String,
    pub uid: String,
    /// Marked for deletion, or gone (`deleted`).
    pub deleting: bool,
    #[serde(default)]
    pub deleted: bool,
    pub node: String,
    pub ip: String,
    /// Condition type -> True.
    pub conditions: BTreeMap<String, bool>,
    /// Container name -> the image its spec names.
    pub images: BTreeMap<String, String>,
    pub containers: Vec<ContainerSample>,
    /// The revision in kruise's in-place update state annotation.
    pub inplace_revision: Option<String>,
    /// A digest of the labels and annotations other than kruise's own.
    pub metadata_hash: String,
    /// kruise's `lifecycle.apps.kruise.io/state` label (Normal,
    /// PreparingUpdate, Updating, Updated, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub lifecycle_state: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContainerSample {
    pub name: String,
    pub id: String,
    /// running, waiting or terminated.
    pub state: String,
    pub ready: bool,
    pub restart_count: i32,
    pub spec_image: String,
    /// Why it waits (ErrImagePull, ImagePullBackOff, ...).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl UpdateStep {
    pub fn events_with_reason<'a>(
        &'a self,
        reason: &'a str,
    ) -> impl Iterator<Item = &'a EventRecord> + 'a {
        self.events.iter().filter(move |e| e.reason == reason)
    }

    pub fn updated_pods(&self) -> impl Iterator<Item = &PodStep> {
        self.pods.iter().filter(|p| p.updated)
    }

    /// The pods whose spec named the held change's image before it was
    /// reverted: the ones that took it.
    pub fn took_the_hold(&self) -> BTreeSet<String> {
        let Some(hold) = &self.hold else {
            return BTreeSet::new();
        };
        took_image(
            &self.timeline,
            &hold.container,
            &hold.image,
            &hold.reverted_at,
        )
    }
}

/// Pods whose spec named `image` for `container` in a sample before
/// `until` (RFC 3339; empty: the whole timeline).
pub fn took_image(
    timeline: &[PodSample],
    container: &str,
    image: &str,
    until: &str,
) -> BTreeSet<String> {
    let until = crate::time_key(until);
    timeline
        .iter()
        .filter(|s| until.is_none() || crate::time_key(&s.at) < until)
        .filter(|s| s.images.get(container).is_some_and(|i| i == image))
        .map(|s| s.pod.clone())
        .collect()
}

/// Write throughput of the two emptyDir media, measured in one pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    pub pod: String,
    pub file_bytes: u64,
    pub repetitions: u32,
    /// Every run, MB/s (10^6 bytes per second), write + fsync.
    pub memory_runs_mb_per_s: Vec<f64>,
    pub disk_runs_mb_per_s: Vec<f64>,
    /// Small writes, each synced to the medium (O_DSYNC) before the next:
    /// the sharper C12 signal, since tmpfs has nothing to sync while a disk
    /// waits on the device each time; one process, so no fork cost blurs
    /// it. Writes per second, every run.
    #[serde(default)]
    pub synced_writes: u32,
    #[serde(default)]
    pub synced_write_bytes: u32,
    #[serde(default)]
    pub memory_synced_writes_per_s: Vec<f64>,
    #[serde(default)]
    pub disk_synced_writes_per_s: Vec<f64>,
    pub memory_mount: MountFacts,
    pub disk_mount: MountFacts,
}

impl Throughput {
    /// Best run: the least disturbed by other load on the machine.
    pub fn memory_mb_per_s(&self) -> f64 {
        best(&self.memory_runs_mb_per_s)
    }

    pub fn disk_mb_per_s(&self) -> f64 {
        best(&self.disk_runs_mb_per_s)
    }

    pub fn memory_synced_writes(&self) -> f64 {
        best(&self.memory_synced_writes_per_s)
    }

    pub fn disk_synced_writes(&self) -> f64 {
        best(&self.disk_synced_writes_per_s)
    }
}

fn best(runs: &[f64]) -> f64 {
    runs.iter().copied().fold(0.0, f64::max)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentRestarts {
    pub pod: String,
    pub container: String,
    pub restart_count: i32,
}

/// Everything one scenario run recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRecord {
    pub schema: u32,
    pub scenario: String,
    pub summary: String,
    /// The seed-table column this scenario feeds, if any.
    pub seed_column: Option<String>,
    pub namespace: String,
    pub started_at: String,
    pub finished_at: String,
    pub cluster: ClusterFacts,
    pub image_delivery: ImageDelivery,
    pub workload: WorkloadRef,
    /// Images at creation, per container.
    pub initial_images: BTreeMap<String, ImageRef>,
    pub steps: Vec<UpdateStep>,
    pub throughput: Option<Throughput>,
    /// kruise-system pods after the scenario (suite invariant: 0 restarts).
    pub kruise_components: Vec<ComponentRestarts>,
    /// The same at the start, to tell restarts during the scenario from
    /// restarts the cluster already had.
    #[serde(default)]
    pub kruise_components_at_start: Vec<ComponentRestarts>,
    /// Free-form notes (image delivery details, ...).
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
    /// Set when the scenario stopped early; `steps` holds what completed.
    #[serde(default)]
    pub error: Option<String>,
    /// Set when the cluster cannot run the scenario (a feature gate off):
    /// nothing was run, and that is never a pass.
    #[serde(default)]
    pub unsupported: Option<String>,
    /// Faults the scenario injected (the `faults` profile), with the proof
    /// that each took effect and when the cluster had recovered.
    #[serde(default)]
    pub faults: Vec<FaultRecord>,
    /// Set when a signal stopped the scenario (SIGINT, SIGTERM): recorded
    /// INTERRUPTED, neither a pass nor a failure of what it checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<String>,
    /// The workload as planned against the workload as created: the fields
    /// its scenario depends on, and any the cluster changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_as_planned: Option<CreatedAsPlanned>,
    /// The scenario as it was resolved before anything was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanRecord>,
    /// Where the scenario's wall time went, in order: the harness's own
    /// work (prepare, images, deploy, markers, judging, cleanup) beside the
    /// update itself and the quiet window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub laps: Vec<Lap>,
}

/// The plan a scenario ran by (`scenarios::plan`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    pub fixture: String,
    pub workload: String,
    pub strategy: String,
    pub containers: Vec<String>,
    pub steps: Vec<PlannedStep>,
    /// The fault the scenario injects (the faults profile), and when.
    pub fault: Option<String>,
    pub fault_point: Option<String>,
    pub kruise_gates: Vec<String>,
    pub needs_kruise_daemon: bool,
    /// Containers with a preStop hook that logs each run to
    /// `observe::probe::PRESTOP_LOG` (the fixture's contract).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prestop_hooks: Vec<String>,
    /// The workload's `maxUnavailable`, when the fixture sets a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<i64>,
    /// The `maxUnavailable` of the fixture's PodUnavailableBudget, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_max_unavailable: Option<i64>,
    /// The nodes the fixture spreads its pods over, one pod per node
    /// (`inplace-conformance/needs-nodes`), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread_nodes: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub change: String,
    /// The expectation's source.
    pub expectation: String,
}

/// The created workload compared with the plan (the fixture as sent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreatedAsPlanned {
    /// Every field compared (JSON pointers).
    pub fields: Vec<String>,
    /// Those the cluster did not keep as planned.
    pub changed: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub planned: serde_json::Value,
    pub created: serde_json::Value,
}

/// One injected fault: what was done, at which point of the update, the
/// evidence that it happened, and the recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub fault: String,
    pub point: String,
    pub injected_at: String,
    pub action: String,
    pub evidence: String,
    /// None: the fault's own recovery was not seen (the check fails).
    pub recovered_after_ms: Option<u64>,
    /// An OpenKruise upgrade: what it was and what the namespace saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<UpgradeRecord>,
}

/// OpenKruise upgraded under the scenario's live workload
/// (`faults::kruise_upgraded`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UpgradeRecord {
    pub from: String,
    pub to: String,
    /// The version kruise-manager runs after the upgrade.
    pub installed_after: String,
    /// When this scenario was ready for it (its baseline taken).
    pub arrived_at: String,
    pub started_at: String,
    pub done_at: String,
    pub upgrade_ms: u64,
    /// How long the namespace was watched after the upgrade.
    pub window_ms: u64,
    /// Pod and workload states that differ from the baseline, from the
    /// upgrade's start to the window's end ("pod/x: old -> new").
    pub changes: Vec<String>,
    /// Update events in the namespace over the same span.
    pub events: Vec<String>,
    /// kruise-system's pods and images before and after.
    pub components_before: BTreeMap<String, String>,
    pub components_after: BTreeMap<String, String>,
    /// OpenKruise's admission webhooks (mutating and validating, by name)
    /// served before the upgrade and at the window's end.
    #[serde(default)]
    pub webhooks_before: Vec<String>,
    #[serde(default)]
    pub webhooks_after: Vec<String>,
}

impl UpgradeRecord {
    /// Webhooks served before the upgrade and not after it.
    pub fn webhooks_lost(&self) -> Vec<&str> {
        self.webhooks_before
            .iter()
            .filter(|w| !self.webhooks_after.contains(w))
            .map(String::as_str)
            .collect()
    }
}

impl ScenarioRecord {
    pub fn file_name(scenario: &str) -> String {
        format!("{scenario}.json")
    }

    pub fn load(path: &Path) -> anyhow::Result<ScenarioRecord> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading observations {}", path.display()))?;
        let schema = serde_json::from_str::<serde_json::Value>(&text)
            .with_context(|| format!("parsing observations {}", path.display()))?["schema"]
            .as_u64();
        anyhow::ensure!(
            schema == Some(u64::from(RECORD_SCHEMA)),
            "{} has schema {schema:?}, this build reads {RECORD_SCHEMA}",
            path.display(),
        );
        serde_json::from_str(&text)
            .with_context(|| format!("parsing observations {}", path.display()))
    }

    /// Writes `<dir>/<scenario>.json` atomically (temp file + rename), so a
    /// report rendered concurrently never reads half a record.
    pub fn save(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let path = dir.join(Self::file_name(&self.scenario));
        let text = serde_json::to_string_pretty(self)?;
        write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }
}

/// Temp file in the same directory, then rename: readers see old or new.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().context("path without parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().context("path without file name")?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        crate::short_id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming onto {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod samples {
    //! Recordings shipped in fixtures/observations: real runs of scenarios
    //! on the project's kind cluster (replace them with newer recordings
    //! freely; the tests derive names and values from the files).
    use super::ScenarioRecord;

    pub fn fixture(name: &str) -> ScenarioRecord {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/observations")
            .join(name);
        ScenarioRecord::load(&path).expect("sample observations parse")
    }

    pub fn recreate() -> ScenarioRecord {
        fixture("cloneset-recreate.json")
    }

    pub fn in_place() -> ScenarioRecord {
        fixture("inplace-image.json")
    }

    pub fn unsupported() -> ScenarioRecord {
        fixture("unsupported/workload-resize.json")
    }
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn samples_round_trip_through_json() {
        for record in [samples::recreate(), samples::in_place()] {
            let text = serde_json::to_string(&record).unwrap();
            let back: ScenarioRecord = serde_json::from_str(&text).unwrap();
            assert_eq!(back, record);
        }
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = std::env::temp_dir().join(format!("ipc-observe-{}", crate::short_id()));
        let path = dir.join("x.json");
        write_atomic(&path, b"first").unwrap();
        write_atomic(&path, b"second").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temp files left behind");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn marker_paths_live_under_their_mount_points() {
        for location in MarkerLocation::iter() {
            let mount = location.expected_mount_point();
            assert!(location.path().starts_with(mount), "{location:?}");
        }
    }

    #[test]
    fn cpu_quota_reads_as_millicores() {
        let mut view = samples::in_place().steps[0].pods[0].after.containers[0]
            .inside
            .clone();
        view.cpu_quota = "30000 100000".into();
        assert_eq!(view.cpu_limit_millicores(), Some(300));
        view.cpu_quota = "max 100000".into();
        assert_eq!(view.cpu_limit_millicores(), None);
        view.cpu_quota = "-1 100000".into();
        assert_eq!(view.cpu_limit_millicores(), None);
    }

    #[test]
    fn older_schemas_are_refused_with_the_path() {
        let dir = std::env::temp_dir().join(format!("ipc-schema-{}", crate::short_id()));
        let path = dir.join("old.json");
        write_atomic(&path, br#"{"schema": 1, "scenario": "x"}"#).unwrap();
        let err = ScenarioRecord::load(&path).unwrap_err().to_string();
        assert!(err.contains("schema Some(1)"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
