//! Cordoning a node and undoing it, as `kubectl cordon` does
//! (`spec.unschedulable`), with the run that did it named in an annotation
//! so that `cleanup --run-id` finds a node an interrupted run left
//! cordoned. The account may change nothing else of a node
//! (`rbac/cordon.yaml` grants the patch, the policy of
//! `rbac/inplace-conformance.yaml` holds it to these two fields).

use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

/// The annotation naming the run that cordoned the node.
pub const CORDONED_BY: &str = "inplace-conformance/cordoned-by";

/// Cordons `node` for run `run_id`; returns whether it reads back
/// unschedulable.
pub async fn cordon(client: &Client, node: &str, run_id: &str) -> Result<bool, kube::Error> {
    let patch = json!({
        "metadata": {"annotations": {CORDONED_BY: run_id}},
        "spec": {"unschedulable": true},
    });
    let nodes: Api<Node> = Api::all(client.clone());
    let node = nodes
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(node.spec.and_then(|s| s.unschedulable).unwrap_or(false))
}

/// Makes `node` schedulable again and drops the annotation (already
/// uncordoned, or gone, is fine).
pub async fn uncordon(client: &Client, node: &str) -> Result<(), kube::Error> {
    let patch = json!({
        "metadata": {"annotations": {CORDONED_BY: null}},
        "spec": {"unschedulable": null},
    });
    let nodes: Api<Node> = Api::all(client.clone());
    match nodes
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The nodes run `run_id` left cordoned.
pub async fn cordoned_by(client: &Client, run_id: &str) -> Result<Vec<String>, kube::Error> {
    let nodes: Api<Node> = Api::all(client.clone());
    Ok(nodes
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .filter(|n| {
            n.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(CORDONED_BY))
                .is_some_and(|by| by == run_id)
        })
        .filter_map(|n| n.metadata.name)
        .collect())
}
