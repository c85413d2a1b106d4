//! The runner shared by the cargo test suites and the CLI. A run observes
//! first and judges afterwards: it records everything (`observe`), writes
//! the record, re-renders the report, and only then fails if a check
//! failed. The scenario's namespace is removed by a guard whatever happens
//! (pass, failed check, early error, panic, a dropped future), unless the
//! user asked to keep a failed one.

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};
use kube::runtime::watcher;

use crate::changes::{ActsOn, Change, Plan, Target};
use crate::environment::cluster::{self, Cluster};
use crate::environment::config::RunConfig;
use crate::environment::images::{self, ImageSlot};
use crate::environment::interrupt;
use crate::environment::settings::Settings;
use crate::environment::{self as env_mod, Environment};
use crate::faults::{FaultContext, FaultPoint};
use crate::judge::assess::{self, Check};
use crate::model::event::{self, Event};
use crate::model::record::{
    Admission, ChangeRecord, ClusterFacts, EventRecord, ImageRef, PodSnapshot, PodStep,
    QuietWindow, RECORD_SCHEMA, ScenarioRecord, UpdateStep, WorkloadRef,
};
use crate::model::verdict::Verdict;
use crate::observe::events;
use crate::observe::kruise;
use crate::observe::probe::{Probe, ThroughputPlan};
use crate::observe::wait::{self, Poll, WaitContext};
use crate::scenarios::catalog::Scenario;
use crate::scenarios::expect;
use crate::scenarios::plan::ScenarioPlan;
use crate::workloads::Fixture;
use crate::workloads::{self, ClusterObjects, Workload};

/// A finished scenario whose checks all passed (or were inconclusive).
#[derive(Debug)]
pub struct ScenarioOutcome {
    pub record: ScenarioRecord,
    pub checks: Vec<Check>,
    pub observations: PathBuf,
}

/// Runs one scenario by name with the configuration from the environment.
pub async fn run(name: &str) -> anyhow::Result<ScenarioOutcome> {
    let config = RunConfig::from_env()?;
    let plan = ScenarioPlan::by_name(&config.repo_root, name)?;
    run_with(&config, &plan).await
}

/// Why a scenario did not pass, when it is not a failed check.
#[derive(Debug, thiserror::Error)]
pub enum NotRun {
    /// The cluster cannot run it (recorded UNSUPPORTED).
    #[error("scenario {scenario} unsupported here: {reason}")]
    Unsupported { scenario: String, reason: String },
    /// A signal stopped it (recorded INTERRUPTED).
    #[error("scenario {scenario} interrupted by {signal}")]
    Interrupted { scenario: String, signal: String },
}

/// Runs one scenario (see `run_scenario`), announcing its start and its
/// verdict on the event stream.
pub async fn run_with(config: &RunConfig, plan: &ScenarioPlan) -> anyhow::Result<ScenarioOutcome> {
    let scenario = plan.scenario;
    let started = Instant::now();
    let result = run_scenario(config, plan).await;
    let verdict = match &result {
        Ok(_) => Verdict::Pass,
        Err(err) => match err.downcast_ref::<NotRun>() {
            Some(NotRun::Unsupported { .. }) => Verdict::Unsupported,
            Some(NotRun::Interrupted { .. }) => Verdict::Interrupted,
            None if interrupt::interrupted() => Verdict::Interrupted,
            None => Verdict::Fail,
        },
    };
    event::emit(Event::ScenarioFinished {
        scenario: scenario.name.to_string(),
        verdict,
        seconds: started.elapsed().as_secs_f64(),
        failures: result
            .as_ref()
            .err()
            .map(|e| vec![format!("{e:#}")])
            .unwrap_or_default(),
    });
    result
}

