//! Kubernetes Deployment (`apps/v1`): strategy in `spec.strategy.type`
//! (default RollingUpdate); revision in the `deployment.kubernetes.io/
//! revision` annotation; "done" when the rollout is complete and every old
//! pod is gone.

use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{Deployment as DeploymentObject, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use serde_json::Value;

use super::premise::planned;
use super::{Base, Kind, Workload, pod_ready, pods_settled, premise};

const REVISION: &str = "deployment.kubernetes.io/revision";

pub struct DeploymentKind;

impl Kind for DeploymentKind {
    fn kind(&self) -> &'static str {
        "Deployment"
    }

    fn api(&self) -> (&'static str, &'static str) {
        ("apps", "Deployment")
    }

    fn strategy(&self, object: &Value) -> String {
        object["spec"]["strategy"]["type"]
            .as_str()
            .unwrap_or("RollingUpdate")
            .to_string()
    }

    fn premise_fields(&self) -> &'static [premise::Field] {
        const FIELDS: &[premise::Field] = &[planned("/spec/replicas"), planned("/spec/strategy")];
        FIELDS
    }

    fn open(&self, base: Base) -> Box<dyn Workload> {
        Box::new(Deployment { base })
    }
}

struct Deployment {
    base: Base,
}

fn replicas(deployment: &DeploymentObject) -> usize {
    deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1) as usize
}

#[async_trait]
impl Workload for Deployment {
    fn base(&self) -> &Base {
        &self.base
    }

    async fn revision(&self) -> anyhow::Result<Option<String>> {
        Ok(deployment_revision(
            &self.base.typed::<DeploymentObject>().await?,
        ))
    }

    async fn expected_updated(&self) -> anyhow::Result<usize> {
        Ok(replicas(&self.base.planned_as::<DeploymentObject>()?))
    }

    /// The pod's ReplicaSet carries the Deployment revision it was made for.
    async fn pod_on_revision(&self, pod: &Pod, revision: &str) -> anyhow::Result<bool> {
        let Some(owner) = pod
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.kind == "ReplicaSet")
        else {
            return Ok(false);
        };
        let sets: Api<ReplicaSet> = Api::namespaced(self.base.client.clone(), &self.base.namespace);
        let set = sets.get(&owner.name).await?;
        let set_revision = set
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(REVISION));
        Ok(set_revision.map(String::as_str) == Some(revision))
    }

    async fn ready_state(&self) -> anyhow::Result<Result<(), String>> {
        self.update_state(None, &[]).await
    }

    async fn update_state(
        &self,
        previous: Option<&str>,
        old_uids: &[String],
    ) -> anyhow::Result<Result<(), String>> {
        let deployment = self.base.typed::<DeploymentObject>().await?;
        if let Err(state) = deployment_complete(&deployment, previous) {
            return Ok(Err(state));
        }
        let pods = self.base.pods().await?;
        Ok(pods_settled(&pods, replicas(&deployment), |pod| {
            let name = pod.metadata.name.as_deref().unwrap_or("?");
            if old_uids
                .iter()
                .any(|u| pod.metadata.uid.as_ref() == Some(u))
            {
                return Err(format!("old pod {name} still present"));
            }
            pod_ready(pod)
        }))
    }
}

pub fn deployment_revision(deployment: &DeploymentObject) -> Option<String> {
    deployment
        .metadata
        .annotations
        .as_ref()?
        .get(REVISION)
        .cloned()
}

/// Rollout complete: generation observed, revision moved (when updating),
/// `updatedReplicas == replicas == availableReplicas == spec.replicas`.
pub fn deployment_complete(
    deployment: &DeploymentObject,
    previous_revision: Option<&str>,
) -> Result<(), String> {
    let status = deployment.status.clone().unwrap_or_default();
    let generation = deployment.metadata.generation.unwrap_or(0);
    let wanted = replicas(deployment) as i32;
    let revision = deployment_revision(deployment);
    let (count, updated, available) = (
        status.replicas.unwrap_or(0),
        status.updated_replicas.unwrap_or(0),
        status.available_replicas.unwrap_or(0),
    );
    let state = format!(
        "generation {generation}/observed {}, replicas {count} updated {updated} available {available} (want {wanted}), revision {}",
        status.observed_generation.unwrap_or(0),
        revision.as_deref().unwrap_or("unset")
    );
    let moved = previous_revision.is_none() || revision.as_deref() != previous_revision;
    let done = status.observed_generation.unwrap_or(0) >= generation
        && moved
        && count == wanted
        && updated == wanted
        && available == wanted;
    if done { Ok(()) } else { Err(state) }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn deployment_completion_requires_revision_move() {
        let deployment: DeploymentObject = serde_json::from_value(json!({
            "metadata": {"name": "app", "generation": 2,
                "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}
        }))
        .unwrap();
        assert!(deployment_complete(&deployment, Some("1")).is_ok());
        assert!(deployment_complete(&deployment, Some("2")).is_err());
        assert!(deployment_complete(&deployment, None).is_ok());
    }

    #[test]
    fn strategy_defaults_to_rolling_update() {
        assert_eq!(
            DeploymentKind.strategy(&json!({"spec": {}})),
            "RollingUpdate"
        );
        assert_eq!(
            DeploymentKind.strategy(&json!({"spec": {"strategy": {"type": "Recreate"}}})),
            "Recreate"
        );
    }
}
