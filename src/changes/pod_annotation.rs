//! The env-from-metadata annotation patched on the pods directly, not on
//! the template: the kubelet never re-reads env of a running container and
//! kruise-daemon restarts only for a template change in flight, so nothing
//! may restart.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{ActsOn, Change, Plan, token};
use crate::observe::ChangeRecord;

#[derive(Debug)]
pub struct PodAnnotation {
    pub key: &'static str,
}

impl Change for PodAnnotation {
    fn kind(&self) -> &'static str {
        "pod-annotation"
    }

    fn acts_on(&self) -> ActsOn {
        ActsOn::Pods
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

    fn edit(&self, _template: &mut Value, _planned: &ChangeRecord) -> anyhow::Result<()> {
        anyhow::bail!("{} acts on pods, not on the template", self.kind())
    }
}