/// Runs one scenario: cluster, namespace, images, workload, changes,
/// record; fails (after recording) if any check failed.
async fn run_scenario(config: &RunConfig, plan: &ScenarioPlan) -> anyhow::Result<ScenarioOutcome> {
    let scenario = plan.scenario;
    let key = (&plan.kind, &plan.strategy);
    config.prepare_run_dir()?;
    stop_if_interrupted(scenario)?;
    let cluster = cluster::acquire(&config.cluster, &config.repo_root, &config.locks_dir()).await?;
    crate::run::cleanup::on_interrupt(|plan| {
        plan.repo_root = config.repo_root.clone();
        plan.run_id = config.run_id.clone();
        plan.kubeconfig = Some(cluster.kubeconfig.clone());
    });
    let env = env_mod::connect(&cluster, &config.repo_root).await?;
    let client = env.client();
    kruise::preflight(&client).await.map_err(|e| {
        anyhow::anyhow!(
            "cluster {} has no ready OpenKruise: {}; hint: `scripts/cluster up --name {}` \
             installs it",
            cluster.name,
            kruise::error_text(&e),
            cluster.name
        )
    })?;
    let mut unmet = crate::run::requirements::unmet(&client, plan).await?;
    if let Some(why) = scenario
        .fault
        .and_then(|f| f.unsupported(env.info().node_access))
    {
        unmet.push(why);
    }
    if !unmet.is_empty() {
        return Err(unsupported(config, plan, env.as_ref(), &unmet.join("; ")).await);
    }
    let namespace = format!("ipc-{}-{}", scenario.name, crate::short_id());
    stop_if_interrupted(scenario)?;
    create_namespace(&client, &namespace, scenario.name, &config.run_id).await?;
    let cluster_objects = ClusterObjects::default();
    let mut guard = NamespaceGuard::new(config, env.clone(), &namespace, plan);
    guard.cluster_objects = cluster_objects.clone();
    crate::run::pod_security::prove_enforced(&client, &namespace).await?;
    event::emit(Event::ScenarioStarted {
        scenario: scenario.name.to_string(),
        namespace: namespace.clone(),
        summary: format!("{} ({}, {})", scenario.summary, key.0, key.1),
    });
    let facts_env = env.clone();
    let mut session = Session::new(config, plan, env, namespace.clone());
    session.cluster_objects = cluster_objects;
    let recorded = tokio::select! {
        recorded = AssertUnwindSafe(session.record()).catch_unwind() => Some(recorded),
        () = interrupt::cancelled() => None,
    };
    let record = match recorded {
        Some(Ok(record)) => record,
        Some(Err(panic)) => {
            guard.finish(false).await;
            std::panic::resume_unwind(panic);
        }
        None => {
            // Cut short: what it created goes, and the record says why it
            // has no verdict of its own.
            guard.finish(true).await;
            let signal = interrupt::signal().unwrap_or("a signal").to_string();
            let mut record = blank_record(config, plan, namespace);
            let facts = cluster_facts(facts_env.as_ref(), &config.cell);
            if let Ok(facts) = tokio::time::timeout(std::time::Duration::from_secs(10), facts).await
            {
                record.cluster = facts;
            }
            record.finished_at = crate::now_rfc3339();
            record.interrupted = Some(signal.clone());
            record.save(&config.observations_dir())?;
            return Err(NotRun::Interrupted {
                scenario: scenario.name.to_string(),
                signal,
            }
            .into());
        }
    };
    let judged = judge_and_save(config, &record);
    let ok = judged
        .as_ref()
        .is_ok_and(|(checks, _)| assess::failures(checks).is_empty())
        && record.error.is_none();
    guard.finish(ok).await;
    let (checks, observations) = judged?;
    if !ok {
        let bundle = guard
            .bundle
            .as_ref()
            .map(|b| format!("; diagnostics {}", b.display()))
            .unwrap_or_default();
        anyhow::bail!(
            "scenario {} failed: {}; observations {}{bundle}",
            scenario.name,
            describe_failures(&record, &assess::failures(&checks)),
            observations.display(),
        );
    }
    Ok(ScenarioOutcome {
        record,
        checks,
        observations,
    })
}

/// After a signal nothing new is created.
fn stop_if_interrupted(scenario: &Scenario) -> anyhow::Result<()> {
    match interrupt::signal() {
        Some(signal) => Err(NotRun::Interrupted {
            scenario: scenario.name.to_string(),
            signal: signal.to_string(),
        }
        .into()),
        None => Ok(()),
    }
}

/// Records that the cluster cannot run the scenario (the report shows it
/// UNSUPPORTED, never PASS) and returns the error that fails its test.
async fn unsupported(
    config: &RunConfig,
    plan: &ScenarioPlan,
    env: &dyn Environment,
    reason: &str,
) -> anyhow::Error {
    let scenario = plan.scenario;
    let reason = reason.to_string();
    let mut record = blank_record(config, plan, String::new());
    record.cluster = cluster_facts(env, &config.cell).await;
    record.finished_at = record.started_at.clone();
    record.unsupported = Some(reason.clone());
    if let Err(err) = record.save(&config.observations_dir()) {
        event::warn(scenario.name, format!("saving the record: {err:#}"));
    }
    NotRun::Unsupported {
        scenario: scenario.name.to_string(),
        reason,
    }
    .into()
}

/// A record of the scenario with nothing observed yet.
fn blank_record(config: &RunConfig, plan: &ScenarioPlan, namespace: String) -> ScenarioRecord {
    let scenario = plan.scenario;
    ScenarioRecord {
        schema: RECORD_SCHEMA,
        scenario: scenario.name.to_string(),
        summary: scenario.summary.to_string(),
        seed_column: scenario.seed_column.map(str::to_string),
        namespace,
        started_at: crate::now_rfc3339(),
        finished_at: String::new(),
        cluster: ClusterFacts::default(),
        image_delivery: config.delivery,
        workload: WorkloadRef {
            fixture: scenario.fixture.to_string(),
            ..Default::default()
        },
        initial_images: BTreeMap::new(),
        steps: Vec::new(),
        throughput: None,
        kruise_components: Vec::new(),
        kruise_components_at_start: Vec::new(),
        notes: Default::default(),
        error: None,
        unsupported: None,
        faults: Vec::new(),
        interrupted: None,
        created_as_planned: None,
        plan: Some(plan.record()),
    }
}

/// Saves the record and judges it, once: the run folder is rendered when
/// the run ends, from the saved records.
fn judge_and_save(
    config: &RunConfig,
    record: &ScenarioRecord,
) -> anyhow::Result<(Vec<Check>, PathBuf)> {
    let observations = record.save(&config.observations_dir())?;
    Ok((assess::scenario_checks(record), observations))
}

