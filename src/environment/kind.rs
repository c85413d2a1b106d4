//! A kind cluster of this machine (podman provider): its node is reached
//! through `scripts/cluster node-exec`, images through a registry
//! container on the kind network or `kind load`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use kube::Client;

use super::cluster::{self, Cluster};
use super::{Environment, EnvironmentInfo, Node};

pub struct KindCluster {
    info: EnvironmentInfo,
    client: Client,
    nodes: Vec<Arc<dyn Node>>,
    kind_name: String,
    repo_root: PathBuf,
}

impl KindCluster {
    /// `node_names`: the cluster's nodes, which in kind are the names of
    /// their containers; the control plane first (the node the faults and
    /// diagnostics reach).
    pub fn new(
        cluster: &Cluster,
        kind_name: &str,
        client: Client,
        repo_root: &Path,
        node_names: &[String],
    ) -> KindCluster {
        let control_plane = format!("{kind_name}-control-plane");
        let mut names: Vec<String> = node_names.to_vec();
        names.retain(|n| *n != control_plane);
        names.insert(0, control_plane);
        let nodes: Vec<Arc<dyn Node>> = names
            .into_iter()
            .map(|name| {
                Arc::new(KindNode {
                    name,
                    kind_name: kind_name.to_string(),
                    repo_root: repo_root.to_path_buf(),
                }) as Arc<dyn Node>
            })
            .collect();
        KindCluster {
            info: EnvironmentInfo {
                name: cluster.name.clone(),
                provider: "kind",
                node_access: true,
                local_registry: true,
                kubeconfig: cluster.kubeconfig.clone(),
            },
            client,
            nodes,
            kind_name: kind_name.to_string(),
            repo_root: repo_root.to_path_buf(),
        }
    }
}

#[async_trait]
impl Environment for KindCluster {
    fn info(&self) -> &EnvironmentInfo {
        &self.info
    }

    fn client(&self) -> Client {
        self.client.clone()
    }

    fn nodes(&self) -> &[Arc<dyn Node>] {
        &self.nodes
    }

    async fn preload_images(&self) -> anyhow::Result<bool> {
        // The default path removes them after the smoke check: load again.
        cluster::run_script(
            &self.repo_root,
            &["load-workload", "--name", &self.kind_name],
        )
        .await?;
        Ok(true)
    }
}

/// The kind node container (`scripts/cluster node-exec`).
struct KindNode {
    name: String,
    kind_name: String,
    repo_root: PathBuf,
}

#[async_trait]
impl Node for KindNode {
    fn name(&self) -> &str {
        &self.name
    }

    async fn exec(&self, argv: &[&str]) -> anyhow::Result<String> {
        let mut args = vec![
            "node-exec",
            "--name",
            &self.kind_name,
            "--node",
            &self.name,
            "--",
        ];
        args.extend_from_slice(argv);
        cluster::run_script(&self.repo_root, &args).await
    }
}
