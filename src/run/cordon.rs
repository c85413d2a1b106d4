//! A change made with the pods' nodes cordoned (`changes::conducted_image`, CORDON),
//! conducted: each node a pod of the workload is on is cordoned just before
//! the change and uncordoned once the update is done; the scenario's guard
//! uncordons a node the step did not reach (an error, an interruption).
//! Recorded in `CordonRecord`; judged in `judge::assess::cordon`.

use std::collections::BTreeSet;

use anyhow::Context;
use k8s_openapi::api::core::v1::Pod;

use super::session::Session;
use crate::model::record::CordonRecord;
use crate::workloads::cordon;

impl Session<'_> {
    /// Cordons the nodes of `pods`.
    pub(crate) async fn cordon_nodes(&self, pods: &[Pod]) -> anyhow::Result<CordonRecord> {
        let nodes: BTreeSet<String> = pods
            .iter()
            .filter_map(|p| p.spec.as_ref()?.node_name.clone())
            .collect();
        anyhow::ensure!(!nodes.is_empty(), "no pod of the workload is on a node yet");
        let mut record = CordonRecord {
            nodes: nodes.iter().cloned().collect(),
            cordoned_at: crate::now_rfc3339(),
            ..Default::default()
        };
        for node in &nodes {
            self.cluster_objects.cordoned(node);
            let unschedulable = cordon::cordon(&self.client, node, &self.config.run_id)
                .await
                .with_context(|| format!("cordoning node {node}"))?;
            if unschedulable {
                record.seen_unschedulable.push(node.clone());
            }
        }
        self.say(&format!("cordoned {}", record.nodes.join(", ")));
        Ok(record)
    }

    /// Uncordons what `cordon_nodes` cordoned.
    pub(crate) async fn uncordon_nodes(&self, record: &mut CordonRecord) -> anyhow::Result<()> {
        for node in &record.nodes {
            cordon::uncordon(&self.client, node)
                .await
                .with_context(|| format!("uncordoning node {node}"))?;
            self.cluster_objects.uncordoned(node);
        }
        record.uncordoned_at = crate::now_rfc3339();
        self.say(&format!("uncordoned {}", record.nodes.join(", ")));
        Ok(())
    }
}
