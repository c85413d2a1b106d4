//! A memory limit decrease below what the container uses (`pods/resize`
//! with resizePolicy NotRequired): the memory emptyDir is filled first
//! (tmpfs pages are charged to the memory cgroup of the process that wrote
//! them, and cannot be reclaimed without swap), then the limit is set
//! below that usage. The kubelet must refuse it and kill nothing: since
//! Kubernetes v1.33 it compares the usage before a decrease
//! (`validateMemoryResizeAction`) and reports `PodResizeInProgress` with
//! reason Error; the container keeps its limit. Held, then the old limit
//! is put back (`run::hold`).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use super::pod_resize::{resize, resize_policy, resized};
use super::{ActsOn, Change, Halt, Plan, Stuck, Target};
use crate::model::record::ChangeRecord;

/// The planned record's keys.
const REFUSED: &str = "refused memory limit";
const BEFORE: &str = "memory limit before";

#[derive(Debug)]
pub struct MemoryBelowUsage {
    pub container: &'static str,
    /// A memory emptyDir of the fixture, and how much to write into it.
    pub fill_path: &'static str,
    pub fill_mib: u32,
    /// The limit asked for: above the request, below the usage the fill
    /// makes.
    pub limit: &'static str,
    pub hold_seconds: u64,
}

#[async_trait]
impl Change for MemoryBelowUsage {
    fn kind(&self) -> &'static str {
        "memory-below-usage-refused"
    }

    fn minimum_kubernetes(&self) -> Option<(u32, u32)> {
        // The kubelet's usage check before a decrease came with v1.33.
        Some((1, 33))
    }

    fn acts_on(&self) -> ActsOn {
        ActsOn::Directly
    }

    fn halts(&self) -> Option<Halt> {
        Some(Halt {
            stuck: Stuck::ResizeRefused,
            hold: Duration::from_secs(self.hold_seconds),
        })
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let policy = resize_policy(plan.template, self.container, "memory");
        anyhow::ensure!(
            policy.as_deref() == Some("NotRequired"),
            "the fixture's {} has memory resizePolicy {policy:?}, this change needs NotRequired",
            self.container
        );
        let before = plan.template["spec"]["containers"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["name"] == self.container))
            .and_then(|c| c["resources"]["limits"]["memory"].as_str())
            .ok_or_else(|| {
                anyhow::anyhow!("the fixture's {} has no memory limit", self.container)
            })?;
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!(
                "{} MiB written to {}, then pods/resize: memory limit of {} {before} -> {} \
                 (below its usage; resizePolicy NotRequired)",
                self.fill_mib, self.fill_path, self.container, self.limit
            ),
            containers: vec![self.container.to_string()],
            details: BTreeMap::from([
                (REFUSED.to_string(), self.limit.to_string()),
                (BEFORE.to_string(), before.to_string()),
            ]),
            ..Default::default()
        })
    }

    async fn act(&self, target: &Target<'_>, _planned: &ChangeRecord) -> Result<(), kube::Error> {
        let probe = crate::observe::probe::Probe::new(
            target.client,
            target.namespace,
            Duration::from_secs(60),
        );
        let fill = format!(
            "dd if=/dev/zero of={}/fill bs=1M count={} 2>&1 && sync",
            self.fill_path, self.fill_mib
        );
        for pod in target.pods {
            let name = pod.metadata.name.as_deref().unwrap_or("");
            probe
                .run(name, self.container, &["sh", "-c", &fill])
                .await
                .map_err(|e| kube::Error::Service(format!("filling {name}: {e:#}").into()))?;
        }
        resize(target, self.container, "memory", self.limit).await
    }

    async fn revert(&self, target: &Target<'_>, planned: &ChangeRecord) -> Result<(), kube::Error> {
        resize(target, self.container, "memory", &planned.details[BEFORE]).await
    }

    /// Back to the old limit: reported, no resize condition left.
    async fn done(
        &self,
        target: &Target<'_>,
        planned: &ChangeRecord,
    ) -> anyhow::Result<Result<BTreeMap<String, String>, String>> {
        let wanted = super::pod_resize::bytes(&planned.details[BEFORE]).unwrap_or_default();
        let api: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(target.client.clone(), target.namespace);
        for before in target.pods {
            let pod = api
                .get(before.metadata.name.as_deref().unwrap_or(""))
                .await?;
            if let Err(state) = resized(&pod, self.container, "memory", wanted) {
                return Ok(Err(state));
            }
        }
        Ok(Ok(BTreeMap::new()))
    }
}
