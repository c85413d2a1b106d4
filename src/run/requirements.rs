//! What a scenario needs of the cluster beyond OpenKruise itself: kruise
//! feature gates, a Kubernetes minimum, the fixture's APIs at the versions
//! it is written for, a default StorageClass, a schedulable node (enough of
//! them for a fixture that says), kruise-daemon ready on each node a pod
//! may land on. A cluster that lacks one makes the scenario "unsupported
//! here" with the reason and a hint, never a pass and never a half-run
//! scenario. A long-lived cluster's other tenants are not looked at beyond
//! the nodes, StorageClasses and kruise-system.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Client;
use kube::api::Api;
use serde_json::Value;

use crate::scenarios::catalog::Scenario;
use crate::scenarios::plan::ScenarioPlan;

const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";

/// Every requirement of `scenario` the cluster does not meet, one reason
/// (with its hint) each; empty when the scenario can run.
pub async fn unmet(client: &Client, plan: &ScenarioPlan) -> anyhow::Result<Vec<String>> {
    let scenario = plan.scenario;
    let mut reasons = Vec::new();
    let missing =
        crate::observe::kruise::missing_gates(client, scenario.requires_kruise_gates).await?;
    if !missing.is_empty() {
        reasons.push(gates_reason(&missing));
    }
    if let Some(minimum) = minimum_kubernetes(scenario) {
        let version = client.apiserver_version().await?.git_version;
        if !at_least(&version, minimum) {
            reasons.push(format!(
                "Kubernetes {version} is older than v{}.{}, the first to resize pods in place \
                 (pods/resize); hint: qualify on v{}.{} or newer",
                minimum.0, minimum.1, minimum.0, minimum.1
            ));
        }
    }
    let nodes: Api<Node> = Api::all(client.clone());
    let nodes = nodes.list(&Default::default()).await?.items;
    if needs_kruise_daemon(scenario) {
        let system = crate::observe::kruise::SYSTEM_NAMESPACE;
        let sets: Api<DaemonSet> = Api::namespaced(client.clone(), system);
        let installed = sets
            .get_opt(crate::observe::kruise::DAEMON_SET)
            .await?
            .is_some();
        let pods: Api<Pod> = Api::namespaced(client.clone(), system);
        let daemons = pods
            .list(&kube::api::ListParams::default().labels(DAEMON_LABEL))
            .await?
            .items;
        reasons.extend(daemon_unready(installed, &nodes, &daemons));
    }
    let docs = plan.fixture.docs();
    let wanted = plan.fixture.needs_nodes().unwrap_or(1);
    reasons.extend(too_few_nodes(wanted, &nodes));
    reasons.extend(unserved_apis(client, docs).await?);
    if needs_default_storage_class(docs) {
        let classes: Api<StorageClass> = Api::all(client.clone());
        let classes = classes.list(&Default::default()).await?.items;
        if !classes.iter().any(is_default_class) {
            reasons.push(
                "the cluster has no default StorageClass and the fixture's claims name none; \
                 hint: mark one with the annotation storageclass.kubernetes.io/is-default-class=true"
                    .to_string(),
            );
        }
        if let Some(note) = several_defaults(&classes) {
            crate::model::event::note(scenario.name, note);
        }
    }
    Ok(reasons)
}

/// A long-lived cluster may mark several StorageClasses default: handled,
/// since Kubernetes gives an unnamed claim the newest of them (the
/// DefaultStorageClass admission plugin); said, since that is where the
/// PVC marker lives.
fn several_defaults(classes: &[StorageClass]) -> Option<String> {
    let mut defaults: Vec<&StorageClass> = classes.iter().filter(|c| is_default_class(c)).collect();
    if defaults.len() < 2 {
        return None;
    }
    defaults.sort_by_key(|c| c.metadata.creation_timestamp.clone());
    let name = |c: &StorageClass| c.metadata.name.clone().unwrap_or_default();
    let names: Vec<String> = defaults.iter().map(|c| name(c)).collect();
    Some(format!(
        "several default StorageClasses ({}): the fixture's unnamed claims get the newest, {}",
        names.join(", "),
        names.last().cloned().unwrap_or_default()
    ))
}

/// The fixture's kinds the cluster does not serve at the version the
/// fixture is written for (OpenKruise v1.8 serves Advanced DaemonSet only as
/// v1alpha1, for instance).
async fn unserved_apis(client: &Client, docs: &[Value]) -> anyhow::Result<Vec<String>> {
    let mut reasons = Vec::new();
    for doc in docs {
        let gvk = crate::workloads::document_gvk(doc)?;
        if kube::discovery::pinned_kind(client, &gvk).await.is_err() {
            let api = if gvk.group.is_empty() {
                gvk.version.clone()
            } else {
                format!("{}/{}", gvk.group, gvk.version)
            };
            let served = served_versions(client, &gvk.group, &gvk.kind).await;
            reasons.push(format!(
                "the cluster does not serve {api} {}, the API the fixture is written for ({}); \
                 hint: an OpenKruise release that serves it",
                gvk.kind,
                if served.is_empty() {
                    "served at no version".to_string()
                } else {
                    format!("served as {}", served.join(", "))
                }
            ));
        }
    }
    Ok(reasons)
}

