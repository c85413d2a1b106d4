//! OpenKruise objects, through `DynamicObject` + discovery (no compile-time
//! coupling to one Kruise release) and a small typed view limited to the
//! fields the suite reads.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ApiResource, ListParams};
use serde::Deserialize;

pub const GROUP: &str = "apps.kruise.io";
pub const SYSTEM_NAMESPACE: &str = "kruise-system";
pub const MANAGER_DEPLOYMENT: &str = "kruise-controller-manager";
pub const DAEMON_SET: &str = "kruise-daemon";
pub const INPLACE_UPDATE_READY: &str = "InPlaceUpdateReady";
pub const INPLACE_UPDATE_STATE: &str = "apps.kruise.io/inplace-update-state";
pub const REVISION_LABEL: &str = "controller-revision-hash";

/// A kube error as a user reads it: an API server's refusal as its message
/// with reason and code (kube's own text of it appends a Debug dump of the
/// whole `Status`), any other error as it displays itself.
pub fn api_error_text(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            let or = |text: &str, default: &str| {
                if text.is_empty() {
                    default.to_string()
                } else {
                    text.to_string()
                }
            };
            format!(
                "{} (reason {}, code {})",
                or(&status.message, "the API server refused the call"),
                or(&status.reason, "unknown"),
                status.code
            )
        }
        other => other.to_string(),
    }
}

/// An error chain as `{:#}` prints it (`context: cause: ...`), with every
/// kube error in it rendered by [`api_error_text`] (and the `Status` kube
/// chains under an API error left out: its text is already there).
pub fn error_text(err: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    let mut under_api_error = false;
    for cause in err.chain() {
        let status = cause.is::<Box<kube::core::Status>>() || cause.is::<kube::core::Status>();
        if std::mem::take(&mut under_api_error) && status {
            continue;
        }
        match cause.downcast_ref::<kube::Error>() {
            Some(kube_err) => {
                under_api_error = matches!(kube_err, kube::Error::Api(_));
                parts.push(api_error_text(kube_err));
            }
            None => parts.push(cause.to_string()),
        }
    }
    parts.join(": ")
}

/// What the cluster serves for CloneSet: every served version and the one
/// discovery recommends. Fixtures are written for one version (v1alpha1)
/// and are created at that version; the recommended one may differ (a
/// v1beta1 storage version nests the strategy differently).
#[derive(Debug, Clone)]
pub struct CloneSetApi {
    pub served_versions: Vec<String>,
    pub recommended: ApiResource,
}

impl CloneSetApi {
    pub fn describe(&self) -> String {
        format!(
            "CloneSet served as {}; recommended {}",
            self.served_versions.join(", "),
            self.recommended.api_version
        )
    }
}

pub async fn cloneset_api(client: &Client) -> anyhow::Result<CloneSetApi> {
    let group = kube::discovery::group(client, GROUP).await.map_err(|e| {
        anyhow::anyhow!(
            "OpenKruise API group {GROUP} not served: {}",
            api_error_text(&e)
        )
    })?;
    // The group's preferred version need not serve CloneSet (v1.8 prefers
    // v1beta1, where only StatefulSet lives): look through every version,
    // preferred first, as discovery orders them.
    let mut served: Vec<(String, ApiResource)> = Vec::new();
    for version in group.versions() {
        let found = group
            .versioned_resources(version)
            .into_iter()
            .find(|(r, _)| r.kind == "CloneSet");
        if let Some((resource, _)) = found {
            served.push((version.to_string(), resource));
        }
    }
    let recommended = served
        .first()
        .map(|(_, r)| r.clone())
        .ok_or_else(|| anyhow::anyhow!("{GROUP} serves no CloneSet kind"))?;
    Ok(CloneSetApi {
        served_versions: served.into_iter().map(|(v, _)| v).collect(),
        recommended,
    })
}

/// Kruise is installed and its manager available (its webhooks gate every
/// pod create, so nothing works before that).
pub async fn preflight(client: &Client) -> anyhow::Result<CloneSetApi> {
    let api = cloneset_api(client).await?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    let manager = deployments
        .get_opt(MANAGER_DEPLOYMENT)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{SYSTEM_NAMESPACE}/{MANAGER_DEPLOYMENT} not found"))?;
    let available = manager
        .status
        .and_then(|s| s.available_replicas)
        .unwrap_or(0);
    anyhow::ensure!(
        available > 0,
        "{SYSTEM_NAMESPACE}/{MANAGER_DEPLOYMENT} has no available replica"
    );
    Ok(api)
}

/// Image of the manager container: names the Kruise version under test.
pub async fn manager_image(client: &Client) -> Option<String> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    let manager = deployments.get_opt(MANAGER_DEPLOYMENT).await.ok()??;
    manager
        .spec?
        .template
        .spec?
        .containers
        .first()
        .and_then(|c| c.image.clone())
}

