//! The workload under test: created from `fixtures/*.yaml` with the image
//! substituted, its image changed by patch (never replace), and its
//! rollout awaited the way its own controller defines "done".

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::kruise::{self, CloneSetView};
use crate::observe::{Strategy, WorkloadRef};
use crate::probe::CONTAINER;
use crate::wait::{self, Poll, WaitContext};

/// Fixture file per strategy (relative to the repository root).
pub fn fixture_path(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::CloneSetInPlaceIfPossible => "fixtures/cloneset-inplace.yaml",
        Strategy::CloneSetReCreate => "fixtures/cloneset-recreate.yaml",
        Strategy::DeploymentRollingUpdate => "fixtures/deployment-rolling.yaml",
    }
}

/// All documents of a multi-document YAML fixture, as JSON values.
pub fn load_fixture(repo_root: &Path, strategy: Strategy) -> anyhow::Result<Vec<Value>> {
    let path = repo_root.join(fixture_path(strategy));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    parse_documents(&text).with_context(|| format!("parsing {}", path.display()))
}

pub fn parse_documents(text: &str) -> anyhow::Result<Vec<Value>> {
    let mut docs = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(document)?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

/// Sets the image of container `app` in every pod template of `docs`.
pub fn substitute_image(docs: &mut [Value], image: &str) -> anyhow::Result<()> {
    let mut substituted = 0;
    for doc in docs.iter_mut() {
        let Some(containers) = doc
            .pointer_mut("/spec/template/spec/containers")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for container in containers.iter_mut() {
            if container["name"] == CONTAINER {
                container["image"] = json!(image);
                substituted += 1;
            }
        }
    }
    anyhow::ensure!(
        substituted > 0,
        "fixture has no pod template with a container named {CONTAINER}"
    );
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkloadKind {
    CloneSet,
    Deployment,
}

/// A created workload in a scenario's namespace.
pub struct Workload {
    pub kind: WorkloadKind,
    pub name: String,
    pub namespace: String,
    pub reference: WorkloadRef,
    client: Client,
    /// The workload's own resource (CloneSet at the fixture's version).
    resource: ApiResource,
    selector: String,
}

impl Workload {
    /// Creates every object of the strategy's fixture, image substituted,
    /// each at the API version the fixture declares (checked to be served).
    pub async fn create(
        client: &Client,
        namespace: &str,
        strategy: Strategy,
        repo_root: &Path,
        image: &str,
    ) -> anyhow::Result<Workload> {
        let mut docs = load_fixture(repo_root, strategy)?;
        substitute_image(&mut docs, image)?;
        let mut workload = None;
        for doc in docs {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            let resource = served_resource(client, &doc).await?;
            let object: DynamicObject = serde_json::from_value(doc)?;
            let api = Api::<DynamicObject>::namespaced_with(client.clone(), namespace, &resource);
            let created = api
                .create(&PostParams::default(), &object)
                .await
                .with_context(|| format!("creating {kind} in {namespace}"))?;
            if let Some(kind) = workload_kind(&kind) {
                workload = Some(Workload {
                    kind,
                    name: created.metadata.name.clone().unwrap_or_default(),
                    namespace: namespace.to_string(),
                    reference: WorkloadRef {
                        api_version: resource.api_version.clone(),
                        kind: resource.kind.clone(),
                        name: created.metadata.name.clone().unwrap_or_default(),
                        fixture: fixture_path(strategy).to_string(),
                    },
                    client: client.clone(),
                    resource: resource.clone(),
                    selector: label_selector(&created.data)?,
                });
            }
        }
        workload.context("fixture contains no CloneSet or Deployment")
    }

    fn pods_api(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn clonesets(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.namespace, &self.resource)
    }

    fn deployments(&self) -> Api<Deployment> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    /// Every pod of the workload, terminating ones included.
    pub async fn pods(&self) -> anyhow::Result<Vec<Pod>> {
        let params = ListParams::default().labels(&self.selector);
        Ok(self.pods_api().list(&params).await?.items)
    }

    /// The single running, ready pod (fixtures have one replica).
    pub async fn current_pod(&self) -> anyhow::Result<Pod> {
        let live: Vec<Pod> = self
            .pods()
            .await?
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect();
        anyhow::ensure!(
            live.len() == 1,
            "expected 1 live pod of {}, found {}",
            self.name,
            live.len()
        );
        Ok(live.into_iter().next().expect("one pod"))
    }

    /// The controller's revision: CloneSet `status.updateRevision`,
    /// Deployment `deployment.kubernetes.io/revision`.
    pub async fn revision(&self) -> anyhow::Result<Option<String>> {
        match self.kind {
            WorkloadKind::CloneSet => {
                let view = CloneSetView::from_dynamic(&self.clonesets().get(&self.name).await?)?;
                Ok(view.update_revision().map(str::to_string))
            }
            WorkloadKind::Deployment => Ok(deployment_revision(
                &self.deployments().get(&self.name).await?,
            )),
        }
    }

    /// Changes the image of container `app` by patch.
    pub async fn set_image(&self, image: &str) -> anyhow::Result<()> {
        match self.kind {
            WorkloadKind::CloneSet => self.patch_cloneset_image(image).await,
            WorkloadKind::Deployment => {
                // Strategic merge: containers merge by name, the rest stays.
                let patch = json!({"spec": {"template": {"spec": {"containers": [
                    {"name": CONTAINER, "image": image}
                ]}}}});
                self.deployments()
                    .patch(
                        &self.name,
                        &PatchParams::default(),
                        &Patch::Strategic(patch),
                    )
                    .await
                    .context("patching Deployment image")?;
                Ok(())
            }
        }
    }

    /// CRDs take no strategic merge, and a JSON merge patch replaces lists
    /// whole: send the current containers list with only the image changed,
    /// guarded by resourceVersion so a concurrent change makes it fail
    /// instead of being overwritten. Any other diff would turn an in-place
    /// update into a recreate.
    async fn patch_cloneset_image(&self, image: &str) -> anyhow::Result<()> {
        let current = self.clonesets().get(&self.name).await?;
        let mut containers = current
            .data
            .pointer("/spec/template/spec/containers")
            .cloned()
            .context("CloneSet without containers")?;
        let mut docs = [json!({"spec": {"template": {"spec": {"containers": containers.take()}}}})];
        substitute_image(&mut docs, image)?;
        let [mut patch] = docs;
        patch["metadata"] = json!({"resourceVersion": current.metadata.resource_version});
        self.clonesets()
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(patch))
            .await
            .context("patching CloneSet image")?;
        Ok(())
    }

    /// First rollout done: every replica ready on the update revision.
    pub async fn wait_ready(&self, ctx: &WaitContext, timeout: Duration) -> anyhow::Result<Pod> {
        let what = format!("{:?} {} to become ready", self.kind, self.name);
        Ok(wait::until(ctx, &what, timeout, || self.rollout_state(None, None)).await?)
    }

    /// Update done, judged as the controller judges it; returns the pod
    /// that now serves (the same one for in-place, a new one otherwise).
    pub async fn wait_updated(
        &self,
        ctx: &WaitContext,
        timeout: Duration,
        previous_revision: Option<&str>,
        old_pod_uid: &str,
    ) -> anyhow::Result<Pod> {
        let what = format!(
            "{:?} {} to finish updating from revision {}",
            self.kind,
            self.name,
            previous_revision.unwrap_or("unset")
        );
        let previous = Some(previous_revision);
        Ok(wait::until(ctx, &what, timeout, || {
            self.rollout_state(previous, Some(old_pod_uid))
        })
        .await?)
    }

    /// `previous`: None while waiting for the first rollout, Some(rev) for
    /// an update away from rev.
    async fn rollout_state(
        &self,
        previous: Option<Option<&str>>,
        old_pod_uid: Option<&str>,
    ) -> anyhow::Result<Poll<Pod>> {
        let pods = self.pods().await?;
        let settled = match self.kind {
            WorkloadKind::CloneSet => self.cloneset_state(previous, &pods).await?,
            WorkloadKind::Deployment => self.deployment_state(previous, old_pod_uid, &pods).await?,
        };
        Ok(match settled {
            Err(state) => Poll::Pending(state),
            Ok(()) => Poll::Ready(pods.into_iter().next().expect("one pod when settled")),
        })
    }

    async fn cloneset_state(
        &self,
        previous: Option<Option<&str>>,
        pods: &[Pod],
    ) -> anyhow::Result<Result<(), String>> {
        let view = CloneSetView::from_dynamic(&self.clonesets().get(&self.name).await?)?;
        let controller = match previous {
            None => view.settled(),
            Some(previous) => view.update_complete(previous),
        };
        if let Err(state) = controller {
            return Ok(Err(state));
        }
        let revision = view.update_revision().unwrap_or_default();
        Ok(pods_settled(pods, view.spec.replicas.unwrap_or(1), |pod| {
            kruise::pod_updated(pod, revision)
        }))
    }

    async fn deployment_state(
        &self,
        previous: Option<Option<&str>>,
        old_pod_uid: Option<&str>,
        pods: &[Pod],
    ) -> anyhow::Result<Result<(), String>> {
        let deployment = self.deployments().get(&self.name).await?;
        if let Err(state) = deployment_complete(&deployment, previous.flatten()) {
            return Ok(Err(state));
        }
        let replicas = deployment
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .unwrap_or(1);
        Ok(pods_settled(pods, replicas, |pod| {
            let name = pod.metadata.name.as_deref().unwrap_or("?");
            if old_pod_uid.is_some() && pod.metadata.uid.as_deref() == old_pod_uid {
                return Err(format!("old pod {name} still present"));
            }
            if pod.metadata.deletion_timestamp.is_some() {
                return Err(format!("pod {name} terminating"));
            }
            match kruise::pod_condition(pod, "Ready") {
                Some("True") => Ok(()),
                other => Err(format!("pod {name} Ready={}", other.unwrap_or("absent"))),
            }
        }))
    }
}

/// Exactly `replicas` pods (terminating ones count: they are old pods
/// still going), each passing `check`.
fn pods_settled(
    pods: &[Pod],
    replicas: i32,
    check: impl Fn(&Pod) -> Result<(), String>,
) -> Result<(), String> {
    if pods.len() != replicas as usize {
        let names: Vec<&str> = pods
            .iter()
            .map(|p| p.metadata.name.as_deref().unwrap_or("?"))
            .collect();
        return Err(format!(
            "{} pod(s) [{}], want {replicas}",
            pods.len(),
            names.join(", ")
        ));
    }
    pods.iter().try_for_each(check)
}

pub fn deployment_revision(deployment: &Deployment) -> Option<String> {
    deployment
        .metadata
        .annotations
        .as_ref()?
        .get("deployment.kubernetes.io/revision")
        .cloned()
}

/// Rollout complete: generation observed, revision moved (when updating),
/// `updatedReplicas == replicas == availableReplicas == spec.replicas`.
pub fn deployment_complete(
    deployment: &Deployment,
    previous_revision: Option<&str>,
) -> Result<(), String> {
    let status = deployment.status.clone().unwrap_or_default();
    let generation = deployment.metadata.generation.unwrap_or(0);
    let wanted = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(1);
    let revision = deployment_revision(deployment);
    let (replicas, updated, available) = (
        status.replicas.unwrap_or(0),
        status.updated_replicas.unwrap_or(0),
        status.available_replicas.unwrap_or(0),
    );
    let state = format!(
        "generation {generation}/observed {}, replicas {replicas} updated {updated} available {available} (want {wanted}), revision {}",
        status.observed_generation.unwrap_or(0),
        revision.as_deref().unwrap_or("unset")
    );
    let moved = previous_revision.is_none() || revision.as_deref() != previous_revision;
    let done = status.observed_generation.unwrap_or(0) >= generation
        && moved
        && replicas == wanted
        && updated == wanted
        && available == wanted;
    if done { Ok(()) } else { Err(state) }
}

fn workload_kind(kind: &str) -> Option<WorkloadKind> {
    match kind {
        "CloneSet" => Some(WorkloadKind::CloneSet),
        "Deployment" => Some(WorkloadKind::Deployment),
        _ => None,
    }
}

/// The document's kind at the document's version, as the server serves it.
async fn served_resource(client: &Client, doc: &Value) -> anyhow::Result<ApiResource> {
    let gvk = document_gvk(doc)?;
    let (resource, _caps) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .with_context(|| format!("{}/{} {} is not served", gvk.group, gvk.version, gvk.kind))?;
    Ok(resource)
}

pub fn document_gvk(doc: &Value) -> anyhow::Result<GroupVersionKind> {
    let api_version = doc["apiVersion"]
        .as_str()
        .context("document without apiVersion")?;
    let kind = doc["kind"].as_str().context("document without kind")?;
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    Ok(GroupVersionKind::gvk(group, version, kind))
}

/// `spec.selector.matchLabels` as a label selector string.
pub fn label_selector(data: &Value) -> anyhow::Result<String> {
    let labels: BTreeMap<String, String> = serde_json::from_value(
        data.pointer("/spec/selector/matchLabels")
            .cloned()
            .context("workload without spec.selector.matchLabels")?,
    )?;
    anyhow::ensure!(!labels.is_empty(), "empty spec.selector.matchLabels");
    Ok(labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn every_fixture_parses_and_takes_an_image() {
        for strategy in Strategy::ALL {
            let mut docs = load_fixture(repo(), strategy).unwrap();
            substitute_image(&mut docs, "localhost:5001/x/workload:s0-v1").unwrap();
            let workload = docs
                .iter()
                .find(|d| workload_kind(d["kind"].as_str().unwrap()).is_some())
                .unwrap();
            let container = &workload["spec"]["template"]["spec"]["containers"][0];
            assert_eq!(container["name"], CONTAINER);
            assert_eq!(container["image"], "localhost:5001/x/workload:s0-v1");
            assert_eq!(container["imagePullPolicy"], "IfNotPresent");
            assert_eq!(workload["spec"]["replicas"], 1);
            assert!(label_selector(workload).is_ok());
        }
    }

    #[test]
    fn fixtures_mount_the_marker_volumes() {
        for strategy in Strategy::ALL {
            let docs = load_fixture(repo(), strategy).unwrap();
            let text = serde_json::to_string(&docs).unwrap();
            for mount in ["/data/disk", "/data/mem", "/data/pvc"] {
                assert!(text.contains(mount), "{strategy:?} lacks {mount}");
            }
            assert!(text.contains("\"medium\":\"Memory\""), "{strategy:?}");
            assert!(!text.contains("storageClassName"), "use the default class");
        }
    }

    #[test]
    fn cloneset_fixtures_name_their_strategy_and_no_surge() {
        let strategies = [
            (Strategy::CloneSetInPlaceIfPossible, "InPlaceIfPossible"),
            (Strategy::CloneSetReCreate, "ReCreate"),
        ];
        for (strategy, wanted) in strategies {
            let docs = load_fixture(repo(), strategy).unwrap();
            let cs = docs.iter().find(|d| d["kind"] == "CloneSet").unwrap();
            assert_eq!(cs["spec"]["updateStrategy"]["type"], wanted);
            assert_eq!(cs["spec"]["updateStrategy"]["maxSurge"], 0);
            assert!(cs["spec"]["volumeClaimTemplates"].is_array());
        }
    }

    #[test]
    fn deployment_fixture_has_its_claim() {
        let docs = load_fixture(repo(), Strategy::DeploymentRollingUpdate).unwrap();
        let claim = docs
            .iter()
            .find(|d| d["kind"] == "PersistentVolumeClaim")
            .unwrap();
        let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
        let text = deployment.to_string();
        assert!(text.contains(claim["metadata"]["name"].as_str().unwrap()));
        assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");
    }

    #[test]
    fn document_versions_come_from_the_fixture() {
        let docs = load_fixture(repo(), Strategy::DeploymentRollingUpdate).unwrap();
        let gvks: Vec<GroupVersionKind> = docs.iter().map(|d| document_gvk(d).unwrap()).collect();
        assert_eq!(
            gvks[0],
            GroupVersionKind::gvk("", "v1", "PersistentVolumeClaim")
        );
        assert_eq!(gvks[1], GroupVersionKind::gvk("apps", "v1", "Deployment"));
        let cs = load_fixture(repo(), Strategy::CloneSetInPlaceIfPossible).unwrap();
        let gvk = document_gvk(&cs[0]).unwrap();
        assert_eq!(
            (gvk.group.as_str(), gvk.version.as_str()),
            ("apps.kruise.io", "v1alpha1")
        );
    }

    #[test]
    fn substitution_fails_without_app_container() {
        let mut docs = parse_documents(
            "kind: Deployment\nspec: {template: {spec: {containers: [{name: other}]}}}\n",
        )
        .unwrap();
        assert!(substitute_image(&mut docs, "x").is_err());
    }

    #[test]
    fn deployment_completion_requires_revision_move() {
        let deployment: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "app", "generation": 2,
                "annotations": {"deployment.kubernetes.io/revision": "2"}},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}
        }))
        .unwrap();
        assert!(deployment_complete(&deployment, Some("1")).is_ok());
        assert!(deployment_complete(&deployment, Some("2")).is_err());
        assert!(deployment_complete(&deployment, None).is_ok());
    }
}
