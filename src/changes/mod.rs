//! Changes a scenario applies, one file per change type behind [`Change`]:
//! a change first plans (fresh tokens, new images, which containers it
//! targets: the record the judgement needs), then either edits the pod
//! template (the workload's controller rolls it out) or acts directly on
//! the cluster (patch the pods, create a ContainerRecreateRequest, edit a
//! SidecarSet) and says when that is done. A new change type is a new file
//! here and expectation rows keyed by its `kind`.

mod combined;
mod conducted_image;
mod container_recreate;
mod cpu_limit;
pub mod env_from_metadata;
mod env_value;
pub mod halted_image;
mod image;
mod impossible_resize;
mod memory_below_usage;
mod metadata;
mod pod_annotation;
pub mod pod_resize;
mod retag;
mod sidecarset_image;

use std::collections::BTreeMap;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use serde_json::Value;

pub use combined::Combined;
pub use conducted_image::{CORDON, CORDONED, ConductedImage, PRE_DOWNLOAD, PRE_DOWNLOADED};
pub use container_recreate::ContainerRecreate;
pub use cpu_limit::CpuLimit;
pub use env_from_metadata::EnvFromMetadata;
pub use env_value::EnvValue;
pub use halted_image::{Halt, HaltedImage, Stuck};
pub use image::Image;
pub use impossible_resize::ImpossibleCpuRequest;
pub use memory_below_usage::MemoryBelowUsage;
pub use metadata::Metadata;
pub use pod_annotation::PodAnnotation;
pub use pod_resize::PodResize;
pub use retag::{RETAG, Retag};
pub use sidecarset_image::SidecarSetImage;

use crate::model::record::{ChangeRecord, ImageRef};

/// Where a change lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActsOn {
    /// The workload's pod template: its controller rolls it out.
    Template,
    /// The cluster directly, through [`Change::act`]; every live pod is
    /// one the change reaches.
    Directly,
}

/// What a direct change may touch: the scenario's namespace and the live
/// pods of the workload when the change was applied.
pub struct Target<'a> {
    pub client: &'a Client,
    pub namespace: &'a str,
    pub pods: &'a [Pod],
}

/// What a change may draw on when it plans.
pub struct Plan<'a> {
    /// The workload's current pod template.
    pub template: &'a Value,
    /// The images delivered for this step, by container.
    pub images: &'a BTreeMap<String, ImageRef>,
}

#[async_trait]
pub trait Change: Sync + std::fmt::Debug {
    /// The change type: the expectation table's key.
    fn kind(&self) -> &'static str;

    fn acts_on(&self) -> ActsOn {
        ActsOn::Template
    }

    /// The oldest Kubernetes (major, minor) that supports the change.
    fn minimum_kubernetes(&self) -> Option<(u32, u32)> {
        None
    }

    /// kruise-daemon carries the change out on the node (it restarts the
    /// containers): without it ready, the change cannot complete.
    fn needs_kruise_daemon(&self) -> bool {
        false
    }

    /// A change whose rollout must halt: the session waits for the halt
    /// instead of the rollout's end, holds it, then reverts the template
    /// and waits for that rollout (`halted_image`).
    fn halts(&self) -> Option<Halt> {
        None
    }

    /// A change the fixture's partition holds back while OpenKruise
    /// pre-downloads its image: the session waits for the ImagePullJob,
    /// then lowers the partition to 0 (`run::predownload`).
    fn pre_downloads(&self) -> bool {
        false
    }

    /// Made with the pods' nodes cordoned (`run::cordon`).
    fn cordons(&self) -> bool {
        false
    }

