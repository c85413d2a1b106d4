//! Proof by attempt that the suite's account can do no harm outside the
//! namespaces a run creates (README, "Least privilege"): each entry of
//! [`attempts`] is a request the account must not get through (exec into a
//! kube-system pod, delete a namespace that is not the suite's, a
//! SidecarSet reaching another namespace, ...), sent to the real API
//! server, and the answer recorded; a few controls must get through, so
//! that a denial is the policy's and not a broken token's.
//!
//! Every write is a server-side dry run: it is authorized and admitted
//! exactly as the real request (RBAC, admission policies, webhooks), but
//! nothing is stored, so a guard that fails to deny harms nothing.
//! Exec and reads have no dry run; they change nothing either.

use std::path::{Path, PathBuf};

use anyhow::Context;
use futures::future::BoxFuture;
use k8s_openapi::api::authorization::v1::{SelfSubjectRulesReview, SelfSubjectRulesReviewSpec};
use k8s_openapi::api::core::v1::{Namespace, Node, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::Client;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, LogParams, Patch,
    PatchParams, PostParams,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::environment::config::RunConfig;
use crate::run::access::{self, Grants};
use crate::workloads::NAMESPACE_LABEL;

/// What the attempt must come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// Refused by the API server (HTTP 403).
    Denied,
    /// A control: the account's own work, which must get through.
    Allowed,
}

/// One request the account makes, and what it must come to.
pub struct Attempt {
    pub name: &'static str,
    pub what: &'static str,
    pub expect: Expect,
    pub send: for<'a> fn(&'a Target) -> BoxFuture<'a, Result<String, kube::Error>>,
}

/// Where the attempts aim: the account's own namespace (made for them,
/// as a run makes one) and the node whose static pods are kube-system's.
pub struct Target {
    pub client: Client,
    pub namespace: String,
    pub node: String,
}

/// What the API server answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// HTTP status: 403 denied, 200/201 allowed (dry run), else an error.
    pub code: u16,
    /// Which layer answered: RBAC, the policy, an admission plugin.
    pub by: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub name: String,
    pub what: String,
    pub expect: Expect,
    pub answer: Answer,
    pub ok: bool,
}

/// The account's limits, as the API server reports them per namespace
/// (SelfSubjectRulesReview, what `kubectl auth can-i --list -n NS` shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    pub namespace: String,
    pub rules: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessReport {
    pub identity: String,
    pub cluster: String,
    pub outcomes: Vec<Outcome>,
    pub rules: Vec<Rules>,
}

impl AccessReport {
    pub fn failures(&self) -> Vec<&Outcome> {
        self.outcomes.iter().filter(|o| !o.ok).collect()
    }
}

fn dry_post() -> PostParams {
    PostParams {
        dry_run: true,
        ..Default::default()
    }
}

fn dry_delete() -> DeleteParams {
    DeleteParams {
        dry_run: true,
        ..Default::default()
    }
}

/// A pod Pod Security `restricted` admits: only the account's rights decide.
fn harmless_pod() -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": "inplace-conformance-attempt"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "runAsUser": 65532,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "inplace-conformance/none:v0",
                "securityContext": {"allowPrivilegeEscalation": false,
                                    "capabilities": {"drop": ["ALL"]}}}]
        }
    }))
    .expect("a literal pod")
}

fn sidecarset(namespace: &str, spec_extra: Value) -> DynamicObject {
    let mut spec = json!({
        "selector": {"matchLabels": {"inplace-conformance/attempt": "yes"}},
        "containers": [{"name": "sidecar", "image": "inplace-conformance/none:v0"}]
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), spec_extra.as_object()) {
        spec.extend(extra.clone());
    }
    serde_json::from_value(json!({
        "apiVersion": "apps.kruise.io/v1alpha1",
        "kind": "SidecarSet",
        "metadata": {"name": format!("ipc-attempt-{namespace}"),
                     "labels": {NAMESPACE_LABEL: namespace}},
        "spec": spec
    }))
    .expect("a literal SidecarSet")
}

