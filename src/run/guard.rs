//! The scenario's namespace and what the fixture created beside it,
//! removed however the scenario ends (the Kubernetes e2e framework's
//! deferred cleanup): pass, failed check, early error, panic, a dropped
//! future; diagnostics first when it failed.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};

use crate::environment::Environment;
use crate::environment::cluster::Cluster;
use crate::environment::config::RunConfig;
use crate::model::event::{self};
use crate::scenarios::plan::ScenarioPlan;
use crate::workloads::ClusterObjects;
use crate::workloads::Fixture;

pub async fn create_namespace(
    client: &Client,
    namespace: &str,
    scenario: &str,
    run_id: &str,
) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let object = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.to_string()),
            labels: Some(
                [
                    ("app.kubernetes.io/part-of", "inplace-conformance"),
                    ("inplace-conformance/scenario", scenario),
                    // What `cleanup --run-id` finds after an interruption.
                    (crate::environment::interrupt::RUN_LABEL, run_id),
                    // Marks the namespace as the suite's own: the policy of
                    // rbac/inplace-conformance.yaml lets the suite's account
                    // write only in namespaces labelled with their own name,
                    // and a SidecarSet reach only them.
                    (crate::workloads::NAMESPACE_LABEL, namespace),
                ]
                .into_iter()
                .chain(crate::run::pod_security::namespace_labels())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ),
            ..Default::default()
        },
        ..Default::default()
    };
    match api.create(&PostParams::default(), &object).await {
        Err(kube::Error::Api(e)) if e.code == 409 => anyhow::bail!(
            "namespace {namespace} already exists: another run uses it or an interrupted one left \
             it; hint: `inplace-conformance cleanup --run-id ID` removes a run's namespaces, \
             `kubectl delete namespace {namespace}` this one"
        ),
        created => created.with_context(|| format!("creating namespace {namespace}"))?,
    };
    Ok(())
}

/// Deletes the scenario's namespace when the scenario ends, however it
/// ends (the Kubernetes e2e framework's deferred cleanup). `finish` is the
/// normal path; if the guard is dropped unfinished (a cancelled future),
/// `Drop` asks for the deletion from a thread of its own with a fresh
/// client, because the scenario's runtime may be going away.
pub(crate) struct NamespaceGuard {
    pub(crate) config: RunConfig,
    pub(crate) kubeconfig: PathBuf,
    pub(crate) client: Client,
    pub(crate) namespace: String,
    pub(crate) scenario: String,
    /// Cluster-scoped objects the fixture created (a SidecarSet).
    pub(crate) cluster_objects: ClusterObjects,
    pub(crate) finished: bool,
    pub(crate) fixture: Fixture,
    pub(crate) started: Timestamp,
    pub(crate) env: Arc<dyn Environment>,
    /// The diagnostics bundle of a failed scenario.
    pub(crate) bundle: Option<PathBuf>,
}

impl NamespaceGuard {
    pub(crate) fn new(
        config: &RunConfig,
        env: Arc<dyn Environment>,
        namespace: &str,
        plan: &ScenarioPlan,
    ) -> NamespaceGuard {
        let scenario = plan.scenario;
        NamespaceGuard {
            fixture: plan.fixture.clone(),
            started: Timestamp::now(),
            bundle: None,
            config: config.clone(),
            kubeconfig: env.info().kubeconfig.clone(),
            client: env.client(),
            env,
            namespace: namespace.to_string(),
            scenario: scenario.name.to_string(),
            cluster_objects: ClusterObjects::default(),
            finished: false,
        }
    }

    pub(crate) fn say(&self, message: &str) {
        event::note(&self.scenario, message);
    }

    /// Diagnostics on failure; the namespace deleted unless a failed run's
    /// namespace is to be kept.
    pub(crate) async fn finish(&mut self, ok: bool) {
        self.finished = true;
        if !ok {
            let source = crate::run::diagnostics::Source {
                client: &self.client,
                namespace: &self.namespace,
                repo_root: &self.config.repo_root,
                fixture: &self.fixture,
                since: self.started,
                nodes: self.env.nodes(),
            };
            match crate::run::diagnostics::write(
                &source,
                &self.config.diagnostics_dir(),
                &self.scenario,
            )
            .await
            {
                Ok(path) => {
                    self.say(&format!("diagnostics in {}", path.display()));
                    self.bundle = Some(path);
                }
                Err(err) => self.say(&format!("warning: diagnostics: {err:#}")),
            }
            if self.config.keep_on_failure {
                self.say(&format!(
                    "kept namespace {} for inspection (INPLACE_KEEP_ON_FAILURE=1)",
                    self.namespace
                ));
                return;
            }
        }
        if let Err(err) = self.cluster_objects.delete_all(&self.client).await {
            self.say(&format!("warning: cleanup: {err:#}"));
        }
        if let Err(err) = self.delete().await {
            self.say(&format!("warning: cleanup: {err:#}"));
        }
    }