    /// New image versions per container (delivered before the step runs).
    fn images(&self) -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }

    /// Decides what the change does this time: a fresh token per value, the
    /// containers it targets; the runner records it before applying.
    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord>;

    /// Edits the pod template as planned.
    fn edit(&self, _template: &mut Value, _planned: &ChangeRecord) -> anyhow::Result<()> {
        anyhow::bail!("{} does not edit the pod template", self.kind())
    }

    /// A direct change: acts on the cluster as planned. The API server's
    /// refusal comes back as the error (recorded, not fatal).
    async fn act(&self, _target: &Target<'_>, _planned: &ChangeRecord) -> Result<(), kube::Error> {
        Err(kube::Error::Service(
            format!("{} is not a direct change", self.kind()).into(),
        ))
    }

    /// A direct change that halts: puts back what `act` changed once the
    /// hold is over (a template change is reverted by restoring the
    /// template); `done` then says when that has settled.
    async fn revert(
        &self,
        _target: &Target<'_>,
        _planned: &ChangeRecord,
    ) -> Result<(), kube::Error> {
        Err(kube::Error::Service(
            format!("{} cannot be reverted directly", self.kind()).into(),
        ))
    }

    /// A direct change: `Ok(Ok(reports))` once it is done (with what the
    /// objects it created report of themselves), `Ok(Err(state))` before.
    async fn done(
        &self,
        _target: &Target<'_>,
        _planned: &ChangeRecord,
    ) -> anyhow::Result<Result<BTreeMap<String, String>, String>> {
        Ok(Ok(BTreeMap::new()))
    }
}

/// A merge patch of metadata onto every target pod.
pub async fn patch_pods_metadata(
    target: &Target<'_>,
    planned: &ChangeRecord,
) -> Result<(), kube::Error> {
    let api: kube::Api<Pod> = kube::Api::namespaced(target.client.clone(), target.namespace);
    let patch = serde_json::json!({"metadata": {"labels": planned.labels, "annotations": planned.annotations}});
    for pod in target.pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &Default::default(), &kube::api::Patch::Merge(&patch))
            .await?;
    }
    Ok(())
}

/// A fresh random token: every run writes values no earlier run wrote.
pub fn token() -> String {
    crate::short_id()
}

/// The container entry named `name` of a pod template.
pub fn container_mut<'a>(template: &'a mut Value, name: &str) -> anyhow::Result<&'a mut Value> {
    template["spec"]["containers"]
        .as_array_mut()
        .and_then(|cs| cs.iter_mut().find(|c| c["name"] == name))
        .ok_or_else(|| anyhow::anyhow!("pod template has no container {name}"))
}

/// The image a pod template names for `name`.
pub fn container_image(template: &Value, name: &str) -> anyhow::Result<String> {
    template["spec"]["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .and_then(|c| c["image"].as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("pod template has no image for container {name}"))
}

/// Sets `metadata.<field>.<key>` of a template (labels or annotations).
pub fn set_metadata(template: &mut Value, field: &str, entries: &BTreeMap<String, String>) {
    for (key, value) in entries {
        template["metadata"][field][key] = Value::String(value.clone());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn template() -> Value {
        serde_json::json!({
            "metadata": {"labels": {"app": "x"}},
            "spec": {"containers": [
                {"name": "app", "image": "img:v1", "env": [
                    {"name": "IPC_PLAIN", "value": "initial"},
                    {"name": "IPC_FROM_ANNOTATION", "valueFrom": {"fieldRef":
                        {"fieldPath": "metadata.annotations['inplace-conformance/env-value']"}}}
                ]},
                {"name": "side", "image": "img:v1"}
            ]}
        })
    }

    pub fn images() -> BTreeMap<String, ImageRef> {
        ["app", "side"]
            .into_iter()
            .map(|c| {
                let image = ImageRef {
                    reference: format!("reg/{c}:s1-v2"),
                    content_version: "v2".into(),
                };
                (c.to_string(), image)
            })
            .collect()
    }

    /// Plans and applies `change` to the sample template.
    pub fn apply(change: &dyn Change) -> (Value, ChangeRecord) {
        let mut template = template();
        let images = images();
        let planned = change
            .plan(&Plan {
                template: &template,
                images: &images,
            })
            .unwrap();
        change.edit(&mut template, &planned).unwrap();
        (template, planned)
    }

    /// The only differences between the sample template and `edited`, as
    /// JSON pointers: what a change touches beyond its purpose would turn
    /// an in-place update into a recreate.
    pub fn touched(edited: &Value) -> Vec<String> {
        let mut out = Vec::new();
        diff("", &template(), edited, &mut out);
        out
    }

    fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    let (va, vb) = (
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    );
                    diff(&format!("{path}/{k}"), va, vb, out);
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    diff(&format!("{path}/{i}"), va, vb, out);
                }
            }
            _ if a != b => out.push(path.to_string()),
            _ => {}
        }
    }
}