fn describe_failures(record: &ScenarioRecord, failed: &[&Check]) -> String {
    let mut parts: Vec<String> = record
        .error
        .iter()
        .map(|e| format!("stopped early: {e}"))
        .collect();
    parts.extend(failed.iter().map(|c| {
        format!(
            "[{}] expected {}, observed {}",
            c.name, c.expected, c.observed
        )
    }));
    parts.join("; ")
}

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
struct NamespaceGuard {
    config: RunConfig,
    kubeconfig: PathBuf,
    client: Client,
    namespace: String,
    scenario: String,
    /// Cluster-scoped objects the fixture created (a SidecarSet).
    cluster_objects: ClusterObjects,
    finished: bool,
    fixture: Fixture,
    started: Timestamp,
    env: Arc<dyn Environment>,
    /// The diagnostics bundle of a failed scenario.
    bundle: Option<PathBuf>,
}

impl NamespaceGuard {
    fn new(
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

    fn say(&self, message: &str) {
        event::note(&self.scenario, message);
    }

    /// Diagnostics on failure; the namespace deleted unless a failed run's
    /// namespace is to be kept.
    async fn finish(&mut self, ok: bool) {
        self.finished = true;
        if !ok {
            let source = crate::run::diagnostics::Source {
                client: &self.client,
                namespace: &self.namespace,
                repo_root: &self.config.repo_root,
                fixture: &self.fixture,
                since: self.started,
                node: self.env.nodes().first().map(|n| n.as_ref()),
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

    async fn delete(&self) -> anyhow::Result<()> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let Some(ns) = api.get_opt(&self.namespace).await? else {
            return Ok(());
        };
        api.delete(&self.namespace, &DeleteParams::background())
            .await
            .with_context(|| format!("deleting namespace {}", self.namespace))?;
        let uid = ns.metadata.uid.unwrap_or_default();
        let gone = kube::runtime::wait::await_condition(
            api,
            &self.namespace,
            kube::runtime::wait::conditions::is_deleted(&uid),
        );
        tokio::time::timeout(self.config.timeouts.cleanup, gone)
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "namespace {} still there after {:?}",
                    self.namespace,
                    self.config.timeouts.cleanup
                )
            })??;
        Ok(())
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

/// A controller whose pod update the API server refused as invalid will
/// not succeed by waiting: stop with its message instead of at the
/// deadline. Conflicts ("the object has been modified") are retried by the
/// controller and do not count.
async fn refused_pod_update(client: &Client, namespace: &str) -> anyhow::Result<Option<String>> {
    let events = events::list(client, namespace).await?;
    let refused = events.iter().map(events::record).find(|e| {
        e.reason == "FailedUpdatePodInPlace"
            && e.message.contains("is invalid")
            && e.message.contains("Forbidden")
    });
    Ok(refused.map(|event| {
        format!(
            "{} {} reports {}: {}",
            event.object_kind,
            event.object_name,
            event.reason,
            event
                .message
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        )
    }))
}

/// Deletion request on a runtime and client of its own.
fn delete_detached(
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

/// One scenario in its namespace.
struct Session<'a> {
    config: &'a RunConfig,
    scenario: &'static Scenario,
    /// The scenario as resolved before anything was created.
    plan: &'a ScenarioPlan,
    env: Arc<dyn Environment>,
    client: Client,
    namespace: String,
    ctx: WaitContext,
    probe: Probe,
    cluster_objects: ClusterObjects,
    /// Faults injected so far (the record takes them, error or not).
    faults: std::sync::Mutex<Vec<crate::model::record::FaultRecord>>,
}

/// The slot name of container `c`'s image at step `step` (0 = creation).
fn slot_name(step: usize, container: &str) -> String {
    format!("s{step}-{container}")
}

/// The images a scenario needs: v1 for every container at creation, then
/// what each change asks for.
pub fn image_slots(
    containers: &[String],
    changes: &[&dyn Change],
    initial_version: &str,
) -> Vec<ImageSlot> {
    let initial = containers.iter().map(|c| ImageSlot {
        name: slot_name(0, c),
        version: initial_version.into(),
    });
    let later = changes.iter().enumerate().flat_map(|(i, change)| {
        change.images().into_iter().map(move |(c, v)| ImageSlot {
            name: slot_name(i + 1, c),
            version: v.into(),
        })
    });
    initial.chain(later).collect()
}

/// The images delivered for `step`, by container.
fn images_of_step(
    delivered: &BTreeMap<String, ImageRef>,
    step: usize,
) -> BTreeMap<String, ImageRef> {
    let prefix = format!("s{step}-");
    delivered
        .iter()
        .filter_map(|(slot, image)| Some((slot.strip_prefix(&prefix)?.to_string(), image.clone())))
        .collect()
}

/// Pairs the pods before a step with the pods after it: same UID, else
/// same name (a StatefulSet keeps names), else in order (a replacement).
/// Returns (before index, after index).
pub fn pair_pods(before: &[(String, String)], after: &[(String, String)]) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut used = BTreeSet::new();
    let mut unpaired = Vec::new();
    for (i, (uid, name)) in before.iter().enumerate() {
        let found = after
            .iter()
            .position(|(u, _)| u == uid)
            .or_else(|| after.iter().position(|(_, n)| n == name))
            .filter(|j| !used.contains(j));
        match found {
            Some(j) => {
                used.insert(j);
                pairs.push((i, j));
            }
            None => unpaired.push(i),
        }
    }
    let mut free = (0..after.len()).filter(|j| !used.contains(j));
    for i in unpaired {
        if let Some(j) = free.next() {
            pairs.push((i, j));
        }
    }
    pairs.sort();
    pairs
}

impl<'a> Session<'a> {
    fn new(
        config: &'a RunConfig,
        plan: &'a ScenarioPlan,
        env: Arc<dyn Environment>,
        namespace: String,
    ) -> Session<'a> {
        let scenario = plan.scenario;
        let client = env.client();
        let ctx = WaitContext {
            client: client.clone(),
            namespace: namespace.clone(),
            label: scenario.name.to_string(),
        };
        let probe = Probe::new(&client, &namespace, config.timeouts.exec);
        Session {
            config,
            scenario,
            plan,
            env,
            client,
            namespace,
            ctx,
            probe,
            cluster_objects: ClusterObjects::default(),
            faults: Default::default(),
        }
    }

