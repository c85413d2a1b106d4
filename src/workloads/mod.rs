//! The workload under test, behind one small trait with one file per kind
//! (kind's `Provider` shape): create from a fixture, list its pods, read its
//! revision, change its pod template, and say when a rollout is done the
//! way its own controller defines "done". A new kind is a new file here and
//! one entry in [`KINDS`].

mod advanced_daemonset;
mod advanced_statefulset;
mod cloneset;
pub mod cordon;
mod deployment;
pub mod premise;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use async_trait::async_trait;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::record::{CreatedAsPlanned, WorkloadRef};
use crate::observe::kruise::pod_condition;

/// One kind of workload: how to recognise it in a fixture and open it.
pub trait Kind: Sync {
    /// The workload kind as the suite names it (the expectation key):
    /// the API kind, or "Advanced StatefulSet" where one name has two APIs.
    fn kind(&self) -> &'static str;
    /// The API group and kind of the object.
    fn api(&self) -> (&'static str, &'static str);
    /// The update strategy as the fixture's object spells it.
    fn strategy(&self, object: &Value) -> String;
    /// The object's fields its scenarios depend on (besides the template
    /// fields every kind shares), compared as planned and as created.
    fn premise_fields(&self) -> &'static [premise::Field];
    fn open(&self, base: Base) -> Box<dyn Workload>;
}

/// Every workload kind the suite drives.
pub const KINDS: &[&dyn Kind] = &[
    &cloneset::CloneSetKind,
    &deployment::DeploymentKind,
    &advanced_statefulset::AdvancedStatefulSetKind,
    &advanced_daemonset::AdvancedDaemonSetKind,
];

/// The kind a fixture document is, if the suite drives it.
pub fn kind_of(doc: &Value) -> Option<&'static dyn Kind> {
    let group = doc["apiVersion"]
        .as_str()?
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or("");
    let kind = doc["kind"].as_str()?;
    KINDS.iter().copied().find(|k| k.api() == (group, kind))
}

/// The fixture annotation that says how many nodes its pods spread over.
pub const NEEDS_NODES: &str = "inplace-conformance/needs-nodes";

/// A created workload.
#[async_trait]
pub trait Workload: Send + Sync {
    fn base(&self) -> &Base;

    /// The controller's revision (CloneSet `status.updateRevision`,
    /// Deployment `deployment.kubernetes.io/revision`).
    async fn revision(&self) -> anyhow::Result<Option<String>>;

    /// How many pods an accepted template change must move to the new
    /// revision (replicas minus partition), from the plan: never from the
    /// object as the cluster returns it, which a webhook may have changed.
    async fn expected_updated(&self) -> anyhow::Result<usize>;

    /// The in-place grace period (`gracePeriodSeconds`) the workload asks
    /// for, if its kind has one.
    async fn grace_seconds(&self) -> anyhow::Result<Option<i64>> {
        Ok(None)
    }

    /// Whether `pod` runs `revision`.
    async fn pod_on_revision(&self, pod: &Pod, revision: &str) -> anyhow::Result<bool>;

    /// First rollout done: `Ok(())`, else the state seen.
    async fn ready_state(&self) -> anyhow::Result<Result<(), String>>;

    /// An update away from `previous` done, judged as the controller judges
    /// it; `old_uids` are the pods before the change.
    async fn update_state(
        &self,
        previous: Option<&str>,
        old_uids: &[String],
    ) -> anyhow::Result<Result<(), String>>;
}

/// What every kind shares: where it lives and how to reach it.
#[derive(Clone)]
pub struct Base {
    pub client: Client,
    pub namespace: String,
    pub reference: WorkloadRef,
    pub resource: ApiResource,
    pub selector: String,
    /// The object as the plan sent it (the fixture, images and namespace
    /// filled in): the source of what the scenario expects.
    pub planned: Value,
}