async fn create_sidecarset(t: &Target, extra: Value) -> Result<String, kube::Error> {
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "apps.kruise.io",
        "v1alpha1",
        "SidecarSet",
    ));
    let api: Api<DynamicObject> = Api::all_with(t.client.clone(), &resource);
    api.create(&dry_post(), &sidecarset(&t.namespace, extra))
        .await
        .map(|_| "SidecarSet created (dry run)".into())
}

fn role_binding(role: &str) -> RoleBinding {
    serde_json::from_value(json!({
        "metadata": {"name": "inplace-conformance-attempt"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "inplace-conformance",
                      "namespace": "inplace-conformance"}]
    }))
    .expect("a literal RoleBinding")
}

async fn create_in<K>(t: &Target, namespace: &str, object: K) -> Result<String, kube::Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + Serialize
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::namespaced(t.client.clone(), namespace);
    api.create(&dry_post(), &object).await.map(|_| {
        format!(
            "{} created in {namespace} (dry run)",
            K::kind(&Default::default())
        )
    })
}

fn static_pod(t: &Target) -> String {
    format!("kube-apiserver-{}", t.node)
}

/// Exec as the API server authorizes it (`create pods/exec`), without the
/// WebSocket upgrade, so that a refusal arrives with its Status message.
async fn exec_kube_system(t: &Target) -> Result<String, kube::Error> {
    let path = format!("/api/v1/namespaces/kube-system/pods/{}/exec", static_pod(t));
    let mut request = kube::core::Request::new(path)
        .create(&PostParams::default(), Vec::new())
        .map_err(kube::Error::BuildRequest)?;
    let uri = request.uri().to_string();
    let joiner = if uri.contains('?') { '&' } else { '?' };
    *request.uri_mut() = format!("{uri}{joiner}command=true&stdout=true")
        .parse()
        .map_err(|e| kube::Error::Service(Box::new(e)))?;
    t.client
        .request_text(request)
        .await
        .map(|_| "exec accepted".into())
}

async fn logs_kube_system(t: &Target) -> Result<String, kube::Error> {
    let pods: Api<Pod> = Api::namespaced(t.client.clone(), "kube-system");
    pods.logs(
        &static_pod(t),
        &LogParams {
            tail_lines: Some(1),
            ..Default::default()
        },
    )
    .await
    .map(|_| "logs read".into())
}

async fn delete_namespace(t: &Target, name: &str) -> Result<String, kube::Error> {
    let api: Api<Namespace> = Api::all(t.client.clone());
    api.delete(name, &dry_delete())
        .await
        .map(|_| format!("namespace {name} deleted (dry run)"))
}

async fn create_namespace(t: &Target, labels: Value) -> Result<String, kube::Error> {
    let name = format!("{}-other", t.namespace);
    let object: Namespace =
        serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}}))
            .expect("a literal namespace");
    let api: Api<Namespace> = Api::all(t.client.clone());
    api.create(&dry_post(), &object)
        .await
        .map(|_| format!("namespace {name} created (dry run)"))
}

async fn delete_kruise_pod(t: &Target) -> Result<String, kube::Error> {
    let pods: Api<Pod> = Api::namespaced(t.client.clone(), "kruise-system");
    let any = pods
        .list(&ListParams::default().labels("control-plane=controller-manager"))
        .await?;
    let name = any
        .items
        .first()
        .and_then(|p| p.metadata.name.clone())
        .unwrap_or_else(|| "kruise-controller-manager".into());
    pods.delete(&name, &dry_delete())
        .await
        .map(|_| format!("pod {name} deleted (dry run)"))
}

async fn label_foreign_namespace(t: &Target) -> Result<String, kube::Error> {
    let api: Api<Namespace> = Api::all(t.client.clone());
    let patch = json!({"metadata": {"labels": {NAMESPACE_LABEL: "default"}}});
    let params = PatchParams {
        dry_run: true,
        ..Default::default()
    };
    api.patch("default", &params, &Patch::Merge(&patch))
        .await
        .map(|_| "namespace default labelled (dry run)".into())
}

