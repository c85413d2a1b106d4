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
    pub fn new(
        cluster: &Cluster,
        kind_name: &str,
        client: Client,
        repo_root: &Path,
    ) -> KindCluster {
        let node = KindNode {
            name: format!("{kind_name}-control-plane"),
            kind_name: kind_name.to_string(),
            repo_root: repo_root.to_path_buf(),
        };
        KindCluster {
            info: EnvironmentInfo {
                name: cluster.name.clone(),
                provider: "kind",
                node_access: true,
                local_registry: true,
                kubeconfig: cluster.kubeconfig.clone(),
            },
            client,
            nodes: vec![Arc::new(node)],
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
        let mut args = vec!["node-exec", "--name", &self.kind_name, "--"];
        args.extend_from_slice(argv);
        cluster::run_script(&self.repo_root, &args).await
    }
}