impl Base {
    pub fn api(&self) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.namespace, &self.resource)
    }

    pub fn pods_api(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    pub async fn object(&self) -> anyhow::Result<DynamicObject> {
        Ok(self.api().get(&self.reference.name).await?)
    }

    /// The plan read into a typed view of the fields a kind reads.
    pub fn planned_as<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
        Ok(serde_json::from_value(self.planned.clone())?)
    }

    /// The object read into a typed view of the fields a kind reads.
    pub async fn typed<T: serde::de::DeserializeOwned>(&self) -> anyhow::Result<T> {
        Ok(serde_json::from_value(serde_json::to_value(
            self.object().await?,
        )?)?)
    }

    /// Every pod of the workload, terminating ones included, by name.
    pub async fn pods(&self) -> anyhow::Result<Vec<Pod>> {
        let params = ListParams::default().labels(&self.selector);
        let mut pods = self.pods_api().list(&params).await?.items;
        pods.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        Ok(pods)
    }

    /// The live (not terminating) pods.
    pub async fn live_pods(&self) -> anyhow::Result<Vec<Pod>> {
        Ok(self
            .pods()
            .await?
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect())
    }

    /// Replaces the pod template with `edit`'s version of it, guarded by
    /// resourceVersion (a JSON patch `test`), so a concurrent change makes
    /// it fail instead of being overwritten, and exactly the edited fields
    /// differ (any other diff would turn an in-place update into a
    /// recreate). The API server's refusal comes back as the error.
    pub async fn edit_template(
        &self,
        edit: &mut (dyn FnMut(&mut Value) -> anyhow::Result<()> + Send),
    ) -> Result<(), kube::Error> {
        let current = self.api().get(&self.reference.name).await?;
        let mut template = current.data["spec"]["template"].clone();
        edit(&mut template)
            .map_err(|e| kube::Error::Service(format!("editing the pod template: {e:#}").into()))?;
        let patch: json_patch::Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/resourceVersion",
             "value": current.metadata.resource_version},
            {"op": "replace", "path": "/spec/template", "value": template},
        ]))
        .expect("a well-formed JSON patch");
        self.api()
            .patch(
                &self.reference.name,
                &PatchParams::default(),
                &Patch::Json::<()>(patch),
            )
            .await?;
        Ok(())
    }

    /// `metadata.generation`.
    pub async fn generation(&self) -> anyhow::Result<Option<i64>> {
        Ok(self.object().await?.metadata.generation)
    }
}

/// The label a cluster-scoped fixture object carries: the scenario
/// namespace it belongs to.
pub const NAMESPACE_LABEL: &str = "inplace-conformance/namespace";

/// Creates every object of a fixture, each container's image set from
/// `images` (by container name), each at the API version the fixture
/// declares (checked to be served); returns the workload among them and
/// the premise that the cluster created each object as planned.
pub async fn create(
    client: &Client,
    namespace: &str,
    fixture: &Fixture,
    images: &BTreeMap<String, String>,
    cluster_objects: &ClusterObjects,
) -> anyhow::Result<(Box<dyn Workload>, CreatedAsPlanned)> {
    let mut docs = fixture.in_namespace(namespace);
    let mut as_planned = CreatedAsPlanned::default();
    substitute_images(&mut docs, images)?;
    let mut workload = None;
    for doc in docs {
        let kind_name = doc["kind"].as_str().unwrap_or_default().to_string();
        let (resource, caps) = served_resource(client, &doc).await?;
        let mut object: DynamicObject = serde_json::from_value(doc.clone())?;
        let cluster_scoped = caps.scope == kube::discovery::Scope::Cluster;
        if cluster_scoped {
            // Found by this label if the run is interrupted before the
            // guard removes it (`cleanup`).
            object
                .metadata
                .labels
                .get_or_insert_with(Default::default)
                .insert(NAMESPACE_LABEL.into(), namespace.into());
        }
        let scope = (!cluster_scoped).then_some(namespace);
        let created = create_strict(client, &resource, scope, &object, false)
            .await
            .with_context(|| {
                format!("creating {kind_name} from {} in {namespace}", fixture.path)
            })?;
        let label = format!(
            "{kind_name} {}:",
            created.metadata.name.as_deref().unwrap_or_default()
        );
        let created_value = serde_json::to_value(&created)?;
        let part = match kind_of(&doc) {
            Some(kind) => premise::compare(kind.premise_fields(), &doc, &created_value),
            None => premise::compare_other(&doc, &created_value),
        };
        premise::merge(&mut as_planned, &label, part);
        if cluster_scoped {
            // The namespace's deletion does not remove it: the guard does.
            let name = created.metadata.name.clone().unwrap_or_default();
            cluster_objects.add(resource.clone(), name);
        }
        if let Some(kind) = kind_of(&doc) {
            let name = created.metadata.name.clone().unwrap_or_default();

            let base = Base {
                client: client.clone(),
                namespace: namespace.to_string(),
                reference: WorkloadRef {
                    api_version: resource.api_version.clone(),
                    kind: kind.kind().to_string(),
                    name,
                    fixture: fixture.path.clone(),
                    strategy: kind.strategy(&doc),
                },
                resource: resource.clone(),
                selector: label_selector(&created.data)?,
                planned: doc.clone(),
            };
            workload = Some(kind.open(base));
        }
    }
    let kinds: Vec<&str> = KINDS.iter().map(|k| k.kind()).collect();
    let workload = workload
        .with_context(|| format!("{} contains none of {}", fixture.path, kinds.join(", ")))?;
    Ok((workload, as_planned))
}