async fn list_secrets(t: &Target, namespace: &str) -> Result<String, kube::Error> {
    let api: Api<Secret> = Api::namespaced(t.client.clone(), namespace);
    api.list(&ListParams::default().limit(1))
        .await
        .map(|l| format!("{} secret(s) listed in {namespace}", l.items.len()))
}

async fn service_with_external_ip(t: &Target) -> Result<String, kube::Error> {
    let service: Service = serde_json::from_value(json!({
        "metadata": {"name": "inplace-conformance-attempt"},
        "spec": {"ports": [{"port": 80}], "externalIPs": ["192.0.2.10"]}
    }))
    .expect("a literal service");
    create_in(t, &t.namespace, service).await
}

async fn claim_naming_a_volume(t: &Target) -> Result<String, kube::Error> {
    let claim: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "inplace-conformance-attempt"},
        "spec": {"accessModes": ["ReadWriteOnce"], "volumeName": "someone-elses-volume",
                 "resources": {"requests": {"storage": "1Mi"}}}
    }))
    .expect("a literal claim");
    create_in(t, &t.namespace, claim).await
}

/// Every attempt, in the order they run and are reported.
pub fn attempts() -> Vec<Attempt> {
    use Expect::{Allowed, Denied};
    vec![
        Attempt {
            name: "exec-kube-system",
            what: "exec into the kube-apiserver pod in kube-system",
            expect: Denied,
            send: |t| Box::pin(exec_kube_system(t)),
        },
        Attempt {
            name: "logs-kube-system",
            what: "read the kube-apiserver pod's logs in kube-system",
            expect: Denied,
            send: |t| Box::pin(logs_kube_system(t)),
        },
        Attempt {
            name: "pod-kube-system",
            what: "create a pod in kube-system",
            expect: Denied,
            send: |t| Box::pin(create_in(t, "kube-system", harmless_pod())),
        },
        Attempt {
            name: "delete-kube-system",
            what: "delete the namespace kube-system",
            expect: Denied,
            send: |t| Box::pin(delete_namespace(t, "kube-system")),
        },
        Attempt {
            name: "delete-kruise-system",
            what: "delete the namespace kruise-system (deletable, not the suite's)",
            expect: Denied,
            send: |t| Box::pin(delete_namespace(t, "kruise-system")),
        },
        Attempt {
            name: "delete-kruise-pod",
            what: "delete kruise-manager's pod in kruise-system (rbac/faults.yaml's grant)",
            expect: Denied,
            send: |t| Box::pin(delete_kruise_pod(t)),
        },
        Attempt {
            name: "namespace-without-labels",
            what: "create a namespace without the suite's labels",
            expect: Denied,
            send: |t| Box::pin(create_namespace(t, json!({}))),
        },
        Attempt {
            name: "namespace-privileged",
            what: "create a namespace with the suite's labels but Pod Security privileged",
            expect: Denied,
            send: |t| {
                let name = format!("{}-other", t.namespace);
                Box::pin(create_namespace(
                    t,
                    json!({NAMESPACE_LABEL: name, crate::environment::interrupt::RUN_LABEL: "attempt",
                           "pod-security.kubernetes.io/enforce": "privileged"}),
                ))
            },
        },
        Attempt {
            name: "label-foreign-namespace",
            what: "label the namespace default as the suite's",
            expect: Denied,
            send: |t| Box::pin(label_foreign_namespace(t)),
        },
        Attempt {
            name: "rolebinding-kube-system",
            what: "bind the suite's namespace role in kube-system",
            expect: Denied,
            send: |t| {
                Box::pin(create_in(
                    t,
                    "kube-system",
                    role_binding(access::NAMESPACE_ROLE),
                ))
            },
        },
        Attempt {
            name: "rolebinding-admin",
            what: "bind the ClusterRole admin in the account's own namespace",
            expect: Denied,
            send: |t| Box::pin(create_in(t, &t.namespace, role_binding("admin"))),
        },
        Attempt {
            name: "sidecarset-every-namespace",
            what: "create a SidecarSet with no namespaceSelector (injects in every namespace)",
            expect: Denied,
            send: |t| Box::pin(create_sidecarset(t, json!({}))),
        },
        Attempt {
            name: "sidecarset-namespace-override",
            what: "create a SidecarSet selecting the own namespace but with spec.namespace: kube-system",
            expect: Denied,
            send: |t| {
                let selector = json!({"matchLabels": {NAMESPACE_LABEL: t.namespace}});
                Box::pin(create_sidecarset(
                    t,
                    json!({"namespace": "kube-system", "namespaceSelector": selector}),
                ))
            },
        },
        Attempt {
            name: "secret-kube-system",
            what: "list Secrets in kube-system",
            expect: Denied,
            send: |t| Box::pin(list_secrets(t, "kube-system")),
        },
        Attempt {
            name: "secret-own-namespace",
            what: "list Secrets in the account's own namespace",
            expect: Denied,
            send: |t| Box::pin(list_secrets(t, &t.namespace)),
        },
        Attempt {
            name: "service-external-ip",
            what: "create a Service with an externalIP in the own namespace",
            expect: Denied,
            send: |t| Box::pin(service_with_external_ip(t)),
        },
        Attempt {
            name: "claim-volume-name",
            what: "create a claim naming an existing volume in the own namespace",
            expect: Denied,
            send: |t| Box::pin(claim_naming_a_volume(t)),
        },
        Attempt {
            name: "control-pod-own-namespace",
            what: "control: create a pod in the account's own namespace",
            expect: Allowed,
            send: |t| Box::pin(create_in(t, &t.namespace, harmless_pod())),
        },
        Attempt {
            name: "control-sidecarset-own-namespace",
            what: "control: create a SidecarSet whose namespaceSelector names the own namespace",
            expect: Allowed,
            send: |t| {
                let selector = json!({"matchLabels": {NAMESPACE_LABEL: t.namespace}});
                Box::pin(create_sidecarset(t, json!({"namespaceSelector": selector})))
            },
        },
    ]
}

