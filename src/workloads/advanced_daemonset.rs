//! OpenKruise Advanced DaemonSet (`apps.kruise.io/v1beta1` DaemonSet):
//! `spec.updateStrategy.rollingUpdate.rollingUpdateType` (default
//! Standard; InPlaceIfPossible must be set at creation, when the
//! `InPlaceUpdateReady` gate is injected), one pod per node, partition in
//! `spec.updateStrategy.rollingUpdate.partition` (pods kept on the old
//! revision), "done" from the DaemonSet status (desired, updated and ready
//! numbers).

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use serde::Deserialize;
use serde_json::Value;

use super::premise::Field;
use super::premise::planned;
use super::{Base, Kind, Workload, kruise_pod_settled, pod_ready, pods_settled, premise};
use crate::observe::kruise;

pub struct AdvancedDaemonSetKind;

impl Kind for AdvancedDaemonSetKind {
    fn kind(&self) -> &'static str {
        "Advanced DaemonSet"
    }

    fn api(&self) -> (&'static str, &'static str) {
        (kruise::GROUP, "DaemonSet")
    }

    fn strategy(&self, object: &Value) -> String {
        object["spec"]["updateStrategy"]["rollingUpdate"]["rollingUpdateType"]
            .as_str()
            .unwrap_or("Standard")
            .to_string()
    }

    fn premise_fields(&self) -> &'static [premise::Field] {
        const FIELDS: &[premise::Field] = &[
            planned("/spec/updateStrategy"),
            Field {
                pointer: "/spec/updateStrategy/rollingUpdate/partition",
                absent_is: Some(0),
            },
        ];
        FIELDS
    }

    fn open(&self, base: Base) -> Box<dyn Workload> {
        Box::new(AdvancedDaemonSet { base })
    }
}

struct AdvancedDaemonSet {
    base: Base,
}

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
    #[serde(default)]
    update_strategy: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusView {
    #[serde(default)]
    observed_generation: i64,
    #[serde(default)]
    desired_number_scheduled: i32,
    #[serde(default)]
    current_number_scheduled: i32,
    #[serde(default)]
    updated_number_scheduled: i32,
    #[serde(default)]
    number_ready: i32,
    #[serde(default)]
    number_available: i32,
    update_revision: Option<String>,
    daemon_set_hash: Option<String>,
}

impl StatusView {
    fn revision(&self) -> Option<String> {
        self.update_revision
            .clone()
            .or_else(|| self.daemon_set_hash.clone())
    }
}

impl View {
    /// Generation observed, every desired pod scheduled, ready and
    /// available, `updated` of them on the new revision; a new revision
    /// when updating away from `previous`.
    fn settled(&self, updated: usize, previous: Option<Option<&str>>) -> Result<(), String> {
        let Some(status) = &self.status else {
            return Err("no status yet".into());
        };
        let generation = self.metadata.generation.unwrap_or(0);
        let desired = status.desired_number_scheduled;
        let revision = status.revision();
        let state = format!(
            "generation {generation}/observed {}, desired {desired} current {} updated {} (want {updated}) ready {} available {}, revision {}",
            status.observed_generation,
            status.current_number_scheduled,
            status.updated_number_scheduled,
            status.number_ready,
            status.number_available,
            revision.as_deref().unwrap_or("unset")
        );
        let moved = previous.is_none_or(|p| revision.as_deref() != p);
        let done = status.observed_generation == generation
            && desired > 0
            && revision.is_some()
            && moved
            && status.current_number_scheduled == desired
            && status.updated_number_scheduled == updated as i32
            && status.number_ready == desired
            && status.number_available == desired;
        if done { Ok(()) } else { Err(state) }
    }

    /// Pods the update leaves on the old revision.
    fn partition(&self) -> usize {
        self.spec.update_strategy["rollingUpdate"]["partition"]
            .as_u64()
            .unwrap_or(0) as usize
    }

    /// Pods an update moves to the new revision: desired minus partition.
    fn to_update(&self) -> usize {
        self.desired().saturating_sub(self.partition())
    }

    fn desired(&self) -> usize {
        self.status
            .as_ref()
            .map(|s| s.desired_number_scheduled.max(0) as usize)
            .unwrap_or(0)
    }
}

#[async_trait]
impl Workload for AdvancedDaemonSet {
    fn base(&self) -> &Base {
        &self.base
    }

    async fn revision(&self) -> anyhow::Result<Option<String>> {
        Ok(self
            .base
            .typed::<View>()
            .await?
            .status
            .and_then(|s| s.revision()))
    }

    async fn expected_updated(&self) -> anyhow::Result<usize> {
        // Desired comes from the status (one pod per schedulable node), the
        // partition from the plan.
        let desired = self.base.typed::<View>().await?.desired();
        let planned = self.base.planned_as::<View>()?;
        Ok(desired.saturating_sub(planned.partition()))
    }

    async fn pod_on_revision(&self, pod: &Pod, revision: &str) -> anyhow::Result<bool> {
        Ok(kruise::revision_matches(
            kruise::pod_revision(pod),
            revision,
        ))
    }

    async fn ready_state(&self) -> anyhow::Result<Result<(), String>> {
        let view = self.base.typed::<View>().await?;
        if let Err(state) = view.settled(view.desired(), None) {
            return Ok(Err(state));
        }
        let pods = self.base.pods().await?;
        Ok(pods_settled(&pods, view.desired(), pod_ready))
    }

    async fn update_state(
        &self,
        previous: Option<&str>,
        _old_uids: &[String],
    ) -> anyhow::Result<Result<(), String>> {
        let view = self.base.typed::<View>().await?;
        if let Err(state) = view.settled(view.to_update(), Some(previous)) {
            return Ok(Err(state));
        }
        let revision = view
            .status
            .as_ref()
            .and_then(|s| s.revision())
            .unwrap_or_default();
        let pods = self.base.pods().await?;
        Ok(pods_settled(&pods, view.desired(), |pod| {
            kruise_pod_settled(pod, &revision)
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rolling_update_type_defaults_to_standard() {
        let kind = AdvancedDaemonSetKind;
        assert_eq!(kind.strategy(&json!({"spec": {}})), "Standard");
    }

    #[test]
    fn done_needs_every_desired_pod_updated_and_ready() {
        let status = |updated: i32| {
            serde_json::from_value::<View>(json!({
                "metadata": {"name": "d", "generation": 2},
                "status": {"observedGeneration": 2, "desiredNumberScheduled": 1,
                    "currentNumberScheduled": 1, "updatedNumberScheduled": updated,
                    "numberReady": 1, "numberAvailable": 1, "updateRevision": "d-2"}
            }))
            .unwrap()
        };
        assert!(status(1).settled(1, Some(Some("d-1"))).is_ok());
        assert!(status(0).settled(1, Some(Some("d-1"))).is_err());
        assert!(status(1).settled(1, Some(Some("d-2"))).is_err());
        // A partition of 1 keeps the one pod back: none updated is done.
        assert!(status(0).settled(0, Some(Some("d-1"))).is_ok());
    }

    #[test]
    fn a_partition_keeps_that_many_pods_back() {
        let view = serde_json::from_value::<View>(json!({
            "metadata": {"name": "d"},
            "spec": {"updateStrategy": {"rollingUpdate": {"partition": 1}}},
            "status": {"desiredNumberScheduled": 3}
        }))
        .unwrap();
        assert_eq!((view.partition(), view.to_update()), (1, 2));
    }
}
