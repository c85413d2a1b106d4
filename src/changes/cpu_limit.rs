//! A container's CPU limit changed in the workload's template: with
//! OpenKruise's `InPlaceWorkloadVerticalScaling` gate the controller resizes
//! the pods in place (`pods/resize` on Kubernetes >= 1.32); without it the
//! change is not in-place and the pod is recreated.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::pod_resize::resize_policy;
use super::{Change, Plan, container_mut};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct CpuLimit {
    pub container: &'static str,
    pub cpu_limit: &'static str,
}

#[async_trait]
impl Change for CpuLimit {
    fn minimum_kubernetes(&self) -> Option<(u32, u32)> {
        // pods/resize and in-place resource changes: beta, on by default.
        Some((1, 33))
    }

    fn kind(&self) -> &'static str {
        "cpu-limit"
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let policy = resize_policy(plan.template, self.container, "cpu")
            .unwrap_or_else(|| "NotRequired (default)".into());
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!(
                "template cpu limit of {} -> {} (resizePolicy {policy})",
                self.container, self.cpu_limit
            ),
            containers: vec![self.container.to_string()],
            details: BTreeMap::from([("cpu limit".to_string(), self.cpu_limit.to_string())]),
            ..Default::default()
        })
    }

    fn edit(&self, template: &mut Value, _planned: &ChangeRecord) -> anyhow::Result<()> {
        set_cpu(template, self.container, &["limits"], self.cpu_limit)
    }
}

/// Sets the container's CPU `fields` (`limits`, `requests`) in a pod
/// template to `quantity`; the container must already have a CPU limit
/// (adding one is not an in-place change).
pub fn set_cpu(
    template: &mut Value,
    container: &str,
    fields: &[&str],
    quantity: &str,
) -> anyhow::Result<()> {
    let entry = container_mut(template, container)?;
    anyhow::ensure!(
        entry["resources"]["limits"]["cpu"].is_string(),
        "{container} has no cpu limit to change (adding one is not an in-place change)"
    );
    for field in fields {
        entry["resources"][*field]["cpu"] = json!(quantity);
    }
    Ok(())
}
