//! Kubernetes in-place pod resize (`pods/resize`, beta and on by default
//! since v1.33): a container's CPU or memory limit changed on the live
//! pods, without the workload. The container's `resizePolicy` for that
//! resource decides whether the kubelet restarts it (`RestartContainer`)
//! or only rewrites its cgroup (`NotRequired`); the fixture must say which
//! this change expects.

use std::collections::BTreeMap;

use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{Value, json};

use super::{ActsOn, Change, Plan, Target};
use crate::model::record::ChangeRecord;

#[derive(Debug)]
pub struct PodResize {
    pub container: &'static str,
    /// "cpu" or "memory".
    pub resource: &'static str,
    /// The new limit, e.g. "300m" or "384Mi".
    pub limit: &'static str,
    /// The container's resizePolicy for the resource the fixture must
    /// declare.
    pub policy: &'static str,
}

/// A quantity of `resource` in its unit: millicores for cpu, bytes for
/// memory.
pub fn amount(resource: &str, quantity: &str) -> Option<i64> {
    match resource {
        "cpu" => millicores(quantity),
        _ => bytes(quantity),
    }
}

/// "384Mi", "1Gi", "500M" or "1048576" as bytes.
pub fn bytes(quantity: &str) -> Option<i64> {
    const UNITS: &[(&str, i64)] = &[
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    for (suffix, factor) in UNITS {
        if let Some(n) = quantity.strip_suffix(suffix) {
            return n.parse::<i64>().ok().map(|n| n * factor);
        }
    }
    quantity.parse().ok()
}

/// The container's restart policy for a resource in a pod template.
pub fn resize_policy(template: &Value, container: &str, resource: &str) -> Option<String> {
    template["spec"]["containers"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == container)?["resizePolicy"]
        .as_array()?
        .iter()
        .find(|p| p["resourceName"] == resource)?["restartPolicy"]
        .as_str()
        .map(str::to_string)
}

/// `"300m"` or `"1"` / `"0.5"` as millicores.
pub fn millicores(quantity: &str) -> Option<i64> {
    match quantity.strip_suffix('m') {
        Some(milli) => milli.parse().ok(),
        None => quantity
            .parse::<f64>()
            .ok()
            .map(|cores| (cores * 1000.0).round() as i64),
    }
}

/// Settled: the kubelet reports the new limit and no resize is pending or
/// in progress.
pub(crate) fn resized(
    pod: &Pod,
    container: &str,
    resource: &str,
    wanted: i64,
) -> Result<(), String> {
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    let status = pod.status.clone().unwrap_or_default();
    let pending = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_.starts_with("PodResize") && c.status == "True");
    if let Some(c) = pending {
        return Err(format!(
            "{name}: {} {}",
            c.type_,
            c.message.as_deref().unwrap_or("")
        ));
    }
    let reported = status
        .container_statuses
        .iter()
        .flatten()
        .find(|c| c.name == container)
        .and_then(|c| {
            c.resources
                .as_ref()?
                .limits
                .as_ref()?
                .get(resource)
                .cloned()
        })
        .and_then(|q| amount(resource, &q.0));
    if reported != Some(wanted) {
        return Err(format!(
            "{name}: {container} reports {resource} limit {reported:?} (want {wanted})"
        ));
    }
    crate::workloads::pod_ready(pod)
}