/// Creation that refuses unknown or duplicate fields instead of dropping
/// them (`fieldValidation=Strict`, which kube's PostParams cannot say): a
/// misspelt field in a fixture must not pass as its default.
async fn create_strict(
    client: &Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    object: &DynamicObject,
    dry_run: bool,
) -> Result<DynamicObject, kube::Error> {
    use kube::Resource;
    let url = DynamicObject::url_path(resource, namespace);
    let params = PostParams {
        dry_run,
        ..Default::default()
    };
    let body = serde_json::to_vec(object).map_err(kube::Error::SerdeError)?;
    let mut request = kube::core::Request::new(url)
        .create(&params, body)
        .map_err(kube::Error::BuildRequest)?;
    let uri = request.uri().to_string();
    let joiner = if uri.contains('?') { '&' } else { '?' };
    *request.uri_mut() = format!("{uri}{joiner}fieldValidation=Strict")
        .parse()
        .map_err(|e| kube::Error::Service(Box::new(e)))?;
    client.request::<DynamicObject>(request).await
}

/// A fixture the API server would refuse (unknown field, invalid value, a
/// webhook's denial), found by a strict dry run in `namespace` before any
/// scenario starts. Kinds the cluster does not serve are left to the
/// scenario's requirements (UNSUPPORTED there, not bad input).
pub async fn dry_run_fixture(
    client: &Client,
    fixture: &Fixture,
    namespace: &str,
) -> anyhow::Result<()> {
    for doc in fixture.in_namespace(namespace) {
        let Ok((resource, caps)) = served_resource(client, &doc).await else {
            continue;
        };
        let object: DynamicObject = serde_json::from_value(doc.clone())?;
        let scope = (caps.scope != kube::discovery::Scope::Cluster).then_some(namespace);
        if let Err(kube::Error::Api(e)) =
            create_strict(client, &resource, scope, &object, true).await
            && matches!(e.code, 400 | 422)
        {
            anyhow::bail!(
                "{}: the API server refuses its {}: {}; hint: fix the fixture \
                 (`kubectl explain` names the fields)",
                fixture.path,
                resource.kind,
                e.message
            );
        }
    }
    Ok(())
}

/// The workload kind and strategy a fixture declares (its expectation key),
/// read without a cluster.
pub fn fixture_key(repo_root: &Path, fixture: &str) -> anyhow::Result<(String, String)> {
    Fixture::load(repo_root, fixture)?.key()
}

/// A fixture read and parsed once (by the scenario's plan): its documents,
/// with the namespace placeholder still unresolved.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The path under the repository (`fixtures/NAME.yaml`).
    pub path: String,
    docs: Vec<Value>,
}

/// Stands in for `${NAMESPACE}` in a parsed fixture (YAML-safe, unique).
const NAMESPACE_TOKEN: &str = "ipc-namespace-placeholder";

impl Fixture {
    pub fn load(repo_root: &Path, fixture: &str) -> anyhow::Result<Fixture> {
        Ok(Fixture {
            path: fixture.to_string(),
            docs: load_fixture_in(repo_root, fixture, NAMESPACE_TOKEN)?,
        })
    }

    /// The documents for `namespace` (its name where the fixture writes
    /// `${NAMESPACE}`).
    pub fn in_namespace(&self, namespace: &str) -> Vec<Value> {
        fn fill(value: &mut Value, namespace: &str) {
            match value {
                Value::String(s) if s.contains(NAMESPACE_TOKEN) => {
                    *s = s.replace(NAMESPACE_TOKEN, namespace);
                }
                Value::Array(items) => items.iter_mut().for_each(|v| fill(v, namespace)),
                Value::Object(map) => map.values_mut().for_each(|v| fill(v, namespace)),
                _ => {}
            }
        }
        let mut docs = self.docs.clone();
        docs.iter_mut().for_each(|d| fill(d, namespace));
        docs
    }

