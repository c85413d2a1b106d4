//! A ContainerRecreateRequest per pod (no template change): kruise-daemon
//! stops the named containers and the kubelet creates them again in the
//! same pod. Done when the request reports `Completed` and the pod is
//! Ready again; the request's own status is recorded.

use std::collections::BTreeMap;

use async_trait::async_trait;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::json;

use super::{ActsOn, Change, Plan, Target, token};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct ContainerRecreate {
    pub containers: &'static [&'static str],
}

fn resource() -> ApiResource {
    ApiResource::from_gvk(&GroupVersionKind::gvk(
        crate::observe::kruise::GROUP,
        "v1alpha1",
        "ContainerRecreateRequest",
    ))
}

/// The request for one pod: `<pod>-<token>`.
fn request_name(pod: &str, planned: &ChangeRecord) -> String {
    let id = planned
        .details
        .get("request")
        .map(String::as_str)
        .unwrap_or("");
    format!("{pod}-{id}")
}

#[async_trait]
impl Change for ContainerRecreate {
    fn kind(&self) -> &'static str {
        "container-recreate-request"
    }

    fn acts_on(&self) -> ActsOn {
        ActsOn::Directly
    }

    fn needs_kruise_daemon(&self) -> bool {
        true
    }

    fn plan(&self, _plan: &Plan) -> anyhow::Result<ChangeRecord> {
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!(
                "ContainerRecreateRequest for {} in every pod",
                self.containers.join(", ")
            ),
            containers: self.containers.iter().map(|c| c.to_string()).collect(),
            details: BTreeMap::from([("request".to_string(), token())]),
            ..Default::default()
        })
    }

    async fn act(&self, target: &Target<'_>, planned: &ChangeRecord) -> Result<(), kube::Error> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(target.client.clone(), target.namespace, &resource());
        for pod in target.pods {
            let pod_name = pod.metadata.name.clone().unwrap_or_default();
            let containers: Vec<_> = self.containers.iter().map(|c| json!({"name": c})).collect();
            let object: DynamicObject = serde_json::from_value(json!({
                "apiVersion": resource().api_version,
                "kind": "ContainerRecreateRequest",
                "metadata": {"name": request_name(&pod_name, planned)},
                "spec": {
                    "podName": pod_name,
                    "containers": containers,
                    "strategy": {"failurePolicy": "Fail"},
                    "activeDeadlineSeconds": 300,
                    "ttlSecondsAfterFinished": 600,
                },
            }))
            .map_err(kube::Error::SerdeError)?;
            api.create(&PostParams::default(), &object).await?;
        }
        Ok(())
    }

    async fn done(
        &self,
        target: &Target<'_>,
        planned: &ChangeRecord,
    ) -> anyhow::Result<Result<BTreeMap<String, String>, String>> {
        let api: Api<DynamicObject> =
            Api::namespaced_with(target.client.clone(), target.namespace, &resource());
        let pods: Api<k8s_openapi::api::core::v1::Pod> =
            Api::namespaced(target.client.clone(), target.namespace);
        let mut reports = BTreeMap::new();
        for pod in target.pods {
            let pod_name = pod.metadata.name.clone().unwrap_or_default();
            let name = request_name(&pod_name, planned);
            let request = api.get(&name).await?;
            let status = &request.data["status"];
            let phase = status["phase"].as_str().unwrap_or("").to_string();
            if phase != "Completed" {
                return Ok(Err(format!("{name} phase {phase:?}")));
            }
            if let Err(state) = crate::workloads::pod_ready(&pods.get(&pod_name).await?) {
                return Ok(Err(state));
            }
            let states: Vec<String> = status["containerRecreateStates"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    format!(
                        "{}={}",
                        s["name"].as_str().unwrap_or("?"),
                        s["phase"].as_str().unwrap_or("?")
                    )
                })
                .collect();
            reports.insert(format!("{name} phase"), phase);
            reports.insert(format!("{name} containers"), states.join(", "));
        }
        Ok(Ok(reports))
    }
}