/// Sets `resource`'s limit of `container` on every target pod through
/// `pods/resize`.
pub(crate) async fn resize(
    target: &Target<'_>,
    container: &str,
    resource: &str,
    limit: &str,
) -> Result<(), kube::Error> {
    let api: Api<Pod> = Api::namespaced(target.client.clone(), target.namespace);
    let patch = json!({"spec": {"containers": [
        {"name": container, "resources": {"limits": {resource: limit}}}
    ]}});
    for pod in target.pods {
        let name = pod.metadata.name.clone().unwrap_or_default();
        api.patch_subresource(
            "resize",
            &name,
            &PatchParams::default(),
            &Patch::Strategic(&patch),
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl Change for PodResize {
    fn minimum_kubernetes(&self) -> Option<(u32, u32)> {
        // pods/resize and in-place resource changes: beta, on by default.
        Some((1, 33))
    }

    fn kind(&self) -> &'static str {
        match (self.resource, self.policy) {
            ("cpu", "RestartContainer") => "pod-resize-restart",
            ("cpu", _) => "pod-resize",
            (_, "RestartContainer") => "pod-resize-memory-restart",
            _ => "pod-resize-memory",
        }
    }

    fn acts_on(&self) -> ActsOn {
        ActsOn::Directly
    }

    fn plan(&self, plan: &Plan) -> anyhow::Result<ChangeRecord> {
        let policy = resize_policy(plan.template, self.container, self.resource);
        anyhow::ensure!(
            policy.as_deref() == Some(self.policy),
            "the fixture's {} has {} resizePolicy {policy:?}, this change expects {}",
            self.container,
            self.resource,
            self.policy
        );
        Ok(ChangeRecord {
            kind: self.kind().into(),
            description: format!(
                "pods/resize: {} limit of {} -> {} (resizePolicy {})",
                self.resource, self.container, self.limit, self.policy
            ),
            containers: vec![self.container.to_string()],
            details: BTreeMap::from([(format!("{} limit", self.resource), self.limit.to_string())]),
            ..Default::default()
        })
    }

    async fn act(&self, target: &Target<'_>, _planned: &ChangeRecord) -> Result<(), kube::Error> {
        resize(target, self.container, self.resource, self.limit).await
    }

    async fn done(
        &self,
        target: &Target<'_>,
        _planned: &ChangeRecord,
    ) -> anyhow::Result<Result<BTreeMap<String, String>, String>> {
        let api: Api<Pod> = Api::namespaced(target.client.clone(), target.namespace);
        let wanted = amount(self.resource, self.limit).unwrap_or_default();
        for before in target.pods {
            let pod = api
                .get(before.metadata.name.as_deref().unwrap_or(""))
                .await?;
            if let Err(state) = resized(&pod, self.container, self.resource, wanted) {
                return Ok(Err(state));
            }
        }
        Ok(Ok(BTreeMap::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_quantities_in_bytes() {
        assert_eq!(bytes("384Mi"), Some(384 << 20));
        assert_eq!(bytes("1Gi"), Some(1 << 30));
        assert_eq!(bytes("500M"), Some(500_000_000));
        assert_eq!(bytes("1048576"), Some(1 << 20));
        assert_eq!(amount("memory", "256Mi"), Some(256 << 20));
        assert_eq!(amount("cpu", "300m"), Some(300));
        let memory = PodResize {
            container: "app",
            resource: "memory",
            limit: "384Mi",
            policy: "RestartContainer",
        };
        assert_eq!(memory.kind(), "pod-resize-memory-restart");
    }

    #[test]
    fn quantities_in_millicores() {
        assert_eq!(millicores("300m"), Some(300));
        assert_eq!(millicores("1"), Some(1000));
        assert_eq!(millicores("0.5"), Some(500));
        assert_eq!(millicores("x"), None);
    }

    #[test]
    fn the_fixture_must_declare_the_expected_policy() {
        let template = json!({"spec": {"containers": [{"name": "app",
            "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}]}]}});
        assert_eq!(
            resize_policy(&template, "app", "cpu").as_deref(),
            Some("NotRequired")
        );
        let images = Default::default();
        let plan = Plan {
            template: &template,
            images: &images,
        };
        let restart = PodResize {
            container: "app",
            resource: "cpu",
            limit: "300m",
            policy: "RestartContainer",
        };
        assert!(restart.plan(&plan).is_err());
        let not_required = PodResize {
            policy: "NotRequired",
            ..restart
        };
        assert_eq!(not_required.plan(&plan).unwrap().kind, "pod-resize");
    }
}
