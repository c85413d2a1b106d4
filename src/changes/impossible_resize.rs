//! A CPU request no node can give, set through the workload's template
//! (OpenKruise's `InPlaceWorkloadVerticalScaling` resizes the pods in
//! place): the kubelet must leave the resize pending (`PodResizePending`,
//! Infeasible) without touching the running container, the pod must stay
//! ready and not be recreated; once the template is corrected the pod
//! converges in place, restartCount +0. Held and corrected by the session
//! like the other halting changes (`run::hold`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::{Change, Halt, Plan, Stuck};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct ImpossibleCpuRequest {
    pub container: &'static str,
    /// A request (and limit) above any node's allocatable CPU, e.g. "64".
    pub cpu: &'static str,
    pub hold_seconds: u64,
}

#[async_trait::async_trait]
impl Change for ImpossibleCpuRequest {
    fn minimum_kubernetes(&self) -> Option<(u32, u32)> {
        // pods/resize and in-place resource changes: beta, on by default.
        Some((1, 33))
    }

    fn kind(&self) -> &'static str {
        "impossible-resize-corrected"
    }

    fn halts(&self) -> Option<Halt> {
        Some(Halt {
            stuck: Stuck::ResizePending,
            hold: Duration::from_secs(self.hold_seconds),
        })
    }

    fn plan(&self, _plan: &Plan) -> anyhow::Result<ChangeRecord> {
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!(
                "template cpu request and limit of {} -> {} (more than the node has); held {} s, \
                 then the old template back",
                self.container, self.cpu, self.hold_seconds
            ),
            containers: vec![self.container.to_string()],
            details: BTreeMap::from([("cpu request".to_string(), self.cpu.to_string())]),
            ..Default::default()
        })
    }

    fn edit(&self, template: &mut Value, _planned: &ChangeRecord) -> anyhow::Result<()> {
        // A request above the limit is invalid: both go up.
        super::cpu_limit::set_cpu(template, self.container, &["requests", "limits"], self.cpu)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_request_and_the_limit_go_up_together() {
        let mut template = super::super::tests::template();
        template["spec"]["containers"][0]["resources"] =
            json!({"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}});
        let change = ImpossibleCpuRequest {
            container: "app",
            cpu: "64",
            hold_seconds: 20,
        };
        let planned = change
            .plan(&Plan {
                template: &template,
                images: &Default::default(),
            })
            .unwrap();
        change.edit(&mut template, &planned).unwrap();
        let resources = &template["spec"]["containers"][0]["resources"];
        assert_eq!(resources["requests"]["cpu"], "64");
        assert_eq!(resources["limits"]["cpu"], "64");
    }
}
