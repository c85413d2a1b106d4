//! Before any scenario, when the suite cannot put the images on the nodes
//! itself: for images pushed to a registry it does not run
//! (`--image-registry`), one push from here and one pull by a node, so
//! that a registry the suite cannot reach, or one the nodes cannot (a
//! wrong `--image-pull-registry`, TLS on one side only), is one line and
//! exit 3, not the same pull failure in every scenario; for images the
//! user preloaded on a cluster given by kubeconfig, a pod that may not
//! pull, so that images not put there are one line too. The pod lives in
//! a namespace of its own, deleted afterwards.

use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};

use crate::environment::config::RunConfig;
use crate::model::record::ImageDelivery;
use crate::run::access::Access;

/// How long the registry may take to answer a first push (an in-cluster
/// registry applied with the Job may still be starting).
const PUSH_PATIENCE: Duration = Duration::from_secs(90);
/// How long a node may take to pull the probe (a 60 MB image).
const PULL_DEADLINE: Duration = Duration::from_secs(120);

pub async fn check(client: &Client, access: &Access, config: &RunConfig) -> anyhow::Result<()> {
    let namespace = format!("ipc-registry-check-{}", crate::short_id());
    if config.delivery == ImageDelivery::Preloaded {
        let settings = crate::environment::settings::Settings::load(&config.repo_root)?;
        let image = crate::environment::images::local_image(
            settings.workload_repo()?,
            settings.workload_versions()?[0],
        );
        return in_namespace(client, access, config, &namespace, &image, "Never")
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "{e:#}; hint: --image-delivery preloaded needs {image} (and the other \
                     versions) on every node; or push them with --image-registry REF"
                )
            });
    }
    let route = config.image_route(false);
    let image = crate::environment::images::push_probe(
        route,
        &config.repo_root,
        &namespace,
        PUSH_PATIENCE,
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "{}; hint: is --image-registry {} reachable from where the suite runs (and http:// \
             for a registry without TLS)?",
            crate::observe::kruise::error_text(&e),
            route.registry.unwrap_or_default()
        )
    })?;
    in_namespace(
        client,
        access,
        config,
        &namespace,
        &image.reference,
        "Always",
    )
    .await
    .map_err(|e| {
        anyhow::anyhow!(
            "{e:#}; hint: the nodes must pull what the suite pushes: --image-pull-registry \
                 names the registry as the nodes reach it"
        )
    })
}

/// The probe pod in a namespace made for it, deleted whatever happened.
async fn in_namespace(
    client: &Client,
    access: &Access,
    config: &RunConfig,
    namespace: &str,
    image: &str,
    pull_policy: &str,
) -> anyhow::Result<()> {
    crate::run::guard::create_namespace(client, namespace, "registry-check", &config.run_id)
        .await?;
    let pulled = async {
        access.admit(client, namespace).await?;
        pull_on_a_node(client, namespace, image, pull_policy).await
    }
    .await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let _ = namespaces.delete(namespace, &DeleteParams::default()).await;
    pulled
}

/// A pod of the probe image, until its container runs (the image is on
/// the node) or the kubelet gives up getting it.
async fn pull_on_a_node(
    client: &Client,
    namespace: &str,
    image: &str,
    pull_policy: &str,
) -> anyhow::Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "pull"},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": false,
            "terminationGracePeriodSeconds": 0,
            "securityContext": {
                "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
                "seccompProfile": {"type": "RuntimeDefault"}
            },
            "containers": [{
                "name": "pull",
                "image": image,
                "imagePullPolicy": pull_policy,
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["ALL"]}
                }
            }]
        }
    }))
    .context("the probe pod")?;
    pods.create(&PostParams::default(), &pod)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "creating the probe pod: {}",
                crate::observe::kruise::api_error_text(&e)
            )
        })?;
    let outcome = tokio::time::timeout(
        PULL_DEADLINE,
        kube::runtime::wait::await_condition(pods.clone(), "pull", pulled_or_refused),
    )
    .await;
    let last = pods.get("pull").await.ok();
    match (outcome, last.as_ref().and_then(pull_failure)) {
        (_, Some(failure)) => anyhow::bail!("a node cannot get {image}: {failure}"),
        (Ok(Ok(_)), None) => Ok(()),
        (Ok(Err(err)), None) => Err(err).context("watching the probe pod"),
        (Err(_), None) => anyhow::bail!(
            "a node did not pull {image} within {} s (last seen: {})",
            PULL_DEADLINE.as_secs(),
            last.as_ref()
                .map(describe)
                .unwrap_or_else(|| "no pod".into())
        ),
    }
}

fn pulled_or_refused(pod: Option<&Pod>) -> bool {
    pod.is_some_and(|p| pulled(p) || pull_failure(p).is_some())
}

fn statuses(pod: &Pod) -> impl Iterator<Item = &k8s_openapi::api::core::v1::ContainerStatus> {
    pod.status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten())
}

/// The image is on the node: the container has an image ID.
fn pulled(pod: &Pod) -> bool {
    statuses(pod).any(|c| !c.image_id.is_empty())
}

/// The kubelet's reason and message when it could not pull.
pub fn pull_failure(pod: &Pod) -> Option<String> {
    statuses(pod).find_map(|c| {
        let waiting = c.state.as_ref()?.waiting.as_ref()?;
        let reason = waiting.reason.as_deref()?;
        matches!(
            reason,
            "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" | "ErrImageNeverPull"
        )
        .then(|| format!("{reason}: {}", waiting.message.as_deref().unwrap_or("")))
    })
}

fn describe(pod: &Pod) -> String {
    let phase = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    let waiting: Vec<String> = statuses(pod)
        .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
        .collect();
    format!("phase {phase:?}, waiting {waiting:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({"metadata": {"name": "pull"}, "status": status}))
            .unwrap()
    }

    #[test]
    fn a_refused_pull_is_named_and_a_done_one_is_seen() {
        let refused = pod(serde_json::json!({"containerStatuses": [{
            "name": "pull", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ErrImagePull",
                "message": "http: server gave HTTP response to HTTPS client"}}
        }]}));
        assert_eq!(
            pull_failure(&refused).as_deref(),
            Some("ErrImagePull: http: server gave HTTP response to HTTPS client")
        );
        assert!(pulled_or_refused(Some(&refused)));
        let running = pod(serde_json::json!({"containerStatuses": [{
            "name": "pull", "image": "x", "imageID": "localhost:30500/a@sha256:1", "ready": true,
            "restartCount": 0, "state": {"running": {}}
        }]}));
        assert!(pulled(&running) && pull_failure(&running).is_none());
        let pending = pod(serde_json::json!({"phase": "Pending"}));
        assert!(!pulled_or_refused(Some(&pending)));
    }
}