    /// The documents as written (offline reads: kinds, key, containers).
    pub fn docs(&self) -> &[Value] {
        &self.docs
    }

    /// The workload kind and strategy it declares (its expectation key).
    pub fn key(&self) -> anyhow::Result<(String, String)> {
        self.docs
            .iter()
            .find_map(|d| {
                let kind = kind_of(d)?;
                Some((kind.kind().to_string(), kind.strategy(d)))
            })
            .with_context(|| format!("{} contains no workload the suite drives", self.path))
    }

    /// Every container it runs: its workload's and those of objects that
    /// inject containers (a SidecarSet's), by name.
    pub fn containers(&self) -> Vec<String> {
        let mut names = Vec::new();
        for doc in &self.docs {
            let containers = match doc.pointer("/spec/template") {
                Some(template) => template_containers(template),
                None if doc.pointer("/spec/containers").is_some() => template_containers(doc),
                None => continue,
            };
            names.extend(containers);
        }
        names
    }

    /// How many schedulable nodes the fixture needs (to spread its pods, or
    /// a node to cordon and one to go to): its workload's
    /// `inplace-conformance/needs-nodes`, if it says.
    pub fn needs_nodes(&self) -> Option<usize> {
        self.docs
            .iter()
            .filter_map(|d| {
                d.pointer("/metadata/annotations")?
                    .get(NEEDS_NODES)?
                    .as_str()
            })
            .filter_map(|n| n.parse().ok())
            .max()
    }

    /// The nodes the fixture spreads its pods over, one pod per node: its
    /// node requirement, when a document keeps its pods apart by required
    /// pod anti-affinity (a fixture may need nodes for another reason: a
    /// node to cordon and one to go to).
    pub fn spread_nodes(&self) -> Option<usize> {
        let spreads = self.docs.iter().any(|d| {
            d.pointer("/spec/template/spec/affinity/podAntiAffinity")
                .or_else(|| d.pointer("/spec/affinity/podAntiAffinity"))
                .is_some()
        });
        self.needs_nodes().filter(|_| spreads)
    }

    /// The workload's `maxUnavailable` when the fixture sets it as a number
    /// (CloneSet: `updateStrategy`; the others: `updateStrategy.rollingUpdate`).
    pub fn max_unavailable(&self) -> Option<i64> {
        self.docs.iter().find_map(|doc| {
            [
                "/spec/updateStrategy/maxUnavailable",
                "/spec/updateStrategy/rollingUpdate/maxUnavailable",
            ]
            .iter()
            .find_map(|p| doc.pointer(p)?.as_i64())
        })
    }

    /// The `maxUnavailable` of the fixture's PodUnavailableBudget, when it
    /// has one that sets a number.
    pub fn budget_max_unavailable(&self) -> Option<i64> {
        self.docs
            .iter()
            .filter(|doc| doc["kind"] == "PodUnavailableBudget")
            .find_map(|doc| doc.pointer("/spec/maxUnavailable")?.as_i64())
    }

    /// The labels of the workload's in-place update hook
    /// (`spec.lifecycle.inPlaceUpdate.labelsHandler`): a pod carrying them
    /// waits in PreparingUpdate until its hook controller (here, the
    /// harness) removes them.
    pub fn in_place_hook(&self) -> Option<BTreeMap<String, String>> {
        self.docs.iter().find_map(|doc| {
            let labels = doc
                .pointer("/spec/lifecycle/inPlaceUpdate/labelsHandler")?
                .as_object()?;
            let labels: BTreeMap<String, String> = labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect();
            (!labels.is_empty()).then_some(labels)
        })
    }

    /// Containers of the workload's pod template with a preStop hook.
    pub fn prestop_hooks(&self) -> Vec<String> {
        self.docs
            .iter()
            .filter_map(|doc| doc.pointer("/spec/template/spec/containers")?.as_array())
            .flatten()
            .filter(|c| c.pointer("/lifecycle/preStop").is_some())
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    }
}

/// Fixtures write `${NAMESPACE}` where the scenario's namespace belongs
/// (a cluster-scoped object's name, a SidecarSet's namespace); without a
/// namespace (reading a fixture offline) it stays a placeholder.
pub const NAMESPACE_PLACEHOLDER: &str = "${NAMESPACE}";

/// All documents of a multi-document YAML fixture, as JSON values.
pub fn load_fixture(repo_root: &Path, fixture: &str) -> anyhow::Result<Vec<Value>> {
    load_fixture_in(repo_root, fixture, "namespace")
}

