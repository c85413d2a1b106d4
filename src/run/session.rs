//! One scenario in its namespace: images delivered, the workload created
//! and checked against the plan, markers written, each change applied and
//! waited for, every pod and container probed before and after, the quiet
//! window watched; everything recorded, nothing judged.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::Api;
use kube::runtime::watcher;

use crate::changes::{ActsOn, Change, Plan, Target};
use crate::environment::Environment;
use crate::environment::config::{RunConfig, Timeouts};
use crate::environment::images::{self, ImageSlot};
use crate::environment::settings::Settings;
use crate::faults::{FaultContext, FaultPoint};
use crate::judge::assess::{self};
use crate::model::event::{self, Event};
use crate::model::record::{
    Admission, ChangeRecord, ClusterFacts, EventRecord, ImageRef, PodSnapshot, PodStep,
    QuietWindow, RECORD_SCHEMA, ScenarioRecord, UpdateStep, WorkloadRef, took_image,
};
use crate::observe::budget::BudgetWatch;
use crate::observe::events;
use crate::observe::kruise;
use crate::observe::probe::{Probe, ThroughputPlan};
use crate::observe::timeline::PodTimeline;
use crate::observe::wait::{self, Poll, WaitContext};
use crate::scenarios::catalog::Scenario;
use crate::scenarios::expect;
use crate::scenarios::plan::ScenarioPlan;
use crate::workloads::{self, ClusterObjects, Workload};

/// A record of the scenario with nothing observed yet.
pub(crate) fn blank_record(
    config: &RunConfig,
    plan: &ScenarioPlan,
    namespace: String,
) -> ScenarioRecord {
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
        laps: Vec::new(),
    }
}

/// A controller whose pod update the API server refused as invalid will
/// not succeed by waiting: stop with its message instead of at the
/// deadline. Conflicts ("the object has been modified") are retried by the
/// controller and do not count.
pub(crate) async fn refused_pod_update(
    client: &Client,
    namespace: &str,
) -> anyhow::Result<Option<String>> {
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

/// One scenario in its namespace.
pub(crate) struct Session<'a> {
    pub(crate) config: &'a RunConfig,
    pub(crate) scenario: &'static Scenario,
    /// The scenario as resolved before anything was created.
    pub(crate) plan: &'a ScenarioPlan,
    pub(crate) env: Arc<dyn Environment>,
    pub(crate) client: Client,
    pub(crate) namespace: String,
    pub(crate) ctx: WaitContext,
    pub(crate) probe: Probe,
    pub(crate) cluster_objects: ClusterObjects,
    /// Faults injected so far (the record takes them, error or not).
    pub(crate) faults: std::sync::Mutex<Vec<crate::model::record::FaultRecord>>,
    /// Where the time goes (`ScenarioRecord::laps`).
    pub(crate) laps: std::sync::Mutex<crate::model::record::Laps>,
}