/// The versions of `group` that serve `kind`.
async fn served_versions(client: &Client, group: &str, kind: &str) -> Vec<String> {
    let Ok(group) = kube::discovery::group(client, group).await else {
        return Vec::new();
    };
    group
        .versions()
        .filter(|v| {
            group
                .versioned_resources(v)
                .iter()
                .any(|(r, _)| r.kind == kind)
        })
        .map(str::to_string)
        .collect()
}

fn gates_reason(missing: &[String]) -> String {
    format!(
        "kruise-manager runs without {}; hint: add `{}` to its --feature-gates \
         (this project: kind-config/kruise-overlay/patches.yaml)",
        missing.join(", "),
        missing
            .iter()
            .map(|g| format!("{g}=true"))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// The highest Kubernetes minimum among the scenario's changes.
fn minimum_kubernetes(scenario: &Scenario) -> Option<(u32, u32)> {
    scenario
        .changes
        .iter()
        .filter_map(|c| c.minimum_kubernetes())
        .max()
}

/// A change of the scenario is carried out by kruise-daemon on the node.
fn needs_kruise_daemon(scenario: &Scenario) -> bool {
    scenario.changes.iter().any(|c| c.needs_kruise_daemon())
}

/// The label of kruise-daemon's pods (OpenKruise's manifests).
const DAEMON_LABEL: &str = "control-plane=daemon";

/// Why kruise-daemon cannot carry out a change on every node a scenario's
/// pod may land on (each schedulable node): not installed, or no ready
/// kruise-daemon pod on some of them; nothing when each has one. Judged
/// per node, not from the DaemonSet's counts: on a long-lived cluster a
/// node the DaemonSet does not reach (a taint it does not tolerate) is one
/// the scenario's pods can use.
fn daemon_unready(installed: bool, nodes: &[Node], daemons: &[Pod]) -> Option<String> {
    let (ns, name) = (
        crate::observe::kruise::SYSTEM_NAMESPACE,
        crate::observe::kruise::DAEMON_SET,
    );
    let hint = format!(
        "hint: `kubectl -n {ns} describe daemonset {name}` and its pods' events say why \
         (it needs the node's container runtime socket, and must tolerate the node's taints)"
    );
    if !installed {
        return Some(format!(
            "kruise-daemon is not installed (no DaemonSet {ns}/{name}); {hint}"
        ));
    }
    let served = |node: &str| {
        daemons.iter().any(|pod| {
            pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)
                && crate::workloads::pod_ready(pod).is_ok()
        })
    };
    let missing: Vec<&str> = nodes
        .iter()
        .filter(|n| schedulable(n))
        .filter_map(|n| n.metadata.name.as_deref())
        .filter(|n| !served(n))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "kruise-daemon has no ready pod on node(s) {}, where this scenario's pods may land; \
             {hint}",
            missing.join(", ")
        )
    })
}

/// `v1.34.4` (or `v1.35.0-rc.1+k3s1`) is at least `(major, minor)`.
pub fn at_least(git_version: &str, minimum: (u32, u32)) -> bool {
    // An unreadable version is not refused on a guess.
    crate::kubernetes_minor(git_version).is_none_or(|version| version >= minimum)
}

/// A claim (standalone or a template) without `storageClassName` is bound
/// through the cluster's default class.
/// Nodes a workload's pods can land on: not cordoned, no NoSchedule or
/// NoExecute taint (kind's control plane of a multi-node cluster has one).
fn schedulable(node: &Node) -> bool {
    let spec = node.spec.clone().unwrap_or_default();
    !spec.unschedulable.unwrap_or(false)
        && !spec
            .taints
            .iter()
            .flatten()
            .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
}

/// How a reason that is only about the cluster's topology begins.
const TOPOLOGY: &str = "the fixture needs";

/// The scenario cannot run only because the cluster has too few nodes:
/// the test harness reports it ignored with the reason (neither a pass nor
/// a failure of a single-node run), the report UNSUPPORTED.
pub fn topology_only(reason: &str) -> bool {
    reason.starts_with(TOPOLOGY)
        && reason
            .split("; ")
            .all(|part| part.starts_with(TOPOLOGY) || part.starts_with("hint:"))
}

