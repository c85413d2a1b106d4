//! Scenarios: the catalog, and the runner shared by the cargo test suites
//! and the CLI. A run observes first and judges afterwards: it records
//! everything (`observe`), writes the record, re-renders the report, and
//! only then fails if a check failed.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::Context;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, ObjectMeta, PostParams};

use crate::assess::{self, Check};
use crate::cluster::{self, Cluster, ClusterSource};
use crate::images;
use crate::kruise;
use crate::observe::{
    ImageDelivery, ImageRef, RECORD_SCHEMA, ScenarioRecord, Strategy, UpdateStep,
};
use crate::probe::{self, Probe, ThroughputPlan};
use crate::wait::{self, Poll, Timeouts, WaitContext};
use crate::workload::Workload;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScenarioId {
    InPlaceImage,
    InPlaceSuccessive,
    CloneSetReCreate,
    DeploymentRolling,
    EmptyDirThroughput,
}

/// What a scenario does; pure data.
#[derive(Debug)]
pub struct ScenarioSpec {
    pub id: ScenarioId,
    pub name: &'static str,
    /// The cargo test target that runs it.
    pub suite: &'static str,
    pub strategy: Strategy,
    /// Content version per step: [initial, after update 1, ...].
    pub versions: &'static [&'static str],
    pub measure_throughput: bool,
    /// Feeds its strategy's column of the comparison table.
    pub in_comparison_table: bool,
    pub summary: &'static str,
}

pub const CATALOG: &[ScenarioSpec] = &[
    ScenarioSpec {
        id: ScenarioId::InPlaceImage,
        name: "inplace-image",
        suite: "inplace",
        strategy: Strategy::CloneSetInPlaceIfPossible,
        versions: &["v1", "v2"],
        measure_throughput: false,
        in_comparison_table: true,
        summary: "CloneSet InPlaceIfPossible, image v1 -> v2 (the seed's subject)",
    },
    ScenarioSpec {
        id: ScenarioId::InPlaceSuccessive,
        name: "inplace-successive",
        suite: "inplace",
        strategy: Strategy::CloneSetInPlaceIfPossible,
        versions: &["v1", "v2", "v1", "v2"],
        measure_throughput: false,
        in_comparison_table: false,
        summary: "three successive in-place updates: restartCount 3, four containerIDs",
    },
    ScenarioSpec {
        id: ScenarioId::CloneSetReCreate,
        name: "cloneset-recreate",
        suite: "comparison",
        strategy: Strategy::CloneSetReCreate,
        versions: &["v1", "v2"],
        measure_throughput: false,
        in_comparison_table: true,
        summary: "CloneSet ReCreate, image v1 -> v2",
    },
    ScenarioSpec {
        id: ScenarioId::DeploymentRolling,
        name: "deployment-rolling",
        suite: "comparison",
        strategy: Strategy::DeploymentRollingUpdate,
        versions: &["v1", "v2"],
        measure_throughput: false,
        in_comparison_table: true,
        summary: "Deployment RollingUpdate, image v1 -> v2 (the seed's standard column)",
    },
    ScenarioSpec {
        id: ScenarioId::EmptyDirThroughput,
        name: "emptydir-throughput",
        suite: "throughput",
        strategy: Strategy::CloneSetInPlaceIfPossible,
        versions: &["v1"],
        measure_throughput: true,
        in_comparison_table: false,
        summary: "memory vs disk emptyDir write throughput in one pod (C12)",
    },
];

impl ScenarioId {
    pub fn spec(self) -> &'static ScenarioSpec {
        CATALOG
            .iter()
            .find(|s| s.id == self)
            .expect("every id is in the catalog")
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

impl FromStr for ScenarioId {
    type Err = anyhow::Error;