/// Which layer refused (or answered), from the API server's message.
pub fn answered_by(code: u16, message: &str) -> &'static str {
    if (200..300).contains(&code) {
        "allowed"
    } else if message.contains("ValidatingAdmissionPolicy") {
        "policy"
    } else if message.contains("attempting to grant RBAC permissions not currently held") {
        "RBAC escalation check"
    } else if message.contains("cannot ") && message.contains("User \"") {
        "RBAC"
    } else if message.contains("may not be deleted") {
        "NamespaceLifecycle"
    } else if message.contains("PodSecurity") {
        "Pod Security"
    } else {
        "API server"
    }
}

fn answer(result: Result<String, kube::Error>) -> Answer {
    match result {
        Ok(what) => Answer {
            code: 200,
            by: "allowed".into(),
            message: what,
        },
        Err(kube::Error::Api(status)) => Answer {
            code: status.code,
            by: answered_by(status.code, &status.message).into(),
            message: status.message.clone(),
        },
        Err(other) => Answer {
            code: 0,
            by: "client".into(),
            message: other.to_string(),
        },
    }
}

/// Whether `answer` is what `expect` asks: denied is a 403, allowed a 2xx.
pub fn as_expected(expect: Expect, answer: &Answer) -> bool {
    match expect {
        Expect::Denied => answer.code == 403,
        Expect::Allowed => (200..300).contains(&answer.code),
    }
}

/// The rules the API server reports for the caller in `namespace`.
async fn rules_in(client: &Client, namespace: &str) -> anyhow::Result<Rules> {
    let api: Api<SelfSubjectRulesReview> = Api::all(client.clone());
    let review = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.into()),
        },
        ..Default::default()
    };
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .with_context(|| format!("SelfSubjectRulesReview in {namespace}"))?;
    let mut rules: Vec<String> = answer
        .status
        .map(|s| s.resource_rules)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let groups = r.api_groups.clone().unwrap_or_default();
            let resources = r.resources.clone().unwrap_or_default();
            let names = r.resource_names.clone().unwrap_or_default();
            let mut line = resources
                .iter()
                .flat_map(|res| {
                    groups.iter().map(move |g| match g.as_str() {
                        "" => res.clone(),
                        g => format!("{res}.{g}"),
                    })
                })
                .collect::<Vec<_>>()
                .join(", ");
            if !names.is_empty() {
                line = format!("{line} [{}]", names.join(", "));
            }
            format!("{line}: {}", r.verbs.join(", "))
        })
        .collect();
    rules.sort();
    rules.dedup();
    Ok(Rules {
        namespace: namespace.into(),
        rules,
    })
}

