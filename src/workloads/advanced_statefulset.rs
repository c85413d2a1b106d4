//! OpenKruise Advanced StatefulSet (`apps.kruise.io/v1beta1` StatefulSet):
//! policy in `spec.updateStrategy.rollingUpdate.podUpdatePolicy` (default
//! ReCreate), pods keep their names (`<name>-<ordinal>`) across a recreate,
//! "done" from the v1beta1 status (stateful_set_status_updater.go).

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;
use serde_json::Value;

use super::premise::{Field, planned};
use super::{Base, Kind, Workload, pod_ready, pods_settled, premise};
use crate::observe::kruise;

pub struct AdvancedStatefulSetKind;

impl Kind for AdvancedStatefulSetKind {
    fn kind(&self) -> &'static str {
        "Advanced StatefulSet"
    }

    fn api(&self) -> (&'static str, &'static str) {
        (kruise::GROUP, "StatefulSet")
    }

    fn strategy(&self, object: &Value) -> String {
        object["spec"]["updateStrategy"]["rollingUpdate"]["podUpdatePolicy"]
            .as_str()
            .unwrap_or("ReCreate")
            .to_string()
    }

    fn premise_fields(&self) -> &'static [premise::Field] {
        const FIELDS: &[premise::Field] = &[
            planned("/spec/replicas"),
            planned("/spec/podManagementPolicy"),
            planned("/spec/updateStrategy"),
            Field {
                pointer: "/spec/updateStrategy/rollingUpdate/partition",
                absent_is: Some(0),
            },
        ];
        FIELDS
    }

    fn open(&self, base: Base) -> Box<dyn Workload> {
        Box::new(AdvancedStatefulSet { base })
    }
}

struct AdvancedStatefulSet {
    base: Base,
}

/// The fields of an Advanced StatefulSet the suite reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct View {
    metadata: kube::api::ObjectMeta,
    #[serde(default)]
    spec: SpecView,
    #[serde(default)]
    status: Option<StatusView>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpecView {
    replicas: Option<i32>,
    #[serde(default)]
    update_strategy: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusView {
    #[serde(default)]
    observed_generation: i64,
    #[serde(default)]
    replicas: i32,
    #[serde(default)]
    ready_replicas: i32,
    #[serde(default)]
    updated_replicas: i32,
    #[serde(default)]
    updated_ready_replicas: i32,
    update_revision: Option<String>,
}

impl View {
    fn replicas(&self) -> usize {
        self.spec.replicas.unwrap_or(1).max(0) as usize
    }

    fn partition(&self) -> usize {
        self.spec.update_strategy["rollingUpdate"]["partition"]
            .as_u64()
            .unwrap_or(0) as usize
    }

    /// Generation observed, `replicas == readyReplicas == spec.replicas`,
    /// `updatedReplicas == updatedReadyReplicas == updated`, and a new
    /// updateRevision when updating away from `previous`.
    fn settled(&self, updated: usize, previous: Option<Option<&str>>) -> Result<(), String> {
        let Some(status) = &self.status else {
            return Err("no status yet".into());
        };
        let generation = self.metadata.generation.unwrap_or(0);
        let (wanted, updated) = (self.replicas() as i32, updated as i32);
        let state = format!(
            "generation {generation}/observed {}, replicas {} ready {} updated {} updatedReady {} (want {wanted}, {updated} updated), updateRevision {}",
            status.observed_generation,
            status.replicas,
            status.ready_replicas,
            status.updated_replicas,
            status.updated_ready_replicas,
            status.update_revision.as_deref().unwrap_or("unset")
        );
        let moved = previous.is_none_or(|p| status.update_revision.as_deref() != p);
        let done = status.observed_generation == generation
            && status.update_revision.is_some()
            && moved
            && status.replicas == wanted
            && status.ready_replicas == wanted
            && status.updated_replicas == updated
            && status.updated_ready_replicas == updated;
        if done { Ok(()) } else { Err(state) }
    }
}

#[async_trait]
impl Workload for AdvancedStatefulSet {
    fn base(&self) -> &Base {
        &self.base
    }

    async fn revision(&self) -> anyhow::Result<Option<String>> {
        Ok(self
            .base
            .typed::<View>()
            .await?
            .status
            .and_then(|s| s.update_revision))
    }

    async fn expected_updated(&self) -> anyhow::Result<usize> {
        let view = self.base.planned_as::<View>()?;
        Ok(view.replicas().saturating_sub(view.partition()))
    }

    async fn pod_on_revision(&self, pod: &Pod, revision: &str) -> anyhow::Result<bool> {
        Ok(kruise::revision_matches(
            kruise::pod_revision(pod),
            revision,
        ))
    }

    async fn ready_state(&self) -> anyhow::Result<Result<(), String>> {
        let view = self.base.typed::<View>().await?;
        if let Err(state) = view.settled(view.replicas(), None) {
            return Ok(Err(state));
        }
        let pods = self.base.pods().await?;
        Ok(pods_settled(&pods, view.replicas(), pod_ready))
    }

    async fn update_state(
        &self,
        previous: Option<&str>,
        _old_uids: &[String],
    ) -> anyhow::Result<Result<(), String>> {
        let view = self.base.typed::<View>().await?;
        let updated = view.replicas().saturating_sub(view.partition());
        if let Err(state) = view.settled(updated, Some(previous)) {
            return Ok(Err(state));
        }
        let revision = view
            .status
            .as_ref()
            .and_then(|s| s.update_revision.clone())
            .unwrap_or_default();
        let pods = self.base.pods().await?;
        Ok(pods_settled(&pods, view.replicas(), |pod| {
            super::kruise_pod_settled(pod, &revision)
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn policy_defaults_to_recreate() {
        let kind = AdvancedStatefulSetKind;
        assert_eq!(kind.strategy(&json!({"spec": {}})), "ReCreate");
        let in_place = json!({"spec": {"updateStrategy": {"rollingUpdate":
            {"podUpdatePolicy": "InPlaceIfPossible"}}}});
        assert_eq!(kind.strategy(&in_place), "InPlaceIfPossible");
    }

    #[test]
    fn done_needs_the_revision_to_move_and_every_replica_updated() {
        let view: View = serde_json::from_value(json!({
            "metadata": {"name": "app", "generation": 2},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 2, "replicas": 1, "readyReplicas": 1,
                "updatedReplicas": 1, "updatedReadyReplicas": 1, "updateRevision": "app-2"}
        }))
        .unwrap();
        assert!(view.settled(1, Some(Some("app-1"))).is_ok());
        assert!(view.settled(1, Some(Some("app-2"))).is_err());
        assert!(view.settled(1, None).is_ok());
    }
}