/// The version an image's tag names (`...kruise-manager:v1.9.0` ->
/// `v1.9.0`); a digest or a tag that is not a version gives `None`.
pub fn version_of_image(image: &str) -> Option<String> {
    let (_, tag) = crate::environment::images::split_image(image);
    let tag = tag.split('@').next().unwrap_or_default();
    let numeric = tag.strip_prefix('v').unwrap_or(tag);
    let looks_like_version = numeric.split('.').count() >= 2
        && numeric
            .split(['.', '-'])
            .next()
            .is_some_and(|major| major.chars().all(|c| c.is_ascii_digit()) && !major.is_empty());
    looks_like_version.then(|| format!("v{numeric}"))
}

/// The OpenKruise version installed, from the manager's image tag.
pub async fn installed_version(client: &Client) -> Option<String> {
    version_of_image(&manager_image(client).await?)
}

/// The feature gates kruise-manager runs with, as its `--feature-gates`
/// flag sets them (gates it does not name keep kruise's default: every gate
/// the suite asks for is off by default).
pub async fn manager_feature_gates(
    client: &Client,
) -> anyhow::Result<std::collections::BTreeMap<String, bool>> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    let manager = deployments.get(MANAGER_DEPLOYMENT).await?;
    let args: Vec<String> = manager
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers.into_iter().next())
        .and_then(|c| c.args)
        .unwrap_or_default();
    Ok(parse_feature_gates(&args))
}

pub fn parse_feature_gates(args: &[String]) -> std::collections::BTreeMap<String, bool> {
    args.iter()
        .filter_map(|a| a.strip_prefix("--feature-gates="))
        .flat_map(|list| list.split(','))
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim() == "true"))
        .collect()
}

/// The gates of `wanted` that kruise-manager does not run with.
pub async fn missing_gates(client: &Client, wanted: &[&str]) -> anyhow::Result<Vec<String>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let gates = manager_feature_gates(client).await?;
    Ok(wanted
        .iter()
        .filter(|g| gates.get(**g) != Some(&true))
        .map(|g| g.to_string())
        .collect())
}

/// Restart counts of every kruise-system container (manager and daemon).
pub async fn component_restarts(
    client: &Client,
) -> anyhow::Result<Vec<crate::model::record::ComponentRestarts>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), SYSTEM_NAMESPACE);
    let mut out = Vec::new();
    for pod in pods.list(&ListParams::default()).await?.items {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let statuses = pod
            .status
            .and_then(|s| s.container_statuses)
            .unwrap_or_default();
        for status in statuses {
            out.push(crate::model::record::ComponentRestarts {
                pod: name.clone(),
                container: status.name,
                restart_count: status.restart_count,
            });
        }
    }
    Ok(out)
}