    fn from_str(name: &str) -> anyhow::Result<ScenarioId> {
        CATALOG
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
            .with_context(|| {
                let names: Vec<&str> = CATALOG.iter().map(|s| s.name).collect();
                format!("unknown scenario {name:?}; known: {}", names.join(", "))
            })
    }
}

/// Everything a run needs to know; [`RunConfig::from_env`] for the suites,
/// built from flags by the CLI.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub cluster: ClusterSource,
    pub repo_root: PathBuf,
    /// `target/conformance`: observations/, report.md, report.json.
    pub output_dir: PathBuf,
    pub keep_on_failure: bool,
    pub delivery: ImageDelivery,
    pub timeouts: Timeouts,
}

impl RunConfig {
    /// Reads INPLACE_KUBECONFIG, INPLACE_CLUSTER, INPLACE_KEEP_ON_FAILURE,
    /// INPLACE_IMAGE_DELIVERY, INPLACE_REPO_ROOT and INPLACE_OUTPUT_DIR.
    pub fn from_env() -> anyhow::Result<RunConfig> {
        let repo_root = std::env::var_os("INPLACE_REPO_ROOT")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let output_dir = std::env::var_os("INPLACE_OUTPUT_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| default_output_dir(&repo_root));
        Ok(RunConfig {
            cluster: ClusterSource::from_env(),
            repo_root,
            output_dir,
            keep_on_failure: std::env::var("INPLACE_KEEP_ON_FAILURE").is_ok_and(|v| v == "1"),
            delivery: ImageDelivery::from_env()?,
            timeouts: Timeouts::default(),
        })
    }

    pub fn observations_dir(&self) -> PathBuf {
        self.output_dir.join("observations")
    }

    fn locks_dir(&self) -> PathBuf {
        self.output_dir.join("locks")
    }

    fn diagnostics_dir(&self) -> PathBuf {
        self.output_dir.join("diagnostics")
    }
}

pub fn default_output_dir(repo_root: &Path) -> PathBuf {
    repo_root.join("target/conformance")
}

/// A finished scenario whose checks all passed (or were inconclusive).
#[derive(Debug)]
pub struct ScenarioOutcome {
    pub record: ScenarioRecord,
    pub checks: Vec<Check>,
    pub observations: PathBuf,
    pub report: PathBuf,
}

/// Runs one scenario with the configuration from the environment.
pub async fn run(id: ScenarioId) -> anyhow::Result<ScenarioOutcome> {
    run_with(&RunConfig::from_env()?, id).await
}

/// Runs one scenario: cluster, namespace, images, workload, updates,
/// record, report; fails (after recording) if any check failed.
pub async fn run_with(config: &RunConfig, id: ScenarioId) -> anyhow::Result<ScenarioOutcome> {
    let spec = id.spec();
    let cluster = cluster::acquire(&config.cluster, &config.repo_root, &config.locks_dir()).await?;
    let client = cluster.client().await?;
    let cloneset_api = kruise::preflight(&client).await.map_err(|e| {
        anyhow::anyhow!(
            "cluster {} has no ready OpenKruise: {e:#}; hint: `scripts/cluster up --name {}` \
             installs it",
            cluster.name,
            cluster.name
        )
    })?;
    let namespace = format!("ipc-{}-{}", spec.name, crate::short_id());
    create_namespace(&client, &namespace, spec.name).await?;
    wait::progress(
        spec.name,
        &format!("namespace {namespace}: {}", spec.summary),
    );

    let session = Session::new(config, spec, cluster, client, namespace);
    let record = session.record(&cloneset_api).await;
    let observations = record.save(&config.observations_dir())?;
    let report = crate::report::render_dir(&config.output_dir)?;
    let checks = assess::scenario_checks(&record);
    let failed: Vec<&Check> = assess::failures(&checks);
    let ok = failed.is_empty() && record.error.is_none();
    session.finish(ok).await;
    if !ok {
        anyhow::bail!(
            "scenario {} failed: {}; observations {}; report {}",
            spec.name,
            describe_failures(&record, &failed),
            observations.display(),
            report.display()
        );
    }
    wait::progress(spec.name, &format!("passed; report {}", report.display()));
    Ok(ScenarioOutcome {
        record,
        checks,
        observations,
        report,
    })
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

async fn create_namespace(client: &Client, namespace: &str, scenario: &str) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let object = Namespace {
        metadata: ObjectMeta {
            name: Some(namespace.to_string()),
            labels: Some(
                [
                    ("app.kubernetes.io/part-of", "inplace-conformance"),
                    ("inplace-conformance/scenario", scenario),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &object)
        .await
        .with_context(|| format!("creating namespace {namespace}"))?;
    Ok(())
}

/// One scenario in its namespace.
struct Session<'a> {
    config: &'a RunConfig,
    spec: &'static ScenarioSpec,
    cluster: Cluster,
    client: Client,
    namespace: String,
    ctx: WaitContext,
    probe: Probe,
}

impl<'a> Session<'a> {
    fn new(
        config: &'a RunConfig,
        spec: &'static ScenarioSpec,
        cluster: Cluster,
        client: Client,
        namespace: String,
    ) -> Session<'a> {
        let ctx = WaitContext {
            client: client.clone(),
            namespace: namespace.clone(),
            label: spec.name.to_string(),
        };
        let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        let probe = Probe::new(pods, config.timeouts.exec);
        Session {
            config,
            spec,
            cluster,
            client,
            namespace,
            ctx,
            probe,
        }
    }

    fn say(&self, message: &str) {
        wait::progress(self.spec.name, message);
    }

    /// Always returns a record: on error it holds what completed and the
    /// error, so a failed run is visible in the report.
    async fn record(&self, cloneset_api: &kruise::CloneSetApi) -> ScenarioRecord {
        let mut record = self.empty_record().await;
        if let Ok(components) = kruise::component_restarts(&self.client).await {
            record.kruise_components_at_start = components;
        }
        record
            .notes
            .insert("cloneset api".into(), cloneset_api.describe());
        if let Err(err) = self.fill(&mut record).await {
            self.say(&format!("stopped: {err:#}"));
            record.error = Some(format!("{err:#}"));
        }
        if let Ok(components) = kruise::component_restarts(&self.client).await {
            record.kruise_components = components;
        }
        record.finished_at = crate::now_rfc3339();
        record
    }

    async fn empty_record(&self) -> ScenarioRecord {
        let version = self.client.apiserver_version().await.ok();
        let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(self.client.clone());
        let node_names = nodes
            .list(&Default::default())
            .await
            .map(|l| {
                l.items
                    .into_iter()
                    .filter_map(|n| n.metadata.name)
                    .collect()
            })
            .unwrap_or_default();
        ScenarioRecord {
            schema: RECORD_SCHEMA,
            scenario: self.spec.name.to_string(),
            strategy: self.spec.strategy,
            namespace: self.namespace.clone(),
            started_at: crate::now_rfc3339(),
            finished_at: String::new(),
            cluster: crate::observe::ClusterFacts {
                name: self.cluster.name.clone(),
                kubeconfig: self.cluster.kubeconfig.display().to_string(),
                server_version: version.map(|v| v.git_version).unwrap_or_default(),
                nodes: node_names,
                kruise_image: kruise::manager_image(&self.client).await,
                cloneset_api_version: None,
            },
            image_delivery: self.config.delivery,
            workload: crate::observe::WorkloadRef {
                api_version: String::new(),
                kind: String::new(),
                name: String::new(),
                fixture: crate::workload::fixture_path(self.spec.strategy).to_string(),
            },
            initial_image: ImageRef {
                reference: String::new(),
                content_version: self.spec.versions[0].to_string(),
            },
            steps: Vec::new(),
            throughput: None,
            kruise_components: Vec::new(),
            kruise_components_at_start: Vec::new(),
            notes: Default::default(),
            error: None,
        }
    }

    async fn fill(&self, record: &mut ScenarioRecord) -> anyhow::Result<()> {
        self.say(&format!("delivering images ({:?})", self.config.delivery));
        let delivered = images::deliver(
            self.config.delivery,
            &self.config.repo_root,
            &self.cluster.name,
            &self.namespace,
            self.spec.versions,
        )
        .await?;
        record
            .notes
            .insert("image delivery".into(), delivered.describe());
        let observed = self.observe(record, &delivered.images).await;
        if let Err(err) = delivered
            .release(&self.config.repo_root, &self.cluster.name)
            .await
        {
            self.say(&format!("warning: releasing images: {err:#}"));
        }
        observed
    }

    async fn observe(
        &self,
        record: &mut ScenarioRecord,
        images: &[ImageRef],
    ) -> anyhow::Result<()> {
        record.initial_image = images[0].clone();
        let workload = Workload::create(
            &self.client,
            &self.namespace,
            self.spec.strategy,
            &self.config.repo_root,
            &images[0].reference,
        )
        .await?;
        record.workload = workload.reference.clone();
        if workload.kind == crate::workload::WorkloadKind::CloneSet {
            record.cluster.cloneset_api_version = Some(workload.reference.api_version.clone());
        }
        self.say(&format!("waiting for {} to become ready", workload.name));
        let pod = workload
            .wait_ready(&self.ctx, self.config.timeouts.ready)
            .await?;
        for (index, pair) in images.windows(2).enumerate() {
            let step = self
                .update_step(&workload, index, &pair[0], &pair[1])
                .await?;
            record.steps.push(step);
        }
        if self.spec.measure_throughput {
            let name = pod.metadata.name.clone().unwrap_or_default();
            self.say("measuring emptyDir write throughput (memory vs disk)");
            let plan = ThroughputPlan::default();
            record.throughput = Some(self.probe.measure_throughput(&name, &plan).await?);
        }
        Ok(())
    }

    async fn update_step(
        &self,
        workload: &Workload,
        index: usize,
        from: &ImageRef,
        to: &ImageRef,
    ) -> anyhow::Result<UpdateStep> {
        let pod = workload.current_pod().await?;
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let written = self.probe.write_markers(&pod_name).await?;
        let before = self.probe.snapshot(&pod_name).await?;
        let revision_before = workload.revision().await?;
        let since = k8s_openapi::jiff::Timestamp::now();
        let (started_at, clock) = (crate::now_rfc3339(), Instant::now());
        self.say(&format!(
            "update #{}: {} -> {}",
            index + 1,
            from.content_version,
            to.reference
        ));
        workload.set_image(&to.reference).await?;
        let new_pod = workload
            .wait_updated(
                &self.ctx,
                self.config.timeouts.update,
                revision_before.as_deref(),
                &before.uid,
            )
            .await?;
        let completed_at = crate::now_rfc3339();
        let duration_ms = clock.elapsed().as_millis() as u64;
        let new_name = new_pod.metadata.name.clone().unwrap_or_default();
        let read_back = self.probe.read_markers(&new_name, &written).await?;
        let after = self.probe.snapshot(&new_name).await?;
        let events = self
            .step_events(since, to, &after.uid, before.uid != after.uid)
            .await?;
        self.say(&format!(
            "update #{} done in {:.1}s: pod {} -> {}, restartCount {} -> {}",
            index + 1,
            duration_ms as f64 / 1000.0,
            before.name,
            after.name,
            before.container.restart_count,
            after.container.restart_count
        ));
        Ok(UpdateStep {
            index,
            from: from.clone(),
            to: to.clone(),
            started_at,
            completed_at,
            duration_ms,
            revision_before,
            revision_after: workload.revision().await?,
            written,
            before,
            after,
            read_back,
            events,
        })
    }

    /// Events of the step. Kubelet and Kruise events may land a moment
    /// after completion; wait briefly for the ones the checks look at, then
    /// record whatever is there (absence is for the checks to judge).
    async fn step_events(
        &self,
        since: k8s_openapi::jiff::Timestamp,
        to: &ImageRef,
        new_uid: &str,
        new_pod: bool,
    ) -> anyhow::Result<Vec<crate::observe::EventRecord>> {
        let wanted = expected_events(self.spec.strategy, self.config.delivery, to, new_pod);
        let waited = wait::until(
            &self.ctx,
            "the update's events",
            self.config.timeouts.events,
            || async {
                let events = probe::events_since(&self.client, &self.namespace, since).await?;
                let missing: Vec<&str> = wanted
                    .iter()
                    .filter(|w| !events.iter().any(|e| w.matches(e, new_uid)))
                    .map(|w| w.reason)
                    .collect();
                Ok(if missing.is_empty() {
                    Poll::Ready(events)
                } else {
                    Poll::Pending(format!("missing {}", missing.join(", ")))
                })
            },
        )
        .await;
        match waited {
            Ok(events) => Ok(events),
            Err(timeout) => {
                self.say(&format!("note: {}", timeout.last_state));
                probe::events_since(&self.client, &self.namespace, since).await
            }
        }
    }

    /// Deletes the namespace, unless the run failed and the user asked to
    /// keep it; on failure also writes diagnostics.
    async fn finish(&self, ok: bool) {
        if !ok {
            match self.write_diagnostics().await {
                Ok(path) => self.say(&format!("diagnostics in {}", path.display())),
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
        if let Err(err) = self.delete_namespace().await {
            self.say(&format!("warning: cleanup: {err:#}"));
        }
    }

    async fn delete_namespace(&self) -> anyhow::Result<()> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        api.delete(&self.namespace, &DeleteParams::background())
            .await
            .with_context(|| format!("deleting namespace {}", self.namespace))?;
        let what = format!("namespace {} to be deleted", self.namespace);
        wait::until(&self.ctx, &what, self.config.timeouts.cleanup, || async {
            Ok(match api.get_opt(&self.namespace).await? {
                None => Poll::Ready(()),
                Some(ns) => Poll::Pending(format!(
                    "phase {}",
                    ns.status.and_then(|s| s.phase).unwrap_or_default()
                )),
            })
        })
        .await?;
        Ok(())
    }

    /// OpenKruise's own pods with their log tails: the suite invariant says
    /// they never restart, and when one did its previous log says why.
    async fn kruise_diagnostics(&self) -> serde_json::Value {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), kruise::SYSTEM_NAMESPACE);
        let Ok(list) = pods.list(&Default::default()).await else {
            return serde_json::Value::Null;
        };
        let mut out = Vec::new();
        for p in &list.items {
            out.push(serde_json::json!({
                "name": p.metadata.name,
                "containerStatuses": p.status.as_ref().map(|s| &s.container_statuses),
                "logs": container_logs(&pods, p).await,
            }));
        }
        out.into()
    }

    async fn write_diagnostics(&self) -> anyhow::Result<PathBuf> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let pod_list = pods.list(&Default::default()).await?;
        let mut statuses = Vec::new();
        for p in &pod_list.items {
            statuses.push(serde_json::json!({
                "name": p.metadata.name,
                "uid": p.metadata.uid,
                "labels": p.metadata.labels,
                "annotations": p.metadata.annotations,
                "status": p.status,
                "logs": container_logs(&pods, p).await,
            }));
        }
        let events = probe::events_since(
            &self.client,
            &self.namespace,
            k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
        )
        .await?;
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "namespace": self.namespace,
            "pods": statuses,
            "events": events,
            "kruise": self.kruise_diagnostics().await,
        }))?;
        let path = self
            .config
            .diagnostics_dir()
            .join(format!("{}.json", self.spec.name));
        crate::observe::write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }
}

