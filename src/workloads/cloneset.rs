//! OpenKruise CloneSet (`apps.kruise.io/v1alpha1`): strategy in
//! `spec.updateStrategy.type` (default ReCreate), partition in
//! `spec.updateStrategy.partition`, "done" as cloneset_status.go counts it.

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use serde_json::Value;

use super::premise::{Field, planned};
use super::{Base, Kind, Workload, pods_settled, premise};
use crate::observe::kruise::{self, CloneSetView};

pub struct CloneSetKind;

impl Kind for CloneSetKind {
    fn kind(&self) -> &'static str {
        "CloneSet"
    }

    fn api(&self) -> (&'static str, &'static str) {
        ("apps.kruise.io", "CloneSet")
    }

    fn strategy(&self, object: &Value) -> String {
        object["spec"]["updateStrategy"]["type"]
            .as_str()
            .unwrap_or("ReCreate")
            .to_string()
    }

    fn premise_fields(&self) -> &'static [premise::Field] {
        const FIELDS: &[premise::Field] = &[
            planned("/spec/replicas"),
            planned("/spec/updateStrategy"),
            Field {
                pointer: "/spec/updateStrategy/partition",
                absent_is: Some(0),
            },
            planned("/spec/lifecycle"),
        ];
        FIELDS
    }

    fn open(&self, base: Base) -> Box<dyn Workload> {
        Box::new(CloneSet { base })
    }
}

struct CloneSet {
    base: Base,
}

#[async_trait]
impl Workload for CloneSet {
    fn base(&self) -> &Base {
        &self.base
    }

    async fn revision(&self) -> anyhow::Result<Option<String>> {
        Ok(self
            .base
            .typed::<CloneSetView>()
            .await?
            .update_revision()
            .map(str::to_string))
    }

    async fn grace_seconds(&self) -> anyhow::Result<Option<i64>> {
        let object = self.base.object().await?;
        Ok(object
            .data
            .pointer("/spec/updateStrategy/inPlaceUpdateStrategy/gracePeriodSeconds")
            .and_then(serde_json::Value::as_i64))
    }

    async fn expected_updated(&self) -> anyhow::Result<usize> {
        self.base.planned_as::<CloneSetView>()?.expected_updated()
    }

    async fn pod_on_revision(&self, pod: &Pod, revision: &str) -> anyhow::Result<bool> {
        Ok(kruise::revision_matches(
            kruise::pod_revision(pod),
            revision,
        ))
    }

    async fn ready_state(&self) -> anyhow::Result<Result<(), String>> {
        let view = self.base.typed::<CloneSetView>().await?;
        if let Err(state) = view.settled() {
            return Ok(Err(state));
        }
        let revision = view.update_revision().unwrap_or_default().to_string();
        let pods = self.base.pods().await?;
        Ok(pods_settled(&pods, view.replicas(), |pod| {
            kruise::pod_updated(pod, &revision)
        }))
    }

    /// Generation observed, a new updateRevision, the expected number of
    /// pods updated and ready, every pod Ready, the updated ones done
    /// (`InPlaceUpdateReady`, no grace pending).
    async fn update_state(
        &self,
        previous: Option<&str>,
        _old_uids: &[String],
    ) -> anyhow::Result<Result<(), String>> {
        let view = self.base.typed::<CloneSetView>().await?;
        if let Err(state) = view.update_complete(previous) {
            return Ok(Err(state));
        }
        let revision = view.update_revision().unwrap_or_default().to_string();
        let pods = self.base.pods().await?;
        Ok(pods_settled(&pods, view.replicas(), |pod| {
            super::kruise_pod_settled(pod, &revision)
        }))
    }
}