fn load_fixture_in(repo_root: &Path, fixture: &str, namespace: &str) -> anyhow::Result<Vec<Value>> {
    let path = repo_root.join(fixture);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let text = text.replace(NAMESPACE_PLACEHOLDER, namespace);
    parse_documents(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Every container a fixture runs: its workload's and those of objects
/// that inject containers (a SidecarSet's), by name.
pub fn fixture_containers(repo_root: &Path, fixture: &str) -> anyhow::Result<Vec<String>> {
    Ok(Fixture::load(repo_root, fixture)?.containers())
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

/// The containers of a pod template, in order.
pub fn template_containers(template: &Value) -> Vec<String> {
    template["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Sets the image of each named container in every pod template of `docs`
/// and in every object that lists containers itself (a SidecarSet); every
/// container must get one.
pub fn substitute_images(
    docs: &mut [Value],
    images: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let mut templates = 0;
    for doc in docs.iter_mut() {
        if let Some(template) = doc.pointer_mut("/spec/template") {
            templates += 1;
            set_images(template, images)?;
        } else if doc.pointer("/spec/containers").is_some() {
            set_images(doc, images)?;
        }
    }
    anyhow::ensure!(templates > 0, "fixture has no pod template");
    Ok(())
}

/// Sets container images in one pod template.
pub fn set_images(template: &mut Value, images: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let containers = template
        .pointer_mut("/spec/containers")
        .and_then(Value::as_array_mut)
        .context("pod template without containers")?;
    for container in containers.iter_mut() {
        let name = container["name"].as_str().unwrap_or_default().to_string();
        let image = images
            .get(&name)
            .with_context(|| format!("no image given for container {name}"))?;
        container["image"] = json!(image);
    }
    Ok(())
}

/// The document's kind at the document's version, as the server serves it.
async fn served_resource(
    client: &Client,
    doc: &Value,
) -> anyhow::Result<(ApiResource, kube::discovery::ApiCapabilities)> {
    let gvk = document_gvk(doc)?;
    kube::discovery::pinned_kind(client, &gvk)
        .await
        .with_context(|| format!("{}/{} {} is not served", gvk.group, gvk.version, gvk.kind))
}

/// What a scenario changed outside its namespace, for its cleanup guard:
/// the cluster-scoped objects it created and the nodes it cordoned.
#[derive(Clone, Default)]
pub struct ClusterObjects {
    created: std::sync::Arc<std::sync::Mutex<Vec<(ApiResource, String)>>>,
    cordoned: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ClusterObjects {
    pub fn add(&self, resource: ApiResource, name: String) {
        lock(&self.created).push((resource, name));
    }

    pub fn take(&self) -> Vec<(ApiResource, String)> {
        std::mem::take(&mut *lock(&self.created))
    }

    /// A node cordoned by the scenario, to uncordon however it ends.
    pub fn cordoned(&self, node: &str) {
        let mut nodes = lock(&self.cordoned);
        if !nodes.iter().any(|n| n == node) {
            nodes.push(node.to_string());
        }
    }

    /// A node the scenario uncordoned itself.
    pub fn uncordoned(&self, node: &str) {
        lock(&self.cordoned).retain(|n| n != node);
    }

    /// Uncordons every node left cordoned, then deletes every object
    /// (already gone is fine).
    pub async fn delete_all(&self, client: &Client) -> anyhow::Result<()> {
        let nodes = std::mem::take(&mut *lock(&self.cordoned));
        for node in nodes {
            cordon::uncordon(client, &node)
                .await
                .with_context(|| format!("uncordoning node {node}"))?;
        }
        for (resource, name) in self.take() {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            match api.delete(&name, &Default::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("deleting {} {name}", resource.kind));
                }
            }
        }
        Ok(())
    }
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
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

/// Exactly `replicas` pods (terminating ones count: they are old pods
/// still going), each passing `check`.
pub fn pods_settled(
    pods: &[Pod],
    replicas: usize,
    mut check: impl FnMut(&Pod) -> Result<(), String>,
) -> Result<(), String> {
    if pods.len() != replicas {
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
    pods.iter().try_for_each(&mut check)
}

/// A kruise workload's pod after an update: done on `revision` (kruise's
/// own completion) when it runs that revision, else simply Ready (held
/// back by a partition).
pub fn kruise_pod_settled(pod: &Pod, revision: &str) -> Result<(), String> {
    if crate::observe::kruise::revision_matches(crate::observe::kruise::pod_revision(pod), revision)
    {
        crate::observe::kruise::pod_updated(pod, revision)
    } else {
        pod_ready(pod)
    }
}

/// The pod is live and Ready.
pub fn pod_ready(pod: &Pod) -> Result<(), String> {
    let name = pod.metadata.name.as_deref().unwrap_or("?");
    if pod.metadata.deletion_timestamp.is_some() {
        return Err(format!("pod {name} terminating"));
    }
    match pod_condition(pod, "Ready") {
        Some("True") => Ok(()),
        other => Err(format!("pod {name} Ready={}", other.unwrap_or("absent"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn repo() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    /// Every fixture of the repository (`fixtures/*.yaml`), as the catalog
    /// names them; the catalog's own test checks that it names only these.
    fn fixtures() -> Vec<String> {
        let mut found: Vec<String> = std::fs::read_dir(repo().join("fixtures"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".yaml"))
            .map(|n| format!("fixtures/{n}"))
            .collect();
        found.sort();
        assert!(!found.is_empty());
        found
    }

    /// Every fixture the catalog names parses, names a known kind, and takes
    /// an image for each of its containers.
    #[test]
    fn every_fixture_takes_its_images() {
        for fixture in fixtures() {
            let mut docs = load_fixture(repo(), &fixture).unwrap();
            let workload = docs
                .iter()
                .find(|d| kind_of(d).is_some())
                .unwrap_or_else(|| panic!("{fixture}: no workload"))
                .clone();
            let containers = fixture_containers(repo(), &fixture).unwrap();
            assert!(!containers.is_empty(), "{fixture}");
            let images: BTreeMap<String, String> = containers
                .iter()
                .map(|c| (c.clone(), format!("localhost:5001/x/{c}:v1")))
                .collect();
            substitute_images(&mut docs, &images).unwrap();
            assert!(label_selector(&workload).is_ok());
        }
    }

    #[test]
    fn the_namespace_placeholder_is_filled_in() {
        let docs = load_fixture_in(repo(), "fixtures/cloneset-sidecarset.yaml", "ipc-x-1").unwrap();
        assert_eq!(docs[0]["metadata"]["name"], "ipc-sidecar-ipc-x-1");
        assert_eq!(
            docs[0]["spec"]["namespaceSelector"]["matchLabels"]["inplace-conformance/namespace"],
            "ipc-x-1"
        );
        let containers = fixture_containers(repo(), "fixtures/cloneset-sidecarset.yaml").unwrap();
        assert_eq!(containers, vec!["sidecar", "app"]);
    }

    #[test]
    fn a_container_without_an_image_is_refused() {
        let mut docs = parse_documents(
            "kind: Deployment\nspec: {template: {spec: {containers: [{name: other}]}}}\n",
        )
        .unwrap();
        let images = BTreeMap::from([("app".to_string(), "x".to_string())]);
        let err = substitute_images(&mut docs, &images).unwrap_err();
        assert!(err.to_string().contains("container other"), "{err}");
    }

    #[test]
    fn document_versions_come_from_the_fixture() {
        let docs = load_fixture(repo(), "fixtures/deployment-rolling.yaml").unwrap();
        let gvks: Vec<GroupVersionKind> = docs.iter().map(|d| document_gvk(d).unwrap()).collect();
        assert_eq!(
            gvks[0],
            GroupVersionKind::gvk("", "v1", "PersistentVolumeClaim")
        );
        assert_eq!(gvks[1], GroupVersionKind::gvk("apps", "v1", "Deployment"));
        let cs = load_fixture(repo(), "fixtures/cloneset-inplace.yaml").unwrap();
        let gvk = document_gvk(&cs[0]).unwrap();
        assert_eq!(
            (gvk.group.as_str(), gvk.version.as_str()),
            ("apps.kruise.io", "v1alpha1")
        );
    }

    #[test]
    fn fixtures_mount_the_marker_volumes_from_the_default_class() {
        for fixture in fixtures() {
            let docs = load_fixture(repo(), &fixture).unwrap();
            let text = serde_json::to_string(&docs).unwrap();
            for mount in ["/data/disk", "/data/mem", "/data/pvc"] {
                assert!(text.contains(mount), "{fixture} lacks {mount}");
            }
            assert!(text.contains("\"medium\":\"Memory\""), "{fixture}");
            assert!(!text.contains("storageClassName"), "use the default class");
        }
    }
}