    pub(crate) async fn delete(&self) -> anyhow::Result<()> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let Some(ns) = api.get_opt(&self.namespace).await? else {
            return Ok(());
        };
        self.release_budgets_first().await;
        api.delete(&self.namespace, &DeleteParams::background())
            .await
            .with_context(|| format!("deleting namespace {}", self.namespace))?;
        self.stop_pods_now().await;
        self.release_claims_now().await;
        // Not waited for here: the run waits for all its namespaces once,
        // at its end, while the next scenarios already run.
        let uid = ns.metadata.uid.unwrap_or_default();
        crate::run::cleanup::deleting(&self.client, &self.namespace, &uid);
        Ok(())
    }
}

impl NamespaceGuard {
    /// Deletes the namespace's pods without a grace period, once the
    /// namespace is terminating (so no controller can create more): the
    /// namespace controller otherwise waits the pods' grace period (5 s in
    /// the fixtures) between its passes, and a namespace took 11.5 s to go
    /// (5.5 s with this). The scenario is over: nothing judges these pods.
    async fn stop_pods_now(&self) {
        let now = DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::background()
        };
        self.delete_all::<Pod>("a pod", &now).await;
    }

    /// Deletes the fixture's PodUnavailableBudgets before anything else:
    /// kruise's webhook refuses to delete a pod the budget protects ("pub
    /// unavailable allowed is negative"), even in a terminating namespace.
    async fn release_budgets_first(&self) {
        if self.fixture.budget_max_unavailable().is_none() {
            return;
        }
        let api: Api<kube::api::DynamicObject> = Api::namespaced_with(
            self.client.clone(),
            &self.namespace,
            &crate::observe::budget::resource(),
        );
        let names = match api.list(&Default::default()).await {
            Ok(list) => list.items.into_iter().filter_map(|o| o.metadata.name),
            Err(err) => {
                self.say(&format!("warning: cleanup: listing the budgets: {err}"));
                return;
            }
        };
        for name in names.collect::<Vec<_>>() {
            if let Err(err) = api.delete(&name, &DeleteParams::background()).await {
                self.say(&format!("warning: cleanup: deleting budget {name}: {err}"));
            }
        }
    }

    /// Deletes the namespace's claims right after its pods: the claim
    /// protection then lets them go before the namespace controller's first
    /// pass (5 s after the namespace's deletion). Left to that pass, a
    /// claim still carries its protection finalizer there, and the
    /// namespace waited for a second pass: 10.4 s instead of about 5.
    async fn release_claims_now(&self) {
        self.delete_all::<PersistentVolumeClaim>("a claim", &DeleteParams::background())
            .await;
    }

    /// Deletes every object of kind `K` in the namespace, one by one (the
    /// account may delete, not delete collections); a failure is a warning.
    async fn delete_all<K>(&self, what: &str, params: &DeleteParams)
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope>
            + Clone
            + std::fmt::Debug
            + serde::de::DeserializeOwned,
        K::DynamicType: Default,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), &self.namespace);
        let Ok(list) = api.list(&Default::default()).await else {
            return;
        };
        let deletions = list
            .items
            .iter()
            .filter_map(|o| o.meta().name.as_deref())
            .map(|name| api.delete(name, params));
        for result in futures::future::join_all(deletions).await {
            if let Err(err) = result
                && !matches!(&err, kube::Error::Api(s) if s.code == 404)
            {
                self.say(&format!("warning: cleanup: deleting {what}: {err}"));
            }
        }
    }
}

impl Drop for NamespaceGuard {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let (kubeconfig, namespace) = (self.kubeconfig.clone(), self.namespace.clone());
        let objects = self.cluster_objects.clone();
        event::note(
            &self.scenario,
            format!("dropped unfinished: deleting namespace {namespace}"),
        );
        let deleted =
            std::thread::spawn(move || delete_detached(&kubeconfig, &namespace, &objects)).join();
        if !matches!(deleted, Ok(Ok(()))) {
            event::warn(
                &self.scenario,
                format!("could not delete namespace {}", self.namespace),
            );
        }
    }
}

/// Deletion request on a runtime and client of its own.
pub(crate) fn delete_detached(
    kubeconfig: &std::path::Path,
    namespace: &str,
    objects: &ClusterObjects,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let cluster = Cluster {
            name: String::new(),
            kubeconfig: kubeconfig.to_path_buf(),
            kind_node: None,
        };
        let client = cluster.client().await?;
        objects.delete_all(&client).await?;
        let api: Api<Namespace> = Api::all(client);
        api.delete(namespace, &DeleteParams::background()).await?;
        Ok(())
    })
}
