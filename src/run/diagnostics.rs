//! What a failed scenario leaves behind for a person, as a folder
//! `diagnostics/<scenario>/` under the run folder:
//!
//! - `objects.yaml`: every object of the fixture's kinds in the namespace,
//!   its pods and claims, as the API server holds them at the failure;
//! - `events.yaml`: the namespace's events;
//! - `logs/<pod>.<container>.log` and `.previous.log`: each container's
//!   current and previous instance (an in-place update leaves the old one
//!   as "previous");
//! - `kruise/<pod>.<container>.log`: kruise-manager's and kruise-daemon's
//!   logs from the scenario's start, and their restart counts;
//! - `node/kubelet.log`, `node/containerd.log`: the kind node's journal of
//!   those two units from the scenario's start (kind clusters of this
//!   machine only: a cluster given by kubeconfig is not reached beyond its
//!   API).

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DynamicObject, LogParams};

use crate::observe::kruise;

/// Where the bundle's facts come from.
pub struct Source<'a> {
    pub client: &'a Client,
    pub namespace: &'a str,
    pub repo_root: &'a Path,
    pub fixture: &'a crate::workloads::Fixture,
    /// The scenario's start: logs and journals from here on.
    pub since: Timestamp,
    /// The nodes whose journal the suite may read (none by kubeconfig).
    pub nodes: &'a [std::sync::Arc<dyn crate::environment::Node>],
}

/// Writes `<dir>/<scenario>/`; returns its path. Each part that cannot be
/// had is written as a note in its place, so one failure does not cost
/// the rest.
pub async fn write(source: &Source<'_>, dir: &Path, scenario: &str) -> anyhow::Result<PathBuf> {
    let bundle = dir.join(scenario);
    for sub in ["logs", "kruise", "node"] {
        std::fs::create_dir_all(bundle.join(sub))?;
    }
    let put = |name: &str, text: String| {
        crate::model::record::write_atomic(&bundle.join(name), text.as_bytes())
    };
    put("objects.yaml", objects(source).await.unwrap_or_else(note))?;
    put("events.yaml", events(source).await.unwrap_or_else(note))?;
    let pods: Api<Pod> = Api::namespaced(source.client.clone(), source.namespace);
    let mut pod_nodes = Vec::new();
    for pod in pods.list(&Default::default()).await?.items {
        pod_nodes.extend(pod.spec.as_ref().and_then(|s| s.node_name.clone()));
        for (file, text) in container_logs(&pods, &pod, None).await {
            put(&format!("logs/{file}"), text)?;
        }
    }
    let system: Api<Pod> = Api::namespaced(source.client.clone(), kruise::SYSTEM_NAMESPACE);
    let mut restarts = String::new();
    for pod in system.list(&Default::default()).await?.items {
        for status in pod
            .status
            .iter()
            .flat_map(|s| s.container_statuses.iter().flatten())
        {
            restarts.push_str(&format!(
                "{} {} restartCount={}\n",
                pod.metadata.name.as_deref().unwrap_or_default(),
                status.name,
                status.restart_count
            ));
        }
        for (file, text) in container_logs(&system, &pod, Some(source.since)).await {
            put(&format!("kruise/{file}"), text)?;
        }
    }
    put("kruise/restarts.txt", restarts)?;
    // The journals of the nodes the namespace's pods are on: node/UNIT.log
    // for one node, node/NODE/UNIT.log for several.
    let nodes = crate::environment::nodes_named(source.nodes, &pod_nodes);
    for node in &nodes {
        let folder = if nodes.len() > 1 {
            std::fs::create_dir_all(bundle.join("node").join(node.name()))?;
            format!("node/{}/", node.name())
        } else {
            "node/".to_string()
        };
        for unit in ["kubelet", "containerd"] {
            put(
                &format!("{folder}{unit}.log"),
                journal(*node, unit, source.since).await,
            )?;
        }
    }
    if nodes.is_empty() {
        put(
            "node/README.txt",
            "no node access in this environment (a cluster given by kubeconfig): the node's \
             journal is not reachable\n"
                .into(),
        )?;
    }
    Ok(bundle)
}

fn note(err: anyhow::Error) -> String {
    format!("# could not be read: {err:#}\n")
}

/// The fixture's kinds (their objects in the namespace), pods and claims.
async fn objects(source: &Source<'_>) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut seen = Vec::new();
    for doc in source.fixture.docs() {
        let gvk = crate::workloads::document_gvk(doc)?;
        if seen.contains(&gvk) {
            continue;
        }
        seen.push(gvk.clone());
        let Ok((resource, caps)) = kube::discovery::pinned_kind(source.client, &gvk).await else {
            continue;
        };
        let api: Api<DynamicObject> = if caps.scope == kube::discovery::Scope::Cluster {
            Api::all_with(source.client.clone(), &resource)
        } else {
            Api::namespaced_with(source.client.clone(), source.namespace, &resource)
        };
        for object in api.list(&Default::default()).await?.items {
            out.push_str(&format!("---\n{}", serde_yaml::to_string(&object)?));
        }
    }
    let pods: Api<Pod> = Api::namespaced(source.client.clone(), source.namespace);
    for pod in pods.list(&Default::default()).await?.items {
        out.push_str(&format!("---\n{}", serde_yaml::to_string(&pod)?));
    }
    let claims: Api<PersistentVolumeClaim> =
        Api::namespaced(source.client.clone(), source.namespace);
    for claim in claims.list(&Default::default()).await?.items {
        out.push_str(&format!("---\n{}", serde_yaml::to_string(&claim)?));
    }
    Ok(out)
}

async fn events(source: &Source<'_>) -> anyhow::Result<String> {
    let records = crate::observe::events::records_since(
        source.client,
        source.namespace,
        Timestamp::UNIX_EPOCH,
    )
    .await?;
    Ok(serde_yaml::to_string(&records)?)
}

/// Each container's log, current and previous instance, as
/// (`<pod>.<container>[.previous].log`, text); from `since` if given.
async fn container_logs(
    pods: &Api<Pod>,
    pod: &Pod,
    since: Option<Timestamp>,
) -> Vec<(String, String)> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let mut out = Vec::new();
    for container in pod.spec.iter().flat_map(|s| s.containers.iter()) {
        for previous in [false, true] {
            let params = LogParams {
                container: Some(container.name.clone()),
                previous,
                since_time: if previous { None } else { since },
                tail_lines: Some(if since.is_some() { 2000 } else { 200 }),
                timestamps: true,
                ..Default::default()
            };
            let text = pods
                .logs(&name, &params)
                .await
                .unwrap_or_else(|err| format!("(no log: {err})\n"));
            let suffix = if previous { ".previous" } else { "" };
            out.push((format!("{name}.{}{suffix}.log", container.name), text));
        }
    }
    out
}

/// `journalctl -u UNIT` inside the kind node from `since`.
async fn journal(node: &dyn crate::environment::Node, unit: &str, since: Timestamp) -> String {
    let since = format!("@{}", since.as_second());
    let argv = [
        "journalctl",
        "-u",
        unit,
        "--since",
        &since,
        "--no-pager",
        "-o",
        "short-iso",
    ];
    node.exec(&argv)
        .await
        .unwrap_or_else(|err| format!("(no journal: {err:#})\n"))
}