/// The attempts against the cluster `config` names, written into its run
/// folder: what `check-access` and `cargo test --test privilege` both run.
pub async fn check(config: &RunConfig) -> anyhow::Result<(AccessReport, Vec<PathBuf>)> {
    config.prepare_run_dir()?;
    let cluster = config.acquire_cluster().await?;
    let client = cluster.client().await?;
    let report = run(&client, &cluster.name, &config.run_id).await?;
    let files = write(&report, &config.output_dir)?;
    Ok((report, files))
}

/// One line per attempt, for the terminal.
pub fn lines(report: &AccessReport) -> Vec<String> {
    report
        .outcomes
        .iter()
        .map(|o| {
            format!(
                "{} {}: {} by {} ({}): {}",
                if o.ok { "ok  " } else { "FAIL" },
                o.name,
                o.answer.code,
                o.answer.by,
                match o.expect {
                    Expect::Denied => "must be denied",
                    Expect::Allowed => "must be allowed",
                },
                o.answer.message.lines().next().unwrap_or("")
            )
        })
        .collect()
}

/// Makes the account's own namespace (as a run does), sends every attempt,
/// records the rules it holds, and removes the namespace.
pub async fn run(client: &Client, cluster: &str, run_id: &str) -> anyhow::Result<AccessReport> {
    let me = access::resolve(client).await?;
    if me.grants == Grants::ClusterWide {
        anyhow::bail!(
            "{} has cluster-wide grants: the attempts would prove nothing about the suite's \
             account; hint: run them with the account's kubeconfig (scripts/cluster \
             sa-kubeconfig --name NAME prints it)",
            me.user
        );
    }
    let nodes: Api<Node> = Api::all(client.clone());
    let node = nodes
        .list(&ListParams::default().labels("node-role.kubernetes.io/control-plane"))
        .await?
        .items
        .into_iter()
        .find_map(|n| n.metadata.name)
        .unwrap_or_else(|| "control-plane".into());
    let namespace = format!("ipc-access-{}", crate::short_id());
    crate::run::guard::create_namespace(client, &namespace, "access-checks", run_id).await?;
    let target = Target {
        client: client.clone(),
        namespace: namespace.clone(),
        node,
    };
    let result = attempt_all(&target, &me).await;
    let api: Api<Namespace> = Api::all(client.clone());
    if let Err(err) = api.delete(&namespace, &DeleteParams::default()).await {
        crate::model::event::warn("access-checks", format!("deleting {namespace}: {err}"));
    }
    let (outcomes, rules) = result?;
    Ok(AccessReport {
        identity: me.describe(),
        cluster: cluster.into(),
        outcomes,
        rules,
    })
}

async fn attempt_all(
    target: &Target,
    me: &access::Access,
) -> anyhow::Result<(Vec<Outcome>, Vec<Rules>)> {
    let admitted = me.admit(&target.client, &target.namespace).await;
    let mut outcomes = vec![Outcome {
        name: "control-own-namespace".into(),
        what:
            "control: create a namespace with the suite's labels and bind the namespace role in it"
                .into(),
        expect: Expect::Allowed,
        ok: admitted.is_ok(),
        answer: Answer {
            code: if admitted.is_ok() { 201 } else { 0 },
            by: "allowed".into(),
            message: match &admitted {
                Ok(()) => format!(
                    "namespace {} created, {} bound in it",
                    target.namespace,
                    access::NAMESPACE_ROLE
                ),
                Err(err) => format!("{err:#}"),
            },
        },
    }];
    admitted?;
    for attempt in attempts() {
        let answer = answer((attempt.send)(target).await);
        outcomes.push(Outcome {
            name: attempt.name.into(),
            what: attempt.what.into(),
            expect: attempt.expect,
            ok: as_expected(attempt.expect, &answer),
            answer,
        });
    }
    let mut rules = Vec::new();
    for namespace in ["kube-system", "kruise-system", target.namespace.as_str()] {
        rules.push(rules_in(&target.client, namespace).await?);
    }
    Ok((outcomes, rules))
}

