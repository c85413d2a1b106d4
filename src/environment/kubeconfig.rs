//! A cluster given by its kubeconfig alone: nothing but its API is used
//! (no node access; images come from the user's registry or were put on
//! the nodes by the user).

use std::sync::Arc;

use async_trait::async_trait;
use kube::Client;

use super::cluster::Cluster;
use super::{Environment, EnvironmentInfo, Node};

pub struct GivenCluster {
    info: EnvironmentInfo,
    client: Client,
}

impl GivenCluster {
    pub fn new(cluster: &Cluster, client: Client) -> GivenCluster {
        GivenCluster {
            info: EnvironmentInfo {
                name: cluster.name.clone(),
                provider: "kubeconfig",
                node_access: false,
                local_registry: false,
                kubeconfig: cluster.kubeconfig.clone(),
            },
            client,
        }
    }
}

#[async_trait]
impl Environment for GivenCluster {
    fn info(&self) -> &EnvironmentInfo {
        &self.info
    }

    fn client(&self) -> Client {
        self.client.clone()
    }

    fn nodes(&self) -> &[Arc<dyn Node>] {
        &[]
    }

    async fn preload_images(&self) -> anyhow::Result<bool> {
        Ok(false)
    }
}
