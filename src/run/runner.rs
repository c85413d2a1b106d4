//! One scenario end to end, shared by the cargo test harness and the CLI:
//! its plan's requirements checked, its namespace made (and removed by the
//! guard, `run::guard`, however the scenario ends), the session observed
//! (`run::session`), the record saved and judged once, and only then a
//! failure raised if a check failed; a signal records it INTERRUPTED.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Instant;

use futures::FutureExt;

use crate::environment::config::RunConfig;
use crate::environment::interrupt;
use crate::environment::{self as env_mod, Environment};
use crate::judge::assess::{self, Check};
use crate::model::event::{self, Event};
use crate::model::record::{Lap, ScenarioRecord};
use crate::model::verdict::Verdict;
use crate::observe::kruise;
use crate::run::guard::NamespaceGuard;
pub use crate::run::guard::create_namespace;
use crate::run::session::{Session, blank_record, cluster_facts};
pub use crate::run::session::{image_slots, pair_pods};
use crate::scenarios::catalog::Scenario;
use crate::scenarios::plan::ScenarioPlan;
use crate::workloads::ClusterObjects;

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
    /// It failed the way a known upstream defect makes it (recorded KNOWN
    /// DEFECT).
    #[error("scenario {scenario} met known upstream defect(s) {defects}: {failed}")]
    KnownDefect {
        scenario: String,
        defects: String,
        failed: String,
    },
}

/// Runs one scenario (see `run_scenario`), announcing its start and its
/// verdict on the event stream.
pub async fn run_with(config: &RunConfig, plan: &ScenarioPlan) -> anyhow::Result<ScenarioOutcome> {
    let scenario = plan.scenario;
    let started = Instant::now();
    let running = crate::run::alone::Running::start();
    let result = run_scenario(config, plan).await;
    drop(running);
    let verdict = match &result {
        Ok(_) => Verdict::Pass,
        Err(err) => match err.downcast_ref::<NotRun>() {
            Some(NotRun::Unsupported { .. }) => Verdict::Unsupported,
            Some(NotRun::Interrupted { .. }) => Verdict::Interrupted,
            Some(NotRun::KnownDefect { .. }) => Verdict::KnownDefect,
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
    let started = Instant::now();
    let scenario = plan.scenario;
    let key = (&plan.kind, &plan.strategy);
    config.prepare_run_dir()?;
    stop_if_interrupted(scenario)?;
    let cluster = config.acquire_cluster().await?;
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
    // Who we are decides how the scenario's namespace is granted; an
    // account without its guard is refused before anything is created.
    let access = crate::run::access::resolve(&client).await?;
    let mut unmet = crate::run::requirements::unmet(&client, plan).await?;
    if let Some(why) = scenario
        .fault
        .and_then(|f| f.unsupported(env.info().node_access))
    {
        unmet.push(why);
    }
    if scenario.profile() == Some(crate::faults::kruise_upgraded::PROFILE)
        && config.kruise_upgrade.is_none()
    {
        unmet.push(
            "no OpenKruise release to upgrade to; hint: qualify a matrix profile with \
             upgrade_from, or run --kruise-upgrade-to VERSION"
                .into(),
        );
    }
    for permission in scenario.fault.map(|f| f.needs()).unwrap_or_default() {
        if !crate::run::access::can(&client, &permission).await? {
            unmet.push(format!(
                "{} may not {}, which this fault needs; hint: `kubectl apply -f \
                 rbac/faults.yaml` (on kind: scripts/cluster sa-kubeconfig --faults)",
                access.user,
                permission.describe()
            ));
        }
    }
    let cordons = scenario.changes.iter().any(|c| c.cordons());
    if unmet.is_empty() && cordons {
        let permission = crate::run::access::Permission::new("patch", "nodes", "");
        if !crate::run::access::can(&client, &permission).await? {
            unmet.push(format!(
                "{} may not {}, which cordoning the pods' nodes needs; hint: `kubectl apply -f \
                 rbac/cordon.yaml` (on kind: scripts/cluster sa-kubeconfig --cordon)",
                access.user,
                permission.describe()
            ));
        }
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
    access.admit(&client, &namespace).await?;
    crate::run::pod_security::prove_enforced(&client, &namespace).await?;
    event::emit(Event::ScenarioStarted {
        scenario: scenario.name.to_string(),
        namespace: namespace.clone(),
        summary: format!("{} ({}, {})", scenario.summary, key.0, key.1),
    });
    let facts_env = env.clone();
    let prepared_ms = started.elapsed().as_millis() as u64;
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
    let mut record = record;
    record.laps.insert(
        0,
        Lap {
            name: "prepare".into(),
            ms: prepared_ms,
        },
    );
    let judging = Instant::now();
    let judged = judge_and_save(config, &record);
    let ok = judged
        .as_ref()
        .is_ok_and(|(checks, _)| assess::failures(checks).is_empty())
        && record.error.is_none();
    let judged_ms = judging.elapsed().as_millis() as u64;
    let cleaning = Instant::now();
    guard.finish(ok).await;
    // Saved again with the time judging and cleanup took (the verdict is
    // the one judged above: only `laps` changed).
    record.laps.push(Lap {
        name: "judging".into(),
        ms: judged_ms,
    });
    record.laps.push(Lap {
        name: "cleanup".into(),
        ms: cleaning.elapsed().as_millis() as u64,
    });
    if let Err(err) = record.save(&config.observations_dir()) {
        event::warn(scenario.name, format!("saving the record's laps: {err:#}"));
    }
    let (checks, observations) = judged?;
    if !ok {
        let bundle = guard
            .bundle
            .as_ref()
            .map(|b| format!("; diagnostics {}", b.display()))
            .unwrap_or_default();
        let failed = format!(
            "{}; observations {}{bundle}",
            describe_failures(&record, &assess::failures(&checks)),
            observations.display()
        );
        if assess::record_verdict(&record, &checks) == Verdict::KnownDefect {
            let defects: Vec<&str> = checks
                .iter()
                .filter(|c| c.verdict == Verdict::KnownDefect)
                .filter_map(|c| c.id.strip_prefix("known-defect."))
                .collect();
            return Err(NotRun::KnownDefect {
                scenario: scenario.name.to_string(),
                defects: defects.join(", "),
                failed,
            }
            .into());
        }
        anyhow::bail!("scenario {} failed: {failed}", scenario.name);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::Image;
    use std::collections::BTreeMap;

    use crate::changes::Change;
    use crate::model::record::{EventRecord, ImageRef};
    use crate::run::session::*;

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