    fn say(&self, message: &str) {
        event::note(self.scenario.name, message);
    }

    /// Always returns a record: on error it holds what completed and the
    /// error, so a failed run is visible in the report.
    async fn record(&self) -> ScenarioRecord {
        let mut record = self.empty_record().await;
        if let Ok(components) = kruise::component_restarts(&self.client).await {
            record.kruise_components_at_start = components;
        }
        if let Err(err) = self.fill(&mut record).await {
            let err = kruise::error_text(&err);
            self.say(&format!("stopped: {err}"));
            record.error = Some(match self.scenario.fault {
                // The verdict names the fault the scenario ran under.
                Some(fault) => format!(
                    "{err} (under fault {}, injected {})",
                    fault.name(),
                    fault.point().describe()
                ),
                None => err,
            });
        }
        record.faults = self.faults.lock().map(|f| f.clone()).unwrap_or_default();
        if let Ok(components) = kruise::component_restarts(&self.client).await {
            record.kruise_components = components;
        }
        record.finished_at = crate::now_rfc3339();
        record
    }

    async fn empty_record(&self) -> ScenarioRecord {
        let mut record = blank_record(self.config, self.plan, self.namespace.clone());
        record.cluster = cluster_facts(self.env.as_ref(), &self.config.cell).await;
        record
    }

    async fn fill(&self, record: &mut ScenarioRecord) -> anyhow::Result<()> {
        let containers = self.plan.containers.clone();
        let settings = Settings::load(&self.config.repo_root)?;
        let slots = image_slots(
            &containers,
            self.scenario.changes,
            settings.workload_versions()?[0],
        );
        self.say(&format!(
            "delivering {} image(s) ({:?})",
            slots.len(),
            self.config.delivery
        ));
        let delivered = images::deliver(
            self.config.image_route(self.env.info().node_access),
            self.env.as_ref(),
            &self.config.repo_root,
            &self.namespace,
            &slots,
        )
        .await?;
        record
            .notes
            .insert("image delivery".into(), delivered.describe());
        let images = delivered.images.clone();
        let observed = self.observe(record, &images).await;
        if let Err(err) = delivered.release(&self.config.repo_root).await {
            self.say(&format!("warning: releasing images: {err:#}"));
        }
        observed
    }

    async fn observe(
        &self,
        record: &mut ScenarioRecord,
        images: &BTreeMap<String, ImageRef>,
    ) -> anyhow::Result<()> {
        record.initial_images = images_of_step(images, 0);
        let references = record
            .initial_images
            .iter()
            .map(|(c, i)| (c.clone(), i.reference.clone()))
            .collect();
        let workload = workloads::create(
            &self.client,
            &self.namespace,
            &self.plan.fixture,
            &references,
            &self.cluster_objects,
        )
        .await?;
        record.workload = workload.base().reference.clone();
        record.created_as_planned = Some(workload.base().created_as_planned.clone());
        self.say(&format!(
            "waiting for {} {} to become ready",
            record.workload.kind, record.workload.name
        ));
        let what = format!(
            "{} {} to become ready",
            record.workload.kind, record.workload.name
        );
        wait::until_watched(
            &self.ctx,
            &what,
            self.config.timeouts.ready,
            self.triggers(&*workload),
            || async { Ok(settled(workload.ready_state().await?, ())) },
        )
        .await?;
        for (index, change) in self.scenario.changes.iter().enumerate() {
            let step_images = images_of_step(images, index + 1);
            let step = self.step(&*workload, index, *change, &step_images).await?;
            record.steps.push(step);
        }
        if self.scenario.measure_throughput {
            let pod = workload.base().live_pods().await?;
            let name = pod
                .first()
                .and_then(|p| p.metadata.name.clone())
                .context("no pod to measure in")?;
            self.say("measuring emptyDir write throughput (memory vs disk)");
            let plan = ThroughputPlan::default();
            record.throughput = Some(self.probe.measure_throughput(&name, &plan).await?);
        }
        Ok(())
    }