/// A message cut to its first 300 characters (the RBAC escalation check
/// lists every rule it would grant; the JSON keeps the whole text).
fn short(message: &str) -> String {
    match message.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &message[..cut]),
        None => message.to_string(),
    }
}

/// The report as Markdown: the attempts, then the rules per namespace.
pub fn markdown(report: &AccessReport) -> String {
    let mut out = format!(
        "# Least privilege: attempts as the suite's account\n\n\
         Cluster {}, as {}.\n\n\
         | attempt | expected | answer | by | message |\n| --- | --- | --- | --- | --- |\n",
        report.cluster, report.identity
    );
    for o in &report.outcomes {
        out.push_str(&format!(
            "| {}{} | {} | {} | {} | {} |\n",
            if o.ok { "" } else { "**NOT AS EXPECTED** " },
            o.what,
            match o.expect {
                Expect::Denied => "denied",
                Expect::Allowed => "allowed",
            },
            o.answer.code,
            o.answer.by,
            short(&o.answer.message)
                .replace('|', "\\|")
                .replace('\n', " ")
        ));
    }
    for rules in &report.rules {
        out.push_str(&format!(
            "\n## What the account may do in {}\n\n(SelfSubjectRulesReview, as `kubectl auth can-i --list -n {}`)\n\n",
            rules.namespace, rules.namespace
        ));
        for rule in &rules.rules {
            out.push_str(&format!("- {rule}\n"));
        }
    }
    out
}

/// Writes `least-privilege.json` and `least-privilege.md` into `dir`.
pub fn write(report: &AccessReport, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = dir.join("least-privilege.json");
    let md = dir.join("least-privilege.md");
    std::fs::write(&json, serde_json::to_string_pretty(report)?)?;
    std::fs::write(&md, markdown(report))?;
    Ok(vec![json, md])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_is_put_down_to_the_layer_that_made_it() {
        let rbac = "pods \"x\" is forbidden: User \"system:serviceaccount:a:b\" cannot create resource \"pods\"";
        assert_eq!(answered_by(403, rbac), "RBAC");
        assert_eq!(
            answered_by(
                403,
                "ValidatingAdmissionPolicy 'inplace-conformance' with binding 'x' denied request"
            ),
            "policy"
        );
        assert_eq!(
            answered_by(403, "this namespace may not be deleted"),
            "NamespaceLifecycle"
        );
        assert_eq!(
            answered_by(
                403,
                "user \"u\" (groups=[]) is attempting to grant RBAC permissions not currently held"
            ),
            "RBAC escalation check"
        );
        assert_eq!(answered_by(201, ""), "allowed");
    }

    #[test]
    fn only_a_403_counts_as_denied_and_only_a_2xx_as_allowed() {
        let with = |code| Answer {
            code,
            by: String::new(),
            message: String::new(),
        };
        assert!(as_expected(Expect::Denied, &with(403)));
        // Refused for another reason (a bad request, a missing object):
        // not proof that the account was stopped.
        assert!(!as_expected(Expect::Denied, &with(400)));
        assert!(!as_expected(Expect::Denied, &with(404)));
        assert!(!as_expected(Expect::Denied, &with(201)));
        assert!(as_expected(Expect::Allowed, &with(201)));
        assert!(!as_expected(Expect::Allowed, &with(403)));
    }

    #[test]
    fn the_table_has_unique_names_and_controls_beside_the_denials() {
        let all = attempts();
        let mut names: Vec<_> = all.iter().map(|a| a.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.iter().any(|a| a.expect == Expect::Allowed));
        assert!(all.iter().filter(|a| a.expect == Expect::Denied).count() >= 8);
    }
}
