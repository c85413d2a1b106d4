//! Pod Security `restricted` for every scenario workload: the fixtures carry
//! the security contexts (non-root, no privilege escalation, all
//! capabilities dropped, RuntimeDefault seccomp), each scenario namespace is
//! labelled to enforce the level, and the enforcement itself is proved with
//! a server-side dry run of a pod the level forbids: a namespace that admits
//! it would let a non-compliant fixture pass unnoticed.

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, PostParams};
use serde_json::{Value, json};

/// The level scenario namespaces enforce.
pub const LEVEL: &str = "restricted";

/// Namespace labels that make the API server enforce `LEVEL`.
pub fn namespace_labels() -> [(&'static str, &'static str); 2] {
    [
        ("pod-security.kubernetes.io/enforce", LEVEL),
        ("pod-security.kubernetes.io/enforce-version", "latest"),
    ]
}

/// Proves `namespace` refuses a privileged pod (dry run: nothing is made).
pub async fn prove_enforced(client: &Client, namespace: &str) -> anyhow::Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let forbidden: Pod = serde_json::from_value(json!({
        "metadata": {"name": "pod-security-probe"},
        "spec": {"containers": [{
            "name": "probe", "image": "pause",
            "securityContext": {"privileged": true}
        }]}
    }))?;
    let dry_run = PostParams {
        dry_run: true,
        ..Default::default()
    };
    match pods.create(&dry_run, &forbidden).await {
        Err(kube::Error::Api(e)) if e.code == 403 && e.message.contains("PodSecurity") => Ok(()),
        Ok(_) => anyhow::bail!(
            "namespace {namespace} admitted a privileged pod despite \
             pod-security.kubernetes.io/enforce={LEVEL}; hint: the API server's PodSecurity \
             admission is disabled or exempts this user or namespace"
        ),
        Err(e) => Err(anyhow::Error::new(e).context(format!(
            "proving namespace {namespace} enforces Pod Security {LEVEL} (dry-run pod create)"
        ))),
    }
}

/// What keeps a fixture document from the `restricted` level, one line per
/// finding; empty when compliant. Pod specs are found wherever they sit
/// (a Pod, a workload's template); a SidecarSet's containers are judged as
/// containers, since the pod they join brings the pod-level settings.
pub fn violations(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let sidecarset = doc["kind"] == "SidecarSet";
    let mut specs = Vec::new();
    collect_container_lists(doc, "", &mut specs);
    for (path, spec) in specs {
        if !sidecarset {
            found.extend(pod_level(&path, &spec["securityContext"]));
        }
        for container in spec["containers"].as_array().into_iter().flatten() {
            let name = container["name"].as_str().unwrap_or("?");
            found.extend(container_level(
                &format!("{path}container {name}"),
                &container["securityContext"],
            ));
        }
    }
    found
}

fn collect_container_lists<'a>(value: &'a Value, path: &str, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if map.get("containers").is_some_and(Value::is_array) {
                out.push((path.to_string(), value));
            }
            for (key, child) in map {
                collect_container_lists(child, &format!("{path}{key}."), out);
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_container_lists(item, path, out)),
        _ => {}
    }
}

fn pod_level(path: &str, context: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if context["runAsNonRoot"] != true {
        found.push(format!("{path}securityContext.runAsNonRoot is not true"));
    }
    if context["runAsUser"] == 0 {
        found.push(format!("{path}securityContext.runAsUser is 0"));
    }
    if context["seccompProfile"]["type"] != "RuntimeDefault" {
        found.push(format!(
            "{path}securityContext.seccompProfile is not RuntimeDefault"
        ));
    }
    found
}

fn container_level(at: &str, context: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if context["allowPrivilegeEscalation"] != false {
        found.push(format!("{at}: allowPrivilegeEscalation is not false"));
    }
    let drops_all = context["capabilities"]["drop"]
        .as_array()
        .is_some_and(|drop| drop.iter().any(|c| c == "ALL"));
    if !drops_all {
        found.push(format!("{at}: capabilities.drop lacks ALL"));
    }
    if context["privileged"] == true {
        found.push(format!("{at}: privileged"));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::{load_fixture, parse_documents};

    #[test]
    fn every_fixture_document_is_restricted() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for scenario in crate::scenarios::catalog::CATALOG {
            for doc in load_fixture(root, scenario.fixture).unwrap() {
                let found = violations(&doc);
                assert!(found.is_empty(), "{}: {found:?}", scenario.fixture);
            }
        }
    }

    #[test]
    fn a_template_without_security_contexts_is_named_on_each_count() {
        let doc = &parse_documents(
            "kind: CloneSet\nspec: {template: {spec: {containers: [{name: app, image: x}]}}}\n",
        )
        .unwrap()[0];
        let found = violations(doc);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("spec.template.spec.securityContext.runAsNonRoot"));
        assert!(
            found
                .iter()
                .any(|f| f.contains("container app: capabilities"))
        );
    }

    #[test]
    fn a_sidecarset_is_judged_on_its_containers_only() {
        let doc = &parse_documents(
            "kind: SidecarSet\nspec: {containers: [{name: s, securityContext: \
             {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, privileged: true}}]}\n",
        )
        .unwrap()[0];
        assert_eq!(violations(doc), vec!["spec.container s: privileged"]);
    }
}