    fn triggers(&self, workload: &dyn Workload) -> wait::Triggers {
        wait::namespace_triggers(&self.client, &self.namespace, &workload.base().resource)
    }

    /// One change: markers and snapshots before, apply, wait, watch the
    /// quiet window, markers and snapshots after, events.
    async fn step(
        &self,
        workload: &dyn Workload,
        index: usize,
        change: &dyn Change,
        images: &BTreeMap<String, ImageRef>,
    ) -> anyhow::Result<UpdateStep> {
        let base = workload.base();
        let mut before = Vec::new();
        for pod in base.live_pods().await? {
            let name = pod.metadata.name.clone().unwrap_or_default();
            let written = self.probe.write_markers(&name).await?;
            before.push((self.probe.snapshot(&name).await?, written));
        }
        if index == 0 {
            self.inject_fault(FaultPoint::BeforeChange).await?;
        }
        let revision_before = workload.revision().await?;
        let generation_before = base.generation().await?;
        let template = base.object().await?.data["spec"]["template"].clone();
        let planned = change.plan(&Plan {
            template: &template,
            images,
        })?;
        let since = Timestamp::now();
        let (started_at, clock) = (crate::now_rfc3339(), Instant::now());
        event::emit(Event::StepApplied {
            scenario: self.scenario.name.to_string(),
            step: index + 1,
            change: planned.description.clone(),
        });
        let reached = base.live_pods().await?;
        let endpoints = match self.scenario.traffic {
            Some(t) => Some(
                crate::observe::traffic::EndpointWatch::start(
                    &self.client,
                    &self.namespace,
                    t.service,
                )
                .await?,
            ),
            None => None,
        };
        let admission = self.apply(workload, change, &planned, &reached).await?;
        if index == 0 && admission == Admission::Accepted {
            self.inject_fault(FaultPoint::DuringUpdate).await?;
        }
        let old_uids: Vec<String> = before.iter().map(|(s, _)| s.uid.clone()).collect();
        let mut planned = planned;
        planned.reports = self
            .wait_done(
                workload,
                change,
                &planned,
                &admission,
                &reached,
                revision_before.as_deref(),
                &old_uids,
            )
            .await?;
        let completed_at = crate::now_rfc3339();
        let duration_ms = clock.elapsed().as_millis() as u64;
        // Read once the update is done: right after a fault the API may
        // still refuse reads (kruise's conversion webhook restarting).
        let expected_updated = match (&admission, change.acts_on()) {
            (Admission::Accepted, ActsOn::Template) => workload.expected_updated().await?,
            (Admission::Accepted, ActsOn::Directly) => reached.len(),
            _ => 0,
        };
        let quiet = self.quiet_window(workload).await?;
        let traffic = match (self.scenario.traffic, endpoints) {
            (Some(t), Some(watch)) => Some(self.traffic_record(workload, t, watch, since).await?),
            _ => None,
        };
        let revision_after = workload.revision().await?;
        let direct = change.acts_on() == ActsOn::Directly && admission == Admission::Accepted;
        let pods = self
            .observe_after(workload, before, &revision_before, &revision_after, direct)
            .await?;
        let events = self.step_events(&planned, &pods, since).await?;
        self.say(&format!(
            "change #{} done in {:.1}s: {}",
            index + 1,
            duration_ms as f64 / 1000.0,
            summarize_pods(&pods)
        ));
        Ok(UpdateStep {
            index,
            change: planned,
            admission,
            started_at,
            completed_at,
            duration_ms,
            revision_before,
            revision_after,
            generation_before,
            generation_after: base.generation().await?,
            expected_updated,
            pods,
            quiet: Some(quiet),
            traffic,
            events,
        })
    }

    /// The scenario's fault, if it lands at `point`: injected, its own
    /// recovery awaited (with the ready deadline), recorded.
    async fn inject_fault(&self, point: FaultPoint) -> anyhow::Result<()> {
        let Some(fault) = self.scenario.fault.filter(|f| f.point() == point) else {
            return Ok(());
        };
        self.say(&format!(
            "fault {}: injecting {}",
            fault.name(),
            point.describe()
        ));
        let ctx = FaultContext {
            client: &self.client,
            namespace: &self.namespace,
            repo_root: &self.config.repo_root,
            node: self.env.nodes().first().map(|n| n.as_ref()),
            label: self.scenario.name,
            deadline: self.config.timeouts.ready,
        };
        let injected = fault
            .inject(&ctx)
            .await
            .with_context(|| format!("injecting fault {}", fault.name()))?;
        self.say(&format!("fault {}: {}", fault.name(), injected.evidence));
        if let Ok(mut faults) = self.faults.lock() {
            faults.push(injected);
        }
        Ok(())
    }