/// The fields of a CloneSet the suite reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneSetView {
    pub metadata: kube::api::ObjectMeta,
    #[serde(default)]
    pub spec: CloneSetSpecView,
    #[serde(default)]
    pub status: Option<CloneSetStatusView>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneSetSpecView {
    pub replicas: Option<i32>,
    #[serde(default)]
    pub update_strategy: UpdateStrategyView,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategyView {
    /// An integer or a percentage (`intstr`).
    pub partition: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloneSetStatusView {
    #[serde(default)]
    pub observed_generation: i64,
    #[serde(default)]
    pub replicas: i32,
    #[serde(default)]
    pub ready_replicas: i32,
    #[serde(default)]
    pub updated_replicas: i32,
    #[serde(default)]
    pub updated_ready_replicas: i32,
    pub update_revision: Option<String>,
    pub current_revision: Option<String>,
}

impl CloneSetView {
    pub fn update_revision(&self) -> Option<&str> {
        self.status.as_ref()?.update_revision.as_deref()
    }

    pub fn replicas(&self) -> usize {
        self.spec.replicas.unwrap_or(1).max(0) as usize
    }

    /// `replicas - partition` (cloneset_status.go's expectedUpdatedReplicas);
    /// a percentage partition is refused rather than guessed at.
    pub fn expected_updated(&self) -> anyhow::Result<usize> {
        let partition = match &self.spec.update_strategy.partition {
            None => 0,
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(0) as usize,
            Some(other) => {
                anyhow::bail!("CloneSet partition {other} is not an integer; fixtures use integers")
            }
        };
        Ok(self.replicas().saturating_sub(partition))
    }

    /// Kruise's own notion of "done" (cloneset_status.go), never
    /// `updatedReplicas` alone (it counts pods before they restart):
    /// generation observed, a new updateRevision, and every replica the
    /// partition lets through updated *and ready*.
    pub fn update_complete(&self, previous_revision: Option<&str>) -> Result<(), String> {
        let updated = self.expected_updated().map_err(|e| format!("{e:#}"))?;
        self.settled_with(updated)?;
        let status = self.status.as_ref().expect("settled checks status");
        if status.update_revision.as_deref() == previous_revision {
            return Err(format!(
                "updateRevision still {}",
                previous_revision.unwrap_or("unset")
            ));
        }
        Ok(())
    }

    /// After creation every pod is on the (only) revision, partition or
    /// not: generation observed and `updatedReadyReplicas == replicas ==
    /// readyReplicas == spec.replicas`.
    pub fn settled(&self) -> Result<(), String> {
        self.settled_with(self.replicas())
    }

    /// Generation observed, `replicas == readyReplicas == spec.replicas`
    /// and `updatedReplicas == updatedReadyReplicas == updated`.
    fn settled_with(&self, updated: usize) -> Result<(), String> {
        let Some(status) = &self.status else {
            return Err("no status yet".into());
        };
        let generation = self.metadata.generation.unwrap_or(0);
        let wanted = self.replicas() as i32;
        let updated = updated as i32;
        let state = format!(
            "generation {generation}/observed {}, replicas {} ready {} updated {} updatedReady {} (want {wanted}, {updated} updated), updateRevision {}",
            status.observed_generation,
            status.replicas,
            status.ready_replicas,
            status.updated_replicas,
            status.updated_ready_replicas,
            status.update_revision.as_deref().unwrap_or("unset")
        );
        let done = status.observed_generation == generation
            && status.update_revision.is_some()
            && status.updated_ready_replicas == updated
            && status.updated_replicas == updated
            && status.replicas == wanted
            && status.ready_replicas == wanted;
        if done { Ok(()) } else { Err(state) }
    }
}

/// The pod's revision label against `status.updateRevision`; with the
/// CloneSetShortHash gate the label holds only the hash suffix.
pub fn revision_matches(label: Option<&str>, update_revision: &str) -> bool {
    match label {
        None => false,
        Some(label) => {
            label == update_revision
                || update_revision
                    .rsplit_once('-')
                    .is_some_and(|(_, hash)| hash == label)
        }
    }
}

/// The pod's `controller-revision-hash` label.
pub fn pod_revision(pod: &Pod) -> Option<&str> {
    pod.metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(REVISION_LABEL))
        .map(String::as_str)
}

/// Whether the pod carries kruise's `InPlaceUpdateReady` readiness gate
/// (CloneSet injects it always; Advanced StatefulSet and DaemonSet only
/// for in-place policies).
pub fn has_inplace_gate(pod: &Pod) -> bool {
    pod.spec
        .iter()
        .flat_map(|s| s.readiness_gates.iter().flatten())
        .any(|g| g.condition_type == INPLACE_UPDATE_READY)
}

/// Per-pod completion for kruise pods: Ready, on the update revision, no
/// pending grace-period spec, and `InPlaceUpdateReady` True where the pod
/// has that gate.
pub fn pod_updated(pod: &Pod, update_revision: &str) -> Result<(), String> {
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    if pod.metadata.deletion_timestamp.is_some() {
        return Err(format!("pod {name} terminating"));
    }
    let label = pod_revision(pod);
    if !revision_matches(label, update_revision) {
        return Err(format!(
            "pod {name} revision {} not {update_revision}",
            label.unwrap_or("unset")
        ));
    }
    let grace_pending = pod
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key("apps.kruise.io/inplace-update-grace"));
    if grace_pending {
        return Err(format!("pod {name} still in its in-place grace period"));
    }
    let gates: &[&str] = if has_inplace_gate(pod) {
        &[INPLACE_UPDATE_READY, "Ready"]
    } else {
        &["Ready"]
    };
    for condition in gates {
        if pod_condition(pod, condition) != Some("True") {
            return Err(format!(
                "pod {name} {condition}={}",
                pod_condition(pod, condition).unwrap_or("absent")
            ));
        }
    }
    Ok(())
}

