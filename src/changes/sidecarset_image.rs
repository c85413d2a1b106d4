//! A new image for a SidecarSet's sidecar (the fixture creates the
//! SidecarSet, restricted to the scenario's namespace): kruise's sidecarset
//! controller updates the injected container in place in every matched pod;
//! the app container must be left alone. Done when the SidecarSet reports
//! every matched pod updated and ready, and each pod is Ready.

use std::collections::BTreeMap;

use async_trait::async_trait;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::json;

use super::{ActsOn, Change, Plan, Target};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct SidecarSetImage {
    pub container: &'static str,
    pub version: &'static str,
}

fn resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(
        crate::observe::kruise::GROUP,
        "v1alpha1",
        "SidecarSet",
    ))
}

/// The label a fixture puts on its cluster-scoped objects, naming the
/// scenario's namespace (a SidecarSet is not in it).
pub const NAMESPACE_LABEL: &str = "inplace-conformance/namespace";

/// The SidecarSet of the scenario: the one labelled with its namespace.
async fn sidecarset(target: &Target<'_>) -> Result<DynamicObject, kube::Error> {
    let api: Api<DynamicObject> = Api::all_with(target.client.clone(), &resource());
    let selector = format!("{NAMESPACE_LABEL}={}", target.namespace);
    let list = api
        .list(&kube::api::ListParams::default().labels(&selector))
        .await?;
    list.items
        .into_iter()
        .next()
        .ok_or_else(|| kube::Error::Service(format!("no SidecarSet labelled {selector}").into()))
}

#[async_trait]
impl Change for SidecarSetImage {
    fn kind(&self) -> &'static str {
        "sidecarset-image"
    }

    fn acts_on(&self) -> ActsOn {
        ActsOn::Directly
    }

    fn images(&self) -> Vec<(&'static str, &'static str)> {
        vec![(self.container, self.version)]
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let image = plan
            .images
            .get(self.container)
            .ok_or_else(|| anyhow::anyhow!("no image delivered for {}", self.container))?;
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!("SidecarSet image of {} -> {}", self.container, self.version),
            containers: vec![self.container.to_string()],
            images: BTreeMap::from([(self.container.to_string(), image.clone())]),
            ..Default::default()
        })
    }

    /// JSON patch of the one image, guarded by resourceVersion.
    async fn act(&self, target: &Target<'_>, planned: &ChangeRecord) -> Result<(), kube::Error> {
        let set = sidecarset(target).await?;
        let index = set.data["spec"]["containers"]
            .as_array()
            .and_then(|cs| cs.iter().position(|c| c["name"] == self.container))
            .ok_or_else(|| {
                kube::Error::Service(
                    format!("SidecarSet has no container {}", self.container).into(),
                )
            })?;
        let image = &planned.images[self.container].reference;
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": set.metadata.resource_version},
            {"op": "replace", "path": format!("/spec/containers/{index}/image"), "value": image},
        ]))
        .map_err(kube::Error::SerdeError)?;
        let api: Api<DynamicObject> = Api::all_with(target.client.clone(), &resource());
        let name = set.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &PatchParams::default(), &Patch::Json::<()>(patch))
            .await?;
        Ok(())
    }

    async fn done(
        &self,
        target: &Target<'_>,
        planned: &ChangeRecord,
    ) -> anyhow::Result<Result<BTreeMap<String, String>, String>> {
        let set = sidecarset(target).await?;
        let name = set.metadata.name.clone().unwrap_or_default();
        let status = &set.data["status"];
        let count = |k: &str| status[k].as_i64().unwrap_or(0);
        let (matched, updated, ready) = (
            count("matchedPods"),
            count("updatedPods"),
            count("readyPods"),
        );
        let observed = status["observedGeneration"].as_i64() == set.metadata.generation;
        let state = format!(
            "SidecarSet {name}: matched {matched} updated {updated} ready {ready}, observed generation {}",
            observed
        );
        if !observed || matched == 0 || updated != matched || ready != matched {
            return Ok(Err(state));
        }
        let image = &planned.images[self.container].reference;
        let pods: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(target.client.clone(), target.namespace);
        for before in target.pods {
            let pod = pods
                .get(before.metadata.name.as_deref().unwrap_or(""))
                .await?;
            let name = pod.metadata.name.clone().unwrap_or_default();
            // status.image may name another repository with the same
            // content; the spec and a new, ready container decide.
            let in_spec = pod
                .spec
                .iter()
                .flat_map(|s| s.containers.iter())
                .any(|c| c.name == self.container && c.image.as_ref() == Some(image));
            let old_id = container_id(before, self.container);
            let rebuilt_ready = pod
                .status
                .iter()
                .flat_map(|s| s.container_statuses.iter().flatten())
                .any(|c| c.name == self.container && c.ready && c.container_id != old_id);
            if !(in_spec && rebuilt_ready) {
                return Ok(Err(format!(
                    "{name}: {} on {image} in spec: {in_spec}, new container ready: {rebuilt_ready}",
                    self.container
                )));
            }
            if let Err(state) = crate::workloads::pod_ready(&pod) {
                return Ok(Err(state));
            }
        }
        Ok(Ok(BTreeMap::from([(
            format!("SidecarSet {name}"),
            format!("matched {matched}, updated {updated}, ready {ready}"),
        )])))
    }
}

fn container_id(pod: &k8s_openapi::api::core::v1::Pod, container: &str) -> Option<String> {
    pod.status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten())
        .find(|c| c.name == container)
        .and_then(|c| c.container_id.clone())
}