    /// Applies the change; an API refusal is an observation, not an error.
    async fn apply(
        &self,
        workload: &dyn Workload,
        change: &dyn Change,
        planned: &ChangeRecord,
        reached: &[Pod],
    ) -> anyhow::Result<Admission> {
        let result = match change.acts_on() {
            ActsOn::Template => {
                let mut edit = |t: &mut serde_json::Value| change.edit(t, planned);
                workload.base().edit_template(&mut edit).await
            }
            ActsOn::Directly => change.act(&self.target(reached), planned).await,
        };
        match result {
            Ok(()) => Ok(Admission::Accepted),
            Err(kube::Error::Api(status)) if [400, 403, 422].contains(&status.code) => {
                self.say(&format!(
                    "change refused ({}): {}",
                    status.code, status.message
                ));
                Ok(Admission::Rejected {
                    code: status.code,
                    message: status.message,
                })
            }
            Err(err) => Err(err).context("applying the change"),
        }
    }

    fn target<'p>(&'p self, pods: &'p [Pod]) -> Target<'p> {
        Target {
            client: &self.client,
            namespace: &self.namespace,
            pods,
        }
    }

    /// Done as the controller defines it for a template change, as the
    /// change defines it for a direct one (returning what its objects
    /// report); nothing to await for a refusal.
    #[allow(clippy::too_many_arguments)]
    async fn wait_done(
        &self,
        workload: &dyn Workload,
        change: &dyn Change,
        planned: &ChangeRecord,
        admission: &Admission,
        reached: &[Pod],
        previous: Option<&str>,
        old_uids: &[String],
    ) -> anyhow::Result<BTreeMap<String, String>> {
        if matches!(admission, Admission::Rejected { .. }) {
            return Ok(BTreeMap::new());
        }
        let base = workload.base();
        let triggers = self.triggers(workload);
        let timeout = self.config.timeouts.update;
        match change.acts_on() {
            ActsOn::Template => {
                let what = format!(
                    "{} {} to finish updating from revision {}",
                    base.reference.kind,
                    base.reference.name,
                    previous.unwrap_or("unset")
                );
                wait::until_watched(&self.ctx, &what, timeout, triggers, || async {
                    let state = settled(workload.update_state(previous, old_uids).await?, ());
                    if let Poll::Pending(pending) = &state
                        && let Some(refusal) =
                            refused_pod_update(&self.client, &self.namespace).await?
                    {
                        return Ok(Poll::GaveUp(format!("{pending}; {refusal}")));
                    }
                    Ok(state)
                })
                .await?;
                Ok(BTreeMap::new())
            }
            ActsOn::Directly => {
                let what = format!("{} to be done", planned.description);
                let target = self.target(reached);
                let reports = wait::until_watched(&self.ctx, &what, timeout, triggers, || async {
                    Ok(match change.done(&target, planned).await? {
                        Ok(reports) => Poll::Ready(reports),
                        Err(state) => Poll::Pending(state),
                    })
                })
                .await?;
                Ok(reports)
            }
        }
    }

    /// What the Service saw through the change: endpoint transitions and
    /// the client's requests from the change to now.
    async fn traffic_record(
        &self,
        workload: &dyn Workload,
        traffic: crate::observe::traffic::Traffic,
        watch: crate::observe::traffic::EndpointWatch,
        since: Timestamp,
    ) -> anyhow::Result<crate::model::record::TrafficRecord> {
        let seen = watch.stop();
        let requests = crate::observe::traffic::client_requests(
            &self.client,
            &self.namespace,
            traffic.client,
            since,
            Timestamp::now(),
        )
        .await?;
        Ok(crate::model::record::TrafficRecord {
            service: traffic.service.to_string(),
            client: traffic.client.to_string(),
            grace_seconds: workload.grace_seconds().await?,
            endpoints: seen.endpoints,
            requests,
            spec_changes: seen.spec_changes,
            gate_changes: seen.gate_changes,
        })
    }

