//! What a failed scenario leaves behind for a person: its pods (labels,
//! annotations, status, logs of the current and previous container), the
//! namespace's events, and OpenKruise's own pods with their logs.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;

use crate::kruise;

/// Writes `<dir>/<scenario>.json`; returns its path.
pub async fn write(
    client: &Client,
    namespace: &str,
    dir: &Path,
    scenario: &str,
) -> anyhow::Result<PathBuf> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut statuses = Vec::new();
    for p in pods.list(&Default::default()).await?.items {
        statuses.push(serde_json::json!({
            "name": p.metadata.name,
            "uid": p.metadata.uid,
            "labels": p.metadata.labels,
            "annotations": p.metadata.annotations,
            "status": p.status,
            "logs": container_logs(&pods, &p).await,
        }));
    }
    let events =
        crate::events::records_since(client, namespace, k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
            .await?;
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "namespace": namespace,
        "pods": statuses,
        "events": events,
        "kruise": kruise_pods(client).await,
    }))?;
    let path = dir.join(format!("{scenario}.json"));
    crate::observe::write_atomic(&path, text.as_bytes())?;
    Ok(path)
}

/// OpenKruise's own pods with their log tails: the suite invariant says
/// they never restart, and when one did its previous log says why.
async fn kruise_pods(client: &Client) -> serde_json::Value {
    let pods: Api<Pod> = Api::namespaced(client.clone(), kruise::SYSTEM_NAMESPACE);
    let Ok(list) = pods.list(&Default::default()).await else {
        return serde_json::Value::Null;
    };
    let mut out = Vec::new();
    for p in &list.items {
        out.push(serde_json::json!({
            "name": p.metadata.name,
            "containerStatuses": p.status.as_ref().map(|s| &s.container_statuses),
            "logs": container_logs(&pods, p).await,
        }));
    }
    out.into()
}

/// The log tail of each container of `pod`, current and previous instance
/// (an in-place update leaves the old one as "previous").
async fn container_logs(pods: &Api<Pod>, pod: &Pod) -> serde_json::Value {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let containers = pod.spec.iter().flat_map(|s| s.containers.iter());
    let mut logs = serde_json::Map::new();
    for container in containers {
        for previous in [false, true] {
            let params = kube::api::LogParams {
                container: Some(container.name.clone()),
                previous,
                tail_lines: Some(50),
                ..Default::default()
            };
            let text = pods
                .logs(&name, &params)
                .await
                .unwrap_or_else(|err| format!("(no log: {err})"));
            let key = format!(
                "{}{}",
                container.name,
                if previous { " (previous)" } else { "" }
            );
            logs.insert(key, text.into());
        }
    }
    logs.into()
}
