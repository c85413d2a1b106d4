//! Where a run happens (kind's `Provider` shape): an `Environment` is a
//! cluster the suite can reach, with what it can do as data
//! (`EnvironmentInfo`) and handles on the nodes it may run commands on.
//! One file per environment: `kind` (a kind cluster of this machine) and
//! `kubeconfig` (a cluster given by its kubeconfig alone). Also here: the
//! cluster lifecycle, image delivery, this machine's tools and settings,
//! the run's configuration, and the interruption registry.

pub mod cluster;
pub mod config;
pub mod images;
pub mod in_cluster;
pub mod interrupt;
pub mod kind;
pub mod kubeconfig;
pub mod oci;
pub mod script;
pub mod settings;
pub mod tools;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use kube::Client;

use cluster::{Cluster, NoCluster};

/// A node the suite may run a command on (kind's `nodes.Node`).
#[async_trait]
pub trait Node: Send + Sync {
    fn name(&self) -> &str;
    /// Runs `argv` on the node; its stdout.
    async fn exec(&self, argv: &[&str]) -> anyhow::Result<String>;
}

/// The reachable nodes named in `wanted` (the nodes a scenario's pods are
/// on), in `nodes`' order; the first reachable node when none is named (a
/// single-node cluster, pods not scheduled yet); none without node access.
pub fn nodes_named<'a>(nodes: &'a [Arc<dyn Node>], wanted: &[String]) -> Vec<&'a dyn Node> {
    let named: Vec<&dyn Node> = nodes
        .iter()
        .filter(|n| wanted.iter().any(|w| w == n.name()))
        .map(|n| n.as_ref())
        .collect();
    if named.is_empty() {
        nodes.iter().take(1).map(|n| n.as_ref()).collect()
    } else {
        named
    }
}

/// What an environment can do, as data (kind's `ProviderInfo`).
#[derive(Debug, Clone)]
pub struct EnvironmentInfo {
    /// The cluster's name in progress lines and records.
    pub name: String,
    /// Which environment: "kind", "kubeconfig".
    pub provider: &'static str,
    /// The suite may run commands on the nodes (`nodes()` is not empty):
    /// node journals in diagnostics, node faults, per-scenario registries.
    pub node_access: bool,
    /// A registry container on this machine can serve the nodes (they sit
    /// on its podman network), so each scenario may start its own.
    pub local_registry: bool,
    /// The kubeconfig the client was made from (the secrets scan reads it).
    pub kubeconfig: PathBuf,
}

#[async_trait]
pub trait Environment: Send + Sync {
    fn info(&self) -> &EnvironmentInfo;
    /// The API client, made once when the environment was connected.
    fn client(&self) -> Client;
    /// The nodes the suite may reach (empty without node access).
    fn nodes(&self) -> &[Arc<dyn Node>];
    /// Puts the workload images on every node for preloaded delivery;
    /// false when the environment cannot (the user put them there).
    async fn preload_images(&self) -> anyhow::Result<bool>;
}

/// The environment of an acquired cluster: a kind cluster of this machine
/// when its kind name is known, else a cluster given by kubeconfig.
pub async fn connect(
    cluster: &Cluster,
    repo_root: &Path,
) -> Result<Arc<dyn Environment>, NoCluster> {
    let client = cluster.client().await?;
    Ok(match &cluster.kind_node {
        Some(kind_name) => {
            // Every node, so that each can be told where the run's
            // registry is (a multi-node cluster pulls on its workers).
            let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(client.clone());
            let names: Vec<String> = nodes
                .list(&Default::default())
                .await
                .map(|l| {
                    l.items
                        .into_iter()
                        .filter_map(|n| n.metadata.name)
                        .collect()
                })
                .unwrap_or_default();
            Arc::new(kind::KindCluster::new(
                cluster, kind_name, client, repo_root, &names,
            ))
        }
        None => Arc::new(kubeconfig::GivenCluster::new(cluster, client)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named(&'static str);

    #[async_trait]
    impl Node for Named {
        fn name(&self) -> &str {
            self.0
        }
        async fn exec(&self, _argv: &[&str]) -> anyhow::Result<String> {
            Ok(String::new())
        }
    }

    /// Faults and diagnostics reach the nodes the pods are on, not the
    /// control plane of a multi-node cluster.
    #[test]
    fn the_pods_nodes_are_picked_else_the_first() {
        let nodes: Vec<Arc<dyn Node>> = vec![
            Arc::new(Named("cp")),
            Arc::new(Named("w1")),
            Arc::new(Named("w2")),
        ];
        let names = |wanted: &[&str]| -> Vec<String> {
            let wanted: Vec<String> = wanted.iter().map(|w| w.to_string()).collect();
            nodes_named(&nodes, &wanted)
                .iter()
                .map(|n| n.name().to_string())
                .collect()
        };
        assert_eq!(names(&["w2", "w1"]), ["w1", "w2"]);
        assert_eq!(names(&["gone"]), ["cp"]);
        assert_eq!(names(&[]), ["cp"]);
        assert!(nodes_named(&[], &["w1".to_string()]).is_empty());
    }
}