/// The log tail of each container of `pod`, current and previous instance
/// (an in-place update leaves the old one as "previous").
async fn container_logs(pods: &Api<Pod>, pod: &Pod) -> serde_json::Value {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let containers = pod.spec.iter().flat_map(|s| s.containers.iter());
    let mut logs = serde_json::Map::new();
    for container in containers {
        for previous in [false, true] {
            let params = kube::api::LogParams {
                container: Some(container.name.clone()),
                previous,
                tail_lines: Some(50),
                ..Default::default()
            };
            let text = pods
                .logs(&name, &params)
                .await
                .unwrap_or_else(|err| format!("(no log: {err})"));
            let key = format!(
                "{}{}",
                container.name,
                if previous { " (previous)" } else { "" }
            );
            logs.insert(key, text.into());
        }
    }
    logs.into()
}

/// An event the checks will look for.
struct WantedEvent {
    reason: &'static str,
    /// Text the message must contain (the image reference for pulls).
    needle: Option<String>,
    /// Must be about the new pod (Scheduled after a recreate).
    about_new_pod: bool,
}

impl WantedEvent {
    fn matches(&self, event: &crate::observe::EventRecord, new_uid: &str) -> bool {
        event.reason == self.reason
            && self
                .needle
                .as_ref()
                .is_none_or(|n| event.message.contains(n))
            && (!self.about_new_pod || event.object_uid.as_deref() == Some(new_uid))
    }
}