/// The slot name of container `c`'s image at step `step` (0 = creation).
pub(crate) fn slot_name(step: usize, container: &str) -> String {
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
pub(crate) fn images_of_step(
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

/// How long the quiet window lasts when it opens `since_accepted` after
/// the change was accepted (`None`: the change was refused): at least
/// `quiet`, and until `restart_horizon` after the acceptance.
pub fn quiet_length(timeouts: &Timeouts, since_accepted: Option<Duration>) -> Duration {
    since_accepted
        .map(|since| timeouts.restart_horizon.saturating_sub(since))
        .unwrap_or_default()
        .max(timeouts.quiet)
}

impl<'a> Session<'a> {
    pub(crate) fn new(
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
            laps: Default::default(),
        }
    }

    /// Ends the current stretch of the scenario's time as `name`.
    pub(crate) fn lap(&self, name: &str) {
        if let Ok(mut laps) = self.laps.lock() {
            laps.lap(name);
        }
    }

    pub(crate) fn say(&self, message: &str) {
        event::note(self.scenario.name, message);
    }

    /// Always returns a record: on error it holds what completed and the
    /// error, so a failed run is visible in the report.
    pub(crate) async fn record(&self) -> ScenarioRecord {
        let mut record = self.empty_record().await;
        if let Ok(components) = kruise::component_restarts(&self.client).await {
            record.kruise_components_at_start = components;
        }
        self.lap("cluster facts");
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
        self.lap("records");
        record.laps = self.laps.lock().map(|mut l| l.take()).unwrap_or_default();
        record.finished_at = crate::now_rfc3339();
        record
    }

    pub(crate) async fn empty_record(&self) -> ScenarioRecord {
        let mut record = blank_record(self.config, self.plan, self.namespace.clone());
        record.cluster = cluster_facts(self.env.as_ref(), &self.config.cell).await;
        record
    }

    pub(crate) async fn fill(&self, record: &mut ScenarioRecord) -> anyhow::Result<()> {
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
        self.lap("images");
        let images = delivered.images.clone();
        self.observe(record, &images).await
    }

    pub(crate) async fn observe(
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
        let (workload, as_planned) = workloads::create(
            &self.client,
            &self.namespace,
            &self.plan.fixture,
            &references,
            &self.cluster_objects,
        )
        .await?;
        record.workload = workload.base().reference.clone();
        record.created_as_planned = Some(as_planned);
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
        self.lap("deploy");
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
            self.say("waiting for the other scenarios to end before measuring");
            let alone = crate::run::alone::wait_until_alone(
                &self.ctx,
                self.config.timeouts.others_ending(),
            )
            .await?;
            self.lap(crate::run::alone::WAIT_LAP);
            self.say("measuring emptyDir write throughput (memory vs disk)");
            let plan = ThroughputPlan::default();
            record.throughput = Some(self.probe.measure_throughput(&name, &plan).await?);
            drop(alone);
            self.lap("throughput");
        }
        Ok(())
    }

    pub(crate) fn triggers(&self, workload: &dyn Workload) -> wait::Triggers {
        wait::namespace_triggers(&self.client, &self.namespace, &workload.base().resource)
    }

    /// Evaluates `check` on every change in the scenario's namespace (and
    /// the workload's) until it is ready or `timeout` passes.
    pub(crate) async fn until<T, F, Fut>(
        &self,
        workload: &dyn Workload,
        what: &str,
        timeout: Duration,
        check: F,
    ) -> Result<T, wait::WaitTimeout>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Poll<T>>>,
    {
        wait::until_watched(&self.ctx, what, timeout, self.triggers(workload), check).await
    }

    /// One change: markers and snapshots before, apply, wait, watch the
    /// quiet window, markers and snapshots after, events.
    pub(crate) async fn step(
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
        self.lap("markers");
        // A node fault hits the node of the workload's pods.
        let pod_nodes: Vec<String> = before.iter().filter_map(|(s, _)| s.node.clone()).collect();
        if index == 0 {
            self.inject_fault(FaultPoint::BeforeChange, &pod_nodes)
                .await?;
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
        let timeline = PodTimeline::start(&self.client, &self.namespace, &base.selector).await?;
        let budget_max = self.plan.fixture.budget_max_unavailable();
        let budgets = match budget_max {
            Some(max) => Some((
                BudgetWatch::start(&self.client, &self.namespace).await?,
                max,
            )),
            None => None,
        };
        self.lap("watches");
        let mut cordon = if change.cordons() {
            Some(self.cordon_nodes(&reached).await?)
        } else {
            None
        };
        let admission = self.apply(workload, change, &planned, &reached).await?;
        let accepted_at = Some(crate::now_rfc3339());
        let accepted = (admission == Admission::Accepted).then(Instant::now);
        if index == 0 && admission == Admission::Accepted {
            self.inject_fault(FaultPoint::DuringUpdate, &pod_nodes)
                .await?;
        }
        let old_uids: Vec<String> = before.iter().map(|(s, _)| s.uid.clone()).collect();
        let mut planned = planned;
        let hold = match (change.halts(), &admission) {
            (Some(_), Admission::Accepted) => Some(
                self.hold_and_revert(workload, change, &planned, &template, &reached, &old_uids)
                    .await?,
            ),
            _ => None,
        };
        let pre_download = match (change.pre_downloads(), &admission) {
            (true, Admission::Accepted) => {
                Some(self.pre_download_and_release(workload, &planned).await?)
            }
            _ => None,
        };
        let hook = self
            .plan
            .fixture
            .in_place_hook()
            .filter(|_| hold.is_none() && change.acts_on() == ActsOn::Template);
        let hooks = match (hook, &admission) {
            (Some(labels), Admission::Accepted) => Some(
                self.answer_hooks(workload, &labels, revision_before.as_deref(), &old_uids)
                    .await?,
            ),
            _ => None,
        };
        if hold.is_none() && hooks.is_none() {
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
        }
        let completed_at = crate::now_rfc3339();
        let duration_ms = clock.elapsed().as_millis() as u64;
        let timeline = timeline.stop();
        self.lap("update");
        if let Some(record) = &mut cordon {
            self.uncordon_nodes(record).await?;
        }
        // Read once the update is done: right after a fault the API may
        // still refuse reads (kruise's conversion webhook restarting).
        let expected_updated = match (&admission, change.acts_on()) {
            // A halted rollout stops once maxUnavailable pods are down; one
            // held at its hook never took the image.
            (Admission::Accepted, _) if hold.is_some() => match change.halts() {
                Some(h) if !h.stuck.takes_the_image() => 0,
                _ => self.plan.fixture.max_unavailable().unwrap_or(1).max(0) as usize,
            },
            // The partition was lowered to 0: every pod moves.
            (Admission::Accepted, _) if pre_download.is_some() => {
                workload.base().planned["spec"]["replicas"]
                    .as_u64()
                    .unwrap_or(1) as usize
            }
            (Admission::Accepted, ActsOn::Template) => workload.expected_updated().await?,
            (Admission::Accepted, ActsOn::Directly) => reached.len(),
            _ => 0,
        };
        let quiet = self.quiet_window(workload, accepted).await?;
        self.lap("quiet window");
        let budgets = match budgets {
            Some((watch, max)) => {
                watch
                    .until_given_back(max, self.config.timeouts.update)
                    .await;
                self.lap(crate::model::record::Lap::BUDGET_GIVEN_BACK);
                watch.stop()
            }
            None => Vec::new(),
        };
        let traffic = match (self.scenario.traffic, endpoints) {
            (Some(t), Some(watch)) => Some(self.traffic_record(workload, t, watch, since).await?),
            _ => None,
        };
        let revision_after = workload.revision().await?;
        let updated = match &hold {
            Some(h) => Updated::Named(took_image(
                &timeline,
                &h.container,
                &h.image,
                &h.reverted_at,
            )),
            None if change.acts_on() == ActsOn::Directly && admission == Admission::Accepted => {
                Updated::All
            }
            None => Updated::OnNewRevision,
        };
        let pods = self
            .observe_after(
                workload,
                before,
                &revision_before,
                &revision_after,
                &updated,
            )
            .await?;
        self.lap("markers");
        let events = self.step_events(&planned, &pods, since).await?;
        self.lap("events");
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
            accepted_at,
            timeline,
            budgets,
            hold,
            hooks,
            pre_download,
            cordon,
        })
    }

    /// The scenario's fault, if it lands at `point`: injected, its own
    /// recovery awaited (with the ready deadline), recorded.
    pub(crate) async fn inject_fault(
        &self,
        point: FaultPoint,
        pod_nodes: &[String],
    ) -> anyhow::Result<()> {
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
            node: crate::environment::nodes_named(self.env.nodes(), pod_nodes)
                .first()
                .copied(),
            label: self.scenario.name,
            deadline: self.config.timeouts.ready,
            cluster: self.config.cluster.kind_node(),
            upgrade_to: self.config.kruise_upgrade.as_ref(),
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
    pub(crate) async fn apply(
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

    pub(crate) fn target<'p>(&'p self, pods: &'p [Pod]) -> Target<'p> {
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
    pub(crate) async fn wait_done(
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
    pub(crate) async fn traffic_record(
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
        let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(self.client.clone(), &self.namespace);
        let client_node = pods
            .get_opt(traffic.client)
            .await?
            .and_then(|p| p.spec?.node_name)
            .unwrap_or_default();
        Ok(crate::model::record::TrafficRecord {
            service: traffic.service.to_string(),
            client: traffic.client.to_string(),
            client_node,
            grace_seconds: workload.grace_seconds().await?,
            endpoints: seen.endpoints,
            requests,
            spec_changes: seen.spec_changes,
            gate_changes: seen.gate_changes,
        })
    }

    /// Watches the pods for `timeouts.quiet` after completion, and at least
    /// until `timeouts.restart_horizon` after an accepted change, and
    /// records every container that changed ID or restart count: what must
    /// not happen can only be shown over a window.
    pub(crate) async fn quiet_window(
        &self,
        workload: &dyn Workload,
        accepted: Option<Instant>,
    ) -> anyhow::Result<QuietWindow> {
        let base = workload.base();
        let baseline: BTreeMap<String, (Option<String>, i32)> = base
            .live_pods()
            .await?
            .iter()
            .flat_map(container_states)
            .collect();
        let started = Instant::now();
        let window = quiet_length(
            &self.config.timeouts,
            accepted.map(|at| started.saturating_duration_since(at)),
        );
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
            window_ms: started.elapsed().as_millis() as u64,
            changes: changes.into_iter().collect(),
        })
    }

    /// Pairs each pod before with its successor, reads the markers back
    /// where they were written and snapshots every pod.
    pub(crate) async fn observe_after(
        &self,
        workload: &dyn Workload,
        before: Vec<(PodSnapshot, Vec<crate::model::record::MarkerWrite>)>,
        revision_before: &Option<String>,
        revision_after: &Option<String>,
        updated: &Updated,
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
            let updated = match (updated, moved, revision_after) {
                (Updated::All, _, _) => true,
                (Updated::Named(names), _, _) => names.contains(&name),
                (Updated::OnNewRevision, true, Some(revision)) => {
                    workload.pod_on_revision(pod, revision).await?
                }
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
    pub(crate) async fn step_events(
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

    pub(crate) fn wanted_events(
        &self,
        planned: &ChangeRecord,
        pods: &[PodStep],
    ) -> Vec<WantedEvent> {
        let mut wanted = Vec::new();
        let updated = pods.iter().any(|p| p.updated);
        if self.config.delivery.pulls() && updated {
            // A pre-downloaded image is found on the node, not pulled.
            let reason = if planned.details.contains_key(crate::changes::PRE_DOWNLOADED) {
                "Pulled"
            } else {
                "Pulling"
            };
            wanted.extend(planned.images.values().map(|image| WantedEvent {
                reason: reason.into(),
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

    pub(crate) fn expectation(
        &self,
        planned: &ChangeRecord,
    ) -> Option<&'static expect::Expectation> {
        expect::lookup(&self.plan.kind, &self.plan.strategy, &planned.kind)
    }
}

/// What the record says of the cluster: name, versions, runtime, nodes,
/// OpenKruise's image and gates (each part best effort).
pub(crate) async fn cluster_facts(env: &dyn Environment, cell: &str) -> ClusterFacts {
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
        identity: crate::run::access::identity(&client).await,
    }
}

/// `Ok(())` -> ready, `Err(state)` -> pending with that state.
/// Which pods took a change.
pub(crate) enum Updated {
    /// A direct change reaches every pod.
    All,
    /// A template change: the pods the controller moved to the new revision.
    OnNewRevision,
    /// A reverted change: the pods the timeline saw take it.
    Named(BTreeSet<String>),
}

pub(crate) fn settled<T>(state: Result<(), String>, value: T) -> Poll<T> {
    match state {
        Ok(()) => Poll::Ready(value),
        Err(state) => Poll::Pending(state),
    }
}

/// `pod/container` -> (containerID, restartCount).
pub(crate) fn container_states(pod: &Pod) -> Vec<(String, (Option<String>, i32))> {
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

pub(crate) fn summarize_pods(pods: &[PodStep]) -> String {
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
pub(crate) struct WantedEvent {
    pub(crate) reason: String,
    /// Text the message must contain (the image reference for pulls).
    pub(crate) needle: Option<String>,
    /// Must be about this object UID (Scheduled of a replacement pod).
    pub(crate) about: Option<String>,
}

impl WantedEvent {
    pub(crate) fn matches(&self, event: &EventRecord) -> bool {
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

    #[test]
    fn the_quiet_window_reaches_the_restart_horizon_and_never_falls_short_of_quiet() {
        let t = Timeouts::default();
        let secs = Duration::from_secs;
        // An image update done 5 s after acceptance: 4 s (both rules agree).
        assert_eq!(quiet_length(&t, Some(secs(5))), secs(4));
        // A change done 1 s after acceptance: watched until 9 s after it.
        assert_eq!(quiet_length(&t, Some(secs(1))), secs(8));
        // A slow update (a grace period waited out): the 4 s after done.
        assert_eq!(quiet_length(&t, Some(secs(28))), secs(4));
        // A refused change caused nothing to wait for: 4 s.
        assert_eq!(quiet_length(&t, None), secs(4));
    }
}
