//! Where the seconds of an update go: every state a pod of the workload
//! passes through during a change, as a watch delivers it, stamped with
//! the time it arrived here (sub-second, unlike the API's own one-second
//! timestamps). Recorded raw; the phases are read from it afterwards
//! (`judge::phases`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use kube::runtime::watcher;

use crate::model::record::{ContainerSample, PodSample};
use crate::observe::watched::{Delivered, after_listing};

/// kruise's lifecycle state label on a pod.
pub const LIFECYCLE_STATE: &str = "lifecycle.apps.kruise.io/state";

/// A pod's lifecycle state as kruise labels it ("" without one).
pub fn lifecycle_state(pod: &Pod) -> &str {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(LIFECYCLE_STATE))
        .map(String::as_str)
        .unwrap_or("")
}

/// A pod watch running through one change.
pub struct PodTimeline {
    task: tokio::task::JoinHandle<()>,
    samples: Arc<Mutex<Vec<PodSample>>>,
}

impl PodTimeline {
    /// Starts watching the pods `selector` picks in `namespace` and returns
    /// once the watch has listed them (so the change cannot come first).
    pub async fn start(
        client: &Client,
        namespace: &str,
        selector: &str,
    ) -> anyhow::Result<PodTimeline> {
        let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let samples: Arc<Mutex<Vec<PodSample>>> = Arc::new(Mutex::new(Vec::new()));
        let sink = samples.clone();
        let (listed, ready) = tokio::sync::oneshot::channel::<()>();
        let config = watcher::Config::default().labels(selector);
        let task = tokio::spawn(async move {
            let mut last: BTreeMap<String, PodSample> = BTreeMap::new();
            let stream = after_listing(watcher(api, config), listed);
            let mut stream = std::pin::pin!(stream);
            while let Some(seen) = stream.next().await {
                let (pod, deleted) = match seen {
                    Delivered::Applied(pod) => (pod, false),
                    Delivered::Deleted(pod) => (pod, true),
                };
                let sample = sample(&pod, deleted);
                let uid = sample.uid.clone();
                // Only what changed: a watch repeats a pod for fields no
                // phase reads (managedFields, resourceVersion).
                if last.get(&uid).is_some_and(|l| same_state(l, &sample)) {
                    continue;
                }
                last.insert(uid, sample.clone());
                sink.lock().unwrap_or_else(|p| p.into_inner()).push(sample);
            }
        });
        tokio::time::timeout(std::time::Duration::from_secs(30), ready)
            .await
            .map_err(|_| anyhow::anyhow!("the pod watch did not list within 30s"))?
            .map_err(|_| anyhow::anyhow!("the pod watch ended before it listed"))?;
        Ok(PodTimeline { task, samples })
    }

    /// Stops the watch and returns what it saw, in arrival order.
    pub fn stop(self) -> Vec<PodSample> {
        self.task.abort();
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

fn same_state(a: &PodSample, b: &PodSample) -> bool {
    PodSample {
        at: String::new(),
        ..a.clone()
    } == PodSample {
        at: String::new(),
        ..b.clone()
    }
}

/// The pod as the phases read it.
pub fn sample(pod: &Pod, deleted: bool) -> PodSample {
    let status = pod.status.as_ref();
    let conditions = status
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| (c.type_.clone(), c.status == "True"))
                .collect()
        })
        .unwrap_or_default();
    let images: BTreeMap<String, String> = pod
        .spec
        .as_ref()
        .map(|s| {
            s.containers
                .iter()
                .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let containers = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let state = c.state.as_ref();
                    ContainerSample {
                        name: c.name.clone(),
                        id: c.container_id.clone().unwrap_or_default(),
                        state: if state.and_then(|s| s.running.as_ref()).is_some() {
                            "running"
                        } else if state.and_then(|s| s.terminated.as_ref()).is_some() {
                            "terminated"
                        } else {
                            "waiting"
                        }
                        .into(),
                        ready: c.ready,
                        restart_count: c.restart_count,
                        spec_image: images.get(&c.name).cloned().unwrap_or_default(),
                        reason: state
                            .and_then(|s| s.waiting.as_ref())
                            .and_then(|w| w.reason.clone())
                            .unwrap_or_default(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let annotations = pod.metadata.annotations.as_ref();
    let inplace_revision = annotations
        .and_then(|a| a.get("apps.kruise.io/inplace-update-state"))
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        .and_then(|v| v["revision"].as_str().map(str::to_string));
    PodSample {
        at: crate::now_rfc3339(),
        pod: pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
        deleting: deleted || pod.metadata.deletion_timestamp.is_some(),
        deleted,
        node: pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_default(),
        ip: status.and_then(|s| s.pod_ip.clone()).unwrap_or_default(),
        conditions,
        images,
        containers,
        inplace_revision,
        metadata_hash: metadata_hash(pod),
        lifecycle_state: lifecycle_state(pod).to_string(),
    }
}

/// Labels and annotations other than the ones kruise and the kubelet
/// write as the update runs: a metadata-only change shows here first.
fn metadata_hash(pod: &Pod) -> String {
    let skip =
        |k: &str| k.starts_with("apps.kruise.io/") || k.starts_with("lifecycle.apps.kruise.io/");
    let mut text = String::new();
    for map in [&pod.metadata.labels, &pod.metadata.annotations]
        .into_iter()
        .flatten()
    {
        for (k, v) in map.iter().filter(|(k, _)| !skip(k)) {
            text.push_str(k);
            text.push('=');
            text.push_str(v);
            text.push('\n');
        }
    }
    format!("{:x}", fnv(&text))
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}