pub fn pod_condition<'a>(pod: &'a Pod, type_: &str) -> Option<&'a str> {
    pod.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A webhook's refusal reads as its message, reason and code, with or
    /// without context around it, never as kube's Debug dump of `Status`.
    #[test]
    fn api_errors_read_as_message_reason_and_code() {
        let refused = || {
            kube::Error::Api(Box::new(kube::core::Status {
                code: 403,
                message: "admission webhook \"vcloneset.kb.io\" denied the request: bad".into(),
                reason: "Forbidden".into(),
                ..Default::default()
            }))
        };
        let want = "admission webhook \"vcloneset.kb.io\" denied the request: bad \
                    (reason Forbidden, code 403)";
        assert_eq!(api_error_text(&refused()), want);
        assert_eq!(error_text(&refused().into()), want);
        let wrapped = anyhow::Error::new(refused()).context("applying the change");
        assert_eq!(error_text(&wrapped), format!("applying the change: {want}"));
        assert!(
            format!("{wrapped:#}").contains("Status {"),
            "kube's own text"
        );
        let other = kube::Error::LinesCodecMaxLineLengthExceeded;
        assert_eq!(api_error_text(&other), other.to_string());
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_text(&plain), format!("{plain:#}"));
    }

    #[test]
    fn the_version_comes_from_the_image_tag() {
        let v = |i: &str| version_of_image(i);
        assert_eq!(
            v("localhost/openkruise/kruise-manager:v1.9.0").as_deref(),
            Some("v1.9.0")
        );
        assert_eq!(
            v("docker.io/openkruise/kruise-manager:1.8.2").as_deref(),
            Some("v1.8.2")
        );
        assert_eq!(v("registry:5000/kruise-manager:latest"), None);
        assert_eq!(v("kruise-manager"), None);
    }

    fn view(generation: i64, status: serde_json::Value) -> CloneSetView {
        serde_json::from_value(json!({
            "metadata": {"name": "app", "generation": generation},
            "spec": {"replicas": 1},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn updated_replicas_alone_is_not_completion() {
        // In-place pods count as updated before they restart.
        let v = view(
            2,
            json!({"observedGeneration": 2, "replicas": 1, "readyReplicas": 0,
                   "updatedReplicas": 1, "updatedReadyReplicas": 0, "updateRevision": "app-new"}),
        );
        assert!(v.update_complete(Some("app-old")).is_err());
    }

    #[test]
    fn completion_needs_new_revision_and_observed_generation() {
        let done = json!({"observedGeneration": 2, "replicas": 1, "readyReplicas": 1,
                          "updatedReplicas": 1, "updatedReadyReplicas": 1, "updateRevision": "app-new"});
        assert!(
            view(2, done.clone())
                .update_complete(Some("app-old"))
                .is_ok()
        );
        assert!(
            view(2, done.clone())
                .update_complete(Some("app-new"))
                .is_err()
        );
        assert!(view(3, done).update_complete(Some("app-old")).is_err());
    }

    #[test]
    fn feature_gates_from_the_manager_flag() {
        let args = vec![
            "--v=2".to_string(),
            "--feature-gates=KruiseDaemon=true,InPlaceWorkloadVerticalScaling=false".to_string(),
        ];
        let gates = parse_feature_gates(&args);
        assert_eq!(gates.get("KruiseDaemon"), Some(&true));
        assert_eq!(gates.get("InPlaceWorkloadVerticalScaling"), Some(&false));
        assert_eq!(gates.get("Other"), None);
    }

    #[test]
    fn a_partition_holds_pods_back() {
        let v: CloneSetView = serde_json::from_value(json!({
            "metadata": {"name": "app", "generation": 2},
            "spec": {"replicas": 3, "updateStrategy": {"partition": 2}},
            "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 3,
                "updatedReplicas": 1, "updatedReadyReplicas": 1, "updateRevision": "app-new"}
        }))
        .unwrap();
        assert_eq!(v.expected_updated().unwrap(), 1);
        assert!(v.update_complete(Some("app-old")).is_ok());
        let pct: CloneSetView = serde_json::from_value(json!({
            "metadata": {"name": "app"},
            "spec": {"replicas": 3, "updateStrategy": {"partition": "50%"}}
        }))
        .unwrap();
        assert!(pct.expected_updated().is_err());
    }

    #[test]
    fn short_hash_labels_match_the_revision() {
        assert!(revision_matches(Some("app-5f7b9c6d48"), "app-5f7b9c6d48"));
        assert!(revision_matches(Some("5f7b9c6d48"), "app-5f7b9c6d48"));
        assert!(!revision_matches(Some("6c4d8e9f7a"), "app-5f7b9c6d48"));
        assert!(!revision_matches(None, "app-5f7b9c6d48"));
    }

    #[test]
    fn pod_needs_inplace_update_ready() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "app-1", "labels": {"controller-revision-hash": "app-new"}},
            "spec": {"containers": [], "readinessGates": [{"conditionType": "InPlaceUpdateReady"}]},
            "status": {"conditions": [
                {"type": "InPlaceUpdateReady", "status": "False"},
                {"type": "Ready", "status": "True"}]}
        }))
        .unwrap();
        let err = pod_updated(&pod, "app-new").unwrap_err();
        assert!(err.contains("InPlaceUpdateReady=False"), "{err}");
    }
}
