//! The env-from-metadata annotation patched on the pods directly, not on
//! the template: the kubelet never re-reads env of a running container and
//! kruise-daemon restarts only for a template change in flight, so nothing
//! may restart.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{ActsOn, Change, Plan, Target, patch_pods_metadata, token};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct PodAnnotation {
    pub key: &'static str,
}

#[async_trait]
impl Change for PodAnnotation {
    fn kind(&self) -> &'static str {
        "pod-annotation"
    }

    fn acts_on(&self) -> ActsOn {
        ActsOn::Directly
    }

    fn plan(&self, _plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let value = token();
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!("annotation {}={value} patched on the pods", self.key),
            annotations: BTreeMap::from([(self.key.to_string(), value)]),
            ..Default::default()
        })
    }

    async fn act(&self, target: &Target<'_>, planned: &ChangeRecord) -> Result<(), kube::Error> {
        patch_pods_metadata(target, planned).await
    }

    /// Done when every pod shows the annotation.
    async fn done(
        &self,
        target: &Target<'_>,
        planned: &ChangeRecord,
    ) -> anyhow::Result<Result<BTreeMap<String, String>, String>> {
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(target.client.clone(), target.namespace);
        for pod in target.pods {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let now = api.get(&name).await?;
            let value = now
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(self.key));
            if value != planned.annotations.get(self.key) {
                return Ok(Err(format!("{name} does not show {} yet", self.key)));
            }
        }
        Ok(Ok(BTreeMap::new()))
    }
}