    /// Watches the pods for `timeouts.quiet` after completion and records
    /// every container that changed ID or restart count: what must not
    /// happen can only be shown over a window.
    async fn quiet_window(&self, workload: &dyn Workload) -> anyhow::Result<QuietWindow> {
        let base = workload.base();
        let baseline: BTreeMap<String, (Option<String>, i32)> = base
            .live_pods()
            .await?
            .iter()
            .flat_map(container_states)
            .collect();
        let window = self.config.timeouts.quiet;
        let mut changes = BTreeSet::new();
        let stream = watcher(
            base.pods_api(),
            watcher::Config::default().labels(&base.selector),
        );
        let mut stream = std::pin::pin!(stream);
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, stream.next()).await {
            let pods: Vec<Pod> = match event {
                Ok(watcher::Event::Apply(pod)) | Ok(watcher::Event::InitApply(pod)) => vec![pod],
                Ok(watcher::Event::Delete(pod)) => {
                    let name = pod.metadata.name.clone().unwrap_or_default();
                    changes.insert(format!("{name}: deleted"));
                    continue;
                }
                _ => continue,
            };
            for (key, state) in pods.iter().flat_map(container_states) {
                match baseline.get(&key) {
                    Some(old) if *old == state => {}
                    Some(old) => {
                        changes.insert(format!(
                            "{key}: restartCount {} -> {}, containerID {} -> {}",
                            old.1,
                            state.1,
                            assess::short_container_id(&old.0),
                            assess::short_container_id(&state.0)
                        ));
                    }
                    None => {
                        changes.insert(format!("{key}: appeared"));
                    }
                }
            }
        }
        Ok(QuietWindow {
            window_ms: window.as_millis() as u64,
            changes: changes.into_iter().collect(),
        })
    }

    /// Pairs each pod before with its successor, reads the markers back
    /// where they were written and snapshots every pod.
    async fn observe_after(
        &self,
        workload: &dyn Workload,
        before: Vec<(PodSnapshot, Vec<crate::model::record::MarkerWrite>)>,
        revision_before: &Option<String>,
        revision_after: &Option<String>,
        direct: bool,
    ) -> anyhow::Result<Vec<PodStep>> {
        let after_pods = workload.base().live_pods().await?;
        let key = |uid: &str, name: &str| (uid.to_string(), name.to_string());
        let before_keys: Vec<_> = before.iter().map(|(s, _)| key(&s.uid, &s.name)).collect();
        let after_keys: Vec<_> = after_pods
            .iter()
            .map(|p| {
                key(
                    p.metadata.uid.as_deref().unwrap_or(""),
                    p.metadata.name.as_deref().unwrap_or(""),
                )
            })
            .collect();
        let pairs = pair_pods(&before_keys, &after_keys);
        anyhow::ensure!(
            pairs.len() == before.len(),
            "{} pod(s) before the change, {} after: cannot pair them",
            before.len(),
            after_pods.len()
        );
        let moved = revision_before != revision_after;
        let mut steps = Vec::new();
        let mut before = before.into_iter().map(Some).collect::<Vec<_>>();
        for (i, j) in pairs {
            let (snapshot, written) = before[i].take().expect("each pod paired once");
            let pod = &after_pods[j];
            let name = pod.metadata.name.clone().unwrap_or_default();
            let read_back = self.probe.read_markers(&name, &written).await?;
            let after = self.probe.snapshot(&name).await?;
            // A direct change reaches every pod; a template change the
            // pods the controller moved to the new revision.
            let updated = match (direct, moved, revision_after) {
                (true, _, _) => true,
                (false, true, Some(revision)) => workload.pod_on_revision(pod, revision).await?,
                _ => false,
            };
            steps.push(PodStep {
                before: snapshot,
                after,
                updated,
                written,
                read_back,
            });
        }
        Ok(steps)
    }

    /// Events of the step. Kubelet and kruise events may land a moment
    /// after completion; wait briefly for the ones the expectation and the
    /// premises look at, then record whatever is there (absence is for the
    /// checks to judge).
    async fn step_events(
        &self,
        planned: &ChangeRecord,
        pods: &[PodStep],
        since: Timestamp,
    ) -> anyhow::Result<Vec<EventRecord>> {
        let wanted = self.wanted_events(planned, pods);
        let what = "the change's events";
        let waited = wait::until(&self.ctx, what, self.config.timeouts.events, || async {
            let events = events::records_since(&self.client, &self.namespace, since).await?;
            let missing: Vec<&str> = wanted
                .iter()
                .filter(|w| !events.iter().any(|e| w.matches(e)))
                .map(|w| w.reason.as_str())
                .collect();
            Ok(if missing.is_empty() {
                Poll::Ready(events)
            } else {
                Poll::Pending(format!("missing {}", missing.join(", ")))
            })
        })
        .await;
        match waited {
            Ok(events) => Ok(events),
            Err(timeout) => {
                self.say(&format!("note: {}", timeout.last_state));
                events::records_since(&self.client, &self.namespace, since).await
            }
        }
    }

    fn wanted_events(&self, planned: &ChangeRecord, pods: &[PodStep]) -> Vec<WantedEvent> {
        let mut wanted = Vec::new();
        let updated = pods.iter().any(|p| p.updated);
        if self.config.delivery.pulls() && updated {
            wanted.extend(planned.images.values().map(|image| WantedEvent {
                reason: "Pulling".into(),
                needle: Some(format!("\"{}\"", image.reference)),
                about: None,
            }));
        }
        if let Some(e) = self.expectation(planned) {
            wanted.extend(e.events.iter().map(|reason| WantedEvent {
                reason: reason.to_string(),
                needle: None,
                about: None,
            }));
        }
        wanted.extend(pods.iter().filter(|p| !p.same_pod()).map(|p| WantedEvent {
            reason: "Scheduled".into(),
            needle: None,
            about: Some(p.after.uid.clone()),
        }));
        wanted
    }

    fn expectation(&self, planned: &ChangeRecord) -> Option<&'static expect::Expectation> {
        expect::lookup(&self.plan.kind, &self.plan.strategy, &planned.kind)
    }
}

/// What the record says of the cluster: name, versions, runtime, nodes,
/// OpenKruise's image and gates (each part best effort).
async fn cluster_facts(env: &dyn Environment, cell: &str) -> ClusterFacts {
    let client = env.client();
    let version = client.apiserver_version().await.ok();
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let nodes = nodes
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default();
    let node_names = nodes
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    let mut runtimes: Vec<String> = nodes
        .iter()
        .filter_map(|n| {
            Some(
                n.status
                    .as_ref()?
                    .node_info
                    .as_ref()?
                    .container_runtime_version
                    .clone(),
            )
        })
        .collect();
    runtimes.dedup();
    let kruise_image = kruise::manager_image(&client).await;
    ClusterFacts {
        name: env.info().name.clone(),
        cell: cell.to_string(),
        kruise_version: kruise_image.as_deref().and_then(kruise::version_of_image),
        kubeconfig: env.info().kubeconfig.display().to_string(),
        server_version: version.map(|v| v.git_version).unwrap_or_default(),
        nodes: node_names,
        runtime: runtimes.join(", "),
        kruise_image,
        kruise_gates: kruise::manager_feature_gates(&client)
            .await
            .unwrap_or_default(),
    }
}