fn expected_events(
    strategy: Strategy,
    delivery: ImageDelivery,
    to: &ImageRef,
    new_pod: bool,
) -> Vec<WantedEvent> {
    let mut wanted = Vec::new();
    if delivery == ImageDelivery::Registry {
        wanted.push(WantedEvent {
            reason: "Pulling",
            needle: Some(format!("\"{}\"", to.reference)),
            about_new_pod: false,
        });
    }
    let kruise_reason = match strategy {
        Strategy::CloneSetInPlaceIfPossible => Some("SuccessfulUpdatePodInPlace"),
        Strategy::CloneSetReCreate => Some("SuccessfulUpdatePodReCreate"),
        Strategy::DeploymentRollingUpdate => None,
    };
    wanted.extend(kruise_reason.map(|reason| WantedEvent {
        reason,
        needle: None,
        about_new_pod: false,
    }));
    if new_pod {
        wanted.push(WantedEvent {
            reason: "Scheduled",
            needle: None,
            about_new_pod: true,
        });
    }
    wanted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_names_are_unique_and_parse_back() {
        for spec in CATALOG {
            assert_eq!(spec.name.parse::<ScenarioId>().unwrap(), spec.id);
            assert_eq!(spec.id.spec().name, spec.name);
        }
        assert!("nope".parse::<ScenarioId>().is_err());
    }

    #[test]
    fn namespaces_fit_a_dns_label() {
        for spec in CATALOG {
            let ns = format!("ipc-{}-{}", spec.name, crate::short_id());
            assert!(ns.len() <= 63, "{ns}");
        }
    }

    #[test]
    fn one_table_scenario_per_strategy() {
        for strategy in Strategy::ALL {
            let count = CATALOG
                .iter()
                .filter(|s| s.in_comparison_table && s.strategy == strategy)
                .count();
            assert_eq!(count, 1, "{strategy:?}");
        }
    }

    #[test]
    fn successive_scenario_updates_three_times() {
        assert_eq!(ScenarioId::InPlaceSuccessive.spec().versions.len() - 1, 3);
    }

    #[test]
    fn registry_delivery_waits_for_the_pull_event() {
        let to = ImageRef {
            reference: "localhost:40153/ns/workload:s1-v2".into(),
            content_version: "v2".into(),
        };
        let wanted = expected_events(
            Strategy::CloneSetInPlaceIfPossible,
            ImageDelivery::Registry,
            &to,
            false,
        );
        let reasons: Vec<&str> = wanted.iter().map(|w| w.reason).collect();
        assert_eq!(reasons, vec!["Pulling", "SuccessfulUpdatePodInPlace"]);
        let preloaded = expected_events(
            Strategy::DeploymentRollingUpdate,
            ImageDelivery::Preloaded,
            &to,
            true,
        );
        let reasons: Vec<&str> = preloaded.iter().map(|w| w.reason).collect();
        assert_eq!(reasons, vec!["Scheduled"]);
    }
}