/// Why the cluster has fewer than `wanted` schedulable nodes (1 for any
/// scenario: a cluster whose nodes are all cordoned or tainted runs none).
fn too_few_nodes(wanted: usize, nodes: &[Node]) -> Option<String> {
    let have = nodes.iter().filter(|n| schedulable(n)).count();
    if have == 0 {
        // Not a topology reason: a run on such a cluster fails, loudly.
        return Some(format!(
            "none of the cluster's {} node(s) is schedulable (each is cordoned or tainted \
             NoSchedule/NoExecute, which the fixtures do not tolerate); hint: `kubectl get nodes` \
             and `kubectl describe node` show why; uncordon a node or remove its taint",
            nodes.len()
        ));
    }
    (have < wanted).then(|| {
        format!(
            "{TOPOLOGY} {wanted} schedulable nodes and the cluster has {have} \
             schedulable node(s) of {}; hint: a cluster of several nodes (scripts/test --config \
             kind-config/multi-node.yaml, run --kind-config kind-config/multi-node.yaml)",
            nodes.len()
        )
    })
}

pub fn needs_default_storage_class(docs: &[Value]) -> bool {
    let unnamed = |claim: &Value| claim.pointer("/spec/storageClassName").is_none();
    docs.iter().any(|doc| {
        let standalone = doc["kind"] == "PersistentVolumeClaim" && unnamed(doc);
        let templates = doc
            .pointer("/spec/volumeClaimTemplates")
            .and_then(Value::as_array)
            .is_some_and(|claims| claims.iter().any(unnamed));
        let ephemeral = doc
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .is_some_and(|volumes| {
                volumes
                    .iter()
                    .filter_map(|v| v.pointer("/ephemeral/volumeClaimTemplate"))
                    .any(unnamed)
            });
        standalone || templates || ephemeral
    })
}