/// `Ok(())` -> ready, `Err(state)` -> pending with that state.
fn settled<T>(state: Result<(), String>, value: T) -> Poll<T> {
    match state {
        Ok(()) => Poll::Ready(value),
        Err(state) => Poll::Pending(state),
    }
}

/// `pod/container` -> (containerID, restartCount).
fn container_states(pod: &Pod) -> Vec<(String, (Option<String>, i32))> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    pod.status
        .iter()
        .flat_map(|s| s.container_statuses.iter().flatten())
        .map(|c| {
            (
                format!("{name}/{}", c.name),
                (c.container_id.clone(), c.restart_count),
            )
        })
        .collect()
}

fn summarize_pods(pods: &[PodStep]) -> String {
    pods.iter()
        .map(|p| {
            let counts: Vec<String> = p
                .after
                .containers
                .iter()
                .map(|c| {
                    let before = p
                        .before
                        .container(&c.status.name)
                        .map(|b| b.status.restart_count)
                        .unwrap_or(0);
                    format!("{} {}->{}", c.status.name, before, c.status.restart_count)
                })
                .collect();
            format!(
                "pod {} -> {}{} ({})",
                p.before.name,
                p.after.name,
                if p.updated { " updated" } else { "" },
                counts.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An event the checks will look for.
struct WantedEvent {
    reason: String,
    /// Text the message must contain (the image reference for pulls).
    needle: Option<String>,
    /// Must be about this object UID (Scheduled of a replacement pod).
    about: Option<String>,
}

impl WantedEvent {
    fn matches(&self, event: &EventRecord) -> bool {
        event.reason == self.reason
            && self
                .needle
                .as_ref()
                .is_none_or(|n| event.message.contains(n))
            && self
                .about
                .as_ref()
                .is_none_or(|uid| event.object_uid.as_deref() == Some(uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::Image;

    fn keys(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(u, n)| (u.to_string(), n.to_string()))
            .collect()
    }

    #[test]
    fn pods_pair_by_uid_then_name_then_order() {
        let before = keys(&[("u1", "a"), ("u2", "b"), ("u3", "c")]);
        // a kept (same UID), b replaced under its name (new UID), c replaced.
        let after = keys(&[("u9", "z"), ("u8", "b"), ("u1", "a")]);
        assert_eq!(pair_pods(&before, &after), vec![(0, 2), (1, 1), (2, 0)]);
        assert_eq!(pair_pods(&before, &keys(&[("u1", "a")])), vec![(0, 0)]);
    }

    #[test]
    fn every_image_a_scenario_needs_is_a_distinct_slot() {
        let containers = vec!["app".to_string(), "side".to_string()];
        let changes: [&dyn Change; 2] = [
            &Image {
                to: &[("app", "v2")],
            },
            &Image {
                to: &[("app", "v1"), ("side", "v2")],
            },
        ];
        let slots = image_slots(&containers, &changes, "v1");
        let names: Vec<(&str, &str)> = slots
            .iter()
            .map(|s| (s.name.as_str(), s.version.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("s0-app", "v1"),
                ("s0-side", "v1"),
                ("s1-app", "v2"),
                ("s2-app", "v1"),
                ("s2-side", "v2")
            ]
        );
        let delivered: BTreeMap<String, ImageRef> = slots
            .iter()
            .map(|s| {
                let image = ImageRef {
                    reference: format!("r/{}", s.name),
                    content_version: s.version.clone(),
                };
                (s.name.clone(), image)
            })
            .collect();
        let step2 = images_of_step(&delivered, 2);
        assert_eq!(step2.keys().collect::<Vec<_>>(), vec!["app", "side"]);
        assert_eq!(step2["side"].reference, "r/s2-side");
    }

    #[test]
    fn pulls_match_the_image_and_scheduling_the_new_pod() {
        let event = EventRecord {
            reason: "Pulling".into(),
            message: "Pulling image \"localhost:1/ns/workload:s1-app-v2\"".into(),
            type_: "Normal".into(),
            object_kind: "Pod".into(),
            object_name: "app-x".into(),
            object_uid: Some("u2".into()),
            first_seen: None,
            last_seen: None,
            count: 1,
            source: None,
        };
        let pull = WantedEvent {
            reason: "Pulling".into(),
            needle: Some("\"localhost:1/ns/workload:s1-app-v2\"".into()),
            about: None,
        };
        assert!(pull.matches(&event));
        let other = WantedEvent {
            needle: Some("\"localhost:1/ns/workload:s1-app-v1\"".into()),
            ..pull
        };
        assert!(!other.matches(&event));
        let scheduled = WantedEvent {
            reason: "Pulling".into(),
            needle: None,
            about: Some("u1".into()),
        };
        assert!(!scheduled.matches(&event));
    }
}