fn is_default_class(class: &StorageClass) -> bool {
    class
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
        .is_some_and(|v| v == "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_major_and_minor() {
        assert!(at_least("v1.34.4", (1, 33)));
        assert!(at_least("v1.33.0-rc.1", (1, 33)));
        assert!(!at_least("v1.32.9", (1, 33)));
        assert!(!at_least("v1.9.0+k3s1", (1, 33)));
        assert!(at_least("garbage", (1, 33)));
    }

    #[test]
    fn unnamed_claims_need_the_default_class() {
        let docs = |yaml: &str| crate::workloads::parse_documents(yaml).unwrap();
        let template = docs(
            "kind: CloneSet\nspec:\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {}\n",
        );
        assert!(needs_default_storage_class(&template));
        let named = docs("kind: PersistentVolumeClaim\nspec: {storageClassName: fast}\n");
        assert!(!needs_default_storage_class(&named));
        let standalone = docs("kind: PersistentVolumeClaim\nspec: {}\n");
        assert!(needs_default_storage_class(&standalone));
        assert!(!needs_default_storage_class(&docs(
            "kind: Deployment\nspec: {}\n"
        )));
    }

    #[test]
    fn every_pvc_fixture_is_seen_to_need_storage() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let inplace =
            crate::workloads::load_fixture(root, "fixtures/cloneset-inplace.yaml").unwrap();
        assert!(needs_default_storage_class(&inplace));
        // A DaemonSet's claims come from a generic ephemeral volume.
        let daemon =
            crate::workloads::load_fixture(root, "fixtures/advanced-daemonset-inplace.yaml")
                .unwrap();
        assert!(needs_default_storage_class(&daemon));
    }

    #[test]
    fn resize_scenarios_need_a_recent_kubernetes() {
        let resize = crate::scenarios::catalog::find("pod-resize").unwrap();
        assert_eq!(minimum_kubernetes(resize), Some((1, 33)));
        let image = crate::scenarios::catalog::find("inplace-image").unwrap();
        assert_eq!(minimum_kubernetes(image), None);
    }

    #[test]
    fn the_scenarios_kruise_daemon_carries_out_need_it() {
        let needing: Vec<&str> = crate::scenarios::catalog::CATALOG
            .iter()
            .filter(|s| needs_kruise_daemon(s))
            .map(|s| s.name)
            .collect();
        assert_eq!(
            needing,
            vec![
                "env-from-metadata",
                "image-and-env",
                "prestop-once",
                "container-recreate",
                "fault-daemon-restarted"
            ]
        );
    }

    #[test]
    fn several_default_classes_are_said_with_the_one_claims_get() {
        let class = |name: &str, created: &str, default: bool| -> StorageClass {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": name, "creationTimestamp": created,
                    "annotations": {DEFAULT_CLASS_ANNOTATION: default.to_string()}},
                "provisioner": "x"}))
            .unwrap()
        };
        let one = [class("standard", "2026-01-01T00:00:00Z", true)];
        assert_eq!(several_defaults(&one), None);
        let two = [
            class("fast", "2026-03-01T00:00:00Z", true),
            class("standard", "2026-01-01T00:00:00Z", true),
            class("slow", "2026-05-01T00:00:00Z", false),
        ];
        assert_eq!(
            several_defaults(&two).unwrap(),
            "several default StorageClasses (standard, fast): the fixture's unnamed claims get \
             the newest, fast"
        );
    }

    #[test]
    fn kruise_daemon_is_judged_on_each_node_a_pod_may_use() {
        let node = |name: &str, taint: Option<&str>| -> Node {
            serde_json::from_value(serde_json::json!({"metadata": {"name": name},
                "spec": {"taints": taint.map(|e| vec![serde_json::json!(
                    {"key": "dedicated", "effect": e})]).unwrap_or_default()}}))
            .unwrap()
        };
        let daemon = |on: &str, ready: &str| -> Pod {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": format!("kruise-daemon-{on}")},
                "spec": {"nodeName": on, "containers": []},
                "status": {"conditions": [{"type": "Ready", "status": ready}]}}))
            .unwrap()
        };
        // A tainted node the daemon does not reach is one no scenario pod
        // lands on either: not a reason.
        let nodes = [
            node("cp", Some("NoSchedule")),
            node("w1", None),
            node("w2", None),
        ];
        let both = [daemon("w1", "True"), daemon("w2", "True")];
        assert_eq!(daemon_unready(true, &nodes, &both), None);
        let one = [daemon("w1", "True"), daemon("w2", "False")];
        let reason = daemon_unready(true, &nodes, &one).unwrap();
        assert!(
            reason.starts_with("kruise-daemon has no ready pod on node(s) w2, where"),
            "{reason}"
        );
        assert!(daemon_unready(true, &nodes, &both[..1]).is_some());
        let missing = daemon_unready(false, &nodes, &both).unwrap();
        assert!(
            missing.contains("no DaemonSet kruise-system/kruise-daemon"),
            "{missing}"
        );
        // No node a pod can use: every scenario is refused, and not as a
        // topology reason the test harness would ignore.
        let closed = [
            node("cp", Some("NoSchedule")),
            node("w1", Some("NoExecute")),
        ];
        let reason = too_few_nodes(1, &closed).unwrap();
        assert!(reason.starts_with("none of the cluster's 2 node(s) is schedulable"));
        assert!(!topology_only(&reason));
        assert_eq!(too_few_nodes(1, &nodes), None);
    }

    #[test]
    fn a_spread_fixture_needs_that_many_schedulable_nodes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let load = |f: &str| crate::workloads::Fixture::load(root, f).unwrap();
        assert_eq!(
            load("fixtures/advanced-statefulset-spread.yaml").needs_nodes(),
            Some(3)
        );
        assert_eq!(load("fixtures/cloneset-inplace.yaml").needs_nodes(), None);
        // Needing nodes is not spreading: the cordon fixture needs a node to
        // cordon and one to go to, one pod on either.
        let cordon = load("fixtures/cloneset-cordon-recreate.yaml");
        assert_eq!(cordon.needs_nodes(), Some(2));
        assert_eq!(cordon.spread_nodes(), None);
        for spread in [
            "fixtures/advanced-statefulset-spread.yaml",
            "fixtures/cloneset-graceful-spread.yaml",
        ] {
            assert_eq!(load(spread).spread_nodes(), Some(3), "{spread}");
        }
        let node = |taint: Option<&str>| -> Node {
            serde_json::from_value(serde_json::json!({"metadata": {"name": "n"},
                "spec": {"taints": taint.map(|e| vec![serde_json::json!(
                    {"key": "node-role.kubernetes.io/control-plane", "effect": e})])
                    .unwrap_or_default()}}))
            .unwrap()
        };
        let single = [node(None)];
        let reason = too_few_nodes(3, &single).unwrap();
        assert!(
            reason.contains("needs 3 schedulable nodes")
                && reason.contains("1 schedulable node(s) of 1")
        );
        assert!(topology_only(&reason));
        assert!(!topology_only("kruise-manager runs without X"));
        assert!(!topology_only(&format!(
            "{reason}; the cluster has no default StorageClass"
        )));
        let multi = [node(Some("NoSchedule")), node(None), node(None), node(None)];
        assert_eq!(too_few_nodes(3, &multi), None);
        assert!(too_few_nodes(4, &multi).is_some());
    }

    #[test]
    fn gate_reasons_carry_the_flag_to_add() {
        let reason = gates_reason(&["InPlaceWorkloadVerticalScaling".into()]);
        assert!(reason.contains("hint: add `InPlaceWorkloadVerticalScaling=true`"));
    }
}
